// `capit doctor [agent]`: which key each agent would actually use. Walks the agent's declared key sources (highest
// precedence first, read by core, never by the plugin), then compares the source capit writes with the newest
// unrestored install: the manifest's `sha256Written` per edit against the hash of the value there now. Never reads
// out or prints a key: only presence and hashes.
import fs   from 'node:fs/promises';
import path from 'node:path';

import type {CapitContext}        from '../context.js';
import {findAgent}                from '../context.js';
import {InputError}               from '../errors.js';
import {unknownAgent}             from '../ui/suggest.js';
import {expiryTime, expiryWarningDays, withinDays} from '../keys/expiry.js';
import type {ExpiryWarningDays}   from '../keys/expiry.js';
import {hashValue}                from '../files/changes.js';
import type {BackupManifest}      from '../files/changes.js';
import {openDocument}             from '../files/document.js';
import {readAgentText} from '../files/read.js';
import {inspectKeySources}        from '../issue/shadows.js';
import type {KeySourceState}      from '../issue/shadows.js';
import type {AgentDefinition, JsonPath, KeySource} from '../plugin.js';
import type {DiscoveredAgent}     from '../plugins/discover.js';
import {loadPlugin}               from '../plugins/load.js';
import {capitPaths}               from '../state/paths.js';
import {detectAgent, detectOnce, pathDirs} from './detect.js';
import {describePluginError}      from './errors.js';
import {activeInstall, capLabel, describeKey, environmentFor, readLedgerQuietly, tildify} from './install.js';
import type {CapitInstall}        from './install.js';

export type DoctorStatus =
  | `capit` //     the capped key capit installed is what the agent uses
  | `shadowed` //  capit's key is in place but a higher-precedence source wins: the capped key is NOT used
  | `changed` //   capit installed a key but the value it wrote is no longer there
  | `other` //     no capit install; the agent uses a key from somewhere else
  | `none` //      no key anywhere capit can see
  | `unknown` //   the plugin declares no key sources (or none matches the install)
  | `error`; //    the plugin failed to load

export interface DoctorSource {
  label: string;
  kind: KeySource[`kind`];
  present: boolean;
  unreadable: boolean;
  /** The source capit writes. */
  installs: boolean;
  /** For an `installs` source of the active install: does it still hold what capit wrote? */
  holdsCapitKey: boolean | null;
  note: string | null;
}

export interface DoctorReport {
  agent: string;
  name: string;
  platform: string;
  detected: boolean;
  status: DoctorStatus;
  /** The source the agent would read its key from (the first one set), or null. */
  effective: string | null;
  /** Sources set above the one capit writes. */
  shadowedBy: string[];
  installed: {keyName: string; keyId: string | null; platform: string; capUsd: number | null; installedAt: string; backupDir: string} | null;
  sources: DoctorSource[];
  /** One line, e.g. "uses capit key opencode-1a2b3c4d ($5.00 cap)". */
  message: string;
  /** 1, 3 or 7 when the installed key expires within that many days (from capit's ledger); else null. */
  expiryWarningDays: ExpiryWarningDays | null;
  /** One line for that, e.g. "key opencode-1a2b3c4d expires within 3 days, at 2026-12-02 14:00 UTC"; else null. */
  expiryWarning: string | null;
  error?: string;
}

export type DoctorContext = Pick<CapitContext, `env` | `cwd` | `plugins`>;

const isPrefix = (a: JsonPath, b: JsonPath) => a.length <= b.length && a.every((seg, i) => seg === b[i]);

async function realPath(p: string): Promise<string> {
  try {
    return await fs.realpath(p);
  } catch {
    return path.resolve(p);
  }
}

/**
 * Whether a file source still holds the value capit wrote: `null` when the install did not write it (another
 * extension, another file), else true/false from the hashes of every edit overlapping the source's path.
 */
async function holdsCapitValue(source: KeySource, manifest: BackupManifest): Promise<boolean | null> {
  if (source.kind !== `file`) return null;
  const real = await realPath(source.path);
  const entry = manifest.files.find(f => f.path === real || f.path === source.path);
  if (!entry) return null;
  const edits = entry.edits.filter(e => e.op === `set` && (isPrefix(e.path, source.at) || isPrefix(source.at, e.path)));
  if (edits.length === 0) return null;
  let text: string;
  try {
    text = await readAgentText(entry.path);
  } catch {
    return false;
  }
  try {
    const doc = openDocument(entry.format, text, entry.path);
    return edits.every(e => hashValue(doc.read(e.path)) === e.sha256Written);
  } catch {
    return false;
  }
}

function sourceLabel(state: KeySourceState, home: string): string {
  return state.source.kind === `env` ? state.label : `${tildify(state.source.path, home)} (${state.source.at.join(`.`)})`;
}

