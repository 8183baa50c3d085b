// The __DISPLAY_NAME__ agent plugin for capit. capit imports this file only when the agent is used.
//
// Only *type* imports from capit: the built file must not import capit at runtime, because a plugin installed with
// `capit plugin add` lives in capit's plugin dir where the `capit` package cannot be resolved. capit checks the
// exported object against the "capit" manifest in package.json (kind, id and apiVersion must match, and the
// manifest's "platforms" must be exactly the ids supports() accepts).
import path from 'node:path';

import type {AgentDefinition, AgentEnvironment} from 'capit/plugin';

/** Where __DISPLAY_NAME__ keeps its config: `$__ID_UPPER___CONFIG_DIR`, else the per-OS default. Replace with the real rules. */
export function configDir({env, home, platform}: AgentEnvironment): string {
  const p = platform === `win32` ? path.win32 : path.posix;
  if (env.__ID_UPPER___CONFIG_DIR) return env.__ID_UPPER___CONFIG_DIR;
  if (platform === `win32`) return p.join(env.APPDATA || p.join(home, `AppData`, `Roaming`), `__ID__`);
  return p.join(env.XDG_CONFIG_HOME || p.join(home, `.config`), `__ID__`);
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `__ID__`,

  // Every file capit may edit for this agent. capit parses, backs up, edits, writes (0600 when secret) and restores it.
  files: envInfo => [{
    id: `auth`,
    path: (envInfo.platform === `win32` ? path.win32 : path.posix).join(configDir(envInfo), `auth.json`),
    format: `json`,
    secret: true,
  }],

  // true, or why this platform cannot be used (shown to the user as is).
  supports: platformId => platformId === `openrouter`
    ? true
    : `__DISPLAY_NAME__ has no "${platformId}" provider that capit can configure yet`,

  // Pure: no file access, no clock, no randomness. capit applies the edits.
  plan: ({platform, secret}) => ({
    edits: [
      {file: `auth`, op: `set`, path: [`providers`, platform.id, `apiKey`], value: secret},
      {file: `auth`, op: `set`, path: [`providers`, platform.id, `baseUrl`], value: platform.inferenceBaseUrls.openai},
    ],
    notes: [`Restart __DISPLAY_NAME__ to pick up the new key.`],
  }),

  // Where __DISPLAY_NAME__ looks for the key, highest precedence first; exactly one is the place capit writes.
  keySources: (envInfo, platformId) => [
    {kind: `env`, name: `${platformId.toUpperCase().replace(/-/g, `_`)}_API_KEY`, note: `an env var wins over auth.json`},
    {kind: `file`, path: (envInfo.platform === `win32` ? path.win32 : path.posix).join(configDir(envInfo), `auth.json`),
      format: `json`, at: [`providers`, platformId, `apiKey`], installs: true},
  ],
} satisfies AgentDefinition;

export default agent;
