// Master keys of the installed platforms: status, add (validated against the provider first), remove.
// Shared by `capit platforms …` and the GUI; never returns or prints a key.
import type {CapitContext}      from '../context.js';
import {InputError}             from '../errors.js';
import {withLock}               from '../files/lock.js';
import {masterKeyEnvNames, masterKeyState, requirePlatform, storedCredentials} from './session.js';
import type {PlatformDefinition} from '../plugin.js';
import type {DiscoveredPlugin}  from '../plugins/discover.js';
import {loadPlugin}             from '../plugins/load.js';
import {callPlugin, displayName, platformContext} from './context.js';
import {credentialsPath, updateCredentials} from './credentials.js';
import {capitPaths}             from '../state/paths.js';
import {withArticle}            from '../ui/article.js';

export interface PlatformStatus {
  id: string;
  displayName: string;
  setupUrl: string;
  /** The env var that holds (source `env`) or would hold the master key; null when the platform names none. */
  envVar: string | null;
  source: `env` | `stored` | `none`;
}

/** Manifest facts first (no plugin code runs); the definition only when the manifest leaves something out. */
async function describePlatform(plugin: DiscoveredPlugin): Promise<{envNames: string[]; setupUrl: string}> {
  const manifest = plugin.manifest as {masterKeyEnv?: string; setupUrl?: string};
  if (manifest.masterKeyEnv && manifest.setupUrl) return {envNames: [manifest.masterKeyEnv], setupUrl: manifest.setupUrl};
  const def = await loadPlugin(plugin) as PlatformDefinition;
  return {envNames: masterKeyEnvNames(plugin, def), setupUrl: manifest.setupUrl ?? def.masterKey.setupUrl};
}

export async function listPlatformStatus(ctx: CapitContext): Promise<PlatformStatus[]> {
  const stored = await storedCredentials(ctx);
  return Promise.all(ctx.plugins.platforms.map(async plugin => {
    const {envNames, setupUrl} = await describePlatform(plugin);
    const state = masterKeyState(envNames, plugin.manifest.id, ctx.env, stored);
    return {
      id: plugin.manifest.id,
      displayName: displayName(plugin),
      setupUrl,
      envVar: state.source === `env` ? state.envVar : envNames[0] ?? null,
      source: state.source,
    };
  }));
}

/** Checks the key's shape, then asks the provider whether it is a working master key. Nothing is stored. */
export async function validateMasterKey(platformId: string, key: string, ctx: CapitContext): Promise<PlatformDefinition> {
  const plugin = requirePlatform(platformId, ctx);
  const value = key.trim();
  if (value === ``) throw new InputError(`Empty master key`);
  const def = await loadPlugin(plugin) as PlatformDefinition;
  const problem = def.masterKey.checkShape?.(value);
  if (problem) throw new InputError(`That does not look like ${withArticle(displayName(plugin))} master key: ${problem}`);
  const pctx = await platformContext(def, plugin, value, ctx.env);
  await callPlugin(def.id, `masterKey.validate`, () => def.masterKey.validate(pctx));
  return def;
}

/** Validates the key against the provider, then stores it (0600, atomically, under the capit lock). */
export async function addMasterKey(platformId: string, key: string, ctx: CapitContext): Promise<void> {
  const paths = capitPaths(ctx.env);
  // A corrupt or exposed store is refused before the provider is asked anything.
  await storedCredentials(ctx);
  const def = await validateMasterKey(platformId, key, ctx);
  await withLock(paths.state, () => updateCredentials(paths.config, platforms => ({
    ...platforms,
    [def.id]: {key: key.trim(), addedAt: new Date().toISOString()},
  })));
}

/** Forgets the stored master key; false when none was stored. */
export async function removeMasterKey(platformId: string, ctx: CapitContext): Promise<boolean> {
  const plugin = requirePlatform(platformId, ctx);
  const paths = capitPaths(ctx.env);
  const id = plugin.manifest.id;
  if (!(await storedCredentials(ctx))[id]) return false;
  let removed = false;
  await withLock(paths.state, () => updateCredentials(paths.config, platforms => {
    removed = id in platforms;
    const {[id]: _gone, ...rest} = platforms;
    return rest;
  }));
  return removed;
}

export function masterKeyFile(ctx: CapitContext): string {
  return credentialsPath(capitPaths(ctx.env).config);
}

