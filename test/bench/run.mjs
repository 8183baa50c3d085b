// npm run bench: capit's hot paths, each as a ratio to `node -e 0` and to its own floor (what the work physically
// needs: node start, the provider round trips, the durable writes), on this Node and on Node 24 from npm.
// Runs are round-robin (one of each figure per round, median of BENCH_RUNS rounds) so a load spike from other
// processes hits every figure alike. Wall time is what the targets use; CPU (user+sys) is printed beside it because on
// a loaded machine it is the steadier number. Never assert these in a test.
import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import os      from 'node:os';
import path    from 'node:path';

import {startEmulator} from '../emulator/server.mjs';
import {node24}        from './node24.mjs';

const CLI = path.resolve(import.meta.dirname, `../../core/bin/capit.js`);
const FLOOR_INSTALL = path.join(import.meta.dirname, `floor-install.mjs`);
const FLOOR_KEYS = path.join(import.meta.dirname, `floor-keys.mjs`);
const RUNS = Number(process.env.BENCH_RUNS ?? 9);
const KEYS = 10_000;
// What `capit openrouter 5 --agent opencode --yes` writes durably on a repeat install (strace: 6 renames, each after
// an fsync): the agent's auth.json, its backup and the backup manifest, and the ledger (intent, applied, done).
const INSTALL_WRITES = 6;
const TIME = fs.existsSync(`/usr/bin/time`) ? `/usr/bin/time` : undefined;

const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-bench-`));
// Two emulators: the installs add keys, which must not change the size of the listing.
const installEmulator = await startEmulator({port: 0, maxRequestLog: 100});
const listEmulator = await startEmulator({port: 0, maxRequestLog: 100});

function sandbox(name, emulator) {
  const home = path.join(root, name);
  return {
    PATH: process.env.PATH ?? ``,
    HOME: home,
    CAPIT_HOME: path.join(home, `capit`),
    XDG_DATA_HOME: path.join(home, `share`),
    XDG_CONFIG_HOME: path.join(home, `config`),
    XDG_CACHE_HOME: path.join(home, `cache`),
    XDG_STATE_HOME: path.join(home, `xdg-state`),
    CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
    OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-mgmt-fake-0000`,
    NO_COLOR: `1`,
  };
}

/** Seeds KEYS keys and records them in capit's ledger, as if capit had issued them. */
function seedCapitKeys(env) {
  const records = listEmulator.seedKeys(KEYS, {prefix: `capit`, limit: 10, usage: 2.5, limit_reset: `monthly`});
  const stateDir = path.join(env.CAPIT_HOME, `state`);
  fs.mkdirSync(stateDir, {recursive: true});
  const keys = records.map(r => ({
    id: r.hash, name: r.name, platform: `openrouter`, agent: null, capUsd: 10, reset: `monthly`, expiresAt: null,
    createdAt: r.created_at, status: `active`, files: [], backupDir: null,
  }));
  fs.writeFileSync(path.join(stateDir, `ledger.json`), JSON.stringify({version: 1, keys}));
}

// CPU time (user + sys, ms resolution) from bash's `times` after the run, which counts the waited-for child only;
// peak RSS from /usr/bin/time around it when present (its wait4 reports the largest of bash and its child).
const SHELL = `"$@" >/dev/null; status=$?; times >&2; exit $status`;

/** One run: wall ms (from here), CPU ms and peak RSS in MiB. */
function once(node, args, env) {
  return new Promise((resolve, reject) => {
    const stats = path.join(root, `time.txt`);
    const bash = [`bash`, [`-c`, SHELL, `bash`, node, ...args]];
    const [cmd, argv] = TIME ? [TIME, [`-f`, `%M`, `-o`, stats, ...bash.flat()]] : bash;
    const start = process.hrtime.bigint();
    const child = spawn(cmd, argv, {env, stdio: [`ignore`, `ignore`, `pipe`]});
    let stderr = ``;
    child.stderr.on(`data`, c => (stderr += c));
    child.on(`error`, reject);
    child.on(`close`, code => {
      const ms = Number(process.hrtime.bigint() - start) / 1e6;
      if (code !== 0) return reject(new Error(`${args.join(` `)} exited ${code}: ${stderr.slice(0, 800)}`));
      // `times` prints the shell's own times, then its children's: "0m0.041s 0m0.012s".
      const children = stderr.trim().split(`\n`).at(-1).match(/(\d+)m([\d.]+)s (\d+)m([\d.]+)s/);
      const cpu = children ? (Number(children[1]) * 60 + Number(children[2]) + Number(children[3]) * 60 + Number(children[4])) * 1000 : NaN;
      const rssMiB = TIME ? Number(fs.readFileSync(stats, `utf8`).trim().split(`\n`).at(-1)) / 1024 : NaN;
      resolve({ms, cpu, rssMiB});
    });
  });
}

const median = values => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

