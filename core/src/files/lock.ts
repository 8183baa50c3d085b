// One capit run at a time may change agent files, backups and the ledger; the others queue behind it. The lock is
// taken once, at the boundary of each transaction (an install, a restore, a ledger or credentials update); the file
// functions below it (applyChanges, restoreLatest) expect it held. It is not re-entrant: a nested withLock on the same
// state dir would wait for itself until the bound and fail with CAPIT_LOCKED.
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import {CapitError} from '../errors.js';
import {ensureDir, writeFileAtomic} from './atomic.js';

export const LOCK_NAME = `capit.lock`;
/** A lock whose holder stopped refreshing it for this long (crashed, killed) is taken over. */
export const LOCK_STALE_MS = 10_000;
/** How long a run waits for another one before giving up (`CAPIT_LOCK_WAIT_MS` overrides it). */
export const LOCK_WAIT_MS = 120_000;
/** After this long waiting, say so on stderr (a silent pause looks like a hang). */
const SAY_WAITING_AFTER_MS = 1_000;

export function lockPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), LOCK_NAME);
}

/**
 * Who holds the lock: written beside the lock dir right after it is taken (proper-lockfile removes its dir with rmdir,
 * so nothing may live inside it). Lets the next run take over at once from a holder that provably died (kill -9)
 * instead of waiting for the stale timeout.
 */
interface LockOwner {
  pid: number;
  host: string;
  /** Identity of the lock dir this owner created: a dir made later by another run never matches. */
  ino: number;
  birthtimeMs: number;
}

function ownerPath(lockDir: string): string {
  return `${lockDir}.owner`;
}

async function recordOwner(lockDir: string): Promise<void> {
  try {
    const st = await fs.stat(lockDir, {bigint: false});
    const owner: LockOwner = {pid: process.pid, host: os.hostname(), ino: st.ino, birthtimeMs: st.birthtimeMs};
    await writeFileAtomic(ownerPath(lockDir), `${JSON.stringify(owner)}\n`, {mode: 0o600, durable: false});
  } catch {
    // Best effort: without it a killed run's lock is still taken over after the stale timeout.
  }
}

function isRunning(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as {code?: string}).code === `EPERM`;
  }
}

/**
 * Removes the lock dir when its recorded owner is a process on this host that is no longer running and the dir is
 * the very one that owner created. Anything uncertain (no owner file, another host, a live pid, a different dir)
 * leaves the lock alone: the stale timeout still applies.
 */
async function takeOverFromDeadOwner(lockDir: string): Promise<boolean> {
  try {
    const owner = JSON.parse(await fs.readFile(ownerPath(lockDir), `utf8`)) as Partial<LockOwner>;
    if (typeof owner.pid !== `number` || owner.pid === process.pid || owner.host !== os.hostname() || isRunning(owner.pid)) return false;
    const st = await fs.stat(lockDir);
    if (st.ino !== owner.ino || st.birthtimeMs !== owner.birthtimeMs) return false;
    await fs.rmdir(lockDir);
    await fs.rm(ownerPath(lockDir), {force: true});
    return true;
  } catch {
    return false;
  }
}

export interface LockOptions {
  /** Where the "waiting for another capit run…" line goes (default process.stderr). */
  stderr?: NodeJS.WritableStream;
  /** Give up after this long (default `CAPIT_LOCK_WAIT_MS` or 2 min). */
  maxWaitMs?: number;
}

// Test-only: `CAPIT_LOCK_STALE_MS` shortens the time after which a killed run's lock is taken over (proper-lockfile's
// floor is 2 s), so crash tests and the fault harness don't wait 10 s after every kill.
function staleMs(): number {
  const fromEnv = Number(process.env.CAPIT_LOCK_STALE_MS);
  return Number.isFinite(fromEnv) && fromEnv >= 2_000 ? fromEnv : LOCK_STALE_MS;
}

function defaultMaxWait(): number {
  const fromEnv = Number(process.env.CAPIT_LOCK_WAIT_MS);
  return Number.isFinite(fromEnv) && fromEnv >= 0 ? fromEnv : LOCK_WAIT_MS;
}

/** Runs `fn` holding the state lock; waits (bounded) while another capit run holds it. */
export async function withLock<T>(stateDir: string, fn: () => Promise<T>, opts: LockOptions = {}): Promise<T> {
  const lockDir = lockPath(stateDir);
  await ensureDir(path.dirname(lockDir), 0o700);
  let compromised: Error | undefined;
  const release = await acquire(lockDir, opts, err => {
    compromised = err;
  });
  await recordOwner(lockDir);
  try {
    const result = await fn();
    if (compromised) throw new CapitError(`CAPIT_LOCK_LOST`, `capit lost its lock on ${lockDir} while changing files: ${compromised.message}`);
    return result;
  } finally {
    // The owner record goes first: a kill between the two leaves a lock without owner, taken over once stale.
    if (!compromised) await fs.rm(ownerPath(lockDir), {force: true}).catch(() => {});
    await release().catch(() => {});
  }
}

async function acquire(lockDir: string, opts: LockOptions, onCompromised: (err: Error) => void): Promise<() => Promise<void>> {
  const maxWaitMs = opts.maxWaitMs ?? defaultMaxWait();
  const started = Date.now();
  let said = false;
  for (let attempt = 0; ; attempt++) {
    try {
      return await lockfile.lock(path.dirname(lockDir), {
        lockfilePath: lockDir, realpath: false, stale: staleMs(), retries: 0, onCompromised,
      });
    } catch (err) {
      if ((err as {code?: string}).code !== `ELOCKED`) throw err;
    }
    // A holder killed with -9 never released its lock: when it provably died, take over now, not after the timeout.
    if (await takeOverFromDeadOwner(lockDir)) continue;
    const waited = Date.now() - started;
    if (waited >= maxWaitMs)
      throw new CapitError(`CAPIT_LOCKED`, `Another capit run kept its lock for ${formatWait(waited)}; gave up waiting`, {
        hint: `Let it finish and run the command again; if no capit is running, remove ${lockDir}`,
      });
    if (!said && waited >= SAY_WAITING_AFTER_MS) {
      said = true;
      (opts.stderr ?? process.stderr).write(`waiting for another capit run to finish (lock ${lockDir})…\n`);
    }
    // Short polls with jitter: queued runs don't wake in lockstep, and a freed lock is taken within ~0.1 s.
    const pause = Math.min(50 + 25 * Math.min(attempt, 4) + Math.random() * 50, Math.max(1, maxWaitMs - waited));
    await new Promise(resolve => setTimeout(resolve, pause));
  }
}

function formatWait(ms: number): string {
  return ms >= 60_000 ? `${Math.round(ms / 6_000) / 10} min` : `${Math.round(ms / 100) / 10} s`;
}
