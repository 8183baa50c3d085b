import fs   from 'node:fs';
import path from 'node:path';


import type {AgentDefinition, AgentEnvironment, AgentFile, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// What OpenClaw 2026.9.6 really reads (its own binary run against capit's loopback emulator, and its dist/ code):
// - the one-shot CLI (`openclaw agent exec`, `openclaw agent --local`): the process environment, then `<state>/.env`,
//   then `~/.config/openclaw/gateway.env`, then `env.vars` in openclaw.json, then `models.providers.<id>.apiKey`
//   (dist/dotenv-global-*.mjs `loadGlobalRuntimeDotEnvFiles`: first file wins, never over the process environment;
//   each step observed with the binary). A project `.env` cannot carry provider keys (dist/dotenv-*.mjs blocks
//   OPENROUTER_API_KEY there; observed), and a top-level `env.OPENROUTER_API_KEY` makes OpenClaw refuse the config.
// - the gateway service (`openclaw gateway install`): its environment is a generated file — Linux
//   `<state>/gateway.systemd.env` (the unit's `EnvironmentFile=-…`, dist/systemd-unit-*.mjs), macOS
//   `<state>/service-env/<label>.env` sourced by a wrapper (dist/launchd-service-files-*.mjs) — so what it holds is
//   the service's process environment and wins over `<state>/.env`. Except under systemd for the keys the unit lists
//   in OPENCLAW_SERVICE_MANAGED_ENV_KEYS (copies OpenClaw took from `.env`): the gateway re-reads `.env` over those at
//   start (dist/pre-bootstrap-*.mjs `overrideKeys`). Both observed with `openclaw gateway run` given the unit's
//   environment and a systemd marker (test/agents/openclaw.test.ts). `openclaw gateway restart` only restarts the unit
//   (dist/systemd-*.mjs `restartSystemdService`); `openclaw gateway install --force` rewrites the file from `.env`
//   (dist/daemon-install-helpers-*.mjs: `.env` entries over the existing service environment; code read, not run:
//   systemd cannot run in the tests). The launchd file is the code's reading only.
// capit writes `<state>/.env` (and, for AIHubMix, a provider block in openclaw.json). It does not write the service
// file: OpenClaw owns and regenerates it, and one command of OpenClaw's refreshes it from `.env`; capit names it
// instead (doctor: SHADOWED for the gateway service). Never `auth-profiles.json` (OpenClaw then refuses to start).

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/** OpenClaw's home: `OPENCLAW_HOME`, else HOME, else USERPROFILE (core's `home`). */
function openclawHome({env, home, cwd, platform}: AgentEnvironment): string {
  const override = env.OPENCLAW_HOME?.trim();
  return override ? pathApi(platform).resolve(cwd, override) : home;
}

/** Like OpenClaw's `resolveUserPath`: `~` is its home, a relative path is taken from the current directory. */
function userPath(input: string, envInfo: AgentEnvironment): string {
  const p = pathApi(envInfo.platform);
  if (input === `~`) return openclawHome(envInfo);
  if (input.startsWith(`~/`) || input.startsWith(`~\\`)) return p.join(openclawHome(envInfo), input.slice(2));
  return p.resolve(envInfo.cwd, input);
}

/**
 * `$OPENCLAW_STATE_DIR` (legacy `CLAWDBOT_STATE_DIR`), else `<home>/.openclaw-<profile>` when `OPENCLAW_PROFILE` names a
 * profile other than `default`, else `<home>/.openclaw`. OpenClaw also falls back to a legacy `~/.clawdbot` when only
 * that exists; telling that apart needs a file-system check, which a plugin must not do, so capit uses `.openclaw`.
 */
export function openclawStateDir(envInfo: AgentEnvironment): string {
  const {env} = envInfo;
  const override = env.OPENCLAW_STATE_DIR?.trim() || env.CLAWDBOT_STATE_DIR?.trim();
  if (override) return userPath(override, envInfo);
  const p = pathApi(envInfo.platform);
  const profile = env.OPENCLAW_PROFILE?.trim();
  if (profile && profile.toLowerCase() !== `default`) {
    if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(profile))
      throw new Error(`OPENCLAW_PROFILE ${JSON.stringify(profile)} is not a profile name OpenClaw accepts`);
    return p.join(openclawHome(envInfo), `.openclaw-${profile}`);
  }
  return p.join(openclawHome(envInfo), `.openclaw`);
}

