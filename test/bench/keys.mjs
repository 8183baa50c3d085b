// node test/bench/keys.mjs (after npm run build): key administration at scale against the in-process emulator.
//   (`capit keys list --json` over 10,000 keys is measured by run.mjs, against its paging floor.)
//   1. `capit keys delete 'capit-*' --yes` over 1,000 keys with 20 ms emulator latency: default concurrency vs one at a
//      time (CAPIT_DELETE_CONCURRENCY=1), target ≥ 6× faster.
//   2. The same delete while the emulator answers every 10th call with 429: zero failures.
import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import os      from 'node:os';
import path    from 'node:path';

import {startEmulator} from '../emulator/server.mjs';

const CLI = path.resolve(import.meta.dirname, `../../core/bin/capit.js`);
const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-bench-keys-`));
const emulator = await startEmulator({port: 0, maxRequestLog: 1000});
const stateDir = path.join(root, `capit`, `state`);
const env = {
  PATH: process.env.PATH ?? ``,
  HOME: root,
  CAPIT_HOME: path.join(root, `capit`),
  CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
  OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-mgmt-fake-0000`,
  NO_COLOR: `1`,
};

// Async spawn: the emulator lives in this process and must keep answering while the CLI runs.
function run(args, {extraEnv = {}} = {}) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {env: {...env, ...extraEnv}, stdio: [`ignore`, `pipe`, `pipe`]});
    let stdout = ``;
    let stderr = ``;
    child.stdout.on(`data`, c => (stdout += c));
    child.stderr.on(`data`, c => (stderr += c));
    child.on(`error`, reject);
    child.on(`close`, code => resolve({code, ms: Number(process.hrtime.bigint() - start) / 1e6, stdout, stderr}));
  });
}

/** Seeds `count` keys and records them in capit's ledger, as if capit had issued them. */
function seedCapitKeys(count, prefix) {
  emulator.reset();
  const records = emulator.seedKeys(count, {prefix, limit: 10, usage: 2.5, limit_reset: `monthly`});
  fs.mkdirSync(stateDir, {recursive: true});
  const keys = records.map(r => ({
    id: r.hash, name: r.name, platform: `openrouter`, agent: null, capUsd: 10, reset: `monthly`, expiresAt: null,
    createdAt: r.created_at, status: `active`, files: [], backupDir: null,
  }));
  fs.writeFileSync(path.join(stateDir, `ledger.json`), JSON.stringify({version: 1, keys}));
}

const results = [];
function report(label, value, target, met) {
  results.push(met);
  console.log(`${label.padEnd(58)} ${value.padStart(12)}  ${target.padEnd(10)} ${met ? `ok` : `MISSED`}`);
}

try {
  // The listing of 10,000 keys is a figure of run.mjs (against its paging floor, on Node 20 and 24).
  // 1. delete: bounded concurrency vs one at a time
  const deleteArgs = [CLI, `keys`, `delete`, `capit-*`, `--yes`, `--json`];
  async function timedDelete(label, extraEnv) {
    seedCapitKeys(1000, `capit`);
    emulator.knobs.latencyMs = 20;
    const r = await run(deleteArgs, {extraEnv});
    emulator.knobs.reset();
    const failures = r.code === 0 ? JSON.parse(r.stdout).results.filter(x => !x.ok).length : -1;
    if (r.code !== 0 || emulator.state.keys.size !== 0) throw new Error(`${label}: exit ${r.code}, ${emulator.state.keys.size} keys left: ${r.stderr.slice(0, 500)}`);
    console.log(`  ${label}: ${r.ms.toFixed(0)} ms, ${failures} failures`);
    return r.ms;
  }
  const parallel = await timedDelete(`delete 1,000 keys, default concurrency`, {});
  const serial = await timedDelete(`delete 1,000 keys, CAPIT_DELETE_CONCURRENCY=1`, {CAPIT_DELETE_CONCURRENCY: `1`});
  report(`keys delete, 1,000 keys @ 20 ms latency: speed-up`, `${(serial / parallel).toFixed(1)}×`, `≥ 6×`, serial / parallel >= 6);

  // 2. delete while every 10th call is a 429
  seedCapitKeys(1000, `capit`);
  emulator.knobs.every429(10);
  const limited = await run(deleteArgs);
  emulator.knobs.reset();
  const json = limited.code === 0 || limited.code === 1 ? JSON.parse(limited.stdout) : {results: []};
  const failed = json.results.filter(x => !x.ok).length;
  const throttled = emulator.state.requests.filter(r => r.status === 429).length;
  report(`keys delete, 1,000 keys, every 10th call 429 (${limited.ms.toFixed(0)} ms, ${throttled}+ 429s)`, `${failed} failed`, `0`,
    limited.code === 0 && failed === 0 && json.results.length === 1000 && emulator.state.keys.size === 0);

  const allMet = results.every(Boolean);
  console.log(allMet ? `\nAll targets met.` : `\nSome targets missed.`);
  process.exitCode = allMet ? 0 : 1;
} finally {
  await emulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
