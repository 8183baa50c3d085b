import type {DiscoveredPlugin, Discovery, PluginSource} from './discover.js';

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

export interface PluginList {
  plugins: PluginListEntry[];
  broken: {source: PluginSource; dir: string; packageName?: string; message: string; via?: string}[];
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

export function listPlugins(discovery: Discovery): PluginList {
  const plugins = [...discovery.platforms, ...discovery.agents].map(entry);
  for (const {plugin, shadowedBy} of discovery.shadowed)
    plugins.push({...entry(plugin), shadowedBy: {packageName: shadowedBy.packageName, version: shadowedBy.version, source: shadowedBy.source, dir: shadowedBy.dir}});
  const cmp = (x: string, y: string) => (x < y ? -1 : x > y ? 1 : 0); // not localeCompare: ICU start-up cost
  plugins.sort((a, b) => cmp(a.kind, b.kind) || cmp(a.id, b.id) || Number(Boolean(a.shadowedBy)) - Number(Boolean(b.shadowedBy)));
  return {plugins, broken: discovery.diagnostics.map(d => ({...d}))};
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