async function diagnose(plugin: DiscoveredAgent, ctx: DoctorContext, install: CapitInstall | null, detected: boolean): Promise<DoctorReport> {
  const {manifest} = plugin;
  const envInfo = environmentFor(ctx);
  const platform = install?.platform ?? manifest.platforms?.[0] ?? ctx.plugins.platforms[0]?.manifest.id ?? `openrouter`;
  const report: DoctorReport = {
    agent: manifest.id, name: manifest.displayName ?? manifest.id, platform, detected, status: `none`, effective: null,
    shadowedBy: [], sources: [], message: ``, expiryWarningDays: null, expiryWarning: null,
    installed: install && {
      keyName: install.keyName, keyId: install.keyId, platform: install.platform, capUsd: install.capUsd,
      installedAt: install.installedAt, backupDir: install.backupDir,
    },
  };

  const expiring = install ? expiryWarningDays(install.expiresAt, Date.now()) : null;
  if (install && expiring) {
    report.expiryWarningDays = expiring;
    report.expiryWarning = `key ${install.keyName} expires ${withinDays(expiring)}, at ${expiryTime(install.expiresAt!)}`;
  }

  let states: KeySourceState[];
  let pluginStatus: string | undefined;
  try {
    const def = await loadPlugin(plugin);
    const found = await detectOnce(def, envInfo);
    states = await inspectKeySources(def, envInfo, platform, found);
    if (typeof def.status === `function`) pluginStatus = def.status(envInfo, found);
  } catch (error) {
    report.status = `error`;
    report.error = describePluginError(manifest.id, error);
    report.message = `cannot check: ${report.error}`;
    return report;
  }

  for (const state of states)
    report.sources.push({
      label: sourceLabel(state, envInfo.home), kind: state.source.kind, present: state.present, unreadable: Boolean(state.unreadable),
      installs: Boolean(state.source.installs), note: state.source.note ?? null,
      holdsCapitKey: install && state.source.installs ? await holdsCapitValue(state.source, install.manifest) : null,
    });

  const set = (s: DoctorSource) => s.present || s.unreadable;
  const firstInstalls = report.sources.findIndex(s => s.installs);
  const above = firstInstalls === -1 ? [] : report.sources.slice(0, firstInstalls).filter(set);
  const effective = report.sources.find(set);
  report.effective = effective?.label ?? null;
  report.shadowedBy = above.map(s => s.label);
  const ours = report.sources.filter(s => s.holdsCapitKey !== null);
  const key = install ? describeKey(install) : ``;

  if (states.length === 0) {
    report.status = `unknown`;
    report.message = install
      ? `capit ${key} is installed, but the plugin declares no key sources: capit cannot tell whether it is used`
      : `no key sources to check for ${platform}${pluginStatus ? ` (${pluginStatus})` : ``}`;
  } else if (install && ours.length > 0 && ours.every(s => s.holdsCapitKey)) {
    if (above.length > 0) {
      report.status = `shadowed`;
      const why = above.map(s => `${s.label}${s.unreadable ? ` (could not be read)` : ``}${s.note ? ` (${s.note})` : ``}`);
      report.message = `SHADOWED by ${why.join(`, `)} — the capped key ${install.keyName} is not used`;
    } else {
      report.status = `capit`;
      const cap = capLabel(install);
      report.message = `uses capit key ${install.keyName}${cap ? ` (${cap})` : ``} from ${ours.map(s => s.label).join(`, `)}`;
    }
  } else if (install && ours.some(s => s.unreadable)) {
    // A file that does not parse says nothing about which key the agent sends: never "changed", never "uses …".
    report.status = `unknown`;
    const unreadable = ours.filter(s => s.unreadable).map(s => s.label);
    report.message = `capit ${key} was installed in ${unreadable.join(`, `)}, which capit cannot read now (it does not parse or is not a regular file); capit cannot tell which key ${report.agent} uses — fix the file or run \`capit restore ${report.agent}\``;
  } else if (install && ours.length > 0) {
    report.status = `changed`;
    const gone = ours.filter(s => !s.holdsCapitKey).map(s => s.label);
    report.message = `capit ${key} is no longer in ${gone.join(`, `)} (changed since capit wrote it); ${effective ? `uses ${effective.label}` : `no key found`}`;
  } else if (install) {
    report.status = `unknown`;
    report.message = `capit ${key} was installed, but none of the agent's key sources is one capit wrote; ${effective ? `uses ${effective.label}` : `no key found`}`;
  } else if (effective) {
    report.status = `other`;
    report.message = `no capit key installed; uses ${effective.label}`;
  } else {
    report.status = `none`;
    report.message = `no capit key installed and no key found`;
  }
  return report;
}

/**
 * Which key each agent would use: the one named, or every agent that is detected or has a capit install. Throws
 * InputError for an unknown agent id.
 */
export async function doctor(agentId: string | undefined, ctx: DoctorContext): Promise<DoctorReport[]> {
  const stateDir = capitPaths(ctx.env).state;
  const ledger = await readLedgerQuietly(stateDir);
  const dirs = pathDirs(ctx.env);
  let plugins = ctx.plugins.agents;
  if (agentId !== undefined) {
    const one = findAgent(ctx.plugins, agentId);
    if (!one) {
      throw new InputError(unknownAgent(agentId, plugins.map(a => a.manifest.id)));
    }
    plugins = [one];
  }
  const candidates = await Promise.all(plugins.map(async plugin => {
    const {manifest} = plugin;
    const detected = detectAgent(manifest, ctx.env, dirs).detected;
    let install: CapitInstall | null = null;
    try {
      install = await activeInstall(stateDir, manifest.id, ledger);
    } catch {}
    return {plugin, detected, install};
  }));
  const chosen = agentId !== undefined ? candidates : candidates.filter(c => c.detected || c.install);
  return Promise.all(chosen.map(c => diagnose(c.plugin, ctx, c.install, c.detected)));
}
