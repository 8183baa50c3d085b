import fs                from 'node:fs';
import path              from 'node:path';
import {pathToFileURL}   from 'node:url';

import {PluginError}                                         from '../errors.js';
import type {AgentDefinition, PlatformDefinition, PluginDefinition} from '../plugin.js';
import type {DiscoveredPlugin}                               from './discover.js';

const REQUIRED_FUNCTIONS: Record<`platform` | `agent`, string[]> = {
  platform: [`inferenceBaseUrls`, `classifyError`, `createKey`, `listKeys`, `updateKey`, `deleteKey`],
  agent: [`files`, `supports`, `plan`],
};

function describe(plugin: DiscoveredPlugin): string {
  return `${plugin.packageName}@${plugin.version} (${plugin.dir})`;
}

function unwrapDefault(mod: unknown): unknown {
  let value = (mod as {default?: unknown})?.default ?? mod;
  // A CommonJS-flavoured or tsx-loaded module can arrive double-wrapped.
  if (value && typeof value === `object` && `default` in value && Object.keys(value).length === 1)
    value = (value as {default: unknown}).default;
  return value;
}

// An id no manifest can list (ids start with a letter): supports() must refuse it when the manifest names platforms.
const UNLISTED_PLATFORM_PROBE = `capit-unlisted-platform-probe`;

/**
 * Checks an entry's default export against its manifest: identity, required members, and every field the manifest
 * repeats from the entry (so the two cannot drift): an agent's `platforms` against `supports()`, a platform's
 * `masterKeyEnv` / `setupUrl` against `masterKey.env[0]` / `masterKey.setupUrl`. Returns the problems, empty when none.
 */
export function checkDefinition(plugin: DiscoveredPlugin, value: unknown): string[] {
  const {manifest} = plugin;
  const problems: string[] = [];
  if (!value || typeof value !== `object`) return [`the entry's default export is not a plugin object (export {apiVersion, kind, id, …} satisfies ${manifest.kind === `agent` ? `AgentDefinition` : `PlatformDefinition`})`];
  const def = value as Record<string, unknown>;
  for (const field of [`kind`, `id`, `apiVersion`] as const)
    if (def[field] !== manifest[field])
      problems.push(`${field} is ${JSON.stringify(def[field])} in the entry but ${JSON.stringify(manifest[field])} in package.json`);
  for (const fn of REQUIRED_FUNCTIONS[manifest.kind])
    if (typeof def[fn] !== `function`) problems.push(`${fn}() is missing`);
  if (manifest.kind === `agent`) {
    for (const fn of [`detect`, `keySources`, `status`])
      if (def[fn] !== undefined && typeof def[fn] !== `function`) problems.push(`${fn} must be a function when present`);
    if (typeof def.supports === `function` && manifest.platforms)
      problems.push(...platformsDrift(manifest.platforms, def.supports as (id: string) => unknown));
  } else {
    const base = def.baseUrl as {default?: unknown; env?: unknown} | undefined;
    if (typeof base?.default !== `string` || typeof base?.env !== `string`) problems.push(`baseUrl {default, env} is missing`);
    const master = def.masterKey as {env?: unknown; setupUrl?: unknown; validate?: unknown} | undefined;
    if (!Array.isArray(master?.env) || typeof master?.setupUrl !== `string` || typeof master?.validate !== `function`) {
      problems.push(`masterKey {env, setupUrl, validate} is missing`);
    } else {
      if (manifest.masterKeyEnv !== undefined && master.env[0] !== manifest.masterKeyEnv)
        problems.push(`masterKeyEnv is ${JSON.stringify(manifest.masterKeyEnv)} in package.json but the entry's masterKey.env starts with ${JSON.stringify(master.env[0])}`);
      if (manifest.setupUrl !== undefined && master.setupUrl !== manifest.setupUrl)
        problems.push(`setupUrl is ${JSON.stringify(manifest.setupUrl)} in package.json but ${JSON.stringify(master.setupUrl)} in the entry's masterKey`);
    }
  }
  return problems;
}

