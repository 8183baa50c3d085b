// The prompts a person sees on a terminal: confirmation with the diff, the hidden master-key prompt, declining.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile}             from '../support/emulator.js';
import {haveScript, runInTerminal}   from '../support/terminal.js';
import {sandboxEnv, tempDir}         from '../support/tmp.js';

const emulator = emulatorPerFile({port: 0});
const MASTER = `sk-or-v1-mgmt-fake-0000`;

function setup() {
  const env = sandboxEnv(tempDir(`capit-tty-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl});
  return {env, authFile: path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`)};
}

describe.skipIf(!haveScript)(`on a terminal`, () => {
  it(`shows the diff, asks, then asks for the master key without echoing it and without storing it`, async () => {
    const {env, authFile} = setup();
    const run = await runInTerminal([`openrouter`, `5`, `--agent`, `opencode`], env, [
      [/Configure opencode with a new \$5\.00 lifetime cap OpenRouter key\? \(y\/N\)/, `y`],
      [/OpenRouter master key/, MASTER],
    ]);
    expect(run.screen).toContain(`"key": "<new openrouter key>"`);
    expect(run.screen).toContain(`$5.00 openrouter key installed into opencode`);
    expect(run.screen).toContain(`used for this run only and not stored`);
    expect(run.screen).not.toContain(MASTER);
    expect(run.exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key).toBe(key!.key);
    expect(fs.existsSync(path.join(env.CAPIT_HOME!, `config`, `credentials.json`))).toBe(false);
  });

  it(`declining creates and changes nothing`, async () => {
    const {env, authFile} = setup();
    const run = await runInTerminal([`openrouter`, `5`, `--agent`, `opencode`], {...env, OPENROUTER_MANAGEMENT_KEY: MASTER}, [
      [/\(y\/N\)/, `n`],
    ]);
    expect(run.screen).toContain(`Cancelled; nothing was created or changed.`);
    expect(run.exitCode).toBe(1);
    expect(emulator.state.requests.filter(r => !r.path.startsWith(`/__`))).toEqual([]);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`restore asks before putting the old configuration back`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, `{"anthropic": {"type": "api", "key": "sk-ant-fake-0000"}}\n`);
    const withKey = {...env, OPENROUTER_MANAGEMENT_KEY: MASTER};
    expect((await runInTerminal([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], withKey)).exitCode).toBe(0);
    const run = await runInTerminal([`restore`, `opencode`], withKey, [[/Put opencode's configuration back/, `y`]]);
    expect(run.exitCode).toBe(0);
    expect(run.screen).toContain(`Restored opencode configuration from`);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(`{"anthropic": {"type": "api", "key": "sk-ant-fake-0000"}}\n`);
  });
});
