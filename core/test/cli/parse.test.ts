// Parser-level tests in the changesets style: the built-in plugins discovered from a sandbox HOME → buildCli() →
// cli.process(argv) → the command class clipanion picked and the options it filled in. No command runs, nothing spawns.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import type {CommandClass} from 'clipanion';
import {afterAll, describe, expect, it} from 'vitest';

import {DoctorCommand}          from '../../src/commands/agents/doctor.js';
import {AgentsCommand}          from '../../src/commands/agents/list.js';
import type {CapitCli}          from '../../src/commands/cli.js';
import {HelpCommand}            from '../../src/commands/help.js';
import {KeysDeleteCommand}      from '../../src/commands/keys/delete.js';
import {KeysDisableCommand}     from '../../src/commands/keys/disable.js';
import {KeysEnableCommand}      from '../../src/commands/keys/enable.js';
import {KeysListCommand}        from '../../src/commands/keys/list.js';
import {PlatformsAddCommand}    from '../../src/commands/platforms/add.js';
import {PlatformsListCommand}   from '../../src/commands/platforms/list.js';
import {PlatformsRemoveCommand} from '../../src/commands/platforms/remove.js';
import {PluginAddCommand}       from '../../src/commands/plugin/add.js';
import {PluginListCommand}      from '../../src/commands/plugin/list.js';
import {PluginNewCommand}       from '../../src/commands/plugin/new.js';
import {PluginRemoveCommand}    from '../../src/commands/plugin/remove.js';
import {RestoreCommand}         from '../../src/commands/restore.js';
import {ServeCommand}           from '../../src/commands/serve/serve.js';
import {UnknownCommand}         from '../../src/commands/unknown.js';
import type {CapitContext}      from '../../src/context.js';
import {buildCli, discover}     from '../../src/main.js';
import {formatError}            from '../../src/ui/report.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-parse-`));
afterAll(() => fs.rmSync(root, {recursive: true, force: true}));
const home = path.join(root, `home`);
fs.mkdirSync(home);
const env = {HOME: home, CAPIT_HOME: path.join(root, `capit`), XDG_CONFIG_HOME: path.join(home, `.config`), NO_COLOR: `1`};
const plugins = discover(env, home);
// Parsing only: no command runs, so the context needs nothing beyond what the parser reads.
const context = {env, cwd: home, plugins} as unknown as CapitContext;

function cli(): CapitCli {
  return buildCli(plugins, false, `all`);
}

/** The generated `capit <platform>` class has no importable name: it is the one whose only path is `[id]`. */
const platform = (id: string) => ({platform: id});
type Expected = CommandClass<CapitContext> | {platform: string};

function parse(argv: string[]): {command: Record<string, unknown>; commandClass: CommandClass<CapitContext>} {
  const command = cli().process(argv, context) as unknown as Record<string, unknown>;
  return {command, commandClass: command.constructor as CommandClass<CapitContext>};
}

function expectClass(actual: CommandClass<CapitContext>, expected: Expected) {
  if (`platform` in expected) expect(actual.paths).toEqual([[expected.platform]]);
  else expect(actual).toBe(expected);
}

/** The options every `capit <platform> <usd>` run gets unless argv says otherwise. */
const issueDefaults = {agent: undefined, reset: undefined, expires: undefined, name: undefined, dryRun: false, yes: false, json: false, allowLarge: false, excludeByok: false};
const actionDefaults = {platform: undefined, yes: false, json: false, all: false};

