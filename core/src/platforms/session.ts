// A platform's plugin, definition and authenticated context, built once per command (or GUI request) and shared by
// the listing and the actions that follow it, so a prompted master key is asked for once.
import type {CapitContext}                    from '../context.js';
import {findPlatform}                         from '../context.js';
import {CapitError, InputError}               from '../errors.js';
import {unknownPlatform}                      from '../ui/suggest.js';
import type {PlatformContext, PlatformDefinition} from '../plugin.js';
import type {DiscoveredPlugin}                from '../plugins/discover.js';
import {loadPlugin}                           from '../plugins/load.js';
import {platformContext, resolveMasterKey, RUN_SESSION_ENV} from './context.js';
import type {MasterKeySource}                 from './context.js';
import {readCredentials}                      from './credentials.js';
import type {StoredCredential}                from './credentials.js';
import {capitPaths}                           from '../state/paths.js';

export interface PlatformSession {
  plugin: DiscoveredPlugin;
  def: PlatformDefinition;
  pctx: PlatformContext;
  /** Where the master key came from. */
  masterKeySource: MasterKeySource;
}

/**
 * The one place a platform session is built: the master key (env var → stored key → hidden prompt → an error naming
 * the setup URL), then the platform context around it. `def` when the caller already loaded the plugin.
 */
export async function openPlatformSession(plugin: DiscoveredPlugin, ctx: CapitContext, def?: PlatformDefinition): Promise<PlatformSession> {
  const definition = def ?? await loadPlugin(plugin) as PlatformDefinition;
  const master = await resolveMasterKey(definition, plugin, {env: ctx.env, configDir: capitPaths(ctx.env).config, interactive: ctx.interactive, stderr: ctx.stderr});
  const pctx = await platformContext(definition, plugin, master.key, ctx.env);
  return {plugin, def: definition, pctx, masterKeySource: master.source};
}

const sessions = new WeakMap<CapitContext, Map<string, Promise<PlatformSession>>>();

/** {@link openPlatformSession}, once per command (or GUI request) and platform: a prompted key is asked for once. */
export function platformSession(plugin: DiscoveredPlugin, ctx: CapitContext): Promise<PlatformSession> {
  let perContext = sessions.get(ctx);
  if (!perContext) sessions.set(ctx, perContext = new Map());
  let session = perContext.get(plugin.manifest.id);
  if (!session) {
    session = openPlatformSession(plugin, ctx);
    // A failure is not cached: the next attempt (e.g. after `capit platforms add` in the GUI) tries again.
    session.catch(() => perContext.delete(plugin.manifest.id));
    perContext.set(plugin.manifest.id, session);
  }
  return session;
}

/** The named platform, or an InputError listing the installed ones. */
export function requirePlatform(id: string, ctx: CapitContext): DiscoveredPlugin {
  const plugin = findPlatform(ctx.plugins, id);
  if (!plugin) {
    throw new InputError(unknownPlatform(id, ctx.plugins.platforms.map(p => p.manifest.id)));
  }
  return plugin;
}

/** Env var names that may hold the platform's master key: the definition's when loaded, else the manifest's. */
export function masterKeyEnvNames(plugin: DiscoveredPlugin, def?: PlatformDefinition): string[] {
  if (def) return [...def.masterKey.env];
  const manifest = plugin.manifest as {masterKeyEnv?: string};
  return manifest.masterKeyEnv ? [manifest.masterKeyEnv] : [];
}

export type MasterKeyState = {source: `env`; envVar: string} | {source: `stored`} | {source: `none`};

/** Where the master key would come from, without prompting and without reading it into any output. */
export function masterKeyState(envNames: readonly string[], id: string, env: CapitContext[`env`], stored: Record<string, StoredCredential>): MasterKeyState {
  for (const name of envNames) if (env[name]?.trim()) return {source: `env`, envVar: name};
  // Inside `capit run` a stored key is not used (context.ts resolveMasterKey): as if there were none.
  if (stored[id]?.key && !env[RUN_SESSION_ENV]?.trim()) return {source: `stored`};
  return {source: `none`};
}

/** The stored credentials, read once per call site; refuses a corrupt or exposed file (exit 2 with the fix). */
export function storedCredentials(ctx: CapitContext): Promise<Record<string, StoredCredential>> {
  return readCredentials(capitPaths(ctx.env).config);
}

/**
 * The stored credentials for commands that also work with master keys from the environment (listing keys, the kill
 * switch): when `platforms` has one with an environment key, a corrupt or exposed store is reported once as a warning
 * and read as empty, so that key still works — the kill switch must work whenever issuing does. A platform whose key
 * would come from the store is then skipped. With no environment key at all the store's error is thrown (exit 1).
 */
export async function storedCredentialsOrWarn(ctx: CapitContext, platforms: readonly DiscoveredPlugin[]): Promise<Record<string, StoredCredential>> {
  try {
    return await storedCredentials(ctx);
  } catch (error) {
    if (!(error instanceof CapitError) || !error.code.startsWith(`CAPIT_CREDENTIALS_`)) throw error;
    if (!platforms.some(plugin => masterKeyState(masterKeyEnvNames(plugin), plugin.manifest.id, ctx.env, {}).source === `env`)) throw error;
    if (!warnedStores.has(ctx)) {
      warnedStores.add(ctx);
      ctx.stderr.write(`capit: warning: ${error.message}; platforms without a master key in the environment are skipped\n`);
    }
    return {};
  }
}

const warnedStores = new WeakSet<CapitContext>();

/**
 * Releases the pooled sockets of every session of `ctx`, so a CLI process exits as soon as its work is done instead of
 * waiting for keep-alive timeouts. The GUI, which reuses sessions across requests, does not call it.
 */
export async function closeSessions(ctx: CapitContext): Promise<void> {
  const perContext = sessions.get(ctx);
  if (!perContext) return;
  sessions.delete(ctx);
  await Promise.all([...perContext.values()].map(async session => {
    const http = (await session.catch(() => undefined))?.pctx.http as {close?: () => Promise<void>} | undefined;
    await http?.close?.().catch(() => {});
  }));
}
