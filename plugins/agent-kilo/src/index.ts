import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentPlan, KeySource, PlanInput} from 'capit/plugin';

// Kilo Code 7.x (the VS Code extension and the `kilo` CLI it bundles) is an opencode fork: credentials live in
// `${XDG_DATA_HOME:-~/.local/share}/kilo/auth.json` with opencode's shape, shared by the extension and the CLI
// (research/ide-agents.md §2.2). Like opencode it uses xdg-basedir with no per-OS branch, so this is the path on
// macOS and Windows too. The helpers are exported for the cursor/windsurf plugins, which configure Kilo when it is
// installed inside those IDEs; their file ids are namespaced (`kilo-…`) so several extensions fit in one plan.

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

export function kiloDataDir({env, home, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  return p.join(env.XDG_DATA_HOME || p.join(home, `.local`, `share`), `kilo`);
}

export function kiloConfigDir({env, home, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  return p.join(env.XDG_CONFIG_HOME || p.join(home, `.config`), `kilo`);
}

/** Kilo's enterprise managed config directory (overrides every other config). */
export function kiloManagedConfigDir({env, platform}: AgentEnvironment): string {
  switch (platform) {
    case `darwin`:
      return `/Library/Application Support/kilo`;
    case `win32`:
      return path.win32.join(env.ProgramData || env.PROGRAMDATA || `C:\\ProgramData`, `kilo`);
    default:
      return `/etc/kilo`;
  }
}

export const KILO_AUTH_FILE_ID = `kilo-auth`;

export function kiloFiles(envInfo: AgentEnvironment): AgentFile[] {
  return [{id: KILO_AUTH_FILE_ID, path: pathApi(envInfo.platform).join(kiloDataDir(envInfo), `auth.json`), format: `json`, secret: true}];
}

/**
 * auth.json maps provider id → credential. Replacing the whole entry drops a stale OAuth token for that provider,
 * while every other provider's entry stays as it was.
 */
export function planKilo({platform, secret}: PlanInput): AgentPlan {
  return {
    edits: [{file: KILO_AUTH_FILE_ID, op: `set`, path: [platform.id], value: {type: `api`, key: secret}}],
    notes: [
      `Restart Kilo (reload the IDE window, or start a new kilo CLI session) to pick up the key`,
      `Pick an ${platform.displayName} model in Kilo (model ${platform.id}/<model>): its default Kilo gateway model does not use this key`,
    ],
  };
}

const PROJECT_NAMES = [`kilo.jsonc`, `kilo.json`, `opencode.jsonc`, `opencode.json`];
const GLOBAL_NAMES = [...PROJECT_NAMES, `config.json`];

/**
 * Highest precedence first. Kilo merges configs (low → high): global `~/.config/kilo/*`, `$KILO_CONFIG`, project files
 * in the current directory, `.kilo`/`.kilocode`/`.opencode` directories, `$KILO_CONFIG_DIR`, the managed directory;
 * `provider.<id>.options.apiKey` in any of them wins over auth.json. `KILO_AUTH_CONTENT` replaces auth.json. Kilo also
 * walks up from the project directory, which needs file-system checks; only the current directory is listed.
 * `KILO_CONFIG_CONTENT` (inline JSON) is not listed: being set does not mean it holds a key.
 */
export function kiloKeySources(envInfo: AgentEnvironment, platformId: string): KeySource[] {
  const p = pathApi(envInfo.platform);
  const {env, cwd} = envInfo;
  const at = [`provider`, platformId, `options`, `apiKey`];
  const configs = [
    ...PROJECT_NAMES.map(name => p.join(kiloManagedConfigDir(envInfo), name)),
    ...(env.KILO_CONFIG_DIR ? PROJECT_NAMES.map(name => p.resolve(cwd, env.KILO_CONFIG_DIR!, name)) : []),
    ...[`.opencode`, `.kilocode`, `.kilo`].flatMap(dir => PROJECT_NAMES.map(name => p.join(cwd, dir, name))),
    ...PROJECT_NAMES.map(name => p.join(cwd, name)),
    ...(env.KILO_CONFIG ? [p.resolve(cwd, env.KILO_CONFIG)] : []),
    ...GLOBAL_NAMES.map(name => p.join(kiloConfigDir(envInfo), name)),
  ];
  const unique = [...new Set(configs)];
  return [
    ...unique.map(file => ({
      kind: `file` as const, path: file, format: `jsonc` as const, at,
      note: `an apiKey in Kilo's config wins over auth.json`,
    })),
    {kind: `env`, name: `KILO_AUTH_CONTENT`, note: `it replaces auth.json entirely`},
    {kind: `file`, path: kiloFiles(envInfo)[0]!.path, format: `json`, at: [platformId, `key`], installs: true},
    {kind: `env`, name: `${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`},
  ];
}

/**
 * `kilo` (the CLI, an opencode fork) reads `KILO_AUTH_CONTENT` instead of auth.json (research/ide-agents.md §2.2,
 * [C-src] packages/opencode/src/auth/index.ts with `app="kilo"`), as opencode does with OPENCODE_AUTH_CONTENT. Only the
 * process `capit run` starts sees it: the VS Code extension's server inherits the IDE's environment, not this one.
 * A config apiKey still wins over it.
 */
export function kiloSessionEnv({platform, secret}: {platform: string; secret: string}, envInfo: AgentEnvironment) {
  const configs = kiloKeySources(envInfo, platform).filter(s => s.kind === `file` && !s.installs && s.at[0] === `provider`);
  return {env: {KILO_AUTH_CONTENT: JSON.stringify({[platform]: {type: `api`, key: secret}})}, beatenBy: configs};
}

export function kiloSupports(platformId: string): true | string {
  return platformId === `openrouter`
    ? true
    : `Kilo has no built-in "${platformId}" provider that capit can configure yet`;
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `kilo`,
  files: kiloFiles,
  supports: kiloSupports,
  plan: input => planKilo(input),
  keySources: kiloKeySources,
  sessionEnv: kiloSessionEnv,
} satisfies AgentDefinition;

export default agent;
