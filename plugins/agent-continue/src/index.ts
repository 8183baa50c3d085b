import path from 'node:path';


import type {AgentDefinition, AgentEnvironment, AgentModel, ConfigReader, KeySource, PlanInput} from 'capit/plugin';

// Facts from @continuedev/cli 1.5.47 (`cn`; checked in the src/ shipped in its npm package):
// - src/env.ts: the global dir is `$CONTINUE_GLOBAL_DIR` or `os.homedir()/.continue` (every OS).
// - src/configLoader.ts determineConfigSource(): `--config <file|slug>` first; else `<global dir>/config.yaml` when it
//   exists; else the remote default config from the Continue Hub (network). A local config.yaml needs no login.
// - src/services/ModelService.ts / src/config.ts getLlmApi(): the model used is the one last selected in cn (persisted
//   by name, `name` else `model`, as `cliSelectedModel` in `<global dir>/index/globalContext.json`,
//   src/util/modelPersistence.ts) among the chat models, or, by default, the first model whose roles include chat (or
//   that has no roles). So a user's model listed before capit's wins over it: its key and its base are what cn uses.
// - A literal `apiKey` on a model is sent as is; `${{ secrets.NAME }}` is resolved (src/CLIPlatformClient.ts) from the
//   process environment, then `<global dir>/.env`, `<cwd>/.continue/.env`, `<cwd>/.env`, then the Hub. capit writes
//   the literal key, so no variable in the shell can shadow it.
// - src/version.ts asks https://api.continue.dev/cn/info for the latest version at start-up, whatever the flags;
//   `CONTINUE_CLI_ENABLE_TELEMETRY=0` turns off telemetry (src/telemetry/telemetryService.ts).

export function continueDir({env, home, cwd, platform}: AgentEnvironment): string {
  const p = platform === `win32` ? path.win32 : path.posix;
  return env.CONTINUE_GLOBAL_DIR ? p.resolve(cwd, env.CONTINUE_GLOBAL_DIR) : p.join(home, `.continue`);
}

function configFile(envInfo: AgentEnvironment): string {
  return (envInfo.platform === `win32` ? path.win32 : path.posix).join(continueDir(envInfo), `config.yaml`);
}

/** The name of the model entry capit adds for a platform (and finds again on the next install). */
export function capitModelName(platformId: string): string {
  return `capit ${platformId}`;
}

// A model id for the entry capit adds when the config has none for the platform; `model:` is required by Continue.
const DEFAULT_MODELS: Record<string, string> = {openrouter: `openai/gpt-4o-mini`, aihubmix: `gpt-4o-mini`};

type ModelEntry = {name?: unknown; provider?: unknown; model?: unknown; chat?: boolean};

/**
 * The index in `models` of the entry capit keys for the platform: the one it added before (by name), else for
 * OpenRouter the user's first `provider: openrouter` model; else where a new entry goes (the end of the list).
 */
export function modelIndex(models: unknown, platformId: string): {index: number; exists: boolean} {
  if (!Array.isArray(models)) return {index: 0, exists: false};
  const entries = models as ModelEntry[];
  let index = entries.findIndex(m => m?.name === capitModelName(platformId));
  if (index === -1 && platformId === `openrouter`) index = entries.findIndex(m => m?.provider === `openrouter`);
  return index === -1 ? {index: entries.length, exists: false} : {index, exists: true};
}

/**
 * What detect() saw: config.yaml's `models` list (only the fields capit matches on, and whether cn counts it as a chat
 * model), or undefined; and the model last selected in cn, if any.
 */
export type ContinueDetected = {models: ModelEntry[] | undefined; selected?: string};

async function detect(envInfo: AgentEnvironment, read: ConfigReader): Promise<ContinueDetected> {
  // The model cn persisted as selected (`/model`), and config.yaml's `models` list (only the fields capit matches on,
  // and whether cn counts each as a chat model). A file that is missing or does not parse reads as nothing.
  const globalContext = (envInfo.platform === `win32` ? path.win32 : path.posix).join(continueDir(envInfo), `index`, `globalContext.json`);
  const selected = await read({path: globalContext, format: `json`}, [`cliSelectedModel`]);
  const models = await read({path: configFile(envInfo), format: `yaml`}, [`models`]);
  const found: ContinueDetected = {models: Array.isArray(models) ? models.map(m => {
    const entry = m as (ModelEntry & {roles?: unknown}) | null;
    return {
      ...(typeof entry?.name === `string` ? {name: entry.name} : {}),
      ...(typeof entry?.provider === `string` ? {provider: entry.provider} : {}),
      ...(typeof entry?.model === `string` ? {model: entry.model} : {}),
      chat: entry !== null && typeof entry === `object` && (entry.roles === undefined || (Array.isArray(entry.roles) && entry.roles.includes(`chat`))),
    };
  }) : undefined};
  return typeof selected === `string` && selected !== `` ? {...found, selected} : found;
}

/**
 * The index of the model cn 1.5.47 would use (see the facts above): the selected chat model, else the first chat
 * model; undefined when there is none. capit's new entry (appended, with the chat role) is counted at `index`.
 */
export function usedModelIndex(detected: ContinueDetected, capitIndex: number, capitName: string): number | undefined {
  const entries = [...(detected.models ?? [])];
  if (capitIndex >= entries.length) entries[capitIndex] = {name: capitName, chat: true};
  const chat = entries.map((m, i) => ({m, i})).filter(({m}) => m !== undefined && m.chat !== false);
  const selected = detected.selected === undefined ? undefined : chat.find(({m}) => (m.name ?? m.model) === detected.selected);
  return (selected ?? chat[0])?.i;
}

