// The built-in platform plugins, installed as a third party would install them: `npm pack` of the built package, then
// `capit plugin add <tgz>` into a sandboxed global plugin dir (npm offline: a plugin that named capit as a peer, or
// imported it at run time, would fail here). The installed copy must shadow the built-in and issue a key.
import {execFileSync}         from 'node:child_process';
import fs                     from 'node:fs';
import os                     from 'node:os';
import path                   from 'node:path';
import {describe, expect, it} from 'vitest';
import {DEFAULT_AIHUBMIX_MANAGE_KEY, DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import {runCli}               from '../support/cli.js';
import {emulatorPerFile}      from '../support/emulator.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';

const ROOT = path.resolve(import.meta.dirname, `../..`);
const NPM_CACHE = process.env.npm_config_cache || path.join(os.userInfo().homedir, `.npm`);
const emulator = emulatorPerFile({port: 0});

function pack(folder: string, dest: string): string {
  const out = execFileSync(`npm`, [`pack`, `--ignore-scripts`, `--json`, `--pack-destination`, dest], {cwd: folder, env: {...process.env, npm_config_cache: NPM_CACHE, npm_config_offline: `true`}, encoding: `utf8`});
  return path.join(dest, (JSON.parse(out) as {filename: string}[])[0]!.filename);
}

const platforms = [
  {id: `openrouter`, env: () => ({OPENROUTER_MANAGEMENT_KEY: DEFAULT_MANAGEMENT_KEY, CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl}), keys: () => emulator.state.keys.size},
  {id: `aihubmix`, env: () => ({AIHUBMIX_MANAGE_KEY: DEFAULT_AIHUBMIX_MANAGE_KEY, CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl}), keys: () => emulator.state.aihubmixTokens.size},
];

describe(`a built-in platform installed with capit plugin add`, () => {
  it.each(platforms)(`$id: packs without capit at run time, installs offline, shadows the built-in and issues a key`, async platform => {
    const dir = path.join(ROOT, `plugins`, `platform-${platform.id}`);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`));
    expect(pkg.peerDependencies).toBeUndefined();
    expect(pkg.dependencies).toBeUndefined();
    // The built entry must not import capit at run time: it has to load from the global plugin dir.
    expect(fs.readFileSync(path.join(dir, `dist/index.js`), `utf8`)).not.toMatch(/(?:from|import)\s*\(?\s*['"]capit/);

    const root = tempDir();
    const env = sandboxEnv(root, {npm_config_cache: NPM_CACHE, npm_config_offline: `true`, npm_config_update_notifier: `false`, ...platform.env()});
    const tgz = pack(dir, root);
    const added = await runCli([`plugin`, `add`, tgz], {env, timeoutMs: 60_000});
    expect(added.exitCode, added.stderr).toBe(0);

    const list = await runCli([`plugin`, `list`, `--json`], {env});
    expect(list.exitCode, list.stderr).toBe(0);
    const listed = JSON.parse(list.stdout) as {plugins: {id: string; kind: string; source: string; shadowedBy?: {source: string}}[]};
    expect(listed.plugins).toContainEqual(expect.objectContaining({id: platform.id, kind: `platform`, source: `global`}));
    expect(listed.plugins).toContainEqual(expect.objectContaining({id: platform.id, source: `builtin`, shadowedBy: expect.objectContaining({source: `global`})}));

    const before = platform.keys();
    const issued = await runCli([platform.id, `1`, `--json`, `--yes`], {env});
    expect(issued.exitCode, issued.stderr).toBe(0);
    expect(platform.keys()).toBe(before + 1);
  }, 120_000);
});
