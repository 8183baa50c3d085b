// Bad input on the command line: exit 2, one line, no request to the provider, nothing written. These check how argv
// is read and validated (amounts, option values, names, platforms, globs, a piped key), so they run in-process through
// main() against the loopback emulator; moved from test/e2e/{issue,keys,platforms,hostile}.test.ts, assertions unchanged.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {KeyRecord}                     from '../../../test/emulator/server.mjs';
import {emulatorPerFile}                    from '../../../test/support/emulator.js';
import {sandboxEnv, snapshotTree, tempDir} from '../../../test/support/tmp.js';
import {runMain}                            from './run.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});
const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-bad-input-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, ...extra});
  return {root, env, home: env.HOME!};
}

describe(`capit <platform> <usd>`, () => {
  it.each([
    [[`openrouter`, `0`, `--agent`, `opencode`], /more than \$0\.00/],
    [[`openrouter`, `-5`, `--agent`, `opencode`], /positive dollar amount/],
    [[`openrouter`, `abc`, `--agent`, `opencode`], /expected a dollar amount/],
    [[`openrouter`, `NaN`], /expected a dollar amount/],
    [[`openrouter`, `Infinity`], /expected a dollar amount/],
    [[`openrouter`, `5.001`], /at most 2 decimals/],
    [[`openrouter`, `20000`, `--agent`, `opencode`], /--allow-large/],
    [[`openrouter`, `5`, `--reset`, `yearly`], /daily, weekly or monthly/],
    [[`openrouter`, `5`, `--expires`, `yesterday`], /--expires/],
    [[`openrouter`, `5`, `--name`, `bad name`], /--name/],
    [[`openrouter`, `5`, `--agent`, `vim`], /Unknown agent "vim"; installed agents: .*opencode/],
    [[`openruoter`, `5`, `--agent`, `opencode`], /^capit: Unknown platform "openruoter"; did you mean "openrouter"\?\n$/],
    [[`acme`, `5`, `--agent`, `opencode`, `--yes`], /Unknown platform "acme", installed: .*openrouter.*capit plugin add capit-platform-acme/],
    [[`openrouter`, `5`, `--agent`, `opencode`], /pass --yes/],
    [[`openrouter`], /./],
  ])(`capit %j`, async (args, message) => {
    const {env, home} = setup({OPENROUTER_MANAGEMENT_KEY: MASTER});
    // Backups and the ledger land under XDG_STATE_HOME (inside HOME) as in a real install.
    delete (env as Record<string, string | undefined>).CAPIT_HOME;
    const before = snapshotTree(home);
    const result = await runMain(args, {env});
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe(``);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trimEnd().split(`\n`)).toHaveLength(1);
    expect(managementRequests()).toEqual([]);
    expect(snapshotTree(home)).toEqual(before);
  });
});

/** One line on stderr, no stack, nothing on stdout. */
function expectOneLineRefusal(result: {stdout: string; stderr: string}) {
  expect(result.stdout).toBe(``);
  const lines = result.stderr.trimEnd().split(`\n`).filter(l => !/^\s*(hint|→)/i.test(l));
  expect(lines[0]).toMatch(/^capit: /);
  expect(result.stderr).not.toMatch(/\n\s+at |RangeError|internal error|this is a bug/i);
}

// Issue 10, case 11: bad input taken or misreported.
describe(`dates, amounts and globs that only look valid`, () => {
  it.each([
    [[`openrouter`, `5`, `--expires`, `2027-02-30`], /Invalid --expires "2027-02-30": 2027-02-30 is not a real calendar date/],
    [[`openrouter`, `5`, `--expires`, `2020-01-01`], /in the past/],
    [[`openrouter`, `5 `], /Invalid amount "5 "/],
    [[`openrouter`, ` 5`], /Invalid amount " 5"/],
    [[`openrouter`, `5`, `--expires=-1d`], /--expires "-1d"/],
    // A value starting with `-` and a digit is still the option's value, not a missing one.
    [[`openrouter`, `5`, `--expires`, `-1d`], /^capit: Invalid --expires "-1d": a negative duration is in the past/],
    [[`keys`, `delete`, `[`, `--yes`], /Invalid key name or glob "\["/],
    [[`keys`, `list`, `[z-a]`], /Invalid key name or glob/],
  ])(`%j: exit 2, one line, no request`, async (args, message) => {
    const {env} = setup({OPENROUTER_MANAGEMENT_KEY: MASTER});
    const result = await runMain(args, {env});
    expect(result.exitCode).toBe(2);
    expectOneLineRefusal(result);
    expect(result.stderr).toMatch(message);
    expect(result.stderr).not.toMatch(/Invalid amount "-1d"/);
    expect(managementRequests()).toEqual([]);
  });
});

