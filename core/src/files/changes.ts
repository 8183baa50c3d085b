// The file side of the issue transaction: load + parse every target first, compute the new texts, show a redacted
// diff, back up and write atomically, and undo exactly.
import {createHash} from 'node:crypto';
import fs   from 'node:fs/promises';
import path from 'node:path';
import {isDeepStrictEqual} from 'node:util';
import {CapitError, UnparseableFileError} from '../errors.js';
import type {AgentFile, FileEdit, FileFormat, JsonPath} from '../plugin.js';
import {diffLibrary}    from './lazy.js';
import {ensureDir, isCode, parseTempName, removeStrayTempFiles, resolveRealPath, tempPathFor, writeFileAtomic} from './atomic.js';
import {copyValue, formatPath, openDocument, type EditableDocument} from './document.js';
import {readTargetFile} from './read.js';

export interface LoadedFile {
  spec: AgentFile;
  realPath: string;
  exists: boolean;
  original: Buffer | null;
  /** Permission bits of the existing file (`null` when it does not exist). */
  mode: number | null;
  /** The parsed current content (for `read`); edits are applied to copies. */
  doc: EditableDocument;
  /** The text `doc` was opened from (the file's text, or the initial text of a missing file). */
  text: string;
}

export interface Targets {
  files: LoadedFile[];
  read(fileId: string, path: JsonPath): unknown;
}

export interface FileChange {
  spec: AgentFile;
  realPath: string;
  exists: boolean;
  original: Buffer | null;
  mode: number | null;
  newText: string;
  edits: FileEdit[];
  /** What each edited path holds after the edits (sha256 of its JSON, `null` = absent). Never the value itself. */
  written: WrittenEdit[];
}

/**
 * What one edit left: the hash of the whole value, and for an object or array the hash of each leaf below it (keyed by
 * the JSON of its path relative to the edit), so `capit doctor` can tell the key inside an entry capit wrote from the
 * entry's other fields a user edited since.
 */
export interface WrittenEdit {
  op: FileEdit[`op`];
  path: JsonPath;
  sha256Written: string | null;
  leaves?: Record<string, string>;
}

export interface BackupMeta {
  agent: string;
  platform: string;
  keyId?: string;
  keyName: string;
  createdAt: string;
  /** `capit rotate`: the name of the key this install replaced (restore goes back past it, see issue/restore.ts). */
  rotationOf?: string;
}

export interface BackupFileEntry {
  /** The agent's file id (`auth`, `env`, …). */
  id: string;
  /** The real path written (symlinks resolved). */
  path: string;
  format: FileFormat;
  secret: boolean;
  existed: boolean;
  mode: number | null;
  sha256Before: string | null;
  sha256After: string;
  /** Relative to the backup dir, `null` when the file did not exist. */
  backup: string | null;
  /** `sha256Written`: sha256 of JSON.stringify of the value capit left at `path`; `null` when capit left it absent. */
  edits: WrittenEdit[];
  /** The temp file the new bytes are written to before the rename (recorded first, so recovery can remove it). */
  tempPath?: string;
}

export interface StoredManifest extends BackupMeta {
  version: 1;
  files: BackupFileEntry[];
  /** Directories the install creates (parents first); restore and rollback remove them again when empty. */
  createdDirs?: string[];
  restoredAt?: string;
}

export interface BackupManifest extends StoredManifest {
  /** The backup directory (not stored in the manifest). */
  dir: string;
  /** Set (listBackups only) when the manifest is damaged: why; nothing else in the object is meaningful then. */
  damaged?: CapitError;
}

export type RestoreAction = `restored` | `removed` | `reverted-edits` | `unchanged`;

export interface RestoreReport {
  backupDir: string;
  files: {path: string; action: RestoreAction}[];
}

const MANIFEST = `manifest.json`;
const utf8 = new TextDecoder(`utf-8`, {fatal: true, ignoreBOM: true});

export function sha256(data: string | Buffer): string {
  return createHash(`sha256`).update(data).digest(`hex`);
}

/** sha256 of a value's JSON, `null` for absent: lets restore recognise capit's own value without storing it. */
export function hashValue(value: unknown): string | null {
  return value === undefined ? null : sha256(JSON.stringify(value));
}

