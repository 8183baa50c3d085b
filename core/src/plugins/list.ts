import type {DiscoveredPlugin, Discovery, PluginSource} from './discover.js';
import {loadPlugin}                                     from './load.js';

export interface PluginListEntry {
  kind: `platform` | `agent`;
  id: string;
  packageName: string;
  version: string;
  source: PluginSource;
  dir: string;
  via?: string;
  /** Set when another plugin with the same kind and id wins. */
  shadowedBy?: {packageName: string; version: string; source: PluginSource; dir: string};
}

export interface BrokenPlugin {
  source: PluginSource;
  dir: string;
  packageName?: string;
  message: string;
  via?: string;
  /** Set when the manifest was fine but the entry could not be loaded (missing, throws, does not match). */
  kind?: `platform` | `agent`;
  id?: string;
}

export interface PluginList {
  plugins: PluginListEntry[];
  broken: BrokenPlugin[];
}

const SOURCE_LABEL: Record<PluginSource, string> = {env: `env`, path: `path`, project: `project`, global: `global`, builtin: `built-in`};

function entry(plugin: DiscoveredPlugin): PluginListEntry {
  return {
    kind: plugin.manifest.kind,
    id: plugin.manifest.id,
    packageName: plugin.packageName,
    version: plugin.version,
    source: plugin.source,
    dir: plugin.dir,
    ...(plugin.via ? {via: plugin.via} : {}),
  };
}

/**
 * Every plugin with its status. With `loadFailures` (from {@link findLoadFailures}), a plugin whose entry cannot be
 * loaded is listed as broken with the reason instead of as active.
 */
export function listPlugins(discovery: Discovery, loadFailures: ReadonlyMap<DiscoveredPlugin, string> = new Map()): PluginList {
  const active = [...discovery.platforms, ...discovery.agents];
  const plugins = active.filter(p => !loadFailures.has(p)).map(entry);
  for (const {plugin, shadowedBy} of discovery.shadowed)
    plugins.push({...entry(plugin), shadowedBy: {packageName: shadowedBy.packageName, version: shadowedBy.version, source: shadowedBy.source, dir: shadowedBy.dir}});
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0); // not localeCompare: ICU start-up cost
  plugins.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.id, b.id) || Number(Boolean(a.shadowedBy)) - Number(Boolean(b.shadowedBy)));
  const broken: BrokenPlugin[] = discovery.diagnostics.map(d => ({...d}));
  for (const plugin of active) {
    const message = loadFailures.get(plugin);
    if (message === undefined) continue;
    broken.push({source: plugin.source, dir: plugin.dir, packageName: plugin.packageName, message, ...(plugin.via ? {via: plugin.via} : {}), kind: plugin.manifest.kind, id: plugin.manifest.id});
  }
  return {plugins, broken};
}

/**
 * Imports every active plugin's entry (in parallel) and returns why each one that fails could not be used: missing
 * entry, an entry that throws, a definition that does not match its manifest. Only `plugin list` pays for this;
 * every other command loads just the plugins it uses.
 */
export async function findLoadFailures(discovery: Discovery): Promise<Map<DiscoveredPlugin, string>> {
  const failures = new Map<DiscoveredPlugin, string>();
  await Promise.all([...discovery.platforms, ...discovery.agents].map(async plugin => {
    try {
      await loadPlugin(plugin);
    } catch (error) {
      // PluginError messages start with `[plugin:<id>] <package>@<version> (<dir>)`: the table already shows those.
      const message = error instanceof Error ? error.message : String(error);
      const prefix = `[plugin:${plugin.manifest.id}] ${plugin.packageName}@${plugin.version} (${plugin.dir})`;
      const reason = message.startsWith(prefix) ? message.slice(prefix.length).replace(/^:? /, ``) : message;
      failures.set(plugin, (reason.startsWith(`entry `) ? reason : `the entry ${reason}`).replace(/\s+/g, ` `).trim());
    }
  }));
  return failures;
}

export function formatPluginList(list: PluginList): string {
  const rows = [[`KIND`, `ID`, `VERSION`, `SOURCE`, `PACKAGE`, `STATUS`]];
  for (const p of list.plugins) {
    rows.push([p.kind, p.id, p.version, SOURCE_LABEL[p.source], p.packageName,
      p.shadowedBy ? `shadowed by ${p.shadowedBy.packageName} (${SOURCE_LABEL[p.shadowedBy.source]})` : `active`]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map(r => r[i]!.length)));
  let out = rows.map(r => r.map((cell, i) => i === r.length - 1 ? cell : cell.padEnd(widths[i]!)).join(`  `).trimEnd()).join(`\n`);
  out += `\n`;
  if (list.broken.length > 0) {
    out += `\nBroken plugins (skipped):\n`;
    for (const b of list.broken)
      out += `  ${b.packageName ?? `(unnamed)`} [${SOURCE_LABEL[b.source]}] ${b.dir}\n    ${b.message}\n`;
  }
  return out;
}
