#!/usr/bin/env node
// The installed `capit` command: a stable file in the package (npm links bins at install time, before a workspace
// build exists) that hands over to the bundle built by `npm run build`.
import {existsSync, mkdirSync, readFileSync} from 'node:fs';
import module         from 'node:module';
import os             from 'node:os';
import path           from 'node:path';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  // Answered before loading anything else: it is what scripts and shells call most.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  enableCompileCache();
  import('../dist/bundle/capit.js').catch(error => {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bundle/capit.js')) {
      process.stderr.write('capit: not built yet; run `npm run build` in the capit repository first\n');
      process.exitCode = 1;
      return;
    }
    throw error;
  });
}

/**
 * Node ≥ 22.1 keeps V8's compiled code of the bundle between runs (it must be on before the bundle is imported, hence
 * here). The cache is capit's own: under CAPIT_HOME when set (it relocates everything), else the user's XDG cache dir
 * — never a shared /tmp. Node keys it by its version and the file contents, so an upgrade only misses once. Only a run
 * that succeeded creates the folder (a refused command never creates it); later runs fill it. Node 20 has no such API:
 * the one equivalent, vm.Script cachedData, needs the whole CLI as one CommonJS file (test/bench/README.md says why
 * capit does not do that).
 */
function enableCompileCache() {
  if (typeof module.enableCompileCache !== 'function' || process.env.NODE_COMPILE_CACHE !== undefined) return;
  const env = process.env;
  const dir = env.CAPIT_HOME
    ? path.join(path.resolve(env.CAPIT_HOME), 'cache', 'compile')
    : path.join(env.XDG_CACHE_HOME || path.join(env.HOME || os.homedir(), '.cache'), 'capit', 'compile');
  try {
    if (existsSync(dir)) module.enableCompileCache(dir);
    else process.on('exit', code => {
      if (code === 0) mkdirSync(dir, {recursive: true, mode: 0o700});
    });
  } catch {
    // A cache that cannot be had (read-only home, …) only costs speed.
  }
}