/** The hash of every leaf inside an object or array, by the JSON of its relative path; undefined for a scalar. */
export function leafHashes(value: unknown): Record<string, string> | undefined {
  if (typeof value !== `object` || value === null) return undefined;
  const out: Record<string, string> = {};
  const walk = (v: unknown, at: (string | number)[]) => {
    if (typeof v === `object` && v !== null) {
      for (const [k, child] of Object.entries(v)) walk(child, [...at, Array.isArray(v) ? Number(k) : k]);
    } else {
      out[JSON.stringify(at)] = sha256(JSON.stringify(v));
    }
  };
  walk(value, []);
  return out;
}

function decode(buf: Buffer, filePath: string): string {
  try {
    return utf8.decode(buf);
  } catch {
    throw new UnparseableFileError(filePath, `not UTF-8 text`);
  }
}

function defaultText(spec: AgentFile): string {
  // An empty JSON/JSONC text is read as `{}` and, once edited, written with a trailing newline.
  return spec.initial ?? ``;
}

// Through the safe reader: an agent file swapped for a FIFO, a directory or a symlink loop after an install must be a
// one-line refusal in restore and recovery too, never a hang or a stack trace.
async function readIfExists(p: string): Promise<Buffer | null> {
  return (await readTargetFile(p)).bytes;
}

// ---------------------------------------------------------------------------------------------------------------
// Plan

/** Reads and parses every file before anything else happens; throws UnparseableFileError for any bad file. */
export async function loadTargets(files: AgentFile[]): Promise<Targets> {
  const seen = new Map<string, string>();
  const loaded: LoadedFile[] = [];
  for (const spec of files) {
    if (loaded.some(f => f.spec.id === spec.id)) throw new Error(`Two agent files share the id "${spec.id}"`);
    // Symlink loops, non-regular files and absurd sizes are refused there in one line (read.ts).
    const {realPath, bytes: original, mode} = await readTargetFile(spec.path);
    const other = seen.get(realPath);
    if (other !== undefined) throw new Error(`Agent files "${other}" and "${spec.id}" are the same file (${realPath})`);
    seen.set(realPath, spec.id);
    const text = original ? decode(original, spec.path) : defaultText(spec);
    const doc = openDocument(spec.format, text, spec.path);
    loaded.push({spec, realPath, exists: original !== null, original, mode, doc, text});
  }
  return {
    files: loaded,
    read(fileId, p) {
      const file = loaded.find(f => f.spec.id === fileId);
      if (!file) throw new Error(`Unknown agent file "${fileId}"`);
      return file.doc.read(p);
    },
  };
}

/** Applies the edits to fresh copies of the documents. Files whose text does not change are left out. */
export function computeChanges(targets: Targets, edits: FileEdit[]): FileChange[] {
  for (const edit of edits)
    if (!targets.files.some(f => f.spec.id === edit.file)) throw new Error(`An edit names the unknown agent file "${edit.file}"`);
  const changes: FileChange[] = [];
  for (const file of targets.files) {
    const mine = edits.filter(e => e.file === file.spec.id);
    if (mine.length === 0) continue;
    const doc = openDocument(file.spec.format, file.text, file.spec.path);
    for (const edit of mine) {
      if (edit.op === `set`) doc.set(edit.path, edit.value);
      else doc.delete(edit.path);
    }
    const newText = doc.text();
    if (file.exists ? newText === file.text : !mine.some(e => e.op === `set`)) continue;
    const written = mine.map((e): WrittenEdit => {
      const value = doc.read(e.path);
      const leaves = leafHashes(value);
      return {op: e.op, path: [...e.path], sha256Written: hashValue(value), ...(leaves ? {leaves} : {})};
    });
    changes.push({spec: file.spec, realPath: file.realPath, exists: file.exists, original: file.original, mode: file.mode, newText, edits: mine, written});
  }
  return changes;
}

/** A unified diff per file. Both sides go through `redact` first, so no secret can appear in the output. */
export function renderDiff(changes: FileChange[], redact: (text: string) => string): string {
  const parts: string[] = [];
  for (const change of changes) {
    const shown = change.realPath === path.resolve(change.spec.path) ? change.spec.path : `${change.spec.path} -> ${change.realPath}`;
    const before = change.original ? redact(change.original.toString(`utf8`)) : ``;
    const after = redact(change.newText);
    // git-style a/ b/ prefixes, without doubling the slash of an absolute path.
    const label = (side: string) => (shown.startsWith(`/`) ? `${side}${shown}` : `${side}/${shown}`);
    const patch = diffLibrary().createTwoFilesPatch(change.exists ? label(`a`) : `/dev/null`, label(`b`), before, after, undefined, undefined, {context: 3});
    // Drop the "====" banner line diff puts first; add a header saying what happens to the file.
    const body = patch.replace(/^=+\n/, ``);
    parts.push(`${change.exists ? `modified` : `new file`}: ${shown}\n${body}`);
  }
  return redact(parts.join(`\n`));
}

