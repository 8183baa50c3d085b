import fs   from 'node:fs';
import path from 'node:path';

import type {Env}          from '../state/paths.js';
import {validateManifest}  from './manifest.js';
import type {AgentManifest, Manifest, PlatformManifest} from './manifest.js';

/**
 * Where a plugin came from: `env` (CAPIT_PLUGIN_PATH), `path` (a local folder named in the project config or
 * linked with `capit plugin add ./dir`), `project` (a dependency of the nearest project), `global` (installed by
 * `capit plugin add`), `builtin` (a dependency of capit itself).
 */
export type PluginSource = `env` | `path` | `project` | `global` | `builtin`;

export interface DiscoveredPlugin<M extends Manifest = Manifest> {
  manifest: M;
  packageName: string;
  version: string;
  /** The package folder (real path). */
  dir: string;
  source: PluginSource;
  /** What named it, e.g. the config file or `linked by capit plugin add`. */
  via?: string;
}

export interface PluginDiagnostic {
  source: PluginSource;
  dir: string;
  packageName?: string;
  message: string;
  via?: string;
}

export interface ShadowedPlugin {
  plugin: DiscoveredPlugin;
  shadowedBy: DiscoveredPlugin;
}

export type DiscoveredPlatform = DiscoveredPlugin<PlatformManifest>;
export type DiscoveredAgent = DiscoveredPlugin<AgentManifest>;

/** Discovery typed per kind: `platforms` hold platform manifests, `agents` agent manifests. */
export interface Discovery {
  platforms: DiscoveredPlatform[];
  agents: DiscoveredAgent[];
  shadowed: ShadowedPlugin[];
  diagnostics: PluginDiagnostic[];
}

/** One folder a source offers; `source` overrides the source's own label (a linked folder in the global dir is `path`). */
export interface Candidate {
  dir: string;
  source?: PluginSource;
  via?: string;
  /** Set when the source already knows the folder is unusable (e.g. a linked folder that was deleted). */
  problem?: string;
}

/** A place plugins can come from, in discovery order (design §3.3). */
export interface DiscoverySource {
  source: PluginSource;
  /** Package folders to inspect, in priority order. Must not import plugin code. */
  folders(env: Env, cwd: string): (string | Candidate)[];
}

// Each package.json is read once per discovery run (checking a folder and inspecting it would read it twice).
let runCache: Map<string, unknown> | undefined;

function readJson(file: string): unknown {
  if (runCache?.has(file)) return runCache.get(file);
  const value = JSON.parse(fs.readFileSync(file, `utf8`)) as unknown;
  runCache?.set(file, value);
  return value;
}

function isPluginFolder(dir: string): boolean {
  try {
    const pkg = readJson(path.join(dir, `package.json`)) as {capit?: unknown};
    return typeof pkg === `object` && pkg !== null && `capit` in pkg;
  } catch (error) {
    // A package.json that does not parse may well be a plugin someone is writing: offer it, so it is listed as broken
    // with the parse error instead of vanishing. A folder without one is simply not a package.
    return error instanceof SyntaxError;
  }
}

function childFolders(dir: string): string[] {
  let entries: fs.Dirent[];
  try {
    entries = fs.readdirSync(dir, {withFileTypes: true});
  } catch {
    return [];
  }
  const out: string[] = [];
  // Plain code-unit order: localeCompare would initialise ICU collation, which alone costs more than node's start-up.
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const child = path.join(dir, entry.name);
    if (entry.name.startsWith(`@`)) out.push(...childFolders(child));
    else out.push(child);
  }
  return out;
}

/** A plugin folder itself, or the plugin folders inside it (one level, plus `@scope/` folders). */
function pluginFoldersAt(dir: string): string[] {
  return isPluginFolder(dir) ? [dir] : childFolders(dir).filter(isPluginFolder);
}

