// `capit gc`: lists (and with --yes removes) what capit left behind: session keys that expired or outlived their run,
// old keys whose rotation finished, ledger entries for keys the provider no longer has, stuck pending entries, and
// backups beyond a kept count per agent.
import fs   from 'node:fs/promises';
import path from 'node:path';

import type {CapitContext}  from '../context.js';
import {findPlatform}       from '../context.js';
import {InputError}         from '../errors.js';
import {ensureDir}          from '../files/atomic.js';
import {listBackups}        from '../files/changes.js';
import {withLock}           from '../files/lock.js';
import type {PlatformContext, PlatformDefinition} from '../plugin.js';
import {callPlugin}         from '../platforms/context.js';
import {openPlatformSession} from '../platforms/session.js';
import {readLedger, updateLedger} from '../state/ledger.js';
import type {LedgerEntry}   from '../state/ledger.js';
import {appendAudit} from '../state/audit.js';
import {capitPaths}         from '../state/paths.js';
import {deleteByName}       from '../issue/recover.js';
import {sessionRunEnded}    from '../issue/run.js';

export interface GcOptions {
  yes: boolean;
  json: boolean;
  keepBackups?: string;
}

export type GcKind = `session-key` | `rotated-key` | `gone-at-provider` | `stuck-pending` | `old-backup`;

export interface GcItem {
  kind: GcKind;
  /** What it is, one line (no secret). */
  what: string;
  /** What --yes does. */
  action: string;
  platform?: string;
  key?: string;
  backupDir?: string;
  /** Set with --yes: whether it was done, or why not. */
  done?: boolean;
  error?: string;
}

const DAY_MS = 24 * 60 * 60 * 1000;

function parseKeep(input: string | undefined): number {
  if (input === undefined) return 10;
  if (!/^\d+$/.test(input) || Number(input) < 1 || Number(input) > 10_000)
    throw new InputError(`Invalid --keep-backups "${input}": expected a whole number of backups per agent, 1 or more`);
  return Number(input);
}

const sameEntry = (a: LedgerEntry, b: LedgerEntry) => a.name === b.name && a.platform === b.platform && a.status === b.status;


