// What a first-time user meets on the command line (issue 9, items 3–6 and 10): help that names option values and lists
// a group's commands once, "did you mean" for every mistyped word whatever flags follow, a missing argument answered
// with the usage and an example, and `-p` meaning --platform only. Every mistake exits 2 and writes nothing.
import {describe, expect, it} from 'vitest';

import {runCli}                             from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

function setup() {
  const root = tempDir(`capit-words-`);
  // A master key in the environment: a mistake must be refused before it could ever be used.
  return {root, env: sandboxEnv(root, {OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-fake-master-0000000000000000`, CAPIT_OPENROUTER_BASE_URL: `http://127.0.0.1:9/api/v1`})};
}

describe(`help`, () => {
  it(`names every option value and shows the flags the README uses`, async () => {
    const {env} = setup();
    const {stdout, exitCode} = await runCli([`--help`], {env});
    expect(exitCode).toBe(0);
    expect(stdout).not.toContain(`#0`);
    expect(stdout).toContain(`capit openrouter [--agent,-a <id>] [--reset <daily|weekly|monthly>] [--expires <duration|date>] [--name <prefix>]`);
    expect(stdout).toContain(`capit serve [--port <n>] [--host <address>] [--no-open]`);
    expect(stdout).toContain(`capit platforms add [--key-stdin] [--no-store] <platform>`);
    expect(stdout).toContain(`capit agents [--json] [--no-paths] [--all-paths]`);
  });

  it.each([
    [`keys`, [`capit keys list `, `capit keys delete `, `capit keys disable `, `capit keys enable `]],
    [`platforms`, [`capit platforms [`, `capit platforms add `, `capit platforms remove `]],
    [`plugin`, [`capit plugin add `, `capit plugin list `, `capit plugin new `, `capit plugin remove `]],
  ])(`capit %s --help lists each of the group's commands once`, async (group, usages) => {
    const {env} = setup();
    const {stdout, exitCode} = await runCli([group, `--help`], {env});
    expect(exitCode).toBe(0);
    expect(stdout).not.toContain(`Multiple commands match`);
    expect(stdout).not.toContain(`#0`);
    const lines = stdout.split(`\n`).map(line => line.trim());
    for (const usage of usages) expect(lines.filter(line => line.startsWith(usage))).toHaveLength(1);
    expect(stdout).toContain(`Run \`capit ${group} <command> --help\``);
  });

  it(`capit help <group|command> is the same as --help after it`, async () => {
    const {env} = setup();
    for (const words of [[`keys`], [`openrouter`]]) {
      const viaHelp = await runCli([`help`, ...words], {env});
      expect(viaHelp.exitCode).toBe(0);
      expect(viaHelp.stdout).toBe((await runCli([...words, `--help`], {env})).stdout);
      expect(viaHelp.stdout).toContain(`capit ${words[0]}`);
    }
  });

  it(`capit agents --help is that command's own help, once`, async () => {
    const {env} = setup();
    const {stdout, exitCode} = await runCli([`agents`, `--help`], {env});
    expect(exitCode).toBe(0);
    expect(stdout).not.toContain(`Multiple commands match`);
    expect(stdout).toContain(`  --no-paths `);
    expect(stdout).toContain(`Examples`);
  });

  it(`capit openrouter --help shows usage, options with their values, and examples`, async () => {
    const {env} = setup();
    const {stdout, exitCode} = await runCli([`openrouter`, `--help`], {env});
    expect(exitCode).toBe(0);
    expect(stdout).toContain(`$ capit openrouter <usd>`);
    expect(stdout).toMatch(/^ {2}--agent,-a <id> +Install the key/m);
    expect(stdout).toMatch(/^ {2}--reset <daily\|weekly\|monthly> +/m);
    expect(stdout).toContain(`$ capit openrouter 5 --agent opencode`);
    expect(stdout).toContain(`Creates an OpenRouter key`);
    expect(stdout).not.toContain(`#0`);
  });
});

describe(`mistakes: one line, exit 2, nothing written`, () => {
  it.each([
    // Unknown words, whatever flags follow (issue 9, item 4).
    [[`opnerouter`, `5`], `capit: Unknown platform "opnerouter"; did you mean "openrouter"?`],
    [[`opnerouter`, `5`, `--agent`, `opencode`, `--yes`], `capit: Unknown platform "opnerouter"; did you mean "openrouter"?`],
    [[`openrouter`, `5`, `--agent`, `opnecode`, `--yes`], `capit: Unknown agent "opnecode"; did you mean "opencode"?`],
    [[`acme`, `5`, `--yes`], `capit: Unknown platform "acme", installed: aihubmix, openrouter; try \`capit plugin add capit-platform-acme\` (\`capit --help\` lists the commands)`],
    [[`kyes`, `list`], `capit: Unknown command "kyes"; did you mean \`capit keys\`?`],
    [[`keys`, `lst`], `capit: Unknown command "keys lst"; did you mean \`capit keys list\`?`],
    [[`plugin`, `ad`, `capit-agent-foo`], `capit: Unknown command "plugin ad"; did you mean \`capit plugin add\`?`],
    [[`openrouter`, `5`, `--agnt`, `opencode`], `capit: Unknown option "--agnt" for \`capit openrouter\`; did you mean "--agent"?`],
    [[`keys`, `list`, `--jsno`], `capit: Unknown option "--jsno" for \`capit keys list\`; did you mean "--json"?`],
    [[`restore`, `opnecode`, `--yes`], `capit: Unknown agent "opnecode"; did you mean "opencode"?`],
    [[`doctor`, `opnecode`], `capit: Unknown agent "opnecode"; did you mean "opencode"?`],
    [[`help`, `opnerouter`], `capit: Unknown platform "opnerouter"; did you mean "openrouter"?`],
    // Never clipanion's bare "Command not found; did you mean one of:".
    [[`plugin`], `capit: \`capit plugin\` needs a command: add, remove, list, new (\`capit plugin --help\` describes them)`],
    [[`keys`, `list`, `a`, `b`, `c`], `capit: Cannot read \`capit keys list a b c\`; usage: capit keys list [platform] [glob] [options] (\`capit keys list --help\` for more)`],
    [[`openrouter`, `5`, `--agent`], `capit: --agent needs a value: --agent,-a <id> (\`capit openrouter --help\` lists its options)`],
    // A missing argument (item 5).
    [[`openrouter`], `capit: missing <usd>; usage: capit openrouter <usd> [options], e.g. capit openrouter 5 --agent opencode`],
    [[`openrouter`, `--agent`, `opencode`, `--yes`], `capit: missing <usd>; usage: capit openrouter <usd> [options], e.g. capit openrouter 5 --agent opencode`],
    [[`platforms`, `add`], `capit: missing <platform>; usage: capit platforms add <platform> [options], e.g. capit platforms add openrouter`],
    [[`plugin`, `add`], `capit: missing <spec>; usage: capit plugin add <spec>, e.g. capit plugin add capit-agent-foo`],
    [[`plugin`, `new`, `agent`], `capit: missing <id>; usage: capit plugin new <platform|agent> <id> [options], e.g. capit plugin new agent foo`],
    [[`keys`, `delete`], `capit: missing <name|glob>; usage: capit keys delete <name|glob> [options], e.g. capit keys delete opencode-1a2b3c4d`],
    [[`restore`], `capit: missing <agent>; usage: capit restore <agent> [options], e.g. capit restore opencode`],
    // -p is --platform only (item 6): issuing has no -p, so no key named after the platform.
    [[`openrouter`, `1`, `-p`, `openrouter`, `--yes`], `capit: Unknown option "-p" for \`capit openrouter\`; \`capit openrouter --help\` lists its options`],
    [[`keys`, `delete`, `capit-1`, `-p`, `opnerouter`, `--yes`], `capit: Unknown platform "opnerouter"; did you mean "openrouter"?`],
  ])(`capit %j`, async (args, message) => {
    const {root, env} = setup();
    const before = snapshotTree(root);
    const result = await runCli(args, {env});
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe(``);
    expect(snapshotTree(root)).toEqual(before);
  });
});