/** The manifest's `platforms` must be exactly what `supports()` accepts: every listed id, and no unlisted one. */
function platformsDrift(listed: readonly string[], supports: (id: string) => unknown): string[] {
  const ask = (id: string): string | true => {
    try {
      const answer = supports(id);
      return answer === true ? true : `says ${typeof answer === `string` ? JSON.stringify(answer) : String(answer)}`;
    } catch (error) {
      return `threw: ${(error as Error)?.message ?? String(error)}`;
    }
  };
  const problems: string[] = [];
  for (const id of listed) {
    const answer = ask(id);
    if (answer !== true) problems.push(`package.json lists platform "${id}" but supports("${id}") ${answer}`);
  }
  if (ask(UNLISTED_PLATFORM_PROBE) === true)
    problems.push(`supports() accepts platforms package.json does not list (it lists ${listed.map(id => `"${id}"`).join(`, `) || `none`}): list them, or drop "platforms" to let supports() decide`);
  return problems;
}

const cache = new Map<string, Promise<PluginDefinition>>();

/** Imports a plugin's entry (only now, never at discovery) and checks it against its manifest. */
export function loadPlugin(plugin: DiscoveredPlugin & {manifest: {kind: `platform`}}): Promise<PlatformDefinition>;
export function loadPlugin(plugin: DiscoveredPlugin & {manifest: {kind: `agent`}}): Promise<AgentDefinition>;
export function loadPlugin(plugin: DiscoveredPlugin): Promise<PluginDefinition>;
export function loadPlugin(plugin: DiscoveredPlugin): Promise<PluginDefinition> {
  let loaded = cache.get(plugin.dir);
  if (!loaded) {
    loaded = importPlugin(plugin);
    cache.set(plugin.dir, loaded);
  }
  return loaded;
}

async function importPlugin(plugin: DiscoveredPlugin): Promise<PluginDefinition> {
  const id = plugin.manifest.id;
  const entry = path.resolve(plugin.dir, plugin.manifest.entry);
  if (path.relative(plugin.dir, entry).startsWith(`..`))
    throw new PluginError(id, `${describe(plugin)}: entry ${plugin.manifest.entry} points outside the package`);
  // Tell "not built / not installed" apart from "throws on load", as ESLint does.
  if (!fs.existsSync(entry))
    throw new PluginError(id, `${describe(plugin)}: entry ${plugin.manifest.entry} does not exist (is the plugin built? reinstall it)`);

  let mod: unknown;
  let timer: NodeJS.Timeout | undefined;
  const fromEnv = Number(process.env.CAPIT_PLUGIN_TIMEOUT_MS);
  const timeoutMs = Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : 30_000;
  try {
    const importing = (async () => {
      if (/\.[cm]?tsx?$/.test(entry)) {
        // tsx is imported only for TypeScript entries (local folders); compiled plugins never pay for it.
        const {tsImport} = await import(`tsx/esm/api`);
        return tsImport(pathToFileURL(entry).href, import.meta.url);
      }
      return import(pathToFileURL(entry).href);
    })();
    // An entry with a top-level await that never settles must not hang capit.
    mod = await Promise.race([importing, new Promise((_, reject) => {
      timer = setTimeout(() => reject(new Error(`loading did not finish within ${timeoutMs / 1000} s`)), timeoutMs);
      timer.unref();
    })]);
  } catch (error) {
    throw new PluginError(id, `${describe(plugin)} failed to load: ${(error as Error)?.message ?? String(error)}`, error);
  } finally {
    clearTimeout(timer);
  }
  const def = unwrapDefault(mod);
  const problems = checkDefinition(plugin, def);
  if (problems.length > 0)
    throw new PluginError(id, `${describe(plugin)} does not match its manifest: ${problems.join(`; `)}`);
  return def as PluginDefinition;
}
