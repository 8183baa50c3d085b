// `capit doctor [agent]`: which key each agent would actually use. Walks the agent's declared key sources (highest
// precedence first, read by core, never by the plugin), then compares the source capit writes with the newest
// unrestored install: the manifest's `sha256Written` per edit against the hash of the value there now. Never reads
// out or prints a key: only presence and hashes. Base-URL sources are read too (only their origin): the first one set
// decides where requests go, and one that is not the platform's makes the verdict REDIRECTED. An agent whose sources
// name flavours (a CLI and its IDE extension) gets one verdict per flavour, each on its own sources plus the shared ones.
// Selector sources (the setting that picks capit's provider entry) are compared with the value that selects it: another
// value, or none where capit wrote one, makes the verdict SHADOWED.
import fs   from 'node:fs/promises';
import path from 'node:path';

import type {CapitContext}        from '../context.js';
import {findAgent, findPlatform}  from '../context.js';
import {InputError}               from '../errors.js';
import {unknownAgent}             from '../ui/suggest.js';
import {expiryTime, expiryWarningDays, withinDays} from '../keys/expiry.js';
import type {ExpiryWarningDays}   from '../keys/expiry.js';
import {hashValue}                from '../files/changes.js';
import type {BackupManifest}      from '../files/changes.js';
import {openDocument}             from '../files/document.js';
import {readAgentText} from '../files/read.js';
import {byFlavour, describeRedirect, describeSelectorShadow, findRedirect, findSelectorShadow, inspectKeySources, isBaseUrlSource, isSelectorSource, platformHosts, platformOrigins, shadowingSources} from '../issue/shadows.js';
import type {KeySourceState}      from '../issue/shadows.js';
import type {AgentDefinition, JsonPath, KeySource} from '../plugin.js';
import type {DiscoveredAgent}     from '../plugins/discover.js';
import {loadPlugin}               from '../plugins/load.js';
import {callPlugin, managementBaseUrl} from '../platforms/context.js';
import {capitPaths}               from '../state/paths.js';
import {detectAgent, detectOnce, pathDirs} from './detect.js';
import {describePluginError}      from './errors.js';
import {activeInstall, capLabel, describeKey, environmentFor, readLedgerQuietly, tildify} from './install.js';
import type {CapitInstall}        from './install.js';

export type DoctorStatus =
  | `capit` //      the capped key capit installed is what the agent uses
  | `shadowed` //   capit's key is in place but a higher-precedence source wins: the capped key is NOT used
  | `redirected` // capit's key is in place but a base URL sends the requests to another host: the cap does not apply
  | `changed` //    capit installed a key but the value it wrote is no longer there
  | `other` //      no capit install; the agent uses a key from somewhere else
  | `none` //       no key anywhere capit can see
  | `unknown` //    capit cannot tell: no key sources, a file capit wrote that does not parse, or none matches the install
  | `error`; //     the plugin failed to load

/** Worst last: an agent with several flavours reports the worst of them. */
const SEVERITY: readonly DoctorStatus[] = [`capit`, `none`, `other`, `unknown`, `changed`, `shadowed`, `redirected`, `error`];

export interface DoctorSource {
  label: string;
  kind: KeySource[`kind`];
  /** `key`: a key the agent sends; `baseUrl`: where it sends its requests; `selector`: which provider entry it uses. */
  role: `key` | `baseUrl` | `selector`;
  /** The flavour that reads this source, or null when every flavour does. */
  flavour: string | null;
  present: boolean;
  unreadable: boolean;
  /** The source capit writes. */
  installs: boolean;
  /** For an `installs` key source of the active install: does it still hold what capit wrote? */
  holdsCapitKey: boolean | null;
  /** For a set base-URL source: the origin it names (scheme://host:port, nothing more of the value); else null. */
  origin: string | null;
  note: string | null;
}

/** The verdict about one flavour of an agent (Cline CLI, Cline extension…), judged on its sources plus the shared ones. */
export interface DoctorVerdict {
  status: DoctorStatus;
  /** One line, e.g. "uses capit key opencode-1a2b3c4d ($5.00 cap)". */
  message: string;
  /** The key source the agent would read its key from (the first one set), or null. */
  effective: string | null;
  /** Key sources set above the one capit writes. */
  shadowedBy: string[];
  /** With status `redirected`: the base-URL source that sends requests away from the platform; else null. */
  redirectedBy: string | null;
  /** With status `redirected`: the origin requests go to (null when capit cannot read it); else null. */
  redirectedTo: string | null;
  /** A selector source that no longer selects capit's provider entry (another value, or none set): it shadows; else null. */
  deselectedBy: string | null;
  /** What to do, one line each (empty when nothing). */
  fixes: string[];
}

