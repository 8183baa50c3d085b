// What capit prints, run in this process through main() (the function the binary calls): help, the mistakes a user
// makes on the command line, and the main outputs against the loopback emulator, as inline snapshots. Run-to-run
// variation (temp folders, ports, key-name suffixes, dates, printed secrets) is masked by test/support/normalise.ts.
// The paths that need the real binary (cached help, TTY, pipes, signals, crashes, packed installs) stay in test/e2e.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile}                    from '../../../test/support/emulator.js';
import {normalise}                          from '../../../test/support/normalise.js';
import {sandboxEnv, snapshotTree, tempDir} from '../../../test/support/tmp.js';
import {capitVersion}                       from '../../src/self.js';
import {runMain}                            from './run.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-output-`);
  // An empty PATH folder: detection must not see binaries installed on the machine running the tests.
  const bin = path.join(root, `bin`);
  fs.mkdirSync(bin);
  const env = sandboxEnv(root, {PATH: bin, OPENROUTER_MANAGEMENT_KEY: MASTER, CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, ...extra});
  // Backups land under XDG_STATE_HOME as in a real install.
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  return {root, env};
}

/** Runs capit and masks what varies: the sandbox HOME shows as `<home>`, the version as `<version>`. */
async function run(argv: string[], env: Record<string, string>, input?: string) {
  const result = await runMain(argv, {env, input});
  const literals = {'<home>': env.HOME!, '<version>': capitVersion()};
  return {exitCode: result.exitCode, stdout: normalise(result.stdout, {literals}), stderr: normalise(result.stderr, {literals})};
}

/** A command's help, as printed: help holds nothing that varies, so only the version is masked. */
async function help(words: string[]): Promise<string> {
  const {env} = setup();
  const result = await runMain([...words, `--help`], {env});
  expect(result.exitCode).toBe(0);
  expect(result.stderr).toBe(``);
  // clipanion prints option values as `#0`; capit's help names them (`--agent,-a <id>`).
  expect(result.stdout).not.toContain(`#0`);
  expect(result.stdout).not.toContain(`Multiple commands match`);
  return result.stdout;
}

