import fs   from 'node:fs';
import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentModel, ConfigReader, KeySource} from 'capit/plugin';

// opencode uses xdg-basedir with no per-OS branch, so this is the path on macOS and Windows too.
function dataDir({env, home}: AgentEnvironment): string {
  return path.join(env.XDG_DATA_HOME || path.join(home, `.local`, `share`), `opencode`);
}

function configDir({env, home}: AgentEnvironment): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(home, `.config`), `opencode`);
}

const CONFIG_NAMES = [`opencode.jsonc`, `opencode.json`, `config.json`];

/**
 * `model` ("<provider>/<model>") from the highest config layer that sets it ({@link configLayers}; the inline
 * OPENCODE_CONFIG_CONTENT is not read here) — for the platform's provider only, with that model's
 * `provider.<id>.models.<model>.limit.output` when a config sets it.
 */
async function configuredModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string, detected?: OpencodeDetection): Promise<AgentModel | undefined> {
  const configs = configLayers(envInfo, detected).flatMap(layer => (`path` in layer ? [layer.path] : []));
  for (const file of configs) {
    const value = await read({path: file, format: `jsonc`}, [`model`]);
    if (typeof value !== `string` || value === ``) continue;
    const prefix = `${platformId}/`;
    if (!value.startsWith(prefix)) return undefined; // another provider's model: not priced by this platform
    const model = value.slice(prefix.length);
    let maxOutputTokens: number | undefined;
    for (const limitFile of configs) {
      const limit = await read({path: limitFile, format: `jsonc`}, [`provider`, platformId, `models`, model, `limit`, `output`]);
      if (typeof limit === `number` && limit > 0) { maxOutputTokens = limit; break; }
    }
    return {
      model, source: file, ...(maxOutputTokens ? {maxOutputTokens} : {}),
      outputTokensSetting: `provider.${platformId}.models["${model}"].limit.output in opencode.json`,
    };
  }
  return undefined;
}

/** What {@link agent.detect} found: the project's git root, where opencode stops looking for project configs. */
export interface OpencodeDetection {
  /** The nearest directory at or above cwd holding `.git`, or null when cwd is in no git repository. */
  gitRoot: string | null;
}

/**
 * The directory at or above `cwd` that holds `.git` (a directory, or a file in a linked worktree), else null. opencode
 * asks git itself (Project.fromDirectory, 1.18.34): a `.git` that git does not recognise is the one case this cheap
 * check gets wrong, and then capit lists fewer parent directories than opencode reads.
 */
export function findGitRoot({cwd, platform}: Pick<AgentEnvironment, `cwd` | `platform`>): string | null {
  const p = pathApi(platform);
  for (let dir = p.resolve(cwd); ; dir = p.dirname(dir)) {
    if (fs.existsSync(p.join(dir, `.git`))) return dir;
    if (p.dirname(dir) === dir) return null;
  }
}

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/** `start`, its parent, … up to `stop` (included), or to the file-system root when `stop` is null or not above it. */
function upFrom(p: path.PlatformPath, start: string, stop: string | null): string[] {
  const dirs: string[] = [];
  for (let dir = p.resolve(start); ; dir = p.dirname(dir)) {
    dirs.push(dir);
    if (dir === stop || p.dirname(dir) === dir) return dirs;
  }
}

function truthy(value: string | undefined): boolean {
  return value === `1` || value?.toLowerCase() === `true`;
}

/** opencode's managed (enterprise) config directory: read last, so it overrides every other layer. */
export function managedConfigDir({env, platform}: AgentEnvironment): string {
  // ConfigManaged.managedConfigDir in the 1.18.34 binary; OPENCODE_TEST_MANAGED_CONFIG_DIR replaces it there too.
  if (env.OPENCODE_TEST_MANAGED_CONFIG_DIR) return env.OPENCODE_TEST_MANAGED_CONFIG_DIR;
  switch (platform) {
    case `darwin`: return `/Library/Application Support/opencode`;
    case `win32`: return path.win32.join(env.ProgramData || `C:\\ProgramData`, `opencode`);
    default: return `/etc/opencode`;
  }
}

/** One config layer: the inline variable or a file, with why it matters. */
type Layer = ({env: `OPENCODE_CONFIG_CONTENT`} | {path: string}) & {note: string; checked: string};

