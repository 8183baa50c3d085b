// The CLI's vocabulary: one meaning per short flag, help that names option values, and a README that matches the
// commands' own definitions. Parser-level: buildCli() with the built-in plugins discovered from a sandbox HOME.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {Command, Option} from 'clipanion';
import {afterAll, describe, expect, it} from 'vitest';

import type {CapitCli}     from '../../src/commands/cli.js';
import {buildCli, discover} from '../../src/main.js';
import {closest, editDistance, unknownAgent, unknownPlatform} from '../../src/ui/suggest.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-words-`));
afterAll(() => fs.rmSync(root, {recursive: true, force: true}));
const home = path.join(root, `home`);
fs.mkdirSync(home);
const env = {HOME: home, CAPIT_HOME: path.join(root, `capit`), XDG_CONFIG_HOME: path.join(home, `.config`), NO_COLOR: `1`};
const plugins = discover(env, home);

function fullCli(): CapitCli {
  return buildCli(plugins, false, `all`);
}

/** Every documented command's options as clipanion defines them (hidden ones excluded, as help does). */
function optionsOf(cli: CapitCli) {
  return cli.commandClasses.flatMap(commandClass => {
    const definition = cli.definition(commandClass);
    return definition ? definition.options.map(option => ({command: definition.path, ...option})) : [];
  });
}

/** Short flags that mean two different things across commands: `-p` → [`--name`, `--platform`]. */
function shortFlagConflicts(cli: CapitCli): Record<string, string[]> {
  const meanings = new Map<string, Set<string>>();
  for (const {nameSet, preferredName} of optionsOf(cli)) {
    const meaning = nameSet.find(n => n.startsWith(`--`)) ?? preferredName;
    for (const short of nameSet.filter(n => /^-[^-]$/.test(n))) {
      if (!meanings.has(short)) meanings.set(short, new Set());
      meanings.get(short)!.add(meaning);
    }
  }
  return Object.fromEntries([...meanings].filter(([, set]) => set.size > 1).map(([short, set]) => [short, [...set].sort()]));
}

describe(`short flags`, () => {
  it(`mean one thing across every registered command`, () => {
    const cli = fullCli();
    expect(cli.commandClasses.length).toBeGreaterThan(15);
    expect(shortFlagConflicts(cli)).toEqual({});
    // The table the README states.
    const shorts = Object.fromEntries(optionsOf(cli).flatMap(o => o.nameSet.filter(n => /^-[^-]$/.test(n)).map(s => [s, o.nameSet.find(n => n.startsWith(`--`))])));
    expect(shorts).toEqual({'-a': `--agent`, '-p': `--platform`, '-y': `--yes`});
  });

  it(`the check catches a short flag with a second meaning`, () => {
    const cli = fullCli();
    class Clash extends Command {
      static override paths = [[`clash`]];
      static override usage = Command.Usage({description: `test`});
      name = Option.String(`--name,-p`, {description: `a name prefix`});
      async execute() {
        return 0;
      }
    }
    cli.register(Clash as never);
    expect(shortFlagConflicts(cli)).toEqual({'-p': [`--name`, `--platform`]});
  });

  it(`-p is --platform in keys commands and unknown when issuing`, () => {
    const cli = buildCli(plugins, false, [`openrouter`]);
    // Parsing only: no command runs, so the context needs nothing beyond what the parser reads.
    const context = {env, cwd: home, plugins} as never;
    const command = cli.process([`keys`, `delete`, `x`, `-p`, `openrouter`], context) as unknown as {platform: string};
    expect(command.platform).toBe(`openrouter`);
    let error: unknown;
    try {
      cli.process([`openrouter`, `1`, `-p`, `openrouter`, `--yes`], context);
    } catch (e) {
      error = cli.explain(e, [`openrouter`, `1`, `-p`, `openrouter`, `--yes`]);
    }
    expect((error as Error).message).toBe(`Unknown option "-p" for \`capit openrouter\`; \`capit openrouter --help\` lists its options`);
  });
});

describe(`help`, () => {
  it(`names every option value instead of clipanion's #0, in the general help and every command's help`, () => {
    const cli = fullCli();
    const texts = [cli.usage(null), ...cli.commandClasses.filter(c => c.usage).map(c => cli.usage(c, {detailed: true}))];
    for (const text of texts) expect(text).not.toContain(`#0`);
    const general = texts[0]!;
    for (const shown of [`--agent,-a <id>`, `--reset <daily|weekly|monthly>`, `--expires <duration|date>`, `--name <prefix>`,
      `--platform,-p <id>`, `--port <n>`, `--host <address>`, `--no-open`, `--no-store`, `--no-paths`, `--dir <folder>`, `--name <package>`])
      expect(general).toContain(shown);
    for (const hidden of [`[--open]`, `[--store]`, `[--paths]`]) expect(general).not.toContain(hidden);
  });

  it(`gives every command usage, options and examples`, () => {
    const cli = fullCli();
    const withoutExamples = cli.commandClasses.filter(c => c.usage && c.usage.category !== undefined && !(c.usage.examples?.length))
      .map(c => cli.definition(c)!.path);
    expect(withoutExamples).toEqual([]);
    const help = cli.usage(cli.commandFor([`keys`, `delete`])!.commandClass, {detailed: true});
    expect(help).toMatch(/\$ capit keys delete <name\|glob>\n\nOptions\n\n {2}--platform,-p <id> +Only this platform\n[\s\S]*Examples\n/);
  });

  it(`lists a group's commands once each`, () => {
    const cli = fullCli();
    const keys = cli.helpFor([`keys`], false)!;
    for (const sub of [`list`, `delete`, `disable`, `enable`])
      expect(keys.split(`\n`).filter(line => line.startsWith(`  capit keys ${sub} `))).toHaveLength(1);
    // One command under several paths is that command's own help.
    expect(cli.helpFor([`agents`], false)).toBe(cli.usage(cli.commandFor([`agents`])!.commandClass, {detailed: true}));
  });
});

