import fs   from 'node:fs/promises';
import path from 'node:path';

import type {CapitContext}   from '../context.js';
import {findAgent, findPlatform} from '../context.js';
import {CapitError, InputError} from '../errors.js';
import {unknownAgent}        from '../ui/suggest.js';
import {listBackups, restoreLatest} from '../files/index.js';
import {withLock}            from '../files/lock.js';
import {confirm}             from '../ui/prompt.js';
import {recoverInterruptedInstalls, settlePendingKey} from './recover.js';
import type {SessionFor}     from './recover.js';
import type {PlatformDefinition} from '../plugin.js';
import {loadPlugin}          from '../plugins/load.js';
import {closeSessions, masterKeyEnvNames, masterKeyState, platformSession, storedCredentials} from '../platforms/session.js';
import {readLedger, updateLedger} from '../state/ledger.js';
import {capitPaths}          from '../state/paths.js';

/**
 * Restore found nothing left to restore because recovery had just undone this agent's interrupted install: its files
 * are already as they were before it. `capit restore` reports that as done (exit 0); other callers see CAPIT_NO_BACKUP.
 */
export class InterruptedInstallUndone extends CapitError {
  constructor(readonly agent: string) {
    super(`CAPIT_NO_BACKUP`, `The interrupted install of ${agent} was undone just now (see the note above): its files are as they were before it, and no other capit change waits to be restored`, {
      exitCode: 0,
    });
  }
}

export interface RestoreOptions {
  agent: string;
  yes: boolean;
  force: boolean;
  json: boolean;
}

/** What became of the key the restored install had created (read from the ledger, never guessed). */
export type RestoredKeyState = `exists` | `disabled` | `deleted` | `pending` | `unknown`;

/** Puts back the newest backup of an agent's files; also says which key that install had created and what became of it. */
export async function restoreAgentConfig(agent: string, opts: {force: boolean}, ctx: CapitContext) {
  const paths = capitPaths(ctx.env);
  const sessionFor = sessionsWithoutPrompt(ctx);
  return withLock(paths.state, async () => {
    // An install a killed run left half done is settled first (completed or rolled back), so the backup chosen
    // below is a finished install — or one recovery could not decide, which this restore undoes (F16 in issue 10).
    const {undone} = await recoverInterruptedInstalls(paths.state, ctx, sessionFor);
    const ledger = await readLedger(paths.state);
    let report = await restoreLatest(paths.state, agent, {
      force: opts.force,
      recordedFiles: dir => ledger.find(k => k.backupDir === dir)?.files,
    }).catch((error: unknown) => {
      // Recovery just undid this agent's interrupted install (the note above): say so, not "capit has not changed…".
      // Not a failure: the files are back as they were, which is what the restore was asked for (exit 0).
      if (error instanceof CapitError && error.code === `CAPIT_NO_BACKUP` && undone.includes(agent))
        throw new InterruptedInstallUndone(agent);
      throw error;
    });
    const manifestOf = async (dir: string) => (await listBackups(paths.state, agent)).find(m => m.dir === dir);
    let manifest = await manifestOf(report.backupDir);
    // The key the agent held until now is the newest install's (the keys it replaced were deleted by rotate).
    const keyName = manifest?.keyName;
    const platform = manifest?.platform;
    const firstDir = report.backupDir;
    const restoredDirs = [report.backupDir];
    // A `capit rotate` backup holds the replaced key, which rotate deleted: going back to it would leave the agent
    // with a dead key. Restore continues through the rotation to the install before it (the chain of rotations ends at
    // the configuration from before capit's first install). Each step puts back exactly what the one after it wrote.
    while (manifest?.rotationOf) {
      try {
        report = await restoreLatest(paths.state, agent, {force: opts.force, recordedFiles: dir => ledger.find(k => k.backupDir === dir)?.files});
      } catch (error) {
        if (error instanceof CapitError && error.code === `CAPIT_NO_BACKUP`) break;
        throw error;
      }
      restoredDirs.push(report.backupDir);
      manifest = await manifestOf(report.backupDir);
    }
    // The agent no longer holds those keys: listings and `keys delete` must stop saying it does. A pending entry (an
    // install recovery could not decide) loses its backup too: its key is now held by no file and can be deleted.
    const restoredAt = new Date().toISOString();
    const entry = ledger.find(k => k.backupDir === firstDir && k.agent === agent);
    await updateLedger(paths.state, keys => keys.map(k => {
      if (!(k.backupDir !== null && restoredDirs.includes(k.backupDir) && k.agent === agent)) return k;
      if (k.status !== `pending`) return {...k, restoredAt};
      const {pendingNote: _note, ...rest} = k;
      return {...rest, backupDir: null, restoredAt};
    }));
    let keyState: RestoredKeyState = `unknown`;
    if (entry?.status === `pending`) {
      const outcome = await settlePendingKey(paths.state, ctx, {...entry, backupDir: null}, sessionFor);
      keyState = outcome === `deleted` ? `deleted` : `pending`;
    } else if (entry?.status === `deleted`) keyState = `deleted`;
    else if (entry?.status === `disabled`) keyState = `disabled`;
    else if (entry?.status === `active`) keyState = `exists`;
    return {report, keyName, platform, keyState};
  }, {stderr: ctx.stderr});
}