// ---------------------------------------------------------------------------------------------------------------
// Apply

function checkAgent(agent: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(agent)) throw new Error(`Invalid agent id for a backup: ${JSON.stringify(agent)}`);
}

export function backupsDir(stateDir: string, agent: string): string {
  checkAgent(agent);
  return path.join(stateDir, `backups`, agent);
}

function stamp(date: Date): string {
  return date.toISOString().replace(/\.\d+Z$/, `Z`).replace(/:/g, `-`);
}

async function createBackupDir(root: string): Promise<string> {
  await ensureDir(root, 0o700);
  const base = stamp(new Date());
  for (let n = 1; ; n++) {
    const dir = path.join(root, n === 1 ? base : `${base}-${n}`);
    try {
      await fs.mkdir(dir, {mode: 0o700});
    } catch (err) {
      if (isCode(err, `EEXIST`)) continue;
      throw err;
    }
    await fs.chmod(dir, 0o700);
    return dir;
  }
}

async function writeManifest(dir: string, manifest: StoredManifest): Promise<void> {
  await writeFileAtomic(path.join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`, {mode: 0o600});
}

function targetMode(change: {spec: AgentFile; mode: number | null}): number {
  return change.spec.secret ? 0o600 : change.mode ?? 0o644;
}

/** Puts a file back to `bytes` (or removes it when `bytes` is null). */
async function putBack(realPath: string, bytes: Buffer | null, mode: number | null, secret: boolean): Promise<void> {
  if (bytes === null) {
    await fs.rm(realPath, {force: true});
    return;
  }
  await ensureDir(path.dirname(realPath), secret ? 0o700 : 0o755);
  await writeFileAtomic(realPath, bytes, mode === null ? {} : {mode});
}

function same(a: Buffer | null, b: Buffer | null): boolean {
  return a === null || b === null ? a === b : a.equals(b);
}

/** The directories that writing `files` will create: missing ancestors of each, parents first. */
async function missingDirs(files: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const file of files) {
    const chain: string[] = [];
    for (let dir = path.dirname(file); !out.includes(dir) && !chain.includes(dir); dir = path.dirname(dir)) {
      if (await fs.stat(dir).then(() => true, err => (isCode(err, `ENOENT`) ? false : Promise.reject(err)))) break;
      chain.push(dir);
      if (path.dirname(dir) === dir) break;
    }
    out.push(...chain.reverse());
  }
  return out;
}

/** Removes the directories an install created, deepest first, and only while they are empty (never user content). */
async function removeCreatedDirs(dirs: string[] | undefined): Promise<void> {
  for (const dir of [...dirs ?? []].reverse()) {
    try {
      await fs.rmdir(dir);
    } catch (err) {
      if (isCode(err, `ENOENT`)) continue;
      if (isCode(err, `ENOTEMPTY`) || isCode(err, `EEXIST`)) return;
      throw err;
    }
  }
}

export interface ApplyHooks {
  /** Called once the backup dir exists and before anything is written in it: the caller records it (intent). */
  onBackupDir?: (backupDir: string) => Promise<void>;
  /** Test-only crash points (see issue/crash.ts). */
  at?: (step: string) => void;
}

/**
 * Backs up and writes every change; the caller holds the state lock (issue/issue.ts takes it once for the whole
 * install transaction). Refuses (CAPIT_FILE_CHANGED, nothing written) when a file changed since it was planned. If a
 * write fails, the files already written are put back and the error rethrown.
 * Intent before each step: the manifest (old and new hash of every file, its temp name, the dirs to be created) is
 * durable before the first agent file is touched, so `settleInstall` can always tell old from new.
 */
export async function applyChanges(changes: FileChange[], opts: {stateDir: string; meta: BackupMeta} & ApplyHooks): Promise<{backupDir: string; hadExistingFiles: boolean}> {
  const root = backupsDir(opts.stateDir, opts.meta.agent);
  for (const change of changes) {
    const now = await readIfExists(change.realPath);
    if (!same(now, change.original))
      throw new CapitError(`CAPIT_FILE_CHANGED`, `${change.spec.path} changed while capit was preparing its edit`, {
        hint: `Nothing was written. Run the command again to plan against the current file.`,
      });
  }

  const createdDirs = await missingDirs(changes.map(c => c.realPath));
  const backupDir = await createBackupDir(root);
  const entries: BackupFileEntry[] = [];
  try {
    await opts.onBackupDir?.(backupDir);
    if (changes.some(c => c.original)) await ensureDir(path.join(backupDir, `files`), 0o700);
    for (const [i, change] of changes.entries()) {
      let backup: string | null = null;
      if (change.original) {
        backup = `files/${i}`;
        await writeFileAtomic(path.join(backupDir, backup), change.original, {mode: 0o600});
      }
      entries.push({
        id: change.spec.id,
        path: change.realPath,
        format: change.spec.format,
        secret: change.spec.secret,
        existed: change.exists,
        mode: change.mode,
        sha256Before: change.original ? sha256(change.original) : null,
        sha256After: sha256(Buffer.from(change.newText, `utf8`)),
        backup,
        edits: change.written.map(w => ({op: w.op, path: [...w.path], sha256Written: w.sha256Written, ...(w.leaves ? {leaves: {...w.leaves}} : {})})),
        tempPath: tempPathFor(change.realPath),
      });
    }
    await writeManifest(backupDir, {version: 1, ...opts.meta, files: entries, createdDirs});
  } catch (err) {
    await fs.rm(backupDir, {recursive: true, force: true}).catch(() => {});
    throw err;
  }
  opts.at?.(`after-manifest`);

  const done: FileChange[] = [];
  try {
    for (const [i, change] of changes.entries()) {
      await ensureDir(path.dirname(change.realPath), change.spec.secret ? 0o700 : 0o755);
      // An atomic write that fails leaves the old file in place, so only completed writes need putting back.
      await writeFileAtomic(change.realPath, change.newText, {
        mode: targetMode(change), tempPath: entries[i]!.tempPath, beforeRename: () => opts.at?.(`before-rename:${change.spec.id}`),
      });
      done.push(change);
      opts.at?.(`after-write:${change.spec.id}`);
    }
  } catch (err) {
    const failedRollbacks: string[] = [];
    for (const change of done.reverse()) {
      try {
        await putBack(change.realPath, change.original, change.mode, change.spec.secret);
      } catch {
        failedRollbacks.push(change.spec.path);
      }
    }
    if (failedRollbacks.length === 0) {
      await removeCreatedDirs(createdDirs).catch(() => {});
      await fs.rm(backupDir, {recursive: true, force: true}).catch(() => {});
      throw err;
    }
    throw new CapitError(`CAPIT_WRITE_FAILED`, `Writing ${changes[done.length]?.spec.path ?? `a file`} failed (${(err as Error).message}) and ${failedRollbacks.join(`, `)} could not be put back`, {
      cause: err,
      hint: `Run \`capit restore ${opts.meta.agent}\` to put the originals back from ${backupDir}.`,
    });
  }
  return {backupDir, hadExistingFiles: changes.some(c => c.exists)};
}

