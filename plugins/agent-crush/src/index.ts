import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// Crush (charmbracelet/crush; npm `@charmland/crush` 0.96.1, whose package only downloads the binary from GitHub at
// install, so it is not run here: these facts are from internal/config/load.go and store.go of the source, snapshot
// 37f36e9 after v0.90.0). Crush merges, later winning: /etc, the global config `$CRUSH_GLOBAL_CONFIG/crush.json` (else
// `<config home>/crush/crush.json`) and its `crushrc` sibling, the data config `$CRUSH_GLOBAL_DATA/crush.json` (else
// `$XDG_DATA_HOME/crush/crush.json`, `~/.local/share/crush/crush.json`, `%LOCALAPPDATA%\crush\crush.json`), then the
// project's `crush.json` < `.crush.json` < `crushrc` < `.crushrc` from the git root down to the working directory.
// Crush stores a key the user types in the data config (`providers.<id>.api_key`, ScopeGlobal), which is where capit
// writes. A known provider's default key is the template `$OPENROUTER_API_KEY`, resolved only when no config sets
// `api_key`, with `CRUSH_<NAME>` winning over `<NAME>` while it is resolved (PushPopCrushEnv).
// The 0.96.1 README calls the data file "state" not to edit by hand; capit edits only the provider's two values in
// it, as Crush's own key prompt does. Not verified on a release: later source (internal/config/keyring.go) can keep
// keys in the OS keychain and leave "__keyring__" in the file; `capit doctor` then sees another value than capit's.

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

