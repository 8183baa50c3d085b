// Progress on a terminal (issue 9): a spinner on stderr while slow network work runs (listing, bulk actions), only in
// a real terminal, never in --json output nor through a pipe. The emulator's latency makes each request slow.
import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import path    from 'node:path';

import {describe, expect, it} from 'vitest';

import {CLI, runCli}          from '../support/cli.js';
import {emulatorPerFile}      from '../support/emulator.js';
import {haveScript}           from '../support/terminal.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});
// Well above the 300 ms before a spinner appears, for every request.
const SLOW_MS = 700;
// Braille spinner frames and the cursor hide/show yocto-spinner writes.
const SPINNER_BYTES = /[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|\x1b\[\?25[lh]/;

if (!haveScript) console.warn(`progress.test.ts: util-linux "script" is missing, so the terminal tests are skipped`);

function setup() {
  const root = tempDir(`capit-progress-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
  const ledgerFile = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
  const keys = emulator.seedKeys(3, {prefix: `capit`});
  fs.mkdirSync(path.dirname(ledgerFile), {recursive: true});
  fs.writeFileSync(ledgerFile, JSON.stringify({version: 1, keys: keys.map(r => ({
    id: r.hash, name: r.name, platform: `openrouter`, agent: null, capUsd: r.limit, reset: r.limit_reset, expiresAt: null,
    createdAt: r.created_at, status: `active`, files: [], backupDir: null,
  }))}));
  return {env, keys};
}

/** Runs the CLI in a pseudo-terminal that can redraw (TERM=xterm) and returns every byte it showed, escapes kept. */
function runInColorTerminal(args: string[], env: Record<string, string>): Promise<{exitCode: number | null; raw: string}> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, CLI, ...args].map(a => `'${a.replaceAll(`'`, `'\\''`)}'`).join(` `);
    const child = spawn(`script`, [`-qfec`, command, `/dev/null`], {env: {...env, TERM: `xterm-256color`}, stdio: [`pipe`, `pipe`, `pipe`]});
    let raw = ``;
    const timer = setTimeout(() => child.kill(`SIGKILL`), 30_000);
    child.stdout.on(`data`, chunk => (raw += String(chunk)));
    child.on(`error`, reject);
    child.on(`close`, exitCode => {
      clearTimeout(timer);
      resolve({exitCode, raw});
    });
    child.stdin.end();
  });
}

describe.skipIf(!haveScript)(`progress on a terminal`, () => {
  it(`keys list shows a spinner while the provider is slow, then clears it before the table`, async () => {
    const {env, keys} = setup();
    emulator.knobs.latencyMs = SLOW_MS;
    const {exitCode, raw} = await runInColorTerminal([`keys`, `list`], env);
    expect(exitCode, raw).toBe(0);
    expect(raw).toContain(`Listing keys…`);
    expect(raw).toMatch(SPINNER_BYTES);
    // The table comes after the spinner was taken away (cursor shown again), and names every key.
    const table = raw.slice(raw.lastIndexOf(`\x1b[?25h`));
    expect(table).toMatch(/NAME +PLATFORM/);
    for (const key of keys) expect(table).toContain(key.name);
    expect(table).not.toContain(`Listing keys`);
  });

  it(`keys delete shows a counter while it works`, async () => {
    const {env} = setup();
    emulator.knobs.latencyMs = SLOW_MS;
    const {exitCode, raw} = await runInColorTerminal([`keys`, `delete`, `capit-*`, `--yes`], env);
    expect(exitCode, raw).toBe(0);
    expect(raw).toMatch(/Deleting keys… [0-3]\/3/);
    expect(raw).toContain(`Deleted 3 keys.`);
    expect(emulator.state.keys.size).toBe(0);
  });

  it(`--json on a terminal has no spinner bytes: the output is the JSON alone`, async () => {
    const {env} = setup();
    emulator.knobs.latencyMs = SLOW_MS;
    const {exitCode, raw} = await runInColorTerminal([`keys`, `list`, `--json`], env);
    expect(exitCode, raw).toBe(0);
    expect(raw).not.toMatch(SPINNER_BYTES);
    expect(raw).not.toContain(`Listing keys`);
    expect((JSON.parse(raw) as {keys: unknown[]}).keys).toHaveLength(3);
  });

  it(`without a terminal (a pipe) there is no spinner`, async () => {
    const {env} = setup();
    emulator.knobs.latencyMs = SLOW_MS;
    const result = await runCli([`keys`, `list`], {env, timeoutMs: 30_000});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toBe(``);
    expect(result.stdout).not.toMatch(SPINNER_BYTES);
  });
});
