import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentModel, ConfigReader, KeySource, PlanInput} from 'capit/plugin';

// Facts from @mariozechner/pi-coding-agent 0.73.1 (checked in its published JS):
// - dist/config.js getAgentDir(): `$PI_CODING_AGENT_DIR` (a leading `~` expanded) else `~/.pi/agent`, on every OS
//   (os.homedir() + ".pi/agent", no per-OS branch); auth.json, models.json and settings.json live there.
// - dist/core/auth-storage.js getApiKey(): `--api-key` (runtime override) > auth.json `{<provider>: {type: "api_key",
//   key}}` > the provider's env var (pi-ai env-api-keys.js: openrouter → OPENROUTER_API_KEY) > models.json custom
//   provider `apiKey` (the "fallback resolver"). auth.json is written 0600 in a 0700 dir by pi itself.
// - dist/core/resolve-config-value.js: a stored key is first looked up as the NAME of an env var, then taken literally;
//   a real key is never a variable name, so the literal wins.
// - dist/core/model-registry.js: models.json (JSONC) `providers.<id>.baseUrl` overrides a built-in provider's base
//   URL; a provider pi does not ship (aihubmix) needs `baseUrl`, `apiKey`, `api` and at least one model.

/** pi's agent dir: `$PI_CODING_AGENT_DIR` (with `~` expanded, as pi does) or `~/.pi/agent`. */
export function piAgentDir({env, home, cwd, platform}: AgentEnvironment): string {
  const p = platform === `win32` ? path.win32 : path.posix;
  const fromEnv = env.PI_CODING_AGENT_DIR;
  if (fromEnv) {
    if (fromEnv === `~`) return home;
    if (fromEnv.startsWith(`~/`) || fromEnv.startsWith(`~\\`)) return p.join(home, fromEnv.slice(2));
    return p.resolve(cwd, fromEnv); // a relative dir is relative to where pi runs
  }
  return p.join(home, `.pi`, `agent`);
}

function join(envInfo: AgentEnvironment, ...parts: string[]): string {
  return (envInfo.platform === `win32` ? path.win32 : path.posix).join(...parts);
}

const authFile = (envInfo: AgentEnvironment) => join(envInfo, piAgentDir(envInfo), `auth.json`);
const modelsFile = (envInfo: AgentEnvironment) => join(envInfo, piAgentDir(envInfo), `models.json`);

// pi has no AIHubMix provider of its own; capit adds it to models.json as an OpenAI-compatible custom provider with
// one model (pi refuses a custom provider without any), which the user can extend.
const AIHUBMIX_DEFAULT_MODEL = `gpt-4o-mini`;

function planAihubmix({platform, secret, read}: PlanInput) {
  const at = [`providers`, platform.id];
  const models = read(`models`, [...at, `models`]);
  return {
    edits: [
      {file: `models`, op: `set` as const, path: [...at, `baseUrl`], value: platform.inferenceBaseUrls.openai},
      {file: `models`, op: `set` as const, path: [...at, `api`], value: `openai-completions`},
      {file: `models`, op: `set` as const, path: [...at, `apiKey`], value: secret},
      ...(Array.isArray(models) && models.length > 0
        ? []
        : [{file: `models`, op: `set` as const, path: [...at, `models`], value: [{id: AIHUBMIX_DEFAULT_MODEL}]}]),
    ],
    notes: [
      `Use it with: pi --provider ${platform.id} --model <model> (models are listed under providers.${platform.id}.models in models.json)`,
    ],
  };
}

/**
 * `defaultProvider`/`defaultModel` from the project's `.pi/settings.json` over the global `settings.json` (pi merges
 * them the same way, dist/core/settings-manager.js), for the platform's provider only.
 */
