import fs   from 'node:fs/promises';
import path from 'node:path';

import type {CapitContext}   from '../context.js';
import {findAgent}           from '../context.js';
import {CapitError, InputError} from '../errors.js';
import {unknownAgent}        from '../ui/suggest.js';
import {restoreLatest}       from '../files/index.js';
import {withLock}            from '../files/lock.js';
import {confirm}             from '../ui/prompt.js';
import {recoverInterruptedInstalls} from './recover.js';
import {readLedger, updateLedger} from '../state/ledger.js';
import {capitPaths}          from '../state/paths.js';

export interface RestoreOptions {
  agent: string;
  yes: boolean;
  force: boolean;
  json: boolean;
}

/** Puts back the newest backup of an agent's files; also says which key that install had created. */
export async function restoreAgentConfig(agent: string, opts: {force: boolean}, ctx: CapitContext) {
  const paths = capitPaths(ctx.env);
  return withLock(paths.state, async () => {
    // An install a killed run left half done is settled first (completed or rolled back), so the backup chosen
    // below is a finished install and its files hold what its manifest says.
    await recoverInterruptedInstalls(paths.state, ctx);
    const pending = new Set((await readLedger(paths.state)).flatMap(k => (k.status === `pending` && k.backupDir ? [k.backupDir] : [])));
    let report = await restoreLatest(paths.state, agent, {force: opts.force, skip: pending});
    const restoredDirs = [report.backupDir];
    let keyName: string | undefined;
    let platform: string | undefined;
    for (;;) {
      let manifest: {keyName?: string; platform?: string; rotationOf?: string} = {};
      try {
        manifest = JSON.parse(await fs.readFile(path.join(report.backupDir, `manifest.json`), `utf8`)) as typeof manifest;
      } catch {}
      // The key the agent held until now is the newest install's (the keys it replaced were deleted by rotate).
      if (restoredDirs.length === 1) [keyName, platform] = [manifest.keyName, manifest.platform];
      // A `capit rotate` backup holds the replaced key, which rotate deleted: going back to it would leave the agent
      // with a dead key. Restore continues through the rotation to the install before it (the chain of rotations
      // ends at the configuration from before capit's first install). Each step puts back exactly what the one
      // after it wrote, so the files hold the previous install's bytes when the next step starts.
      if (!manifest.rotationOf) break;
      try {
        report = await restoreLatest(paths.state, agent, {force: opts.force, skip: pending});
      } catch (error) {
        if (error instanceof CapitError && error.code === `CAPIT_NO_BACKUP`) break;
        throw error;
      }
      restoredDirs.push(report.backupDir);
    }
    // The agent no longer holds that key: listings and `keys delete` must stop saying it does.
    const restoredAt = new Date().toISOString();
    await updateLedger(paths.state, keys => keys.map(k => (k.backupDir !== null && restoredDirs.includes(k.backupDir) && k.agent === agent ? {...k, restoredAt} : k)));
    return {report, keyName, platform};
  }, {stderr: ctx.stderr});
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
  const {report, keyName, platform} = await restoreAgentConfig(opts.agent, {force: opts.force}, ctx);

  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({agent: opts.agent, backupDir: report.backupDir, files: report.files, keyName: keyName ?? null, platform: platform ?? null}, null, 2)}\n`);
    return 0;
  }
  ctx.stdout.write(`Restored ${opts.agent} configuration from ${report.backupDir}\n`);
  for (const file of report.files) ctx.stdout.write(`  ${file.action.padEnd(14)} ${file.path}\n`);
  if (keyName)
    ctx.stderr.write(`The key "${keyName}" still exists at ${platform ?? `the provider`}; delete it with: capit keys delete ${keyName}\n`);
  return 0;
}
