// `capit agents`: every agent plugin, whether it is installed here, where it keeps its key on this OS, and a status.
// Detection uses the manifest only; the config paths and the plugin's own status need `files()`, so those entries are
// imported, in parallel and isolated (a broken plugin shows its error, the rest still list). By default only agents
// that are detected or hold a capit key are imported — with hundreds of plugins installed, importing every one
// would dominate the command — `paths: 'all'` (`--all-paths`) resolves every agent, `paths: false` none.
import pLimit from 'p-limit';

import type {CapitContext}        from '../context.js';
import {describePluginError}      from './errors.js';
import {activeInstall, describeKey, environmentFor, readLedgerQuietly} from './install.js';
import type {CapitInstall}        from './install.js';
import {detectAgent, detectOnce, pathDirs} from './detect.js';
import type {AgentDefinition, AgentEnvironment} from '../plugin.js';
import type {DiscoveredPlugin}    from '../plugins/discover.js';
import {loadPlugin}               from '../plugins/load.js';
import {capitPaths}               from '../state/paths.js';

export type AgentsContext = Pick<CapitContext, `env` | `cwd` | `plugins`>;

export interface AgentInfo {
  id: string;
  name: string;
  description: string | null;
  packageName: string;
  version: string;
  source: DiscoveredPlugin[`source`];
  /** Platforms the manifest says it supports (`null` = not declared). */
  platforms: string[] | null;
  /** Per platform: the agent release seen sending the capped key (`null`: files only, no binary was run). */
  verified: Record<string, string | null> | null;
  /** Which of the agent's requests the cap covers, from the manifest. */
  covers: string | null;
  /** From the manifest's cheap checks (binary on PATH, paths that exist). */
  detected: boolean;
  detectedBy: string[];
  /** Files capit would write for this agent on this machine (`null` when not computed or the plugin failed). */
  configPaths: string[] | null;
  /** What capit installed last and has not restored. */
  installed: {keyName: string; keyId: string | null; platform: string; capUsd: number | null; installedAt: string; backupDir: string} | null;
  /** One line, e.g. "Cascade: no OpenRouter BYOK; extensions: kilo" or "capit openrouter key opencode-1a2b3c4d ($5.00 cap)". */
  status: string;
  /** The plugin's entry could not be loaded or `files()` threw. */
  error?: string;
}


export interface ListAgentsOptions {
  /** Which plugins to import for config paths and status: detected ones and those holding a capit key (default), all, or none. */
  paths?: `detected` | `all` | false;
  /** Only these agent ids. */
  only?: string[];
}

export async function listAgents(ctx: AgentsContext, opts: ListAgentsOptions = {}): Promise<AgentInfo[]> {
  const paths = opts.paths ?? `detected`;
  const stateDir = capitPaths(ctx.env).state;
  const ledger = await readLedgerQuietly(stateDir);
  const envInfo = environmentFor(ctx);
  const dirs = pathDirs(ctx.env);
  const limit = pLimit(16);
  const agents = ctx.plugins.agents.filter(p => !opts.only || opts.only.includes(p.manifest.id));

  return Promise.all(agents.map(plugin => limit(async (): Promise<AgentInfo> => {
    const {manifest} = plugin;
    const detection = detectAgent(manifest, ctx.env, dirs);
    let install: CapitInstall | null = null;
    try {
      install = await activeInstall(stateDir, manifest.id, ledger);
    } catch {}
    const info: AgentInfo = {
      id: manifest.id,
      name: manifest.displayName ?? manifest.id,
      description: manifest.description ?? null,
      packageName: plugin.packageName,
      version: plugin.version,
      source: plugin.source,
      platforms: manifest.platforms ? [...manifest.platforms] : null,
      verified: manifest.platforms ? Object.fromEntries(manifest.platforms.map(p => [p, manifest.verified?.[p] ?? null])) : null,
      covers: manifest.covers ?? null,
      detected: detection.detected,
      detectedBy: detection.evidence,
      configPaths: null,
      installed: install && {
        keyName: install.keyName, keyId: install.keyId, platform: install.platform, capUsd: install.capUsd,
        installedAt: install.installedAt, backupDir: install.backupDir,
      },
      status: ``,
    };
    const parts: string[] = [];
    if (paths === `all` || (paths === `detected` && (detection.detected || install !== null || opts.only !== undefined))) {
      try {
        const def = await loadPlugin(plugin);
        const detected = await detectOnce(def, envInfo);
        info.configPaths = def.files(envInfo, detected).map(f => f.path);
        if (typeof def.status === `function`) parts.push(def.status(envInfo, detected));
      } catch (error) {
        info.error = describePluginError(manifest.id, error);
      }
    }
    parts.push(install ? `capit ${describeKey(install)} installed` : `no capit key installed`);
    info.status = info.error ? `plugin failed to load` : parts.join(`; `);
    return info;
  })));
}
