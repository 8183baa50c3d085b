// One capit run at a time may change agent files and backups.
import {AsyncLocalStorage} from 'node:async_hooks';
import path from 'node:path';
import lockfile from 'proper-lockfile';
import {CapitError} from '../errors.js';
import {ensureDir} from './atomic.js';

export const LOCK_NAME = `capit.lock`;
/** A lock whose holder stopped refreshing it for this long (crashed, killed) is taken over. */
export const LOCK_STALE_MS = 10_000;

// Lock paths held by the current async call chain, so a nested `withLock` (e.g. applyChanges inside the issue
// transaction) re-enters instead of locking itself out. Concurrent calls from elsewhere still get CAPIT_LOCKED.
const held = new AsyncLocalStorage<ReadonlySet<string>>();

export function lockPath(stateDir: string): string {
  return path.join(path.resolve(stateDir), LOCK_NAME);
}

export async function withLock<T>(stateDir: string, fn: () => Promise<T>): Promise<T> {
  const lockDir = lockPath(stateDir);
  const mine = held.getStore();
  if (mine?.has(lockDir)) return fn();

  await ensureDir(path.dirname(lockDir), 0o700);
  let compromised: Error | undefined;
  let release: () => Promise<void>;
  try {
    release = await lockfile.lock(path.dirname(lockDir), {
      lockfilePath: lockDir,
      realpath: false,
      stale: LOCK_STALE_MS,
      retries: 0,
      onCompromised: err => {
        compromised = err;
      },
    });
  } catch (err) {
    if ((err as {code?: string}).code === `ELOCKED`)
      throw new CapitError(`CAPIT_LOCKED`, `Another capit run is changing files right now`, {
        hint: `Wait for it to finish; if none is running, remove ${lockDir}`,
      });
    throw err;
  }
  try {
    const result = await held.run(new Set([...(mine ?? []), lockDir]), fn);
    if (compromised) throw new CapitError(`CAPIT_LOCK_LOST`, `capit lost its lock on ${lockDir} while changing files: ${compromised.message}`);
    return result;
  } finally {
    await release().catch(() => {});
  }
}
