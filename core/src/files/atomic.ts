// Atomic writes to the real file behind any symlink, so a crash leaves either the old or the new bytes.
import {randomBytes} from 'node:crypto';
import fs   from 'node:fs/promises';
import type {FileHandle} from 'node:fs/promises';
import path from 'node:path';

const MAX_LINKS = 40;

/**
 * The file a write to `p` must really go to: symlinks are followed (also a dangling link, to its missing target);
 * for a path that does not exist, the real path of its nearest existing ancestor joined with the rest.
 */
export async function resolveRealPath(p: string): Promise<string> {
  let current = path.resolve(p);
  for (let hops = 0; hops <= MAX_LINKS; hops++) {
    try {
      return await fs.realpath(current);
    } catch (err) {
      if (!isCode(err, `ENOENT`)) throw err;
    }
    let stat;
    try {
      stat = await fs.lstat(current);
    } catch (err) {
      if (!isCode(err, `ENOENT`) && !isCode(err, `ENOTDIR`)) throw err;
    }
    if (stat?.isSymbolicLink()) {
      // A dangling link: follow it to where its target would be.
      const target = await fs.readlink(current);
      current = path.resolve(path.dirname(current), target);
      continue;
    }
    // Nothing at `current`: resolve the parent, keep the name.
    const parent = path.dirname(current);
    if (parent === current) return current;
    return path.join(await resolveRealPath(parent), path.basename(current));
  }
  throw Object.assign(new Error(`Too many levels of symbolic links: ${p}`), {code: `ELOOP`});
}

/** The temp file capit writes beside `real` before renaming it over: `.<name>.capit-<pid>-<hex>.tmp`. */
export function tempPathFor(real: string): string {
  return path.join(path.dirname(real), `.${path.basename(real)}.capit-${process.pid}-${randomBytes(6).toString(`hex`)}.tmp`);
}

/** Whether `name` (a base name) is a temp file capit made for `forBase`, and by which process. */
export function parseTempName(name: string, forBase: string): {pid: number} | null {
  if (!name.startsWith(`.${forBase}.capit-`)) return null;
  const m = /^(\d+)-[0-9a-f]+\.tmp$/.exec(name.slice(forBase.length + 8));
  return m ? {pid: Number(m[1])} : null;
}

export interface AtomicWriteOptions {
  mode?: number;
  durable?: boolean;
  /** The temp path to use (callers that record it in an intent first); default `tempPathFor(real)`. */
  tempPath?: string;
  /** Test-only: runs after the temp file is complete and before the rename (crash-point hooks). */
  beforeRename?: () => void;
}

/**
 * Writes `data` to the real file behind `p`: a temp file in the same directory, fsync, rename over the target, then
 * fsync of the directory. A symlink at `p` stays a symlink. `mode` is applied exactly (no umask); without it an
 * existing file keeps its mode. `durable: false` skips both fsyncs: still atomic if the process dies, but not across a
 * power loss — only for capit's own bookkeeping, never for a user's file or a backup.
 *
 * Written here rather than with write-file-atomic because its temp names (`<file>.<murmurhash>`) cannot be told apart
 * from a user's files or known in advance: capit's names are predictable, recorded in the install intent before the
 * write, and recognisable by pattern, so a temp file holding a secret left by a killed run is found and removed.
 */
export async function writeFileAtomic(p: string, data: string | Buffer, opts: AtomicWriteOptions = {}): Promise<void> {
  const real = await resolveRealPath(p);
  const durable = opts.durable ?? true;
  let mode = opts.mode;
  if (mode === undefined) {
    try {
      mode = (await fs.stat(real)).mode & 0o7777;
    } catch (err) {
      if (!isCode(err, `ENOENT`)) throw err;
    }
  }
  const temp = opts.tempPath ?? tempPathFor(real);
  let handle: FileHandle | undefined;
  try {
    // `wx`: never follow or reuse something already at the temp name; created 0600 so a secret is never readable
    // by others, even for the instant before the final mode is applied.
    handle = await fs.open(temp, `wx`, 0o600);
    await handle.writeFile(data);
    if (mode !== undefined) await handle.chmod(mode);
    else await handle.chmod(0o666 & ~process.umask());
    if (durable) await handle.sync();
    await handle.close();
    handle = undefined;
    opts.beforeRename?.();
    await fs.rename(temp, real);
  } catch (err) {
    await handle?.close().catch(() => {});
    await fs.rm(temp, {force: true}).catch(() => {});
    throw err;
  }
  if (durable) await fsyncDir(path.dirname(real));
}

/** Creates `dir` (and missing parents) with `mode`; an existing directory is left as it is. */
export async function ensureDir(dir: string, mode: number): Promise<void> {
  const missing: string[] = [];
  let cur = path.resolve(dir);
  for (;;) {
    try {
      const st = await fs.stat(cur);
      if (!st.isDirectory()) throw Object.assign(new Error(`Not a directory: ${cur}`), {code: `ENOTDIR`});
      break;
    } catch (err) {
      if (!isCode(err, `ENOENT`)) throw err;
      missing.push(cur);
      const parent = path.dirname(cur);
      if (parent === cur) break;
      cur = parent;
    }
  }
  for (const d of missing.reverse()) {
    try {
      await fs.mkdir(d, {mode});
    } catch (err) {
      if (!isCode(err, `EEXIST`)) throw err;
      continue;
    }
    await fs.chmod(d, mode); // mkdir's mode is filtered by the umask
  }
}

export async function fsyncDir(dir: string): Promise<void> {
  let handle;
  try {
    handle = await fs.open(dir, `r`);
    await handle.sync();
  } catch {
    // Some platforms/filesystems cannot fsync a directory; the rename itself is still atomic.
  } finally {
    await handle?.close();
  }
}

export function isCode(err: unknown, code: string): boolean {
  return typeof err === `object` && err !== null && (err as {code?: unknown}).code === code;
}

/** Removes capit temp files (`.<name>.capit-<pid>-<hex>.tmp`) beside `file` whose writer is no longer running. */
export async function removeStrayTempFiles(file: string): Promise<string[]> {
  const base = path.basename(file);
  return removeTempFiles(path.dirname(file), name => parseTempName(name, base)?.pid);
}

const ANY_TEMP_NAME = /^\..+\.capit-(\d+)-[0-9a-f]+\.tmp$/;

/** Removes every capit temp file directly in `dir` (any target name) whose writer is no longer running. */
export async function removeStrayTempFilesIn(dir: string): Promise<string[]> {
  return removeTempFiles(dir, name => {
    const m = ANY_TEMP_NAME.exec(name);
    return m ? Number(m[1]) : undefined;
  });
}

// `writerOf` says which process wrote a temp name (undefined: not a capit temp file); a live writer's file stays.
async function removeTempFiles(dir: string, writerOf: (name: string) => number | undefined): Promise<string[]> {
  let names: string[];
  try {
    names = await fs.readdir(dir);
  } catch (err) {
    if (isCode(err, `ENOENT`) || isCode(err, `ENOTDIR`)) return [];
    throw err;
  }
  const removed: string[] = [];
  for (const name of names) {
    const pid = writerOf(name);
    if (pid === undefined || (pid !== process.pid && isRunning(pid))) continue;
    await fs.rm(path.join(dir, name), {force: true});
    removed.push(path.join(dir, name));
  }
  return removed;
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return isCode(err, `EPERM`);
  }
}