describe(`help`, () => {
  it(`capit --help`, async () => {
    const {env} = setup();
    const result = await run([`--help`], env);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatchInlineSnapshot(`
      "capit - <version>

        $ capit <command>

      General commands

        capit -h
          Show this help

      Agents

        capit agents [--json] [--no-paths] [--all-paths]
          List the agents capit can configure: detected here or not, where their key lives, status

        capit doctor [--json] [agent]
          Say which key each agent would actually use, and whether something shadows the capped key

        capit restore [--yes,-y] [--force] [--json] <agent>
          Put an agent's configuration back as it was before capit's last install

        capit why [--json] [agent]
          Say why an agent holding a capit key may have stopped, and the one fix

      GUI

        capit serve [--port <n>] [--host <address>] [--no-open]
          Open a local web page to see, issue and manage capped keys

      Issue a capped key

        capit aihubmix [--agent,-a <id>] [--reset <daily|weekly|monthly>] [--expires <duration|date>] [--name <prefix>] [--dry-run] [--yes,-y] [--json] [--allow-large] [--model <id>] [--exclude-byok] <usd>
          Issue an AIHubMix key with a hard USD quota

        capit openrouter [--agent,-a <id>] [--reset <daily|weekly|monthly>] [--expires <duration|date>] [--name <prefix>] [--dry-run] [--yes,-y] [--json] [--allow-large] [--model <id>] [--exclude-byok] <usd>
          Issue an OpenRouter key with a hard USD limit

        capit run [--platform,-p <id>] [--cap <usd>] [--ttl <duration>] [--reset <daily|weekly|monthly>] [--agent,-a <id>] [--model <id>] [--allow-large] <command> ...
          Run one agent command with its own capped key, deleted when the command ends

      Keys

        capit gc [--yes,-y] [--json] [--keep-backups <n>]
          List, then with --yes remove, keys, ledger entries and backups capit no longer needs

        capit keys delete [--platform,-p <id>] [--yes,-y] [--json] [--all] <name|glob>
          Delete keys at the provider (a name or a glob)

        capit keys disable [--platform,-p <id>] [--yes,-y] [--json] [--all] <name|glob>
          Disable keys at the provider: the kill switch (a name or a glob)

        capit keys enable [--platform,-p <id>] [--yes,-y] [--json] [--all] <name|glob>
          Enable keys that were disabled (a name or a glob)

        capit keys list [--json] [--all] [platform] [glob]
          List keys as the provider reports them, with the spend of the current window

        capit report [--days <n>] [--by day|model|agent] [--agent <id>] [--csv] [--json]
          Show where the money went: spend per day, model and agent over the last 30 days

        capit rotate [--all] [--yes,-y] [--json] [--force] [agent]
          Replace an agent's key with a new one of the same cap, reset, expiry and BYOK setting

        capit topup [--for <duration>] [--yes,-y] [--json] <agent|key name> <usd>
          Raise the cap of an agent's capit key, for good or for a while (--for)

        capit watch [--interval <duration>] [--once] [--disable-on-spike] [--notify desktop|webhook=<url>|ntfy=<topic>]
          Watch the spend of every capit key; alert on thresholds and spikes, and stop a runaway at the provider

      Platforms

        capit platforms [--json]
          List the installed platforms and where each one's master key comes from

        capit platforms add [--key-stdin] [--no-store] <platform>
          Store a platform's master key after checking it with the provider

        capit platforms remove [--yes,-y] <platform>
          Forget a platform's stored master key

      Plugins

        capit plugin add <spec>
          Install a platform or agent plugin (npm name, tarball, or a local folder to link)

        capit plugin list [--json]
          List every plugin: kind, id, version, where it comes from, what it shadows, and broken ones

        capit plugin new [--dir <folder>] [--name <package>] <platform|agent> <id>
          Scaffold a new platform or agent plugin package from capit's templates

        capit plugin remove <name|id>
          Remove a plugin added with \`capit plugin add\` (by package name, id, or linked folder)

      You can also print more details about any of these commands by calling them with 
      the \`-h,--help\` flag right after the command name.
      "
    `);
  });

  it(`capit help <group|command> is the same as --help after it`, async () => {
    const {env} = setup();
    for (const words of [[`keys`], [`openrouter`], [`agents`]]) {
      const viaHelp = await run([`help`, ...words], env);
      expect(viaHelp.exitCode).toBe(0);
      expect(viaHelp.stdout).toContain(`capit ${words[0]}`);
      expect(viaHelp.stdout).toBe((await run([...words, `--help`], env)).stdout);
    }
  });

  it(`--help after a command's arguments, and the legacy group spellings, show that command's help (each command once)`, async () => {
    const {env} = setup();
    for (const [argv, same] of [
      [[`openrouter`, `5`, `--help`], [`openrouter`]],
      [[`openrouter`, `5`, `--agent`, `opencode`, `-h`], [`openrouter`]],
      [[`restore`, `opencode`, `--help`], [`restore`]],
      [[`keys`, `delete`, `foo`, `--help`], [`keys`, `delete`]],
      [[`--keys`, `--help`], [`keys`]],
      [[`--platforms`, `--help`], [`platforms`]],
    ] as const) {
      const result = await run([...argv], env);
      expect(result.exitCode, argv.join(` `)).toBe(0);
      expect(result.stderr).toBe(``);
      expect(result.stdout, argv.join(` `)).toBe((await run([...same, `--help`], env)).stdout);
      expect(result.stdout).not.toContain(`Multiple commands match`);
    }
  });

  it(`capit openrouter --help`, async () => {
    expect(await help([`openrouter`])).toMatchInlineSnapshot(`
      "Issue an OpenRouter key with a hard USD limit

      Usage

      $ capit openrouter <usd>

      Options

        --agent,-a <id>                   Install the key into this agent's config (\`capit agents\` lists them)
        --reset <daily|weekly|monthly>    Reset the cap each day, week or month (default: a lifetime cap)
        --expires <duration|date>         Expire the key after a duration (30m, 12h, 7d, 2w) or on a date (2027-01-31)
        --name <prefix>                   Key name prefix; names are <prefix>-<8 hex> (default: the agent id, else "capit")
        --dry-run                         Show the plan and diff; create and change nothing
        --yes,-y                          Do not ask for confirmation
        --json                            Print the result as JSON
        --allow-large                     Allow caps over $10,000
        --model <id>                      Check the cap against this model's worst-case request (default: the agent's configured model)
        --exclude-byok                    Do not count spend through your own provider keys (BYOK) against the cap

      Details

      Creates an OpenRouter key that the provider refuses to let spend more than 
      <usd>. With \`--agent\` the key is installed where that agent reads it (old 
      configuration backed up; undo with \`capit restore <agent>\`); without it the key 
      is printed once.

      Examples

      Give opencode its own $5 key
        $ capit openrouter 5 --agent opencode

      Preview what would change
        $ capit openrouter 5 --agent opencode --dry-run

      $20 a month, expiring in 30 days, printed once
        $ capit openrouter 20 --reset monthly --expires 30d
      "
    `);
  });

  it(`capit aihubmix --help`, async () => {
    expect(await help([`aihubmix`])).toMatchInlineSnapshot(`
      "Issue an AIHubMix key with a hard USD quota

      Usage

      $ capit aihubmix <usd>

      Options

        --agent,-a <id>                   Install the key into this agent's config (\`capit agents\` lists them)
        --reset <daily|weekly|monthly>    Reset the cap each day, week or month (default: a lifetime cap)
        --expires <duration|date>         Expire the key after a duration (30m, 12h, 7d, 2w) or on a date (2027-01-31)
        --name <prefix>                   Key name prefix; names are <prefix>-<8 hex> (default: the agent id, else "capit")
        --dry-run                         Show the plan and diff; create and change nothing
        --yes,-y                          Do not ask for confirmation
        --json                            Print the result as JSON
        --allow-large                     Allow caps over $10,000
        --model <id>                      Check the cap against this model's worst-case request (default: the agent's configured model)
        --exclude-byok                    Do not count spend through your own provider keys (BYOK) against the cap

      Details

      Creates an AIHubMix key that the provider refuses to let spend more than <usd>. 
      With \`--agent\` the key is installed where that agent reads it (old configuration 
      backed up; undo with \`capit restore <agent>\`); without it the key is printed 
      once.

      Examples

      Give opencode its own $5 key
        $ capit aihubmix 5 --agent opencode

      Preview what would change
        $ capit aihubmix 5 --agent opencode --dry-run

      $20 a month, expiring in 30 days, printed once
        $ capit aihubmix 20 --reset monthly --expires 30d
      "
    `);
  });

  it(`capit keys --help`, async () => {
    expect(await help([`keys`])).toMatchInlineSnapshot(`
      "Keys

        capit keys list [--json] [--all] [platform] [glob]
          List keys as the provider reports them, with the spend of the current window

        capit keys delete [--platform,-p <id>] [--yes,-y] [--json] [--all] <name|glob>
          Delete keys at the provider (a name or a glob)

        capit keys disable [--platform,-p <id>] [--yes,-y] [--json] [--all] <name|glob>
          Disable keys at the provider: the kill switch (a name or a glob)

        capit keys enable [--platform,-p <id>] [--yes,-y] [--json] [--all] <name|glob>
          Enable keys that were disabled (a name or a glob)

      Run \`capit keys <command> --help\` for a command's options and examples.
      "
    `);
  });

  it(`capit keys list --help`, async () => {
    expect(await help([`keys`, `list`])).toMatchInlineSnapshot(`
      "List keys as the provider reports them, with the spend of the current window

      Usage

      $ capit keys list [platform] [glob]

      Options

        --json    Print the keys as JSON
        --all     Include keys capit did not issue

      Details

      Without a platform, every configured platform is listed in parallel (a platform 
      without a master key is skipped). A glob filters on key names. Only keys capit 
      issued are shown unless \`--all\` is given.

      Examples

      Every capit key on every configured platform
        $ capit keys

      Every capit key on OpenRouter
        $ capit keys list openrouter

      opencode's keys
        $ capit keys list openrouter 'opencode-*'

      As JSON, including keys capit did not issue
        $ capit keys list --json --all
      "
    `);
  });

  it(`capit keys delete --help`, async () => {
    expect(await help([`keys`, `delete`])).toMatchInlineSnapshot(`
      "Delete keys at the provider (a name or a glob)

      Usage

      $ capit keys delete <name|glob>

      Options

        --platform,-p <id>    Only this platform
        --yes,-y              Do not ask for confirmation
        --json                Print the results as JSON
        --all                 Also match keys capit did not issue

      Details

      The matching keys are listed first and confirmed (or \`--yes\`). Only keys capit 
      issued match unless \`--all\`. A pattern that matches everything (\`*\`) needs 
      \`--yes\`. Requests run in parallel (8 per platform, \`CAPIT_DELETE_CONCURRENCY\` 
      overrides); each key gets its own result line, and the exit code is 1 if any 
      failed.

      Examples

      Delete one key
        $ capit keys delete opencode-1a2b3c4d

      Delete every capit key named ci-* on OpenRouter
        $ capit keys delete 'ci-*' --platform openrouter --yes
      "
    `);
  });

  it(`capit keys disable --help`, async () => {
    expect(await help([`keys`, `disable`])).toMatchInlineSnapshot(`
      "Disable keys at the provider: the kill switch (a name or a glob)

      Usage

      $ capit keys disable <name|glob>

      Options

        --platform,-p <id>    Only this platform
        --yes,-y              Do not ask for confirmation
        --json                Print the results as JSON
        --all                 Also match keys capit did not issue

      Details

      The matching keys are listed first and confirmed (or \`--yes\`). Only keys capit 
      issued match unless \`--all\`. A pattern that matches everything (\`*\`) needs 
      \`--yes\`. Requests run in parallel (8 per platform, \`CAPIT_DELETE_CONCURRENCY\` 
      overrides); each key gets its own result line, and the exit code is 1 if any 
      failed.

      Examples

      Stop every capit key on every configured platform
        $ capit keys disable '*' --yes
      "
    `);
  });

  it(`capit keys enable --help`, async () => {
    expect(await help([`keys`, `enable`])).toMatchInlineSnapshot(`
      "Enable keys that were disabled (a name or a glob)

      Usage

      $ capit keys enable <name|glob>

      Options

        --platform,-p <id>    Only this platform
        --yes,-y              Do not ask for confirmation
        --json                Print the results as JSON
        --all                 Also match keys capit did not issue

      Details

      The matching keys are listed first and confirmed (or \`--yes\`). Only keys capit 
      issued match unless \`--all\`. A pattern that matches everything (\`*\`) needs 
      \`--yes\`. Requests run in parallel (8 per platform, \`CAPIT_DELETE_CONCURRENCY\` 
      overrides); each key gets its own result line, and the exit code is 1 if any 
      failed.

      Examples

      Turn every capit key back on
        $ capit keys enable '*' --yes
      "
    `);
  });

  it(`capit platforms --help`, async () => {
    expect(await help([`platforms`])).toMatchInlineSnapshot(`
      "Platforms

        capit platforms [--json]
          List the installed platforms and where each one's master key comes from

        capit platforms add [--key-stdin] [--no-store] <platform>
          Store a platform's master key after checking it with the provider

        capit platforms remove [--yes,-y] <platform>
          Forget a platform's stored master key

      Run \`capit platforms <command> --help\` for a command's options and examples.
      "
    `);
  });

  it(`capit platforms list --help`, async () => {
    expect(await help([`platforms`, `list`])).toMatchInlineSnapshot(`
      "List the installed platforms and where each one's master key comes from

      Usage

      $ capit platforms

      Options

        --json    Print the platforms as JSON

      Examples

      Which platforms are set up
        $ capit platforms

      As JSON
        $ capit platforms --json
      "
    `);
  });

  it(`capit platforms add --help`, async () => {
    expect(await help([`platforms`, `add`])).toMatchInlineSnapshot(`
      "Store a platform's master key after checking it with the provider

      Usage

      $ capit platforms add <platform>

      Options

        --key-stdin    Read the key as one line from stdin
        --no-store     Only check the key with the provider; do not store it

      Details

      The key is asked for with a hidden prompt, or read as one line from stdin with 
      \`--key-stdin\` — never taken as an argument (it would land in your shell 
      history). It is checked against the provider first, then stored in 
      \`$XDG_CONFIG_HOME/capit/credentials.json\` (mode 600). \`--no-store\` only checks 
      it.

      Examples

      Add the OpenRouter management key
        $ capit platforms add openrouter

      From a password manager
        $ pass show openrouter-mgmt | capit platforms add openrouter --key-stdin
      "
    `);
  });

  it(`capit platforms remove --help`, async () => {
    expect(await help([`platforms`, `remove`])).toMatchInlineSnapshot(`
      "Forget a platform's stored master key

      Usage

      $ capit platforms remove <platform>

      Options

        --yes,-y    Do not ask for confirmation

      Examples

      Forget the stored OpenRouter key
        $ capit platforms remove openrouter --yes
      "
    `);
  });

  it(`capit agents --help`, async () => {
    expect(await help([`agents`])).toMatchInlineSnapshot(`
      "List the agents capit can configure: detected here or not, where their key lives, status

      Usage

      $ capit agents

      Options

        --json         Print the agents as JSON
        --no-paths     Manifest data only: resolve no config paths or statuses (imports no plugin code)
        --all-paths    Resolve config paths and statuses of every agent, detected or not

      Details

      Detection uses each plugin's manifest (a binary on PATH, paths that exist). 
      Config paths and statuses come from the plugin code, imported for detected 
      agents and those holding a capit key; --all-paths resolves every agent, 
      --no-paths none.

      Examples

      Every agent
        $ capit agents

      As JSON
        $ capit agents --json
      "
    `);
  });

  it(`capit doctor --help`, async () => {
    expect(await help([`doctor`])).toMatchInlineSnapshot(`
      "Say which key each agent would actually use, and whether something shadows the capped key

      Usage

      $ capit doctor [agent]

      Options

        --json    Print the reports as JSON

      Details

      Checks every detected agent (or the one named, each of its flavours on its own) 
      against the places it reads its key and its base URL, highest precedence first. 
      Exits 1 when capit cannot show that a capped key it installed is used: shadowed 
      (another key, or a setting that selects another provider, wins), redirected (a 
      base URL sends the requests to another host), changed (the key capit wrote was 
      replaced) or unknown (capit cannot tell: a file that does not parse, or the 
      agent reads other files than the ones capit wrote). Never prints a key.

      Examples

      Every detected agent
        $ capit doctor

      Only Claude Code
        $ capit doctor claude
      "
    `);
  });

  it(`capit restore --help`, async () => {
    expect(await help([`restore`])).toMatchInlineSnapshot(`
      "Put an agent's configuration back as it was before capit's last install

      Usage

      $ capit restore <agent>

      Options

        --yes,-y    Do not ask for confirmation
        --force     Put the backup back even over conflicting changes
        --json      Print the result as JSON

      Details

      Restores the files from the newest backup byte for byte. If a file was edited 
      since, only capit's own edits are reverted; if capit's edits were changed too, 
      it refuses unless --force.

      Examples

      Undo the last install into opencode
        $ capit restore opencode
      "
    `);
  });

  it(`capit plugin --help`, async () => {
    expect(await help([`plugin`])).toMatchInlineSnapshot(`
      "Plugins

        capit plugin add <spec>
          Install a platform or agent plugin (npm name, tarball, or a local folder to link)

        capit plugin remove <name|id>
          Remove a plugin added with \`capit plugin add\` (by package name, id, or linked folder)

        capit plugin list [--json]
          List every plugin: kind, id, version, where it comes from, what it shadows, and broken ones

        capit plugin new [--dir <folder>] [--name <package>] <platform|agent> <id>
          Scaffold a new platform or agent plugin package from capit's templates

      Run \`capit plugin <command> --help\` for a command's options and examples.
      "
    `);
  });

  it(`capit plugin add --help`, async () => {
    expect(await help([`plugin`, `add`])).toMatchInlineSnapshot(`
      "Install a platform or agent plugin (npm name, tarball, or a local folder to link)

      Usage

      $ capit plugin add <spec>

      Details

      Installs into capit's global plugin dir with npm, never running install scripts, 
      then checks the manifest and that the entry loads; on any failure the dir is 
      rolled back. A local folder is linked, not copied, so edits show up on the next 
      run.

      Examples

      From npm
        $ capit plugin add capit-agent-foo

      A scoped package at a version
        $ capit plugin add @acme/capit-platform-bar@1.2.0

      A tarball made with npm pack
        $ capit plugin add ./capit-agent-foo-1.0.0.tgz

      Link a folder you are working on
        $ capit plugin add ./capit-agent-foo
      "
    `);
  });

  it(`capit plugin list --help`, async () => {
    expect(await help([`plugin`, `list`])).toMatchInlineSnapshot(`
      "List every plugin: kind, id, version, where it comes from, what it shadows, and broken ones

      Usage

      $ capit plugin list

      Options

        --json    Print the list as JSON

      Examples

      As a table
        $ capit plugin list

      As JSON
        $ capit plugin list --json
      "
    `);
  });

  it(`capit plugin new --help`, async () => {
    expect(await help([`plugin`, `new`])).toMatchInlineSnapshot(`
      "Scaffold a new platform or agent plugin package from capit's templates

      Usage

      $ capit plugin new <platform|agent> <id>

      Options

        --dir <folder>      Target folder (default ./capit-<kind>-<id>); must be empty or absent
        --name <package>    Package name (default capit-<kind>-<id>; may be scoped)

      Details

      Writes a package (TypeScript, tests using the conformance kit from 
      \`capit/testing\`) that builds with \`npm install && npm run build && npm test\` and 
      can be used right away through \`CAPIT_PLUGIN_PATH\` or \`capit plugin add ./dir\`.

      Examples

      An agent plugin in ./capit-agent-foo
        $ capit plugin new agent foo

      A platform plugin in a chosen folder
        $ capit plugin new platform acme --dir ~/src/capit-platform-acme
      "
    `);
  });

  it(`capit plugin remove --help`, async () => {
    expect(await help([`plugin`, `remove`])).toMatchInlineSnapshot(`
      "Remove a plugin added with \`capit plugin add\` (by package name, id, or linked folder)

      Usage

      $ capit plugin remove <name|id>

      Examples

      By id
        $ capit plugin remove foo

      By package name
        $ capit plugin remove capit-agent-foo
      "
    `);
  });

  it(`capit serve --help`, async () => {
    expect(await help([`serve`])).toMatchInlineSnapshot(`
      "Open a local web page to see, issue and manage capped keys

      Usage

      $ capit serve

      Options

        --port <n>          Port to listen on (default: a random free port)
        --host <address>    Interface to bind (default 127.0.0.1; anything else is reachable from other machines)
        --no-open           Only print the URL; do not open a browser

      Details

      Serves the GUI on 127.0.0.1 with a random port and a new access token on every 
      launch; the printed URL carries the token in its #fragment, and the page sends 
      it in a header (never a cookie) on every API request. Requests from other sites 
      are refused. Stop it with Ctrl-C.

      Examples

      Start the GUI and open it in the browser
        $ capit serve

      On a fixed port, without opening a browser
        $ capit serve --port 8377 --no-open
      "
    `);
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
    // A negative amount reads like an option to any parser; main() names the real problem.
    [[`openrouter`, `-5`, `--yes`], `capit: Invalid amount "-5": the cap must be a positive dollar amount, e.g. 5 or 0.50`],
  ])(`capit %j`, async (args, message) => {
    const {root, env} = setup();
    const before = snapshotTree(root);
    const result = await runMain(args, {env});
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe(``);
    expect(snapshotTree(root)).toEqual(before);
    // A mistake is refused before any request could use the master key.
    expect(emulator.state.requests.filter(r => !r.path.startsWith(`/__`))).toEqual([]);
  });
});

