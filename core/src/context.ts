import type {BaseContext} from 'clipanion';

import type {DiscoveredAgent, DiscoveredPlatform, Discovery} from './plugins/discover.js';
import type {Env}                         from './state/paths.js';

export interface CapitContext extends BaseContext {
  env: Env;
  cwd: string;
  plugins: Discovery;
  /** True only when both stdin and stderr are terminals: prompts are allowed. */
  interactive: boolean;
}

export function findPlatform(plugins: Discovery, id: string): DiscoveredPlatform | undefined {
  return plugins.platforms.find(p => p.manifest.id === id);
}

export function findAgent(plugins: Discovery, id: string): DiscoveredAgent | undefined {
  return plugins.agents.find(p => p.manifest.id === id);
}
