import fs   from 'node:fs';
import path from 'node:path';

import type {Env}          from '../state/paths.js';
import {validateManifest}  from './manifest.js';
import type {Manifest}     from './manifest.js';

export type PluginSource = `env` | `project` | `global` | `builtin`;

export interface DiscoveredPlugin {
  manifest: Manifest;
  packageName: string;
  version: string;
  /** The package folder (real path). */
  dir: string;
  source: PluginSource;
}

export interface PluginDiagnostic {
  source: PluginSource;
  dir: string;
  packageName?: string;
  message: string;
}

export interface ShadowedPlugin {
  plugin: DiscoveredPlugin;
  shadowedBy: DiscoveredPlugin;
}

export interface Discovery {
  platforms: DiscoveredPlugin[];
  agents: DiscoveredPlugin[];
  shadowed: ShadowedPlugin[];
  diagnostics: PluginDiagnostic[];
}

/** A place plugins can come from, in discovery order. Project config and project deps plug in here (design §3.3). */
export interface DiscoverySource {
  source: PluginSource;
  /** Package folders to inspect, in priority order. */
  folders(env: Env, cwd: string): string[];
}

function readJson(file: string): unknown {
  return JSON.parse(fs.readFileSync(file, `utf8`));
}

function isPluginFolder(dir: string): boolean {
  try {
    const pkg = readJson(path.join(dir, `package.json`)) as {capit?: unknown};
    return typeof pkg === `object` && pkg !== null && `capit` in pkg;
  } catch {
    return false;
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
  for (const entry of entries.sort((a, b) => a.name.localeCompare(b.name))) {
    if (!entry.isDirectory() && !entry.isSymbolicLink()) continue;
    const child = path.join(dir, entry.name);
    if (entry.name.startsWith(`@`)) out.push(...childFolders(child));
    else out.push(child);
  }
  return out;
}

/** Finds `node_modules/<name>` walking up from `fromDir`, like Node's resolver but without importing anything. */
export function findPackageDir(name: string, fromDir: string): string | undefined {
  for (let dir = fromDir; ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, `node_modules`, name);
    if (fs.existsSync(path.join(candidate, `package.json`))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

const PLUGIN_DEP = /^(@[^/]+\/)?capit-(platform|agent)-/;

function pluginDependencies(packageJsonFile: string): string[] {
  try {
    const pkg = readJson(packageJsonFile) as {dependencies?: Record<string, string>};
    return Object.keys(pkg.dependencies ?? {}).filter(name => PLUGIN_DEP.test(name));
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
      const dir = path.resolve(entry);
      if (isPluginFolder(dir)) out.push(dir);
      else out.push(...childFolders(dir).filter(isPluginFolder));
    }
    return out;
  },
};

/** Plugins installed by `capit plugin add` into the global data dir, which has its own package.json. */
export function globalSource(dataDir: string): DiscoverySource {
  return {
    source: `global`,
    folders() {
      return pluginDependencies(path.join(dataDir, `package.json`))
        .map(name => path.join(dataDir, `node_modules`, name));
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

export function discoverPlugins(sources: DiscoverySource[], env: Env, cwd: string): Discovery {
  const result: Discovery = {platforms: [], agents: [], shadowed: [], diagnostics: []};
  const winners = new Map<string, DiscoveredPlugin>();
  const seenDirs = new Set<string>();

  for (const {source, folders} of sources) {
    for (const folder of folders(env, cwd)) {
      let dir = folder;
      try {
        dir = fs.realpathSync(folder);
      } catch {}
      if (seenDirs.has(dir)) continue;
      seenDirs.add(dir);

      let pkg: {name?: unknown; version?: unknown; capit?: unknown};
      try {
        pkg = readJson(path.join(dir, `package.json`)) as typeof pkg;
      } catch (error) {
        result.diagnostics.push({source, dir, message: `cannot read package.json: ${(error as Error).message}`});
        continue;
      }
      const packageName = typeof pkg.name === `string` ? pkg.name : undefined;
      const validation = validateManifest(pkg.name, pkg.capit);
      if (`errors` in validation) {
        result.diagnostics.push({source, dir, packageName, message: `invalid manifest: ${validation.errors.join(`; `)}`});
        continue;
      }
      const plugin: DiscoveredPlugin = {
        manifest: validation.manifest,
        packageName: packageName!,
        version: typeof pkg.version === `string` ? pkg.version : `0.0.0`,
        dir,
        source,
      };
      const key = `${plugin.manifest.kind}:${plugin.manifest.id}`;
      const winner = winners.get(key);
      if (winner) {
        result.shadowed.push({plugin, shadowedBy: winner});
        continue;
      }
      winners.set(key, plugin);
      (plugin.manifest.kind === `platform` ? result.platforms : result.agents).push(plugin);
    }
  }
  return result;
}
