import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentModel, AgentPlan, ConfigReader, FileEdit, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// Hermes Agent (Python) loads `<home>/.env` with override=True, so it beats the shell, and picks its provider from
// `model.provider` in `<home>/config.yaml` (research/agents.md §4, hermes_constants.py and hermes_cli/env_loader.py).
// capit writes the key into .env and switches `model.provider` to openrouter; core keeps every other line and comment
// and restores the previous provider. `auth.json` (OAuth and credential pools) is never touched.
//
// What Hermes does with those values, read in NousResearch/hermes-agent@004ad4824e3715148da2a211767d501347a7bcef
// hermes_cli/runtime_provider.py (Hermes is Python and not installable here, so none of this was run):
// - `resolve_requested_provider`: `model.provider` in config.yaml wins over HERMES_INFERENCE_PROVIDER.
// - `_resolve_openrouter_runtime` (provider openrouter): base URL = CUSTOM_BASE_URL > `model.base_url` (ONLY when the
//   provider is auto/custom) > OPENROUTER_BASE_URL > https://openrouter.ai/api/v1. OPENROUTER_API_KEY is sent only when
//   that URL is on openrouter.ai or equals OPENROUTER_BASE_URL; any other CUSTOM_BASE_URL gets no OpenRouter key at all.
//   It also applies `model.api_mode` whatever provider wrote it.
// - `_get_named_custom_provider` / `_resolve_named_custom_runtime` (provider `custom:<name>`): the entry
//   `providers.<name>` of config.yaml, base URL from its `api` > `url` > `base_url`, key from the variable its
//   `key_env` names (shell or .env) > its inline `api_key`. That is how capit points Hermes at AIHubMix, which speaks the
//   OpenAI chat-completions API with a Bearer key.
// hermes_cli/env_loader.py@01138ffd: `<home>/.env` is loaded with override=True, so it beats the shell.

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/**
 * `$HERMES_HOME`, else `%LOCALAPPDATA%\hermes` on native Windows (`<home>\AppData\Local` when LOCALAPPDATA is unset)
 * and `~/.hermes` elsewhere, each with `$HERMES_DATA_DIR_SUFFIX` appended (hermes_constants.py).
 */
export function hermesHome({env, home, cwd, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  const override = env.HERMES_HOME?.trim();
  if (override) return p.resolve(cwd, override);
  const suffix = env.HERMES_DATA_DIR_SUFFIX ?? ``;
  if (platform === `win32`) {
    const local = env.LOCALAPPDATA?.trim() || p.join(home, `AppData`, `Local`);
    return p.join(local, `hermes${suffix}`);
  }
  return p.join(home, `.hermes${suffix}`);
}

export function hermesFiles(envInfo: AgentEnvironment): AgentFile[] {
  const p = pathApi(envInfo.platform);
  const home = hermesHome(envInfo);
  // .env first: when capit creates the home, the secret file's write creates it 0700.
  return [
    {id: `env`, path: p.join(home, `.env`), format: `dotenv`, secret: true},
    {id: `config`, path: p.join(home, `config.yaml`), format: `yaml`, secret: false},
  ];
}

function envName(platformId: string): string {
  return `${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`;
}

/**
 * `model.default` (or its alias `model.model`, or an older plain `model: <slug>`) in config.yaml, when `model.provider`
 * is this platform or unset (capit's install sets it to the platform).
 */
export async function hermesModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const config = hermesFiles(envInfo)[1]!;
  const file = {path: config.path, format: config.format};
  const model = await read(file, [`model`]);
  if (typeof model === `string`) return model.trim() ? {model: model.trim(), source: config.path} : undefined;
  const provider = await read(file, [`model`, `provider`]);
  if (typeof provider === `string` && provider !== `` && provider !== `auto` && provider !== providerName(platformId)) return undefined;
  const slug = await read(file, [`model`, `default`]) ?? await read(file, [`model`, `model`]);
  return typeof slug === `string` && slug.trim() ? {model: slug.trim(), source: config.path} : undefined;
}

