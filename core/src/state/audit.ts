// The audit log: one JSON line per cap change capit makes (top-up, take-back; rotate, gc and run append theirs through
// `appendAudit`). Append-only, 0600, in capit's state dir. Never holds a secret: only names, ids and amounts.
import fs   from 'node:fs/promises';
import path from 'node:path';

import {ensureDir} from '../files/atomic.js';

export interface AuditEntry {
  /** ISO time of the change; filled in by appendAudit when omitted. */
  time?: string;
  /** What changed, e.g. `topup`, `take-back`, `rotate`, `rotate-failed`, `gc`. */
  action: string;
  platform?: string;
  keyName?: string;
  keyId?: string | null;
  /** The agent holding the key, if any. */
  agent?: string | null;
  /** Caps in USD for cap changes; null = no cap (or unknown). */
  oldCapUsd?: number | null;
  newCapUsd?: number | null;
  /** One line saying why, e.g. `capit topup claude 5 --for 2h`, `timer expired`. */
  reason?: string;
  /** For a timed raise: when it is to be taken back (ISO). */
  until?: string | null;
  /** `capit rotate`: the key that replaces `keyName`. */
  successor?: string;
  /** `capit gc`: what kind of leftover was removed, and the backup folder when it was one. */
  kind?: string;
  backupDir?: string;
}

export function auditPath(stateDir: string): string {
  return path.join(stateDir, `audit.jsonl`);
}

/**
 * Appends one line. `O_APPEND` writes of one short line are not interleaved between processes, so no lock is needed;
 * the file is created 0600 (and tightened if an older one is looser).
 */
export async function appendAudit(stateDir: string, entry: AuditEntry): Promise<void> {
  await ensureDir(stateDir, 0o700);
  const file = auditPath(stateDir);
  const line = `${JSON.stringify({time: entry.time ?? new Date().toISOString(), ...entry})}\n`;
  const handle = await fs.open(file, `a`, 0o600);
  try {
    await handle.chmod(0o600);
    await handle.appendFile(line, `utf8`);
  } finally {
    await handle.close();
  }
}
