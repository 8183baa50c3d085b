export {openDocument, formatPath, encodeDotenvValue, decodeDotenvValue, type EditableDocument} from './document.js';
export {resolveRealPath, writeFileAtomic, ensureDir, removeStrayTempFiles} from './atomic.js';
export {withLock, lockPath, LOCK_STALE_MS, LOCK_WAIT_MS, type LockOptions} from './lock.js';
export {
  loadTargets, computeChanges, renderDiff, applyChanges, restoreLatest, listBackups, backupsDir, sha256, hashValue,
  settleInstall, type SettleOutcome, type ApplyHooks,
  type LoadedFile, type Targets, type FileChange, type BackupMeta, type BackupFileEntry, type BackupManifest,
  type StoredManifest, type RestoreAction, type RestoreReport,
} from './changes.js';
