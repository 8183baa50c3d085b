// Issue 9, items 7 and 8: a platform that cannot be reached is named as such (never "No keys."), nothing sent means
// no orphan lookup, platforms nobody set up stay quiet, and the kill switch with nothing configured says so.
import fs   from 'node:fs';
import net  from 'node:net';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile}                   from '../support/emulator.js';
import {runCli}                            from '../support/cli.js';
import {platformManifest, writePlugin}     from '../support/plugins.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const OPENROUTER_PLUGIN = path.resolve(import.meta.dirname, `../../plugins/platform-openrouter/dist/index.js`);
const emulator = emulatorPerFile({port: 0});

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as net.AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** OpenRouter configured but at a port nothing listens on; AIHubMix never set up. */
async function offline() {
  const root = tempDir(`capit-offline-`);
  const port = await closedPort();
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: `http://127.0.0.1:${port}/api/v1`, OPENROUTER_MANAGEMENT_KEY: MASTER});
  return {root, env, port};
}

const occurrences = (text: string, word: string) => text.split(word).length - 1;

describe(`an install when the provider cannot be reached`, () => {
  it(`says "could not reach …; nothing was sent" once, looks for no orphan, leaves no pending entry`, async () => {
    const {root, env, port} = await offline();
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(``);
    expect(result.stderr).toMatch(new RegExp(`^capit: could not reach 127\\.0\\.0\\.1:${port} \\(connection refused\\); nothing was sent\\n`));
    expect(occurrences(result.stderr, `connection refused`)).toBe(1);
    expect(result.stderr).not.toMatch(/may exist|was created|keys list/);
    expect(result.stderr).not.toMatch(/internal error|\n\s+at /);
    // No pending entry survives (the ledger, if written at all, holds nothing) and opencode's config was not created.
    const ledgerFile = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
    const keys = fs.existsSync(ledgerFile) ? (JSON.parse(fs.readFileSync(ledgerFile, `utf8`)) as {keys: unknown[]}).keys : [];
    expect(keys).toEqual([]);
    expect(fs.existsSync(path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`))).toBe(false);
    expect(Object.keys(snapshotTree(path.join(root, `home`))).filter(f => !f.startsWith(`.local/state/capit`))).toEqual([]);
  });
});

describe(`capit keys list when a platform cannot be reached`, () => {
  it(`names the platform and the cause, never "No keys.", exit 1; an unconfigured platform stays quiet`, async () => {
    const {env, port} = await offline();
    const text = await runCli([`keys`, `list`], {env, timeoutMs: 30_000});
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe(``);
    expect(text.stderr).toBe(`capit: openrouter: could not reach 127.0.0.1:${port} (connection refused); nothing was sent\n`);

    const json = await runCli([`keys`, `list`, `--json`], {env, timeoutMs: 30_000});
    expect(json.exitCode).toBe(1);
    const parsed = JSON.parse(json.stdout) as {keys: unknown[]; errors: {platform: string; code: string; message: string}[]; listed: string[]; skipped: {platform: string}[]};
    expect(parsed.keys).toEqual([]);
    expect(parsed.listed).toEqual([]);
    expect(parsed.errors).toEqual([{platform: `openrouter`, code: `CAPIT_OFFLINE`, message: `could not reach 127.0.0.1:${port} (connection refused); nothing was sent`}]);
    // Still in the data for scripts and the GUI, just not printed.
    expect(parsed.skipped.map(s => s.platform)).toEqual([`aihubmix`]);
  });

  it(`with one platform listed and another unreachable, the empty result says which was listed`, async () => {
    const root = tempDir(`capit-offline-`);
    const dir = path.join(root, `plugins`);
    writePlugin(dir, `capit-platform-zeta`, {name: `capit-platform-zeta`, capit: {...platformManifest(`zeta`), masterKeyEnv: `ZETA_MANAGEMENT_KEY`}}, {file: `index.js`, source: `
import openrouter from ${JSON.stringify(OPENROUTER_PLUGIN)};
export default {...openrouter, id: 'zeta', baseUrl: {default: 'http://127.0.0.1:1', env: 'CAPIT_ZETA_BASE_URL'},
  masterKey: {...openrouter.masterKey, env: ['ZETA_MANAGEMENT_KEY']}};
`});
    const env = sandboxEnv(root, {
      CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, CAPIT_PLUGIN_PATH: dir,
      ZETA_MANAGEMENT_KEY: `sk-or-v1-zeta-fake-0000`, CAPIT_ZETA_BASE_URL: `http://127.0.0.1:${await closedPort()}/api/v1`,
    });
    const text = await runCli([`keys`, `list`], {env, timeoutMs: 30_000});
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe(`No keys on openrouter; zeta could not be listed.\n`);
    expect(text.stderr).toMatch(/^capit: zeta: could not reach 127\.0\.0\.1:\d+ \(connection refused\); nothing was sent\n$/);
  });

  it(`a reachable platform with no keys says "No keys." and nothing about platforms never set up`, async () => {
    const root = tempDir(`capit-offline-`);
    const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
    const text = await runCli([`keys`, `list`], {env});
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toBe(`No keys.\n`);
    expect(text.stderr).toBe(``);
  });
});

