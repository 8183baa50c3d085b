import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentPlan, KeySource, PlanInput} from 'capit/plugin';

// Cline (extension ≥ 4.0 and its CLI) keeps its state in plaintext JSON under `~/.cline/data`, shared by the IDE
// extension and the CLI (research/ide-agents.md §2.3):
// - `settings/providers.json`: the provider settings the SDK and CLI read (`cline auth openrouter` writes it);
// - `secrets.json`: `openRouterApiKey`, which WINS over providers.json inside the extension
//   (buildEffectiveProviderConfig), so a stale key there would keep being used: capit writes both (the CLI reads
//   providers.json first: see clineKeySources);
// - `globalState.json`: `actModeApiProvider` / `planModeApiProvider` choose the provider the extension actually calls.
//   capit sets both to openrouter, otherwise a user on another provider would get the key installed but never used.
//   Only those two entries are set; the model ids and everything else stay, and restore puts the old providers back.
// The helpers are exported for the cursor/windsurf plugins; file ids are namespaced (`cline-…`).

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/** `$CLINE_DATA_DIR`, else `${CLINE_DIR:-~/.cline}/data` (sdk/packages/shared/src/storage/paths.ts; same on every OS). */
export function clineDataDir({env, home, cwd, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  const data = env.CLINE_DATA_DIR?.trim();
  if (data) return p.resolve(cwd, data);
  const dir = env.CLINE_DIR?.trim();
  return p.join(dir ? p.resolve(cwd, dir) : p.join(home, `.cline`), `data`);
}

export const CLINE_FILE_IDS = {providers: `cline-providers`, secrets: `cline-secrets`, globalState: `cline-global-state`} as const;

export function clineFiles(envInfo: AgentEnvironment): AgentFile[] {
  const p = pathApi(envInfo.platform);
  const data = clineDataDir(envInfo);
  const providers = envInfo.env.CLINE_PROVIDER_SETTINGS_PATH?.trim();
  return [
    {id: CLINE_FILE_IDS.providers, path: providers ? p.resolve(envInfo.cwd, providers) : p.join(data, `settings`, `providers.json`), format: `json`, secret: true},
    {id: CLINE_FILE_IDS.secrets, path: p.join(data, `secrets.json`), format: `json`, secret: true},
    // Holds no secret; an existing file keeps its mode.
    {id: CLINE_FILE_IDS.globalState, path: p.join(data, `globalState.json`), format: `json`, secret: false},
  ];
}

/** The flavours of Cline that read different files, as `capit doctor` names them. */
export const CLINE_CLI_FLAVOUR = `Cline CLI`;
export const CLINE_EXTENSION_FLAVOUR = `Cline extension`;

/**
 * Cline's names for each platform capit supports. Both are built-in providers of the CLI's catalog (3.0.65:
 * `{id:"openrouter", apiKeyEnv:["OPENROUTER_API_KEY"], defaults:{baseUrl:"https://openrouter.ai/api/v1"}}` and
 * `{id:"aihubmix", family:"openai-compatible", apiKeyEnv:["AIHUBMIX_API_KEY"], defaults:{baseUrl:"https://api.aihubmix.com/v1"}}`),
 * and the extension's legacy keys are those the CLI migrates from secrets.json/globalState.json (`openRouterApiKey`,
 * `aihubmixApiKey`, `aihubmixBaseUrl`): strings of the @cline/cli-linux-x64@3.0.65 binary.
 */
const PROVIDERS: Record<string, {secretKey: string; envKey: string; defaultBase: string; extensionBaseKey?: string}> = {
  openrouter: {secretKey: `openRouterApiKey`, envKey: `OPENROUTER_API_KEY`, defaultBase: `https://openrouter.ai/api/v1`},
  aihubmix: {secretKey: `aihubmixApiKey`, envKey: `AIHUBMIX_API_KEY`, defaultBase: `https://api.aihubmix.com/v1`, extensionBaseKey: `aihubmixBaseUrl`},
};

function trimSlash(url: string): string {
  return url.replace(/\/+$/, ``);
}

// `updatedAt` is required by Cline 3.0.65's providers.json schema (`updatedAt: z.string().datetime()`, strings of
// @cline/cli-linux-x64@3.0.65; without it the CLI rejects the file), so capit writes one: the install's time from
// core (`now`), not the clock, so plan() stays pure and the preview shows exactly what is written.
export function planCline({platform, secret, read, now}: PlanInput): AgentPlan {
  const known = PROVIDERS[platform.id];
  if (!known) throw new Error(`Cline can only be configured for ${Object.keys(PROVIDERS).join(` or `)}, not ${platform.id}`);
  const id = platform.id;
  const {providers, secrets, globalState} = CLINE_FILE_IDS;
  const entry = [`providers`, id];
  const base = trimSlash(platform.inferenceBaseUrls.openai);
  // The base URL only when it is not Cline's own default for that provider (a proxy, the emulator, AIHubMix's
  // aihubmix.com vs Cline's api.aihubmix.com), as for Roo: an unchanged default stays unset.
  const baseEdits = base === known.defaultBase ? [] : [{file: providers, op: `set` as const, path: [...entry, `settings`, `baseUrl`], value: base}];
  const extensionBase = known.extensionBaseKey && base !== known.defaultBase
    ? [{file: globalState, op: `set` as const, path: [known.extensionBaseKey], value: base}]
    : [];
  return {
    edits: [
      // Leaf paths only: an existing `settings.model`, other providers and `modes` stay as they are.
      ...(read(providers, [`version`]) === undefined ? [{file: providers, op: `set` as const, path: [`version`], value: 1}] : []),
      {file: providers, op: `set`, path: [`lastUsedProvider`], value: id},
      {file: providers, op: `set`, path: [...entry, `settings`, `provider`], value: id},
      {file: providers, op: `set`, path: [...entry, `settings`, `apiKey`], value: secret},
      ...baseEdits,
      {file: providers, op: `set`, path: [...entry, `updatedAt`], value: now.toISOString()},
      {file: providers, op: `set`, path: [...entry, `tokenSource`], value: `manual`},
      {file: secrets, op: `set`, path: [known.secretKey], value: secret},
      {file: globalState, op: `set`, path: [`actModeApiProvider`], value: id},
      {file: globalState, op: `set`, path: [`planModeApiProvider`], value: id},
      ...extensionBase,
    ],
    notes: [
      `Cline reads these files when it starts: restart the IDE/Cline`,
    ],
  };
}

/**
 * Highest precedence first, per flavour (the two read the same files in different orders):
 * - Cline CLI (3.0.65, run against the emulator): `settings/providers.json` decides. Its `providers.<id>.settings.apiKey`
 *   wins over the shell's OPENROUTER_API_KEY / AIHUBMIX_API_KEY, which is used only when that entry has no key.
 *   secrets.json is read only to migrate a provider that providers.json does not have yet (the binary's legacy
 *   migration skips providers already present), so after an install it never counts: `cline auth openrouter -k …`,
 *   which rewrites only providers.json, changes the key the CLI sends, and an edit of secrets.json alone does not.
 * - Cline extension (4.x, not runnable here; research/ide-agents.md §2.3, cline/cline@21cb8d25): secrets.json wins
 *   over providers.json (buildEffectiveProviderConfig).
 * Base URL: `providers.<id>.settings.baseUrl` in providers.json, which the CLI honours (how the emulator test points it
 * there) and the extension builds on; for AIHubMix the extension also keeps `aihubmixBaseUrl` in globalState.json.
 */
export function clineKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const known = PROVIDERS[platformId];
  if (!known) return [];
  // clineFiles follows CLINE_PROVIDER_SETTINGS_PATH > CLINE_DATA_DIR > CLINE_DIR as the 3.0.65 binary does
  // (`process.env.CLINE_PROVIDER_SETTINGS_PATH?.trim()` before `<data>/settings/providers.json`), so doctor reads the
  // providers.json the CLI will read.
  const [providers, secrets, globalState] = clineFiles(envInfo);
  const settings = [`providers`, platformId, `settings`];
  const CLI = `binary: cline 3.0.65`;
  const CLI_CODE = `source: @cline/cli-linux-x64@3.0.65 bin/cline`;
  const EXTENSION = `source: apps/vscode/src/sdk/model-catalog/effective-config.ts@21cb8d25`;
  return [
    {kind: `file`, path: providers!.path, format: `json`, at: [...settings, `apiKey`], installs: true, flavour: CLINE_CLI_FLAVOUR, checked: CLI},
    {kind: `env`, name: known.envKey, flavour: CLINE_CLI_FLAVOUR, note: `used by the Cline CLI only when providers.json has no key for ${platformId}`, checked: CLI},
    {kind: `file`, path: secrets!.path, format: `json`, at: [known.secretKey], installs: true, flavour: CLINE_EXTENSION_FLAVOUR, checked: EXTENSION},
    {kind: `file`, path: providers!.path, format: `json`, at: [...settings, `apiKey`], flavour: CLINE_EXTENSION_FLAVOUR, note: `secrets.json wins over providers.json in the extension`, checked: EXTENSION},
    {kind: `file`, path: providers!.path, format: `json`, at: [...settings, `baseUrl`], role: `baseUrl`, note: `Cline sends its requests there`, checked: CLI},
    ...(known.extensionBaseKey
      ? [{kind: `file` as const, path: globalState!.path, format: `json` as const, at: [known.extensionBaseKey], role: `baseUrl` as const, flavour: CLINE_EXTENSION_FLAVOUR, checked: CLI_CODE}]
      : []),
    // The provider each flavour calls, which the install switches to capit's. The CLI takes `lastUsedProvider`
    // (getLastUsedProviderSettings in the 3.0.65 binary; `cline auth <provider>` rewrites it). The extension takes
    // `actModeApiProvider` in Act mode and `planModeApiProvider` in Plan mode (`mode` in globalState.json; the same
    // binary's migration of the extension's state reads them that way): capit writes both, and doctor judges each.
    {
      kind: `file`, path: providers!.path, format: `json`, at: [`lastUsedProvider`], role: `selector`, selects: platformId, installs: true,
      // test/agents/cline.test.ts switches it to another provider: the CLI then sends that provider's key.
      flavour: CLINE_CLI_FLAVOUR, note: `the provider the Cline CLI uses; cline auth rewrites it`, checked: CLI,
    },
    {
      kind: `file`, path: globalState!.path, format: `json`, at: [`actModeApiProvider`], role: `selector`, selects: platformId, installs: true,
      setting: `actModeApiProvider`, flavour: CLINE_EXTENSION_FLAVOUR, note: `the provider the extension uses in Act mode`, checked: CLI_CODE,
    },
    {
      kind: `file`, path: globalState!.path, format: `json`, at: [`planModeApiProvider`], role: `selector`, selects: platformId, installs: true,
      setting: `planModeApiProvider`, flavour: CLINE_EXTENSION_FLAVOUR, note: `the provider the extension uses in Plan mode`, checked: CLI_CODE,
    },
  ];
}

export function clineSupports(platformId: string): true | string {
  return PROVIDERS[platformId] ? true : `Cline has no "${platformId}" provider that capit can configure yet`;
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `cline`,
  files: clineFiles,
  supports: clineSupports,
  plan: input => planCline(input),
  keySources: clineKeySources,
  // The extension reads its key from its own files, never from the environment of a command capit starts
  // (research/ide-agents.md §2); the CLI reads providers.json before OPENROUTER_API_KEY (checked with 3.0.65).
  sessionEnv: () => `Cline reads its key from its own settings: the extension never from the environment of a process capit starts, the CLI only when providers.json holds none; use: capit openrouter <usd> --agent cline`,
} satisfies AgentDefinition;

export default agent;