/**
 * Sessions for the platforms whose master key is at hand without a prompt (env var or stored): restore settles a
 * pending key of any of them. Never prompts; a platform without one, or whose key cannot be used, gives `undefined`.
 */
function sessionsWithoutPrompt(ctx: CapitContext): SessionFor {
  return async platformId => {
    const plugin = findPlatform(ctx.plugins, platformId);
    if (!plugin) return undefined;
    try {
      const def = await loadPlugin(plugin) as PlatformDefinition;
      if (masterKeyState(masterKeyEnvNames(plugin, def), def.id, ctx.env, await storedCredentials(ctx)).source === `none`) return undefined;
      const {def: d, pctx} = await platformSession(plugin, ctx);
      return {def: d, pctx};
    } catch {
      return undefined;
    }
  };
}

export async function restoreAgent(opts: RestoreOptions, ctx: CapitContext): Promise<number> {
  const paths = capitPaths(ctx.env);
  const backupRoot = path.join(paths.state, `backups`, opts.agent);
  const hasBackups = await fs.stat(backupRoot).then(() => true, () => false);
  if (!hasBackups && !findAgent(ctx.plugins, opts.agent)) {
    throw new InputError(unknownAgent(opts.agent, ctx.plugins.agents.map(a => a.manifest.id)));
  }
  if (!opts.yes) {
    if (!ctx.interactive)
      throw new InputError(`Refusing to restore ${opts.agent}'s configuration without confirmation: pass --yes (no terminal to ask on)`);
    if (!await confirm(`Put ${opts.agent}'s configuration back as it was before capit's last install?`, ctx)) {
      ctx.stderr.write(`Cancelled; nothing was changed.\n`);
      return 1;
    }
  }
  let restored: Awaited<ReturnType<typeof restoreAgentConfig>>;
  try {
    restored = await restoreAgentConfig(opts.agent, {force: opts.force}, ctx).finally(() => closeSessions(ctx));
  } catch (error) {
    if (!(error instanceof InterruptedInstallUndone)) throw error;
    if (opts.json) ctx.stdout.write(`${JSON.stringify({agent: opts.agent, backupDir: null, files: [], keyName: null, platform: null, keyState: `unknown`, interruptedInstallUndone: true}, null, 2)}\n`);
    else ctx.stdout.write(`${error.message}.\n`);
    return 0;
  }
  const {report, keyName, platform, keyState} = restored;

  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({agent: opts.agent, backupDir: report.backupDir, files: report.files, keyName: keyName ?? null, platform: platform ?? null, keyState}, null, 2)}\n`);
    return 0;
  }
  ctx.stdout.write(`Restored ${opts.agent} configuration from ${report.backupDir}\n`);
  for (const file of report.files) ctx.stdout.write(`  ${file.action.padEnd(14)} ${file.path}\n`);
  // Only what the ledger says: a key deleted earlier (or by the recovery of a pending install just now) is not alive.
  if (keyName && keyState === `deleted`) ctx.stderr.write(`The key "${keyName}" that install had created is already deleted.\n`);
  else if (keyName && (keyState === `exists` || keyState === `disabled`))
    ctx.stderr.write(`The key "${keyName}"${keyState === `disabled` ? ` (disabled)` : ``} still exists at ${platform ?? `the provider`}; delete it with: capit keys delete ${keyName}\n`);
  return 0;
}
