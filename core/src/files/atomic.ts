// Atomic writes to the real file behind any symlink, so a crash leaves either the old or the new bytes.
import fs   from 'node:fs/promises';
import path from 'node:path';
import writeFileAtomicLib from 'write-file-atomic';

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

/**
 * Writes `data` to the real file behind `p`: a temp file in the same directory, fsync, rename over the target, then
 * fsync of the directory. A symlink at `p` stays a symlink. `mode` is applied exactly (no umask); without it an
 * existing file keeps its mode. `durable: false` skips both fsyncs: still atomic if the process dies, but not across a
 * power loss — only for capit's own bookkeeping, never for a user's file or a backup.
 */
export async function writeFileAtomic(p: string, data: string | Buffer, opts: {mode?: number; durable?: boolean} = {}): Promise<void> {
  const real = await resolveRealPath(p);
  const durable = opts.durable ?? true;
  await writeFileAtomicLib(real, data, {
    fsync: durable,
    ...(opts.mode === undefined ? {} : {mode: opts.mode}),
  });
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
