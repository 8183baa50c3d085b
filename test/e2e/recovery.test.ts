// Recovery, restore and the lock after a killed run (QA findings on issues 9/10): a half install a user touched since
// is undone as one unit with only capit's own edits reverted, restore can finish an install recovery could not decide,
// a pending key is never shown as an agent's, restore reads the ledger before saying a key exists, a damaged backup is
// refused in one line, the ledger's temp files are swept, and a dead lock holder is taken over at once.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}          from '../support/cli.js';
import {emulatorPerFile} from '../support/emulator.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});
const SLOW = {timeout: 60_000};
const RUN = {timeoutMs: 45_000};

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-recovery-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  const stateDir = path.join(env.XDG_STATE_HOME!, `capit`);
  const hermes = path.join(env.HOME!, `.hermes`);
  return {root, env, authFile, stateDir, hermes};
}

type Entry = {name: string; id?: string; status: string; agent: string | null; restoredAt?: string; backupDir: string | null; pendingNote?: string};
const ledger = (stateDir: string): Entry[] => {
  const file = path.join(stateDir, `ledger.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, `utf8`)) as {keys: Entry[]}).keys : [];
};
const liveKeys = () => [...emulator.state.keys.values()];
const crashAt = (env: Record<string, string>, step: string) => ({...env, CAPIT_TEST_CRASH_AT: step});
const withoutMaster = (env: Record<string, string>) => {
  const copy = {...env};
  delete copy.OPENROUTER_MANAGEMENT_KEY;
  return copy;
};
const ORIGINAL = `{"openrouter": {"type": "api", "key": "sk-or-v1-fake-original"}}\n`;

describe(`a killed install a user (or the agent) touched since`, () => {
  it(`every file still holds capit's edits: completed once, no repeated warning; restore later reverts only capit's edits`, SLOW, async () => {
    const {env, authFile, stateDir} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `before-active`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    // opencode itself adds a provider after the kill.
    const withTheirs = JSON.parse(fs.readFileSync(authFile, `utf8`)) as Record<string, unknown>;
    withTheirs.anthropic = {type: `oauth`, refresh: `fake-refresh`};
    fs.writeFileSync(authFile, JSON.stringify(withTheirs, null, 2));

    const next = await runCli([`keys`, `list`], {env, ...RUN});
    expect(next.stderr).toContain(`so the install was completed`);
    expect(next.stderr).toContain(`${authFile} changed since, and still holds capit's edits`);
    expect(ledger(stateDir).map(k => [k.name, k.status])).toEqual([[key!.name, `active`]]);
    const again = await runCli([`keys`, `list`], {env, ...RUN});
    expect(again.stderr).not.toContain(`interrupted`);

    const restored = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(0);
    expect(restored.stdout).toContain(`reverted-edits`);
    const after = JSON.parse(fs.readFileSync(authFile, `utf8`)) as Record<string, {key?: string}>;
    expect(after.openrouter!.key).toBe(`sk-or-v1-fake-original`);
    expect(after.anthropic).toEqual({type: `oauth`, refresh: `fake-refresh`});
  });

  it(`a file capit had not written yet, changed since in other places: left as it is, the written one put back, the key deleted`, SLOW, async () => {
    const {env, stateDir, hermes} = setup();
    fs.mkdirSync(hermes, {recursive: true});
    const envText = `OTHER=1\n`;
    fs.writeFileSync(path.join(hermes, `.env`), envText);
    fs.writeFileSync(path.join(hermes, `config.yaml`), `model:\n  provider: anthropic\n`);
    expect((await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `after-write:env`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    const theirs = `# edited by the user\nmodel:\n  provider: anthropic\n`;
    fs.writeFileSync(path.join(hermes, `config.yaml`), theirs);

    const next = await runCli([`restore`, `hermes`, `--yes`], {env, ...RUN});
    expect(next.stderr).toContain(`${path.join(hermes, `.env`)} put back as it was`);
    expect(next.stderr).toContain(`No agent file held its key, so the key was deleted`);
    expect(fs.readFileSync(path.join(hermes, `.env`), `utf8`)).toBe(envText);
    expect(fs.readFileSync(path.join(hermes, `config.yaml`), `utf8`)).toBe(theirs);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir)).toEqual([]);
  });

  it(`a file whose capit-edited value was changed since cannot be decided: the warning names \`capit restore\`, which finishes the job (with --force)`, SLOW, async () => {
    const {env, stateDir, hermes} = setup();
    fs.mkdirSync(hermes, {recursive: true});
    fs.writeFileSync(path.join(hermes, `.env`), `OPENROUTER_API_KEY=sk-or-v1-fake-original\n`);
    const yamlText = `model:\n  provider: anthropic\n`;
    fs.writeFileSync(path.join(hermes, `config.yaml`), yamlText);
    expect((await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `after-write:env`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    // The user puts a key of their own where capit wrote its key.
    fs.writeFileSync(path.join(hermes, `.env`), `OPENROUTER_API_KEY=sk-or-v1-fake-users-own\nX=user\n`);

    const next = await runCli([`doctor`], {env, ...RUN});
    expect(next.stderr).toContain(`capit cannot tell whether it still holds capit's edits`);
    expect(next.stderr).toContain(`\`capit restore hermes\` undoes that install`);
    expect(next.stderr).not.toContain(`keys delete`);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`pending`]);

    const refused = await runCli([`restore`, `hermes`, `--yes`], {env, ...RUN});
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`Cannot restore hermes`);
    expect(refused.stderr).not.toContain(`restored already`);
    expect(fs.readFileSync(path.join(hermes, `.env`), `utf8`)).toBe(`OPENROUTER_API_KEY=sk-or-v1-fake-users-own\nX=user\n`);

    const forced = await runCli([`restore`, `hermes`, `--yes`, `--force`], {env, ...RUN});
    expect(forced.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(hermes, `.env`), `utf8`)).toBe(`OPENROUTER_API_KEY=sk-or-v1-fake-original\n`);
    expect(fs.readFileSync(path.join(hermes, `config.yaml`), `utf8`)).toBe(yamlText);
    expect(forced.stderr).toContain(`No agent file held its key, so the key was deleted`);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir)).toEqual([]);
  });
});