/** `capit gc [--yes] [--json] [--keep-backups N]`. */
export async function collectGarbage(opts: GcOptions, ctx: CapitContext): Promise<number> {
  const keep = parseKeep(opts.keepBackups);
  const paths = capitPaths(ctx.env);
  const items: GcItem[] = [];
  const warnings: string[] = [];
  // Platforms whose keys could not be listed: gc says so and exits 1, as `keys list` does.
  let unchecked = 0;

  await withLock(paths.state, async () => {
    const ledger = await readLedger(paths.state);
    const now = Date.now();
    const live = (k: LedgerEntry) => k.id !== undefined && (k.status === `active` || k.status === `disabled`);

    // Keys, per platform: one listing of the provider's keys decides which entries point at nothing.
    const platforms = [...new Set(ledger.filter(k => k.id !== undefined || k.status === `pending`).map(k => k.platform))].sort();
    const sessions = new Map<string, {def: PlatformDefinition; pctx: PlatformContext}>();
    for (const id of platforms) {
      const plugin = findPlatform(ctx.plugins, id);
      if (!plugin) {
        warnings.push(`${id}: its platform plugin is not installed; its keys were not checked`);
        continue;
      }
      let session: {def: PlatformDefinition; pctx: PlatformContext};
      let ids: Set<string>;
      try {
        session = await openPlatformSession(plugin, ctx);
        ids = new Set<string>();
        await callPlugin(id, `listKeys`, async () => {
          for await (const key of session.def.listKeys(session.pctx)) ids.add(key.id);
        });
      } catch (error) {
        warnings.push(`${id}: its keys could not be listed (${(error as Error).message}); they were not checked`);
        unchecked++;
        continue;
      }
      sessions.set(id, session);
      for (const entry of ledger.filter(k => k.platform === id)) {
        const label = `"${entry.name}"${entry.agent ? ` (${entry.agent})` : ``}`;
        const expired = entry.expiresAt !== null && Date.parse(entry.expiresAt) <= now;
        if (live(entry) && !ids.has(entry.id!)) {
          // An agent still holding the dead key keeps its entry (marked deleted), so doctor and keys list can say so.
          // A session key is never in an agent file: nothing holds it.
          const held = !entry.session && entry.agent !== null && !entry.restoredAt && entry.status === `active`;
          items.push({kind: `gone-at-provider`, platform: id, key: entry.name, what: `${label}: ${id} no longer has this key${held ? ` (${entry.agent} still holds it)` : ``}`, action: held ? `mark the ledger entry deleted` : `drop the ledger entry`});
        } else if (live(entry) && entry.session && (expired || sessionRunEnded(entry))) {
          items.push({kind: `session-key`, platform: id, key: entry.name, what: `${label}: a capit run session key${expired ? ` that expired at ${entry.expiresAt}` : ` whose run has ended`}`, action: `delete the key and drop the entry`});
        } else if (live(entry) && entry.rotatedTo && ledger.some(k => k.name === entry.rotatedTo && k.status === `active`)) {
          items.push({kind: `rotated-key`, platform: id, key: entry.name, what: `${label}: replaced by "${entry.rotatedTo}" in a rotation that could not delete it`, action: `delete the key and mark the entry deleted`});
        } else if (entry.status === `pending` && !entry.backupDir && now - Date.parse(entry.createdAt) > DAY_MS) {
          // backupDir unset: no agent file holds this key (recover.ts), so deleting it cannot break an agent.
          items.push({kind: `stuck-pending`, platform: id, key: entry.name, what: `${label}: an install left pending since ${entry.createdAt}${entry.pendingNote ? ` (${entry.pendingNote})` : ``}`, action: `delete the key if it exists and drop the entry`});
        } else if (entry.status === `pending` && entry.backupDir && now - Date.parse(entry.createdAt) > DAY_MS) {
          warnings.push(`${label}: an install left pending since ${entry.createdAt} whose files changed since; gc leaves it alone (check ${entry.files.join(`, `)})`);
        }
      }
    }

    // Backups: the newest `keep` per agent stay, and so does every backup a recorded key or the restore chain needs.
    // Kept whatever their age: a pending install's backup (recovery needs it), the backup of the key each agent holds
    // and of every key it replaced by rotation (restore walks back through them to the original files).
    const {heldKeys} = await import(`../issue/rotate.js`);
    const protectedDirs = new Set(ledger.flatMap(k => (k.status === `pending` && k.backupDir ? [k.backupDir] : [])));
    for (const held of heldKeys(ledger).values()) {
      for (let k: LedgerEntry | undefined = held, hops = 0; k && hops < 1000; hops++) {
        if (k.backupDir) protectedDirs.add(k.backupDir);
        const from: string | undefined = k.rotatedFrom;
        k = from === undefined ? undefined : ledger.find(e => e.name === from && e.agent === held.agent);
      }
    }
    const backupRoot = path.join(paths.state, `backups`);
    const agents = await fs.readdir(backupRoot).catch(() => [] as string[]);
    for (const agent of agents.sort()) {
      let backups;
      try {
        backups = await listBackups(paths.state, agent);
      } catch {
        continue;
      }
      for (const backup of backups.slice(keep)) {
        if (protectedDirs.has(backup.dir)) continue;
        items.push({kind: `old-backup`, backupDir: backup.dir, what: `${agent}: backup ${path.basename(backup.dir)} (key "${backup.keyName}")`, action: `remove the backup directory`});
      }
    }

    if (!opts.yes) return;
    for (const item of items) {
      try {
        await removeItem(item, sessions, paths.state);
        item.done = true;
        await appendAudit(paths.state, {action: `gc`, kind: item.kind, ...(item.platform ? {platform: item.platform} : {}), ...(item.key ? {keyName: item.key} : {}), ...(item.backupDir ? {backupDir: item.backupDir} : {})});
      } catch (error) {
        item.done = false;
        item.error = (error as Error).message;
      }
    }
  }, {stderr: ctx.stderr});

  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({dryRun: !opts.yes, keepBackups: keep, items, warnings, uncheckedPlatforms: unchecked}, null, 2)}\n`);
  } else {
    for (const w of warnings) ctx.stderr.write(`warning: ${w}\n`);
    if (items.length === 0) ctx.stdout.write(unchecked > 0 ? `Nothing to clean up on the platforms that could be checked.\n` : `Nothing to clean up.\n`);
    else if (!opts.yes) {
      ctx.stdout.write(`Dry run — nothing was changed. With --yes, capit gc would:\n`);
      for (const item of items) ctx.stdout.write(`  ${item.action}: ${item.what}\n`);
    } else {
      for (const item of items) ctx.stdout.write(item.done ? `  done: ${item.action}: ${item.what}\n` : `  FAILED: ${item.action}: ${item.what} (${item.error})\n`);
    }
  }
  return items.some(i => i.done === false) || unchecked > 0 ? 1 : 0;
}

async function removeItem(item: GcItem, sessions: Map<string, {def: PlatformDefinition; pctx: PlatformContext}>, stateDir: string): Promise<void> {
  if (item.kind === `old-backup`) {
    await fs.rm(item.backupDir!, {recursive: true, force: true});
    return;
  }
  const ledger = await readLedger(stateDir);
  const entry = ledger.find(k => k.name === item.key && k.platform === item.platform);
  if (!entry) return;
  const {def, pctx} = sessions.get(item.platform!)!;
  if (item.kind === `gone-at-provider`) {
    if (item.action.startsWith(`mark`))
      await updateLedger(stateDir, keys => keys.map(k => (sameEntry(k, entry) ? {...k, status: `deleted` as const, deletedAt: new Date().toISOString()} : k)));
    else await updateLedger(stateDir, keys => keys.filter(k => !sameEntry(k, entry)));
    return;
  }
  if (item.kind === `stuck-pending` && entry.id === undefined) {
    const found = await deleteByName(def, pctx, entry.name);
    if (found.state === `failed`) throw new Error(found.message);
  } else {
    const {deleteOldKey} = await import(`../issue/rotate.js`);
    const deleted = await deleteOldKey(def, pctx, entry);
    if (!deleted.ok) throw new Error(deleted.text);
  }
  if (item.kind === `rotated-key`)
    await updateLedger(stateDir, keys => keys.map(k => (sameEntry(k, entry) ? {...k, status: `deleted` as const, deletedAt: new Date().toISOString()} : k)));
  else
    await updateLedger(stateDir, keys => keys.filter(k => !sameEntry(k, entry)));
}
