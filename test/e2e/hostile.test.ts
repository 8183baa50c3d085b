// Regression tests for issue 10, cases 1 (BYOK spend outside the cap), 6 (false success on a DELETE), 7 (duplicate
// JSON keys), 8 (stack traces from hostile files) and 11 (bad input taken or misreported), against the built CLI.
import {execFileSync} from 'node:child_process';
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}               from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const AIHUBMIX_MASTER = `aihubmix-manage-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup() {
  const root = tempDir(`capit-hostile-`);
  const env = sandboxEnv(root, {
    CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER,
    CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: AIHUBMIX_MASTER,
  });
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  const ledgerFile = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
  return {root, env, authFile, ledgerFile};
}

const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

/** One line on stderr, no stack, nothing on stdout. */
function expectOneLineRefusal(result: {stdout: string; stderr: string}) {
  expect(result.stdout).toBe(``);
  const lines = result.stderr.trimEnd().split(`\n`).filter(l => !/^\s*(hint|→)/i.test(l));
  expect(lines[0]).toMatch(/^capit: /);
  expect(result.stderr).not.toMatch(/\n\s+at |RangeError|internal error|this is a bug/i);
}

describe(`1. BYOK spend counts against the cap`, () => {
  it(`asks OpenRouter to count BYOK by default, and says so in the plan and --json`, async () => {
    const {env} = setup();
    const dry = await runCli([`openrouter`, `5`, `--dry-run`], {env});
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(dry.stdout).toMatch(/with a \$5\.00 lifetime cap; BYOK spend counts against the cap\.\n/);

    const result = await runCli([`openrouter`, `5`, `--json`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({byokCounted: true});
    const [key] = [...emulator.state.keys.values()];
    // The emulator, like OpenRouter, defaults to false: true here means capit sent it.
    expect(key!.include_byok_in_limit).toBe(true);
  });

  it(`--exclude-byok leaves BYOK uncounted, and the plan says so`, async () => {
    const {env} = setup();
    const dry = await runCli([`openrouter`, `5`, `--dry-run`, `--exclude-byok`, `--json`], {env});
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect(JSON.parse(dry.stdout)).toMatchObject({byokCounted: false, action: expect.stringMatching(/BYOK spend does not count against the cap/)});

    const result = await runCli([`openrouter`, `5`, `--json`, `--exclude-byok`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({byokCounted: false});
    expect([...emulator.state.keys.values()][0]!.include_byok_in_limit).toBe(false);
  });

  it(`refuses --exclude-byok for a platform without BYOK before any request (exit 2)`, async () => {
    const {env} = setup();
    const result = await runCli([`aihubmix`, `5`, `--exclude-byok`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/AIHubMix has no BYOK/);
    expectOneLineRefusal(result);
    expect(managementRequests()).toEqual([]);
  });

  it(`keys list shows BYOK spend where the platform reports it`, async () => {
    const {env} = setup();
    const issued = await runCli([`openrouter`, `5`, `--json`], {env});
    expect(issued.exitCode, issued.stderr).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    emulator.charge(key!.hash, 1.5, {byok: true});

    const json = await runCli([`keys`, `list`, `--json`], {env});
    expect(json.exitCode, json.stderr).toBe(0);
    expect(JSON.parse(json.stdout).keys[0]).toMatchObject({byokSpentUsd: 1.5, byokCounted: true, remainingUsd: 3.5});
    const table = await runCli([`keys`, `list`], {env});
    expect(table.stdout).toMatch(/\(BYOK \$1\.50\)/);
  });
});

describe(`6. a destructive call counts only on proof`, () => {
  it(`DELETE answered 200 with junk while the key lives: exit 1, ledger unchanged, no "deleted" line`, async () => {
    const {env, ledgerFile} = setup();
    const issued = await runCli([`openrouter`, `5`, `--json`], {env});
    expect(issued.exitCode, issued.stderr).toBe(0);
    const {name} = JSON.parse(issued.stdout) as {name: string};
    const ledgerBefore = fs.readFileSync(ledgerFile, `utf8`);

    emulator.knobs.failNext(1, {method: `DELETE`, status: 200, body: `OK`});
    const result = await runCli([`keys`, `delete`, name, `--yes`], {env});

    expect(result.exitCode).toBe(1);
    expect(result.stdout + result.stderr).not.toMatch(/^deleted /m);
    expect(result.stdout + result.stderr).toMatch(/still exists/);
    expect(fs.readFileSync(ledgerFile, `utf8`)).toBe(ledgerBefore);
    expect([...emulator.state.keys.values()].map(k => k.name)).toEqual([name]);
  });
});

describe(`7. duplicate keys`, () => {
  it(`an auth.json with "openrouter" twice is refused in one line naming the key and lines; nothing created`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const text = `{\n  "openrouter": {"type": "api", "key": "sk-or-v1-fake-old-1"},\n  "openrouter": {"type": "api", "key": "sk-or-v1-fake-old-2"}\n}\n`;
    fs.writeFileSync(authFile, text);

    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});

    expect(result.exitCode).toBe(1);
    expectOneLineRefusal(result);
    expect(result.stderr).toMatch(/duplicate key openrouter on lines 2 and 3/);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(text);
    expect(managementRequests()).toEqual([]);
    expect(emulator.state.keys.size).toBe(0);
  });
});

describe(`8. hostile files: one line, exit 1, nothing created`, () => {
  const cases: [string, (file: string) => void, RegExp][] = [
    [`nested 10,000 levels deep`, file => fs.writeFileSync(file, `{"a":${`[`.repeat(10_000)}${`]`.repeat(10_000)}}`), /nested more than 100 levels/],
    [`a symlink to itself`, file => fs.symlinkSync(file, file), /symlink loop/],
    [`a directory`, file => fs.mkdirSync(file), /directory/],
    [`a FIFO (must not block)`, file => execFileSync(`mkfifo`, [file]), /named pipe/],
    [`over 10 MiB`, file => fs.writeFileSync(file, `{"pad": "${`x`.repeat(10 * 1024 * 1024)}"}`), /larger than 10 MiB/],
    // A dangling link out of HOME into a folder that is not there (a missing mount): never create folders out there.
    // (Inside HOME, a dotfiles folder not made yet is created: test/e2e/crash.test.ts.)
    [`a symlink out of HOME into a missing folder`, file => fs.symlinkSync(path.join(path.dirname(path.dirname(path.dirname(path.dirname(path.dirname(file))))), `mnt`, `missing`, `auth.json`), file), /symlink out of your home folder to .*mnt\/missing\/auth\.json, whose folder does not exist/],
  ];
  it.each(cases)(`auth.json %s`, async (_what, make, message) => {
    const {env, authFile, root} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    make(authFile);
    const before = fs.readdirSync(path.dirname(authFile));

    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, timeoutMs: 10_000});

    expect(result.exitCode).toBe(1);
    expectOneLineRefusal(result);
    expect(result.stderr).toMatch(message);
    expect(fs.readdirSync(path.dirname(authFile))).toEqual(before);
    expect(managementRequests()).toEqual([]);
    expect(fs.existsSync(path.join(root, `capit`, `state`, `ledger.json`))).toBe(false);
  });

  it(`a symlink to a missing file in an existing folder is followed: the file is created there, and restore removes it`, async () => {
    const {env, authFile, root} = setup();
    const dotfiles = path.join(root, `dotfiles`);
    fs.mkdirSync(dotfiles);
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.symlinkSync(path.join(dotfiles, `auth.json`), authFile);
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    expect(fs.lstatSync(authFile).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(path.join(dotfiles, `auth.json`))).toBe(true);
    expect((await runCli([`restore`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    expect(fs.existsSync(path.join(dotfiles, `auth.json`))).toBe(false);
    expect(fs.lstatSync(authFile).isSymbolicLink()).toBe(true);
  });
});

describe(`11. inputs`, () => {
  // Dates, amounts and globs on the command line: core/test/cli/bad-input.test.ts.

  it.each([
    [`an empty folder`, (root: string) => {
      fs.mkdirSync(path.join(root, `empty`));
      return path.join(root, `empty`);
    }, /not a capit plugin folder: it has no package\.json/],
    [`a folder without a capit manifest`, (root: string) => {
      fs.mkdirSync(path.join(root, `plain`));
      fs.writeFileSync(path.join(root, `plain`, `package.json`), `{"name":"capit-platform-plain","version":"1.0.0"}`);
      return path.join(root, `plain`);
    }, /not a capit plugin folder: .*no "capit" manifest/],
    [`a .tgz that is not a tarball`, (root: string) => {
      fs.writeFileSync(path.join(root, `bad.tgz`), `not a tarball`);
      return path.join(root, `bad.tgz`);
    }, /is not a package tarball/],
  ])(`plugin add of %s: exit 2, one line, nothing left behind`, async (_what, make, message) => {
    const {env, root} = setup();
    const source = make(root);
    const before = snapshotTree(env.CAPIT_HOME!);
    const result = await runCli([`plugin`, `add`, source], {env});
    expect(result.exitCode).toBe(2);
    expectOneLineRefusal(result);
    expect(result.stderr).toMatch(message);
    expect(snapshotTree(env.CAPIT_HOME!)).toEqual(before);
    expect(fs.existsSync(path.join(env.CAPIT_HOME!, `data`, `package.json`))).toBe(false);
  });
});