const BINARY = `binary: opencode 1.18.34`;
const LOADER = `source: Config.loadInstanceState in opencode-linux-x64@1.18.34`;

/**
 * Every config layer opencode 1.18.34 reads, highest precedence first. Source: Config.loadInstanceState and
 * ConfigPaths (packages/opencode/src/config/config.ts, paths.ts) in the strings of the opencode-linux-x64@1.18.34 binary,
 * which merges, lowest first: the global config (config.json < opencode.json < opencode.jsonc), $OPENCODE_CONFIG, the
 * project's opencode.json[c] from the git root down to cwd (the whole way to / outside a repository), the config
 * directories — every `.opencode` from cwd UP to the git root (so a parent's `.opencode` beats cwd's), `~/.opencode`,
 * $OPENCODE_CONFIG_DIR — each opencode.json < opencode.jsonc, then OPENCODE_CONFIG_CONTENT, then the managed directory.
 * OPENCODE_DISABLE_PROJECT_CONFIG drops the project files and project `.opencode` directories. Each precedence step
 * below was checked with the real binary (test/agents/opencode.test.ts and the report of branch h-opencode).
 * Not listed: remote configs (a `wellknown` auth entry, an opencode console organisation), which capit cannot read
 * offline, and macOS MDM preferences (an empty stub in the Linux build).
 */
export function configLayers(envInfo: AgentEnvironment, detected?: OpencodeDetection): Layer[] {
  const {env, cwd, home, platform} = envInfo;
  const p = pathApi(platform);
  const gitRoot = detected ? detected.gitRoot : findGitRoot(envInfo);
  const project = !truthy(env.OPENCODE_DISABLE_PROJECT_CONFIG);
  const jsoncFirst = (dir: string) => [`opencode.jsonc`, `opencode.json`].map(name => p.join(dir, name));
  const walk = project ? upFrom(p, cwd, gitRoot) : [];
  const homeDotDir = p.join(home, `.opencode`);
  const configDirs = [
    ...(env.OPENCODE_CONFIG_DIR ? [p.resolve(cwd, env.OPENCODE_CONFIG_DIR)] : []),
    homeDotDir,
    ...walk.map(dir => p.join(dir, `.opencode`)).filter(dir => dir !== homeDotDir).reverse(),
  ];
  const layers: Layer[] = [
    ...jsoncFirst(managedConfigDir(envInfo)).map(file => ({path: file, note: `opencode's managed config overrides every other layer`, checked: BINARY})),
    {env: `OPENCODE_CONFIG_CONTENT`, note: `inline config, above every file but the managed ones`, checked: BINARY},
    ...configDirs.flatMap(jsoncFirst).map(file => ({path: file, note: `a config directory of opencode`, checked: BINARY})),
    ...walk.flatMap(jsoncFirst).map(file => ({path: file, note: `a project config of opencode (cwd up to the git root)`, checked: BINARY})),
    ...(env.OPENCODE_CONFIG ? [{path: p.resolve(cwd, env.OPENCODE_CONFIG), note: `$OPENCODE_CONFIG`, checked: LOADER}] : []),
    ...CONFIG_NAMES.map(name => ({path: path.join(configDir(envInfo), name), note: `opencode's global config`, checked: LOADER})),
  ];
  const seen = new Set<string>();
  return layers.filter(layer => {
    const id = `path` in layer ? layer.path : layer.env;
    if (seen.has(id)) return false;
    seen.add(id);
    return true;
  });
}

function layerSources(layers: Layer[], at: string[], extra: Partial<KeySource>): KeySource[] {
  return layers.map(layer => ({
    ...(`env` in layer
      ? {kind: `env` as const, name: layer.env, at}
      : {kind: `file` as const, path: layer.path, format: `jsonc` as const, at}),
    note: layer.note, checked: layer.checked, ...extra,
  }) as KeySource);
}

/** A `provider.<id>.options.apiKey` in any config layer: it wins over auth.json and its env override. */
function configKeySources(envInfo: AgentEnvironment, platformId: string, detected?: OpencodeDetection): KeySource[] {
  return layerSources(configLayers(envInfo, detected), [`provider`, platformId, `options`, `apiKey`], {})
    .map(source => ({...source, note: `${source.note}; an apiKey there wins over auth.json`}));
}

