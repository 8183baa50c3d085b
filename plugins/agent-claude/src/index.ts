import fs   from 'node:fs';
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

/** The installed Claude Code's version, when it can be read cheaply; `null` means "assume the newest". */
export interface ClaudeDetection {
  version: string | null;
  /** Where the version was read, e.g. `/usr/lib/node_modules/@anthropic-ai/claude-code/package.json`. */
  versionFrom: string | null;
}

const CLAUDE_PACKAGE = /^@anthropic-ai\/claude-code(-[a-z0-9-]+)?$/;
const SEMVER = /^\d+\.\d+\.\d+$/;

/**
 * The version of the `claude` first on PATH, without running it: the npm package.json above the resolved binary
 * (`@anthropic-ai/claude-code` — `cli.js` up to 2.1.112, `bin/claude.exe` after — or a platform package such as
 * `@anthropic-ai/claude-code-linux-x64`), or the native installer's `…/versions/<version>` file name. Anything else
 * (not found, unreadable, another layout) is `null`: doctor then assumes the newest behaviour.
 */
export function detectClaude({env, platform}: AgentEnvironment): ClaudeDetection {
  const p = pathApi(platform);
  const dirs = (env.PATH ?? env.Path ?? ``).split(platform === `win32` ? `;` : `:`).filter(Boolean);
  const names = platform === `win32` ? [`claude.cmd`, `claude.exe`, `claude`] : [`claude`];
  for (const dir of dirs) {
    for (const name of names) {
      let real: string;
      try {
        if (!fs.statSync(p.join(dir, name)).isFile()) continue;
        real = fs.realpathSync(p.join(dir, name));
      } catch {
        continue;
      }
      // The first `claude` on PATH is the one the user runs: its version or nothing, never a later one's.
      return versionOf(real, p) ?? (platform === `win32` ? versionOf(p.join(dir, `node_modules`, `@anthropic-ai`, `claude-code`, `cli.js`), p) : null) ?? {version: null, versionFrom: null};
    }
  }
  return {version: null, versionFrom: null};
}

function versionOf(binary: string, p: path.PlatformPath): ClaudeDetection | null {
  if (p.basename(p.dirname(binary)) === `versions` && SEMVER.test(p.basename(binary)))
    return {version: p.basename(binary), versionFrom: binary};
  let dir = p.dirname(binary);
  for (let up = 0; up < 3; up++, dir = p.dirname(dir)) {
    const manifest = p.join(dir, `package.json`);
    try {
      const pkg = JSON.parse(fs.readFileSync(manifest, `utf8`)) as {name?: unknown; version?: unknown};
      if (typeof pkg.name === `string` && CLAUDE_PACKAGE.test(pkg.name) && typeof pkg.version === `string` && SEMVER.test(pkg.version))
        return {version: pkg.version, versionFrom: manifest};
    } catch {}
  }
  return null;
}

/** `a` is at most `b`, both `x.y.z`. */
function atMost(a: string, b: string): boolean {
  const [x, y] = [a, b].map(v => v.split(`.`).map(Number));
  for (let i = 0; i < 3; i++) if (x![i] !== y![i]) return x![i]! < y![i]!;
  return true;
}

/**
 * Up to 2.1.112 (the last cli.js), a project's or a local `apiKeyHelper` ran only once the project's trust dialog had
 * been accepted (cli.js 2.1.112: "apiKeyHelper invoked before trust check" returns null; run against the emulator in
 * `-p` mode it sent no x-api-key, and with `hasTrustDialogAccepted` in ~/.claude.json it did: test/agents/claude.test.ts).
 * 2.1.332 runs it in `-p` without asking (test/agents/claude-native.test.ts). This is also why the issue saw 2.1.112
 * not send a *user* helper: run in $HOME, ~/.claude/settings.json is the project settings too.
 */
const PROJECT_HELPER_NEEDS_TRUST_UP_TO = `2.1.112`;

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

/**
 * Why the install deletes `apiKeyHelper` from the settings file it edits (neutralise, not refuse): with the recipe's
 * ANTHROPIC_AUTH_TOKEN in place, Claude Code still runs the helper and sends its output as `x-api-key` on every request,
 * beside capit's `Authorization: Bearer` — to the gateway, so a second secret leaves the machine and which key is charged
 * becomes the gateway's choice. Seen with the real binaries against the emulator: 2.1.332 in every directory,
 * 2.1.112 in every directory but $HOME (test/agents/claude-native.test.ts, test/agents/claude.test.ts). While
 * ANTHROPIC_BASE_URL points at the gateway the helper's key has no other use, so removing it loses nothing; the backup
 * holds it and `capit restore claude` puts the file back byte for byte. A helper in a file capit does not edit
 * (project, local, managed) is a key source instead: capit warns at install and doctor says SHADOWED.
 */