describe(`suggestions`, () => {
  it(`counts a swap of neighbouring letters as one edit`, () => {
    expect(editDistance(`opnerouter`, `openrouter`)).toBe(1);
    expect(editDistance(`opencode`, `opencode`)).toBe(0);
    expect(editDistance(``, `abc`)).toBe(3);
    expect(editDistance(`kitten`, `sitting`)).toBe(3);
  });

  it(`suggests only what is close`, () => {
    expect(closest(`opnecode`, [`claude`, `opencode`, `openclaw`])).toBe(`opencode`);
    expect(closest(`ad`, [`add`, `list`, `new`])).toBe(`add`);
    expect(closest(`--agnt`, [`--agent`, `--all`])).toBe(`--agent`);
    expect(closest(`vim`, [`claude`, `opencode`, `codex`])).toBeUndefined();
    expect(closest(`zzzzzzzz`, [`openrouter`])).toBeUndefined();
  });

  it(`offers a plugin package only when nothing installed is close`, () => {
    expect(unknownPlatform(`opnerouter`, [`aihubmix`, `openrouter`], {suggestPlugin: true})).toBe(`Unknown platform "opnerouter"; did you mean "openrouter"?`);
    expect(unknownPlatform(`acme`, [`aihubmix`, `openrouter`], {suggestPlugin: true}))
      .toBe(`Unknown platform "acme", installed: aihubmix, openrouter; try \`capit plugin add capit-platform-acme\``);
    expect(unknownAgent(`vim`, [`claude`, `opencode`])).toBe(`Unknown agent "vim"; installed agents: claude, opencode`);
  });
});

// --- README ---------------------------------------------------------------------------------------------------------

const README = fs.readFileSync(path.resolve(import.meta.dirname, `../../../README.md`), `utf8`);

/** `capit …` command lines from the README's code blocks and inline code, without trailing `# comments`. */
function readmeCommandLines(): string[] {
  const lines: string[] = [];
  for (const block of README.matchAll(/```[a-z]*\n([\s\S]*?)```/g)) {
    const blockLines = block[1]!.split(`\n`);
    // A transcript (`$ capit …` lines followed by output): only the `$ ` lines are commands; output may start "capit …".
    const transcript = blockLines.some(line => line.startsWith(`$ `));
    for (const line of blockLines) {
      if (transcript && !line.startsWith(`$ `)) continue;
      const command = line.replace(/^\$ /, ``).replace(/\s+#.*$/, ``).trim();
      if (command.startsWith(`capit `)) lines.push(command);
    }
  }
  for (const span of README.replace(/```[\s\S]*?```/g, ``).matchAll(/`(capit [^`]+)`/g)) lines.push(span[1]!);
  return lines;
}

function flagsIn(text: string): string[] {
  return [...text.matchAll(/(?<![\w-])(--?[a-z][a-z-]*)/g)].map(m => m[1]!);
}

describe(`README`, () => {
  const cli = fullCli();
  const namesOf = (commandClass: Parameters<CapitCli[`definition`]>[0]) => new Set([`-h`, `--help`,
    ...(cli.definition(commandClass)?.options ?? []).flatMap(o => o.nameSet.flatMap(n => (n.startsWith(`--`) ? [n, `--no-${n.slice(2)}`] : [n])))]);

  it(`mentions only flags the commands have`, () => {
    const lines = readmeCommandLines();
    expect(lines.length).toBeGreaterThan(20);
    const wrong: string[] = [];
    for (const line of lines) {
      // Generic forms stand for a real command: `capit <platform> <usd> --agent <id>`.
      const words = line.replace(`<platform>`, `openrouter`).split(/\s+/).slice(1);
      if (words[0] === `<command>` || words.every(w => [`--help`, `-h`, `--version`, `-v`].includes(w))) continue;
      if (words.length === 2 && words[1] === `--help` && cli.helpFor([words[0]!], false) !== undefined) continue;
      const found = cli.commandFor(words.filter(w => !w.startsWith(`-`) || w.startsWith(`--keys`) || w.startsWith(`--platforms`) || w.startsWith(`--agents`)));
      if (!found) {
        wrong.push(`${line}: no such command`);
        continue;
      }
      const names = namesOf(found.commandClass);
      for (const flag of flagsIn(words.slice(found.path.length).join(` `).replace(/<[^>]*>/g, ``)))
        if (!names.has(flag)) wrong.push(`${line}: ${flag}`);
    }
    // The issue options table describes `capit <platform> <usd>`.
    const table = README.slice(README.indexOf(`| option | meaning |`), README.indexOf(`Master keys come from`));
    const platformNames = namesOf(cli.commandFor([`openrouter`])!.commandClass);
    for (const row of table.split(`\n`).slice(2))
      for (const flag of flagsIn((row.split(`|`)[1] ?? ``).replace(/<[^>]*>/g, ``)))
        if (!platformNames.has(flag)) wrong.push(`options table: ${flag}`);
    expect(wrong).toEqual([]);
  });

  it(`documents every option of every command, as help shows it`, () => {
    const undocumented: string[] = [];
    for (const commandClass of cli.commandClasses) {
      const definition = cli.definition(commandClass);
      if (!definition) continue;
      for (const option of definition.options) {
        const shown = option.definition.split(/[ ,]/)[0]!; // `--agent,-a <id>` → `--agent`; `--no-open`
        if (!new RegExp(`${shown}(?![a-z-])`).test(README)) undocumented.push(`${definition.path} ${shown}`);
      }
    }
    expect(undocumented).toEqual([]);
  });
});
