// The install transaction plans once: the agent's plan() runs before the key exists, with a placeholder, and core
// puts the real secret where the placeholder is. A plan that misplaces or reshapes the placeholder is refused before
// any key is created.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {agentManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});
const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

/** An agent whose plan() logs each secret it is given (a test-only side effect) and builds its edits with `value`. */
function setup(value: string, file: {secret: boolean} = {secret: true}) {
  const root = tempDir(`capit-plan-once-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
  const plugins = path.join(root, `plugins`);
  writePlugin(plugins, `counted`, {name: `capit-agent-counted`, capit: agentManifest(`counted`)}, {file: `index.js`, source: `
import fs from 'node:fs';
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: 'counted',
  files: ({home}) => [{id: 'auth', path: path.join(home, '.counted', 'auth.json'), format: 'json', secret: ${file.secret}}],
  supports: () => true,
  plan: ({platform, secret}, {home}) => {
    fs.appendFileSync(path.join(home, 'plan-calls.log'), secret + '\\n');
    return {edits: [{file: 'auth', op: 'set', path: [platform.id], value: ${value}}]};
  },
};
`});
  env.CAPIT_PLUGIN_PATH = plugins;
  const home = env.HOME!;
  return {env, authFile: path.join(home, `.counted`, `auth.json`), calls: () => fs.readFileSync(path.join(home, `plan-calls.log`), `utf8`).trimEnd().split(`\n`)};
}

describe(`an install plans once`, () => {
  it(`calls plan() once, with a placeholder, and writes the real key wherever the placeholder was`, async () => {
    const {env, authFile, calls} = setup(`{type: 'api', key: secret, headers: ['Authorization: Bearer ' + secret]}`);
    const result = await runCli([`openrouter`, `5`, `--agent`, `counted`, `--yes`], {env});
    expect(result.stderr).toBe(``);
    expect(result.exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({openrouter: {type: `api`, key: key!.key, headers: [`Authorization: Bearer ${key!.key}`]}});
    const seen = calls();
    expect(seen).toHaveLength(1);
    expect(seen[0]).not.toContain(key!.key);
  });

  it(`refuses a plan that reshapes the secret before any key is created`, async () => {
    const {env, authFile} = setup(`{key: secret.slice(0, 12)}`);
    const result = await runCli([`openrouter`, `5`, `--agent`, `counted`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/\[plugin:counted\] plan\(\) put the key nowhere: no edit value holds the secret exactly as given; capit refuses to install it \(nothing was created or changed\)/);
    expect(managementRequests()).toEqual([]);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`refuses a plan that writes the secret into a file not marked secret, also in a dry run`, async () => {
    const {env, authFile} = setup(`{key: secret}`, {secret: false});
    for (const extra of [[`--dry-run`], [`--yes`]]) {
      const result = await runCli([`openrouter`, `5`, `--agent`, `counted`, ...extra], {env});
      expect(result.exitCode).toBe(1);
      expect(result.stderr).toContain(`into "auth", a file not marked secret`);
    }
    expect(managementRequests()).toEqual([]);
    expect(fs.existsSync(authFile)).toBe(false);
  });
});
