import fs   from 'node:fs/promises';
import path from 'node:path';

import {CapitError}         from '../errors.js';
import {ensureDir, writeFileAtomic} from '../files/atomic.js';
import type {ResetWindow}   from '../plugin.js';

/** One key capit issued. Never holds the secret. */
export interface LedgerEntry {
  /** Provider id of the key; absent while the create request is in flight. */
  id?: string;
  name: string;
  platform: string;
  agent: string | null;
  capUsd: number;
  reset: ResetWindow | null;
  expiresAt: string | null;
  createdAt: string;
  /**
   * `pending`: an install in progress, or one a killed run left: `id` unset = the create may or may not have made a
   * key (settled by a lookup by name); `id` set, `backupDir` unset = no agent file touched yet; `backupDir` set = its
   * manifest says what each file held before and will hold after (see issue/recover.ts); `active`: issued;
   * `disabled`: turned off with `capit keys disable` (enable makes it `active` again); `deleted`: deleted with
   * `capit keys delete` (kept so capit can still say which agent holds the dead key).
   */
  status: `pending` | `active` | `rolled-back` | `disabled` | `deleted`;
  /** When `capit keys delete` deleted it. */
  deletedAt?: string;
  /** When `capit keys disable` last disabled it. */
  disabledAt?: string;
  /** When `capit restore` put the agent's config back: the agent no longer holds this key. */
  restoredAt?: string;
  /** The agent files the install writes (planned before the key is created; real paths). */
  files: string[];
  backupDir: string | null;
  /**
   * A `capit run` session key: given to one process through its environment, never written to an agent file, and
   * deleted when that process ends. Always has `expiresAt`, so a key a killed run left dies by itself; `capit run`
   * deletes its platform's expired session keys before minting (and `capit gc` removes leftovers).
   */
  session?: boolean;
  /**
   * A session key only: the `capit run` process that minted it and the child it started, on `host`. Once neither is
   * alive, `capit gc` and the next `capit run` delete the key before it expires.
   */
  run?: {host: string; pid: number; childPid?: number};
  /** Pending only: why recovery could not settle it yet (shown to the user; cleared once settled). */
  pendingNote?: string;
  /** Whether BYOK spend counts against the cap (null: the platform has no BYOK); absent in entries older than it. */
  byokCounted?: boolean | null;
  /**
   * `capit rotate`: the successor's key name. Set before the successor is created; the old key is deleted only once
   * that successor's entry is `active` (by rotate, or later by `capit gc`). Removed again when the rotation failed.
   */
  rotatedTo?: string;
  /** `capit rotate`: the name of the key this one replaced. */
  rotatedFrom?: string;
  /** Raises made with `capit topup`, oldest first (see keys/topup.ts). */
  topups?: TopupRecord[];
}

/** One `capit topup` raise. Amounts in USD. */
export interface TopupRecord {
  /** When the raise was asked for (ISO). */
  at: string;
  amountUsd: number;
  /** The cap before and after the raise, as the provider reported them. */
  fromCapUsd: number;
  toCapUsd: number;
  /** When to take the raise back (ISO); null = a permanent raise. */
  until: string | null;
  /**
   * `applying`: recorded before the request (a killed run leaves it so; the take-back then never goes below
   * `fromCapUsd`); `applied`; `taken-back`: the timer ran out and the cap was lowered (or the key is gone).
   */
  state: `applying` | `applied` | `taken-back`;
  /** When it was taken back, and to what cap (null when the key was gone). */
  takenBackAt?: string;
  takenBackToUsd?: number | null;
  /** Set once capit has said the take-back is due but could not do it (no master key without prompting). */
  dueNoticeShown?: boolean;
  /**
   * The cap a take-back set out to reach, recorded before its request. A retry recomputes the aim from the records
   * (the same cap, unless more was spent since), so this says what a killed take-back was doing, for the record.
   */
  takingBackToUsd?: number;
}

/**
 * A key and the keys it replaced (`capit rotate`), oldest first. Raises and their timers follow the agent's key
 * through rotations: the daily ceiling counts them all, and a pending take-back lowers the successor.
 */