export function planClaude({platform, secret, read}: PlanInput, {env}: AgentEnvironment) {
  const base = platform.inferenceBaseUrls.anthropic;
  if (!base) throw new Error(`${platform.displayName} has no Anthropic-compatible base URL for Claude Code`);
  const host = hostOf(base);
  const notes = [
    `If you are logged in to Claude with a subscription, run /logout so Claude uses the capped key`,
    `Start a new Claude Code session to use it (running sessions keep their old settings)`,
  ];
  if (env.ANTHROPIC_API_KEY)
    notes.push(`ANTHROPIC_API_KEY from your shell is blanked for Claude by settings.json, so it is not sent to ${host}`);
  const helper = read(`settings`, [`apiKeyHelper`]);
  if (helper !== undefined)
    notes.push(`apiKeyHelper was removed from settings.json: Claude would send its output to ${host} as x-api-key beside the capped key (capit restore claude puts it back)`);
  return {
    // One edit per entry: every other setting and `env` entry stays, and restore reverts exactly these.
    edits: [
      {file: `settings`, op: `set` as const, path: [`env`, `ANTHROPIC_BASE_URL`], value: base},
      {file: `settings`, op: `set` as const, path: [`env`, `ANTHROPIC_AUTH_TOKEN`], value: secret},
      {file: `settings`, op: `set` as const, path: [`env`, `ANTHROPIC_API_KEY`], value: ``},
      ...(helper !== undefined ? [{file: `settings`, op: `delete` as const, path: [`apiKeyHelper`]}] : []),
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
 * Claude Code's settings layers that can hold a key, a base URL or a helper, highest precedence first: managed, then
 * the project's `.claude/settings.local.json`, then `.claude/settings.json` (`--settings` on the command line sits
 * between managed and local, but capit cannot see a command line). Run from $HOME, the "project" file is the user one.
 */
function projectLayers(envInfo: AgentEnvironment): {file: string; layer: string; project?: true}[] {
  const p = pathApi(envInfo.platform);
  const userSettings = claudeSettingsPath(envInfo);
  const projectDir = p.join(envInfo.cwd, `.claude`);
  return [
    ...claudeManagedSettingsPaths(envInfo.platform).map(file => ({file, layer: `managed settings override user settings`})),
    {file: p.join(projectDir, `settings.local.json`), layer: `project settings override user settings`, project: true as const},
    {file: p.join(projectDir, `settings.json`), layer: `project settings override user settings`, project: true as const},
  ].filter(({file}) => p.resolve(file) !== p.resolve(userSettings));
}

/**
 * The switches that make Claude Code leave Anthropic's API for a cloud provider, after which it ignores
 * ANTHROPIC_AUTH_TOKEN and ANTHROPIC_BASE_URL. Read in the bundled JS of the native 2.1.332 binary
 * (@anthropic-ai/claude-code-linux-x64): its provider choice is `CLAUDE_CODE_USE_BEDROCK ? "bedrock" : …_FOUNDRY ?
 * "foundry" : …_ANTHROPIC_AWS ? … : …_ANTHROPIC_GOOGLE_CLOUD ? … : …_MANTLE ? … : …_VERTEX ? "vertex" : "firstParty"`,
 * each read as a boolean that is on only for `1`, `true`, `yes`, `on` (its `De()`: "0", "false", "" leave Anthropic's
 * API selected — seen with the binary, test/agents/claude-native.test.ts). cli.js 2.1.112 has the same choice without
 * ANTHROPIC_GOOGLE_CLOUD. Not listed: `CLAUDE_CODE_USE_GATEWAY` — 2.1.332's gateway mode still takes
 * ANTHROPIC_BASE_URL and ANTHROPIC_AUTH_TOKEN ("CLAUDE_CODE_USE_GATEWAY is set but ANTHROPIC_BASE_URL is missing …;
 * ignoring"), the two capit writes; what it does beyond that was not run here. Every settings `env` block can set the
 * switches too (Claude applies them over the process environment).
 */
export function providerSwitches(version: string | null): string[] {
  const googleCloud = version === null || !atMost(version, PROJECT_HELPER_NEEDS_TRUST_UP_TO);
  return [
    `CLAUDE_CODE_USE_BEDROCK`, `CLAUDE_CODE_USE_FOUNDRY`, `CLAUDE_CODE_USE_ANTHROPIC_AWS`,
    ...(googleCloud ? [`CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD`] : []),
    `CLAUDE_CODE_USE_MANTLE`, `CLAUDE_CODE_USE_VERTEX`,
  ];
}

const SWITCH_NOTE = `Claude then calls its cloud provider and ignores ANTHROPIC_AUTH_TOKEN`;
const SWITCH_CHECKED = `source: @anthropic-ai/claude-code-linux-x64@2.1.332 (the binary's bundled JS, provider choice)`;
// 2.1.332's help names "an Authorization line or an API key line in ANTHROPIC_CUSTOM_HEADERS" among what replaces the
// key it would send; capit cannot tell which headers the variable holds, so any value counts.
const HEADERS_NOTE = `its headers are sent on every request; an Authorization or API key line there replaces the capped key (capit cannot tell which headers it holds)`;
const HEADERS_CHECKED = `source: @anthropic-ai/claude-code-linux-x64@2.1.332 (the binary's help text)`;
const NATIVE = `binary: claude 2.1.332`;
const BOTH = `binary: claude 2.1.332, 2.1.112`;
const SETTINGS_ORDER = `source: cli.js@2.1.112 (settings sources: managed > local > project > user)`;

/**
 * Each settings layer's `env` switches and custom headers, for one file. A switch is `truthy`: Claude applies the
 * `env` block to its environment and reads the variable the same way, so `"0"` there is off.
 */
function switchSources(file: string, layer: string, switches: string[]): KeySource[] {
  return [
    ...switches.map((name): KeySource => ({kind: `file`, path: file, format: `json`, at: [`env`, name], truthy: true, note: `${layer}; ${SWITCH_NOTE}`, checked: SWITCH_CHECKED})),
    {kind: `file`, path: file, format: `json`, at: [`env`, `ANTHROPIC_CUSTOM_HEADERS`], note: `${layer}; ${HEADERS_NOTE}`, checked: HEADERS_CHECKED},
  ];
}

/**
 * Highest precedence first; key sources and base-URL sources (`role: 'baseUrl'`) each in Claude Code's own order.
 * Every layer below was run against the loopback emulator with 2.1.332 (native) and 2.1.112 (cli.js)
 * (test/agents/claude-native.test.ts, test/agents/claude.test.ts; research/agents.md §1, more-agents.md), except
 * where its `checked` says otherwise:
 * - cloud-provider switches (see {@link providerSwitches}) in any settings `env` block or the environment, and
 *   ANTHROPIC_CUSTOM_HEADERS, which may carry another Authorization;
 * - managed, project-local and project settings override the user settings.json key by key (seen: a local
 *   ANTHROPIC_AUTH_TOKEN beat a project one and the user one): a token there wins (SHADOWED); a base URL there sends
 *   the capped key to that URL (REDIRECTED); a non-empty ANTHROPIC_API_KEY there undoes capit's "" and is sent to the
 *   gateway as `x-api-key`, and so is an `apiKeyHelper`'s output (2.1.332 always; 2.1.112 once the project is trusted);
 * - an `apiKeyHelper` in the user settings.json: the install deletes it (see {@link planClaude}); one there again
 *   later is sent beside the capped key;
 * - NOT above capit: ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL exported in the shell. Every
 *   settings `env` block is applied over the process environment (seen with both versions: a shell token and a shell
 *   base URL lost to settings.json; with ANTHROPIC_API_KEY="" in settings no `x-api-key` was sent). They are listed
 *   after the installed source so `capit doctor` can show them; the ANTHROPIC_API_KEY case gets a plan note.
 * The user file's base URL (which capit writes) comes after the installed key source so that a core which reads
 * `role` as a key would not count it as a shadow; among base-URL sources it is still in its real place.
 */
export function claudeKeySources(envInfo: AgentEnvironment, _platformId: string, detected?: ClaudeDetection): KeySource[] {
  const userSettings = claudeSettingsPath(envInfo);
  const version = detected?.version ?? null;
  const helperNeedsTrust = version !== null && atMost(version, PROJECT_HELPER_NEEDS_TRUST_UP_TO);
  const helperNote = (layer: string, project = false) => `${layer}; Claude ${version ?? `(newest)`} sends the helper's output to the gateway as x-api-key beside the capped key${project && helperNeedsTrust ? ` once you have trusted this project` : ``}`;
  const switches = providerSwitches(version);
  const layers = projectLayers(envInfo);
  return [
    ...layers.flatMap(({file, layer}) => switchSources(file, layer, switches)),
    ...switchSources(userSettings, `user settings`, switches),
    ...switches.map((name): KeySource => ({kind: `env`, name, truthy: true, note: SWITCH_NOTE,
      checked: name === `CLAUDE_CODE_USE_BEDROCK` ? `${SWITCH_CHECKED}; ${NATIVE} (=0 leaves the capped key in use)` : SWITCH_CHECKED})),
    {kind: `env`, name: `ANTHROPIC_CUSTOM_HEADERS`, note: HEADERS_NOTE, checked: HEADERS_CHECKED},
    ...layers.flatMap(({file, layer, project}): KeySource[] => [
      // Run: a local token over a project one (2.1.332), a project settings.json token (2.1.112, claude.test.ts).
      {kind: `file`, path: file, format: `json`, at: [`env`, `ANTHROPIC_AUTH_TOKEN`], note: layer,
        checked: !project ? SETTINGS_ORDER : file.endsWith(`local.json`) ? NATIVE : `binary: claude 2.1.112`},
      {kind: `file`, path: file, format: `json`, at: [`env`, `ANTHROPIC_BASE_URL`], role: `baseUrl`, note: `${layer}; the key would be sent to that URL`,
        checked: project && file.endsWith(`settings.json`) && !file.endsWith(`local.json`) ? NATIVE : SETTINGS_ORDER},
      {kind: `file`, path: file, format: `json`, at: [`env`, `ANTHROPIC_API_KEY`], note: `${layer}; Claude would also send that key to the gateway`, checked: SETTINGS_ORDER},
      {kind: `file`, path: file, format: `json`, at: [`apiKeyHelper`], note: helperNote(layer, project),
        checked: project && file.endsWith(`settings.json`) && !file.endsWith(`local.json`) ? BOTH : SETTINGS_ORDER},
    ]),
    {kind: `file`, path: userSettings, format: `json`, at: [`apiKeyHelper`], note: helperNote(`capit removed it at install`), checked: BOTH},
    {kind: `file`, path: userSettings, format: `json`, at: [`env`, `ANTHROPIC_AUTH_TOKEN`], installs: true, checked: BOTH},
    {kind: `file`, path: userSettings, format: `json`, at: [`env`, `ANTHROPIC_BASE_URL`], role: `baseUrl`, checked: BOTH},
    {kind: `env`, name: `ANTHROPIC_AUTH_TOKEN`, note: `settings.json env overrides the shell`, checked: NATIVE},
    {kind: `env`, name: `ANTHROPIC_API_KEY`, note: `blanked by ANTHROPIC_API_KEY="" in settings.json`, checked: BOTH},
    {kind: `env`, name: `ANTHROPIC_BASE_URL`, role: `baseUrl`, note: `settings.json env overrides the shell`, checked: NATIVE},
  ];
}

/**
 * `capit run -- claude …`: the recipe's three variables in the process environment. Claude Code applies the `env`
 * block of every settings layer (managed, project, user) over the process environment (research/agents.md §1, [C-run]
 * "a shell ANTHROPIC_BASE_URL lost to settings.json"; checked again with 2.1.112 in test/agents/run.test.ts), so any
 * settings file that sets one of them — capit's own install included — beats the session key: those are `beatenBy`,
 * and capit run refuses while one holds a value. The cloud-provider switches make Claude ignore the token altogether.
 * An `apiKeyHelper` in any layer also refuses: Claude would send its output beside the session key (see planClaude).
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
      ...layers.flatMap(file => switchSources(file, `settings`, providerSwitches(null))),
      ...providerSwitches(null).map((name): KeySource => ({kind: `env`, name, truthy: true, note: SWITCH_NOTE})),
      {kind: `env`, name: `ANTHROPIC_CUSTOM_HEADERS`, note: HEADERS_NOTE},
      ...layers.flatMap(file => [`ANTHROPIC_AUTH_TOKEN`, `ANTHROPIC_BASE_URL`, `ANTHROPIC_API_KEY`].map(name => ({
        kind: `file` as const, path: file, format: `json` as const, at: [`env`, name], note,
      }))),
      ...layers.map(file => ({
        kind: `file` as const, path: file, format: `json` as const, at: [`apiKeyHelper`],
        note: `Claude Code would send the helper's output to the gateway as x-api-key beside the session key`,
      })),
    ],
  };
}

const agent = {
  apiVersion: 1,
  kind: `agent`,
  id: `claude`,
  detect: detectClaude,
  files: claudeFiles,
  supports: platformId => SUPPORTED.has(platformId)
    ? true
    : `Claude Code only talks to Anthropic-compatible endpoints; capit knows one for ${[...SUPPORTED].join(` and `)}, not for "${platformId}"`,
  plan: (input, envInfo) => planClaude(input, envInfo),
  keySources: (envInfo, platformId, detected) => claudeKeySources(envInfo, platformId, detected),
  model: (envInfo, _detected, read) => claudeModel(envInfo, read),
  sessionEnv: claudeSessionEnv,
} satisfies AgentDefinition<ClaudeDetection>;

export default agent;
