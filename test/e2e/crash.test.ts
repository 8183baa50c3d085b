// Crash consistency of the install transaction (README "What capit guarantees"): capit is killed with SIGKILL at a
// named step (test-only hook CAPIT_TEST_CRASH_AT, core/src/issue/crash.ts) and the next run must settle what it left.
// A killed run leaves its lock behind; the next run waits until that lock is stale (10 s; 2 s here through the
// test-only CAPIT_LOCK_STALE_MS), hence the timeouts.
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
  const root = tempDir(`capit-crash-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, CAPIT_LOCK_STALE_MS: `2000`, ...extra});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  const stateDir = path.join(env.XDG_STATE_HOME!, `capit`);
  return {root, env, authFile, stateDir};
}

type Entry = {name: string; id?: string; status: string; restoredAt?: string; backupDir: string | null};
const ledger = (stateDir: string): Entry[] => {
  const file = path.join(stateDir, `ledger.json`);
  return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, `utf8`)) as {keys: Entry[]}).keys : [];
};
const liveKeys = () => [...emulator.state.keys.values()];
const crashAt = (env: Record<string, string>, step: string) => ({...env, CAPIT_TEST_CRASH_AT: step});
const capitTemps = (dir: string) => (fs.existsSync(dir) ? fs.readdirSync(dir).filter(n => /\.capit-\d+-[0-9a-f]+\.tmp$/.test(n)) : []);
const ORIGINAL = `{"anthropic": {"type": "api", "key": "sk-ant-fake-0000"}}\n`;

describe(`kill -9 during an install, then the next run`, () => {
  it(`after the agent file was written but before the ledger said so: the key is kept, the entry completed, restore works`, SLOW, async () => {
    const {env, authFile, stateDir} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);

    const killed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `before-active`), ...RUN});
    expect(killed.exitCode).toBeNull();
    const [first] = liveKeys();
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key).toBe(first!.key);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`pending`]);

    // The next command must not delete the key opencode now holds.
    const next = await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toContain(`every file holds the new key, so the install was completed`);
    expect(emulator.state.keys.has(first!.hash)).toBe(true);
    expect(emulator.state.keys.size).toBe(2);
    expect(ledger(stateDir).map(k => [k.name, k.status])).toEqual([[first!.name, `active`], [expect.any(String), `active`]]);

    // Restore walks back through both installs to the original bytes.
    const restore1 = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restore1.exitCode).toBe(0);
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key).toBe(first!.key);
    const restore2 = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restore2.exitCode).toBe(0);
    expect(restore2.stderr).toContain(`The key "${first!.name}" still exists`);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(ORIGINAL);
  });

  it(`a restore as the next command settles the interrupted install first`, SLOW, async () => {
    const {env, authFile, stateDir} = setup();
    const killed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `before-active`), ...RUN});
    expect(killed.exitCode).toBeNull();
    const [key] = liveKeys();

    const restored = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(0);
    expect(restored.stderr).toContain(`the install was completed`);
    expect(fs.existsSync(authFile)).toBe(false);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);
    expect(ledger(stateDir)).toEqual([expect.objectContaining({name: key!.name, status: `active`, restoredAt: expect.any(String)})]);
  });

  it(`hermes: killed between .env and config.yaml, the next run puts .env back and deletes the key — never .env new and config.yaml old`, SLOW, async () => {
    const {env, stateDir} = setup();
    const home = path.join(env.HOME!, `.hermes`);
    fs.mkdirSync(home, {recursive: true});
    const envText = `# mine\nOTHER=1\n`;
    const yamlText = `# my model\nmodel: anthropic/claude-sonnet-4\n`;
    fs.writeFileSync(path.join(home, `.env`), envText);
    fs.writeFileSync(path.join(home, `config.yaml`), yamlText);

    const killed = await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `after-write:env`), ...RUN});
    expect(killed.exitCode).toBeNull();
    const [key] = liveKeys();
    expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toContain(key!.key);
    expect(fs.readFileSync(path.join(home, `config.yaml`), `utf8`)).toBe(yamlText);

    const next = await runCli([`openrouter`, `2`, `--agent`, `hermes`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toContain(`${path.join(home, `.env`)} put back as it was`);
    expect(next.stderr).toContain(`No agent file held its key, so the key was deleted`);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    const [second] = liveKeys();
    // The second install is whole: both files new.
    expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toBe(`${envText}OPENROUTER_API_KEY=${second!.key}\n`);
    expect(fs.readFileSync(path.join(home, `config.yaml`), `utf8`)).toContain(`provider: openrouter`);
    expect(ledger(stateDir).map(k => [k.name, k.status])).toEqual([[second!.name, `active`]]);

    const restored = await runCli([`restore`, `hermes`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(0);
    expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toBe(envText);
    expect(fs.readFileSync(path.join(home, `config.yaml`), `utf8`)).toBe(yamlText);
  });

  it(`hermes: a read-only next command (keys list, doctor) also settles the half install and its temp files; the key waits for the next openrouter run`, SLOW, async () => {
    const {env, stateDir} = setup();
    const home = path.join(env.HOME!, `.hermes`);
    fs.mkdirSync(home, {recursive: true});
    const envText = `# mine\nOTHER=1\n`;
    const yamlText = `# my model\nmodel: anthropic/claude-sonnet-4\n`;
    fs.writeFileSync(path.join(home, `.env`), envText);
    fs.writeFileSync(path.join(home, `config.yaml`), yamlText);
    expect((await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `before-rename:config`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toContain(key!.key);
    expect(capitTemps(home)).toHaveLength(1);

    for (const args of [[`keys`, `list`, `--json`], [`doctor`, `hermes`, `--json`]]) {
      const next = await runCli(args, {env, ...RUN});
      expect(next.stdout + next.stderr).not.toContain(key!.key);
      // Old bytes in both files, no temp file left: never .env new and config.yaml old.
      expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toBe(envText);
      expect(fs.readFileSync(path.join(home, `config.yaml`), `utf8`)).toBe(yamlText);
      expect(capitTemps(home)).toEqual([]);
    }
    // No agent file holds the key; it stays recorded (pending) until a run with the openrouter master key deletes it.
    expect(ledger(stateDir).map(k => [k.name, k.status])).toEqual([[key!.name, `pending`]]);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);
    expect((await runCli([`openrouter`, `1`, `--yes`, `--json`], {env, ...RUN})).exitCode).toBe(0);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir).filter(k => k.name === key!.name)).toEqual([]);
  });

  it(`hermes: killed after both files were written, the next run completes the install`, SLOW, async () => {
    const {env, stateDir} = setup();
    const killed = await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `after-write:config`), ...RUN});
    expect(killed.exitCode).toBeNull();
    const [key] = liveKeys();
    const restored = await runCli([`restore`, `hermes`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(0);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`active`]);
    // capit created ~/.hermes: restore removes the files and the folder.
    expect(fs.existsSync(path.join(env.HOME!, `.hermes`))).toBe(false);
  });

  it(`a kill during recovery is recovered by the run after it`, {timeout: 90_000}, async () => {
    const {env, stateDir} = setup();
    const home = path.join(env.HOME!, `.hermes`);
    fs.mkdirSync(home, {recursive: true});
    fs.writeFileSync(path.join(home, `.env`), `OTHER=1\n`);
    expect((await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `after-write:env`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    // The recovering run dies after putting .env back, before deleting the key.
    expect((await runCli([`openrouter`, `2`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `recovery-after-settle`), ...RUN})).exitCode).toBeNull();
    expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toBe(`OTHER=1\n`);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);

    const third = await runCli([`openrouter`, `2`, `--agent`, `hermes`, `--yes`], {env, ...RUN});
    expect(third.exitCode).toBe(0);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`active`]);
  });

  it(`a file someone else changed after the kill: only capit's edits are reverted (their change stays), then the key is deleted`, SLOW, async () => {
    const {env, stateDir} = setup();
    const home = path.join(env.HOME!, `.hermes`);
    fs.mkdirSync(home, {recursive: true});
    fs.writeFileSync(path.join(home, `.env`), `OPENROUTER_API_KEY=sk-or-v1-fake-original\n`);
    const yamlText = `model:\n  provider: anthropic\n`;
    fs.writeFileSync(path.join(home, `config.yaml`), yamlText);
    expect((await runCli([`openrouter`, `5`, `--agent`, `hermes`, `--yes`], {env: crashAt(env, `after-write:env`), ...RUN})).exitCode).toBeNull();
    const [key] = liveKeys();
    fs.appendFileSync(path.join(home, `.env`), `EXTRA=1\n`);

    const next = await runCli([`restore`, `hermes`, `--yes`], {env, ...RUN});
    // The restore got what it was asked for (recovery undid the install): not a failure.
    expect(next.exitCode).toBe(0);
    expect(next.stdout).toBe(`The interrupted install of hermes was undone just now (see the note above): its files are as they were before it, and no other capit change waits to be restored.\n`);
    expect(next.stderr).toContain(`only capit's own edits reverted in ${path.join(home, `.env`)}`);
    expect(next.stderr).not.toContain(`capit has not changed`);
    expect(next.stderr).not.toContain(`restored already`);
    expect(fs.readFileSync(path.join(home, `.env`), `utf8`)).toBe(`OPENROUTER_API_KEY=sk-or-v1-fake-original\nEXTRA=1\n`);
    expect(fs.readFileSync(path.join(home, `config.yaml`), `utf8`)).toBe(yamlText);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir)).toEqual([]);
  });

  it(`a temp file holding the new key does not survive the next run`, SLOW, async () => {
    const {env, authFile, stateDir} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);
    const killed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `before-rename:auth`), ...RUN});
    expect(killed.exitCode).toBeNull();
    const [key] = liveKeys();
    const temps = capitTemps(path.dirname(authFile));
    expect(temps).toHaveLength(1);
    const temp = path.join(path.dirname(authFile), temps[0]!);
    expect(fs.readFileSync(temp, `utf8`)).toContain(key!.key);
    expect(fs.statSync(temp).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(ORIGINAL);

    const next = await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(capitTemps(path.dirname(authFile))).toEqual([]);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`active`]);
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env, ...RUN});
    expect(restored.exitCode).toBe(0);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(ORIGINAL);
    expect(fs.readdirSync(path.dirname(authFile))).toEqual([`auth.json`]);
  });

  it(`killed right after the provider made the key (id never recorded): found by name and deleted`, SLOW, async () => {
    const {env, authFile, stateDir} = setup();
    const killed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env: crashAt(env, `after-create`), ...RUN});
    expect(killed.exitCode).toBeNull();
    const [key] = liveKeys();
    expect(ledger(stateDir)).toEqual([expect.objectContaining({name: key!.name, status: `pending`})]);
    expect(ledger(stateDir)[0]!.id).toBeUndefined();

    const next = await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toContain(`capit found the key "${key!.name}" by name`);
    expect(emulator.state.keys.has(key!.hash)).toBe(false);
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key).toBe(liveKeys()[0]!.key);
  });
});

