import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentModel, ConfigReader, KeySource, PlanInput, SessionEnv, SessionInput} from 'capit/plugin';

// Claude Code reads the `env` block of its settings files and applies it over the process environment
// (research/agents.md §1, confirmed by running 2.1.112 and 2.1.332). capit writes the official OpenRouter recipe
// into the *user* settings.json: ANTHROPIC_BASE_URL = the platform's Anthropic-style base, ANTHROPIC_AUTH_TOKEN = the
// capped key (sent as `Authorization: Bearer`), ANTHROPIC_API_KEY = "" (so an Anthropic key exported in the shell is
// not also sent to the gateway as `x-api-key`). `.credentials.json` (subscription OAuth) and `~/.claude.json` are
// never touched.

/** Platforms with an Anthropic-Messages endpoint Claude Code can use through ANTHROPIC_BASE_URL. */
const SUPPORTED = new Set([`openrouter`, `aihubmix`]);

function pathApi(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

/** `$CLAUDE_CONFIG_DIR`, else `~/.claude` on every OS (Windows: `%USERPROFILE%\.claude`). */
export function claudeConfigDir({env, home, cwd, platform}: AgentEnvironment): string {
  const p = pathApi(platform);
  const override = env.CLAUDE_CONFIG_DIR?.trim();
  return override ? p.resolve(cwd, override) : p.join(home, `.claude`);
}

export function claudeSettingsPath(envInfo: AgentEnvironment): string {
  return pathApi(envInfo.platform).join(claudeConfigDir(envInfo), `settings.json`);
}

/**
 * Managed (enterprise) settings, which override every other layer. 2.1.112 reads `C:\Program Files\ClaudeCode` on
 * Windows; older releases used `C:\ProgramData\ClaudeCode`, so both are listed. Drop-ins in `managed-settings.d/`
 * cannot be listed without reading the directory, which a plugin must not do.
 */
export function claudeManagedSettingsPaths(platform: NodeJS.Platform): string[] {
  switch (platform) {
    case `darwin`:
      return [`/Library/Application Support/ClaudeCode/managed-settings.json`];
    case `win32`:
      return [`C:\\Program Files\\ClaudeCode\\managed-settings.json`, `C:\\ProgramData\\ClaudeCode\\managed-settings.json`];
    default:
      return [`/etc/claude-code/managed-settings.json`];
  }
}

export function claudeFiles(envInfo: AgentEnvironment): AgentFile[] {
  return [{id: `settings`, path: claudeSettingsPath(envInfo), format: `json`, secret: true}];
}

/**
 * The model Claude Code asks for: `ANTHROPIC_MODEL` in the environment, else in the user settings' `env` block, else the
 * settings' `model`; and `CLAUDE_CODE_MAX_OUTPUT_TOKENS` the same way, when set. Through a gateway the model is the
 * gateway's id (`anthropic/claude-sonnet-4.5`); an alias such as `sonnet` is passed on as is and simply not priced.
 */
export async function claudeModel(envInfo: AgentEnvironment, read: ConfigReader): Promise<AgentModel | undefined> {
  const settings = {path: claudeSettingsPath(envInfo), format: `json` as const};
  const fromSettings = async (at: string[]) => {
    const value = await read(settings, at);
    return typeof value === `string` && value.trim() !== `` ? value.trim() : undefined;
  };
  const model = envInfo.env.ANTHROPIC_MODEL?.trim() || await fromSettings([`env`, `ANTHROPIC_MODEL`]) || await fromSettings([`model`]);
  if (!model) return undefined;
  const limitText = envInfo.env.CLAUDE_CODE_MAX_OUTPUT_TOKENS?.trim() || await fromSettings([`env`, `CLAUDE_CODE_MAX_OUTPUT_TOKENS`]);
  const limit = limitText && /^\d+$/.test(limitText) ? Number(limitText) : undefined;
  return {
    model, source: envInfo.env.ANTHROPIC_MODEL?.trim() ? `environment variable ANTHROPIC_MODEL` : settings.path,
    ...(limit ? {maxOutputTokens: limit} : {}),
    outputTokensSetting: `CLAUDE_CODE_MAX_OUTPUT_TOKENS in the "env" block of ${settings.path}`,
  };
}

export function planClaude({platform, secret}: PlanInput, {env}: AgentEnvironment) {
  const base = platform.inferenceBaseUrls.anthropic;
  if (!base) throw new Error(`${platform.displayName} has no Anthropic-compatible base URL for Claude Code`);
  const host = hostOf(base);
  const notes = [
    `If you are logged in to Claude with a subscription, run /logout so Claude uses the capped key`,
    `Start a new Claude Code session to use it (running sessions keep their old settings)`,
  ];
  if (env.ANTHROPIC_API_KEY)
    notes.push(`ANTHROPIC_API_KEY from your shell is blanked for Claude by settings.json, so it is not sent to ${host}`);
  return {
    // One edit per entry: every other setting and `env` entry stays, and restore reverts exactly these three.
    edits: [
      {file: `settings`, op: `set` as const, path: [`env`, `ANTHROPIC_BASE_URL`], value: base},
      {file: `settings`, op: `set` as const, path: [`env`, `ANTHROPIC_AUTH_TOKEN`], value: secret},
      {file: `settings`, op: `set` as const, path: [`env`, `ANTHROPIC_API_KEY`], value: ``},
    ],
    notes,
  };
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

/**
 * Highest precedence first. What really shadows the capped key:
 * - cloud-provider switches in the environment (Bedrock/Vertex/Foundry): Claude then ignores ANTHROPIC_AUTH_TOKEN
 *   and ANTHROPIC_BASE_URL altogether (cli.js checks them before any token);
 * - managed settings, then project `.claude/settings.local.json` and `.claude/settings.json`, which override the user
 *   settings.json key by key: a token there wins; a base URL there sends the capped key elsewhere; a non-empty
 *   ANTHROPIC_API_KEY there undoes capit's "" and leaks that key to the gateway as `x-api-key`.
 * What does NOT shadow: ANTHROPIC_AUTH_TOKEN / ANTHROPIC_API_KEY exported in the shell. The settings `env` block is
 * applied over the process environment (observed: a shell ANTHROPIC_BASE_URL lost to settings.json, and with
 * ANTHROPIC_API_KEY="" in settings no `x-api-key` was sent). They are listed after the installed source so
 * `capit doctor` can show them; the ANTHROPIC_API_KEY case gets a plan note instead of a warning.
 */
export function claudeKeySources(envInfo: AgentEnvironment, _platformId: string): KeySource[] {
  const p = pathApi(envInfo.platform);
  const userSettings = claudeSettingsPath(envInfo);
  const projectDir = p.join(envInfo.cwd, `.claude`);
  const layered = [
    ...claudeManagedSettingsPaths(envInfo.platform).map(file => ({file, layer: `managed settings override user settings`})),
    {file: p.join(projectDir, `settings.local.json`), layer: `project settings override user settings`},
    {file: p.join(projectDir, `settings.json`), layer: `project settings override user settings`},
  ].filter(({file}) => p.resolve(file) !== p.resolve(userSettings)); // run from $HOME: the "project" file is the user one
  return [
    ...[`CLAUDE_CODE_USE_BEDROCK`, `CLAUDE_CODE_USE_VERTEX`, `CLAUDE_CODE_USE_FOUNDRY`].map(name => ({
      kind: `env` as const, name, note: `Claude then calls its cloud provider and ignores ANTHROPIC_AUTH_TOKEN`,
    })),
    ...layered.flatMap(({file, layer}) => [
      {kind: `file` as const, path: file, format: `json` as const, at: [`env`, `ANTHROPIC_AUTH_TOKEN`], note: layer},
      {kind: `file` as const, path: file, format: `json` as const, at: [`env`, `ANTHROPIC_BASE_URL`], note: `${layer}; the key would be sent to that URL`},
      {kind: `file` as const, path: file, format: `json` as const, at: [`env`, `ANTHROPIC_API_KEY`], note: `${layer}; Claude would also send that key to the gateway`},
    ]),
    {kind: `file`, path: userSettings, format: `json`, at: [`env`, `ANTHROPIC_AUTH_TOKEN`], installs: true},
    {kind: `env`, name: `ANTHROPIC_AUTH_TOKEN`, note: `settings.json env overrides the shell`},
    {kind: `env`, name: `ANTHROPIC_API_KEY`, note: `blanked by ANTHROPIC_API_KEY="" in settings.json`},
  ];
}

/**
 * `capit run -- claude …`: the recipe's three variables in the process environment. Claude Code applies the `env`
 * block of every settings layer (managed, project, user) over the process environment (research/agents.md §1, [C-run]
 * "a shell ANTHROPIC_BASE_URL lost to settings.json"; checked again with 2.1.112 in test/agents/run.test.ts), so any
 * settings file that sets one of them — capit's own install included — beats the session key: those are `beatenBy`,
 * and capit run refuses while one holds a value. The cloud-provider switches make Claude ignore the token altogether.
 */
export function claudeSessionEnv({platform, secret, baseUrls}: SessionInput, envInfo: AgentEnvironment): SessionEnv | string {
  if (!baseUrls.anthropic) return `${platform} has no Anthropic-compatible base URL for Claude Code`;
  const p = pathApi(envInfo.platform);
  const userSettings = claudeSettingsPath(envInfo);
  const projectDir = p.join(envInfo.cwd, `.claude`);
  const layers = [
    ...claudeManagedSettingsPaths(envInfo.platform),
    p.join(projectDir, `settings.local.json`),
    p.join(projectDir, `settings.json`),
    userSettings,
  ].filter((file, i, all) => all.findIndex(other => p.resolve(other) === p.resolve(file)) === i);
  const note = `Claude Code applies settings.json env over the process environment`;
  return {
    env: {ANTHROPIC_BASE_URL: baseUrls.anthropic, ANTHROPIC_AUTH_TOKEN: secret, ANTHROPIC_API_KEY: ``},
    beatenBy: [
      ...[`CLAUDE_CODE_USE_BEDROCK`, `CLAUDE_CODE_USE_VERTEX`, `CLAUDE_CODE_USE_FOUNDRY`].map(name => ({
        kind: `env` as const, name, note: `Claude then calls its cloud provider and ignores ANTHROPIC_AUTH_TOKEN`,
      })),
      ...layers.flatMap(file => [`ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY`].map(name => ({
        kind: `file` as const, path: file, format: `json` as const, at: [`env`, name], note,
      }))),
    ],
  };
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `claude`,
  files: claudeFiles,
  supports: platformId => SUPPORTED.has(platformId)
    ? true
    : `Claude Code only talks to Anthropic-compatible endpoints; capit knows one for ${[...SUPPORTED].join(` and `)}, not for "${platformId}"`,
  plan: (input, envInfo) => planClaude(input, envInfo),
  keySources: claudeKeySources,
  model: (envInfo, _detected, read) => claudeModel(envInfo, read),
  sessionEnv: claudeSessionEnv,
} satisfies AgentDefinition;

export default agent;
