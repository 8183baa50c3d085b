import path from 'node:path';


import type {AgentDefinition, AgentEnvironment, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// Qwen Code (`@qwen-code/qwen-code` 0.24.4, Node >= 22; read in its bundle and run in test/agents/qwen.test.ts).
// A model comes from `modelProviders.openai[]` in settings.json: {id (the model), name, envKey, baseUrl}, selected by
// `model.name` with `security.auth.selectedType: "openai"`. The key is the variable named by envKey, read from the
// process environment, which qwen fills before start-up only where a variable is unset (chunks/chunk-DYLGEL4Y.js
// findEnvFiles, loadEnvironment): the shell first, then the first `.qwen/.env` or `.env` walking up from the project
// (trusted workspaces only) to the home, then `$QWEN_HOME/.env` (`~/.qwen/.env`), then `~/.env`, then settings `env`.
//
// So capit names its own variable (CAPIT_OPENROUTER_API_KEY): no shell or project file a user already has sets it,
// and a stale OPENROUTER_API_KEY / OPENAI_API_KEY in the shell does not reach this entry. The key goes into
// `~/.qwen/.env` (0600), not into settings.json, which users share and edit.

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/** `$QWEN_HOME` (resolved against the working directory) or `~/.qwen` (Storage.getGlobalQwenDir). */
export function qwenHome({env, home, cwd, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  return env.QWEN_HOME ? p.resolve(cwd, env.QWEN_HOME) : p.join(home, `.qwen`);
}

export function envName(platformId: string): string {
  return `CAPIT_${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`;
}

/** Models capit names in a new entry; the user may change its `id` in settings.json. */
const DEFAULT_MODEL: Record<string, string> = {openrouter: `qwen/qwen3-coder`, aihubmix: `qwen3-coder-plus`};

/** Where capit's entry (the one whose envKey is capit's variable) sits in `modelProviders.openai`, per platform. */
export interface QwenDetected {
  index: Record<string, number>;
  /** Whether settings.json already holds capit's entry for the platform. */
  installed: Record<string, boolean>;
  /** The model id (`id`) of capit's entry per platform, which `model.name` must name for Qwen Code to use it. */
  model?: Record<string, string>;
}

export function entryIndex(providers: unknown, platformId: string): number {
  if (!Array.isArray(providers)) return 0;
  const found = providers.findIndex(m => typeof m === `object` && m !== null && (m as {envKey?: unknown}).envKey === envName(platformId));
  return found >= 0 ? found : providers.length;
}

function settingsFile(envInfo: AgentEnvironment): string {
  return pathApi(envInfo.platform).join(qwenHome(envInfo), `settings.json`);
}


export function planQwen({platform, secret, read}: PlanInput): AgentPlan {
  const providers = read(`settings`, [`modelProviders`, `openai`]);
  const index = entryIndex(providers, platform.id);
  const existing = Array.isArray(providers) ? providers[index] as Record<string, unknown> | undefined : undefined;
  const model = typeof existing?.id === `string` && existing.id ? existing.id : DEFAULT_MODEL[platform.id] ?? `qwen/qwen3-coder`;
  return {
    edits: [
      {file: `env`, op: `set`, path: [envName(platform.id)], value: secret},
      {file: `settings`, op: `set`, path: [`modelProviders`, `openai`, index], value: {
        ...existing,
        id: model,
        name: `${model} (${platform.displayName}, capped by capit)`,
        envKey: envName(platform.id),
        baseUrl: platform.inferenceBaseUrls.openai,
      }},
      {file: `settings`, op: `set`, path: [`security`, `auth`, `selectedType`], value: `openai`},
      {file: `settings`, op: `set`, path: [`model`, `name`], value: model},
    ],
    notes: [`Qwen Code now uses ${model} through ${platform.displayName}; change "id" and "model.name" in ~/.qwen/settings.json for another model (running sessions pick it up on restart)`],
  };
}

/**
 * Highest precedence first: the shell, the project's .env files (only the first one found walking up is read; listed
 * here for the working directory), then ~/.qwen/.env (capit's), ~/.env and the settings `env` block.
 */
export function qwenKeySources(envInfo: AgentEnvironment, platformId: string, detected: QwenDetected | undefined): KeySource[] {
  const p = pathApi(envInfo.platform);
  const name = envName(platformId);
  const home = qwenHome(envInfo);
  const settings = settingsFile(envInfo);
  const project = p.resolve(envInfo.cwd) === p.resolve(envInfo.home)
    ? []
    : [p.join(envInfo.cwd, `.qwen`, `.env`), p.join(envInfo.cwd, `.env`)];
  const index = detected?.index[platformId] ?? 0;
  const workspaceSettings = project.length ? [p.join(envInfo.cwd, `.qwen`, `settings.json`)] : [];
  // test/agents/qwen.test.ts runs 0.24.4 with the shell variable and with capit's ~/.qwen/.env; the other layers are
  // known from its bundle.
  const BINARY = `binary: qwen 0.24.4`;
  const ENV_FILES = `source: chunks/chunk-DYLGEL4Y.js@0.24.4`;
  const SETTINGS = `source: chunks/chunk-D2H63VR2.js@0.24.4`;
  // The model entry Qwen Code uses: `model.name` (the entry's id) with `security.auth.selectedType` "openai", a
  // workspace's settings.json over the user's. The install sets both in the user's file.
  // Before capit's entry exists (the install's own warnings, the README table), the id a new entry gets.
  const model = detected?.model?.[platformId] ?? DEFAULT_MODEL[platformId];
  // The user's model.name is run in test/agents/qwen.test.ts (set back to the user's entry, qwen sends that entry's key).
  const selector = (file: string, at: string[], selects: string, installs: boolean, note: string): KeySource => ({
    kind: `file`, path: file, format: `jsonc`, at, role: `selector`, selects, note,
    checked: file === settings && at[0] === `model` ? BINARY : SETTINGS, ...(installs ? {installs: true} : {}),
  });
  const selectors: KeySource[] = model === undefined ? [] : [
    ...[...workspaceSettings, settings].map(file => selector(file, [`model`, `name`], model, file === settings,
      `selects the model entry Qwen Code uses; qwen -m <model> or /model pick another for one session, which capit cannot see`)),
    ...[...workspaceSettings, settings].map(file => selector(file, [`security`, `auth`, `selectedType`], `openai`, file === settings,
      `selects the auth type; /auth or --auth-type switch it`)),
  ];
  return [
    {kind: `env`, name, note: `Qwen Code reads the shell before its .env files`, checked: BINARY},
    ...project.map(file => ({kind: `file` as const, path: file, format: `dotenv` as const, at: [name], note: `a project .env is read before ~/.qwen/.env`, checked: ENV_FILES})),
    {kind: `file`, path: p.join(home, `.env`), format: `dotenv`, at: [name], installs: true, checked: BINARY},
    {kind: `file`, path: p.join(envInfo.home, `.env`), format: `dotenv`, at: [name], checked: ENV_FILES},
    ...[...workspaceSettings, settings].map(file => ({kind: `file` as const, path: file, format: `jsonc` as const, at: [`env`, name], checked: ENV_FILES})),
    // modelProviders merges with strategy "replace" (chunks/chunk-D2H63VR2.js settings schema): a project's list
    // replaces the user's, capit's entry with it.
    ...workspaceSettings.map(file => ({
      kind: `file` as const, path: file, format: `jsonc` as const, at: [`modelProviders`], role: `baseUrl` as const, redirectsWhenSet: true,
      note: `a project's modelProviders replaces the user's list, capit's entry included`, checked: SETTINGS,
    })),
    {kind: `file`, path: settings, format: `jsonc`, at: [`modelProviders`, `openai`, index, `baseUrl`], role: `baseUrl`, note: `the base URL of capit's modelProviders entry`, checked: BINARY},
    ...selectors,
  ];
}

async function qwenModel(envInfo: AgentEnvironment, detected: QwenDetected | undefined, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const file = {path: settingsFile(envInfo), format: `jsonc` as const};
  const index = detected?.index[platformId] ?? 0;
  if (await read(file, [`modelProviders`, `openai`, index, `envKey`]) !== envName(platformId)) return undefined;
  const model = await read(file, [`modelProviders`, `openai`, index, `id`]);
  return typeof model === `string` && model ? {model, source: file.path} : undefined;
}

/**
 * `capit run -- qwen …`: capit's variable in the child's environment wins over every .env and the settings `env`
 * block (qwen only fills unset variables); nothing beats the process environment. It is read only through capit's
 * modelProviders entry, so without one (no install yet) no variable can hand Qwen Code the session key.
 */
export function qwenSessionEnv({platform, secret}: SessionInput, envInfo: AgentEnvironment, detected: QwenDetected | undefined): SessionEnv | string {
  if (!detected?.installed[platform]) {
    return `Qwen Code reads a key only through a modelProviders entry in settings.json; run "capit ${platform} <usd> --agent qwen" once so capit's entry exists`;
  }
  // The variable reaches Qwen Code only while capit's entry is the selected model: a set selector naming another
  // refuses (the same selectors doctor reads, none of them marked as the one capit writes).
  const beatenBy = qwenKeySources(envInfo, platform, detected)
    .filter(source => source.role === `selector`)
    .map(({installs: _installs, ...source}) => source);
  return {env: {[envName(platform)]: secret}, ...(beatenBy.length ? {beatenBy} : {})};
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `qwen`,

  detect: async (envInfo, read) => {
    const providers = await read({path: settingsFile(envInfo), format: `jsonc`}, [`modelProviders`, `openai`]);
    const index = {openrouter: entryIndex(providers, `openrouter`), aihubmix: entryIndex(providers, `aihubmix`)};
    const length = Array.isArray(providers) ? providers.length : 0;
    const model: Record<string, string> = {};
    for (const [platformId, at] of Object.entries(index)) {
      const id = Array.isArray(providers) ? (providers[at] as {id?: unknown} | undefined)?.id : undefined;
      if (typeof id === `string` && id) model[platformId] = id;
    }
    return {index, installed: {openrouter: index.openrouter < length, aihubmix: index.aihubmix < length}, model};
  },

  // .env first: when capit creates ~/.qwen, the secret file's write creates it 0700.
  files: envInfo => [
    {id: `env`, path: pathApi(envInfo.platform).join(qwenHome(envInfo), `.env`), format: `dotenv`, secret: true},
    {id: `settings`, path: settingsFile(envInfo), format: `jsonc`, secret: false},
  ],

  supports: platformId => platformId in DEFAULT_MODEL
    ? true
    : `Qwen Code takes OpenAI-compatible providers, but capit knows no OpenAI-compatible base for "${platformId}"`,

  plan: input => planQwen(input),
  keySources: qwenKeySources,
  model: qwenModel,
  sessionEnv: qwenSessionEnv,
} satisfies AgentDefinition<QwenDetected>;

export default agent;
