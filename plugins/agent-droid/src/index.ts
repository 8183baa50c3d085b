import path from 'node:path';


import type {AgentDefinition, AgentEnvironment, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput} from 'capit/plugin';

// Factory Droid (`@factory/cli` 0.225.1, binary `@factory/cli-linux-x64@0.225.2`; facts from the strings of that
// binary and checked by running it in test/agents/droid.test.ts). It takes an OpenAI-compatible "bring your own key"
// model from `customModels` in `~/.factory/settings.json`: {model, id?, displayName, baseUrl, apiKey, provider:
// "generic-chat-completion-api", maxOutputTokens}. `droid exec -m <id>` runs one turn with it and needs no Factory
// login. The home is `$FACTORY_HOME_OVERRIDE`, else `$HOME` (the binary's E3(): FACTORY_HOME_OVERRIDE ?? HOME ??
// USERPROFILE). Droid reads no environment variable for a custom model's key, so the key is written into the entry.

const PROVIDER = `generic-chat-completion-api`;

/** Models capit names in a new entry; the user can change `model` in settings.json afterwards. */
const DEFAULT_MODEL: Record<string, string> = {openrouter: `openai/gpt-4o-mini`, aihubmix: `gpt-4o-mini`};

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

export function factoryDir({env, home, platform}: AgentEnvironment): string {
  return pathApi(platform).join(env.FACTORY_HOME_OVERRIDE || home, `.factory`);
}

export function settingsPath(envInfo: AgentEnvironment): string {
  return pathApi(envInfo.platform).join(factoryDir(envInfo), `settings.json`);
}

/** The id of capit's entry for a platform: explicit, so `droid exec -m custom:capit-openrouter` and the default model name it. */
export function customModelId(platformId: string): string {
  return `custom:capit-${platformId}`;
}

/** Where each platform's capit entry sits in `customModels` (or would be appended), read once by `detect`. */
export interface DroidDetected {
  /** platform id → index in customModels */
  index: Record<string, number>;
}

/** The index of capit's entry for `platformId` in a customModels array, else the index an appended entry gets. */
export function entryIndex(customModels: unknown, platformId: string): number {
  if (!Array.isArray(customModels)) return 0;
  const found = customModels.findIndex(m => typeof m === `object` && m !== null && (m as {id?: unknown}).id === customModelId(platformId));
  return found >= 0 ? found : customModels.length;
}


export function planDroid({platform, secret, read}: PlanInput): AgentPlan {
  // A customModels that is not a list is refused by core's file engine (it never replaces a user's value).
  const current = read(`settings`, [`customModels`]);
  const index = entryIndex(current, platform.id);
  const existing = Array.isArray(current) ? current[index] as Record<string, unknown> | undefined : undefined;
  const model = typeof existing?.model === `string` && existing.model ? existing.model : DEFAULT_MODEL[platform.id] ?? `openai/gpt-4o-mini`;
  const id = customModelId(platform.id);
  return {
    edits: [
      {file: `settings`, op: `set`, path: [`customModels`, index], value: {
        ...existing,
        model,
        id,
        displayName: `${model} (${platform.displayName}, capped by capit)`,
        baseUrl: platform.inferenceBaseUrls.openai,
        apiKey: secret,
        provider: PROVIDER,
      }},
      // Droid's default model is Factory's own (it bills a Factory account, not the capped key); select capit's.
      {file: `settings`, op: `set`, path: [`sessionDefaultSettings`, `model`], value: id},
    ],
    notes: [`Use it with: droid exec -m ${id} "…" (or pick "${model} (${platform.displayName}, capped by capit)" with /model; change "model" in ~/.factory/settings.json to use another model)`],
  };
}

/**
 * Only the entry capit writes holds the key: Droid reads no variable for a BYOK model's key, and customModels of other
 * settings layers merge by id (capit's id is its own). Its base URL sits in the same entry.
 */
export function droidKeySources(envInfo: AgentEnvironment, platformId: string, detected: DroidDetected | undefined): KeySource[] {
  const file = settingsPath(envInfo);
  const index = detected?.index[platformId] ?? 0;
  // `index` is where detect() found capit's entry by its id, so a model the user adds before it moves the path with it.
  const BINARY = `binary: droid 0.225.2`;
  return [
    {kind: `file`, path: file, format: `jsonc`, at: [`customModels`, index, `apiKey`], installs: true, checked: BINARY},
    {kind: `file`, path: file, format: `jsonc`, at: [`customModels`, index, `baseUrl`], role: `baseUrl`, note: `the base URL of capit's custom model`, checked: BINARY},
    // The model new sessions start with, which the install sets to capit's entry (otherwise Droid bills Factory).
    {
      kind: `file`, path: file, format: `jsonc`, at: [`sessionDefaultSettings`, `model`], role: `selector`, selects: customModelId(platformId), installs: true,
      note: `the model new Droid sessions use; droid exec -m <id> or /model pick another for one session, which capit cannot see`,
      checked: `binary: droid 0.225.2`,
    },
  ];
}

async function droidModel(envInfo: AgentEnvironment, detected: DroidDetected | undefined, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const file = {path: settingsPath(envInfo), format: `jsonc` as const};
  const index = detected?.index[platformId] ?? 0;
  const model = await read(file, [`customModels`, index, `model`]);
  if (typeof model !== `string` || !model) return undefined;
  const id = await read(file, [`customModels`, index, `id`]);
  if (id !== customModelId(platformId)) return undefined;
  const max = await read(file, [`customModels`, index, `maxOutputTokens`]);
  return {
    model, source: file.path, ...(typeof max === `number` && max > 0 ? {maxOutputTokens: max} : {}),
    outputTokensSetting: `"maxOutputTokens" of the capit entry in ~/.factory/settings.json customModels`,
  };
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `droid`,

  // Droid edits settings.json with jsonc-parser itself, so it may hold comments and trailing commas: read as jsonc.
  detect: async (envInfo, read) => {
    const models = await read({path: settingsPath(envInfo), format: `jsonc`}, [`customModels`]);
    return {index: {openrouter: entryIndex(models, `openrouter`), aihubmix: entryIndex(models, `aihubmix`)}};
  },

  // settings.json holds the key in capit's entry, so it is written 0600.
  files: envInfo => [{id: `settings`, path: settingsPath(envInfo), format: `jsonc`, secret: true}],

  supports: platformId => platformId in DEFAULT_MODEL
    ? true
    : `Factory Droid takes OpenAI-compatible BYOK models, but capit knows no OpenAI-compatible base for "${platformId}"`,

  plan: input => planDroid(input),
  keySources: droidKeySources,
  model: droidModel,

  sessionEnv: ({platform}) => `Factory Droid reads a custom model's key only from settings.json, never from the environment; use: capit ${platform} <usd> --agent droid`,
} satisfies AgentDefinition<DroidDetected>;

export default agent;
