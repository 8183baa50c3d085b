// A built-in agent is an ordinary plugin: packed with `npm pack` and installed with `capit plugin add <tgz>` into a
// sandboxed global plugin dir, as a third party would publish and install it, it loads (no runtime import of capit,
// which does not resolve there), shadows the built-in of the same id, and installs a key against the emulator.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import os             from 'node:os';
import path           from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}              from '../support/cli.js';
import {emulatorPerFile}     from '../support/emulator.js';
import {agentManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const OPENCODE = path.resolve(import.meta.dirname, `../../plugins/agent-opencode`);
// setup.ts moved HOME into a sandbox; npm must still find the usual cache (and never the registry: offline).
const NPM_CACHE = process.env.npm_config_cache || path.join(os.userInfo().homedir, `.npm`);
const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function pack(folder: string, dest: string): string {
  const out = execFileSync(`npm`, [`pack`, `--ignore-scripts`, `--json`, `--pack-destination`, dest], {cwd: folder, env: {...process.env, npm_config_cache: NPM_CACHE, npm_config_offline: `true`}, encoding: `utf8`});
  return path.join(dest, (JSON.parse(out) as {filename: string}[])[0]!.filename);
}

describe(`a built-in agent packed and installed as a third-party plugin`, () => {
  it(`capit plugin add <tgz> of capit-agent-opencode loads from the global dir, shadows the built-in and installs a key`, async () => {
    const root = tempDir(`capit-thirdparty-`);
    const env = sandboxEnv(root, {
      npm_config_cache: NPM_CACHE, npm_config_offline: `true`, npm_config_update_notifier: `false`,
      CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER,
    });
    const dataDir = path.join(env.CAPIT_HOME!, `data`);
    const tgz = pack(OPENCODE, root);

    const added = await runCli([`plugin`, `add`, tgz], {env, timeoutMs: 60_000});
    expect(added.stderr).toBe(``);
    expect(added.exitCode).toBe(0);
    expect(added.stdout).toMatch(/^Installed capit-agent-opencode@[^:]+: agent "opencode"/);

    // The installed copy has only its own files: capit is neither installed next to it nor imported at run time.
    const installed = path.join(dataDir, `node_modules`, `capit-agent-opencode`);
    expect(fs.existsSync(path.join(dataDir, `node_modules`, `capit`))).toBe(false);
    expect(fs.readFileSync(path.join(installed, `dist`, `index.js`), `utf8`)).not.toMatch(/from\s*['"]capit|import\(\s*['"]capit|require\(\s*['"]capit/);

    const list = await runCli([`plugin`, `list`, `--json`], {env});
    expect(list.exitCode, list.stderr).toBe(0);
    const {plugins, broken} = JSON.parse(list.stdout) as {plugins: {id: string; kind: string; source: string; shadowedBy?: {source: string}}[]; broken: unknown[]};
    expect(broken).toEqual([]);
    const opencodes = plugins.filter(p => p.kind === `agent` && p.id === `opencode`);
    expect(opencodes).toEqual(expect.arrayContaining([
      expect.objectContaining({source: `global`}),
      expect.objectContaining({source: `builtin`, shadowedBy: expect.objectContaining({source: `global`})}),
    ]));

    // `capit agents` imports the entry (files() for the config path): from the global dir, where capit does not resolve.
    const agents = await runCli([`agents`, `--json`, `--all-paths`], {env});
    expect(agents.exitCode, agents.stderr).toBe(0);
    const opencode = (JSON.parse(agents.stdout) as {id: string; source: string; configPaths: string[] | null; error?: string}[]).find(a => a.id === `opencode`);
    expect(opencode).toMatchObject({source: `global`, configPaths: [path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`)]});
    expect(opencode!.error).toBeUndefined();

    const issued = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(issued.stderr).not.toMatch(/error|warning|plugin:/i);
    expect(issued.stdout).toBe(`$5.00 openrouter key installed into opencode\n`);
    expect(issued.exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({openrouter: {type: `api`, key: key!.key}});
    expect(issued.stdout + issued.stderr).not.toContain(key!.key);
  });
});

// A third-party agent with a detect step. Its detect() counts its calls and returns {call, home}; files() refuses to
// run without that result, and plan(), keySources() and status() print which call they were handed.
const DETECTING_AGENT = `
import path from 'node:path';
let calls = 0;
const auth = home => path.join(home, '.det', 'auth.json');
export default {
  apiVersion: 1, kind: 'agent', id: 'det',
  detect: async ({home}) => ({call: ++calls, home}),
  files: ({home}, found) => {
    if (!found || found.home !== home) throw new Error('files() was not given the detect() result');
    return [{id: 'auth', path: auth(home), format: 'json', secret: true}];
  },
  supports: () => true,
  plan: ({platform, secret}, envInfo, found) => ({
    edits: [{file: 'auth', op: 'set', path: [platform.id, 'key'], value: secret}],
    notes: ['plan() got detect() call ' + found.call + ' of ' + calls],
  }),
  keySources: ({home}, platformId, found) => [
    {kind: 'env', name: 'DET_KEY', note: 'keySources() got detect() call ' + found.call + ' of ' + calls},
    {kind: 'file', path: auth(home), format: 'json', at: [platformId, 'key'], installs: true},
  ],
  status: (envInfo, found) => 'status() got detect() call ' + found.call + ' of ' + calls,
};
`;

describe(`an agent with a detect step`, () => {
  function setup() {
    const root = tempDir(`capit-detect-`);
    const plugins = path.join(root, `plugins`);
    writePlugin(plugins, `capit-agent-det`, {name: `capit-agent-det`, capit: agentManifest(`det`)}, {file: `index.js`, source: DETECTING_AGENT});
    const env = sandboxEnv(root, {CAPIT_PLUGIN_PATH: plugins, CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
    return {env, authFile: path.join(env.HOME!, `.det`, `auth.json`)};
  }

  it(`is called once per install, and that result reaches files(), both plans and keySources()`, async () => {
    const {env, authFile} = setup();
    const result = await runCli([`openrouter`, `5`, `--agent`, `det`, `--yes`], {env: {...env, DET_KEY: `set-in-the-shell`}});
    expect(result.exitCode, result.stderr).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({openrouter: {key: key!.key}});
    // The preview plan and the plan with the real key both ran (the file holds the real key) on detect() call 1 of 1.
    expect(result.stdout + result.stderr).toContain(`plan() got detect() call 1 of 1`);
    expect(result.stdout + result.stderr).toContain(`keySources() got detect() call 1 of 1`);
    expect(result.stdout + result.stderr).not.toMatch(/of [2-9]/);
  });

  it(`capit agents hands it to files() and status(), capit doctor to keySources()`, async () => {
    const {env} = setup();
    const agents = await runCli([`agents`, `--json`, `--all-paths`], {env});
    expect(agents.exitCode, agents.stderr).toBe(0);
    const det = (JSON.parse(agents.stdout) as {id: string; status: string; configPaths: string[] | null}[]).find(a => a.id === `det`);
    expect(det).toMatchObject({configPaths: [path.join(env.HOME!, `.det`, `auth.json`)]});
    expect(det!.status).toContain(`status() got detect() call 1 of 1`);

    const doctor = await runCli([`doctor`, `det`, `--json`], {env});
    expect(doctor.exitCode, doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`keySources() got detect() call 1 of 1`);
  });
});
