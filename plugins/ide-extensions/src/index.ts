// Shared logic for the IDE agents (cursor, windsurf). Neither IDE's own chat can be given a capped OpenRouter key
// that capit may write (Cursor: encrypted store + traffic through Cursor's servers; Windsurf: Anthropic-only BYOK),
// so the honest automatic route is the extensions that call OpenRouter from the user's machine and read files capit
// can write: Kilo Code, Cline, Zoo Code and Roo Code (research/ide-agents.md §2, §4).
//
// Kilo and Cline are configured by the very same code as `--agent kilo` / `--agent cline` (their plugins export
// their files/plan/keySources); Zoo/Roo get an import file plus `*.autoImportSettingsPath` in the IDE's settings.json.
//
// Detection is a read-only listing of `~/.cursor/extensions` (or `~/.windsurf/extensions`): the agent's `detect()`
// step. Core calls it once per run and hands the result to `files()`, `plan()`, `keySources()` and `status()`, so
// `plan()` stays pure and the preview and the real plan agree even if an extension is installed in between.
import fs   from 'node:fs';
import path from 'node:path';

import type {AgentDefinition, AgentEnvironment, AgentFile, AgentPlan, FileEdit, KeySource, PlanInput} from 'capit/plugin';
import {CLINE_CLI_FLAVOUR, clineFiles, clineKeySources, clineSupports, planCline} from 'capit-agent-cline';
import {kiloFiles, kiloKeySources, kiloSupports, planKilo}                    from 'capit-agent-kilo';

export type ExtensionId = `kilo` | `cline` | `zoo` | `roo`;

export interface ExtensionSpec {
  id: ExtensionId;
  displayName: string;
  /** `<publisher>.<name>` as in the extension folder name, lower case. */
  extensionId: string;
  /** The VS Code setting naming an auto-import file (Zoo/Roo only). */
  autoImportSetting?: string;
}

export const EXTENSIONS: readonly ExtensionSpec[] = [
  {id: `kilo`, displayName: `Kilo Code`, extensionId: `kilocode.kilo-code`},
  {id: `cline`, displayName: `Cline`, extensionId: `saoudrizwan.claude-dev`},
  {id: `zoo`, displayName: `Zoo Code`, extensionId: `zoocodeorganization.zoo-code`, autoImportSetting: `zoo-code.autoImportSettingsPath`},
  {id: `roo`, displayName: `Roo Code`, extensionId: `rooveterinaryinc.roo-cline`, autoImportSetting: `roo-cline.autoImportSettingsPath`},
];

export interface IdeSpec {
  id: `cursor` | `windsurf`;
  displayName: string;
  /** `~/<dotDir>/extensions` holds the installed extensions. */
  dotDir: string;
  /** The application folder holding `User/settings.json` (`Cursor`, `Windsurf`). */
  appDir: string;
}

export const CURSOR: IdeSpec = {id: `cursor`, displayName: `Cursor`, dotDir: `.cursor`, appDir: `Cursor`};
export const WINDSURF: IdeSpec = {id: `windsurf`, displayName: `Windsurf`, dotDir: `.windsurf`, appDir: `Windsurf`};

export interface DetectedExtension {
  spec: ExtensionSpec;
  /** The folder name, e.g. `kilocode.kilo-code-7.2.1-linux-x64`. */
  folder: string;
  version: string;
}

/** The Roo/Zoo profile capit imports: a stable id, so a mode switch and a re-import keep pointing at it. */
export const ROO_PROFILE_NAME = `capit`;
export const ROO_PROFILE_ID = `capit-openrouter`;
/** Every built-in Roo/Zoo mode, each mapped to the capit profile (otherwise a mode switch brings back the old one). */
export const ROO_MODES = [`code`, `architect`, `ask`, `debug`, `orchestrator`] as const;
export const DEFAULT_MODEL = `anthropic/claude-sonnet-4.5`;
const OPENROUTER_DEFAULT_BASE = `https://openrouter.ai/api/v1`;