// ---------------------------------------------------------------------------------------------------------------
// Recovery of an install a killed run left half done

export type SettleOutcome =
  /** No manifest: no agent file was written (or an earlier recovery already rolled it back). */
  | {state: `untouched`}
  /**
   * Every file holds capit's edits: the install finished, only the ledger did not say so. `changedSince`: files
   * changed by someone else after capit wrote them, whose edited values are still exactly capit's.
   */
  | {state: `complete`; changedSince: string[]}
  /**
   * The install was undone as one unit; the backup dir is gone. `restored`: files capit had written, put back;
   * `reverted`: files changed by someone else since capit wrote them, of which only capit's own edits were reverted.
   */
  | {state: `rolled-back`; restored: string[]; reverted: string[]}
  /** A file was changed by someone else so that capit cannot tell whether it holds its edits: nothing was touched. */
  | {state: `conflict`; changed: string[]};

/**
 * Decides an interrupted install from what the agent files hold now (hashes in its manifest), as one unit: every file
 * holds capit's edits → complete; otherwise the files capit wrote are put back, and in a file someone changed since
 * capit wrote it only capit's own edits are reverted (their later change stays). Only a file whose edited values are
 * neither capit's nor the old ones is a conflict: then nothing is touched. Removes capit's temp files beside every
 * planned file first (they may hold the new secret). Idempotent: a kill during this function leaves a state it
 * settles the same way next time. A damaged manifest is a CAPIT_BACKUP_CORRUPT refusal, nothing touched.
 */
