// A key shown once (no agent) is only handed over when stdout took it: a broken, full or discarded stdout must not end
// in "success" with a live key nobody received.
import {spawn} from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {CLI}                 from '../support/cli.js';
import {emulatorPerFile}     from '../support/emulator.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const emulator = emulatorPerFile({port: 0});

function setup() {
  const env = sandboxEnv(tempDir(`capit-print-once-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-mgmt-fake-0000`});
  const ledger = () => {
    const file = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, `utf8`)) as {keys: {name: string; status: string}[]}).keys : [];
  };
  return {env, ledger};
}

/** Runs capit (the emulator lives in this process, so never spawnSync) with the given stdout. */
function run(command: string, args: string[], env: Record<string, string>, stdout: `pipe` | `ignore` | number): Promise<{status: number | null; stderr: string}> {
  const child = spawn(command, args, {env, cwd: env.HOME, stdio: [`ignore`, stdout, `pipe`]});
  if (stdout === `pipe`) child.stdout!.destroy();
  let stderr = ``;
  child.stderr!.on(`data`, chunk => (stderr += chunk));
  return new Promise(resolve => child.on(`close`, status => resolve({status, stderr})));
}

const creates = () => emulator.state.requests.filter(r => r.method === `POST` && r.path === `/api/v1/keys`).length;

describe(`a key printed once`, () => {
  it(`into a full disk (ENOSPC): the key is deleted, one line on stderr, exit 1`, async () => {
    const {env, ledger} = setup();
    const full = fs.openSync(`/dev/full`, `w`);
    try {
      const result = await run(process.execPath, [CLI, `openrouter`, `5`, `--yes`], env, full);
      expect(result.status).toBe(1);
      const lines = result.stderr.trim().split(`\n`);
      expect(lines.at(-1)).toMatch(/^capit: could not print the new key \(ENOSPC\); nobody received it, so the key "capit-[0-9a-f]{8}" was deleted at the provider/);
      expect(result.stderr).not.toMatch(/at .*\.js:\d+|internal error/);
    } finally {
      fs.closeSync(full);
    }
    expect(emulator.state.keys.size).toBe(0);
    expect(ledger().map(k => k.status)).toEqual([`deleted`]);
  });

  it(`into a pipe whose reader is gone (EPIPE), with --json: the key is deleted, exit 1`, async () => {
    const {env, ledger} = setup();
    const {status, stderr} = await run(process.execPath, [CLI, `openrouter`, `5`, `--yes`, `--json`], env, `pipe`);
    expect(stderr).toMatch(/^capit: could not print the new key \(EPIPE\); nobody received it, so the key "capit-[0-9a-f]{8}" was deleted at the provider[^\n]*\n$/);
    expect(status).toBe(1);
    expect(emulator.state.keys.size).toBe(0);
    expect(ledger().map(k => k.status)).toEqual([`deleted`]);
  });

  it(`into /dev/null or a closed stdout: refused before any key is created, exit 2`, async () => {
    const {env, ledger} = setup();
    const before = creates();
    for (const redirect of [`>/dev/null`, `>&-`]) {
      const result = await run(`bash`, [`-c`, `"${process.execPath}" "${CLI}" openrouter 5 --yes ${redirect}`], env, `ignore`);
      expect(result.stderr, redirect).toBe(`capit: stdout is /dev/null or closed: the new key is printed once and would be lost; redirect stdout to a file or pass --agent <id> (nothing was created)\n`);
      expect(result.status).toBe(2);
    }
    expect(creates()).toBe(before);
    expect(ledger()).toEqual([]);
  });

  it(`into a file: printed, kept, exit 0`, async () => {
    const {env, ledger} = setup();
    const out = path.join(env.HOME!, `key.txt`);
    const result = await run(`bash`, [`-c`, `"${process.execPath}" "${CLI}" openrouter 5 --yes >"${out}"`], env, `ignore`);
    expect(result.status, result.stderr).toBe(0);
    expect(fs.readFileSync(out, `utf8`)).toMatch(/^sk-or-v1-\S+\n$/);
    expect(emulator.state.keys.size).toBe(1);
    expect(ledger().map(k => k.status)).toEqual([`active`]);
  });
});