const ROO_IMPORT_FILE = `roo-import`;

function pathFor(platform: NodeJS.Platform): path.PlatformPath {
  return platform === `win32` ? path.win32 : path.posix;
}

// ---------------------------------------------------------------------------------------------------------------
// Paths

/** `~/.cursor/extensions` / `~/.windsurf/extensions` (`%USERPROFILE%\.cursor\extensions` on Windows). */
export function extensionsDir(ide: IdeSpec, {home, platform}: AgentEnvironment): string {
  return pathFor(platform).join(home, ide.dotDir, `extensions`);
}

/** The IDE's `User` folder: Linux `$XDG_CONFIG_HOME|~/.config/<App>/User`, macOS `~/Library/Application Support/<App>/User`, Windows `%APPDATA%\<App>\User`. */
export function ideUserDir(ide: IdeSpec, {env, home, platform}: AgentEnvironment): string {
  if (platform === `win32`) return path.win32.join(env.APPDATA || path.win32.join(home, `AppData`, `Roaming`), ide.appDir, `User`);
  if (platform === `darwin`) return path.posix.join(home, `Library`, `Application Support`, ide.appDir, `User`);
  return path.posix.join(env.XDG_CONFIG_HOME || path.posix.join(home, `.config`), ide.appDir, `User`);
}

export function ideSettingsPath(ide: IdeSpec, envInfo: AgentEnvironment): string {
  return pathFor(envInfo.platform).join(ideUserDir(ide, envInfo), `settings.json`);
}

/** `$XDG_CONFIG_HOME|~/.config/capit/roo-import.json`: one import file, shared by every IDE that has Zoo/Roo. */
export function rooImportPath({env, home, platform}: AgentEnvironment): string {
  const p = pathFor(platform);
  return p.join(env.XDG_CONFIG_HOME || p.join(home, `.config`), `capit`, `roo-import.json`);
}

// ---------------------------------------------------------------------------------------------------------------
// Detection

/** Parses `<publisher>.<name>-<version>[-<target>]` against the known extensions, case-insensitively. */
export function matchExtensionFolder(folder: string): DetectedExtension | undefined {
  const lower = folder.toLowerCase();
  for (const spec of EXTENSIONS) {
    if (!lower.startsWith(`${spec.extensionId}-`)) continue;
    const version = /^(\d+(?:\.\d+)*)/.exec(lower.slice(spec.extensionId.length + 1))?.[1];
    if (version) return {spec, folder, version};
  }
  return undefined;
}

function obsoleteFolders(dir: string): Set<string> {
  // VS Code and its forks list uninstalled-but-not-yet-deleted extension folders in `.obsolete`.
  try {
    const parsed = JSON.parse(fs.readFileSync(path.join(dir, `.obsolete`), `utf8`)) as unknown;
    if (parsed && typeof parsed === `object`)
      return new Set(Object.entries(parsed).filter(([, v]) => v === true).map(([k]) => k.toLowerCase()));
  } catch {}
  return new Set();
}

/** Lists the IDE's extension folder (read-only) and returns the known extensions found, one per kind (newest version). */
export function scanExtensions(ide: IdeSpec, envInfo: AgentEnvironment): DetectedExtension[] {
  const dir = extensionsDir(ide, envInfo);
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, {withFileTypes: true});
  } catch {
    return [];
  }
  const obsolete = obsoleteFolders(dir);
  const found = new Map<ExtensionId, DetectedExtension>();
  for (const entry of entries) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    if (obsolete.has(entry.name.toLowerCase())) continue;
    const match = matchExtensionFolder(entry.name);
    if (!match) continue;
    const seen = found.get(match.spec.id);
    if (!seen || compareVersions(match.version, seen.version) > 0) found.set(match.spec.id, match);
  }
  return EXTENSIONS.flatMap(spec => found.get(spec.id) ?? []);
}

