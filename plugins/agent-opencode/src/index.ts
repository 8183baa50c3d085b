import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentModel, ConfigReader} from 'capit/plugin';

// opencode uses xdg-basedir with no per-OS branch, so this is the path on macOS and Windows too.
function dataDir({env, home}: AgentEnvironment): string {
  return path.join(env.XDG_DATA_HOME || path.join(home, `.local`, `share`), `opencode`);
}

function configDir({env, home}: AgentEnvironment): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(home, `.config`), `opencode`);
}

const CONFIG_NAMES = [`opencode.jsonc`, `opencode.json`, `config.json`];

/**
 * `model` ("<provider>/<model>") from the first config that sets it — project, then `$OPENCODE_CONFIG`, then global (the
 * order opencode lets them override each other) — for the platform's provider only, with that model's
 * `provider.<id>.models.<model>.limit.output` when a config sets it.
 */
async function configuredModel(envInfo: AgentEnvironment, read: ConfigReader, platformId: string): Promise<AgentModel | undefined> {
  const configs = [
    ...CONFIG_NAMES.map(name => path.join(envInfo.cwd, name)),
    ...(envInfo.env.OPENCODE_CONFIG ? [envInfo.env.OPENCODE_CONFIG] : []),
    ...CONFIG_NAMES.map(name => path.join(configDir(envInfo), name)),
  ];
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

/**
 * A `provider.<id>.options.apiKey` in any of opencode's config layers: it wins over auth.json and its env override.
 * Highest precedence first, in the order opencode documents (opencode.ai/docs/config; the layers are listed in
 * research/agents.md §2): the inline `OPENCODE_CONFIG_CONTENT`, the project's `.opencode/opencode.json[c]`, the
 * project's `opencode.json[c]`, `$OPENCODE_CONFIG`, then the global config. (Managed configs under /etc and
 * parent directories up to the git root are not read.)
 */
function configKeySources(envInfo: AgentEnvironment, platformId: string) {
  const at = [`provider`, platformId, `options`, `apiKey`];
  const note = `an apiKey in opencode's config wins over auth.json`;
  const configs = [
    ...[`opencode.jsonc`, `opencode.json`].map(name => path.join(envInfo.cwd, `.opencode`, name)),
    ...CONFIG_NAMES.map(name => path.join(envInfo.cwd, name)),
    ...(envInfo.env.OPENCODE_CONFIG ? [envInfo.env.OPENCODE_CONFIG] : []),
    ...CONFIG_NAMES.map(name => path.join(configDir(envInfo), name)),
  ];
  return [
    {kind: `env` as const, name: `OPENCODE_CONFIG_CONTENT`, at, note: `inline config, opencode's highest-precedence layer`},
    ...configs.map(file => ({kind: `file` as const, path: file, format: `jsonc` as const, at, note})),
  ];
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `opencode`,

  files: envInfo => [{
    id: `auth`,
    path: path.join(dataDir(envInfo), `auth.json`),
    format: `json`,
    secret: true,
  }],

  supports: platformId => platformId === `openrouter`
    ? true
    : `opencode has no built-in "${platformId}" provider that capit can configure yet`,

  // auth.json maps provider id → credential; replacing the whole entry drops a stale OAuth token for that provider
  // while every other provider's entry stays as it was.
  plan: ({platform, secret}) => ({
    edits: [{file: `auth`, op: `set`, path: [platform.id], value: {type: `api`, key: secret}}],
    notes: [`Use it with: opencode run -m ${platform.id}/<model> "…" (running opencode sessions pick it up on restart)`],
  }),

  // opencode's precedence: provider.<id>.options.apiKey in a config > auth.json > <ID>_API_KEY.
  keySources: (envInfo, platformId) => [
    {kind: `env`, name: `OPENCODE_AUTH_CONTENT`, note: `it replaces auth.json entirely`},
    ...configKeySources(envInfo, platformId),
    {kind: `file`, path: path.join(dataDir(envInfo), `auth.json`), format: `json`, at: [platformId, `key`], installs: true},
    {kind: `env`, name: `${platformId.toUpperCase()}_API_KEY`},
  ],

  model: (envInfo, _detected, read, platformId) => configuredModel(envInfo, read, platformId),

  // auth.json beats OPENROUTER_API_KEY, so that variable cannot carry a session key; OPENCODE_AUTH_CONTENT replaces
  // auth.json entirely (research/agents.md §2, [C-src] strings of 1.18.33; checked with the real binary in
  // test/agents/run.test.ts). Only the session's provider is in it: the other providers' credentials of auth.json are
  // not visible to that one process. An apiKey in a config still wins, so it refuses rather than spend another key.
  sessionEnv: ({platform, secret}, envInfo) => ({
    env: {OPENCODE_AUTH_CONTENT: JSON.stringify({[platform]: {type: `api`, key: secret}})},
    beatenBy: configKeySources(envInfo, platform),
  }),
} satisfies AgentDefinition;

export default agent;