export interface DoctorFlavourReport extends DoctorVerdict {
  flavour: string;
}

export interface DoctorReport extends DoctorVerdict {
  agent: string;
  name: string;
  platform: string;
  detected: boolean;
  installed: {keyName: string; keyId: string | null; platform: string; capUsd: number | null; installedAt: string; backupDir: string} | null;
  sources: DoctorSource[];
  /**
   * One verdict per flavour when the agent's sources name flavours (the report's own fields are then the worst one's,
   * its message every flavour's, `Cline CLI: …; Cline extension: …`); empty for an agent without flavours.
   */
  flavours: DoctorFlavourReport[];
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
    return edits.every(e => {
      // The source lies inside a bigger value capit wrote (a whole model entry): only the leaf at the source counts, so
      // a user's later edit of the entry's other fields is not "changed".
      const leaf = e.leaves && e.path.length < source.at.length ? e.leaves[JSON.stringify(source.at.slice(e.path.length))] : undefined;
      return leaf !== undefined ? hashValue(doc.read(source.at)) === leaf : hashValue(doc.read(e.path)) === e.sha256Written;
    });
  } catch {
    return false;
  }
}

function sourceLabel(state: KeySourceState, home: string): string {
  return state.source.kind === `env` ? state.label : `${tildify(state.source.path, home)} (${state.source.at.join(`.`)})`;
}

/** Where the platform's inference requests go: its origins and host names (after its base-URL override). */
async function platformBases(ctx: DoctorContext, platformId: string): Promise<{origins: string[]; hosts: string}> {
  const plugin = findPlatform(ctx.plugins, platformId);
  if (!plugin) throw new Error(`the ${platformId} platform plugin is not installed, so capit cannot tell where its requests should go`);
  const def = await loadPlugin(plugin);
  const bases = await callPlugin(platformId, `inferenceBaseUrls`, () => def.inferenceBaseUrls(managementBaseUrl(def, ctx.env)), {env: ctx.env});
  return {origins: platformOrigins(bases), hosts: platformHosts(bases)};
}

interface Judged {
  state: KeySourceState;
  view: DoctorSource;
}

/**
 * The verdict on one flavour's sources (or the agent's, without flavours). `writtenElsewhere`: the files the install
 * wrote (tildified) when none of them is among the sources the agent reads now (a config-dir variable changed), else null.
 */
/** The layer a source lives in, as a user finds it: the file (`~/…`) or the variable. */
function unparsedLayer(state: KeySourceState, home: string): string {
  return state.source.kind === `file` ? tildify(state.source.path, home) : `environment variable ${state.source.name}`;
}

