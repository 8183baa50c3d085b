import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}               from '../support/cli.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

/** No OPENROUTER_MANAGEMENT_KEY: the stored key is what is tested. */
function setup() {
  const root = tempDir(`capit-platforms-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl});
  const configDir = path.join(env.CAPIT_HOME!, `config`);
  return {env, configDir, credentials: path.join(configDir, `credentials.json`)};
}

const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

describe(`capit platforms`, () => {
  it(`lists the installed platforms and where each master key comes from`, async () => {
    const {env} = setup();
    const none = await runCli([`platforms`, `--json`], {env});
    expect(none.exitCode, none.stderr).toBe(0);
    const platforms = JSON.parse(none.stdout).platforms as {id: string}[];
    expect(platforms.find(p => p.id === `openrouter`)).toEqual({
      id: `openrouter`, displayName: `OpenRouter`, setupUrl: `https://openrouter.ai/settings/management-keys`,
      envVar: `OPENROUTER_MANAGEMENT_KEY`, source: `none`,
    });

    const fromEnv = await runCli([`--platforms`], {env: {...env, OPENROUTER_MANAGEMENT_KEY: MASTER}});
    expect(fromEnv.exitCode).toBe(0);
    expect(fromEnv.stdout).toMatch(/^openrouter\s+OpenRouter\s+from \$OPENROUTER_MANAGEMENT_KEY\s+https:\/\/openrouter\.ai\/settings\/management-keys$/m);
    expect(fromEnv.stdout).not.toContain(MASTER);
    expect(managementRequests()).toEqual([]);
  });

  it(`add --key-stdin validates against the provider, stores 0600 in a 0700 dir, and never prints the key`, async () => {
    const {env, configDir, credentials} = setup();
    const result = await runCli([`platforms`, `add`, `openrouter`, `--key-stdin`], {env, input: `${MASTER}\n`});
    expect(result.stderr).toBe(``);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`The OpenRouter master key works and is stored in ${credentials} (readable only by you).\n`);
    expect(managementRequests().map(r => `${r.method} ${r.path}`)).toEqual([`GET /api/v1/key`]);
    expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
    expect(fs.statSync(configDir).mode & 0o777).toBe(0o700);
    expect(JSON.parse(fs.readFileSync(credentials, `utf8`)).platforms.openrouter.key).toBe(MASTER);

    // The stored key is used from now on, and reported as stored.
    const status = JSON.parse((await runCli([`platforms`, `list`, `--json`], {env})).stdout).platforms as {id: string; source: string}[];
    expect(status.find(p => p.id === `openrouter`)!.source).toBe(`stored`);
    const listed = await runCli([`keys`, `list`, `--json`], {env});
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(listed.stdout + listed.stderr).not.toContain(MASTER);

    // Remove: refused without --yes off a terminal, then done.
    const refused = await runCli([`--platforms`, `remove`, `openrouter`], {env});
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toMatch(/pass --yes/);
    expect(JSON.parse(fs.readFileSync(credentials, `utf8`)).platforms.openrouter).toBeDefined();
    const removed = await runCli([`platforms`, `remove`, `openrouter`, `--yes`], {env});
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Removed the stored OpenRouter master key`);
    expect(JSON.parse(fs.readFileSync(credentials, `utf8`)).platforms).toEqual({});
    expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
    const twice = await runCli([`platforms`, `remove`, `openrouter`, `--yes`], {env});
    expect(twice.stdout).toContain(`No stored OpenRouter master key`);
  });

  it(`the seed spelling --platforms add works too`, async () => {
    const {env, credentials} = setup();
    const result = await runCli([`--platforms`, `add`, `openrouter`, `--key-stdin`], {env, input: MASTER});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(fs.existsSync(credentials)).toBe(true);
  });

  it(`a key the provider rejects is refused and nothing is stored`, async () => {
    const {env, credentials} = setup();
    const wrong = `sk-or-v1-wrong-fake-1111`;
    const result = await runCli([`platforms`, `add`, `openrouter`, `--key-stdin`], {env, input: `${wrong}\n`});
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toMatch(/^capit: OpenRouter rejected the master key while trying to check the master key \(401/);
    expect(result.stdout + result.stderr).not.toContain(wrong);
    expect(fs.existsSync(credentials)).toBe(false);
  });

  it(`--no-store validates only and explains the alternatives`, async () => {
    const {env, credentials} = setup();
    const result = await runCli([`platforms`, `add`, `openrouter`, `--key-stdin`, `--no-store`], {env, input: `${MASTER}\n`});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`works; it was not stored (--no-store)`);
    expect(result.stdout).toContain(`set OPENROUTER_MANAGEMENT_KEY`);
    expect(result.stdout).toContain(`asks for the key (hidden) on each run`);
    expect(result.stdout).not.toContain(MASTER);
    expect(managementRequests()).toHaveLength(1);
    expect(fs.existsSync(credentials)).toBe(false);
  });

  // Bad input (a malformed or empty piped key, no terminal, an unknown platform): core/test/cli/bad-input.test.ts.

  it(`refuses a corrupt credentials.json, saying how to fix it, and never overwrites it`, async () => {
    const {env, configDir, credentials} = setup();
    fs.mkdirSync(configDir, {recursive: true, mode: 0o700});
    fs.writeFileSync(credentials, `{"version": 1, "platforms": {`, {mode: 0o600});
    for (const [args, input] of [[[`platforms`, `add`, `openrouter`, `--key-stdin`], `${MASTER}\n`], [[`platforms`], ``], [[`keys`, `list`, `openrouter`], ``]] as const) {
      const result = await runCli([...args], {env, input});
      // A config file that does not parse is a failure (exit 1), not bad input.
      expect(result.exitCode, args.join(` `)).toBe(1);
      expect(result.stderr).toMatch(new RegExp(`^capit: ${credentials.replace(/[.*+?^${}()|[\]\\]/g, `\\$&`)} is corrupt .*capit platforms add <platform>\\n$`));
    }
    expect(fs.readFileSync(credentials, `utf8`)).toBe(`{"version": 1, "platforms": {`);
    expect(managementRequests()).toEqual([]);
  });

  it(`refuses a group/world-readable credentials.json with the chmod that fixes it`, async () => {
    const {env, configDir, credentials} = setup();
    fs.mkdirSync(configDir, {recursive: true, mode: 0o700});
    const body = JSON.stringify({version: 1, platforms: {openrouter: {key: MASTER, addedAt: `2026-01-01T00:00:00Z`}}});
    fs.writeFileSync(credentials, body);
    fs.chmodSync(credentials, 0o644);
    for (const args of [[`platforms`], [`keys`, `list`], [`platforms`, `remove`, `openrouter`, `--yes`]]) {
      const result = await runCli(args, {env});
      expect(result.exitCode, args.join(` `)).toBe(1);
      expect(result.stderr).toBe(`capit: ${credentials} is readable by other users (mode 644); capit will not use it — fix with: chmod 600 ${credentials}\n`);
    }
    expect(fs.readFileSync(credentials, `utf8`)).toBe(body);
    expect(managementRequests()).toEqual([]);
  });
});