describe(`ambiguous creates keep their pending entry until a lookup by name settles them`, () => {
  it(`a create cut off by capit's timeout says a key may exist; the next run finds it and deletes it`, SLOW, async () => {
    const {env, authFile, stateDir} = setup({CAPIT_PLUGIN_TIMEOUT_MS: `400`});
    emulator.knobs.latencyMs = 1500;
    const run = runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, ...RUN});
    // Only the create is slow (the latency is taken when a request arrives): the lookup after the cut-off is answered.
    for (let i = 0; i < 200 && !emulator.state.requests.some(r => r.method === `POST`); i++) await new Promise(r => setTimeout(r, 20));
    emulator.knobs.latencyMs = 0;
    const result = await run;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^capit: no answer within 0\.4 s while creating the key, so capit stopped waiting.*A key "opencode-[0-9a-f]{8}" may still be created by the request capit gave up on; capit kept a record/);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`pending`]);
    expect(fs.existsSync(authFile)).toBe(false);

    // The provider finishes the abandoned request.
    for (let i = 0; i < 100 && emulator.state.keys.size === 0; i++) await new Promise(r => setTimeout(r, 50));
    const [orphan] = liveKeys();
    expect(orphan!.name).toBe(ledger(stateDir)[0]!.name);
    const next = await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env: {...env, CAPIT_PLUGIN_TIMEOUT_MS: `30000`}, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(next.stderr).toContain(`capit found the key "${orphan!.name}" by name`);
    expect(emulator.state.keys.has(orphan!.hash)).toBe(false);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`active`]);
  });

  it(`a 2xx with an unexpected body is ambiguous: looked up by name, not installed`, async () => {
    const {env, authFile, stateDir} = setup();
    emulator.knobs.failNext(1, {status: 201, body: {unexpected: true}, method: `POST`, path: `/api/v1/keys`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/The provider may have created the key: capit looked it up by name: no key "opencode-[0-9a-f]{8}" exists/);
    expect(emulator.state.requests.filter(r => r.method === `GET` && r.path.startsWith(`/api/v1/keys`))).not.toHaveLength(0);
    expect(ledger(stateDir)).toEqual([]);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`when the lookup fails too, the pending entry stays for the next run`, SLOW, async () => {
    const {env, stateDir} = setup();
    emulator.knobs.dropNext(1, {afterHandling: true, method: `POST`, path: `/api/v1/keys`});
    emulator.knobs.failNext(10, {status: 503, method: `GET`, path: `/api/v1/keys`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env, ...RUN});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/connection dropped.*A key "opencode-[0-9a-f]{8}" may exist at the provider: looking it up failed .*will look again on its next run/);
    const [orphan] = liveKeys();
    expect(ledger(stateDir)).toEqual([expect.objectContaining({name: orphan!.name, status: `pending`})]);

    emulator.knobs.reset();
    const next = await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env, ...RUN});
    expect(next.exitCode).toBe(0);
    expect(emulator.state.keys.has(orphan!.hash)).toBe(false);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`active`]);
  });

  it(`a provider refusal proves nothing was created: no lookup, no pending entry`, async () => {
    const {env, stateDir} = setup();
    emulator.knobs.failNext(1, {status: 400, method: `POST`, path: `/api/v1/keys`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).not.toMatch(/may have created/);
    expect(emulator.state.requests.filter(r => r.method === `GET`)).toEqual([]);
    expect(ledger(stateDir)).toEqual([]);
  });
});