export async function settleInstall(backupDir: string): Promise<SettleOutcome> {
  let raw: string;
  try {
    raw = await fs.readFile(path.join(backupDir, MANIFEST), `utf8`);
  } catch (err) {
    if (isCode(err, `ENOENT`) || isCode(err, `ENOTDIR`)) {
      // A backup dir without a manifest holds at most copies of old files: no agent file was touched yet.
      await fs.rm(backupDir, {recursive: true, force: true});
      return {state: `untouched`};
    }
    throw err;
  }
  const manifest = parseManifest(raw, backupDir);
  await removeTempFiles(manifest.files);

  type Held = {entry: BackupFileEntry; kind: `new` | `old`} | {entry: BackupFileEntry; kind: `edited`; reverted: Buffer | null} | {entry: BackupFileEntry; kind: `edited-old`};
  const held: Held[] = [];
  const undecided: string[] = [];
  for (const entry of manifest.files) {
    const current = await readIfExists(entry.path);
    const hash = current ? sha256(current) : null;
    if (hash === entry.sha256After) held.push({entry, kind: `new`});
    else if (hash === entry.sha256Before) held.push({entry, kind: `old`});
    else {
      const original = await backupCopy(manifest.dir, entry);
      const verdict = current === null ? null : classifyChanged(entry, current, original);
      if (verdict === null) undecided.push(entry.path);
      else held.push({entry, ...verdict});
    }
  }
  if (undecided.length > 0) return {state: `conflict`, changed: undecided};
  const edited = held.filter(h => h.kind === `edited`).map(h => h.entry.path);
  if (held.every(h => h.kind === `new` || h.kind === `edited`)) return {state: `complete`, changedSince: edited};

  const restored: string[] = [];
  const reverted: string[] = [];
  for (const h of held) {
    if (h.kind === `new`) {
      await putBack(h.entry.path, await backupCopy(manifest.dir, h.entry), h.entry.mode, h.entry.secret);
      restored.push(h.entry.path);
    } else if (h.kind === `edited`) {
      // Only capit's own values go; the rest of the file (someone's later change) stays, with its current mode.
      if (h.reverted === null) await fs.rm(h.entry.path, {force: true});
      else await putBack(h.entry.path, h.reverted, null, h.entry.secret);
      reverted.push(h.entry.path);
    }
  }
  await removeCreatedDirs(manifest.createdDirs);
  await fs.rm(backupDir, {recursive: true, force: true});
  return {state: `rolled-back`, restored, reverted};
}

/** The backed-up original bytes of a file (`null` when it did not exist); refuses a missing or damaged copy. */
async function backupCopy(dir: string, entry: BackupFileEntry): Promise<Buffer | null> {
  if (!entry.existed) return null;
  const original = await readIfExists(path.join(dir, entry.backup ?? `-`));
  if (!original || sha256(original) !== entry.sha256Before)
    throw new CapitError(`CAPIT_BACKUP_CORRUPT`, `The backup copy of ${entry.path} in ${dir} is missing or damaged`, {
      hint: `capit left ${entry.path} as it is; restore the file by hand.`,
    });
  return original;
}

/**
 * A file holding neither capit's old nor new bytes: `edited` when every value capit edited is still capit's (the
 * reverted bytes, `null` = remove), `edited-old` when every one still holds its value from before the install (capit's
 * write never landed), `null` when neither (undecidable) or when it does not parse.
 */
function classifyChanged(entry: BackupFileEntry, current: Buffer, original: Buffer | null): {kind: `edited`; reverted: Buffer | null} | {kind: `edited-old`} | null {
  const reverted = revertEdits(entry, current, original);
  if (typeof reverted !== `string`) return {kind: `edited`, reverted};
  try {
    const doc = openDocument(entry.format, decode(current, entry.path), entry.path);
    const orig = openDocument(entry.format, original ? decode(original, entry.path) : ``, entry.path);
    if (entry.edits.every(e => hashValue(doc.read(e.path)) === hashValue(orig.read(e.path)))) return {kind: `edited-old`};
  } catch {}
  return null;
}

