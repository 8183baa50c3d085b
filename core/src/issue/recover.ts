// Recovery of installs a killed or crashed capit run left pending. Runs at the start of every run that takes the lock
// (an install, a restore), before anything new happens.
//
// THE INVARIANT (README "What capit guarantees") — at every instant:
//  (a) each agent file holds its old or its new bytes (atomic renames; files/atomic.ts);
//  (b) each key alive at the provider is in the ledger with enough recorded to decide its fate: a `pending` entry is
//      written before the create request, the key id as soon as it is known, the backup dir (whose manifest holds the
//      old and new hash of every file, its temp name and the dirs to create) before the first agent file is touched;
//  (c) recovery never deletes a key an agent file holds: it reads the agent files first and completes (every file
//      holds capit's edits) or rolls back (otherwise) a multi-file install as one unit; in a file someone changed
//      since capit wrote it only capit's own edited values are reverted (their change stays). A file whose edited
//      values are neither capit's nor the old ones cannot be decided — it and the key are left alone, the entry stays
//      pending, and `capit restore <agent>` (which can use that pending backup) finishes the job;
//  (d) no capit temp file (which may hold the new secret) beside a planned file survives the next run.
// Every step here is idempotent: a kill during recovery is recovered the same way by the run after it.
import type {CapitContext}          from '../context.js';
import {CapitError, ProviderError}  from '../errors.js';
import path from 'node:path';

import {removeStrayTempFiles, removeStrayTempFilesIn} from '../files/atomic.js';
import {settleInstall} from '../files/index.js';
import type {SettleOutcome} from '../files/index.js';
import type {PlatformContext, PlatformDefinition, ProviderKey} from '../plugin.js';
import {callPlugin}                 from '../platforms/context.js';
import {ledgerPath, readLedger, updateLedger} from '../state/ledger.js';
import type {LedgerEntry}           from '../state/ledger.js';
import {crashPoint}                 from './crash.js';

export interface PlatformSession {
  def: PlatformDefinition;
  pctx: PlatformContext;
}

/** The session of a platform whose master key this run can use without asking (`undefined`: none). */
export type SessionFor = (platform: string) => Promise<PlatformSession | undefined>;

const samePending = (a: LedgerEntry, b: LedgerEntry) => a.status === `pending` && a.name === b.name && a.platform === b.platform;

function sessionLookup(session: PlatformSession | SessionFor | undefined): SessionFor {
  if (typeof session === `function`) return session;
  return async platform => (session?.def.id === platform ? session : undefined);
}

/**
 * Settles every pending ledger entry. Files are settled for every platform; keys are deleted for the platforms whose
 * session `session` gives (an install passes its own platform's; restore every one whose master key is at hand
 * without a prompt) — the others keep their entry, and the user is told which key is kept and what settles it.
 * The caller holds the state lock.
 */
export async function recoverInterruptedInstalls(stateDir: string, ctx: Pick<CapitContext, `stderr`>, session?: PlatformSession | SessionFor): Promise<{undone: string[]}> {
  const sessionFor = sessionLookup(session);
  // Agents whose interrupted install this recovery undid (files put back or capit's edits reverted).
  const undone: string[] = [];
  // The ledger's own temp files (a run killed while writing it) hold no secret but must not pile up.
  await removeStrayTempFiles(ledgerPath(stateDir));
  const pending = (await readLedger(stateDir)).filter(k => k.status === `pending`);
  for (const entry of pending) {
    const label = `"${entry.name}"${entry.agent ? ` (${entry.agent})` : ``}`;
    for (const file of entry.files) await removeStrayTempFiles(file);
    // The backup copies and the manifest are written through temp files too; an old file copied there may hold a key.
    if (entry.backupDir) for (const dir of [entry.backupDir, path.join(entry.backupDir, `files`)]) await removeStrayTempFilesIn(dir);

    if (entry.backupDir) {
      let outcome: SettleOutcome;
      try {
        outcome = await settleInstall(entry.backupDir);
      } catch (error) {
        if (!(error instanceof CapitError)) throw error;
        const note = `${error.message}; capit left the files and the key alone`;
        await updateLedger(stateDir, keys => keys.map(k => (samePending(k, entry) ? {...k, pendingNote: note} : k)));
        ctx.stderr.write(`warning: an earlier capit run was interrupted while installing ${label}: ${note}.\n`);
        continue;
      }
      if (outcome.state === `complete`) {
        await updateLedger(stateDir, keys => keys.map(k => (samePending(k, entry) ? withoutNote({...k, status: `active`}) : k)));
        const since = outcome.changedSince.length > 0 ? ` (${outcome.changedSince.join(`, `)} changed since, and still holds capit's edits)` : ``;
        ctx.stderr.write(`note: an earlier capit run was interrupted after installing ${label}; every file holds the new key${since}, so the install was completed.\n`);
        continue;
      }
      if (outcome.state === `conflict`) {
        const agent = entry.agent ?? `the agent`;
        const note = `${outcome.changed.join(`, `)} changed since capit began writing it, and capit cannot tell whether it still holds capit's edits; capit left the file(s) and the key alone`;
        await updateLedger(stateDir, keys => keys.map(k => (samePending(k, entry) ? {...k, pendingNote: note} : k)));
        ctx.stderr.write(`warning: an earlier capit run was interrupted while installing ${label}: ${note}. \`capit restore ${agent}\` undoes that install from its backup (with --force if it refuses: the original file(s) come back and later changes to them are lost); its key is deleted once no file holds it.\n`);
        continue;
      }
      // Every file holds its old bytes (or, where changed since, none of capit's edits) now: no agent file holds the key.
      await updateLedger(stateDir, keys => keys.map(k => (samePending(k, entry) ? {...k, backupDir: null} : k)));
      if (outcome.state === `rolled-back` && outcome.restored.length + outcome.reverted.length > 0) {
        const parts = [
          ...outcome.restored.length > 0 ? [`${outcome.restored.join(`, `)} put back as it was`] : [],
          ...outcome.reverted.length > 0 ? [`only capit's own edits reverted in ${outcome.reverted.join(`, `)} (changed since; that change was kept)`] : [],
        ];
        ctx.stderr.write(`note: an earlier capit run was interrupted while installing ${label}; ${parts.join(`; `)}.\n`);
        if (entry.agent) undone.push(entry.agent);
      }
      crashPoint(`recovery-after-settle`);
    }

    await settlePendingKey(stateDir, ctx, entry, sessionFor);
  }
  return {undone};
}