/** `$OPENCLAW_CONFIG_PATH`, else `<state>/openclaw.json` (JSON5). */
export function openclawConfigPath(envInfo: AgentEnvironment): string {
  const override = envInfo.env.OPENCLAW_CONFIG_PATH?.trim() || envInfo.env.CLAWDBOT_CONFIG_PATH?.trim();
  return override ? userPath(override, envInfo) : pathApi(envInfo.platform).join(openclawStateDir(envInfo), `openclaw.json`);
}


/** `OPENCLAW_PROFILE` when it names a profile other than `default` (OpenClaw's `normalizeGatewayProfile`). */
function gatewayProfile(envInfo: AgentEnvironment): string | undefined {
  const profile = envInfo.env.OPENCLAW_PROFILE?.trim();
  return profile && profile.toLowerCase() !== `default` ? profile : undefined;
}

/**
 * The gateway service's generated environment file, or undefined where OpenClaw has none (Windows' scheduled task):
 * Linux `<state>/gateway.systemd.env`; macOS `<state>/service-env/<label>.env`, label `OPENCLAW_LAUNCHD_LABEL` else
 * `ai.openclaw.gateway` (`ai.openclaw.<profile>`). dist/systemd-service-files-*.mjs, dist/launchd-service-files-*.mjs.
 */
export function openclawServiceEnvPath(envInfo: AgentEnvironment): string | undefined {
  const p = pathApi(envInfo.platform);
  const state = openclawStateDir(envInfo);
  if (envInfo.platform === `linux`) return p.join(state, `gateway.systemd.env`);
  if (envInfo.platform === `darwin`) {
    const profile = gatewayProfile(envInfo);
    const label = envInfo.env.OPENCLAW_LAUNCHD_LABEL?.trim() || (profile ? `ai.openclaw.${profile}` : `ai.openclaw.gateway`);
    return p.join(state, `service-env`, `${label}.env`);
  }
  return undefined;
}

/** The systemd user unit `openclaw gateway install` writes: `~/.config/systemd/user/<OPENCLAW_SYSTEMD_UNIT | openclaw-gateway[-profile]>.service`. */
function systemdUnitPath(envInfo: AgentEnvironment): string {
  const override = envInfo.env.OPENCLAW_SYSTEMD_UNIT?.trim();
  const profile = gatewayProfile(envInfo);
  const name = override ? override.replace(/\.service$/, ``) : `openclaw-gateway${profile ? `-${profile}` : ``}`;
  return path.posix.join(envInfo.home, `.config`, `systemd`, `user`, `${name}.service`);
}

/**
 * `~/.config/openclaw/gateway.env`, read after `<state>/.env` unless `OPENCLAW_STATE_DIR` moves the state elsewhere
 * (dist/dotenv-global-*.mjs `resolveGlobalDotEnvPaths`).
 */
function gatewayDotEnvPath(envInfo: AgentEnvironment): string | undefined {
  const p = pathApi(envInfo.platform);
  const home = openclawHome(envInfo);
  const stateEnv = p.join(openclawStateDir(envInfo), `.env`);
  if (envInfo.env.OPENCLAW_STATE_DIR !== undefined && stateEnv !== p.join(home, `.openclaw`, `.env`)) return undefined;
  return p.join(home, `.config`, `openclaw`, `gateway.env`);
}

/** What `detect()` found on this machine: plain data, never a secret. */
export interface OpenclawDetection {
  /**
   * Key variables the gateway service takes from `<state>/.env` although its service environment file sets them too.
   * Linux: those the systemd unit lists in OPENCLAW_SERVICE_MANAGED_ENV_KEYS (re-read from `.env` at every start).
   * macOS: those whose value in the service file is the one `.env` holds now (the copy `openclaw gateway install`
   * made; it is not refreshed on restart, so a later change of `.env` needs a reinstall — the install note says so).
   * Any other key in the service file beats `.env`.
   */
  gatewayFollowsDotEnv: string[];
  /** False when openclaw.json exists but is JSON5 that capit's JSONC editor cannot take (unquoted keys, quotes '…'). */
  configEditable: boolean;
}