describe(`a pending key (create reached the provider, no file written)`, () => {
  it(`keys list shows it pending with no agent; restore deletes it with the master key at hand`, SLOW, async () => {
    const {env, stateDir} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `after-backup-dir`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    expect(ledger(stateDir)).toEqual([expect.objectContaining({name: key!.name, status: `pending`})]);

    const listed = await runCli([`keys`, `list`, `--json`], {env, ...RUN});
    expect(listed.exitCode).toBe(0);
    const keys = (JSON.parse(listed.stdout) as {keys: {name: string; agent: string | null; status: string}[]}).keys;
    expect(keys).toEqual([expect.objectContaining({name: key!.name, agent: null, status: `pending`})]);
    const table = await runCli([`keys`, `list`], {env, ...RUN});
    expect(table.stdout).toContain(`pending (interrupted run)`);

    const disabled = await runCli([`keys`, `disable`, key!.name, `--yes`], {env, ...RUN});
    expect(disabled.stderr).not.toContain(`now holds`);
    await runCli([`keys`, `enable`, key!.name, `--yes`], {env, ...RUN});

    const restored = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restored.stderr).toContain(`No agent file held its key, so the key was deleted`);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir)).toEqual([]);
  });

  it(`without the platform's master key, restore says which key may still exist and what deletes it`, SLOW, async () => {
    const {env, stateDir} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `after-backup-dir`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env: withoutMaster(env), ...RUN});
    expect(restored.stderr).toContain(`"${key!.name}" (opencode); no agent file holds it, but its key may still exist at openrouter; the next capit run that has the openrouter master key deletes it`);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`pending`]);
  });
});