function judge(sources: readonly Judged[], agent: string, install: CapitInstall | null, bases: {origins: string[]; hosts: string} | null, platform: string, pluginStatus: string | undefined, writtenElsewhere: string[] | null, home: string): DoctorVerdict {
  const keys = sources.filter(s => s.view.role === `key`);
  const set = (s: Judged) => s.view.present || s.view.unreadable;
  const above = shadowingSources(keys.map(s => s.state)).map(state => keys.find(k => k.state === state)!.view);
  const selector = findSelectorShadow(sources.map(s => s.state));
  const effective = keys.find(set)?.view;
  const ours = keys.map(s => s.view).filter(s => s.holdsCapitKey !== null);
  const key = install ? describeKey(install) : ``;
  const verdict: DoctorVerdict = {
    status: `none`, message: ``, effective: effective?.label ?? null, shadowedBy: above.map(s => s.label), redirectedBy: null, redirectedTo: null, deselectedBy: null, fixes: [],
  };
  const shadowFix = `unset or remove ${above.length > 1 ? `those values` : `that value`} for ${agent} to use the capped key`;
  const selectorFix = selector && `make ${selector.state.label} select capit's entry again (or install anew: capit ${platform} <usd> --agent ${agent})`;

  if (keys.length === 0) {
    verdict.status = `unknown`;
    verdict.message = install
      ? `capit ${key} is installed, but the plugin declares no key sources: capit cannot tell whether it is used`
      : `no key sources to check for ${platform}${pluginStatus ? ` (${pluginStatus})` : ``}`;
  } else if (install && ours.length > 0 && ours.every(s => s.holdsCapitKey)) {
    const why = above.map(s => `${s.label}${s.unreadable ? ` (could not be read)` : ``}${s.note ? ` (${s.note})` : ``}`);
    // A selector that picks another provider (or none any more) is named last: its phrase ends the list.
    if (selector) {
      why.push(describeSelectorShadow(selector));
      verdict.shadowedBy.push(selector.state.label);
      verdict.deselectedBy = selector.state.label;
    }
    const shadowed = above.length > 0 || selector !== null;
    const redirect = bases ? findRedirect(sources.map(s => s.state), bases.origins) : null;
    // A layer that decides the verdict but does not parse (a key above capit's, the base URL or the selector that
    // counts): the agent may refuse to start with it, or read it otherwise. capit cannot tell, and says so once per
    // file, rather than SHADOWED or REDIRECTED by each of its fields.
    const deciding = [...above.map(view => sources.find(s => s.view === view)!.state), ...(redirect ? [redirect.state] : []), ...(selector ? [selector.state] : [])];
    const broken = [...new Set(deciding.filter(state => state.unreadable && !state.notUrl).map(state => unparsedLayer(state, home)))];
    // Both can apply: the status says REDIRECTED (whichever key wins, it goes elsewhere), the message names both.
    if (broken.length > 0) {
      verdict.status = `unknown`;
      verdict.message = `capit cannot tell which key ${agent} uses or where its requests go: ${broken.join(` and `)} ${broken.length > 1 ? `do` : `does`} not parse`;
      verdict.fixes.push(...broken.map(layer => `fix or move ${layer}`));
    } else if (redirect) {
      verdict.status = `redirected`;
      verdict.redirectedBy = redirect.state.label;
      verdict.redirectedTo = redirect.to;
      verdict.message = `REDIRECTED by ${describeRedirect(redirect, bases!.hosts)} — the capped key ${install.keyName} ${redirect.state.unreadable ? `may not cap them` : `does not cap them`}` +
        (shadowed ? `; also SHADOWED by ${why.join(`, `)}` : ``);
      verdict.fixes.push(`unset ${redirect.state.label}, or point it at ${bases!.hosts}, for ${agent} to send its requests there`);
      if (above.length > 0) verdict.fixes.push(shadowFix);
      if (selectorFix) verdict.fixes.push(selectorFix);
    } else if (shadowed) {
      verdict.status = `shadowed`;
      verdict.message = `SHADOWED by ${why.join(`, `)} — the capped key ${install.keyName} is not used`;
      if (above.length > 0) verdict.fixes.push(shadowFix);
      if (selectorFix) verdict.fixes.push(selectorFix);
    } else {
      verdict.status = `capit`;
      const cap = capLabel(install);
      verdict.message = `uses capit key ${install.keyName}${cap ? ` (${cap})` : ``} from ${ours.map(s => s.label).join(`, `)}`;
    }
  } else if (install && ours.some(s => s.unreadable)) {
    // A file that does not parse says nothing about which key the agent sends: never "changed", never "uses …".
    verdict.status = `unknown`;
    const unreadable = ours.filter(s => s.unreadable).map(s => s.label);
    verdict.message = `capit ${key} was installed in ${unreadable.join(`, `)}, which capit cannot read now (it does not parse or is not a regular file); capit cannot tell which key ${agent} uses — fix the file or run \`capit restore ${agent}\``;
  } else if (install && ours.length > 0) {
    verdict.status = `changed`;
    const gone = ours.filter(s => !s.holdsCapitKey).map(s => s.label);
    verdict.message = `capit ${key} is no longer in ${gone.join(`, `)} (changed since capit wrote it); ${effective ? `uses ${effective.label}` : `no key found`}`;
  } else if (install && writtenElsewhere) {
    // Installed under a config-dir variable (CLAUDE_CONFIG_DIR, CODEX_HOME…) and checked without it, or the reverse:
    // the agent started from here reads other files than the ones holding the capped key.
    verdict.status = `unknown`;
    verdict.message = `capit ${key} was installed in ${writtenElsewhere.join(`, `)}, but ${agent} now reads other files (the variable that moved its config there is probably unset or changed): the capped key is not used from here; ${effective ? `uses ${effective.label}` : `no key found`}`;
    verdict.fixes.push(`set the variable that points ${agent} at ${writtenElsewhere.length > 1 ? `those files` : `that file`} again, or install anew: capit ${platform} <usd> --agent ${agent}`);
  } else if (install) {
    verdict.status = `unknown`;
    verdict.message = `capit ${key} was installed, but none of the agent's key sources is one capit wrote; ${effective ? `uses ${effective.label}` : `no key found`}`;
  } else if (effective?.unreadable) {
    verdict.status = `unknown`;
    verdict.message = `no capit key installed; ${effective.label} does not parse, so capit cannot tell which key ${agent} uses`;
  } else if (effective) {
    verdict.status = `other`;
    verdict.message = `no capit key installed; uses ${effective.label}`;
  } else {
    verdict.status = `none`;
    verdict.message = `no capit key installed and no key found`;
  }
  return verdict;
}

