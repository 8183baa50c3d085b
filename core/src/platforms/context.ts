import {CapitError, PluginError}            from '../errors.js';
import type {PlatformContext, PlatformDefinition} from '../plugin.js';
import type {DiscoveredPlugin}              from '../plugins/discover.js';
import {readCredentials}                    from './credentials.js';
import type {Env}                           from '../state/paths.js';
import {withArticle}                        from '../ui/article.js';

/** Set by `capit run` in its child's environment (the session key's name): capit then uses no stored master key. */
export const RUN_SESSION_ENV = `CAPIT_RUN_SESSION`;

export type MasterKeySource = `env` | `stored` | `prompt`;

export interface MasterKeyOptions {
  env: Env;
  configDir: string;
  interactive: boolean;
  stderr: NodeJS.WritableStream;
}

export function displayName(plugin: DiscoveredPlugin): string {
  return plugin.manifest.displayName ?? plugin.manifest.id;
}

/** Env var, else the stored credentials file, else a hidden prompt used once (not stored), else a clear error. */
export async function resolveMasterKey(def: PlatformDefinition, plugin: DiscoveredPlugin, opts: MasterKeyOptions): Promise<{key: string; source: MasterKeySource}> {
  for (const name of def.masterKey.env) {
    const value = opts.env[name]?.trim();
    if (value) return checked(def, value, `env`, `$${name}`);
  }
  // Inside `capit run` (which strips the env master keys from the child), a stored or prompted master key would let
  // the session's process mint itself a key above the session's cap: refused, so the cap is not capit's to lift.
  const session = opts.env[RUN_SESSION_ENV]?.trim();
  if (session)
    throw new CapitError(`CAPIT_RUN_SESSION`, `This process runs inside \`capit run\` (session key "${session}"): a session may not mint keys with capit's stored master key`,
      {exitCode: 2, hint: `Run that capit command outside the session.`});
  const stored = (await readCredentials(opts.configDir))[def.id];
  if (stored?.key) return checked(def, stored.key, `stored`, `the stored ${def.id} key`);

  const envNames = def.masterKey.env.join(` or `);
  if (!opts.interactive) {
    throw new CapitError(`CAPIT_NO_MASTER_KEY`, `No ${displayName(plugin)} master key: set ${envNames} or run \`capit platforms add ${def.id}\` (create one at ${def.masterKey.setupUrl})`, {exitCode: 2});
  }
  opts.stderr.write(`${def.masterKey.instructions ?? `capit needs ${withArticle(displayName(plugin))} management key to create capped keys; create one at ${def.masterKey.setupUrl}.`}\n`);
  opts.stderr.write(`It is used for this run only and not stored (to store one: capit platforms add ${def.id}).\n`);
  const {default: password} = await import(`@inquirer/password`);
  const value = (await password({message: `${displayName(plugin)} master key`, mask: `*`}, {output: opts.stderr})).trim();
  if (!value) throw new CapitError(`CAPIT_NO_MASTER_KEY`, `No master key entered`, {exitCode: 2});
  return checked(def, value, `prompt`, `the key you entered`);
}

function checked(def: PlatformDefinition, key: string, source: MasterKeySource, where: string) {
  const problem = def.masterKey.checkShape?.(key);
  if (problem) throw new CapitError(`CAPIT_BAD_MASTER_KEY_SHAPE`, `${where} does not look like ${withArticle(def.id)} master key: ${problem}`, {exitCode: 2});
  return {key, source};
}

export function managementBaseUrl(def: PlatformDefinition, env: Env): string {
  return (env[def.baseUrl.env]?.trim() || def.baseUrl.default).replace(/\/+$/, ``);
}

/** Builds the context a platform plugin works with; the HTTP layer is imported only now. */
export async function platformContext(def: PlatformDefinition, plugin: DiscoveredPlugin, masterKey: string, env: Env): Promise<PlatformContext> {
  const {createPlatformContext} = await import(`./platform-context.js`);
  return createPlatformContext(def, {masterKey, baseUrl: managementBaseUrl(def, env), env, displayName: displayName(plugin)});
}

/** Default cut-off for one plugin call; `CAPIT_PLUGIN_TIMEOUT_MS` overrides it (tests, slow networks). */
export const DEFAULT_PLUGIN_TIMEOUT_MS = 30_000;

/** A plugin call cut off by capit's timeout: its request may still be in flight and may still act at the provider. */
export class PluginTimeoutError extends PluginError {
  readonly timedOut = true;
}

// A provider call that takes too long is most likely a slow provider, not a plugin bug: said in the user's words,
// without the `[plugin:<id>]` prefix and method name.
const PROVIDER_CALLS: Readonly<Record<string, string>> = {
  createKey: `creating the key`, listKeys: `listing keys`, deleteKey: `deleting the key`, updateKey: `updating the key`,
  'masterKey.validate': `checking the master key`,
};

function timeoutError(pluginId: string, what: string, timeoutMs: number): PluginTimeoutError {
  const error = new PluginTimeoutError(pluginId, `${what} did not finish within ${timeoutMs / 1000} s and was cut off (set CAPIT_PLUGIN_TIMEOUT_MS to allow longer)`);
  const doing = PROVIDER_CALLS[what];
  if (doing !== undefined)
    error.message = `no answer within ${timeoutMs / 1000} s while ${doing}, so capit stopped waiting (set CAPIT_PLUGIN_TIMEOUT_MS to wait longer)`;
  return error;
}

/**
 * Runs plugin code so that its own bugs are attributed (`[plugin:<id>]`) while capit's errors pass through.
 * A call that does not settle within the timeout is abandoned with a clear error, so a hanging plugin cannot hang capit.
 */
export async function callPlugin<T>(pluginId: string, what: string, fn: () => Promise<T> | T, opts: {timeoutMs?: number; env?: Readonly<Record<string, string | undefined>>} = {}): Promise<T> {
  const fromEnv = Number((opts.env ?? process.env).CAPIT_PLUGIN_TIMEOUT_MS);
  const timeoutMs = opts.timeoutMs ?? (Number.isFinite(fromEnv) && fromEnv > 0 ? fromEnv : DEFAULT_PLUGIN_TIMEOUT_MS);
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(pluginId, what, timeoutMs)), timeoutMs);
  });
  try {
    return await Promise.race([Promise.resolve().then(fn), timeout]);
  } catch (error) {
    if (error instanceof CapitError) throw error;
    throw new PluginError(pluginId, `${what} failed: ${(error as Error)?.message ?? String(error)}`, error);
  } finally {
    clearTimeout(timer);
  }
}