describe(`main outputs`, () => {
  it(`a dry run prints the plan and the diff, and creates nothing`, async () => {
    const {root, env} = setup();
    const before = snapshotTree(root);
    const result = await run([`openrouter`, `5`, `--agent`, `opencode`, `--dry-run`], env);
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toBe(``);
    expect(result.stdout).toMatchInlineSnapshot(`
      "Dry run — nothing will be created or changed.
      Create OpenRouter key "opencode-XXXXXXXX" with a $5.00 lifetime cap; BYOK spend counts against the cap.
      Install it into opencode:
      new file: <home>/.local/share/opencode/auth.json
      --- /dev/null
      +++ b<home>/.local/share/opencode/auth.json
      @@ -0,0 +1,6 @@
      +{
      +  "openrouter": {
      +    "type": "api",
      +    "key": "<new openrouter key>"
      +  }
      +}
      "
    `);
    expect(emulator.state.keys.size).toBe(0);
    expect(snapshotTree(root)).toEqual(before);
  });

  it(`a dry run's .env diff shows the lines the install writes, byte for byte but the secret`, async () => {
    const {env} = setup();
    const envFile = path.join(env.HOME!, `.hermes`, `.env`);
    fs.mkdirSync(path.dirname(envFile), {recursive: true});
    for (const original of [`OPENROUTER_API_KEY=sk-or-v1-fakeORIGINAL0000\nX=1\n`, `export OPENROUTER_API_KEY="sk-or-v1-fakeORIGINAL0000"\r\n`, `X=1\n`]) {
      fs.writeFileSync(envFile, original);
      const dry = await runMain([`openrouter`, `5`, `--agent`, `hermes`, `--dry-run`], {env});
      expect(dry.exitCode, dry.stderr).toBe(0);
      const section = dry.stdout.slice(dry.stdout.indexOf(`+++ b${envFile}`));
      const hunk = section.split(`\n`).slice(1);
      const added = hunk.slice(0, hunk.findIndex(l => l === ``)).filter(l => l.startsWith(`+`) && !l.startsWith(`+++`)).map(l => l.slice(1));
      expect(added.length, original).toBeGreaterThan(0);
      const done = await runMain([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env});
      expect(done.exitCode, done.stderr).toBe(0);
      const written = fs.readFileSync(envFile, `utf8`).replace(/sk-or-v1-[A-Za-z0-9]+/g, `<new openrouter key>`);
      for (const line of added) expect(written.split(/\r?\n/), JSON.stringify(original)).toContain(line.replace(/\r$/, ``));
    }
  });

  it(`an install into an empty HOME, then over an existing file`, async () => {
    const {env} = setup();
    const first = await run([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], env);
    expect(first.exitCode).toBe(0);
    expect(first.stdout).toMatchInlineSnapshot(`
      "$5.00 openrouter key installed into opencode
      "
    `);
    expect(first.stderr).toMatchInlineSnapshot(`
      "Use it with: opencode run -m openrouter/<model> "…" (running opencode sessions pick it up on restart)
      "
    `);
    const second = await run([`openrouter`, `$2.50`, `--agent`, `opencode`, `--yes`, `--reset`, `monthly`], env);
    expect(second.exitCode).toBe(0);
    expect(second.stdout).toMatchInlineSnapshot(`
      "$2.50 openrouter key installed into opencode
      Old configuration backed up to <home>/.local/state/capit/backups/opencode/<time>
      "
    `);
  });

  it(`a key without an agent is printed once, on stdout alone`, async () => {
    const {env} = setup();
    const result = await runMain([`openrouter`, `3`, `--name`, `ci`, `--yes`], {env});
    expect(result.exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    expect(result.stdout).toBe(`${key!.key}\n`);
    expect(result.stderr).not.toContain(key!.key);
    expect(normalise(result.stderr)).toMatchInlineSnapshot(`
      "$3.00 openrouter key "ci-XXXXXXXX" created ($3.00 lifetime cap). It is shown once:
      "
    `);
  });

  it(`keys list, doctor, agents, restore and a key action after two installs`, async () => {
    const {env} = setup();
    expect((await run([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], env)).exitCode).toBe(0);
    expect((await run([`openrouter`, `3`, `--name`, `ci`, `--yes`, `--reset`, `weekly`], env)).exitCode).toBe(0);

    const list = await run([`keys`, `list`], env);
    expect(list.exitCode).toBe(0);
    expect(list.stdout).toMatchInlineSnapshot(`
      "NAME               PLATFORM    AGENT     SPENT/CAP    RESET     REMAINING  STATUS  CREATED
      ci-XXXXXXXX        openrouter  —         $0.00/$3.00  weekly    $3.00      active  <date>
      opencode-XXXXXXXX  openrouter  opencode  $0.00/$5.00  lifetime  $5.00      active  <date>
      "
    `);

    const doctor = await run([`doctor`], env);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toMatchInlineSnapshot(`
      "opencode  uses capit key opencode-XXXXXXXX ($5.00 cap) from ~/.local/share/opencode/auth.json (openrouter.key)
      "
    `);

    const agents = await run([`agents`], env);
    expect(agents.exitCode).toBe(0);
    expect(agents.stdout).toMatchInlineSnapshot(`
      "claude    Claude Code — not detected
                platforms: openrouter (verified with Claude Code 2.1.332 and 2.1.112), aihubmix (verified with Claude Code 2.1.332)
                cap covers: every Claude Code request (log out of a subscription with /logout)
                status: no capit key installed
      cline     Cline — not detected
                platforms: openrouter (verified with Cline CLI 3.0.65 (the IDE extension: files only)), aihubmix (verified with Cline CLI 3.0.65 (the IDE extension: files only))
                cap covers: the Cline CLI's and the Cline extension's (v4+) requests on the provider capit selects; restart the IDE
                status: no capit key installed
      codex     Codex CLI — not detected
                platforms: openrouter (verified with Codex 0.171.0), aihubmix (verified with Codex 0.171.0)
                cap covers: every Codex request while model_provider stays capit's (a --profile or -c picking another provider is not)
                status: no capit key installed
      continue  Continue CLI — not detected
                platforms: openrouter (verified with Continue CLI 1.5.47), aihubmix (verified with Continue CLI 1.5.47)
                cap covers: every request of the model capit keyed in config.yaml, when cn uses it; other models use their own keys
                status: no capit key installed
      crush     Crush — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: Crush's requests to that provider once you pick one of its models
                status: no capit key installed
      cursor    Cursor — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: the requests of the Kilo, Cline or Zoo/Roo extensions capit configures; Cursor's own Tab, Apply, Agent and Auto bill your Cursor plan
                status: no capit key installed
      droid     Factory Droid — not detected
                platforms: openrouter (verified with Factory Droid 0.225.2), aihubmix (verified with Factory Droid 0.225.2)
                cap covers: Droid's requests on capit's custom model; Factory's own models bill your Factory account
                status: no capit key installed
      grok      Grok CLI — not detected
                platforms: openrouter (verified with Grok CLI 0.0.34), aihubmix (verified with Grok CLI 0.0.34)
                cap covers: every model request (one OpenAI-compatible client); not Morph fast-apply (MORPH_API_KEY, its own host)
                status: no capit key installed
      hermes    Hermes Agent — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: Hermes' OpenRouter (or AIHubMix) requests
                status: no capit key installed
      kilo      Kilo Code — not detected
                platforms: openrouter (verified with Kilo CLI 7.7.9)
                cap covers: Kilo Code (v7+, extension and CLI) on OpenRouter
                status: no capit key installed
      openclaw  OpenClaw — not detected
                platforms: openrouter (verified with OpenClaw 2026.9.6 (Node 24)), aihubmix (verified with OpenClaw 2026.9.6 (Node 24))
                cap covers: \`openrouter/*\` models (or the aihubmix provider capit adds), from the CLI and the gateway service once it is restarted
                status: no capit key installed
      opencode  opencode — detected
                platforms: openrouter (verified with opencode 1.18.34 and 1.18.33)
                cap covers: every request on \`openrouter/*\` models
                config: ~/.local/share/opencode/auth.json
                status: capit openrouter key opencode-XXXXXXXX ($5.00 cap) installed
      pi        pi — not detected
                platforms: openrouter (verified with pi 0.73.1), aihubmix (verified with pi 0.73.1)
                cap covers: every model request pi sends with --provider openrouter (or aihubmix); other providers use their own keys
                status: no capit key installed
      qwen      Qwen Code — not detected
                platforms: openrouter (verified with Qwen Code 0.24.4), aihubmix (verified with Qwen Code 0.24.4)
                cap covers: Qwen Code's requests on the model capit adds (OpenRouter or AIHubMix)
                status: no capit key installed
      windsurf  Windsurf — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: the requests of the Kilo, Cline or Zoo/Roo extensions capit configures; not Cascade (its BYOK takes Anthropic keys only)
                status: no capit key installed
      "
    `);

    const disabled = await run([`keys`, `disable`, `ci-*`, `--yes`], env);
    expect(disabled.exitCode).toBe(0);
    expect(disabled.stdout).toMatchInlineSnapshot(`
      "Disable 1 key:
        ci-XXXXXXXX  openrouter, $0.00/$3.00
      disabled  ci-XXXXXXXX (openrouter)
      Disabled 1 key.
      "
    `);

    const restored = await run([`restore`, `opencode`, `--yes`], env);
    expect(restored.exitCode).toBe(0);
    expect(restored.stdout).toMatchInlineSnapshot(`
      "Restored opencode configuration from <home>/.local/state/capit/backups/opencode/<time>
        removed        <home>/.local/share/opencode/auth.json
      "
    `);
    expect(restored.stderr).toMatchInlineSnapshot(`
      "The key "opencode-XXXXXXXX" still exists at openrouter; delete it with: capit keys delete opencode-XXXXXXXX
      "
    `);
  });

  it(`doctor and agents in an empty HOME`, async () => {
    const {env} = setup();
    expect((await run([`doctor`], env)).stdout).toMatchInlineSnapshot(`
      "No agent detected and no capit install found. Check one with: capit doctor <agent>
      "
    `);
    expect((await run([`agents`], env)).stdout).toMatchInlineSnapshot(`
      "claude    Claude Code — not detected
                platforms: openrouter (verified with Claude Code 2.1.332 and 2.1.112), aihubmix (verified with Claude Code 2.1.332)
                cap covers: every Claude Code request (log out of a subscription with /logout)
                status: no capit key installed
      cline     Cline — not detected
                platforms: openrouter (verified with Cline CLI 3.0.65 (the IDE extension: files only)), aihubmix (verified with Cline CLI 3.0.65 (the IDE extension: files only))
                cap covers: the Cline CLI's and the Cline extension's (v4+) requests on the provider capit selects; restart the IDE
                status: no capit key installed
      codex     Codex CLI — not detected
                platforms: openrouter (verified with Codex 0.171.0), aihubmix (verified with Codex 0.171.0)
                cap covers: every Codex request while model_provider stays capit's (a --profile or -c picking another provider is not)
                status: no capit key installed
      continue  Continue CLI — not detected
                platforms: openrouter (verified with Continue CLI 1.5.47), aihubmix (verified with Continue CLI 1.5.47)
                cap covers: every request of the model capit keyed in config.yaml, when cn uses it; other models use their own keys
                status: no capit key installed
      crush     Crush — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: Crush's requests to that provider once you pick one of its models
                status: no capit key installed
      cursor    Cursor — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: the requests of the Kilo, Cline or Zoo/Roo extensions capit configures; Cursor's own Tab, Apply, Agent and Auto bill your Cursor plan
                status: no capit key installed
      droid     Factory Droid — not detected
                platforms: openrouter (verified with Factory Droid 0.225.2), aihubmix (verified with Factory Droid 0.225.2)
                cap covers: Droid's requests on capit's custom model; Factory's own models bill your Factory account
                status: no capit key installed
      grok      Grok CLI — not detected
                platforms: openrouter (verified with Grok CLI 0.0.34), aihubmix (verified with Grok CLI 0.0.34)
                cap covers: every model request (one OpenAI-compatible client); not Morph fast-apply (MORPH_API_KEY, its own host)
                status: no capit key installed
      hermes    Hermes Agent — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: Hermes' OpenRouter (or AIHubMix) requests
                status: no capit key installed
      kilo      Kilo Code — not detected
                platforms: openrouter (verified with Kilo CLI 7.7.9)
                cap covers: Kilo Code (v7+, extension and CLI) on OpenRouter
                status: no capit key installed
      openclaw  OpenClaw — not detected
                platforms: openrouter (verified with OpenClaw 2026.9.6 (Node 24)), aihubmix (verified with OpenClaw 2026.9.6 (Node 24))
                cap covers: \`openrouter/*\` models (or the aihubmix provider capit adds), from the CLI and the gateway service once it is restarted
                status: no capit key installed
      opencode  opencode — not detected
                platforms: openrouter (verified with opencode 1.18.34 and 1.18.33)
                cap covers: every request on \`openrouter/*\` models
                status: no capit key installed
      pi        pi — not detected
                platforms: openrouter (verified with pi 0.73.1), aihubmix (verified with pi 0.73.1)
                cap covers: every model request pi sends with --provider openrouter (or aihubmix); other providers use their own keys
                status: no capit key installed
      qwen      Qwen Code — not detected
                platforms: openrouter (verified with Qwen Code 0.24.4), aihubmix (verified with Qwen Code 0.24.4)
                cap covers: Qwen Code's requests on the model capit adds (OpenRouter or AIHubMix)
                status: no capit key installed
      windsurf  Windsurf — not detected
                platforms: openrouter (files only), aihubmix (files only)
                cap covers: the requests of the Kilo, Cline or Zoo/Roo extensions capit configures; not Cascade (its BYOK takes Anthropic keys only)
                status: no capit key installed
      "
    `);
  });

  it(`platforms and plugin list`, async () => {
    const {env} = setup();
    expect((await run([`platforms`], env)).stdout).toMatchInlineSnapshot(`
      "PLATFORM    NAME        MASTER KEY                       CREATE ONE AT
      aihubmix    AIHubMix    not set                          https://console.aihubmix.com/setting
      openrouter  OpenRouter  from $OPENROUTER_MANAGEMENT_KEY  https://openrouter.ai/settings/management-keys

      Add a master key with: capit platforms add aihubmix
      "
    `);
    expect((await run([`plugin`, `list`], env)).stdout).toMatchInlineSnapshot(`
      "KIND      ID          VERSION        SOURCE    PACKAGE                    STATUS
      agent     claude      <version>  built-in  capit-agent-claude         active
      agent     cline       <version>  built-in  capit-agent-cline          active
      agent     codex       <version>  built-in  capit-agent-codex          active
      agent     continue    <version>  built-in  capit-agent-continue       active
      agent     crush       <version>  built-in  capit-agent-crush          active
      agent     cursor      <version>  built-in  capit-agent-cursor         active
      agent     droid       <version>  built-in  capit-agent-droid          active
      agent     grok        <version>  built-in  capit-agent-grok           active
      agent     hermes      <version>  built-in  capit-agent-hermes         active
      agent     kilo        <version>  built-in  capit-agent-kilo           active
      agent     openclaw    <version>  built-in  capit-agent-openclaw       active
      agent     opencode    <version>  built-in  capit-agent-opencode       active
      agent     pi          <version>  built-in  capit-agent-pi             active
      agent     qwen        <version>  built-in  capit-agent-qwen           active
      agent     windsurf    <version>  built-in  capit-agent-windsurf       active
      platform  aihubmix    <version>  built-in  capit-platform-aihubmix    active
      platform  openrouter  <version>  built-in  capit-platform-openrouter  active
      "
    `);
  });

  it(`failures: the cause and a hint, exit 1`, async () => {
    const {env} = setup({OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-fake-wrong-master-000000`});
    const issued = await run([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], env);
    expect(issued.exitCode).toBe(1);
    expect(issued.stdout).toBe(``);
    expect(issued.stderr).toMatchInlineSnapshot(`
      "capit: OpenRouter rejected the master key while trying to create key "opencode-XXXXXXXX" (401: User not found.)
        Check OPENROUTER_MANAGEMENT_KEY or the stored key (capit platforms add openrouter); create a management key at https://openrouter.ai/settings/management-keys
      "
    `);
    const listed = await run([`keys`, `list`], env);
    expect(listed.exitCode).toBe(1);
    expect(listed.stderr).toMatchInlineSnapshot(`
      "capit: openrouter: OpenRouter rejected the master key while trying to list keys (401: User not found.)
      "
    `);
    const restored = await run([`restore`, `opencode`, `--yes`], env);
    expect(restored.exitCode).toBe(2);
    expect(restored.stderr).toMatchInlineSnapshot(`
      "capit: There is no capit backup of opencode to restore: capit has not changed opencode's files (backups would be in <home>/.local/state/capit/backups/opencode)
      "
    `);
  });
});
