// Project config (`plugins: [...]`) for discovery, design §3.3 step 2. cosmiconfig (and tsx for `.ts` configs) is
// loaded only when the project actually has a capit config file, so `capit --help` elsewhere pays nothing for it.
import fs                from 'node:fs';
import {createRequire}   from 'node:module';
import path              from 'node:path';

import type {Candidate, DiscoverySource} from './discover.js';
import {findPackageDir, findProjectDir}  from './discover.js';

const MODULE = `capit`;

/** cosmiconfig's sync search places, plus `capit.config.json` and the ESM/`.mts` spellings. */
export const CONFIG_SEARCH_PLACES = [
  `package.json`,
  `.${MODULE}rc`, `.${MODULE}rc.json`, `.${MODULE}rc.yaml`, `.${MODULE}rc.yml`,
  `.${MODULE}rc.js`, `.${MODULE}rc.ts`, `.${MODULE}rc.mts`, `.${MODULE}rc.cjs`, `.${MODULE}rc.mjs`,
  `.config/${MODULE}rc`, `.config/${MODULE}rc.json`, `.config/${MODULE}rc.yaml`, `.config/${MODULE}rc.yml`,
  `.config/${MODULE}rc.js`, `.config/${MODULE}rc.ts`, `.config/${MODULE}rc.mts`, `.config/${MODULE}rc.cjs`, `.config/${MODULE}rc.mjs`,
  `${MODULE}.config.json`, `${MODULE}.config.js`, `${MODULE}.config.ts`, `${MODULE}.config.mts`, `${MODULE}.config.cjs`, `${MODULE}.config.mjs`,
];

export interface ProjectConfig {
  filepath: string;
  plugins: string[];
}

const requireHere = createRequire(import.meta.url);

function unwrap(mod: unknown): unknown {
  let value = (mod as {default?: unknown})?.default ?? mod;
  if (value && typeof value === `object` && `default` in value && Object.keys(value).length === 1)
    value = (value as {default: unknown}).default;
  return typeof value === `function` ? (value as () => unknown)() : value;
}

/** Loads `.ts`/`.mts` configs through tsx's scoped require (never the TypeScript compiler API); tsx is required only now. */
export function loadTs(filepath: string): unknown {
  const tsx = requireHere(`tsx/cjs/api`) as {require: (id: string, from: string) => unknown};
  return unwrap(tsx.require(filepath, filepath));
}

/** JS configs, CommonJS or ESM: Node ≥ 20.19 can `require()` an ES module without top-level await. */
export function loadEsm(filepath: string): unknown {
  return unwrap(requireHere(filepath));
}

/**
 * Cheap check (existsSync only) from `cwd` up to the nearest project folder: is there anything to hand to cosmiconfig?
 * A package.json counts only when its `capit` field has `plugins` — a plugin's own package.json carries its manifest in
 * `capit`, which is not project config.
 */
export function hasProjectConfig(cwd: string): boolean {
  const projectDir = findProjectDir(cwd);
  for (let dir = path.resolve(cwd); ; dir = path.dirname(dir)) {
    for (const place of CONFIG_SEARCH_PLACES) {
      if (place === `package.json`) {
        if (packageJsonPlugins(path.join(dir, place)) !== undefined) return true;
      } else if (fs.existsSync(path.join(dir, place))) {
        return true;
      }
    }
    if (dir === projectDir || path.dirname(dir) === dir) return false;
  }
}

function packageJsonPlugins(file: string): unknown {
  try {
    const pkg = JSON.parse(fs.readFileSync(file, `utf8`)) as {capit?: {plugins?: unknown}};
    return pkg?.capit?.plugins;
  } catch {
    return undefined;
  }
}

/** The nearest project's capit config, or null. Throws with the file path when a config is unreadable or invalid. */
export function loadProjectConfig(cwd: string): ProjectConfig | null {
  if (!hasProjectConfig(cwd)) return null;
  const {cosmiconfigSync, defaultLoadersSync} = requireHere(`cosmiconfig`) as typeof import('cosmiconfig');
  const explorer = cosmiconfigSync(MODULE, {
    searchStrategy: `project`,
    searchPlaces: CONFIG_SEARCH_PLACES,
    // package.json#capit is a plugin's manifest in plugin packages; only `capit.plugins` is project config.
    packageProp: [MODULE, `plugins`],
    loaders: {...defaultLoadersSync, '.js': loadEsm, '.cjs': loadEsm, '.mjs': loadEsm, '.ts': loadTs, '.mts': loadTs},
    cache: false,
  });
  let result;
  try {
    result = explorer.search(cwd);
  } catch (error) {
    const file = (error as {filepath?: string}).filepath;
    throw new Error(`cannot load capit config${file ? ` ${file}` : ``}: ${(error as Error).message}`, {cause: error});
  }
  if (!result || result.isEmpty) return null;
  const config = path.basename(result.filepath) === `package.json` ? {plugins: result.config} : result.config as {plugins?: unknown};
  const plugins = config?.plugins ?? [];
  if (!Array.isArray(plugins) || plugins.some(p => typeof p !== `string`))
    throw new Error(`${result.filepath}: "plugins" must be an array of folder paths or package names`);
  return {filepath: result.filepath, plugins: plugins as string[]};
}

/** Local folders (or package names) listed in the project config's `plugins`, resolved against the config file. */
export const projectConfigSource: DiscoverySource = {
  source: `path`,
  folders(_env, cwd) {
    let config: ProjectConfig | null;
    try {
      config = loadProjectConfig(cwd);
    } catch (error) {
      return [{dir: cwd, problem: (error as Error).message}];
    }
    if (!config) return [];
    const base = path.dirname(config.filepath);
    const via = config.filepath;
    const out: Candidate[] = [];
    for (const entry of config.plugins) {
      const isPath = entry.startsWith(`.`) || path.isAbsolute(entry) || entry.includes(`\\`);
      if (!isPath) {
        const dir = findPackageDir(entry, base);
        out.push(dir ? {dir, via, source: `project`} : {dir: path.join(base, `node_modules`, entry), via, problem: `${entry} (listed in ${via}) is not installed`});
        continue;
      }
      const dir = path.resolve(base, entry);
      if (!fs.existsSync(dir)) {
        out.push({dir, via, problem: `plugin folder ${entry} (listed in ${via}) does not exist`});
        continue;
      }
      const isPlugin = fs.existsSync(path.join(dir, `package.json`));
      if (isPlugin) out.push({dir, via});
      else for (const child of fs.readdirSync(dir).sort()) {
        if (fs.existsSync(path.join(dir, child, `package.json`))) out.push({dir: path.join(dir, child), via});
      }
    }
    return out;
  },
};