/** What `model.provider` says for a platform: OpenRouter is built in; AIHubMix is capit's custom provider entry. */
function providerName(platformId: string): string {
  return platformId === `openrouter` ? `openrouter` : `custom:${platformId}`;
}

/** "a" or "an" before a name, by its first letter ("an AIHubMix", "an OpenRouter"). */
function article(name: string): string {
  return /^[aeiou]/i.test(name) ? `an` : `a`;
}

/** OpenRouter model ids name their vendor (`anthropic/claude-sonnet-4.5`); a bare id is another provider's. */
function isVendorSlug(model: string): boolean {
  return /^[^/\s]+\/\S+$/.test(model.trim());
}

function hostOf(url: string): string | undefined {
  try {
    return new URL(url).host.toLowerCase();
  } catch {
    return undefined;
  }
}

/**
 * The leftovers of the provider capit switches away from, deleted in the same install (core backs them up and
 * restores them exactly). Hermes ignores `model.base_url` for provider openrouter today, but honours it as soon as the
 * provider reads `auto` or `custom` again (one `hermes model` pick away), and then sends the requests — with
 * OPENROUTER_API_KEY when the URL is on openrouter.ai — to that host; a stale `model.api_mode` (e.g.
 * `anthropic_messages`) is applied to OpenRouter unconditionally and breaks every request. Refusing would leave the
 * user to delete two lines by hand for the same result, so capit neutralises them instead.
 */
function leftoverEdits(read: PlanInput[`read`], previousProvider: unknown, target: string, platformHost: string | undefined): FileEdit[] {
  if (previousProvider === target) return [];
  const edits: FileEdit[] = [];
  const baseUrl = read(`config`, [`model`, `base_url`]);
  if (typeof baseUrl === `string` && baseUrl.trim() !== `` && hostOf(baseUrl) !== platformHost)
    edits.push({file: `config`, op: `delete`, path: [`model`, `base_url`]});
  const apiMode = read(`config`, [`model`, `api_mode`]);
  if (apiMode !== undefined && apiMode !== null && apiMode !== `chat_completions`)
    edits.push({file: `config`, op: `delete`, path: [`model`, `api_mode`]});
  return edits;
}

/** A note when the configured model is not an OpenRouter id: Hermes would send it to OpenRouter as it is. */
function modelNote(read: PlanInput[`read`], model: unknown): string | undefined {
  const slug = typeof model === `string` ? model : read(`config`, [`model`, `default`]) ?? read(`config`, [`model`, `model`]);
  if (typeof slug !== `string` || slug.trim() === `` || isVendorSlug(slug)) return undefined;
  return `Hermes' model "${slug.trim()}" (config.yaml model.default) is not an OpenRouter model id (vendor/model, e.g. anthropic/claude-sonnet-4.5): OpenRouter will refuse it. Pick one with: hermes model`;
}

export function planHermes({platform, secret, read}: PlanInput): AgentPlan {
  const target = providerName(platform.id);
  const model = read(`config`, [`model`]);
  const previousProvider = typeof model === `string` ? undefined : read(`config`, [`model`, `provider`]);
  // Older configs say `model: <slug>`; the mapping form keeps that slug under `default` (its alias).
  const providerEdit = typeof model === `string`
    ? {file: `config`, op: `set` as const, path: [`model`], value: {default: model, provider: target}}
    : {file: `config`, op: `set` as const, path: [`model`, `provider`], value: target};
  const edits: FileEdit[] = [{file: `env`, op: `set`, path: [envName(platform.id)], value: secret}, providerEdit];
  if (typeof model !== `string`) edits.push(...leftoverEdits(read, previousProvider, target, hostOf(platform.inferenceBaseUrls.openai)));
  const notes = [
    `Restart Hermes (and a running hermes gateway) to use the new key`,
    `An ${platform.id} entry in Hermes' credential pool (auth.json, left untouched) can still win over .env: remove it in Hermes if the capped key is not used`,
  ];
  if (platform.id === `openrouter`) {
    const note = modelNote(read, model);
    if (note) notes.push(note);
  } else {
    // A custom provider entry: Hermes reads its base URL from `api` > `url` > `base_url`, so capit's `base_url` must
    // not sit below an `api`/`url` left there; the key comes from the variable `key_env` names (capit's .env line).
    const entry = [`providers`, platform.id];
    for (const alias of [`api`, `url`])
      if (read(`config`, [...entry, alias]) !== undefined) edits.push({file: `config`, op: `delete`, path: [...entry, alias]});
    edits.push(
      {file: `config`, op: `set`, path: [...entry, `base_url`], value: platform.inferenceBaseUrls.openai},
      {file: `config`, op: `set`, path: [...entry, `key_env`], value: envName(platform.id)},
    );
    notes.push(`Hermes now uses its custom provider "${platform.id}" (config.yaml providers.${platform.id}); set model.default to ${article(platform.displayName)} ${platform.displayName} model id (e.g. gpt-4o-mini) if it names another provider's model`);
  }
  return {edits, notes};
}

