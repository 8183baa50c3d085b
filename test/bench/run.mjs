// npm run bench: wall time of capit commands as a ratio to `node -e 0` measured in the same run (median of N).
import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import os      from 'node:os';
import path    from 'node:path';

import {startEmulator} from '../emulator/server.mjs';

const CLI = path.resolve(import.meta.dirname, `../../core/bin/capit.js`);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-bench-`));
const emulator = await startEmulator({port: 0, maxRequestLog: 1000});
const env = {
  PATH: process.env.PATH ?? ``,
  HOME: root,
  CAPIT_HOME: path.join(root, `capit`),
  XDG_DATA_HOME: path.join(root, `share`),
  XDG_CONFIG_HOME: path.join(root, `config`),
  CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
  OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-mgmt-fake-0000`,
  NO_COLOR: `1`,
};

// Async spawn: the emulator lives in this process and must keep answering while the CLI runs.
function once(args) {
  return new Promise((resolve, reject) => {
    const start = process.hrtime.bigint();
    const child = spawn(process.execPath, args, {env, stdio: [`ignore`, `ignore`, `pipe`]});
    let stderr = ``;
    child.stderr.on(`data`, c => (stderr += c));
    child.on(`error`, reject);
    child.on(`close`, code => {
      if (code !== 0) reject(new Error(`${args.join(` `)} exited ${code}: ${stderr}`));
      else resolve(Number(process.hrtime.bigint() - start) / 1e6);
    });
  });
}

async function median(args) {
  const samples = [];
  await once(args); // warm the file cache
  for (let i = 0; i < RUNS; i++) samples.push(await once(args));
  samples.sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

const cases = [
  [`capit --version`, [CLI, `--version`], 1.4],
  [`capit --help`, [CLI, `--help`], 1.4],
  [`capit openrouter 5 --agent opencode --yes`, [CLI, `openrouter`, `5`, `--agent`, `opencode`, `--yes`], 1.8],
];

try {
  const baseline = await median([`-e`, `0`]);
  console.log(`node -e 0: ${baseline.toFixed(1)} ms (median of ${RUNS})`);
  console.log(`${`command`.padEnd(46)} ${`ms`.padStart(7)} ${`ratio`.padStart(6)}  target`);
  let allMet = true;
  for (const [label, args, target] of cases) {
    const ms = await median(args);
    const ratio = ms / baseline;
    allMet &&= ratio <= target;
    console.log(`${label.padEnd(46)} ${ms.toFixed(1).padStart(7)} ${ratio.toFixed(2).padStart(6)}  ≤ ${target} ${ratio <= target ? `ok` : `MISSED`}`);
  }
  console.log(allMet ? `All targets met.` : `Some targets missed.`);
} finally {
  await emulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