describe(`argv → command and options`, () => {
  it.each<[string[], Expected, Record<string, unknown>]>([
    // Issue a key: one generated command per platform manifest.
    [[`openrouter`, `5`], platform(`openrouter`), {...issueDefaults, usd: `5`}],
    [[`aihubmix`, `$2.50`, `--agent`, `opencode`], platform(`aihubmix`), {...issueDefaults, usd: `$2.50`, agent: `opencode`}],
    [[`openrouter`, `5`, `-a`, `claude`, `-y`], platform(`openrouter`), {...issueDefaults, usd: `5`, agent: `claude`, yes: true}],
    [[`openrouter`, `--agent=opencode`, `5`], platform(`openrouter`), {...issueDefaults, usd: `5`, agent: `opencode`}],
    [[`openrouter`, `20`, `--reset`, `monthly`, `--expires`, `30d`, `--name`, `ci`], platform(`openrouter`), {...issueDefaults, usd: `20`, reset: `monthly`, expires: `30d`, name: `ci`}],
    [[`openrouter`, `5`, `--dry-run`, `--json`, `--allow-large`, `--exclude-byok`], platform(`openrouter`), {...issueDefaults, usd: `5`, dryRun: true, json: true, allowLarge: true, excludeByok: true}],
    [[`openrouter`, `5`, `--no-dry-run`, `--no-yes`], platform(`openrouter`), {...issueDefaults, usd: `5`}],

    // keys list and its aliases: `keys`, `--keys`, `--keys list`; two optional positionals.
    [[`keys`], KeysListCommand, {platform: undefined, glob: undefined, json: false, all: false}],
    [[`keys`, `list`], KeysListCommand, {platform: undefined, glob: undefined, json: false, all: false}],
    [[`--keys`], KeysListCommand, {platform: undefined, glob: undefined, json: false, all: false}],
    [[`--keys`, `list`, `--json`], KeysListCommand, {platform: undefined, glob: undefined, json: true, all: false}],
    [[`keys`, `list`, `openrouter`], KeysListCommand, {platform: `openrouter`, glob: undefined, json: false, all: false}],
    [[`keys`, `list`, `openrouter`, `opencode-*`, `--all`], KeysListCommand, {platform: `openrouter`, glob: `opencode-*`, json: false, all: true}],
    // `keys lst` parses as `keys list lst`; the command names the typo when it runs (output.test.ts).
    [[`keys`, `lst`], KeysListCommand, {platform: `lst`, glob: undefined}],

    // keys delete|disable|enable share one option set.
    [[`keys`, `delete`, `opencode-1a2b3c4d`], KeysDeleteCommand, {...actionDefaults, pattern: `opencode-1a2b3c4d`}],
    [[`--keys`, `delete`, `ci-*`, `-p`, `openrouter`, `-y`], KeysDeleteCommand, {...actionDefaults, pattern: `ci-*`, platform: `openrouter`, yes: true}],
    [[`keys`, `disable`, `*`, `--platform`, `aihubmix`, `--all`, `--json`], KeysDisableCommand, {...actionDefaults, pattern: `*`, platform: `aihubmix`, all: true, json: true}],
    [[`--keys`, `enable`, `ci-*`, `--yes`], KeysEnableCommand, {...actionDefaults, pattern: `ci-*`, yes: true}],

    // platforms: list is the default, `--platforms` an alias; `--no-store` turns a default-true boolean off.
    [[`platforms`], PlatformsListCommand, {json: false}],
    [[`platforms`, `list`, `--json`], PlatformsListCommand, {json: true}],
    [[`--platforms`], PlatformsListCommand, {json: false}],
    [[`platforms`, `add`, `openrouter`], PlatformsAddCommand, {platform: `openrouter`, keyStdin: false, store: true}],
    [[`--platforms`, `add`, `openrouter`, `--key-stdin`, `--no-store`], PlatformsAddCommand, {platform: `openrouter`, keyStdin: true, store: false}],
    [[`platforms`, `remove`, `aihubmix`, `-y`], PlatformsRemoveCommand, {platform: `aihubmix`, yes: true}],

    // agents, doctor, restore.
    [[`agents`], AgentsCommand, {json: false, withPaths: true, allPaths: false}],
    [[`agents`, `list`, `--json`], AgentsCommand, {json: true, withPaths: true, allPaths: false}],
    [[`--agents`, `--no-paths`], AgentsCommand, {json: false, withPaths: false, allPaths: false}],
    [[`agents`, `--all-paths`], AgentsCommand, {json: false, withPaths: true, allPaths: true}],
    [[`doctor`], DoctorCommand, {agent: undefined, json: false}],
    [[`doctor`, `opencode`, `--json`], DoctorCommand, {agent: `opencode`, json: true}],
    [[`restore`, `opencode`], RestoreCommand, {agent: `opencode`, yes: false, force: false, json: false}],
    [[`restore`, `claude`, `-y`, `--force`, `--json`], RestoreCommand, {agent: `claude`, yes: true, force: true, json: true}],

    // plugin and its `plugins` / `ls` / `rm` aliases.
    [[`plugin`, `add`, `capit-agent-foo`], PluginAddCommand, {spec: `capit-agent-foo`}],
    [[`plugins`, `add`, `./my-plugin`], PluginAddCommand, {spec: `./my-plugin`}],
    [[`plugin`, `list`], PluginListCommand, {json: false}],
    [[`plugin`, `ls`, `--json`], PluginListCommand, {json: true}],
    [[`plugins`], PluginListCommand, {json: false}],
    [[`plugins`, `list`], PluginListCommand, {json: false}],
    [[`plugin`, `remove`, `capit-agent-foo`], PluginRemoveCommand, {target: `capit-agent-foo`}],
    [[`plugin`, `rm`, `foo`], PluginRemoveCommand, {target: `foo`}],
    [[`plugins`, `remove`, `foo`], PluginRemoveCommand, {target: `foo`}],
    [[`plugin`, `new`, `agent`, `foo`], PluginNewCommand, {kind: `agent`, id: `foo`, dir: undefined, name: undefined}],
    [[`plugins`, `new`, `platform`, `acme`, `--dir`, `out`, `--name`, `@me/capit-platform-acme`], PluginNewCommand, {kind: `platform`, id: `acme`, dir: `out`, name: `@me/capit-platform-acme`}],

    // serve: `--port` is validated into a number; `--no-open` turns a default-true boolean off.
    [[`serve`], ServeCommand, {port: undefined, host: `127.0.0.1`, open: true}],
    [[`serve`, `--port`, `8080`, `--host`, `0.0.0.0`, `--no-open`], ServeCommand, {port: 8080, host: `0.0.0.0`, open: false}],

    // Help words, and anything else falls to the default command (main.ts explains it before it runs).
    [[`-h`], HelpCommand, {}],
    [[`--help`], HelpCommand, {}],
    [[`help`], HelpCommand, {}],
    [[`kyes`, `list`], UnknownCommand, {args: [`kyes`, `list`]}],
  ])(`capit %j`, (argv, expectedClass, options) => {
    const {command, commandClass} = parse(argv);
    expectClass(commandClass, expectedClass);
    for (const [option, value] of Object.entries(options)) expect([option, command[option]]).toEqual([option, value]);
  });

  it(`--version is clipanion's version command`, () => {
    const {commandClass} = parse([`--version`]);
    expect(commandClass.paths).toContainEqual([`--version`]);
  });
});