/**
 * Highest precedence first. `.env` is loaded with override=True, so it beats a variable exported in the shell; the
 * shell value is listed after it. Not listed: a managed-scope .env (machine-wide, applied last) and external secret
 * sources (Bitwarden, 1Password) configured in config.yaml, whose locations are not plain files; and the credential
 * pool in auth.json, whose layout is not stable (see the plan note).
 *
 * Base URLs (runtime_provider.py@004ad482, see the top of this file): for openrouter, CUSTOM_BASE_URL then
 * OPENROUTER_BASE_URL, each in .env before the shell. Hermes sends OPENROUTER_API_KEY to a CUSTOM_BASE_URL only when it
 * is on openrouter.ai, and sends nothing to any other host: so a CUSTOM_BASE_URL on another host is a redirect (judged
 * by host like any base URL), not a switch that redirects whatever it says. `model.base_url` is not a source for
 * provider openrouter (ignored there; the install deletes a stale one). For a custom provider (aihubmix): the entry's
 * `api` > `url` > `base_url`, and its key from `key_env` (.env, shell) > inline `api_key`.
 */
export function hermesKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const name = envName(platformId);
  const [env, config] = hermesFiles(envInfo);
  // Hermes is Python and not installable here: every layer is known from its code, none was run.
  const RUNTIME = `source: hermes_cli/runtime_provider.py@004ad48`;
  const ENV_LOADER = `source: hermes_cli/env_loader.py@01138ffd`;
  const dotenv = (at: string, extra: Partial<KeySource> = {}): KeySource => ({kind: `file`, path: env!.path, format: `dotenv`, at: [at], checked: RUNTIME, ...extra} as KeySource);
  const yaml = (at: string[], extra: Partial<KeySource>): KeySource => ({kind: `file`, path: config!.path, format: `yaml`, at, checked: RUNTIME, ...extra} as KeySource);
  const keys: KeySource[] = [
    dotenv(name, {installs: true, checked: ENV_LOADER}),
    {kind: `env`, name, note: `Hermes loads its .env over the shell environment`, checked: ENV_LOADER},
  ];
  // The provider Hermes uses (resolve_requested_provider): `model.provider` in config.yaml, which the install sets, over
  // HERMES_INFERENCE_PROVIDER. Any other value (`auto`, `custom`, another provider) leaves the capped key unused or
  // sends the requests elsewhere. Not seen by capit: a provider picked for one session inside Hermes.
  const selected = providerName(platformId);
  const selectors: KeySource[] = [
    yaml([`model`, `provider`], {
      role: `selector`, selects: selected, installs: true,
      note: `selects the provider Hermes uses; \`hermes model\` rewrites it`,
    }),
    {kind: `env`, name: `HERMES_INFERENCE_PROVIDER`, role: `selector`, selects: selected, checked: RUNTIME, note: `read only when config.yaml sets no model.provider`},
  ];
  if (platformId === `openrouter`) {
    const redirect = `Hermes sends its requests there, and the OpenRouter key only if it is on openrouter.ai`;
    return [
      ...keys,
      dotenv(`CUSTOM_BASE_URL`, {role: `baseUrl`, note: redirect}),
      {kind: `env`, name: `CUSTOM_BASE_URL`, role: `baseUrl`, note: `${redirect}; .env wins over the shell`, checked: RUNTIME},
      dotenv(`OPENROUTER_BASE_URL`, {role: `baseUrl`, note: `Hermes sends the OpenRouter key there`}),
      {kind: `env`, name: `OPENROUTER_BASE_URL`, role: `baseUrl`, note: `Hermes sends the OpenRouter key there; .env wins over the shell`, checked: RUNTIME},
      ...selectors,
    ];
  }
  const entry = [`providers`, platformId];
  return [
    ...keys,
    yaml([...entry, `api_key`], {note: `used only when ${name} is not set`}),
    // The install deletes `api` and `url` from this entry, so capit's base_url is the first one Hermes reads. (Not
    // marked `installs`: that marks the one key source capit writes, the .env line.)
    yaml([...entry, `api`], {role: `baseUrl`, note: `wins over providers.${platformId}.base_url`}),
    yaml([...entry, `url`], {role: `baseUrl`, note: `wins over providers.${platformId}.base_url`}),
    yaml([...entry, `base_url`], {role: `baseUrl`, note: `written by capit`}),
    ...selectors,
    // The variable the entry takes its key from: capit writes its own .env line's name; any other name sends that
    // variable's key instead of the capped one.
    yaml([...entry, `key_env`], {role: `selector`, selects: name, installs: true, setting: `key_env`, note: `names the variable Hermes takes this provider's key from`}),
  ];
}