describe(`restore reads what it says from the ledger and the backup`, () => {
  it(`a key deleted with keys delete is not said to "still exist"`, SLOW, async () => {
    const {env} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, ...RUN})).exitCode).toBe(0);
    const [key] = liveKeys();
    expect((await runCli([`keys`, `delete`, key!.name, `--yes`], {env, ...RUN})).exitCode).toBe(0);
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(0);
    expect(restored.stderr).not.toContain(`still exists`);
    expect(restored.stderr).toContain(`The key "${key!.name}" that install had created is already deleted`);
  });

  it.each([
    [`{`, `not valid JSON`],
    [`{"version":1,"files":null}`, `has no list of files`],
    [`{}`, `unknown manifest version`],
  ])(`a damaged manifest (%s) is a one-line refusal, nothing written`, SLOW, async (text, why) => {
    const {env, authFile, stateDir} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, ...RUN})).exitCode).toBe(0);
    const [dir] = fs.readdirSync(path.join(stateDir, `backups`, `opencode`));
    fs.writeFileSync(path.join(stateDir, `backups`, `opencode`, dir!, `manifest.json`), text);
    const installed = fs.readFileSync(authFile, `utf8`);
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(1);
    expect(restored.stderr).toContain(`is damaged (`);
    expect(restored.stderr).toContain(why);
    expect(restored.stderr).not.toMatch(/internal error|capit has not changed|\n\s+at /);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(installed);
  });

  it(`a manifest naming a path its install did not write is refused; nothing is created there`, SLOW, async () => {
    const {env, root, stateDir} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, ...RUN})).exitCode).toBe(0);
    const [dir] = fs.readdirSync(path.join(stateDir, `backups`, `opencode`));
    const manifestFile = path.join(stateDir, `backups`, `opencode`, dir!, `manifest.json`);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, `utf8`)) as {files: {path: string; tempPath?: string}[]};
    const elsewhere = path.join(root, `not-an-agent-file`);
    manifest.files[0]!.path = elsewhere;
    delete manifest.files[0]!.tempPath;
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const restored = await runCli([`restore`, `opencode`, `--yes`, `--force`], {env, ...RUN});
    expect(restored.exitCode).toBe(1);
    expect(restored.stderr).toContain(`which its install did not write`);
    expect(fs.existsSync(elsewhere)).toBe(false);
  });
});

describe(`debris and the lock after kill -9`, () => {
  it(`the ledger's temp files of a dead run are swept by the next install`, SLOW, async () => {
    const {env, stateDir} = setup();
    fs.mkdirSync(stateDir, {recursive: true});
    // 4194305 is above Linux's highest pid: that process cannot be running.
    const stale = path.join(stateDir, `.ledger.json.capit-4194305-0123456789ab.tmp`);
    fs.writeFileSync(stale, `{"version":1,"keys":[]}`);
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, ...RUN})).exitCode).toBe(0);
    expect(fs.existsSync(stale)).toBe(false);
  });

  it(`the next run takes over a killed holder's lock at once (no "waiting…"), with the 10 s stale timeout untouched`, SLOW, async () => {
    const {env, stateDir} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `before-active`), ...RUN})).exitCode).toBeNull();
    expect(fs.existsSync(path.join(stateDir, `capit.lock`))).toBe(true);
    expect(fs.existsSync(path.join(stateDir, `capit.lock.owner`))).toBe(true);
    const next = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(next.stderr).not.toContain(`waiting for another capit run`);
    expect(fs.existsSync(path.join(stateDir, `capit.lock`))).toBe(false);
    expect(fs.existsSync(path.join(stateDir, `capit.lock.owner`))).toBe(false);
  });

  it(`a lock whose recorded owner is alive is not taken over`, SLOW, async () => {
    const {env, stateDir} = setup({CAPIT_LOCK_WAIT_MS: `1500`});
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `before-active`), ...RUN})).exitCode).toBeNull();
    const ownerFile = path.join(stateDir, `capit.lock.owner`);
    // This test process is alive: the lock must be treated as held.
    const owner = JSON.parse(fs.readFileSync(ownerFile, `utf8`)) as {pid: number};
    fs.writeFileSync(ownerFile, JSON.stringify({...owner, pid: process.pid}));
    const next = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(1);
    expect(next.stderr).toContain(`waiting for another capit run`);
    expect(next.stderr).toContain(`gave up waiting`);
  });
});