describe(`argv the parser refuses: one line, exit 2`, () => {
  it.each<[string[], string]>([
    // Unknown options, with the nearest known one when there is one.
    [[`openrouter`, `5`, `--agnt`, `opencode`], `capit: Unknown option "--agnt" for \`capit openrouter\`; did you mean "--agent"?`],
    [[`keys`, `list`, `--jsno`], `capit: Unknown option "--jsno" for \`capit keys list\`; did you mean "--json"?`],
    [[`openrouter`, `1`, `-p`, `openrouter`, `--yes`], `capit: Unknown option "-p" for \`capit openrouter\`; \`capit openrouter --help\` lists its options`],
    // Unknown subcommands.
    [[`plugin`, `ad`, `capit-agent-foo`], `capit: Unknown command "plugin ad"; did you mean \`capit plugin add\`?`],
    [[`plugin`], `capit: \`capit plugin\` needs a command: add, remove, list, new (\`capit plugin --help\` describes them)`],
    // Missing or extra arguments, missing option values.
    [[`openrouter`], `capit: missing <usd>; usage: capit openrouter <usd> [options], e.g. capit openrouter 5 --agent opencode`],
    [[`openrouter`, `--agent`, `opencode`, `--yes`], `capit: missing <usd>; usage: capit openrouter <usd> [options], e.g. capit openrouter 5 --agent opencode`],
    [[`openrouter`, `5`, `--agent`], `capit: --agent needs a value: --agent,-a <id> (\`capit openrouter --help\` lists its options)`],
    [[`platforms`, `add`], `capit: missing <platform>; usage: capit platforms add <platform> [options], e.g. capit platforms add openrouter`],
    [[`plugin`, `add`], `capit: missing <spec>; usage: capit plugin add <spec>, e.g. capit plugin add capit-agent-foo`],
    [[`plugin`, `new`, `agent`], `capit: missing <id>; usage: capit plugin new <platform|agent> <id> [options], e.g. capit plugin new agent foo`],
    [[`keys`, `delete`], `capit: missing <name|glob>; usage: capit keys delete <name|glob> [options], e.g. capit keys delete opencode-1a2b3c4d`],
    [[`restore`], `capit: missing <agent>; usage: capit restore <agent> [options], e.g. capit restore opencode`],
    [[`keys`, `list`, `a`, `b`, `c`], `capit: Cannot read \`capit keys list a b c\`; usage: capit keys list [platform] [glob] [options] (\`capit keys list --help\` for more)`],
  ])(`capit %j`, (argv, message) => {
    let thrown: unknown;
    try {
      cli().process(argv, context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeDefined();
    expect(formatError(cli().explain(thrown, argv))).toEqual({text: `${message}\n`, exitCode: 2});
  });

  // `plugin new <kind>` is checked by the command (with a did-you-mean): bad-input.test.ts.
  it.each([
    [[`serve`, `--port`, `eighty`]],
    [[`serve`, `--port`, `70000`]],
  ])(`capit %j fails its option validator`, argv => {
    let thrown: unknown;
    try {
      cli().process(argv, context);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeDefined();
    const {text, exitCode} = formatError(cli().explain(thrown, argv));
    expect(exitCode).toBe(2);
    expect(text).toMatch(/^capit: .+\n$/);
  });
});