describe(`directories and destructive calls`, () => {
  it(`an install through a dangling symlink into a missing folder creates it; restore removes file and folder`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const store = path.join(env.HOME!, `dotfiles`);
    fs.mkdirSync(store);
    fs.symlinkSync(path.join(store, `opencode`, `nested`, `auth.json`), authFile);

    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(0);
    expect(fs.lstatSync(authFile).isSymbolicLink()).toBe(true);
    expect(fs.existsSync(path.join(store, `opencode`, `nested`, `auth.json`))).toBe(true);

    const restored = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(restored.exitCode).toBe(0);
    expect(fs.readdirSync(store)).toEqual([]);
    expect(fs.lstatSync(authFile).isSymbolicLink()).toBe(true);
  });

  it(`restore keeps a created folder the user has put something in since`, async () => {
    const {env, authFile} = setup();
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(0);
    fs.writeFileSync(path.join(path.dirname(authFile), `mine.json`), `{}`);
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(restored.exitCode).toBe(0);
    expect(fs.readdirSync(path.dirname(authFile))).toEqual([`mine.json`]);
  });

  it(`keys delete marks the ledger only when the provider confirmed the delete`, async () => {
    const {env, stateDir} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const [key] = liveKeys();
    emulator.knobs.failNext(10, {status: 500, method: `DELETE`});
    const failed = await runCli([`keys`, `delete`, key!.name, `--yes`], {env});
    expect(failed.exitCode).toBe(1);
    expect(emulator.state.keys.has(key!.hash)).toBe(true);
    expect(ledger(stateDir).map(k => k.status)).toEqual([`active`]);
  });
});
