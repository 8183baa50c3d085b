import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput, SessionInput} from 'capit/plugin';

// OpenAI Codex CLI (`@openai/codex`, a native binary). Checked with the real binary 0.171.0 (linux-x64) against
// capit's emulator (test/agents/codex.test.ts):
// - it reads `$CODEX_HOME/config.toml` (default `~/.codex`); a custom provider is a `[model_providers.<id>]` table
//   selected by the top-level `model_provider`;
// - current releases speak only `wire_api = "responses"` and POST `<base_url>/responses`;
// - `experimental_bearer_token` in the provider table is sent as `Authorization: Bearer …`, so the key lives in the
//   file Codex loads itself and no shell variable is needed: with OPENROUTER_API_KEY and OPENAI_API_KEY set in the
//   shell, 0.171.0 still sent the token (a provider reads a variable only when its table names one in `env_key`,
//   and capit writes no `env_key`);
// - a trusted project's `.codex/config.toml` did not override the provider's token (0.171.0), so it is not a source;
//   nor does it select the provider: 0.171.0 prints "Ignored unsupported project-local config keys in
//   …/.codex/config.toml: model_provider" and keeps the user's `model_provider` (run by hand against a loopback base);
// - `--profile <name>` reads `$CODEX_HOME/<name>.config.toml` over config.toml, and its `model_provider` wins for that
//   session (seen with 0.171.0: "provider: other"); a top-level legacy `profile = "<name>"` makes 0.171.0 refuse to
//   start: "legacy `profile = \"fast\"` config is no longer supported; use `--profile fast` with `fast.config.toml`
//   instead".
// capit writes its own provider id (`capit-openrouter`, `capit-aihubmix`), so a provider table the user wrote stays as
// it was.

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/** `$CODEX_HOME`, else `~/.codex` (`%USERPROFILE%\.codex` on Windows). */
export function codexHome({env, home, cwd, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  const override = env.CODEX_HOME?.trim();
  return override ? p.resolve(cwd, override) : p.join(home, `.codex`);
}

export function codexFiles(envInfo: AgentEnvironment): AgentFile[] {
  // Secret: the provider table holds the key, so the file is written 0600 (restore gives its old mode back).
  return [{id: `config`, path: pathApi(envInfo.platform).join(codexHome(envInfo), `config.toml`), format: `toml`, secret: true}];
}

/** The provider id capit writes: its own, so a `[model_providers.openrouter]` of the user's is never changed. */
export function codexProviderId(platformId: string): string {
  return `capit-${platformId}`;
}

export function planCodex({platform, secret, read}: PlanInput): AgentPlan {
  const id = codexProviderId(platform.id);
  const model = read(`config`, [`model`]);
  const notes = [`Restart Codex to use the new key`];
  // OpenRouter names models `<vendor>/<model>`; Codex's own names (and its built-in default) are not such ids.
  // AIHubMix takes plain names (`gpt-5.4`), as Codex writes them.
  if (platform.id === `openrouter` && (typeof model !== `string` || !model.includes(`/`)))
    notes.push(`Codex's model (${typeof model === `string` ? model : `its built-in default`}) is not an ${platform.displayName} model id: set model = "<vendor>/<model>" (e.g. "openai/gpt-5") in config.toml or pass -m`);
  const legacyProfile = read(`config`, [`profile`]);
  if (typeof legacyProfile === `string`)
    notes.push(`Warning: config.toml sets the legacy profile = "${legacyProfile}", which Codex 0.171.0 refuses to load (it exits with "legacy profile config is no longer supported"): move that profile's settings to ${legacyProfile}.config.toml beside config.toml, delete the line, and use codex --profile ${legacyProfile}`);
  return {
    edits: [
      {file: `config`, op: `set`, path: [`model_provider`], value: id},
      {
        file: `config`, op: `set`, path: [`model_providers`, id],
        value: {name: `${platform.displayName} (capit)`, base_url: platform.inferenceBaseUrls.openai, wire_api: `responses`, experimental_bearer_token: secret},
      },
    ],
    notes,
  };
}

/**
 * Highest precedence first. The token in capit's provider table is what Codex sends (an `env_key` would only be read
 * for a table that names one); the table's `base_url` says where it goes.
 */
export function codexKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const file = codexFiles(envInfo)[0]!.path;
  const id = codexProviderId(platformId);
  return [
    {kind: `file`, path: file, format: `toml`, at: [`model_providers`, id, `experimental_bearer_token`], installs: true, checked: `binary: codex 0.171.0`},
    {kind: `file`, path: file, format: `toml`, at: [`model_providers`, id, `base_url`], role: `baseUrl`, checked: `binary: codex 0.171.0`},
    // The provider Codex uses. A project's .codex/config.toml cannot change it (0.171.0 ignores that key there).
    {
      kind: `file`, path: file, format: `toml`, at: [`model_provider`], role: `selector`, selects: id, installs: true,
      note: `selects capit's provider; codex --profile <name> (<name>.config.toml) or -c model_provider=… choose another for one session, which capit cannot see`,
      // Seen by hand with the 0.171.0 binary (profile and project layers, see the top of this file); the e2e test runs
      // with this value set.
      checked: `binary: codex 0.171.0`,
    },
  ];
}

/**
 * `capit run -- codex …`: Codex reads a custom provider's key from its table in config.toml (or a variable the table
 * names in `env_key`), so no variable of capit's choosing reaches capit's provider without a config.toml edit.
 */
export function codexSessionEnv({platform}: SessionInput): string {
  return `Codex reads its key from a provider table in config.toml, not from a variable capit could set for one process; use: capit ${platform} <usd> --agent codex`;
}

/** `model` in config.toml while capit's provider is the selected one (for OpenRouter: only a `<vendor>/<model>` id). */
export async function codexModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const config = codexFiles(envInfo)[0]!;
  const file = {path: config.path, format: config.format};
  const provider = await read(file, [`model_provider`]);
  if (provider !== undefined && provider !== codexProviderId(platformId)) return undefined;
  const model = await read(file, [`model`]);
  if (typeof model !== `string` || model.trim() === `` || (platformId === `openrouter` && !model.includes(`/`))) return undefined;
  return {model, source: config.path};
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `codex`,
  files: codexFiles,
  // Codex speaks only the Responses API (it refuses wire_api = "chat"): OpenRouter serves it at /api/v1/responses,
  // AIHubMix at /v1/responses (docs.aihubmix.com/en/api/responses/Basic-Usage).
  supports: platformId => platformId === `openrouter` || platformId === `aihubmix`
    ? true
    : `Codex speaks only the Responses API, which capit does not know ${platformId} to serve`,
  plan: input => planCodex(input),
  keySources: codexKeySources,
  sessionEnv: codexSessionEnv,
  model: (envInfo, _detected, read, platformId) => codexModel(envInfo, read, platformId),
} satisfies AgentDefinition;

export default agent;