/** Records emulator keys in capit's ledger, as if capit had issued them. */
function recordInLedger(ledgerFile: string, records: KeyRecord[]) {
  const keys = records.map(r => ({
    id: r.hash, name: r.name, platform: `openrouter`, agent: null, capUsd: r.limit, reset: r.limit_reset, expiresAt: null,
    createdAt: r.created_at, status: `active`, files: [], backupDir: null,
  }));
  fs.mkdirSync(path.dirname(ledgerFile), {recursive: true});
  fs.writeFileSync(ledgerFile, JSON.stringify({version: 1, keys}));
}

describe(`capit keys delete|disable`, () => {
  it.each<[string[], RegExp]>([
    [[`keys`, `delete`, `  `, `--yes`], /Empty key name or glob/],
    [[`keys`, `delete`, `*`], /"\*" matches every key: pass --yes/],
    [[`keys`, `delete`, `**`, `--json`], /"\*\*" matches every key: pass --yes/],
    [[`keys`, `delete`, `capit-1`], /pass --yes/],
    [[`keys`, `delete`, `capit-1`, `--platform`, `nope`, `--yes`], /Unknown platform "nope"/],
    [[`keys`, `disable`, ``, `--yes`], /Empty key name or glob/],
  ])(`capit %j`, async (args, message) => {
    const {env} = setup({OPENROUTER_MANAGEMENT_KEY: MASTER});
    recordInLedger(path.join(env.CAPIT_HOME!, `state`, `ledger.json`), emulator.seedKeys(3, {prefix: `capit`}));
    const result = await runMain(args, {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split(`\n`)).toHaveLength(1);
    expect(result.stdout).toBe(``);
    expect(managementRequests()).toEqual([]);
    expect(emulator.state.keys.size).toBe(3);
  });
});

describe(`capit platforms add|remove`, () => {
  // No OPENROUTER_MANAGEMENT_KEY: the stored key is what is tested.
  it.each<[string[], string, RegExp]>([
    [[`platforms`, `add`, `openrouter`, `--key-stdin`], `not-a-key-at-all\n`, /does not look like an OpenRouter master key: OpenRouter keys start with "sk-or-"/],
    [[`platforms`, `add`, `openrouter`, `--key-stdin`], `\n`, /No master key given/],
    [[`platforms`, `add`, `openrouter`], ``, /pipe it in with --key-stdin/],
    [[`platforms`, `add`, `nope`, `--key-stdin`], `${MASTER}\n`, /Unknown platform "nope"/],
    [[`platforms`, `remove`, `nope`, `--yes`], ``, /Unknown platform "nope"/],
  ])(`capit %j`, async (args, input, message) => {
    const {env} = setup();
    const credentials = path.join(env.CAPIT_HOME!, `config`, `credentials.json`);
    const result = await runMain(args, {env, input});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(message);
    expect(result.stderr.trim().split(`\n`)).toHaveLength(1);
    expect(result.stdout + result.stderr).not.toContain(MASTER);
    expect(managementRequests()).toEqual([]);
    expect(fs.existsSync(credentials)).toBe(false);
  });
});

// QA findings F18: words a user may well type get the command they meant, one line, exit 2, nothing written.
describe(`near misses name what was meant`, () => {
  it.each<[string[], RegExp]>([
    [[`keys`, `list`, `--platform`, `openrouter`], /^capit: Unknown option "--platform" for `capit keys list`; the platform is an argument here: `capit keys list <platform>`, e\.g\. `capit keys list openrouter`\n$/],
    [[`keys`, `list`, `-p`, `openrouter`], /the platform is an argument here: `capit keys list <platform>`/],
    [[`platforms`, `ls`], /^capit: Unknown command "platforms ls"; did you mean `capit platforms list`\?\n$/],
    [[`plugin`, `new`, `agnet`, `foo`], /^capit: Unknown plugin kind "agnet": expected platform or agent; did you mean "agent"\?\n$/],
    [[`plugin`, `new`, `thing`, `foo`], /^capit: Unknown plugin kind "thing": expected platform or agent\n$/],
    [[`-x`], /^capit: Unknown option "-x"; run `capit --help`\n$/],
  ])(`capit %j`, async (args, message) => {
    const {env, home} = setup();
    const before = snapshotTree(home);
    const result = await runMain(args, {env});
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe(``);
    expect(result.stderr).toMatch(message);
    expect(snapshotTree(home)).toEqual(before);
  });
});
