// What capit last installed into an agent, from the backups (manifest per install) and the ledger. No secrets.
import fs   from 'node:fs';
import path from 'node:path';

import type {BackupManifest}  from '../files/changes.js';
import {formatUsd}            from '../issue/inputs.js';
import type {AgentEnvironment, ResetWindow} from '../plugin.js';
import {readLedger}           from '../state/ledger.js';
import type {LedgerEntry}     from '../state/ledger.js';
import {homeDir}              from '../state/paths.js';
import type {Env}             from '../state/paths.js';

export interface CapitInstall {
  keyName: string;
  keyId: string | null;
  platform: string;
  capUsd: number | null;
  reset: ResetWindow | null;
  /** The key's expiry as the ledger recorded it at issue, or null. */
  expiresAt: string | null;
  installedAt: string;
  backupDir: string;
  /** The newest install that has not been restored (its manifest). */
  manifest: BackupManifest;
}

/** The newest install of `agent` that was not undone by `capit restore`, or null. */
export async function activeInstall(stateDir: string, agent: string, ledger: LedgerEntry[]): Promise<CapitInstall | null> {
  // The file engine (diff, jsonc, yaml) costs ~150 ms to import: only load it when this agent has backups at all.
  if (!fs.existsSync(path.join(stateDir, `backups`, agent))) return null;
  const {listBackups} = await import(`../files/changes.js`);
  const manifest = (await listBackups(stateDir, agent)).find(m => !m.restoredAt);
  if (!manifest) return null;
  const entry = ledger.find(k => k.name === manifest.keyName && k.platform === manifest.platform);
  return {
    keyName: manifest.keyName,
    keyId: manifest.keyId ?? entry?.id ?? null,
    platform: manifest.platform,
    capUsd: entry?.capUsd ?? null,
    reset: entry?.reset ?? null,
    expiresAt: entry?.expiresAt ?? null,
    installedAt: manifest.createdAt,
    backupDir: manifest.dir,
    manifest,
  };
}

/** Reads the ledger, treating a corrupt one as empty (listing and doctor must still work). */
export async function readLedgerQuietly(stateDir: string): Promise<LedgerEntry[]> {
  try {
    return await readLedger(stateDir);
  } catch {
    return [];
  }
}

/** "$5.00 cap", "$5.00 per month cap", or "" when the ledger does not know the cap. */
export function capLabel(install: Pick<CapitInstall, `capUsd` | `reset`>): string {
  if (install.capUsd === null) return ``;
  const per = install.reset ? ` per ${({daily: `day`, weekly: `week`, monthly: `month`} as const)[install.reset]}` : ``;
  return `${formatUsd(install.capUsd)}${per} cap`;
}

export function describeKey(install: CapitInstall): string {
  const cap = capLabel(install);
  return `${install.platform} key ${install.keyName}${cap ? ` (${cap})` : ``}`;
}

export function environmentFor(ctx: {env: Env; cwd: string}): AgentEnvironment {
  return {env: ctx.env, home: homeDir(ctx.env), cwd: ctx.cwd, platform: process.platform};
}

/** `~/…` for paths under HOME: shorter output, and no user name in pasted reports. */
export function tildify(p: string, home: string): string {
  if (p === home) return `~`;
  for (const sep of [`/`, `\\`]) if (p.startsWith(home + sep)) return `~${p.slice(home.length)}`;
  return p;
}