describe(`nothing configured`, () => {
  it(`keys list says no platform is configured and how to add one`, async () => {
    const root = tempDir(`capit-none-`);
    const env = sandboxEnv(root);
    const text = await runCli([`keys`, `list`], {env});
    expect(text.exitCode, text.stderr).toBe(0);
    expect(text.stdout).toBe(``);
    expect(text.stderr).toMatch(/^No platform is configured: capit has no master key in the environment or its store\. Add one with capit platforms add openrouter \(installed: aihubmix, openrouter\)\.\n$/);
    expect(emulator.state.requests).toEqual([]);
  });

  it(`the kill switch says so (exit 2), not "no capit key matches", and writes nothing`, async () => {
    const root = tempDir(`capit-none-`);
    const env = sandboxEnv(root);
    const before = snapshotTree(root);
    for (const verb of [`disable`, `delete`]) {
      const result = await runCli([`keys`, verb, `*`, `--yes`], {env});
      expect(result.exitCode).toBe(2);
      expect(result.stdout).toBe(``);
      expect(result.stderr).toBe(`capit: No platform is configured: capit has no master key in the environment or its store. Add one with capit platforms add openrouter (installed: aihubmix, openrouter). Nothing was ${verb}d.\n`);
      expect(result.stderr).not.toMatch(/matches/);
    }
    expect(snapshotTree(root)).toEqual(before);
  });

  it(`a platform named but never set up says how to set it up (exit 2), in keys list and in the kill switch`, async () => {
    const root = tempDir(`capit-none-`);
    const env = sandboxEnv(root);
    const expected = /^capit: aihubmix: No AIHubMix master key: set AIHUBMIX_MANAGE_KEY or run `capit platforms add aihubmix`.*\n$/;
    const list = await runCli([`keys`, `list`, `aihubmix`], {env});
    expect(list.exitCode).toBe(2);
    expect(list.stdout).toBe(``);
    expect(list.stderr).toMatch(expected);
    const disable = await runCli([`keys`, `disable`, `*`, `--yes`, `--platform`, `aihubmix`], {env});
    expect(disable.exitCode).toBe(2);
    expect(disable.stderr).toMatch(expected);
  });

  it(`the kill switch with every platform unreachable says nothing could be listed (exit 1)`, async () => {
    const {env, port} = await offline();
    const result = await runCli([`keys`, `disable`, `*`, `--yes`], {env, timeoutMs: 30_000});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toBe(`capit: openrouter: could not reach 127.0.0.1:${port} (connection refused); nothing was sent\ncapit: no platform could be listed; nothing was disabled\n`);
  });
});
