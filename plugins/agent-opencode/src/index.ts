import path from 'node:path';

import {defineAgent}              from 'capit/plugin';
import type {AgentEnvironment}    from 'capit/plugin';

// opencode uses xdg-basedir with no per-OS branch, so this is the path on macOS and Windows too.
function dataDir({env, home}: AgentEnvironment): string {
  return path.join(env.XDG_DATA_HOME || path.join(home, `.local`, `share`), `opencode`);
}

function configDir({env, home}: AgentEnvironment): string {
  return path.join(env.XDG_CONFIG_HOME || path.join(home, `.config`), `opencode`);
}

const CONFIG_NAMES = [`opencode.jsonc`, `opencode.json`, `config.json`];

export default defineAgent({
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

  // opencode's precedence: provider.<id>.options.apiKey in a config > auth.json > OPENROUTER_API_KEY.
  shadows: (envInfo, platformId) => [
    {kind: `env`, name: `OPENCODE_AUTH_CONTENT`, reason: `it replaces auth.json entirely`},
    ...[configDir(envInfo), envInfo.cwd].flatMap(dir => CONFIG_NAMES.map(name => ({
      kind: `file` as const,
      path: path.join(dir, name),
      format: `jsonc` as const,
      at: [`provider`, platformId, `options`, `apiKey`],
      reason: `an apiKey in opencode's config wins over auth.json`,
    }))),
    ...(envInfo.env.OPENCODE_CONFIG ? [{
      kind: `file` as const, path: envInfo.env.OPENCODE_CONFIG, format: `jsonc` as const,
      at: [`provider`, platformId, `options`, `apiKey`], reason: `an apiKey in $OPENCODE_CONFIG wins over auth.json`,
    }] : []),
  ],
});