export function dataConfig({env, home, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  if (env.CRUSH_GLOBAL_DATA) return p.join(env.CRUSH_GLOBAL_DATA, `crush.json`);
  if (env.XDG_DATA_HOME) return p.join(env.XDG_DATA_HOME, `crush`, `crush.json`);
  if (platform === `win32`) return p.join(env.LOCALAPPDATA || p.join(env.USERPROFILE || home, `AppData`, `Local`), `crush`, `crush.json`);
  return p.join(home, `.local`, `share`, `crush`, `crush.json`);
}

/** Crush's internal/home `Config()`: `$XDG_CONFIG_HOME`, else `<home>/.config`, on every OS. */
export function globalConfig({env, home, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  if (env.CRUSH_GLOBAL_CONFIG) return p.join(env.CRUSH_GLOBAL_CONFIG, `crush.json`);
  return p.join(env.XDG_CONFIG_HOME || p.join(home, `.config`), `crush`, `crush.json`);
}

/**
 * Crush's built-in providers come from catwalk (charmbracelet/catwalk internal/providers/configs/openrouter.json and
 * aihubmix.json): each has an `api_key` template naming its variable, an OpenAI-compatible endpoint and a model list.
 * A config's `providers.<id>.api_key` / `base_url` override the template and the endpoint (load.go configureProviders).
 */
const BUILT_IN_ENV: Record<string, string> = {openrouter: `OPENROUTER_API_KEY`, aihubmix: `AIHUBMIX_API_KEY`};

export function planCrush({platform, secret}: PlanInput): AgentPlan {
  return {
    edits: [
      {file: `data`, op: `set`, path: [`providers`, platform.id, `api_key`], value: secret},
      {file: `data`, op: `set`, path: [`providers`, platform.id, `base_url`], value: platform.inferenceBaseUrls.openai},
    ],
    notes: [`Pick ${/^[AEIOU]/i.test(platform.displayName) ? `an` : `a`} ${platform.displayName} model in Crush (ctrl+m / "Switch Model"); restart a running Crush to use the new key`],
  };
}

/**
 * Highest precedence first. The project's crushrc / .crushrc are shell scripts that print JSON (not readable as a
 * file format) and parent folders up to the git root are not listed; the JSON configs of the working directory are.
 */
export function crushKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const p = pathApi(envInfo.platform);
  const project = [`.crush.json`, `crush.json`].map(name => p.join(envInfo.cwd, name));
  const data = dataConfig(envInfo);
  // CRUSH_GLOBAL_CONFIG and CRUSH_GLOBAL_DATA may name one folder: then it is one file, listed once.
  const files = [...new Set([...project, data, globalConfig(envInfo)])];
  const keyAt = [`providers`, platformId, `api_key`];
  const baseAt = [`providers`, platformId, `base_url`];
  const note = (file: string) => file === data ? undefined : project.includes(file) ? `a project config is merged over the data config` : undefined;
  const env = BUILT_IN_ENV[platformId] ?? `${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`;
  // Crush cannot run here (see the header): every place is from its source.
  const checked = `source: charmbracelet/crush internal/config/load.go@37f36e9`;
  return [
    ...files.map(file => ({kind: `file` as const, path: file, format: `json` as const, at: keyAt, ...(file === data ? {installs: true} : {}), ...(note(file) ? {note: note(file)} : {}), checked})),
    {kind: `env`, name: `CRUSH_${env}`, note: `used only when no config sets api_key`, checked},
    {kind: `env`, name: env, note: `used only when no config sets api_key`, checked},
    ...files.map(file => ({kind: `file` as const, path: file, format: `json` as const, at: baseAt, role: `baseUrl` as const, ...(note(file) ? {note: note(file)} : {}), checked})),
  ];
}

/**
 * `capit run -- crush`: `CRUSH_OPENROUTER_API_KEY` (`CRUSH_AIHUBMIX_API_KEY`) wins over OPENROUTER_API_KEY while Crush
 * resolves its providers' key templates, but every config that sets `api_key` (capit's install among them) wins over
 * both. The session keeps Crush's base URL: a config's `base_url` (project, data or global, the same files and order as
 * for the key) still decides where the session key goes, so those are `beatenBy` too and capit run refuses while the
 * first one set names another host than the platform's.
 */
export function crushSessionEnv({platform, secret}: SessionInput, envInfo: AgentEnvironment): SessionEnv | string {
  const env = BUILT_IN_ENV[platform];
  if (!env) return `Crush has no built-in "${platform}" provider whose key a variable can set`;
  return {
    env: {[`CRUSH_${env}`]: secret},
    beatenBy: crushKeySources(envInfo, platform).filter(s => s.kind === `file`).map(({installs: _installs, ...s}) => s),
  };
}

/**
 * The large model (`models.large`, Crush's main one) of the config that wins — project, data, global — when its
 * provider is the platform, with its `max_tokens`.
 */
async function crushModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const keySources = crushKeySources(envInfo, platformId).filter(s => s.kind === `file` && s.role !== `baseUrl`);
  for (const source of keySources) {
    if (source.kind !== `file`) continue;
    const file = {path: source.path, format: `json` as const};
    const provider = await read(file, [`models`, `large`, `provider`]);
    if (provider === undefined) continue;
    if (provider !== platformId) return undefined;
    const model = await read(file, [`models`, `large`, `model`]);
    if (typeof model !== `string` || !model) return undefined;
    const max = await read(file, [`models`, `large`, `max_tokens`]);
    return {
      model, source: source.path, ...(typeof max === `number` && max > 0 ? {maxOutputTokens: max} : {}),
      outputTokensSetting: `models.large.max_tokens in crush.json`,
    };
  }
  return undefined;
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `crush`,
  files: envInfo => [{id: `data`, path: dataConfig(envInfo), format: `json`, secret: true}],
  supports: platformId => platformId in BUILT_IN_ENV
    ? true
    : `Crush has no built-in "${platformId}" provider that capit can configure yet`,
  plan: input => planCrush(input),
  keySources: crushKeySources,
  model: (envInfo, _detected, read, platformId) => crushModel(envInfo, read, platformId),
  sessionEnv: crushSessionEnv,
} satisfies AgentDefinition;

export default agent;
