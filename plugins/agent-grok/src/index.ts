import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentModel, ConfigReader, KeySource} from 'capit/plugin';

// Facts from @vibe-kit/grok-cli 0.0.34 (checked in its published JS):
// - dist/utils/settings-manager.js: user settings in `os.homedir()/.grok/user-settings.json` (no env override, same
//   path on every OS), written by grok itself with mode 0600; project settings in `<cwd>/.grok/settings.json`.
//   getApiKey(): `GROK_API_KEY` env, else user-settings `apiKey`. getBaseURL(): `GROK_BASE_URL` env, else
//   user-settings `baseURL`, else https://api.x.ai/v1. getCurrentModel(): project `model`, else user `defaultModel`,
//   else grok-code-fast-1 — but loadProjectSettings() first creates `<cwd>/.grok/settings.json` with
//   `model: grok-code-fast-1` when missing, so in practice the project file (or GROK_MODEL, or -m) decides.
// - dist/index.js: `dotenv.config()` at start loads `<cwd>/.env` into the environment without overriding variables
//   already set; `--api-key` / `--base-url` beat everything (and are saved into user-settings.json); `GROK_MODEL`
//   beats the settings' model.
// - dist/grok/client.js: a plain OpenAI SDK client (`new OpenAI({apiKey, baseURL})`), so any OpenAI-compatible base
//   works: OpenRouter and AIHubMix alike.

function userSettingsFile({home, platform}: AgentEnvironment): string {
  return (platform === `win32` ? path.win32 : path.posix).join(home, `.grok`, `user-settings.json`);
}

function cwdFile({cwd, platform}: AgentEnvironment, ...parts: string[]): string {
  return (platform === `win32` ? path.win32 : path.posix).join(cwd, ...parts);
}

/**
 * What grok-cli would pick from its configuration: GROK_MODEL, else the project's `model` (grok creates the project
 * file with its default before reading it, so the user's `defaultModel` is never reached in 0.0.34).
 */
async function currentModel(envInfo: AgentEnvironment, read: ConfigReader): Promise<{model: string; source: string} | undefined> {
  if (envInfo.env.GROK_MODEL) return {model: envInfo.env.GROK_MODEL, source: `GROK_MODEL`};
  const project = cwdFile(envInfo, `.grok`, `settings.json`);
  const projectModel = await read({path: project, format: `json`}, [`model`]);
  if (typeof projectModel === `string` && projectModel) return {model: projectModel, source: project};
  return undefined; // grok will create the project file with its built-in default; no configuration names a model
}

async function configuredModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const current = await currentModel(envInfo, read);
  if (!current) return undefined;
  // A bare grok id is not an OpenRouter model id (OpenRouter's is `x-ai/<id>`): the request would be refused, so
  // there is nothing to price.
  if (platformId === `openrouter` && !current.model.includes(`/`)) return undefined;
  return {model: current.model, source: current.source};
}

// `checked`: the layers test/agents/grok.test.ts runs the real grok-cli 0.0.34 against; the project .env's key only
// from the published JS (dist/index.js dotenv.config(), the same load the .env GROK_BASE_URL test shows).
const BINARY = `binary: grok 0.0.34`;

function keySources(envInfo: AgentEnvironment): KeySource[] {
  const dotenv = cwdFile(envInfo, `.env`);
  const settings = userSettingsFile(envInfo);
  return [
    {kind: `env`, name: `GROK_API_KEY`, note: `grok-cli reads GROK_API_KEY before user-settings.json`, checked: BINARY},
    {kind: `file`, path: dotenv, format: `dotenv`, at: [`GROK_API_KEY`], note: `grok-cli loads the project's .env into GROK_API_KEY`, checked: `source: @vibe-kit/grok-cli@0.0.34 dist/index.js, dist/utils/settings-manager.js`},
    {kind: `file`, path: settings, format: `json`, at: [`apiKey`], installs: true, checked: BINARY},
    {kind: `env`, name: `GROK_BASE_URL`, role: `baseUrl`, note: `grok-cli reads GROK_BASE_URL before user-settings.json`, checked: BINARY},
    {kind: `file`, path: dotenv, format: `dotenv`, at: [`GROK_BASE_URL`], role: `baseUrl`, note: `grok-cli loads the project's .env into GROK_BASE_URL`, checked: BINARY},
    {kind: `file`, path: settings, format: `json`, at: [`baseURL`], role: `baseUrl`, checked: BINARY},
  ];
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `grok`,

  files: envInfo => [{id: `settings`, path: userSettingsFile(envInfo), format: `json`, secret: true}],

  supports: platformId => platformId === `openrouter` || platformId === `aihubmix`
    ? true
    : `Grok CLI cannot reach "${platformId}": capit knows no OpenAI-compatible base for it`,

  plan: ({platform, secret}) => {
    const notes = [`Grok CLI now sends its requests to ${platform.displayName}`];
    // grok-cli 0.0.34 takes its model from GROK_MODEL or -m, else from the project's .grok/settings.json, which it
    // creates in every directory it runs in with `grok-code-fast-1` — so user-settings.json's defaultModel is never
    // reached and capit cannot pick the model from there. That bare id is not an OpenRouter model id.
    if (platform.id === `openrouter`) notes.push(`Pick an OpenRouter model id: grok -m x-ai/grok-code-fast-1 (or GROK_MODEL, or "model" in the project's .grok/settings.json)`);
    return {
      edits: [
        {file: `settings`, op: `set`, path: [`apiKey`], value: secret},
        {file: `settings`, op: `set`, path: [`baseURL`], value: platform.inferenceBaseUrls.openai},
      ],
      notes,
    };
  },

  keySources: envInfo => keySources(envInfo),

  model: (envInfo, _detected, read, platformId) => configuredModel(envInfo, read, platformId),

  // GROK_API_KEY and GROK_BASE_URL beat user-settings.json and the project's .env; only the --api-key/--base-url
  // flags beat them, and capit cannot see those.
  sessionEnv: ({secret, baseUrls}) => ({env: {GROK_API_KEY: secret, GROK_BASE_URL: baseUrls.openai}}),
} satisfies AgentDefinition;

export default agent;