/**
 * Where opencode sends the `<id>` provider's requests: `provider.<id>.options.baseURL` of the highest layer that sets
 * it (Provider's getSDK in 1.18.34: `options.baseURL` when non-empty, else the models.dev `api` URL). opencode has no
 * environment variable for it. Listed after every key source, so a core that reads them as keys never mistakes a base
 * URL for a key that shadows capit's.
 */
function baseUrlSources(envInfo: AgentEnvironment, platformId: string, detected?: OpencodeDetection): KeySource[] {
  return layerSources(configLayers(envInfo, detected), [`provider`, platformId, `options`, `baseURL`], {role: `baseUrl`})
    .map(source => ({...source, note: `${source.note}; opencode sends the ${platformId} requests there`}));
}

// Checked with the real opencode 1.18.34: its built-in `aihubmix` provider (models.dev) loads
// `@aihubmix/ai-sdk-provider`, which the binary does not bundle: opencode downloads it from npm on first use, and its
// 2.1.0 sends every request to https://aihubmix.com/v1 whatever `options.baseURL` says. A provider switched to the
// bundled `@ai-sdk/openai-compatible` (`provider.aihubmix.npm`) applies that package only to the models listed under
// it in opencode.json, so it would need every model named up front.
const AIHUBMIX_REFUSAL = `opencode reaches AIHubMix only through @aihubmix/ai-sdk-provider, which it downloads from `
  + `npm on first use and which sends to https://aihubmix.com/v1 whatever base URL is configured (an OpenAI-compatible `
  + `provider would serve only models listed one by one in opencode.json); capit could not verify that path, so it `
  + `installs nothing`;

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `opencode`,

  detect: (envInfo): OpencodeDetection => ({gitRoot: findGitRoot(envInfo)}),

  files: envInfo => [{
    id: `auth`,
    path: path.join(dataDir(envInfo), `auth.json`),
    format: `json`,
    secret: true,
  }],

  supports: platformId => platformId === `openrouter`
    ? true
    : platformId === `aihubmix`
      ? AIHUBMIX_REFUSAL
      : `opencode has no built-in "${platformId}" provider that capit can configure yet`,

  // auth.json maps provider id → credential; replacing the whole entry drops a stale OAuth token for that provider
  // while every other provider's entry stays as it was.
  plan: ({platform, secret}) => ({
    edits: [{file: `auth`, op: `set`, path: [platform.id], value: {type: `api`, key: secret}}],
    notes: [`Use it with: opencode run -m ${platform.id}/<model> "…" (running opencode sessions pick it up on restart)`],
  }),

  // opencode's precedence (Provider state in 1.18.34): `provider.<id>.options.apiKey` from the merged config, else the
  // credential of auth.json (or OPENCODE_AUTH_CONTENT, which replaces it), else the provider's env var.
  keySources: (envInfo, platformId, detected) => [
    ...configKeySources(envInfo, platformId, detected),
    {kind: `env`, name: `OPENCODE_AUTH_CONTENT`, note: `it replaces auth.json entirely`, checked: `binary: opencode 1.18.33 (capit run)`},
    {kind: `file`, path: path.join(dataDir(envInfo), `auth.json`), format: `json`, at: [platformId, `key`], installs: true, checked: `binary: opencode 1.18.33 and 1.18.34`},
    {kind: `env`, name: `${platformId.toUpperCase()}_API_KEY`, checked: `binary: opencode 1.18.33 and 1.18.34 (auth.json wins)`},
    ...baseUrlSources(envInfo, platformId, detected),
  ],

  model: (envInfo, detected, read, platformId) => configuredModel(envInfo, read, platformId, detected),

  // auth.json beats OPENROUTER_API_KEY, so that variable cannot carry a session key; OPENCODE_AUTH_CONTENT replaces
  // auth.json entirely (research/agents.md §2, [C-src] strings of 1.18.33; checked with the real binary in
  // test/agents/run.test.ts). Only the session's provider is in it: the other providers' credentials of auth.json are
  // not visible to that one process. An apiKey in a config still wins, so it refuses rather than spend another key.
  sessionEnv: ({platform, secret}, envInfo, detected) => ({
    env: {OPENCODE_AUTH_CONTENT: JSON.stringify({[platform]: {type: `api`, key: secret}})},
    beatenBy: configKeySources(envInfo, platform, detected),
  }),
} satisfies AgentDefinition<OpencodeDetection>;

export default agent;
