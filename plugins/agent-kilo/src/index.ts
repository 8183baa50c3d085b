import fs   from 'node:fs';
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
  // ConfigManaged.managedConfigDir in the 7.7.9 binary: KILO_TEST_MANAGED_CONFIG_DIR replaces it there too.
  if (env.KILO_TEST_MANAGED_CONFIG_DIR) return env.KILO_TEST_MANAGED_CONFIG_DIR;
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

/** Kilo's config file names in one directory, in the order it lists them (KilocodeConfig.ALL_CONFIG_FILES, 7.7.9). */
const CONFIG_FILES = [`kilo.jsonc`, `kilo.json`, `opencode.jsonc`, `opencode.json`];

/** What {@link kiloDetect} found: the project's git root, where Kilo stops looking for project configs. */
export interface KiloDetection {
  /** The nearest directory at or above cwd holding `.git`, or null when cwd is in no git repository. */
  gitRoot: string | null;
}

/**
 * The directory at or above cwd that holds `.git`, else null (Kilo, like opencode, asks git itself: a `.git` git does
 * not recognise is the one case this cheap check gets wrong). Read-only, a few `existsSync` calls.
 */
export function kiloDetect({cwd, platform}: AgentEnvironment): KiloDetection {
  const p = pathApi(platform);
  for (let dir = p.resolve(cwd); ; dir = p.dirname(dir)) {
    if (fs.existsSync(p.join(dir, `.git`))) return {gitRoot: dir};
    if (p.dirname(dir) === dir) return {gitRoot: null};
  }
}

function upFrom(p: path.PlatformPath, start: string, stop: string | null): string[] {
  const dirs: string[] = [];
  for (let dir = p.resolve(start); ; dir = p.dirname(dir)) {
    dirs.push(dir);
    if (dir === stop || p.dirname(dir) === dir) return dirs;
  }
}

type Layer = ({env: `KILO_CONFIG_CONTENT`} | {path: string}) & {note: string; checked: string};

const BINARY = `binary: Kilo CLI 7.7.9`;
const LOADER = `source: the config loader in @kilocode/cli-linux-x64@7.7.9`;

/**
 * Every config layer the Kilo CLI 7.7.9 reads, highest precedence first. Source: Config.loadInstanceState, ConfigPaths
 * and KilocodeConfig in the strings of the @kilocode/cli-linux-x64@7.7.9 binary (its `config sources` listing names
 * the same chain), which merges, lowest first: the global directory (config.json, kilo.json, kilo.jsonc,
 * opencode.json, opencode.jsonc), $KILO_CONFIG, the project's kilo.json[c] and then opencode.json[c] from the git
 * root down to cwd (the whole way to / outside a repository), the config directories — every `.kilocode` and `.kilo`
 * from cwd UP to the git root, then `~/.kilocode`, `~/.kilo`, $KILO_CONFIG_DIR — then KILO_CONFIG_CONTENT, then the
 * managed directory. Unlike opencode, a `.opencode` directory is not read (only reported by Kilo). The steps checked
 * with the real binary are in test/agents/kilo.test.ts. KILO_DISABLE_PROJECT_CONFIG drops the project layers. Not
 * listed: remote configs (a `wellknown` auth entry, a Kilo Cloud organisation), which capit cannot read offline.
 */