function plan({platform, secret, read}: PlanInput) {
  const models = read(`config`, [`models`]);
  const {index, exists} = modelIndex(models, platform.id);
  const base = platform.inferenceBaseUrls.openai;
  const edits = [];
  if (exists) {
    edits.push(
      {file: `config`, op: `set` as const, path: [`models`, index, `apiKey`], value: secret},
      {file: `config`, op: `set` as const, path: [`models`, index, `apiBase`], value: base},
    );
  } else {
    const entry = {
      name: capitModelName(platform.id),
      // Continue has an `openrouter` provider; AIHubMix is reached as a generic OpenAI-compatible endpoint.
      provider: platform.id === `openrouter` ? `openrouter` : `openai`,
      model: DEFAULT_MODELS[platform.id] ?? `gpt-4o-mini`,
      apiBase: base,
      apiKey: secret,
      roles: [`chat`, `edit`, `apply`],
    };
    // A `models:` that is there but not a list is the user's value: setting inside it lets core refuse the install
    // ("capit does not replace values it did not expect") instead of replacing it.
    edits.push(models === undefined || models === null
      ? {file: `config`, op: `set` as const, path: [`models`], value: [entry]}
      : {file: `config`, op: `set` as const, path: [`models`, Array.isArray(models) ? index : 0], value: entry});
  }
  const notes = [`Continue's config.yaml model #${index + 1} now uses the capped key`];
  if (index > 0) notes.push(`cn uses the first chat model unless you pick another: select "${exists ? `model #${index + 1}` : capitModelName(platform.id)}" with /model in cn`);
  if (!exists) notes.push(`Change its "model:" in config.yaml to the model you want`);
  return {edits, notes};
}

async function configuredModel(envInfo: AgentEnvironment, detected: ContinueDetected, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const {index, exists} = modelIndex(detected.models, platformId);
  if (!exists) return undefined;
  const file = configFile(envInfo);
  const model = await read({path: file, format: `yaml`}, [`models`, index, `model`]);
  if (typeof model !== `string` || model === ``) return undefined;
  const maxTokens = await read({path: file, format: `yaml`}, [`models`, index, `defaultCompletionOptions`, `maxTokens`]);
  return {
    model, source: file,
    ...(typeof maxTokens === `number` && maxTokens > 0 ? {maxOutputTokens: maxTokens} : {}),
    outputTokensSetting: `models[${index}].defaultCompletionOptions.maxTokens in ~/.continue/config.yaml`,
  };
}

// `checked`: every layer below is run with the real cn 1.5.47 against the emulator in test/agents/continue.test.ts.
const BINARY = `binary: cn 1.5.47`;

function winningModelSources(file: string, used: number, entry: ModelEntry | undefined, platformId: string, capitName: string): KeySource[] {
  const note = `cn uses model #${used + 1} instead of capit's; select "${capitName}" with /model in cn`;
  const at = (field: string) => [`models`, used, field];
  return [
    {kind: `file`, path: file, format: `yaml`, at: at(`apiKey`), note, checked: BINARY},
    {kind: `file`, path: file, format: `yaml`, at: at(`apiBase`), role: `baseUrl`, note, checked: BINARY},
    // Another provider's model (or a hub block, `uses:`) is another key and host altogether: the capped key is not used.
    ...(entry?.provider === platformId ? [] : [{kind: `file` as const, path: file, format: `yaml` as const, at: at(`provider`), note, checked: BINARY}]),
    {kind: `file`, path: file, format: `yaml`, at: at(`uses`), note: `${note} (a Continue Hub block)`, checked: `source: @continuedev/cli@1.5.47 config loading (uses: blocks)`},
  ];
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `continue`,
  detect,

  files: envInfo => [{
    id: `config`, path: configFile(envInfo), format: `yaml`, secret: true,
    initial: `name: Local Config\nversion: 1.0.0\nschema: v1\n`,
  }],

  supports: platformId => platformId === `openrouter` || platformId === `aihubmix`
    ? true
    : `Continue CLI cannot reach "${platformId}": capit knows no OpenAI-compatible base for it`,

  plan,

  keySources: (envInfo, platformId, detected): KeySource[] => {
    const {index} = modelIndex(detected.models, platformId);
    const file = configFile(envInfo);
    // Another model that cn uses instead of capit's: its key wins, and its base (or, without one, its provider's own
    // host) is where the requests go.
    const used = usedModelIndex(detected, index, capitModelName(platformId));
    // Name the model capit keyed as cn lists it: the user's own OpenRouter model, or capit's added one.
    const named = detected.models?.[index]?.name;
    const keyedName = typeof named === `string` && named !== `` ? named : capitModelName(platformId);
    const winner = used === undefined || used === index ? [] : winningModelSources(file, used, detected.models?.[used], platformId, keyedName);
    return [
      ...winner,
      {kind: `file`, path: file, format: `yaml`, at: [`models`, index, `apiKey`], installs: true,
        note: `cn --config <file> would read another config instead`, checked: BINARY},
      {kind: `file`, path: file, format: `yaml`, at: [`models`, index, `apiBase`], role: `baseUrl`, checked: BINARY},
    ];
  },

  model: (envInfo, detected, read, platformId) => configuredModel(envInfo, detected, read, platformId),

  sessionEnv: () => `cn takes a model's key from config.yaml, and no environment variable beats a key written there`,
} satisfies AgentDefinition<ContinueDetected>;

export default agent;
