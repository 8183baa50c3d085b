// node test/bench/chunks.mjs (after npm run build): which bundle files the hot commands load, and what source each
// holds (from esbuild's metafile), so "the install loads only what it uses" is checked, not assumed.
import {execFileSync, spawn} from 'node:child_process';
import fs      from 'node:fs';
import os      from 'node:os';
import path    from 'node:path';
import {fileURLToPath} from 'node:url';

import {startEmulator} from '../emulator/server.mjs';

const REPO = path.resolve(import.meta.dirname, `../..`);
const CLI = path.join(REPO, `core/bin/capit.js`);
const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-bench-chunks-`));
const metaFile = path.join(root, `meta.json`);
// The same bundle again (esbuild is deterministic), this time with its metafile.
execFileSync(process.execPath, [path.join(REPO, `core/scripts/bundle.mjs`)], {env: {...process.env, CAPIT_BUNDLE_META: metaFile}, stdio: `inherit`});
const meta = JSON.parse(fs.readFileSync(metaFile, `utf8`));
const emulator = await startEmulator({port: 0, maxRequestLog: 100});
const env = {
  PATH: process.env.PATH ?? ``, HOME: root, CAPIT_HOME: path.join(root, `capit`), XDG_DATA_HOME: path.join(root, `share`),
  XDG_CONFIG_HOME: path.join(root, `config`), CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
  OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-mgmt-fake-0000`, NO_COLOR: `1`,
};

function loadedBy(args) {
  const log = path.join(root, `loaded.txt`);
  fs.rmSync(log, {force: true});
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--import`, path.join(import.meta.dirname, `log-loaded.mjs`), CLI, ...args], {env: {...env, CAPIT_BENCH_LOADED: log}, stdio: `ignore`});
    child.on(`error`, reject);
    child.on(`close`, code => {
      if (code !== 0) return reject(new Error(`capit ${args.join(` `)} exited ${code}`));
      resolve([...new Set(fs.readFileSync(log, `utf8`).trim().split(`\n`))].map(url => fileURLToPath(url)));
    });
  });
}

const bundleFiles = Object.keys(meta.outputs).filter(f => f.endsWith(`.js`));
const bundleBytes = bundleFiles.reduce((sum, f) => sum + meta.outputs[f].bytes, 0);
try {
  for (const args of [[`--help`], [`agents`], [`openrouter`, `5`, `--agent`, `opencode`, `--yes`], [`keys`, `list`, `--json`]]) {
    await loadedBy(args); // fills the help cache, as a user's second run would find it
    const files = await loadedBy(args);
    const rows = files.map(file => {
      const output = meta.outputs[path.relative(REPO, file)];
      const own = file.endsWith(`chunks/help-cache.js`) ? [`ui/help-cache.js and its imports (the cached --help path, its own build)`] : [`(outside the bundle)`];
      const bytes = output?.bytes ?? fs.statSync(file).size;
      const inputs = output ? Object.entries(output.inputs).sort((a, b) => b[1].bytesInOutput - a[1].bytesInOutput)
        .filter(([, v]) => v.bytesInOutput > 0).slice(0, 4).map(([name]) => name.replace(/^.*node_modules\//, ``).replace(/^core\/dist\//, ``)) : own;
      return {file: path.relative(REPO, file), bytes, inputs};
    });
    const inBundle = rows.filter(r => meta.outputs[r.file]);
    console.log(`\ncapit ${args.join(` `)}: ${rows.length} files, ${inBundle.length} of the bundle's ${bundleFiles.length} (${(inBundle.reduce((s, r) => s + r.bytes, 0) / 1024).toFixed(0)} of ${(bundleBytes / 1024).toFixed(0)} KiB)`);
    for (const r of rows.sort((a, b) => b.bytes - a.bytes)) console.log(`  ${(r.bytes / 1024).toFixed(1).padStart(6)} KiB  ${r.file.replace(/^core\/dist\/bundle\//, ``).padEnd(34)} ${r.inputs.join(`, `)}`);
  }
} finally {
  await emulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