const KEY_VARIABLES = [`OPENROUTER_API_KEY`, `AIHUBMIX_API_KEY`];

/**
 * The systemd unit, which is no config format core reads: only a small regular file is read (a FIFO or a device in its
 * place would block or never end), and never anything else.
 */
function readUnit(file: string): string | undefined {
  try {
    const st = fs.statSync(file);
    return st.isFile() && st.size < 1024 * 1024 ? fs.readFileSync(file, `utf8`) : undefined;
  } catch {
    return undefined;
  }
}

/** The key variables' values in a dotenv file, through core's reader. */
async function envFileValues(read: ConfigReader, file: string | undefined): Promise<Map<string, string>> {
  const values = new Map<string, string>();
  if (file === undefined) return values;
  for (const name of KEY_VARIABLES) {
    const value = await read({path: file, format: `dotenv`}, [name]);
    if (typeof value === `string`) values.set(name, value);
  }
  return values;
}


/** OPENCLAW_SERVICE_MANAGED_ENV_KEYS from the unit's `Environment=` lines (quoted or not). */
function managedKeys(unit: string | undefined): string[] {
  const match = /OPENCLAW_SERVICE_MANAGED_ENV_KEYS=([A-Za-z0-9_,]*)/.exec(unit ?? ``);
  return match ? match[1]!.split(`,`).map(k => k.trim().toUpperCase()).filter(Boolean) : [];
}

export async function detectOpenclaw(envInfo: AgentEnvironment, read: ConfigReader): Promise<OpenclawDetection> {
  const serviceEnv = await envFileValues(read, openclawServiceEnvPath(envInfo));
  const dotEnv = await envFileValues(read, pathApi(envInfo.platform).join(openclawStateDir(envInfo), `.env`));
  const managed = envInfo.platform === `linux` ? managedKeys(readUnit(systemdUnitPath(envInfo))) : [];
  const gatewayFollowsDotEnv = KEY_VARIABLES.filter(name =>
    serviceEnv.has(name) && (envInfo.platform === `linux` ? managed.includes(name) : serviceEnv.get(name) === dotEnv.get(name)));
  // Editable unless it reads as JSON5 but not as JSONC (unquoted keys, '…'): an absent file is created; one that does not
  // parse at all is refused by core's editor with its own reason.
  const config = openclawConfigPath(envInfo);
  const configEditable = (await read({path: config, format: `jsonc`}, [])) !== undefined || (await read({path: config, format: `json5`}, [])) === undefined;
  return {gatewayFollowsDotEnv, configEditable};
}

export function openclawFiles(envInfo: AgentEnvironment, detected?: OpenclawDetection): AgentFile[] {
  const p = pathApi(envInfo.platform);
  // secret: core writes it 0600 and creates a missing state dir 0700, as OpenClaw itself does.
  const files: AgentFile[] = [{id: `env`, path: p.join(openclawStateDir(envInfo), `.env`), format: `dotenv`, secret: true}];
  // openclaw.json only for the AIHubMix provider block; a JSON5-only file is left out so OpenRouter installs, which
  // never touch it, are not refused over it.
  if (detected?.configEditable !== false) files.push({id: `config`, path: openclawConfigPath(envInfo), format: `jsonc`, secret: false});
  return files;
}

/**
 * `agents.defaults.model.primary` (or a plain `agents.defaults.model` string) in openclaw.json: `<provider>/<model>`,
 * for this platform's provider only.
 */
export async function openclawModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const config = {path: openclawConfigPath(envInfo), format: `json5` as const};
  const model = await read(config, [`agents`, `defaults`, `model`]);
  const primary = typeof model === `string` ? model : await read(config, [`agents`, `defaults`, `model`, `primary`]);
  if (typeof primary !== `string` || !primary.startsWith(`${platformId}/`)) return undefined;
  const slug = primary.slice(platformId.length + 1);
  return slug ? {model: slug, source: config.path} : undefined;
}