function compareVersions(a: string, b: string): number {
  const pa = a.split(`.`).map(Number);
  const pb = b.split(`.`).map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------------------------
// The agent pieces

const has = (found: readonly DetectedExtension[], id: ExtensionId) => found.some(e => e.spec.id === id);
const rooLike = (found: readonly DetectedExtension[]) => found.filter(e => e.spec.autoImportSetting);

/**
 * Whether capit can set up this extension for `platformId`: Kilo and Cline as their own plugins say (Cline has an
 * `aihubmix` provider), Zoo/Roo only for OpenRouter (capit's import profile is an OpenRouter one).
 */
export function extensionSupports(ext: ExtensionId, platformId: string): boolean {
  if (ext === `kilo`) return kiloSupports(platformId) === true;
  if (ext === `cline`) return clineSupports(platformId) === true;
  return platformId === `openrouter`;
}

/** The platforms at least one extension can use (what an IDE agent's `supports` accepts). */
const IDE_PLATFORMS = [`openrouter`, `aihubmix`];

function settingsFileId(ide: IdeSpec): string {
  return `${ide.id}-settings`;
}

/** The files to edit for the extensions `found` by {@link scanExtensions}. */
export function ideFiles(ide: IdeSpec, envInfo: AgentEnvironment, found: readonly DetectedExtension[]): AgentFile[] {
  const files: AgentFile[] = [];
  if (has(found, `kilo`)) files.push(...kiloFiles(envInfo));
  if (has(found, `cline`)) files.push(...clineFiles(envInfo));
  if (rooLike(found).length > 0) {
    files.push({id: ROO_IMPORT_FILE, path: rooImportPath(envInfo), format: `json`, secret: true});
    // settings.json is JSONC (comments, trailing commas): the editor keeps them.
    files.push({id: settingsFileId(ide), path: ideSettingsPath(ide, envInfo), format: `jsonc`, secret: false});
  }
  return files;
}

/** The Roo/Zoo import document (research/ide-agents.md §2.1). */
export function rooProviderProfiles(input: Pick<PlanInput, `platform` | `secret`>): Record<string, unknown> {
  const baseUrl = input.platform.inferenceBaseUrls.openai.replace(/\/+$/, ``);
  return {
    currentApiConfigName: ROO_PROFILE_NAME,
    apiConfigs: {
      [ROO_PROFILE_NAME]: {
        id: ROO_PROFILE_ID,
        apiProvider: `openrouter`,
        openRouterApiKey: input.secret,
        openRouterModelId: DEFAULT_MODEL,
        // Only when overridden (a proxy, the test emulator): Roo shows a set base URL as a custom one.
        ...(baseUrl === OPENROUTER_DEFAULT_BASE ? {} : {openRouterBaseUrl: baseUrl}),
      },
    },
    modeApiConfigs: Object.fromEntries(ROO_MODES.map(mode => [mode, ROO_PROFILE_ID])),
  };
}

export interface IdePlan extends AgentPlan {
  edits: FileEdit[];
  notes: string[];
  configured: DetectedExtension[];
}

function home(envInfo: AgentEnvironment, p: string): string {
  const sep = envInfo.platform === `win32` ? `\\` : `/`;
  return p === envInfo.home ? `~` : p.startsWith(envInfo.home + sep) ? `~${p.slice(envInfo.home.length)}` : p;
}

function majorOf(version: string): number {
  return Number(version.split(`.`)[0]);
}

/** Edits and notes for every extension `found`; empty edits when none was found. Pure. */
export function planIde(ide: IdeSpec, input: PlanInput, envInfo: AgentEnvironment, found: readonly DetectedExtension[]): IdePlan {
  const edits: FileEdit[] = [];
  const notes: string[] = [];
  const unsupported = found.filter(e => !extensionSupports(e.spec.id, input.platform.id));
  if (unsupported.length > 0)
    notes.push(`Not configured for ${input.platform.displayName}: ${unsupported.map(e => e.spec.displayName).join(`, `)} (capit sets ${unsupported.length === 1 ? `it` : `them`} up for OpenRouter only).`);
  found = found.filter(e => extensionSupports(e.spec.id, input.platform.id));
  for (const ext of found) {
    if (ext.spec.id === `kilo`) {
      const plan = planKilo(input);
      edits.push(...plan.edits);
      notes.push(...(plan.notes ?? []));
      if (majorOf(ext.version) < 7)
        notes.push(`Kilo Code ${ext.version} is older than 7 and keeps its key in ${ide.displayName}'s secret storage, not in kilo's auth.json: update Kilo Code to use the capped key.`);
    } else if (ext.spec.id === `cline`) {
      const plan = planCline(input);
      edits.push(...plan.edits);
      notes.push(...(plan.notes ?? []));
      if (majorOf(ext.version) < 4)
        notes.push(`Cline ${ext.version} may predate its file-based settings (4.0): if it still asks for a key, update Cline.`);
    }
  }
  const roo = rooLike(found);
  if (roo.length > 0) {
    edits.push({file: ROO_IMPORT_FILE, op: `set`, path: [`providerProfiles`], value: rooProviderProfiles(input)});
    for (const ext of roo)
      edits.push({file: settingsFileId(ide), op: `set`, path: [ext.spec.autoImportSetting!], value: rooImportPath(envInfo)});
    const names = roo.map(e => e.spec.displayName).join(` and `);
    notes.push(`Restart ${ide.displayName} (or run "Developer: Reload Window"): ${names} imports ${home(envInfo, rooImportPath(envInfo))} on every start and uses the profile "${ROO_PROFILE_NAME}" (${DEFAULT_MODEL}) for every mode. Deleting that file later does not remove the imported profile.`);
  }
  return {edits, notes, configured: [...found]};
}

export function configuredLine(ide: IdeSpec, configured: DetectedExtension[]): string {
  return `Configured inside ${ide.displayName}: ${configured.map(e => `${e.spec.displayName} ${e.version}`).join(`, `)}.`;
}

export function noExtensionLines(ide: IdeSpec, envInfo: AgentEnvironment, platformId: string): string[] {
  return [
    `No Kilo Code, Cline, Zoo Code or Roo Code extension was found in ${home(envInfo, extensionsDir(ide, envInfo))}, so capit has nothing to write for ${ide.displayName}.`,
    `For a fully capped agent inside ${ide.displayName}, install Kilo Code or Cline from the Extensions panel (Open VSX) and rerun: capit ${platformId} 5 --agent ${ide.id} (or --agent kilo / --agent cline).`,
  ];
}

/**
 * Where each configured extension reads its key, merged: every extension's higher-precedence sources first, then the
 * ones capit writes (`installs`), then the lower ones — so anything listed before the first `installs` source
 * shadows one of the capped keys — and last the extensions' selectors (e.g. Cline's `actModeApiProvider`). Notes name
 * the extension.
 */
export function ideKeySources(ide: IdeSpec, envInfo: AgentEnvironment, platformId: string, found: readonly DetectedExtension[]): KeySource[] {
  found = found.filter(e => extensionSupports(e.spec.id, platformId));
  const groups: {name: string; sources: KeySource[]}[] = [];
  if (has(found, `kilo`)) groups.push({name: `Kilo Code`, sources: kiloKeySources(envInfo, platformId)});
  // Inside the IDE only the extension runs: the Cline CLI's own order (providers.json first) is not this agent's.
  if (has(found, `cline`)) groups.push({name: `Cline`, sources: clineKeySources(envInfo, platformId).filter(s => s.flavour !== CLINE_CLI_FLAVOUR)});
  const roo = rooLike(found);
  if (roo.length > 0)
    groups.push({name: roo.map(e => e.spec.displayName).join(`/`), sources: [{
      kind: `file`, path: rooImportPath(envInfo), format: `json`,
      at: [`providerProfiles`, `apiConfigs`, ROO_PROFILE_NAME, `openRouterApiKey`], installs: true,
      note: `imported into the extension's secret storage at every ${ide.displayName} start`,
      checked: `source: src/core/config/importExport.ts@cb836567 (Roo Code 3.52.1)`,
    }]});
  const above: KeySource[] = [];
  const installs: KeySource[] = [];
  const below: KeySource[] = [];
  // Selectors (the setting that picks capit's provider) are their own chain, not ranked against keys: kept last.
  const selectors: KeySource[] = [];
  for (const {name, sources} of groups) {
    const keys = sources.filter(s => s.role !== `selector`);
    const at = keys.findIndex(s => s.installs);
    const named = (source: KeySource): KeySource => ({...source, note: source.note ? `${name}: ${source.note}` : name});
    keys.forEach((source, i) => (at === -1 || i < at ? above : i === at || source.installs ? installs : below).push(named(source)));
    selectors.push(...sources.filter(s => s.role === `selector`).map(named));
  }
  return [...above, ...installs, ...below, ...selectors];
}

/** One line for `capit agents`, e.g. "Cascade: no OpenRouter BYOK; extensions: kilo". */
export function extensionsStatus(found: readonly DetectedExtension[]): string {
  return `extensions: ${found.length > 0 ? found.map(e => e.spec.id).join(`, `) : `none found`}`;
}

export interface IdeAgentOptions {
  ide: IdeSpec;
  /** Lines about the IDE's own agent, given what was configured (empty = nothing was found). */
  ownAgentNotes(input: PlanInput, configured: DetectedExtension[]): string[];
  /** Short status of the IDE's own agent for `capit agents`. */
  ownAgentStatus: string;
}

/** The members `ideAgent` gives an IDE agent: everything but its identity, with `detect` and `status` always present. */
export type IdeAgentParts = Omit<AgentDefinition<DetectedExtension[]>, `kind` | `apiVersion` | `id` | `detect` | `status`> & {
  detect(envInfo: AgentEnvironment): DetectedExtension[];
  status(envInfo: AgentEnvironment, found: DetectedExtension[]): string;
};

/**
 * An IDE agent definition's parts, spread into the plugin's object: `detect` lists the IDE's extensions once per run
 * and core hands that list to the other members.
 */
export function ideAgent(opts: IdeAgentOptions): IdeAgentParts {
  const {ide} = opts;
  return {
    detect: envInfo => scanExtensions(ide, envInfo),
    files: (envInfo, found) => ideFiles(ide, envInfo, found),
    // AIHubMix: through Cline's own aihubmix provider (and Kilo's, when its plugin supports it); plan() says which
    // extensions it left alone.
    supports: platformId => IDE_PLATFORMS.includes(platformId)
      ? true
      : `the extensions capit configures inside ${ide.displayName} (Kilo Code, Cline, Zoo/Roo Code) are set up for OpenRouter and AIHubMix only`,
    plan: (input, envInfo, found) => {
      const plan = planIde(ide, input, envInfo, found);
      const notes = plan.configured.length > 0
        ? [configuredLine(ide, plan.configured), ...plan.notes, ...opts.ownAgentNotes(input, plan.configured)]
        : found.length > 0
          // Extensions were found, but none that capit can set up for this platform (plan's note names them).
          ? [...opts.ownAgentNotes(input, plan.configured), ...plan.notes,
            `For a capped agent inside ${ide.displayName} on ${input.platform.displayName}, install Cline from the Extensions panel (Open VSX) and rerun: capit ${input.platform.id} 5 --agent ${ide.id}`]
          : [...opts.ownAgentNotes(input, plan.configured), ...noExtensionLines(ide, envInfo, input.platform.id)];
      return {edits: plan.edits, notes};
    },
    keySources: (envInfo, platformId, found) => ideKeySources(ide, envInfo, platformId, found),
    status: (_envInfo, found) => `${opts.ownAgentStatus}; ${extensionsStatus(found)}`,
  };
}