/** Finds `node_modules/<name>` walking up from `fromDir`, like Node's resolver but without importing anything. */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, `node_modules`, name);
    if (fs.existsSync(path.join(candidate, `package.json`))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

export const PLUGIN_DEP = /^(@[^/]+\/)?capit-(platform|agent)-/;

function pluginDependencies(packageJsonFile: string, {dev = false} = {}): string[] {
  try {
    const pkg = readJson(packageJsonFile) as {dependencies?: Record<string, string>; devDependencies?: Record<string, string>};
    const names = Object.keys({...pkg.dependencies, ...(dev ? pkg.devDependencies : {})});
    return names.filter(name => PLUGIN_DEP.test(name));
  } catch {
    return [];
  }
}

export const envSource: DiscoverySource = {
  source: `env`,
  folders(env) {
    const out: string[] = [];
    for (const entry of (env.CAPIT_PLUGIN_PATH ?? ``).split(path.delimiter)) {
      if (!entry) continue;
      out.push(...pluginFoldersAt(path.resolve(entry)));
    }
    return out;
  },
};

/** The nearest project: the first folder from `cwd` upwards holding a package.json (cosmiconfig's `project` strategy). */
export function findProjectDir(cwd: string): string | undefined {
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    if (fs.existsSync(path.join(dir, `package.json`))) return dir;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** `capit-platform-*` / `capit-agent-*` in the nearest project's dependencies and devDependencies. */
export function projectDependencySource(skipDirs: string[] = []): DiscoverySource {
  return {
    source: `project`,
    folders(_env, cwd) {
      const projectDir = findProjectDir(cwd);
      if (!projectDir || skipDirs.some(dir => path.resolve(dir) === projectDir)) return [];
      const via = path.join(projectDir, `package.json`);
      // A dependency that is not installed (yet) is not a broken plugin: it is simply not there.
      return pluginDependencies(via, {dev: true})
        .map(name => findPackageDir(name, projectDir))
        .filter((dir): dir is string => dir !== undefined)
        .map(dir => ({dir, via}));
    },
  };
}

/** The global plugin dir's package.json: npm dependencies plus folders linked by `capit plugin add ./dir`. */
export interface GlobalManifest {
  dependencies?: Record<string, string>;
  capit?: {links?: string[]};
  [key: string]: unknown;
}

export function readGlobalManifest(dataDir: string): GlobalManifest {
  try {
    return readJson(path.join(dataDir, `package.json`)) as GlobalManifest;
  } catch {
    return {};
  }
}

/** Plugins in the global data dir: linked folders first (they are the user's work in progress), then npm installs. */
export function globalSource(dataDir: string): DiscoverySource {
  return {
    source: `global`,
    folders() {
      const manifest = readGlobalManifest(dataDir);
      const links: Candidate[] = (manifest.capit?.links ?? []).map(dir => fs.existsSync(path.join(dir, `package.json`))
        ? {dir, source: `path`, via: `linked by capit plugin add`}
        : {dir, source: `path`, via: `linked by capit plugin add`, problem: `linked folder ${dir} has no package.json (moved or deleted? run capit plugin remove ${dir})`});
      const installed = Object.keys(manifest.dependencies ?? {}).filter(name => PLUGIN_DEP.test(name))
        .map(name => path.join(dataDir, `node_modules`, name));
      return [...links, ...installed];
    },
  };
}

/** Built-ins are the plugin dependencies of capit itself, found like any other package. */
export function builtinSource(coreDir: string): DiscoverySource {
  return {
    source: `builtin`,
    folders() {
      return pluginDependencies(path.join(coreDir, `package.json`))
        .map(name => findPackageDir(name, coreDir))
        .filter((dir): dir is string => dir !== undefined);
    },
  };
}

/** Reads one folder's manifest; never imports code. */
export function inspectFolder(dir: string): {manifest: Manifest; packageName: string; version: string} | {packageName?: string; message: string} {
  let pkg: {name?: unknown; version?: unknown; capit?: unknown};
  try {
    pkg = readJson(path.join(dir, `package.json`)) as typeof pkg;
  } catch (error) {
    if (error instanceof SyntaxError) return {message: `package.json is not valid JSON (${error.message})`};
    return {message: `cannot read package.json: ${(error as Error).message}`};
  }
  if (typeof pkg !== `object` || pkg === null || Array.isArray(pkg)) return {message: `package.json is not a JSON object`};
  const packageName = typeof pkg.name === `string` ? pkg.name : undefined;
  const validation = validateManifest(pkg.name, pkg.capit);
  if (`errors` in validation) return {packageName, message: `invalid manifest: ${validation.errors.join(`; `)}`};
  return {manifest: validation.manifest, packageName: packageName!, version: typeof pkg.version === `string` ? pkg.version : `0.0.0`};
}

export function isPlatform(plugin: DiscoveredPlugin): plugin is DiscoveredPlatform {
  return plugin.manifest.kind === `platform`;
}

export function discoverPlugins(sources: DiscoverySource[], env: Env, cwd: string): Discovery {
  runCache = new Map();
  try {
    return discoverAll(sources, env, cwd);
  } finally {
    runCache = undefined;
  }
}

function discoverAll(sources: DiscoverySource[], env: Env, cwd: string): Discovery {
  const result: Discovery = {platforms: [], agents: [], shadowed: [], diagnostics: []};
  const winners = new Map<string, DiscoveredPlugin>();
  const seenDirs = new Set<string>();

  for (const {source: sourceName, folders} of sources) {
    for (const offered of folders(env, cwd)) {
      const candidate: Candidate = typeof offered === `string` ? {dir: offered} : offered;
      const source = candidate.source ?? sourceName;
      const via = candidate.via;
      if (candidate.problem) {
        result.diagnostics.push({source, dir: candidate.dir, message: candidate.problem, ...(via ? {via} : {})});
        continue;
      }
      let dir = candidate.dir;
      try {
        dir = fs.realpathSync(candidate.dir);
      } catch {}
      if (seenDirs.has(dir)) continue;
      seenDirs.add(dir);

      const inspected = inspectFolder(dir);
      if (!(`manifest` in inspected)) {
        result.diagnostics.push({source, dir, packageName: inspected.packageName, message: inspected.message, ...(via ? {via} : {})});
        continue;
      }
      const plugin: DiscoveredPlugin = {...inspected, dir, source, ...(via ? {via} : {})};
      const key = `${plugin.manifest.kind}:${plugin.manifest.id}`;
      const winner = winners.get(key);
      if (winner) {
        result.shadowed.push({plugin, shadowedBy: winner});
        continue;
      }
      winners.set(key, plugin);
      if (isPlatform(plugin)) result.platforms.push(plugin);
      else result.agents.push(plugin as DiscoveredAgent);
    }
  }
  return result;
}
