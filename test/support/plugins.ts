import fs   from 'node:fs';
import path from 'node:path';

/** Writes a plugin package folder: package.json (with `capit` manifest) and optionally its entry file. */
export function writePlugin(root: string, folder: string, pkg: Record<string, unknown>, entry?: {file: string; source: string}): string {
  const dir = path.join(root, folder);
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, `package.json`), JSON.stringify({type: `module`, version: `1.0.0`, ...pkg}, null, 2));
  if (entry) {
    fs.mkdirSync(path.dirname(path.join(dir, entry.file)), {recursive: true});
    fs.writeFileSync(path.join(dir, entry.file), entry.source);
  }
  return dir;
}

export function agentManifest(id: string, extra: Record<string, unknown> = {}) {
  return {apiVersion: 1, kind: `agent`, id, displayName: id, description: `Test agent ${id}`, entry: `./index.js`, ...extra};
}

export function platformManifest(id: string, extra: Record<string, unknown> = {}) {
  return {apiVersion: 1, kind: `platform`, id, displayName: id, description: `Test platform ${id}`, entry: `./index.js`, ...extra};
}

/** A minimal agent entry writing `{"<platform>": {"key": …}}` into `$HOME/.<id>/auth.json`. */
export function agentEntry(id: string): {file: string; source: string} {
  return {file: `index.js`, source: `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: ${JSON.stringify(id)},
  files: ({home}) => [{id: 'auth', path: path.join(home, '.${id}', 'auth.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({platform, secret}) => ({edits: [{file: 'auth', op: 'set', path: [platform.id, 'key'], value: secret}]}),
};
`};
}
