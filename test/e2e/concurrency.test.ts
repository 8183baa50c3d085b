// Concurrent capit runs queue on the state lock instead of failing, and each plans against the files as they are
// once it holds the lock.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}          from '../support/cli.js';
import {emulatorPerFile} from '../support/emulator.js';
import {haveScript, runInTerminal} from '../support/terminal.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-conc-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  const stateDir = path.join(env.XDG_STATE_HOME!, `capit`);
  return {env, authFile, stateDir};
}

const ORIGINAL = `{\n\t"anthropic": {"type": "api", "key": "sk-ant-fake-0000"}\n}\n`;

describe(`concurrent runs queue`, () => {
  it(`ten concurrent installs into one agent all succeed with their own key; ten restores walk back to the original bytes`, {timeout: 240_000}, async () => {
    const {env, authFile, stateDir} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);

    const installs = await Promise.all(Array.from({length: 10}, () =>
      runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env, timeoutMs: 180_000})));
    for (const run of installs) {
      // A queued run may say it is waiting (more so on a busy machine); never that it failed or gave up.
      expect(run.stderr).not.toMatch(/error|gave up|interrupted/i);
      expect(run.exitCode).toBe(0);
    }
    const keys = [...emulator.state.keys.values()];
    expect(keys).toHaveLength(10);
    expect(new Set(keys.map(k => k.name)).size).toBe(10);
    const ledger = (JSON.parse(fs.readFileSync(path.join(stateDir, `ledger.json`), `utf8`)) as {keys: {name: string; status: string}[]}).keys;
    expect(ledger.map(k => k.status)).toEqual(Array(10).fill(`active`));
    expect(new Set(ledger.map(k => k.name))).toEqual(new Set(keys.map(k => k.name)));
    // The file holds one of the new keys and still the user's other provider, as the user formatted it.
    const now = fs.readFileSync(authFile, `utf8`);
    expect(keys.map(k => k.key)).toContain(/"key": "([^"]+)"\s*}\s*}\s*$/.exec(now)?.[1]);
    expect(now).toContain(`\t"anthropic": {"type": "api", "key": "sk-ant-fake-0000"}`);

    const restores = await Promise.all(Array.from({length: 10}, () => runCli([`restore`, `opencode`, `--yes`], {env, timeoutMs: 180_000})));
    for (const run of restores) expect(run.exitCode).toBe(0);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(ORIGINAL);
    const again = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(again.exitCode).toBe(2);
    expect(again.stderr).toMatch(/no capit backup of opencode to restore/);
  });

  it(`a run that waits says so, and gives up with a clear error when the bound passes, creating nothing`, async () => {
    const {env, authFile, stateDir} = setup({CAPIT_LOCK_WAIT_MS: `2500`});
    // Another run holds the lock (fresh, so not taken over as stale).
    fs.mkdirSync(path.join(stateDir, `capit.lock`), {recursive: true});
    const result = await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.stderr).toMatch(/^waiting for another capit run to finish/m);
    expect(result.stderr).toMatch(/Another capit run kept its lock for 2\.\d s; gave up waiting/);
    expect(result.exitCode).toBe(1);
    expect(emulator.state.keys.size).toBe(0);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it.skipIf(!haveScript)(`a preview the user confirmed is refused when the file changed before capit held the lock`, {timeout: 30_000}, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);
    const edited = `{"other": {"type": "api", "key": "user-edit"}}\n`;
    // Another program rewrites auth.json while the user reads the preview, before answering.
    const changeThenConfirm = {test: (screen: string) => {
      if (!/Configure opencode with a new/.test(screen)) return false;
      fs.writeFileSync(authFile, edited);
      return true;
    }} as RegExp;
    const run = await runInTerminal([`openrouter`, `5`, `--agent`, `opencode`], env, [[changeThenConfirm, `y`]]);
    expect(run.screen).toMatch(/auth\.json changed after the preview was shown; nothing was created or changed/);
    expect(run.exitCode).toBe(1);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(edited);
    expect(emulator.state.keys.size).toBe(0);
  });

  it(`a --yes run plans against the file as it is once it holds the lock`, async () => {
    const {env, authFile, stateDir} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, ORIGINAL);
    // Hold the lock while the run plans, change the file, then let it go.
    const lock = path.join(stateDir, `capit.lock`);
    fs.mkdirSync(lock, {recursive: true});
    const run = runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env, timeoutMs: 30_000});
    await new Promise(r => setTimeout(r, 1500));
    const edited = `{"other": {"type": "api", "key": "user-edit"}}\n`;
    fs.writeFileSync(authFile, edited);
    fs.rmdirSync(lock);
    const result = await run;
    expect(result.exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({other: {type: `api`, key: `user-edit`}, openrouter: {type: `api`, key: key!.key}});
    expect((await runCli([`restore`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(edited);
  });
});