function envName(platformId: string): string {
  return `${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`;
}

/**
 * How a running gateway service picks up the new key (both commands exist in 2026.9.6's `openclaw gateway --help`).
 * systemd: a restart re-reads `.env` over the keys the unit manages; a key of the service file's own needs the
 * reinstall. launchd: the service file keeps the copy it was installed with, so only a reinstall refreshes it.
 */
function gatewayNote(platform: NodeJS.Platform): string {
  return platform === `darwin`
    ? `If the OpenClaw gateway runs as a LaunchAgent, run: openclaw gateway install --force (its service environment keeps a copy of the old key; this rewrites it from .env and restarts it)`
    : `If the OpenClaw gateway runs as a service, run: openclaw gateway restart (if capit warned about its service environment file, run openclaw gateway install --force instead, which rewrites that file from .env)`;
}

export function planOpenclaw({platform, secret, read}: PlanInput, envInfo: AgentEnvironment, detected?: OpenclawDetection): AgentPlan {
  const GATEWAY_NOTE = gatewayNote(envInfo.platform);
  const name = envName(platform.id);
  const authProfileNote = `An OpenClaw auth profile for ${platform.id} (from openclaw onboard or models auth login) still wins over .env: check with openclaw models status`;
  if (platform.id !== `aihubmix`)
    return {edits: [{file: `env`, op: `set`, path: [name], value: secret}], notes: [GATEWAY_NOTE, authProfileNote]};
  if (detected?.configEditable === false)
    return {edits: [], notes: [`openclaw.json uses JSON5 syntax (unquoted keys or single quotes) that capit cannot edit without losing its layout; quote its keys (or run openclaw config set once, which rewrites it as JSON) and retry`]};
  // AIHubMix is not built into OpenClaw: a custom OpenAI-compatible provider (docs/gateway/config-tools/custom-
  // providers.md) whose key is an env SecretRef to AIHUBMIX_API_KEY in <state>/.env, so the secret stays in the 0600
  // .env and openclaw.json only names it. OpenClaw 2026.9.6 refuses a custom provider without `models` (observed);
  // an empty list works with any `aihubmix/<model>` (observed against the emulator).
  const provider = [`models`, `providers`, `aihubmix`];
  const edits: AgentPlan[`edits`] = [
    {file: `env`, op: `set`, path: [name], value: secret},
    {file: `config`, op: `set`, path: [...provider, `baseUrl`], value: platform.inferenceBaseUrls.openai},
    {file: `config`, op: `set`, path: [...provider, `api`], value: `openai-completions`},
    {file: `config`, op: `set`, path: [...provider, `apiKey`], value: {source: `env`, provider: `default`, id: name}},
  ];
  if (!Array.isArray(read(`config`, [...provider, `models`]))) edits.push({file: `config`, op: `set`, path: [...provider, `models`], value: []});
  return {edits, notes: [`Use AIHubMix models in OpenClaw as aihubmix/<model> (e.g. --model aihubmix/gpt-4o-mini, or agents.defaults.model.primary)`, GATEWAY_NOTE]};
}

const CLI = `openclaw CLI`;
// `checked`: the layers test/agents/openclaw.test.ts runs the real OpenClaw 2026.9.6 against (on Linux; the AIHubMix
// provider block through `capit aihubmix`); the rest from its dist/ code named in the header.
const BINARY = `binary: openclaw 2026.9.6`;
const DOTENV_CODE = `source: openclaw@2026.9.6 dist/dotenv-global-*.mjs`;
const GATEWAY = `gateway service`;

/**
 * Highest precedence first (see the top of this file for the evidence). The shell's variable reaches the one-shot CLI
 * only (flavour `openclaw CLI`); the service environment file reaches the gateway service only (flavour `gateway
 * service`), above `.env` unless OpenClaw re-reads `.env` over it (detect()). SQLite auth profiles beat all of them
 * but are not files capit can read. openclaw.json is JSON5, read as JSON5 (unquoted keys and all, as OpenClaw's own
 * parser reads it; capit edits it only when it is also valid JSONC). Only `models.providers.<id>.baseUrl` moves the requests: OPENROUTER_BASE_URL is
 * ignored by 2026.9.6 (observed: the request went to openrouter.ai).
 */
