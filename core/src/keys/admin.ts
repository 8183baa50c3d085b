// Key administration shared by the CLI and the GUI: resolve names/globs to keys, then delete, disable or enable them
// with bounded concurrency per platform (platforms in parallel), a result per key, and the ledger kept in step.
import pLimit from 'p-limit';

import type {CapitContext}          from '../context.js';
import {CapitError, ProviderError}  from '../errors.js';
import {withLock}                   from '../files/lock.js';
import {redactText}                 from '../issue/redact.js';
import {callPlugin}                 from '../platforms/context.js';
import {updateLedger}               from '../state/ledger.js';
import type {LedgerEntry}           from '../state/ledger.js';
import {capitPaths}                 from '../state/paths.js';
import {collectKeys}                from './list.js';
import type {ListedKey}             from './list.js';
import {checkPattern}               from './match.js';
import {platformSession, requirePlatform} from '../platforms/session.js';

export const DEFAULT_CONCURRENCY = 8;
// Extra attempts after a 429 that core's HTTP client already retried (it gives up after 3).
const RATE_LIMIT_ATTEMPTS = 6;
const MAX_WAIT_MS = 10_000;

export interface KeyActionResult {
  platform: string;
  id: string;
  name: string;
  ok: boolean;
  /** Why it failed: one line, no secret. */
  error?: string;
  /** The agent whose config holds this key (from capit's ledger), else null. */
  agent: string | null;
  /** Set when nothing had to be done, e.g. `already deleted`, `already disabled`. */
  note?: string;
}

export interface KeyActionOptions {
  /** Requests in flight per platform (default 8). */
  concurrency?: number;
  /** Called as each key finishes, in completion order. */
  onResult?: (result: KeyActionResult) => void;
}

export interface ResolvedKeys {
  keys: ListedKey[];
  errors: {platform: string; message: string}[];
  /** Platforms whose keys were listed (possibly none matched). */
  listed: string[];
  /** Platforms not looked at because no master key is configured (only when no platform was named). */
  skipped: {platform: string; reason: string}[];
  /** The exit code of a named platform's failure (2 when, e.g., it has no master key), else undefined. */
  namedFailureExitCode?: number;
}

/**
 * The keys whose name matches `pattern` (a picomatch glob; a name without glob characters matches exactly) on the
 * named platform or on every configured one. Only capit's keys unless `all`.
 */
export async function resolveKeys(pattern: string, opts: {platform?: string; all?: boolean; progress?: boolean}, ctx: CapitContext): Promise<ResolvedKeys> {
  checkPattern(pattern);
  if (opts.platform !== undefined) requirePlatform(opts.platform, ctx);
  const listing = await collectKeys({platform: opts.platform, glob: pattern, all: opts.all ?? false, progress: opts.progress}, ctx);
  return {
    keys: listing.keys, errors: listing.errors.map(({platform, message}) => ({platform, message})), listed: listing.listed, skipped: listing.skipped,
    ...(opts.platform !== undefined && listing.errors.length === 1 ? {namedFailureExitCode: listing.errors[0]!.exitCode} : {}),
  };
}

/** Deletes each key; a key the provider no longer has counts as deleted (`note: 'already deleted'`). */
export function deleteKeys(keys: ListedKey[], ctx: CapitContext, opts: KeyActionOptions = {}): Promise<KeyActionResult[]> {
  return runActions(keys, ctx, opts, {
    verb: `delete`,
    async act({def, pctx}, key) {
      try {
        await callPlugin(def.id, `deleteKey`, () => def.deleteKey(pctx, key.id));
        return undefined;
      } catch (error) {
        // Listed a moment ago, gone now: deleted by someone else, or by a retry after a lost response.
        if (error instanceof ProviderError && error.kind === `not-found`) return `already deleted`;
        throw error;
      }
    },
    ledger: (entry, now) => ({...entry, status: `deleted`, deletedAt: now}),
  });
}