/**
 * `capit run -- hermes …`: OPENROUTER_API_KEY (and OPENROUTER_BASE_URL, which Hermes reads for provider openrouter;
 * research/agents.md §4 [C-src runtime_provider.py]). Hermes loads `<home>/.env` with override=True, so a value there
 * beats the process environment ([C-src hermes_cli/env_loader.py]): capit run refuses while .env holds one. Not run
 * here (Hermes is not installable offline). A credential-pool entry in auth.json may still win (see the plan note).
 */
export function hermesSessionEnv({platform, secret, baseUrls}: SessionInput, envInfo: AgentEnvironment): SessionEnv | string {
  if (platform !== `openrouter`)
    return `Hermes reaches ${platform} only through a custom provider entry in its config.yaml, which no environment variable selects; use: capit ${platform} <usd> --agent hermes`;
  const dotenv = hermesFiles(envInfo)[0]!.path;
  const names = [envName(platform), `OPENROUTER_BASE_URL`];
  return {
    env: {[envName(platform)]: secret, OPENROUTER_BASE_URL: baseUrls.openai},
    beatenBy: [
      ...names.map(name => ({kind: `file` as const, path: dotenv, format: `dotenv` as const, at: [name], note: `Hermes loads its .env over the process environment`})),
      // CUSTOM_BASE_URL outranks OPENROUTER_BASE_URL and gets no OpenRouter key (runtime_provider.py, see above).
      {kind: `file` as const, path: dotenv, format: `dotenv` as const, at: [`CUSTOM_BASE_URL`], note: `Hermes sends its requests there instead, without the session key`},
      {kind: `env` as const, name: `CUSTOM_BASE_URL`, note: `Hermes sends its requests there instead, without the session key`},
      // Another provider selected in config.yaml: Hermes would not send OPENROUTER_API_KEY at all.
      {
        kind: `file` as const, path: hermesFiles(envInfo)[1]!.path, format: `yaml` as const, at: [`model`, `provider`],
        role: `selector` as const, selects: providerName(platform), note: `selects another provider than OpenRouter`,
      },
    ],
  };
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `hermes`,
  files: hermesFiles,
  // AIHubMix through a custom provider entry (OpenAI-compatible base URL + key_env); see the top of this file.
  supports: platformId => platformId === `openrouter` || platformId === `aihubmix`
    ? true
    : `Hermes has no "${platformId}" provider that capit can select in config.yaml yet`,
  plan: input => planHermes(input),
  keySources: hermesKeySources,
  model: (envInfo, _detected, read, platformId) => hermesModel(envInfo, read, platformId),
  sessionEnv: hermesSessionEnv,
} satisfies AgentDefinition;

export default agent;
