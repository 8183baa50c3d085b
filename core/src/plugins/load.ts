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

export function checkDefinition(plugin: DiscoveredPlugin, value: unknown): string[] {
  const {manifest} = plugin;
  const problems: string[] = [];
  if (!value || typeof value !== `object`) return [`the entry's default export is not a plugin object (use definePlatform/defineAgent)`];
  const def = value as Record<string, unknown>;
  for (const field of [`kind`, `id`, `apiVersion`] as const)
    if (def[field] !== manifest[field])
      problems.push(`${field} is ${JSON.stringify(def[field])} in the entry but ${JSON.stringify(manifest[field])} in package.json`);
  for (const fn of REQUIRED_FUNCTIONS[manifest.kind])
    if (typeof def[fn] !== `function`) problems.push(`${fn}() is missing`);
  if (manifest.kind === `platform`) {
    const base = def.baseUrl as {default?: unknown; env?: unknown} | undefined;
    if (typeof base?.default !== `string` || typeof base?.env !== `string`) problems.push(`baseUrl {default, env} is missing`);
    const master = def.masterKey as {env?: unknown; setupUrl?: unknown; validate?: unknown} | undefined;
    if (!Array.isArray(master?.env) || typeof master?.setupUrl !== `string` || typeof master?.validate !== `function`)
      problems.push(`masterKey {env, setupUrl, validate} is missing`);
  }
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
