// Reads an agent file capit is about to parse and maybe replace, refusing in one line anything that is not a sane
// regular file: a symlink loop, a directory, a FIFO (reading one would block forever), a device, a socket, or a file
// too large to be a config. Nothing here creates or changes anything.
import {constants as fsConstants} from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fs from 'node:fs/promises';

import {CapitError, UnparseableFileError} from '../errors.js';
import {isCode, resolveRealPath} from './atomic.js';

/** Largest agent file capit reads. Real configs are kilobytes; this only stops absurd inputs. */
export const MAX_AGENT_FILE_BYTES = 10 * 1024 * 1024;

export interface TargetFile {
  /** The file behind every symlink (where a write must go). */
  realPath: string;
  /** The bytes, or null when the file does not exist yet. */
  bytes: Buffer | null;
  /** Permission bits of the existing file, or null. */
  mode: number | null;
}

/** Resolves and reads `filePath` (shown as given in messages). Throws a one-line CapitError for anything unusable. */
export async function readTargetFile(filePath: string): Promise<TargetFile> {
  let realPath: string;
  try {
    realPath = await resolveRealPath(filePath);
  } catch (err) {
    throw refusal(filePath, err);
  }
  let handle: fs.FileHandle | undefined;
  try {
    const before = await fs.stat(realPath);
    refuseUnlessRegular(filePath, before);
    // O_NONBLOCK: if the path was swapped for a FIFO after the stat, opening it must not wait for a writer.
    handle = await fs.open(realPath, fsConstants.O_RDONLY | fsConstants.O_NONBLOCK);
    const st = await handle.stat();
    refuseUnlessRegular(filePath, st);
    const bytes = await handle.readFile();
    if (bytes.length > MAX_AGENT_FILE_BYTES) throw tooLarge(filePath);
    return {realPath, bytes, mode: st.mode & 0o7777};
  } catch (err) {
    if (isCode(err, `ENOENT`)) {
      await refuseDanglingLinkElsewhere(filePath, realPath);
      return {realPath, bytes: null, mode: null};
    }
    throw refusal(filePath, err);
  } finally {
    await handle?.close();
  }
}

/**
 * A link out of the home folder whose target's folder is missing (a mount or a checkout that is not there): writing
 * through it would create folders wherever it points (as root, at `/`). Refused. Inside the home folder (a dotfiles
 * folder not made yet) the folders are created as the link's owner intended, recorded, and removed again by restore.
 */
async function refuseDanglingLinkElsewhere(filePath: string, realPath: string): Promise<void> {
  let link = false;
  try {
    link = (await fs.lstat(filePath)).isSymbolicLink();
  } catch {}
  if (!link) return;
  // Compared after resolving links, like realPath (macOS: /var → /private/var).
  const home = await fs.realpath(os.homedir()).catch(() => path.resolve(os.homedir()));
  if (realPath.startsWith(home + path.sep)) return;
  try {
    await fs.stat(path.dirname(realPath));
  } catch {
    throw new CapitError(`CAPIT_DANGLING_LINK`, `${filePath} is a symlink out of your home folder to ${realPath}, whose folder does not exist; capit does not create folders there — create ${path.dirname(realPath)} or remove the link, then run the command again (nothing was changed)`);
  }
}

function refuseUnlessRegular(filePath: string, st: {isFile(): boolean; isDirectory(): boolean; isFIFO(): boolean; isSocket(): boolean; isCharacterDevice(): boolean; isBlockDevice(): boolean; size: number}): void {
  if (st.isFile()) {
    if (st.size > MAX_AGENT_FILE_BYTES) throw tooLarge(filePath);
    return;
  }
  const what = st.isDirectory() ? `a directory` : st.isFIFO() ? `a named pipe (FIFO)` : st.isSocket() ? `a socket`
    : st.isCharacterDevice() || st.isBlockDevice() ? `a device` : `not a regular file`;
  throw new UnparseableFileError(filePath, what === `not a regular file` ? what : `it is ${what}, not a regular file`);
}

function tooLarge(filePath: string): CapitError {
  return new UnparseableFileError(filePath, `larger than ${MAX_AGENT_FILE_BYTES / 1024 / 1024} MiB, too large for a config file`);
}

function refusal(filePath: string, err: unknown): unknown {
  if (err instanceof CapitError) return err;
  if (isCode(err, `ELOOP`)) return new UnparseableFileError(filePath, `a symlink loop`);
  if (isCode(err, `ENOTDIR`)) return new UnparseableFileError(filePath, `a folder on its path is a file`);
  if (isCode(err, `ENAMETOOLONG`)) return new UnparseableFileError(filePath, `the path is too long`);
  if (isCode(err, `EACCES`) || isCode(err, `EPERM`))
    return new CapitError(`CAPIT_UNREADABLE_FILE`, `${filePath} cannot be read (permission denied); capit will not overwrite it — check its permissions and run the command again (nothing was changed)`);
  if (isCode(err, `EISDIR`)) return new UnparseableFileError(filePath, `it is a directory, not a regular file`);
  return err;
}

/**
 * The text of a file capit only looks at (key sources, doctor), with the same refusals as {@link readTargetFile}:
 * throws for a missing, non-regular (a FIFO never blocks), looping or oversized file; callers treat any throw as
 * "not readable".
 */
export async function readAgentText(filePath: string): Promise<string> {
  const {bytes} = await readTargetFile(filePath);
  if (bytes === null) throw Object.assign(new Error(`${filePath} does not exist`), {code: `ENOENT`});
  return bytes.toString(`utf8`);
}