// A temp file is capit's when it carries capit's pattern for that file name; one whose process is still alive is
// left to it (another capit writing with a different state dir), unless the intent recorded exactly that name.
async function removeTempFiles(entries: BackupFileEntry[]): Promise<void> {
  for (const entry of entries) {
    if (entry.tempPath) await fs.rm(entry.tempPath, {force: true});
    await removeStrayTempFiles(entry.path);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Backups and restore

function backupOrder(name: string): [string, number] {
  const m = /^(.*Z)(?:-(\d+))?$/.exec(name);
  return m ? [m[1]!, m[2] ? Number(m[2]) : 1] : [name, 0];
}

/**
 * Parses and checks a backup manifest before anything acts on it: a truncated or hand-edited one is a one-line
 * CAPIT_BACKUP_CORRUPT refusal, never a stack trace, and no path in it may point anywhere but an absolute file path
 * (its temp file beside it, its backup copy inside the backup dir).
 */
export function parseManifest(raw: string, dir: string): BackupManifest {
  const damaged = (why: string) => new CapitError(`CAPIT_BACKUP_CORRUPT`, `The capit backup ${dir} is damaged (${why})`, {
    hint: `capit left it and the files it names alone. Move that folder aside to restore from the next older backup.`,
  });
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    throw damaged(`its manifest.json is not valid JSON`);
  }
  const m = data as Partial<StoredManifest> | null;
  if (typeof m !== `object` || m === null || Array.isArray(m)) throw damaged(`its manifest.json is not an object`);
  if (m.version !== 1) throw damaged(`unknown manifest version ${JSON.stringify(m.version)}`);
  if (!Array.isArray(m.files)) throw damaged(`its manifest has no list of files`);
  const isAbsolute = (p: unknown): p is string => typeof p === `string` && path.isAbsolute(p) && path.normalize(p) === p && !p.includes(`\0`);
  const hash = (h: unknown) => typeof h === `string` && /^[0-9a-f]{64}$/.test(h);
  for (const [i, f] of m.files.entries()) {
    const bad = (what: string) => damaged(`file ${i + 1}: ${what}`);
    if (typeof f !== `object` || f === null) throw bad(`not an object`);
    if (!isAbsolute(f.path)) throw bad(`its path is not an absolute path`);
    if (typeof f.existed !== `boolean` || typeof f.secret !== `boolean`) throw bad(`existed/secret missing`);
    if (!hash(f.sha256After) || (f.sha256Before !== null && !hash(f.sha256Before)) || (f.existed !== (f.sha256Before !== null))) throw bad(`bad hashes`);
    if (f.existed ? typeof f.backup !== `string` || !/^files\/\d+$/.test(f.backup) : f.backup !== null) throw bad(`bad backup copy name`);
    if (f.mode !== null && !(Number.isInteger(f.mode) && f.mode >= 0 && f.mode <= 0o7777)) throw bad(`bad mode`);
    if (typeof f.format !== `string` || !Array.isArray(f.edits)) throw bad(`format/edits missing`);
    for (const e of f.edits)
      if (typeof e !== `object` || e === null || (e.op !== `set` && e.op !== `delete`) || !Array.isArray(e.path) || (e.sha256Written !== null && !hash(e.sha256Written))
        || (e.leaves !== undefined && !(typeof e.leaves === `object` && e.leaves !== null && Object.values(e.leaves).every(hash)))) throw bad(`bad edit`);
    if (f.tempPath !== undefined && !(isAbsolute(f.tempPath) && path.dirname(f.tempPath) === path.dirname(f.path) && parseTempName(path.basename(f.tempPath), path.basename(f.path))))
      throw bad(`its temp file is not capit's temp name beside the file`);
  }
  if (new Set(m.files.map(f => f.path)).size !== m.files.length) throw damaged(`a file is named twice`);
  if (m.createdDirs !== undefined && !(Array.isArray(m.createdDirs) && m.createdDirs.every(isAbsolute))) throw damaged(`bad createdDirs`);
  return {...(m as StoredManifest), dir};
}

/** Every backup of `agent`, newest first; a damaged one is left out unless `includeDamaged` (then marked `damaged`). */
export async function listBackups(stateDir: string, agent: string, opts: {includeDamaged?: boolean} = {}): Promise<BackupManifest[]> {
  const root = backupsDir(stateDir, agent);
  let names: string[];
  try {
    names = await fs.readdir(root);
  } catch (err) {
    if (isCode(err, `ENOENT`)) return [];
    throw err;
  }
  const out: BackupManifest[] = [];
  for (const name of names) {
    const dir = path.join(root, name);
    let raw: string;
    try {
      raw = await fs.readFile(path.join(dir, MANIFEST), `utf8`);
    } catch (err) {
      if (isCode(err, `ENOENT`) || isCode(err, `ENOTDIR`)) continue;
      throw err;
    }
    try {
      out.push(parseManifest(raw, dir));
    } catch (err) {
      // Kept in the order with what is wrong, so restore refuses it in one line instead of skipping past it.
      if (!(err instanceof CapitError)) throw err;
      if (opts.includeDamaged) out.push({version: 1, agent: ``, platform: ``, keyName: ``, createdAt: ``, files: [], dir, damaged: err});
    }
  }
  out.sort((a, b) => {
    const [ka, na] = backupOrder(path.basename(a.dir));
    const [kb, nb] = backupOrder(path.basename(b.dir));
    return ka === kb ? nb - na : ka < kb ? 1 : -1;
  });
  return out;
}

type Step =
  | {kind: `write`; entry: BackupFileEntry; bytes: Buffer; mode: number | null; action: RestoreAction}
  | {kind: `remove`; entry: BackupFileEntry}
  | {kind: `none`; entry: BackupFileEntry};

function isEmptyDoc(doc: EditableDocument): boolean {
  const t = doc.text().replace(/^\uFEFF/, ``).trim();
  if (doc.format === `dotenv`) return t === ``;
  return t === `` || t.replace(/\s+/g, ``) === `{}`;
}

export interface RestoreLatestOptions {
  force?: boolean;
  skip?: ReadonlySet<string>;
  /** The agent files capit's ledger recorded for a backup dir (`undefined`: none); restore refuses any other path. */
  recordedFiles?: (backupDir: string) => readonly string[] | undefined;
}

/**
 * Undoes the newest not-yet-restored backup of `agent`. A file still exactly as capit left it gets its original
 * bytes and mode back (or is removed when capit created it); a file changed since gets only capit's own edits reverted,
 * or the restore is refused (CAPIT_RESTORE_CONFLICT) unless `force`, which puts the original bytes back.
 * The caller holds the state lock (issue/restore.ts).
 */
export async function restoreLatest(stateDir: string, agent: string, opts: RestoreLatestOptions = {}): Promise<RestoreReport> {
  const all = await listBackups(stateDir, agent, {includeDamaged: true});
  // `skip`: backups not to use as restore points.
  const manifest = all.find(m => !m.restoredAt && !opts.skip?.has(m.dir));
  if (manifest?.damaged) throw manifest.damaged;
  if (manifest && opts.recordedFiles) {
    // Restore writes only where that install wrote: the agent files the ledger recorded for this very backup.
    const recorded = opts.recordedFiles(manifest.dir);
    const foreign = manifest.files.filter(f => !recorded?.includes(f.path)).map(f => f.path);
    if (recorded === undefined || foreign.length > 0)
      throw new CapitError(`CAPIT_BACKUP_CORRUPT`, recorded === undefined
        ? `The capit backup ${manifest.dir} is not recorded in capit's key ledger; capit does not restore from it`
        : `The capit backup ${manifest.dir} names ${foreign.join(`, `)}, which its install did not write; capit does not restore from it`, {
        hint: `Nothing was restored. Move that folder aside to restore from the next older backup.`,
      });
  }
  if (!manifest)
    // Asking to restore what capit never changed (or already restored) is the user's mistake: exit 2, nothing written,
    // and (as every input error) one line, so the reason is part of the message.
    throw new CapitError(`CAPIT_NO_BACKUP`, `There is no capit backup of ${agent} to restore: ${all.length > 0
      ? `all ${all.length} backup(s) in ${backupsDir(stateDir, agent)} have been restored already`
      : `capit has not changed ${agent}'s files (backups would be in ${backupsDir(stateDir, agent)})`}`, {exitCode: 2});

  // A restore killed mid-write may have left a temp file holding an older key beside a file: never past this run.
  for (const entry of manifest.files) await removeStrayTempFiles(entry.path);
  const steps: Step[] = [];
  const conflicts: string[] = [];
  for (const entry of manifest.files) {
    let original: Buffer | null = null;
    if (entry.existed) {
      original = await readIfExists(path.join(manifest.dir, entry.backup ?? `-`));
      if (!original || sha256(original) !== entry.sha256Before)
        throw new CapitError(`CAPIT_BACKUP_CORRUPT`, `The backup copy of ${entry.path} in ${manifest.dir} is missing or damaged`, {
          hint: `Nothing was restored.`,
        });
    }
    const putOriginal = (action: RestoreAction): Step =>
      original ? {kind: `write`, entry, bytes: original, mode: entry.mode, action} : {kind: `remove`, entry};
    const current = await readIfExists(entry.path);
    const currentHash = current ? sha256(current) : null;
    if (current === null) {
      steps.push(original ? putOriginal(`restored`) : {kind: `none`, entry});
    } else if (currentHash === entry.sha256After) {
      steps.push(putOriginal(original ? `restored` : `removed`));
    } else if (currentHash === entry.sha256Before) {
      steps.push({kind: `none`, entry});
    } else {
      const reverted = revertEdits(entry, current, original);
      if (typeof reverted === `string`) {
        if (opts.force) steps.push(putOriginal(original ? `restored` : `removed`));
        else conflicts.push(`${entry.path} (${reverted})`);
      } else if (reverted === null) {
        steps.push({kind: `remove`, entry});
      } else {
        steps.push({kind: `write`, entry, bytes: reverted, mode: null, action: `reverted-edits`});
      }
    }
  }
  if (conflicts.length > 0)
    throw new CapitError(`CAPIT_RESTORE_CONFLICT`, `Cannot restore ${agent}: ${conflicts.join(`; `)} changed since capit wrote it`, {
      hint: `Nothing was restored. Use --force to put back the original file(s) from ${manifest.dir} anyway (later changes to them are lost).`,
    });

  // Execute; on failure put back what this restore already changed.
  const undo: {entry: BackupFileEntry; bytes: Buffer | null; mode: number | null}[] = [];
  const report: RestoreReport = {backupDir: manifest.dir, files: []};
  try {
    for (const step of steps) {
      const {entry} = step;
      if (step.kind === `none`) {
        report.files.push({path: entry.path, action: `unchanged`});
        continue;
      }
      const before = await readIfExists(entry.path);
      const st = before ? await fs.stat(entry.path) : null;
      undo.push({entry, bytes: before, mode: st ? st.mode & 0o7777 : null});
      if (step.kind === `remove`) {
        await fs.rm(entry.path, {force: true});
        report.files.push({path: entry.path, action: `removed`});
      } else {
        await putBack(entry.path, step.bytes, step.mode, entry.secret);
        report.files.push({path: entry.path, action: step.action});
      }
    }
    // Directories the install created go too, but only while empty: anything put there since stays, with its folder.
    await removeCreatedDirs(manifest.createdDirs);
    const stored: StoredManifest & {dir?: string} = {...manifest, restoredAt: new Date().toISOString()};
    delete stored.dir;
    await writeManifest(manifest.dir, stored);
  } catch (err) {
    for (const u of undo.reverse()) await putBack(u.entry.path, u.bytes, u.mode, u.entry.secret).catch(() => {});
    throw err;
  }
  return report;
}

/**
 * Reverts only capit's edits in a file changed since: the new bytes, `null` when nothing but capit's own content was
 * left in a file capit created (remove it), or a string saying why it cannot (an edited value changed since).
 */
function revertEdits(entry: BackupFileEntry, current: Buffer, original: Buffer | null): Buffer | null | string {
  let doc: EditableDocument;
  let orig: EditableDocument;
  try {
    doc = openDocument(entry.format, decode(current, entry.path), entry.path);
    orig = openDocument(entry.format, original ? decode(original, entry.path) : ``, entry.path);
  } catch (err) {
    return err instanceof UnparseableFileError ? `it no longer parses` : (err as Error).message;
  }
  const changed: string[] = [];
  const paths: JsonPath[] = [];
  for (const edit of entry.edits) {
    if (paths.some(p => isDeepStrictEqual(p, edit.path))) continue;
    paths.push(edit.path);
    if (hashValue(doc.read(edit.path)) !== edit.sha256Written) changed.push(formatPath(edit.path));
  }
  if (changed.length > 0) return `${changed.join(`, `)} changed`;
  // Ancestors first; a path inside one already reverted is covered by it.
  paths.sort((a, b) => a.length - b.length);
  const done: JsonPath[] = [];
  try {
    for (const p of paths) {
      if (done.some(d => d.length <= p.length && d.every((seg, i) => seg === p[i]))) continue;
      copyValue(doc, orig, p);
      done.push(p);
    }
  } catch (err) {
    return (err as Error).message;
  }
  if (!entry.existed && isEmptyDoc(doc)) return null;
  return Buffer.from(doc.text(), `utf8`);
}
