// Reading an agent's declared sources (key sources and base-URL sources) and judging what they mean for the capped
// key: SHADOWED (another key wins) and REDIRECTED (requests go to another host). Shared by doctor, the install's
// warnings, `capit run`'s refusal and the conformance kit. Never returns or prints a value: only presence, and for a
// base URL its origin (scheme://host:port, userinfo and path dropped).
import {PluginError}                                   from '../errors.js';
import {openDocument}                                  from '../files/document.js';
import {keySourceProblems}                             from '../plugins/key-sources.js';
import {readAgentText} from '../files/read.js';
import type {AgentDefinition, AgentEnvironment, InferenceBaseUrls, KeySource} from '../plugin.js';

export interface KeySourceState {
  source: KeySource;
  /** Human label: `environment variable X` or `<path> → a.b.c`. */
  label: string;
  present: boolean;
  /** The file exists but cannot be parsed, or a base-URL source holds something that is not a URL. */
  unreadable?: boolean;
  /** For a set, readable base-URL source: the origin of its value, never more of it. */
  origin?: string;
  /** A set base-URL source whose value is not a URL (read fine, but says nothing about where requests go). */
  notUrl?: boolean;
  /** For a set selector source: its value is not the one that selects capit's entry (the value is never kept). */
  selectsOther?: boolean;
}

export function describeSource(source: KeySource): string {
  if (source.kind === `env`) return `environment variable ${source.name}${source.at ? ` (${source.at.join(`.`)})` : ``}`;
  return `${source.path} (${source.at.join(`.`)})`;
}

export const isBaseUrlSource = (source: KeySource): boolean => source.role === `baseUrl`;
export const isSelectorSource = (source: KeySource): boolean => source.role === `selector`;
/** A source holding a key the agent sends (not a base URL, not a selector). */
export const isKeySource = (source: KeySource): boolean => source.role === undefined || source.role === `key`;

/** How agents read a boolean switch (e.g. Claude Code's `CLAUDE_CODE_USE_BEDROCK`): anything else leaves it off. */
const TRUTHY = new Set([`1`, `true`, `yes`, `on`]);
export const isTruthy = (value: string | undefined): boolean => value !== undefined && TRUTHY.has(value.trim().toLowerCase());

const isSet = (s: KeySourceState) => s.present || s.unreadable === true;

/**
 * `scheme://host[:port]` of a URL (lower-cased host, default port dropped by WHATWG URL; userinfo, path and query
 * never kept), or undefined when the value is not a URL with a host.
 */
export function originOf(value: unknown): string | undefined {
  if (typeof value !== `string`) return undefined;
  let url: URL;
  try {
    url = new URL(value.trim());
  } catch {
    return undefined;
  }
  if (!url.host) return undefined;
  // `openrouter.ai.` (a fully qualified name) is the same host as `openrouter.ai`.
  const hostname = url.hostname.replace(/\.$/, ``);
  return `${url.protocol}//${hostname}${url.port ? `:${url.port}` : ``}`;
}

// Every name of this machine's loopback interface: `localhost:8080` and `127.0.0.1:8080` reach the same server.
const LOOPBACK = new Set([`localhost`, `127.0.0.1`, `[::1]`]);

/** The origin with any loopback name replaced by one, so two names of this machine compare equal. */
function comparableOrigin(origin: string): string {
  const match = /^([a-z][a-z0-9+.-]*:\/\/)(\[[^\]]*\]|[^:]+)(:\d+)?$/.exec(origin);
  if (!match || !LOOPBACK.has(match[2]!)) return origin;
  return `${match[1]}loopback${match[3] ?? ``}`;
}

/** Whether an origin is one of the platform's (loopback names of one port count as the same host). */
export function isPlatformOrigin(origin: string, origins: readonly string[]): boolean {
  const wanted = comparableOrigin(origin);
  return origins.some(o => comparableOrigin(o) === wanted);
}

/** The origins requests must reach for the platform to charge the capped key: those of its inference bases. */
export function platformOrigins(bases: InferenceBaseUrls): string[] {
  return [...new Set([bases.openai, bases.anthropic].map(originOf).filter((o): o is string => o !== undefined))];
}

