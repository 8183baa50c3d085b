// The built-in plugins as core's package.json declares them: what `capit agents` and `capit plugin list` must show.
import fs   from 'node:fs';
import path from 'node:path';

const core = JSON.parse(fs.readFileSync(path.resolve(import.meta.dirname, `../../core/package.json`), `utf8`)) as {dependencies: Record<string, string>};
const ids = (kind: string) => Object.keys(core.dependencies).filter(n => n.startsWith(`capit-${kind}-`)).map(n => n.slice(`capit-${kind}-`.length)).sort();

export const BUILTIN_AGENT_IDS: readonly string[] = ids(`agent`);
export const BUILTIN_PLATFORM_IDS: readonly string[] = ids(`platform`);
