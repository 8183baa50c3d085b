import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}               from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-e2e-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  // Backups must land under XDG_STATE_HOME like a real install, so these runs don't relocate with CAPIT_HOME.
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  return {root, env, home: env.HOME!, authFile};
}

const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

describe(`capit openrouter <usd> --agent opencode`, () => {
  it(`issues a capped key into an empty HOME with exactly one management request`, async () => {
    const {env, authFile} = setup();
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});

    expect(result.stderr).not.toMatch(/error|warning/i);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into opencode\n`);
    expect(result.exitCode).toBe(0);

    const requests = managementRequests();
    expect(requests.map(r => `${r.method} ${r.path}`)).toEqual([`POST /api/v1/keys`]);
    const [key] = [...emulator.state.keys.values()];
    expect(key!.name).toMatch(/^opencode-[0-9a-f]{8}$/);
    expect(key!.limit).toBe(5);
    expect(key!.limit_reset).toBeNull();
    expect(key!.expires_at).toBeNull();

    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({openrouter: {type: `api`, key: key!.key}});
    expect(fs.statSync(authFile).mode & 0o777).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(key!.key);
  });

  it(`keeps other providers and formatting, backs up under XDG_STATE_HOME, and restores byte for byte`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const original = `{\n\t"anthropic": {\n\t\t"type": "oauth",\n\t\t"refresh": "fake-refresh-token-0000",\n\t\t"access": "fake-access-token-0000",\n\t\t"expires": 1790000000000\n\t},\n\t"openrouter": {"type": "api", "key": "sk-or-v1-old-fake-key-000000000000"}\n}\n`;
    fs.writeFileSync(authFile, original, {mode: 0o644});

    const result = await runCli([`openrouter`, `$2.50`, `--agent`, `opencode`, `--yes`, `--reset`, `monthly`], {env});
    expect(result.exitCode).toBe(0);
    const lines = result.stdout.trimEnd().split(`\n`);
    expect(lines[0]).toBe(`$2.50 openrouter key installed into opencode`);
    const backupDir = /^Old configuration backed up to (.+)$/.exec(lines[1]!)?.[1];
    expect(backupDir).toBeDefined();
    expect(backupDir!.startsWith(path.join(env.XDG_STATE_HOME!, `capit`, `backups`, `opencode`) + path.sep)).toBe(true);
    expect(fs.statSync(backupDir!).mode & 0o777).toBe(0o700);

    const [key] = [...emulator.state.keys.values()];
    expect(key!.limit_reset).toBe(`monthly`);
    const after = fs.readFileSync(authFile, `utf8`);
    expect(after).toContain(`\t"anthropic": {\n\t\t"type": "oauth",\n\t\t"refresh": "fake-refresh-token-0000"`);
    expect(JSON.parse(after).openrouter).toEqual({type: `api`, key: key!.key});
    expect(fs.statSync(authFile).mode & 0o777).toBe(0o600);
    // The manifest and ledger never hold the secret.
    for (const file of [path.join(backupDir!, `manifest.json`), path.join(env.XDG_STATE_HOME!, `capit`, `ledger.json`)])
      expect(fs.readFileSync(file, `utf8`)).not.toContain(key!.key);

    const restored = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(restored.exitCode).toBe(0);
    expect(restored.stdout).toContain(`Restored opencode configuration from ${backupDir}`);
    expect(restored.stderr).toContain(`still exists at openrouter`);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(original);
    expect(fs.statSync(authFile).mode & 0o777).toBe(0o644);

    // After the restore opencode no longer holds the key: deleting it says nothing about opencode.
    const deleted = await runCli([`keys`, `delete`, key!.name, `--yes`], {env});
    expect(deleted.exitCode).toBe(0);
    expect(deleted.stderr).not.toContain(`opencode now holds`);
    expect(emulator.state.keys.size).toBe(0);
  });

  it(`restore removes a file that capit created`, async () => {
    const {env, authFile} = setup();
    expect((await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    expect(fs.existsSync(authFile)).toBe(true);
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(restored.exitCode).toBe(0);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`--dry-run shows the provider action and a redacted diff, and creates nothing`, async () => {
    const {env, authFile, home} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, `{"github-copilot": {"type": "oauth", "refresh": "gho_fakefakefakefake0000", "access": "x", "expires": 0}}\n`);
    const before = snapshotTree(home);

    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--dry-run`, `--reset`, `weekly`, `--expires`, `7d`], {env});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Dry run — nothing will be created or changed\.\nCreate OpenRouter key "opencode-[0-9a-f]{8}" with a \$5\.00 per week cap, expiring \d{4}-\d\d-\d\dT/);
    expect(result.stdout).toContain(authFile);
    expect(result.stdout).toContain(`<new openrouter key>`);
    expect(result.stdout).not.toContain(`gho_fakefakefakefake0000`);
    expect(managementRequests()).toEqual([]);
    expect(snapshotTree(home)).toEqual(before);
  });

  it(`--json reports the result without the secret when installing`, async () => {
    const {env} = setup();
    const result = await runCli([`openrouter`, `0.5`, `--agent`, `opencode`, `--yes`, `--json`, `--name`, `ci`], {env});
    expect(result.exitCode).toBe(0);
    const json = JSON.parse(result.stdout) as Record<string, unknown>;
    const [key] = [...emulator.state.keys.values()];
    expect(json).toMatchObject({platform: `openrouter`, id: key!.hash, capUsd: 0.5, agent: `opencode`, reset: null, hadExistingFiles: false});
    expect(json.name).toMatch(/^ci-[0-9a-f]{8}$/);
    expect(result.stdout).not.toContain(key!.key);
    // The install created auth.json; its backup (which says so) is what restore undoes it from, so a script sees it.
    expect(json.backupDir).toEqual(expect.any(String));
    expect(fs.existsSync(path.join(json.backupDir as string, `manifest.json`))).toBe(true);
    const restored = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`from ${json.backupDir as string}`);
  });

  it(`without --agent prints the key once on stdout and touches no agent file`, async () => {
    const {env, authFile} = setup();
    const result = await runCli([`openrouter`, `5`], {env});
    expect(result.exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    expect(key!.name).toMatch(/^capit-[0-9a-f]{8}$/);
    expect(result.stdout).toBe(`${key!.key}\n`);
    expect(result.stderr).not.toContain(key!.key);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`the installed key is refused by the provider once its cap is spent`, async () => {
    const {env, authFile} = setup();
    expect((await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const secret = (JSON.parse(fs.readFileSync(authFile, `utf8`)) as {openrouter: {key: string}}).openrouter.key;
    const statuses: number[] = [];
    let refusal = ``;
    for (let i = 0; i < 5; i++) {
      const res = await fetch(`${emulator.openrouterBaseUrl}/chat/completions`, {
        method: `POST`, headers: {authorization: `Bearer ${secret}`, 'content-type': `application/json`},
        body: JSON.stringify({model: `openai/gpt-4o-mini`, messages: [{role: `user`, content: `hi`}]}),
      });
      statuses.push(res.status);
      if (res.status !== 200) {
        refusal = await res.text();
        break;
      }
    }
    expect(statuses).toEqual([200, 200, 403]);
    expect(refusal).toContain(`Key limit exceeded (total limit)`);
  });
});

// Bad input on the command line (amounts, option values, names, platforms): core/test/cli/bad-input.test.ts.

describe(`refusals and provider failures`, () => {
  it(`refuses a write-protected (0444) auth.json before creating any key, keeping its mode`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const original = `{"anthropic": {"type": "api", "key": "sk-ant-fake-000000000000"}}\n`;
    fs.writeFileSync(authFile, original);
    fs.chmodSync(authFile, 0o444);
    for (const extra of [[`--yes`], [`--dry-run`]]) {
      const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, ...extra], {env});
      expect(result.exitCode, extra.join(` `)).toBe(1);
      expect(result.stderr).toBe(`capit: ${authFile} is read-only (mode 444); capit will not change a file you write-protected — make it writable (chmod u+w ${authFile}) and run the command again (nothing was changed)\n`);
    }
    expect(fs.statSync(authFile).mode & 0o777).toBe(0o444);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(original);
    expect(managementRequests()).toEqual([]);
  });

  it(`refuses an unparseable auth.json before creating any key, leaving it untouched`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const broken = `{"anthropic": {"type": "api", "key": "sk-ant-fake-000000000000"},,\n`;
    fs.writeFileSync(authFile, broken);
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${authFile} is not valid`);
    expect(result.stderr).toContain(`will not overwrite it`);
    // One line, as the README promises, with what to do in it.
    expect(result.stderr).toMatch(/^capit: [^\n]* is not valid \([^\n]*\); capit will not overwrite it — fix or move it and run the command again \(nothing was changed\)\n$/);
    expect(result.stderr).not.toContain(`sk-ant-fake-000000000000`);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(broken);
    expect(managementRequests()).toEqual([]);
    expect(emulator.state.keys.size).toBe(0);
  });

  it(`names a wrong master key without showing it, writing nothing`, async () => {
    const {env, authFile} = setup({OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-wrong-fake-9999999999`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/rejected the master key/);
    expect(result.stderr).not.toContain(`sk-or-v1-wrong-fake-9999999999`);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`says where to get a master key when none is configured and there is no terminal`, async () => {
    const {env} = setup();
    delete (env as Record<string, string | undefined>).OPENROUTER_MANAGEMENT_KEY;
    const result = await runCli([`openrouter`, `5`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`OPENROUTER_MANAGEMENT_KEY`);
    expect(result.stderr).toContain(`https://openrouter.ai/settings/management-keys`);
    expect(managementRequests()).toEqual([]);
  });

  it(`waits out a 429 with Retry-After on the create call, then succeeds with a single key`, async () => {
    const {env} = setup();
    emulator.knobs.failNext(1, {status: 429, retryAfter: 1, method: `POST`, path: `/api/v1/keys`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.stderr).not.toMatch(/capit:|error|warning/i);
    expect(result.exitCode).toBe(0);
    expect(managementRequests().map(r => `${r.method} ${r.status}`)).toEqual([`POST 429`, `POST 201`]);
    expect(emulator.state.keys.size).toBe(1);
  });

  it(`deletes the new key when the install fails after it was created`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    fs.writeFileSync(authFile, `{}\n`);
    emulator.knobs.latencyMs = 1500;
    const run = runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    // While the create request is in flight, another program rewrites auth.json.
    for (let i = 0; i < 100 && !emulator.state.requests.some(r => r.method === `POST`); i++) await new Promise(r => setTimeout(r, 20));
    fs.writeFileSync(authFile, `{"other": {"type": "api", "key": "user-edit"}}\n`);
    const result = await run;
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/Installing the key into opencode failed: .*changed.*deleted at the provider/);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(`{"other": {"type": "api", "key": "user-edit"}}\n`);
    expect(emulator.state.keys.size).toBe(0);
    expect(managementRequests().map(r => r.method)).toEqual([`POST`, `DELETE`]);
  });

  it(`a create whose response is lost is found by name and deleted, never installed or created twice`, async () => {
    const {env, authFile} = setup();
    emulator.knobs.dropNext(1, {afterHandling: true, method: `POST`, path: `/api/v1/keys`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/connection dropped.*The provider may have created the key: capit found the key "opencode-[0-9a-f]{8}" by name .* and deleted it/);
    expect(emulator.state.keys.size).toBe(0);
    expect(managementRequests().filter(r => r.method === `POST`)).toHaveLength(1);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`a 5xx on create is checked by name and reported without a retry`, async () => {
    const {env} = setup();
    emulator.knobs.failNext(1, {status: 502, method: `POST`, path: `/api/v1/keys`});
    const result = await runCli([`openrouter`, `5`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/having problems \(HTTP 502.*The provider may have created the key: capit looked it up by name: no key "capit-[0-9a-f]{8}" exists/);
    expect(managementRequests().filter(r => r.method === `POST`)).toHaveLength(1);
    expect(emulator.state.keys.size).toBe(0);
  });

  it(`warns by name when something in the environment shadows the installed key`, async () => {
    const {env} = setup({OPENCODE_AUTH_CONTENT: `{"openrouter":{"type":"api","key":"sk-or-v1-shadow-fake-0000"}}`});
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/warning: environment variable OPENCODE_AUTH_CONTENT is set and wins over what capit wrote/);
    expect(result.stderr).not.toContain(`sk-or-v1-shadow-fake-0000`);
  });

  it(`cleans up the key of a run that died between create and record`, async () => {
    const {env} = setup();
    const orphan = emulator.createKey({name: `opencode-deadbeef`, limit: 5});
    const ledgerDir = path.join(env.XDG_STATE_HOME!, `capit`);
    fs.mkdirSync(ledgerDir, {recursive: true});
    fs.writeFileSync(path.join(ledgerDir, `ledger.json`), JSON.stringify({version: 1, keys: [{
      name: `opencode-deadbeef`, platform: `openrouter`, agent: `opencode`, capUsd: 5, reset: null, expiresAt: null,
      createdAt: `2026-11-28T00:00:00.000Z`, status: `pending`, files: [], backupDir: null,
    }]}));
    const result = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toContain(`interrupted while creating "opencode-deadbeef"`);
    expect(emulator.state.keys.has(orphan.hash)).toBe(false);
    expect(emulator.state.keys.size).toBe(1);
    const ledger = JSON.parse(fs.readFileSync(path.join(ledgerDir, `ledger.json`), `utf8`)) as {keys: {name: string; status: string}[]};
    expect(ledger.keys.map(k => k.status)).toEqual([`active`]);
  });
});