/** The kill switch: disables (or re-enables) each key at the provider; keys already in that state are left alone. */
export function setKeysDisabled(keys: ListedKey[], disabled: boolean, ctx: CapitContext, opts: KeyActionOptions = {}): Promise<KeyActionResult[]> {
  return runActions(keys, ctx, opts, {
    verb: disabled ? `disable` : `enable`,
    async act({def, pctx}, key) {
      if (key.disabled === disabled) return disabled ? `already disabled` : `already enabled`;
      const updated = await callPlugin(def.id, `updateKey`, () => def.updateKey(pctx, key.id, {disabled}));
      if (updated.disabled !== disabled)
        throw new CapitError(`CAPIT_NOT_APPLIED`, `the provider still reports the key as ${updated.disabled ? `disabled` : `enabled`}`);
      return undefined;
    },
    ledger: (entry, now) => disabled
      ? (entry.status === `active` || entry.status === `disabled` ? {...entry, status: `disabled`, disabledAt: now} : entry)
      : (entry.status === `disabled` ? {...entry, status: `active`} : entry),
  });
}

interface Action {
  verb: string;
  /** Returns a note when there was nothing to do; throws on failure. */
  act(session: Awaited<ReturnType<typeof platformSession>>, key: ListedKey): Promise<string | undefined>;
  ledger(entry: LedgerEntry, now: string): LedgerEntry;
}

async function runActions(keys: ListedKey[], ctx: CapitContext, opts: KeyActionOptions, action: Action): Promise<KeyActionResult[]> {
  const concurrency = Math.max(1, Math.floor(opts.concurrency ?? DEFAULT_CONCURRENCY));
  const results = new Array<KeyActionResult>(keys.length);
  const byPlatform = new Map<string, number[]>();
  keys.forEach((key, i) => byPlatform.set(key.platform, [...byPlatform.get(key.platform) ?? [], i]));

  const report = (i: number, result: KeyActionResult) => {
    results[i] = result;
    opts.onResult?.(result);
  };
  const base = (key: ListedKey) => ({platform: key.platform, id: key.id, name: key.name, agent: key.agent});

  await Promise.all([...byPlatform].map(async ([platformId, indexes]) => {
    let session;
    try {
      session = await platformSession(requirePlatform(platformId, ctx), ctx);
    } catch (error) {
      for (const i of indexes) report(i, {...base(keys[i]!), ok: false, error: describe(error)});
      return;
    }
    const limit = pLimit(concurrency);
    await Promise.all(indexes.map(i => limit(async () => {
      const key = keys[i]!;
      try {
        const note = await withRateLimitRetry(() => action.act(session, key));
        report(i, {...base(key), ok: true, ...(note === undefined ? {} : {note})});
      } catch (error) {
        report(i, {...base(key), ok: false, error: describe(error)});
      }
    })));
  }));

  const done = results.filter(r => r.ok);
  if (done.length > 0) await recordInLedger(ctx, done, action);
  return results;
}

/** core's client already retried (honouring Retry-After); a provider that keeps saying 429 gets a few more, spaced out. */
async function withRateLimitRetry<T>(fn: () => Promise<T>): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await fn();
    } catch (error) {
      if (!(error instanceof ProviderError) || error.kind !== `rate-limited` || attempt >= RATE_LIMIT_ATTEMPTS) throw error;
      const backoff = Math.min(MAX_WAIT_MS, 250 * 2 ** attempt);
      const wait = error.retryAfterSeconds === undefined ? backoff : Math.min(MAX_WAIT_MS, Math.max(error.retryAfterSeconds * 1000, 50));
      await new Promise(resolve => setTimeout(resolve, wait + Math.random() * 100));
    }
  }
}

function describe(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return redactText(message).replace(/\s+/g, ` `).trim();
}

async function recordInLedger(ctx: CapitContext, done: KeyActionResult[], action: Action): Promise<void> {
  const stateDir = capitPaths(ctx.env).state;
  const ids = new Set(done.map(r => `${r.platform}\0${r.id}`));
  const names = new Set(done.map(r => `${r.platform}\0${r.name}`));
  const now = new Date().toISOString();
  const change = (entries: LedgerEntry[]) => entries.map(entry => {
    const hit = entry.id ? ids.has(`${entry.platform}\0${entry.id}`) : names.has(`${entry.platform}\0${entry.name}`);
    return hit ? action.ledger(entry, now) : entry;
  });
  // withLock queues behind another capit run (an install) for a bounded time rather than lose the record.
  try {
    await withLock(stateDir, () => updateLedger(stateDir, change));
  } catch (error) {
    throw new CapitError(`CAPIT_LEDGER_NOT_UPDATED`,
      `The keys were ${action.verb}d at the provider, but capit's ledger could not be updated: ${describe(error)}`, {cause: error});
  }
}