async function benchNode(node, label) {
  const base = sandbox(`${label}-base`, installEmulator);
  const install = sandbox(`${label}-install`, installEmulator);
  const list = sandbox(`${label}-list`, listEmulator);
  listEmulator.reset();
  seedCapitKeys(list);
  const floorDir = path.join(root, `${label}-floor`);
  // [name, argv, env, floor name or undefined (node start), target ratio, against what]
  const figures = [
    [`node -e 0`, [`-e`, `0`], base],
    [`floor: install`, [FLOOR_INSTALL, installEmulator.openrouterBaseUrl, floorDir, String(INSTALL_WRITES)], install],
    [`floor: keys list paging`, [FLOOR_KEYS, listEmulator.openrouterBaseUrl], list],
    [`capit --version`, [CLI, `--version`], base, undefined, 1.4],
    [`capit --help`, [CLI, `--help`], base, undefined, 1.4],
    [`capit agents`, [CLI, `agents`], base, undefined, 2.0],
    [`capit doctor`, [CLI, `doctor`], base, undefined, 2.0],
    [`capit openrouter 5 --agent opencode --yes`, [CLI, `openrouter`, `5`, `--agent`, `opencode`, `--yes`], install, `floor: install`, 1.3],
    [`capit keys list --json (${KEYS / 1000}k keys)`, [CLI, `keys`, `list`, `--json`], list, `floor: keys list paging`, 1.3],
  ];
  const samples = new Map(figures.map(([name]) => [name, []]));
  for (const [, args, env] of figures) await once(node, args, env); // warm the file cache and capit's caches
  for (let round = 0; round < RUNS; round++)
    for (const [name, args, env] of figures) samples.get(name).push(await once(node, args, env));
  const stat = name => ({
    ms: median(samples.get(name).map(s => s.ms)),
    cpu: median(samples.get(name).map(s => s.cpu)),
    rss: Math.max(...samples.get(name).map(s => s.rssMiB)),
  });
  const nodeStart = stat(`node -e 0`);
  let allMet = true;
  console.log(`\n${label} (${node}) — median of ${RUNS} round-robin runs`);
  console.log(`${`figure`.padEnd(44)} ${`wall ms`.padStart(8)} ${`×node`.padStart(6)} ${`×floor`.padStart(6)} ${`CPU ms`.padStart(7)} ${`×node`.padStart(6)} ${`×floor`.padStart(6)} ${`RSS MiB`.padStart(8)}  target (on wall time; CPU in brackets)`);
  for (const [name, , , floorName, target] of figures) {
    const s = stat(name);
    const floor = floorName ? stat(floorName) : nodeStart;
    const vsNode = s.ms / nodeStart.ms;
    const vsFloor = s.ms / floor.ms;
    const cpuVsNode = s.cpu / nodeStart.cpu;
    const cpuVsFloor = s.cpu / floor.cpu;
    let verdict = ``;
    if (target !== undefined) {
      let met = (floorName ? vsFloor : vsNode) <= target;
      let cpuMet = (floorName ? cpuVsFloor : cpuVsNode) <= target;
      let text = `≤ ${target}× ${floorName ? `floor` : `node`}`;
      if (name.startsWith(`capit keys list`)) {
        met &&= s.rss <= 100;
        cpuMet &&= s.rss <= 100;
        text += `, RSS ≤ 100`;
      }
      allMet &&= met;
      verdict = `${text} ${met ? `ok` : `MISSED`} [${cpuMet ? `ok` : `missed`}]`;
    }
    const ratio = (value, shown = true) => (shown ? value.toFixed(2) : ``).padStart(6);
    console.log(`${name.padEnd(44)} ${s.ms.toFixed(1).padStart(8)} ${ratio(vsNode)} ${ratio(vsFloor, Boolean(floorName))} ${s.cpu.toFixed(0).padStart(7)} ${ratio(cpuVsNode)} ${ratio(cpuVsFloor, Boolean(floorName))} ${s.rss.toFixed(1).padStart(8)}  ${verdict}`);
  }
  console.log(allMet ? `All targets met on ${label}.` : `Some targets missed on ${label}.`);
  return allMet;
}

try {
  console.log(`Load average when starting: ${os.loadavg().map(l => l.toFixed(2)).join(` `)} on ${os.cpus().length} cores`);
  const results = [await benchNode(process.execPath, `Node ${process.version}`)];
  const other = process.env.BENCH_NODE24 === `0` ? {reason: `BENCH_NODE24=0`} : node24();
  if (other.bin) results.push(await benchNode(other.bin, `Node 24`));
  else console.log(`\nNode 24 skipped: ${other.reason}`);
  console.log(`\nLoad average at the end: ${os.loadavg().map(l => l.toFixed(2)).join(` `)}`);
  process.exitCode = results.every(Boolean) ? 0 : 1;
} finally {
  await installEmulator.close();
  await listEmulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
