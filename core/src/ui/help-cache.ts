// `capit --help` from a cache: the general help depends only on capit's own code and the discovered manifests, and
// rendering it means loading clipanion and compiling every command (a dominant cost with many plugins). The cache is
// keyed by capit's version and build (the bundle's content-hashed chunk names), the colour mode, and every discovered
// folder's package.json (path, mtime, size), so installing, removing or editing any plugin, or rebuilding capit with
// different help, renders it afresh.
import fs              from 'node:fs';
import path            from 'node:path';
import {fileURLToPath} from 'node:url';

import {discoverySources} from '../plugins/sources.js';
import {capitVersion}     from '../self.js';
import {capitPaths}       from '../state/paths.js';
import type {Env}         from '../state/paths.js';

export interface CachedHelp {
  stdout: string;
  stderr: string;
}

export function wantsColor(env: Env, stdout: NodeJS.WritableStream): boolean {
  return !env.NO_COLOR && env.FORCE_COLOR !== `0` && Boolean((stdout as NodeJS.WriteStream).isTTY);
}

function cacheFile(env: Env): string {
  return path.join(capitPaths(env).state, `cache`, `help.json`);
}

// The key is the fingerprint itself, not a digest of it: loading node:crypto would cost more than comparing strings.
export function helpKey(env: Env, cwd: string, colored: boolean): string {
  const parts = [`1`, capitVersion(), String(colored)];
  try {
    // The running build itself: a rebuild can change any command's help without a version bump. In the bundle the
    // help text lives in chunks named after a hash of their content, so the chunk names change with the text even
    // where mtimes do not (npm gives every file of a packed install the same mtime); unbundled, mtime and size.
    const self = fileURLToPath(import.meta.url);
    const st = fs.statSync(self);
    parts.push(`${st.mtimeMs}:${st.size}`, fs.readdirSync(path.dirname(self)).sort().join(`,`));
  } catch {}
  for (const source of discoverySources(env)) {
    for (const offered of source.folders(env, cwd)) {
      const dir = typeof offered === `string` ? offered : offered.dir;
      let stamp = `missing`;
      try {
        const st = fs.statSync(path.join(dir, `package.json`));
        stamp = `${st.mtimeMs}:${st.size}`;
      } catch {}
      parts.push(`${source.source}|${dir}|${stamp}`);
    }
  }
  return parts.join(`\n`);
}

export function readCachedHelp(env: Env, key: string): CachedHelp | undefined {
  try {
    const cached = JSON.parse(fs.readFileSync(cacheFile(env), `utf8`)) as {key?: unknown; stdout?: unknown; stderr?: unknown};
    if (cached.key === key && typeof cached.stdout === `string` && typeof cached.stderr === `string`)
      return {stdout: cached.stdout, stderr: cached.stderr};
  } catch {}
  return undefined;
}

/** Best effort: a read-only state dir only means the next `--help` renders again. */
export function storeHelp(env: Env, key: string, help: CachedHelp): void {
  const file = cacheFile(env);
  try {
    fs.mkdirSync(path.dirname(file), {recursive: true, mode: 0o700});
    const temp = `${file}.${process.pid}`;
    fs.writeFileSync(temp, JSON.stringify({key, ...help}), {mode: 0o600});
    fs.renameSync(temp, file);
  } catch {}
}