async function diagnose(plugin: DiscoveredAgent, ctx: DoctorContext, install: CapitInstall | null, detected: boolean): Promise<DoctorReport> {
  const {manifest} = plugin;
  const envInfo = environmentFor(ctx);
  const platform = install?.platform ?? manifest.platforms?.[0] ?? ctx.plugins.platforms[0]?.manifest.id ?? `openrouter`;
  const report: DoctorReport = {
    agent: manifest.id, name: manifest.displayName ?? manifest.id, platform, detected, status: `none`, effective: null,
    shadowedBy: [], redirectedBy: null, redirectedTo: null, deselectedBy: null, sources: [], flavours: [], message: ``, fixes: [], expiryWarningDays: null, expiryWarning: null,
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
  let bases: {origins: string[]; hosts: string} | null = null;
  try {
    const def = await loadPlugin(plugin);
    const found = await detectOnce(def, envInfo);
    states = await inspectKeySources(def, envInfo, platform, found);
    if (typeof def.status === `function`) pluginStatus = def.status(envInfo, found);
    // The platform's plugin is loaded only when a base URL is set: most agents never need it here.
    if (install && states.some(s => isBaseUrlSource(s.source) && (s.present || s.unreadable))) bases = await platformBases(ctx, platform);
  } catch (error) {
    report.status = `error`;
    report.error = describePluginError(manifest.id, error);
    report.message = `cannot check: ${report.error}`;
    return report;
  }

  const judged: Judged[] = [];
  for (const state of states) {
    const role = isBaseUrlSource(state.source) ? `baseUrl` as const : isSelectorSource(state.source) ? `selector` as const : `key` as const;
    const view: DoctorSource = {
      label: sourceLabel(state, envInfo.home), kind: state.source.kind, role, flavour: state.source.flavour || null,
      present: state.present, unreadable: Boolean(state.unreadable), installs: Boolean(state.source.installs),
      holdsCapitKey: install && role === `key` && state.source.installs ? await holdsCapitValue(state.source, install.manifest) : null,
      origin: state.origin ?? null, note: state.source.note ?? null,
    };
    report.sources.push(view);
    judged.push({state: {...state, label: view.label}, view});
  }

  // The files the install wrote, when the agent reads none of them now (a config-dir variable moved its config).
  let writtenElsewhere: string[] | null = null;
  if (install && install.manifest.files.length > 0) {
    const read = new Set<string>();
    for (const state of states) if (state.source.kind === `file`) read.add(state.source.path).add(await realPath(state.source.path));
    if (!install.manifest.files.some(f => read.has(f.path))) writtenElsewhere = install.manifest.files.map(f => tildify(f.path, envInfo.home));
  }

  const groups = byFlavour(judged.map(j => ({...j, source: j.state.source})));
  const verdicts = groups.map(group => ({flavour: group.flavour, ...judge(group.states, report.agent, install, bases, platform, pluginStatus, writtenElsewhere, envInfo.home)}));
  if (verdicts.length === 1 && verdicts[0]!.flavour === null) {
    const {flavour: _none, ...only} = verdicts[0]!;
    return {...report, ...only};
  }
  report.flavours = verdicts.map(v => ({...v, flavour: v.flavour!}));
  const worst = report.flavours.reduce((a, b) => (SEVERITY.indexOf(b.status) > SEVERITY.indexOf(a.status) ? b : a));
  const union = (lists: string[][]) => [...new Set(lists.flat())];
  const same = new Set(report.flavours.map(f => f.message)).size === 1;
  return {
    ...report, status: worst.status, effective: worst.effective, redirectedBy: worst.redirectedBy, redirectedTo: worst.redirectedTo, deselectedBy: worst.deselectedBy,
    shadowedBy: union(report.flavours.map(f => f.shadowedBy)),
    // Every flavour with the same verdict (both read capit's key from the same file): one sentence, not one per flavour.
    message: same ? worst.message : report.flavours.map(f => `${f.flavour}: ${f.message}`).join(`; `),
    fixes: same ? worst.fixes : union(report.flavours.map(f => f.fixes.map(fix => `${f.flavour}: ${fix}`))),
  };
}

/**
 * Whether a report makes `capit doctor` exit 1: capit installed a capped key and cannot show that the agent uses it —
 * another source wins (SHADOWED), its requests go elsewhere (REDIRECTED), the key capit wrote was replaced (changed),
 * or capit cannot tell (unknown: a file that does not parse, or none of the sources is one capit wrote). Without an
 * install there is nothing to prove: `unknown`, `other` and `none` exit 0.
 */
export function doctorFailed(report: DoctorReport): boolean {
  const verdicts: readonly DoctorVerdict[] = report.flavours.length > 0 ? report.flavours : [report];
  // A plugin that fails to load (`error`) cannot show the capped key in use either.
  return verdicts.some(v => v.status === `shadowed` || v.status === `redirected` || v.status === `changed` || ((v.status === `unknown` || v.status === `error`) && report.installed !== null));
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
