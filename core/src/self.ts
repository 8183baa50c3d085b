import fs              from 'node:fs';
import path            from 'node:path';
import {fileURLToPath} from 'node:url';

let cached: {dir: string; version: string} | undefined;

// The code runs from src/ (tests), dist/ (tsc) or dist/bundle/chunks/ (the bundled CLI), so find capit's own
// package.json by walking up instead of assuming a fixed depth.
function self(): {dir: string; version: string} {
  if (cached) return cached;
  for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
    try {
      const pkg = JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`)) as {name?: string; version?: string};
      if (pkg.name === `capit`) return (cached = {dir, version: pkg.version ?? `0.0.0`});
    } catch {}
    if (path.dirname(dir) === dir) throw new Error(`capit cannot find its own package.json`);
  }
}

/** The folder of the `capit` package (core/). */
export function coreDir(): string {
  return self().dir;
}

export function capitVersion(): string {
  return self().version;
}
