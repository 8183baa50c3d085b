import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentModel, AgentPlan, ConfigReader, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// Hermes Agent (Python) loads `<home>/.env` with override=True, so it beats the shell, and picks its provider from
// `model.provider` in `<home>/config.yaml` (research/agents.md §4, hermes_constants.py and hermes_cli/env_loader.py).
// capit writes the key into .env and switches `model.provider` to openrouter; core keeps every other line and comment
// and restores the previous provider. `auth.json` (OAuth and credential pools) is never touched.

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
  if (typeof provider === `string` && provider !== `` && provider !== `auto` && provider !== platformId) return undefined;
  const slug = await read(file, [`model`, `default`]) ?? await read(file, [`model`, `model`]);
  return typeof slug === `string` && slug.trim() ? {model: slug.trim(), source: config.path} : undefined;
}

export function planHermes({platform, secret, read}: PlanInput): AgentPlan {
  const model = read(`config`, [`model`]);
  // Older configs say `model: <slug>`; the mapping form keeps that slug under `default` (its alias).
  const providerEdit = typeof model === `string`
    ? {file: `config`, op: `set` as const, path: [`model`], value: {default: model, provider: platform.id}}
    : {file: `config`, op: `set` as const, path: [`model`, `provider`], value: platform.id};
  return {
    edits: [
      {file: `env`, op: `set`, path: [envName(platform.id)], value: secret},
      providerEdit,
    ],
    notes: [
      `Restart Hermes (and a running hermes gateway) to use the new key`,
      `An ${platform.id} entry in Hermes' credential pool (auth.json, left untouched) can still win over .env: remove it in Hermes if the capped key is not used`,
    ],
  };
}

/**
 * Highest precedence first. `.env` is loaded with override=True, so it beats a key exported in the shell; the shell
 * value is listed after it for `capit doctor`. Not listed: a managed-scope .env (machine-wide, applied last) and
 * external secret sources (Bitwarden, 1Password) configured in config.yaml, whose locations are not plain files;
 * and the credential pool in auth.json, whose layout is not stable (see the plan note).
 */
export function hermesKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const name = envName(platformId);
  return [
    {kind: `file`, path: hermesFiles(envInfo)[0]!.path, format: `dotenv`, at: [name], installs: true},
    {kind: `env`, name, note: `Hermes loads its .env over the shell environment`},
  ];
}

/**
 * `capit run -- hermes …`: OPENROUTER_API_KEY (and OPENROUTER_BASE_URL, which Hermes reads for provider openrouter;
 * research/agents.md §4 [C-src runtime_provider.py]). Hermes loads `<home>/.env` with override=True, so a value there
 * beats the process environment ([C-src hermes_cli/env_loader.py]): capit run refuses while .env holds one. Not run
 * here (Hermes is not installable offline). A credential-pool entry in auth.json may still win (see the plan note).
 */
export function hermesSessionEnv({platform, secret, baseUrls}: SessionInput, envInfo: AgentEnvironment): SessionEnv {
  const dotenv = hermesFiles(envInfo)[0]!.path;
  const names = [envName(platform), `OPENROUTER_BASE_URL`];
  return {
    env: {[envName(platform)]: secret, OPENROUTER_BASE_URL: baseUrls.openai},
    beatenBy: names.map(name => ({kind: `file` as const, path: dotenv, format: `dotenv` as const, at: [name], note: `Hermes loads its .env over the process environment`})),
  };
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `hermes`,
  files: hermesFiles,
  supports: platformId => platformId === `openrouter`
    ? true
    : `Hermes has no "${platformId}" provider that capit can select in config.yaml yet`,
  plan: input => planHermes(input),
  keySources: hermesKeySources,
  model: (envInfo, _detected, read, platformId) => hermesModel(envInfo, read, platformId),
  sessionEnv: hermesSessionEnv,
} satisfies AgentDefinition;

export default agent;