export function openclawKeySources(envInfo: AgentEnvironment, platformId: string, detected?: OpenclawDetection): KeySource[] {
  const name = envName(platformId);
  const config = openclawConfigPath(envInfo);
  const serviceEnv = openclawServiceEnvPath(envInfo);
  const gatewayEnv = gatewayDotEnvPath(envInfo);
  const follows = detected?.gatewayFollowsDotEnv.includes(name) ?? false;
  const service: KeySource | undefined = serviceEnv === undefined ? undefined : {
    kind: `file`, path: serviceEnv, format: `dotenv`, at: [name], flavour: GATEWAY,
    checked: envInfo.platform === `darwin` ? `source: openclaw@2026.9.6 dist/launchd-service-files-*.mjs` : BINARY,
    note: follows
      ? `OpenClaw re-reads .env over this copy when the gateway starts`
      : `the gateway service's environment, which wins over .env: run openclaw gateway install --force to rewrite it from .env, then openclaw gateway restart`,
  };
  const sources: (KeySource | undefined)[] = [
    {kind: `env`, name, flavour: CLI, note: `OpenClaw's .env never overrides the process environment`, checked: BINARY},
    follows ? undefined : service,
    {kind: `file`, path: openclawFiles(envInfo)[0]!.path, format: `dotenv`, at: [name], installs: true, checked: BINARY},
    follows ? service : undefined,
    gatewayEnv === undefined ? undefined : {kind: `file`, path: gatewayEnv, format: `dotenv`, at: [name], note: `read after <state>/.env`, checked: DOTENV_CODE},
    {kind: `file`, path: config, format: `json5`, at: [`env`, `vars`, name], note: `.env wins over env.vars in openclaw.json`, checked: DOTENV_CODE},
    {kind: `file`, path: config, format: `json5`, at: [`models`, `providers`, platformId, `apiKey`],
      note: platformId === `aihubmix` ? `capit points it at ${name}; a literal key here would be sent instead` : `lowest: any env value wins`,
      checked: platformId === `aihubmix` ? BINARY : DOTENV_CODE},
    {kind: `file`, path: config, format: `json5`, at: [`models`, `providers`, platformId, `baseUrl`], role: `baseUrl`,
      checked: platformId === `aihubmix` ? BINARY : `source: openclaw@2026.9.6 dist/ (models.providers.<id>.baseUrl)`},
  ];
  return sources.filter((s): s is KeySource => s !== undefined);
}

/**
 * `capit run -- openclaw …`: the process environment beats `<state>/.env`, `env.vars` and the config's apiKey
 * (observed on 2026.9.6), so the variable alone wins over every file capit can read. An SQLite auth profile may still
 * beat it (not a file capit can read). AIHubMix is no provider of OpenClaw's own: a variable alone does nothing
 * without the provider block an install writes into openclaw.json.
 */
export function openclawSessionEnv({platform, secret}: SessionInput): SessionEnv | string {
  if (platform === `aihubmix`)
    return `OpenClaw has no built-in AIHubMix provider: it reads an AIHubMix key only through the provider block that \`capit aihubmix <amount> --agent openclaw\` writes into openclaw.json`;
  return {env: {[envName(platform)]: secret}, beatenBy: []};
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `openclaw`,
  detect: detectOpenclaw,
  files: openclawFiles,
  supports: platformId => platformId === `openrouter` || platformId === `aihubmix`
    ? true
    : `OpenClaw has no provider for "${platformId}" that capit can configure`,
  plan: (input, envInfo, detected) => planOpenclaw(input, envInfo, detected),
  keySources: openclawKeySources,
  model: (envInfo, _detected, read, platformId) => openclawModel(envInfo, read, platformId),
  sessionEnv: openclawSessionEnv,
} satisfies AgentDefinition<OpenclawDetection>;

export default agent;