export function kiloConfigLayers(envInfo: AgentEnvironment, detected: KiloDetection = kiloDetect(envInfo)): Layer[] {
  const p = pathApi(envInfo.platform);
  const {env, cwd, home} = envInfo;
  const project = !(env.KILO_DISABLE_PROJECT_CONFIG === `1` || env.KILO_DISABLE_PROJECT_CONFIG?.toLowerCase() === `true`);
  const highestFirst = (dir: string) => [...CONFIG_FILES].reverse().map(name => p.join(dir, name));
  const walk = project ? upFrom(p, cwd, detected.gitRoot) : [];
  const homeDirs = [`.kilocode`, `.kilo`].map(name => p.join(home, name));
  const configDirs = [
    ...(env.KILO_CONFIG_DIR ? [p.resolve(cwd, env.KILO_CONFIG_DIR)] : []),
    ...[...homeDirs].reverse(),
    ...walk.flatMap(dir => [`.kilocode`, `.kilo`].map(name => p.join(dir, name))).filter(dir => !homeDirs.includes(dir)).reverse(),
  ];
  const projectFiles = (stem: string) => walk.flatMap(dir => [`${stem}.jsonc`, `${stem}.json`].map(name => p.join(dir, name)));
  const layers: Layer[] = [
    ...highestFirst(kiloManagedConfigDir(envInfo)).map(file => ({path: file, note: `Kilo's managed config overrides every other layer`, checked: BINARY})),
    {env: `KILO_CONFIG_CONTENT`, note: `inline config, above every file but the managed ones`, checked: BINARY},
    ...configDirs.flatMap(highestFirst).map(file => ({path: file, note: `a config directory of Kilo`, checked: file.includes(`${p.sep}.kilo${p.sep}`) && !homeDirs.some(d => file.startsWith(d + p.sep)) ? BINARY : LOADER})),
    ...[...projectFiles(`opencode`), ...projectFiles(`kilo`)].map(file => ({path: file, note: `a project config of Kilo (cwd up to the git root)`, checked: BINARY})),
    ...(env.KILO_CONFIG ? [{path: p.resolve(cwd, env.KILO_CONFIG), note: `$KILO_CONFIG`, checked: LOADER}] : []),
    ...[...CONFIG_FILES, `config.json`].reverse().map(name => ({path: p.join(kiloConfigDir(envInfo), name), note: `Kilo's global config`, checked: LOADER})),
  ];
  const seen = new Set<string>();
  return layers.filter(layer => {
    const id = `path` in layer ? layer.path : layer.env;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function layerSources(layers: Layer[], at: string[], note: string, extra: Partial<KeySource> = {}): KeySource[] {
  return layers.map(layer => ({
    ...(`env` in layer
      ? {kind: `env` as const, name: layer.env, at}
      : {kind: `file` as const, path: layer.path, format: `jsonc` as const, at}),
    note: `${layer.note}; ${note}`, checked: layer.checked, ...extra,
  }) as KeySource);
}

function kiloConfigKeySources(envInfo: AgentEnvironment, platformId: string, detected?: KiloDetection): KeySource[] {
  return layerSources(kiloConfigLayers(envInfo, detected), [`provider`, platformId, `options`, `apiKey`], `an apiKey there wins over auth.json`);
}

/**
 * Highest precedence first: `provider.<id>.options.apiKey` in any config layer, `KILO_AUTH_CONTENT` (replaces
 * auth.json), auth.json (what capit writes), `<ID>_API_KEY`; then the base-URL sources: `provider.<id>.options.baseURL`
 * in any layer decides where the requests go (Kilo has no environment variable for it). They come after every key
 * source so that a core reading them as keys never takes a base URL for a key shadowing capit's.
 */
export function kiloKeySources(envInfo: AgentEnvironment, platformId: string, detected?: KiloDetection): KeySource[] {
  return [
    ...kiloConfigKeySources(envInfo, platformId, detected),
    {kind: `env`, name: `KILO_AUTH_CONTENT`, note: `it replaces auth.json entirely`, checked: LOADER},
    {kind: `file`, path: kiloFiles(envInfo)[0]!.path, format: `json`, at: [platformId, `key`], installs: true, checked: BINARY},
    {kind: `env`, name: `${platformId.toUpperCase().replace(/[^A-Z0-9]/g, `_`)}_API_KEY`, checked: `${BINARY} (auth.json wins)`},
    ...layerSources(kiloConfigLayers(envInfo, detected), [`provider`, platformId, `options`, `baseURL`], `Kilo sends the ${platformId} requests there`, {role: `baseUrl`}),
  ];
}

/**
 * `kilo` (the CLI, an opencode fork) reads `KILO_AUTH_CONTENT` instead of auth.json (research/ide-agents.md §2.2,
 * [C-src] packages/opencode/src/auth/index.ts with `app="kilo"`), as opencode does with OPENCODE_AUTH_CONTENT. Only the
 * process `capit run` starts sees it: the VS Code extension's server inherits the IDE's environment, not this one.
 * A config apiKey still wins over it.
 */
export function kiloSessionEnv({platform, secret}: {platform: string; secret: string}, envInfo: AgentEnvironment, detected?: KiloDetection) {
  return {env: {KILO_AUTH_CONTENT: JSON.stringify({[platform]: {type: `api`, key: secret}})}, beatenBy: kiloConfigKeySources(envInfo, platform, detected)};
}

export function kiloSupports(platformId: string): true | string {
  // Checked in the 7.7.9 binary: its `aihubmix` provider (models.dev) loads @aihubmix/ai-sdk-provider, which Kilo does
  // not bundle (downloaded from npm on first use; its 2.1.0 sends to https://aihubmix.com/v1 whatever baseURL says), and
  // a provider switched to the bundled @ai-sdk/openai-compatible serves only the models listed under it in the config.
  if (platformId === `aihubmix`)
    return `Kilo reaches AIHubMix only through @aihubmix/ai-sdk-provider, which it downloads from npm on first use `
      + `and which sends to https://aihubmix.com/v1 whatever base URL is configured (an OpenAI-compatible provider would `
      + `serve only models listed one by one in Kilo's config); capit could not verify that path, so it installs nothing`;
  return platformId === `openrouter`
    ? true
    : `Kilo has no built-in "${platformId}" provider that capit can configure yet`;
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `kilo`,
  detect: kiloDetect,
  files: kiloFiles,
  supports: kiloSupports,
  plan: input => planKilo(input),
  keySources: (envInfo, platformId, detected) => kiloKeySources(envInfo, platformId, detected),
  sessionEnv: (input, envInfo, detected) => kiloSessionEnv(input, envInfo, detected),
} satisfies AgentDefinition<KiloDetection>;

export default agent;
