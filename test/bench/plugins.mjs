// node test/bench/plugins.mjs: start-up cost of discovery with the built-ins plus 200 third-party plugins on
// CAPIT_PLUGIN_PATH, as a ratio to `node -e 0` measured in the same run (median of N). Target ≤ 2.0.
import {spawnSync} from 'node:child_process';
import fs          from 'node:fs';
import os          from 'node:os';
import path        from 'node:path';

const CLI = path.resolve(import.meta.dirname, `../../core/bin/capit.js`);
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const COUNT = Number(process.env.BENCH_PLUGINS ?? 200);
const TARGET = 2.0;
const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-bench-plugins-`));
const pluginDir = path.join(root, `plugins`);

// Half agents, half platforms, each a real package folder with a manifest and an entry that is never imported.
for (let i = 0; i < COUNT; i++) {
  const kind = i % 2 ? `agent` : `platform`;
  const id = `bench${kind[0]}${i}`;
  const dir = path.join(pluginDir, `capit-${kind}-${id}`);
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, `package.json`), JSON.stringify({
    name: `capit-${kind}-${id}`, version: `1.0.0`, type: `module`,
    capit: {apiVersion: 1, kind, id, displayName: id, description: `bench ${kind} ${i}`, entry: `./index.js`},
  }));
  fs.writeFileSync(path.join(dir, `index.js`), `throw new Error('discovery must not import plugin code');\n`);
}

const env = {PATH: process.env.PATH ?? ``, HOME: root, CAPIT_HOME: path.join(root, `capit`), NO_COLOR: `1`, CAPIT_PLUGIN_PATH: pluginDir};

function once(args) {
  const start = process.hrtime.bigint();
  const res = spawnSync(process.execPath, args, {env, cwd: root, stdio: [`ignore`, `pipe`, `pipe`], encoding: `utf8`});
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  if (res.status !== 0) throw new Error(`${args.join(` `)} exited ${res.status}: ${res.stderr}`);
  return {ms, stdout: res.stdout};
}

function median(args) {
  once(args); // warm the file cache
  const samples = Array.from({length: RUNS}, () => once(args).ms).sort((a, b) => a - b);
  return samples[Math.floor(samples.length / 2)];
}

try {
  // `capit agents` is the colleague's command; fall back to `plugin list` until it exists.
  const hasAgents = spawnSync(process.execPath, [CLI, `agents`, `--help`], {env, encoding: `utf8`}).status === 0;
  const listed = once([CLI, `plugin`, `list`, `--json`]).stdout;
  // `plugin list` loads each entry to vouch for it, so these (whose entries throw) are listed as broken: still found.
  const {plugins: ok, broken = []} = JSON.parse(listed);
  const found = [...ok, ...broken].filter(p => p.id?.startsWith(`bench`)).length;
  if (found !== COUNT) throw new Error(`expected ${COUNT} bench plugins to be discovered, found ${found}`);

  const baseline = median([`-e`, `0`]);
  console.log(`node -e 0: ${baseline.toFixed(1)} ms (median of ${RUNS}); ${COUNT} plugins on CAPIT_PLUGIN_PATH + built-ins`);
  const cases = [
    [`capit --help`, [CLI, `--help`]],
    hasAgents ? [`capit agents`, [CLI, `agents`]] : [`capit plugin list (no \`agents\` yet)`, [CLI, `plugin`, `list`]],
  ];
  let allMet = true;
  for (const [label, args] of cases) {
    const ms = median(args);
    const ratio = ms / baseline;
    allMet &&= ratio <= TARGET;
    console.log(`${label.padEnd(40)} ${ms.toFixed(1).padStart(7)} ms ${ratio.toFixed(2).padStart(6)}  ≤ ${TARGET} ${ratio <= TARGET ? `ok` : `MISSED`}`);
  }
  console.log(allMet ? `All targets met.` : `Some targets missed.`);
  process.exitCode = allMet ? 0 : 1;
} finally {
  fs.rmSync(root, {recursive: true, force: true});
}