async function configuredModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const files = [join(envInfo, envInfo.cwd, `.pi`, `settings.json`), join(envInfo, piAgentDir(envInfo), `settings.json`)];
  let provider: unknown;
  let model: unknown;
  let source: string | undefined;
  for (const file of files) {
    provider ??= await read({path: file, format: `jsonc`}, [`defaultProvider`]);
    const found = await read({path: file, format: `jsonc`}, [`defaultModel`]);
    if (model === undefined && found !== undefined) { model = found; source = file; }
  }
  if (provider !== platformId || typeof model !== `string` || model === ``) return undefined;
  return {model, source};
}

// `checked`: the layers test/agents/pi.test.ts runs the real pi 0.73.1 against; the others from its published JS.
const BINARY = `binary: pi 0.73.1`;
const AUTH_STORAGE = `source: @mariozechner/pi-coding-agent@0.73.1 dist/core/auth-storage.js`;

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `pi`,

  files: envInfo => [
    {id: `auth`, path: authFile(envInfo), format: `json`, secret: true},
    // models.json holds the AIHubMix key (pi requires `apiKey` for a custom provider), so it is written 0600 too.
    {id: `models`, path: modelsFile(envInfo), format: `jsonc`, secret: true},
  ],

  supports: platformId => platformId === `openrouter` || platformId === `aihubmix`
    ? true
    : `pi has no "${platformId}" provider that capit can configure`,

  plan: input => {
    if (input.platform.id === `aihubmix`) return planAihubmix(input);
    // Replacing the whole entry drops a stale OAuth credential for the same provider; other providers stay.
    return {
      edits: [{file: `auth`, op: `set`, path: [input.platform.id], value: {type: `api_key`, key: input.secret}}],
      notes: [`Use it with: pi --provider ${input.platform.id} --model <model> (running pi sessions pick it up on restart)`],
    };
  },

  keySources: (envInfo, platformId) => {
    const auth = {kind: `file` as const, path: authFile(envInfo), format: `json` as const, at: [platformId, `key`]};
    const models = modelsFile(envInfo);
    // Base URL: models.json providers.<id>.baseUrl, else pi's built-in one (openrouter.ai for openrouter).
    const baseUrl: KeySource = {
      kind: `file`, path: models, format: `jsonc`, at: [`providers`, platformId, `baseUrl`], role: `baseUrl`,
      note: `pi sends ${platformId} requests to this base URL`, checked: BINARY,
    };
    if (platformId === `aihubmix`) {
      return [
        {...auth, note: `an auth.json entry wins over models.json`, checked: AUTH_STORAGE},
        {kind: `file`, path: models, format: `jsonc`, at: [`providers`, platformId, `apiKey`], installs: true, checked: BINARY},
        baseUrl,
      ];
    }
    return [
      {...auth, installs: true, checked: BINARY},
      {kind: `env`, name: `${platformId.toUpperCase()}_API_KEY`, checked: BINARY},
      {kind: `file`, path: models, format: `jsonc`, at: [`providers`, platformId, `apiKey`], note: `used only when neither auth.json nor the env var holds a key`, checked: AUTH_STORAGE},
      baseUrl,
    ];
  },

  model: (envInfo, _detected, read, platformId) => configuredModel(envInfo, read, platformId),

  // OPENROUTER_API_KEY ranks below auth.json in pi, so it carries the session key only while auth.json holds none
  // (capit run refuses otherwise, naming it). A custom provider's key has no variable at all.
  sessionEnv: ({platform, secret}, envInfo) => platform === `openrouter`
    ? {
      env: {OPENROUTER_API_KEY: secret},
      beatenBy: [
        {kind: `file`, path: authFile(envInfo), format: `json`, at: [platform, `key`], note: `auth.json wins over OPENROUTER_API_KEY in pi`},
        // The variable carries only the key: a models.json baseUrl still decides where pi sends it.
        {kind: `file`, path: modelsFile(envInfo), format: `jsonc`, at: [`providers`, platform, `baseUrl`], role: `baseUrl`, note: `pi sends ${platform} requests to this base URL`},
      ],
    }
    : `pi takes ${/^[aeiou]/i.test(platform) ? `an` : `a`} ${platform} key only from auth.json, models.json or --api-key, not from an environment variable`,
} satisfies AgentDefinition;

export default agent;