/** The platform's host(s) as a message names them, e.g. `openrouter.ai`. */
export function platformHosts(bases: InferenceBaseUrls): string {
  return platformOrigins(bases).map(o => o.replace(/^[a-z][a-z0-9+.-]*:\/\//, ``)).join(` or `) || `the platform`;
}

/**
 * Reads each declared key source (env var set, or a non-empty value at its path). Never returns the values. Throws a
 * PluginError when the declaration is nonsense (see keySourceProblems).
 */
export async function inspectKeySources(def: AgentDefinition, envInfo: AgentEnvironment, platformId: string, detected: unknown): Promise<KeySourceState[]> {
  const sources = def.keySources?.(envInfo, platformId, detected) ?? [];
  checkSources(def.id, `keySources()`, sources);
  return inspectSources(sources, envInfo);
}

/** Throws a PluginError naming every problem of a plugin's declared sources. */
export function checkSources(agentId: string, what: string, sources: readonly KeySource[]): void {
  const problems = Array.isArray(sources) ? keySourceProblems(sources) : [`not a list`];
  if (problems.length > 0) throw new PluginError(agentId, `${what} is not a valid declaration: ${problems.join(`; `)}`);
}

function stateOf(source: KeySource, label: string, value: unknown): KeySourceState {
  // A switch in a settings file (Claude's `env` block) is read like the variable it sets: only a truthy value is on.
  if (source.truthy) return {source, label, present: value === true || value === 1 || (typeof value === `string` && isTruthy(value))};
  const present = value !== undefined && value !== null && value !== ``;
  // A selector's value is compared (trimmed, as the agents read a setting), never kept.
  if (present && isSelectorSource(source)) return {source, label, present, selectsOther: String(value).trim() !== source.selects};
  if (!present || !isBaseUrlSource(source)) return {source, label, present};
  // A base URL capit cannot parse says nothing about where requests go: unreadable, never "fine".
  // (A `redirectsWhenSet` source redirects whatever it holds, so any value counts as set.)
  const origin = originOf(value);
  if (origin !== undefined) return {source, label, present: true, origin};
  return source.redirectsWhenSet ? {source, label, present: true} : {source, label, present: false, unreadable: true, notUrl: true};
}

/** Reads each given source (env var set in `envInfo.env`, or a non-empty value at its path). Never returns the values. */
export async function inspectSources(sources: readonly KeySource[], envInfo: AgentEnvironment): Promise<KeySourceState[]> {
  const states: KeySourceState[] = [];
  for (const source of sources) {
    const label = describeSource(source);
    if (source.kind === `env`) {
      const text = envInfo.env[source.name];
      // A switch such as CLAUDE_CODE_USE_BEDROCK=0 is off: the agent reads only a truthy value as set.
      if (source.truthy) {
        states.push({source, label, present: isTruthy(text)});
        continue;
      }
      if (!source.at || !text) {
        states.push(stateOf(source, label, text));
        continue;
      }
      // A variable holding inline JSON config: set only when it has a value at the path; JSON that does not parse is
      // reported as unreadable (capit cannot tell that it holds no key).
      try {
        states.push(stateOf(source, label, openDocument(`jsonc`, text, `$${source.name}`).read(source.at)));
      } catch {
        states.push({source, label, present: false, unreadable: true});
      }
      continue;
    }
    let text: string;
    try {
      text = await readAgentText(source.path);
    } catch {
      states.push({source, label, present: false});
      continue;
    }
    try {
      states.push(stateOf(source, label, openDocument(source.format, text, source.path).read(source.at)));
    } catch {
      states.push({source, label, present: false, unreadable: true});
    }
  }
  return states;
}

/** The sources one flavour of an agent reads: its own plus the unflavoured ones, in declared order. */
export interface FlavourSources<T extends {source: KeySource} = KeySourceState> {
  /** `null` when the agent declares no flavours. */
  flavour: string | null;
  states: T[];
}

/** One group per flavour named by any source (in first-seen order), or one group `null` when none is named. */
export function byFlavour<T extends {source: KeySource}>(states: readonly T[]): FlavourSources<T>[] {
  const names = [...new Set(states.map(s => s.source.flavour).filter((f): f is string => typeof f === `string` && f !== ``))];
  // One flavour alone is no choice between flavours (an IDE where only the extension reads these files): no prefix.
  if (names.length <= 1) return [{flavour: null, states: [...states]}];
  return names.map(flavour => ({flavour, states: states.filter(s => !s.source.flavour || s.source.flavour === flavour)}));
}

/** Key sources (not base URLs) that are set above the first key source capit writes: each wins over the capped key. */
export function shadowingSources(states: readonly KeySourceState[]): KeySourceState[] {
  const keys = states.filter(s => isKeySource(s.source));
  const installs = keys.findIndex(s => s.source.installs);
  return installs === -1 ? [] : keys.slice(0, installs).filter(isSet);
}

/** Where requests go instead of the platform, and which source says so. */
export interface Redirect {
  state: KeySourceState;
  /** The origin requests go to; null when the value is not a URL. */
  to: string | null;
  /** The source redirects whatever it names (`redirectsWhenSet`). */
  whenSet: boolean;
}

/**
 * The first base-URL source that is set decides where requests go (a lower one is overridden by it): a redirect when
 * it cannot be read, is `redirectsWhenSet`, or names an origin that is not the platform's. Null otherwise.
 */
export function findRedirect(states: readonly KeySourceState[], origins: readonly string[]): Redirect | null {
  const first = states.find(s => isBaseUrlSource(s.source) && isSet(s));
  if (!first) return null;
  const whenSet = Boolean(first.source.redirectsWhenSet);
  if (whenSet || first.origin === undefined || !isPlatformOrigin(first.origin, origins)) return {state: first, to: first.origin ?? null, whenSet};
  return null;
}

/** A selector that makes the agent use another provider or model entry than capit's, and how. */
export interface SelectorShadow {
  state: KeySourceState;
  /** `other`: the first selector set names something else (or cannot be read); `gone`: none is set any more. */
  how: `other` | `gone`;
}

/**
 * The first selector source that is set decides which provider the agent uses: a shadow when its value is not the one
 * that selects capit's entry, or it cannot be read. When none is set and one of them is the source capit writes, the
 * selection capit made is gone: a shadow too. Null otherwise (also when the agent declares no selectors).
 */
export function findSelectorShadow(states: readonly KeySourceState[]): SelectorShadow | null {
  // One chain per setting: the layers of one setting must all hold the same value (Qwen's model.name in the workspace
  // and the user settings), another setting another value (its security.auth.selectedType). Each chain is judged on its
  // own: the first one set decides.
  const chains = new Map<string, KeySourceState[]>();
  for (const state of states.filter(s => isSelectorSource(s.source))) {
    const chain = state.source.setting ?? state.source.selects!;
    chains.set(chain, [...(chains.get(chain) ?? []), state]);
  }
  for (const selectors of chains.values()) {
    const first = selectors.find(isSet);
    if (first) {
      if (first.unreadable || first.selectsOther) return {state: first, how: `other`};
      continue;
    }
    const written = selectors.find(s => s.source.installs);
    if (written) return {state: written, how: `gone`};
  }
  return null;
}

/** `<label>: it selects another provider or entry than capit's` (or why capit cannot tell, or that the selection is gone). */
export function describeSelectorShadow(shadow: SelectorShadow): string {
  const {state} = shadow;
  const label = `${state.label}${state.source.note ? ` (${state.source.note})` : ``}`;
  if (shadow.how === `gone`) return `${label}: it no longer selects capit's entry`;
  if (state.unreadable) return `${label}, which could not be read: capit cannot tell which provider it selects`;
  return `${label}: it selects another provider or entry than capit's`;
}

/**
 * What a redirect does, after the source's label: `→ requests go to <origin>, not <host>`, `: any value sends requests
 * away from <host>` (a `redirectsWhenSet` source naming the platform or no URL), or why capit cannot tell.
 */
export function redirectPhrase(redirect: Redirect, hosts: string): string {
  if (redirect.state.notUrl) return `, which is not a URL: capit cannot tell where requests go`;
  if (redirect.state.unreadable) return `, which could not be read: capit cannot tell where requests go`;
  if (redirect.whenSet && (redirect.to === null || hosts.split(` or `).includes(redirect.to.replace(/^[a-z][a-z0-9+.-]*:\/\//, ``))))
    return `: any value sends requests away from ${hosts}`;
  return ` → requests go to ${redirect.to}, not ${hosts}`;
}

/** `<label> (<note>) → requests go to <origin>, not <host>` (or the other phrases of {@link redirectPhrase}). */
export function describeRedirect(redirect: Redirect, hosts: string): string {
  const {state} = redirect;
  return `${state.label}${state.source.note ? ` (${state.source.note})` : ``}${redirectPhrase(redirect, hosts)}`;
}

/**
 * One line per problem an install leaves behind: a set source that outranks the key capit writes, and a base URL that
 * sends requests elsewhere, for each flavour (named when the agent has several and the line is not about all of them).
 * `detected` is the agent's `detect()` result of this run.
 */
export async function findShadows(def: AgentDefinition, envInfo: AgentEnvironment, platformId: string, detected: unknown, bases: InferenceBaseUrls): Promise<string[]> {
  let states: KeySourceState[];
  try {
    states = await inspectKeySources(def, envInfo, platformId, detected);
  } catch (error) {
    // Called after the key is installed: a plugin bug here must not turn a finished install into a failure.
    return [`capit could not check what wins over the capped key: ${(error as Error)?.message ?? String(error)} — ${def.id} may not use the capped key`];
  }
  const groups = byFlavour(states);
  const origins = platformOrigins(bases);
  const hosts = platformHosts(bases);
  const lines = new Map<string, string[]>();
  const add = (line: string, flavour: string | null) => {
    const flavours = lines.get(line) ?? [];
    if (flavour !== null) flavours.push(flavour);
    lines.set(line, flavours);
  };
  // Each line ends with what it means for the capped key: another key or provider may be used instead of it; a base
  // URL elsewhere takes the requests (and whichever key wins) where the cap does not apply.
  const mayNotUse = ` — ${def.id} may not use the capped key`;
  for (const group of groups) {
    for (const s of shadowingSources(group.states))
      add(`${s.label} ${s.unreadable ? `could not be read` : `is set`} and wins over what capit wrote${s.source.note ? ` (${s.source.note})` : ``}${mayNotUse}`, group.flavour);
    const selector = findSelectorShadow(group.states);
    if (selector) add(`${describeSelectorShadow(selector)}${mayNotUse}`, group.flavour);
    const redirect = findRedirect(group.states, origins);
    if (redirect)
      add(`${describeRedirect(redirect, hosts)}${redirect.state.unreadable ? mayNotUse : ` — ${def.id} sends its requests there, where the cap does not apply`}`, group.flavour);
  }
  return [...lines].map(([line, flavours]) => (flavours.length === 0 || flavours.length === groups.length ? line : `${flavours.join(`, `)}: ${line}`));
}
