import {coreDir}    from '../self.js';
import {capitPaths} from '../state/paths.js';
import type {Env}   from '../state/paths.js';
import {projectConfigSource} from './config.js';
import {builtinSource, discoverPlugins, envSource, globalSource, projectDependencySource} from './discover.js';
import type {Discovery, DiscoverySource} from './discover.js';

/** Where plugins come from, in the order of design §3.3; the first match per kind+id wins. */
export function discoverySources(env: Env): DiscoverySource[] {
  const core = coreDir();
  return [
    envSource,                          // 1. CAPIT_PLUGIN_PATH
    projectConfigSource,                // 2. `plugins: [...]` in the nearest project's capit config (cosmiconfig, lazy)
    projectDependencySource([core]),    // 3. capit-platform-* / capit-agent-* deps of the nearest project
    globalSource(capitPaths(env).data), // 4. `capit plugin add` (linked folders, then npm installs)
    builtinSource(core),                // 5. built-ins
  ];
}

/** Every plugin visible from `cwd`, from manifests only: no plugin code is imported here (design §3.2). */
export function discover(env: Env, cwd: string): Discovery {
  return discoverPlugins(discoverySources(env), env, cwd);
}
