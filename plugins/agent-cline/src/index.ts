import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentPlan, KeySource, PlanInput} from 'capit/plugin';

// Cline (extension ≥ 4.0 and its CLI) keeps its state in plaintext JSON under `~/.cline/data`, shared by the IDE
// extension and the CLI (research/ide-agents.md §2.3):
// - `settings/providers.json`: the provider settings the SDK and CLI read (`cline auth openrouter` writes it);
// - `secrets.json`: `openRouterApiKey`, which WINS over providers.json inside the extension
//   (buildEffectiveProviderConfig), so a stale key there would keep being used: capit writes both;
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

/** Cline's own names for the OpenRouter provider; other platforms are not supported. */
const PROVIDER = `openrouter`;
const SECRET_KEY = `openRouterApiKey`;

export function planCline({platform, secret, read}: PlanInput, now: Date = new Date()): AgentPlan {
  if (platform.id !== PROVIDER) throw new Error(`Cline can only be configured for ${PROVIDER}, not ${platform.id}`);
  const {providers, secrets, globalState} = CLINE_FILE_IDS;
  const entry = [`providers`, PROVIDER];
  return {
    edits: [
      // Leaf paths only: an existing `settings.model`, other providers and `modes` stay as they are.
      ...(read(providers, [`version`]) === undefined ? [{file: providers, op: `set` as const, path: [`version`], value: 1}] : []),
      {file: providers, op: `set`, path: [`lastUsedProvider`], value: PROVIDER},
      {file: providers, op: `set`, path: [...entry, `settings`, `provider`], value: PROVIDER},
      {file: providers, op: `set`, path: [...entry, `settings`, `apiKey`], value: secret},
      {file: providers, op: `set`, path: [...entry, `updatedAt`], value: now.toISOString()},
      {file: providers, op: `set`, path: [...entry, `tokenSource`], value: `manual`},
      {file: secrets, op: `set`, path: [SECRET_KEY], value: secret},
      {file: globalState, op: `set`, path: [`actModeApiProvider`], value: PROVIDER},
      {file: globalState, op: `set`, path: [`planModeApiProvider`], value: PROVIDER},
    ],
    notes: [
      `Cline reads these files when it starts: restart the IDE/Cline`,
    ],
  };
}

/**
 * Highest precedence first: `secrets.json` (installed) wins over providers.json inside the extension; capit writes
 * both, so providers.json is listed after it for `capit doctor`.
 */
export function clineKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  if (platformId !== PROVIDER) return [];
  const [providers, secrets] = clineFiles(envInfo);
  return [
    {kind: `file`, path: secrets!.path, format: `json`, at: [SECRET_KEY], installs: true},
    {kind: `file`, path: providers!.path, format: `json`, at: [`providers`, PROVIDER, `settings`, `apiKey`], note: `secrets.json wins over providers.json`},
  ];
}

export function clineSupports(platformId: string): true | string {
  return platformId === PROVIDER ? true : `Cline has no "${platformId}" provider that capit can configure yet`;
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `cline`,
  files: clineFiles,
  supports: clineSupports,
  plan: input => planCline(input),
  keySources: clineKeySources,
  // Cline runs inside the IDE's extension host, which reads its key from its own files and never from the
  // environment of a command capit starts (research/ide-agents.md §2).
  sessionEnv: () => `Cline runs inside VS Code and reads its key only from its own settings, not from the environment of a process capit starts; use: capit openrouter <usd> --agent cline`,
} satisfies AgentDefinition;

export default agent;
