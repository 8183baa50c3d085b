import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// OpenClaw loads `<state>/.env` at start-up without overriding the process environment, and that .env wins over
// `env.vars` in openclaw.json and over `models.providers.<id>.apiKey` (research/agents.md §3, observed on 2026.9.6).
// capit writes only `<state>/.env`: never `auth-profiles.json` (OpenClaw then refuses to start), never openclaw.json.

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

export function openclawFiles(envInfo: AgentEnvironment): AgentFile[] {
  // secret: core writes it 0600 and creates a missing state dir 0700, as OpenClaw itself does.
  return [{id: `env`, path: pathApi(envInfo.platform).join(openclawStateDir(envInfo), `.env`), format: `dotenv`, secret: true}];
}

/**
 * `agents.defaults.model.primary` (or a plain `agents.defaults.model` string) in openclaw.json: `<provider>/<model>`,
 * for this platform's provider only.
 */
export async function openclawModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const config = {path: openclawConfigPath(envInfo), format: `jsonc` as const};
  const model = await read(config, [`agents`, `defaults`, `model`]);
  const primary = typeof model === `string` ? model : await read(config, [`agents`, `defaults`, `model`, `primary`]);
  if (typeof primary !== `string` || !primary.startsWith(`${platformId}/`)) return undefined;
  const slug = primary.slice(platformId.length + 1);
  return slug ? {model: slug, source: config.path} : undefined;
}

function envName(platformId: string): string {
  return `${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`;
}

export function planOpenclaw({platform, secret}: PlanInput): AgentPlan {
  return {
    edits: [{file: `env`, op: `set`, path: [envName(platform.id)], value: secret}],
    notes: [
      `Restart a running OpenClaw gateway (or run: openclaw secrets reload) so it picks up the new key`,
      `An OpenClaw auth profile for ${platform.id} (from openclaw onboard or models auth login) still wins over .env: check with openclaw models status`,
    ],
  };
}

/**
 * Highest precedence first: process env > `<state>/.env` (installed) > `env.vars` in openclaw.json >
 * `models.providers.<id>.apiKey`. SQLite auth profiles beat all of them but are not files capit can read.
 * openclaw.json is JSON5; it is read here as `jsonc`, which accepts comments and trailing commas but not unquoted
 * keys or single quotes: such a file shows up as unreadable to `capit doctor`. Being below the installed source, it
 * never produces a shadowing warning.
 */
export function openclawKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const name = envName(platformId);
  const config = openclawConfigPath(envInfo);
  return [
    {kind: `env`, name, note: `OpenClaw's .env never overrides the process environment`},
    {kind: `file`, path: openclawFiles(envInfo)[0]!.path, format: `dotenv`, at: [name], installs: true},
    {kind: `file`, path: config, format: `jsonc`, at: [`env`, `vars`, name], note: `.env wins over env.vars in openclaw.json`},
    {kind: `file`, path: config, format: `jsonc`, at: [`env`, name]},
    {kind: `file`, path: config, format: `jsonc`, at: [`models`, `providers`, platformId, `apiKey`], note: `lowest: any env value wins`},
  ];
}

/**
 * `capit run -- openclaw …`: the process environment beats `<state>/.env`, `env.vars` and the config's apiKey
 * (research/agents.md §3, [C-run] 2026.9.6: "Shape A was shadowed … by a process OPENROUTER_API_KEY"), so the variable
 * alone wins over every file capit can read. An SQLite auth profile may still beat it (not a file capit can read).
 */
export function openclawSessionEnv({platform, secret}: SessionInput): SessionEnv {
  return {env: {[envName(platform)]: secret}, beatenBy: []};
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `openclaw`,
  files: openclawFiles,
  supports: platformId => platformId === `openrouter`
    ? true
    : `OpenClaw's built-in provider for "${platformId}" is not something capit can configure through its .env yet`,
  plan: input => planOpenclaw(input),
  keySources: openclawKeySources,
  model: (envInfo, _detected, read, platformId) => openclawModel(envInfo, read, platformId),
  sessionEnv: openclawSessionEnv,
} satisfies AgentDefinition;

export default agent;