/**
 * A pending entry no agent file holds (its backup settled or never made): deletes its key through the platform's
 * session, or, with none at hand, keeps the entry and says which key may still exist and what deletes it.
 */
export async function settlePendingKey(stateDir: string, ctx: Pick<CapitContext, `stderr`>, entry: LedgerEntry, sessionFor: SessionFor): Promise<`deleted` | `kept`> {
  const label = `"${entry.name}"${entry.agent ? ` (${entry.agent})` : ``}`;
  const session = await sessionFor(entry.platform).catch(() => undefined);
  if (!session) {
    // This run cannot delete it (a command that deletes no keys, or no master key of that platform without a prompt).
    const restore = entry.agent ? `\`capit restore ${entry.agent}\`` : `\`capit restore\``;
    const note = `its key may still exist at ${entry.platform}; the next capit run that has the ${entry.platform} master key deletes it (an install of a new ${entry.platform} key, or ${restore} with the master key set or stored)`;
    await updateLedger(stateDir, keys => keys.map(k => (samePending(k, entry) ? {...k, pendingNote: note} : k)));
    ctx.stderr.write(`note: an earlier capit run was interrupted while creating ${label}; no agent file holds it, but ${note}.\n`);
    return `kept`;
  }
  const outcome = await deleteUnusedKey(session, entry);
  if (outcome.settled) await updateLedger(stateDir, keys => keys.filter(k => !samePending(k, entry)));
  else await updateLedger(stateDir, keys => keys.map(k => (samePending(k, entry) ? {...k, pendingNote: outcome.message} : k)));
  ctx.stderr.write(`note: an earlier capit run was interrupted while creating ${label}. ${outcome.message}\n`);
  return outcome.settled ? `deleted` : `kept`;
}

function withoutNote(entry: LedgerEntry): LedgerEntry {
  const {pendingNote: _note, ...rest} = entry;
  return rest;
}

/** A key no agent file holds: delete it by id, or find it by name when the id never reached capit. */
async function deleteUnusedKey({def, pctx}: PlatformSession, entry: LedgerEntry): Promise<{settled: boolean; message: string}> {
  if (entry.id === undefined) {
    const found = await deleteByName(def, pctx, entry.name);
    return {settled: found.state !== `failed`, message: found.message};
  }
  try {
    await callPlugin(def.id, `deleteKey`, () => def.deleteKey(pctx, entry.id!));
  } catch (error) {
    if (error instanceof ProviderError && error.kind === `not-found`) return {settled: true, message: `Its key was already gone.`};
    return {settled: false, message: `Its key could not be deleted yet (${(error as Error).message}); capit will try again on its next run.`};
  }
  return {settled: true, message: `No agent file held its key, so the key was deleted.`};
}

export type ByNameOutcome = {state: `none` | `deleted` | `failed`; message: string};

/** Looks a key up by its unique name and deletes every match (its secret never reached an agent file). */
export async function deleteByName(def: PlatformDefinition, pctx: PlatformContext, keyName: string): Promise<ByNameOutcome> {
  try {
    const matches: ProviderKey[] = [];
    await callPlugin(def.id, `listKeys`, async () => {
      for await (const key of def.listKeys(pctx)) if (key.name === keyName) matches.push(key);
    });
    if (matches.length === 0) return {state: `none`, message: `capit looked it up by name: no key "${keyName}" exists.`};
    for (const key of matches) {
      try {
        await callPlugin(def.id, `deleteKey`, () => def.deleteKey(pctx, key.id));
      } catch (error) {
        if (!(error instanceof ProviderError && error.kind === `not-found`)) throw error;
      }
    }
    return {state: `deleted`, message: `capit found the key "${keyName}" by name (its secret never reached an agent file) and deleted it.`};
  } catch (error) {
    return {state: `failed`, message: `A key "${keyName}" may exist at the provider: looking it up failed (${(error as Error).message}); capit kept a record and will look again on its next run.`};
  }
}

/**
 * Any command other than an install or a restore (which recover under their own lock): settle the agent files of an
 * install a killed run left half done, so no command ever leaves an agent with a mix of old and new files. Keys are
 * not deleted here (no master key is at hand); their entries stay pending for the next run of their platform. It
 * queues on the lock like an install: a live install finishes first (its entry is then no longer pending), and the
 * lock of a killed run is taken over once stale.
 */
export async function recoverBeforeCommand(stateDir: string, ctx: Pick<CapitContext, `stderr`>): Promise<void> {
  const {withLock} = await import(`../files/lock.js`);
  try {
    await withLock(stateDir, () => recoverInterruptedInstalls(stateDir, ctx), {stderr: ctx.stderr});
  } catch (error) {
    ctx.stderr.write(`warning: could not finish an install an earlier capit run left pending: ${(error as Error).message}\n`);
  }
}