export function rotationLineage(ledger: readonly LedgerEntry[], entry: LedgerEntry): LedgerEntry[] {
  const chain = [entry];
  for (let from = entry.rotatedFrom; from !== undefined && chain.length <= ledger.length;) {
    const prev = ledger.find(k => k.platform === entry.platform && k.name === from);
    if (!prev || chain.includes(prev)) break;
    chain.unshift(prev);
    from = prev.rotatedFrom;
  }
  return chain;
}

/** The key that now carries this one's raises: its newest active successor through rotations, else itself. */
export function rotationHeir(ledger: readonly LedgerEntry[], entry: LedgerEntry): LedgerEntry {
  let current = entry;
  const seen = new Set<LedgerEntry>([entry]);
  for (;;) {
    const next = current.rotatedTo === undefined ? undefined
      : ledger.find(k => k.platform === current.platform && k.name === current.rotatedTo && k.status === `active`);
    if (!next || seen.has(next)) return current;
    seen.add(next);
    current = next;
  }
}

/**
 * The timed raises of a ledger entry not taken back yet (`keys list` shows them). With the ledger, those of the keys
 * it replaced too (`capit rotate`): they are taken back from it.
 */
export function pendingTakeBacks(entry: LedgerEntry, ledger?: readonly LedgerEntry[]): {amountUsd: number; until: string}[] {
  const owners = ledger ? rotationLineage(ledger, entry) : [entry];
  return owners.flatMap(k => k.topups ?? []).filter(t => t.until !== null && t.state !== `taken-back`).map(t => ({amountUsd: t.amountUsd, until: t.until!}));
}

/** Now, or `CAPIT_TEST_NOW` (an ISO time) so tests can move past a take-back time without waiting for it. */
export function clock(env: Readonly<Record<string, string | undefined>>): number {
  const fake = env.CAPIT_TEST_NOW ? Date.parse(env.CAPIT_TEST_NOW) : NaN;
  return Number.isFinite(fake) ? fake : Date.now();
}

/** The timed raises of an entry whose time is up and that were not taken back yet. */
export function dueTopups(entry: Pick<LedgerEntry, `topups`>, now: number): TopupRecord[] {
  return (entry.topups ?? []).filter(t => t.state !== `taken-back` && t.until !== null && Date.parse(t.until) <= now);
}

interface LedgerFile {
  version: 1;
  keys: LedgerEntry[];
}

export function ledgerPath(stateDir: string): string {
  return path.join(stateDir, `ledger.json`);
}

export async function readLedger(stateDir: string): Promise<LedgerEntry[]> {
  const file = ledgerPath(stateDir);
  let text: string;
  try {
    text = await fs.readFile(file, `utf8`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === `ENOENT`) return [];
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as LedgerFile;
    if (!Array.isArray(parsed.keys)) throw new Error(`no "keys" array`);
    return parsed.keys;
  } catch (error) {
    throw new CapitError(`CAPIT_LEDGER_CORRUPT`, `The key ledger ${file} is corrupt (${(error as Error).message})`, {
      hint: `Move it aside; capit will start a new one. Your keys at the provider are not affected.`,
    });
  }
}

/**
 * Read-modify-write; callers hold the capit lock. By default not fsynced (the rename keeps it whole if capit dies);
 * `durable` for an intent that must survive a power cut because what follows cannot be undone without it (the
 * pending entry before a create request, the backup dir before the first agent file is written).
 */
export async function updateLedger(stateDir: string, change: (keys: LedgerEntry[]) => LedgerEntry[], opts: {durable?: boolean} = {}): Promise<void> {
  const keys = change(await readLedger(stateDir));
  await ensureDir(stateDir, 0o700);
  const body: LedgerFile = {version: 1, keys};
  await writeFileAtomic(ledgerPath(stateDir), `${JSON.stringify(body, null, 2)}\n`, {mode: 0o600, durable: opts.durable ?? false});
}
