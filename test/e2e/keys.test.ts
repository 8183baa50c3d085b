import fs   from 'node:fs';
import net  from 'node:net';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import type {KeyRecord} from '../emulator/server.mjs';
import {runCli}               from '../support/cli.js';
import {writePlugin, platformManifest} from '../support/plugins.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const OPENROUTER_PLUGIN = path.resolve(import.meta.dirname, `../../plugins/platform-openrouter/dist/index.js`);
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-keys-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  const ledgerFile = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
  return {root, env, ledgerFile};
}

interface LedgerRow {id?: string; name: string; status: string; agent: string | null}

/** Records emulator keys in capit's ledger, as if capit had issued them. */
function recordInLedger(ledgerFile: string, records: KeyRecord[], agent: string | null = null) {
  const existing: LedgerRow[] = fs.existsSync(ledgerFile) ? JSON.parse(fs.readFileSync(ledgerFile, `utf8`)).keys : [];
  const keys = [...existing, ...records.map(r => ({
    id: r.hash, name: r.name, platform: `openrouter`, agent, capUsd: r.limit, reset: r.limit_reset, expiresAt: null,
    createdAt: r.created_at, status: `active`, files: [], backupDir: null,
  }))];
  fs.mkdirSync(path.dirname(ledgerFile), {recursive: true});
  fs.writeFileSync(ledgerFile, JSON.stringify({version: 1, keys}));
}

function ledger(ledgerFile: string): LedgerRow[] {
  return JSON.parse(fs.readFileSync(ledgerFile, `utf8`)).keys;
}

const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

/** A port nothing listens on. */
async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as net.AddressInfo;
  await new Promise(resolve => server.close(resolve));
  return port;
}

/** A second platform, `zeta`, speaking OpenRouter's API at a closed port. */
async function brokenPlatform(root: string): Promise<Record<string, string>> {
  const dir = path.join(root, `plugins`);
  writePlugin(dir, `capit-platform-zeta`, {name: `capit-platform-zeta`, capit: {...platformManifest(`zeta`), masterKeyEnv: `ZETA_MANAGEMENT_KEY`}}, {file: `index.js`, source: `
import openrouter from ${JSON.stringify(OPENROUTER_PLUGIN)};
export default {...openrouter, id: 'zeta', baseUrl: {default: 'http://127.0.0.1:1', env: 'CAPIT_ZETA_BASE_URL'},
  masterKey: {...openrouter.masterKey, env: ['ZETA_MANAGEMENT_KEY']}};
`});
  return {CAPIT_PLUGIN_PATH: dir, ZETA_MANAGEMENT_KEY: `sk-or-v1-zeta-fake-0000`, CAPIT_ZETA_BASE_URL: `http://127.0.0.1:${await closedPort()}/api/v1`};
}

describe(`capit keys list`, () => {
  it(`pages through more than 100 keys; capit's keys only unless --all; a glob filters names`, async () => {
    const {env, ledgerFile} = setup();
    const mine = emulator.seedKeys(250, {prefix: `capit`});
    emulator.seedKeys(5, {prefix: `other`});
    recordInLedger(ledgerFile, mine);

    const listed = await runCli([`keys`, `list`, `--json`], {env});
    expect(listed.stderr).toBe(``);
    expect(listed.exitCode, listed.stderr).toBe(0);
    const json = JSON.parse(listed.stdout) as {keys: {name: string; issuedByCapit: boolean}[]; errors: unknown[]};
    expect(json.errors).toEqual([]);
    expect(json.keys).toHaveLength(250);
    expect(new Set(json.keys.map(k => k.name)).size).toBe(250);
    expect(json.keys.every(k => k.issuedByCapit)).toBe(true);
    // 3 pages of 100 (the last one short) and the empty page that ends the listing, or fewer if it stops early.
    expect(managementRequests().filter(r => r.path === `/api/v1/keys`).length).toBeGreaterThanOrEqual(3);

    const all = JSON.parse((await runCli([`--keys`, `list`, `--all`, `--json`], {env})).stdout) as {keys: {name: string; issuedByCapit: boolean}[]};
    expect(all.keys).toHaveLength(255);
    // capit's keys first.
    expect(all.keys.slice(0, 250).every(k => k.issuedByCapit)).toBe(true);
    expect(all.keys.slice(250).map(k => k.name).sort()).toEqual([`other-0`, `other-1`, `other-2`, `other-3`, `other-4`]);

    const filtered = JSON.parse((await runCli([`keys`, `list`, `openrouter`, `capit-1*`, `--json`], {env})).stdout) as {keys: {name: string}[]};
    expect(filtered.keys).toHaveLength(1 + 10 + 100);
    expect(filtered.keys.every(k => k.name.startsWith(`capit-1`))).toBe(true);
    const exact = JSON.parse((await runCli([`keys`, `list`, `openrouter`, `capit-7`, `--json`], {env})).stdout) as {keys: {name: string}[]};
    expect(exact.keys.map(k => k.name)).toEqual([`capit-7`]);
  });

  it(`lists fewer than 100 keys with one request (a short first page is the last one)`, async () => {
    const {env, ledgerFile} = setup();
    recordInLedger(ledgerFile, emulator.seedKeys(3, {prefix: `capit`}));
    const before = managementRequests().length;
    const listed = await runCli([`keys`, `list`, `--json`], {env});
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect((JSON.parse(listed.stdout) as {keys: unknown[]}).keys).toHaveLength(3);
    expect(managementRequests().slice(before).map(r => `${r.method} ${r.path}`)).toEqual([`GET /api/v1/keys`]);
  });

  it(`shows the spend of the current window, the remaining cap and the status`, async () => {
    const {env, ledgerFile} = setup();
    const monthly = emulator.createKey({name: `capit-monthly`, limit: 10, limit_reset: `monthly`});
    Object.assign(monthly, {usage: 50, usage_daily: 1, usage_weekly: 2, usage_monthly: 4});
    const capped = emulator.createKey({name: `capit-capped`, limit: 2, limit_reset: `daily`});
    Object.assign(capped, {usage: 9, usage_daily: 2, usage_weekly: 5, usage_monthly: 9});
    const off = emulator.createKey({name: `capit-off`, limit: 1});
    off.disabled = true;
    recordInLedger(ledgerFile, [monthly, capped, off], `opencode`);

    const result = await runCli([`keys`, `--json`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    const byName = Object.fromEntries((JSON.parse(result.stdout).keys as {name: string}[]).map(k => [k.name, k]));
    expect(byName[`capit-monthly`]).toEqual({
      platform: `openrouter`, id: monthly.hash, name: `capit-monthly`, agent: `opencode`, issuedByCapit: true, status: `active`,
      disabled: false, spentUsd: 4, capUsd: 10, remainingUsd: 6, reset: `monthly`, createdAt: monthly.created_at, expiresAt: null,
      byokSpentUsd: 0, byokCounted: false, expiryWarningDays: null,
    });
    expect(byName[`capit-capped`]).toMatchObject({spentUsd: 2, remainingUsd: 0, status: `capped`, reset: `daily`});
    expect(byName[`capit-off`]).toMatchObject({status: `disabled`, disabled: true});

    const table = await runCli([`keys`], {env});
    expect(table.exitCode, table.stderr).toBe(0);
    const header = table.stdout.split(`\n`)[0]!;
    expect(header.split(/\s{2,}/)).toEqual([`NAME`, `PLATFORM`, `AGENT`, `SPENT/CAP`, `RESET`, `REMAINING`, `STATUS`, `CREATED`]);
    expect(table.stdout).toMatch(/capit-monthly\s+openrouter\s+opencode\s+\$4\.00\/\$10\.00\s+monthly\s+\$6\.00\s+active/);
    // NO_COLOR: no escape codes.
    expect(table.stdout).not.toMatch(/\x1b\[/);
    expect(table.stdout + table.stderr).not.toContain(monthly.key);
  });

  it(`skips a platform with no master key and lists the others`, async () => {
    const {env, ledgerFile} = setup();
    recordInLedger(ledgerFile, emulator.seedKeys(2, {prefix: `capit`}));
    const result = await runCli([`keys`, `list`, `--json`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as {keys: unknown[]; errors: unknown[]; skipped: {platform: string}[]};
    expect(json.keys).toHaveLength(2);
    expect(json.errors).toEqual([]);
    expect(json.skipped.map(s => s.platform)).toContain(`aihubmix`);
  });

  it(`one failing platform prints its one-line error while the others still list`, async () => {
    const {root, env, ledgerFile} = setup();
    Object.assign(env, await brokenPlatform(root));
    recordInLedger(ledgerFile, emulator.seedKeys(3, {prefix: `capit`}));

    const json = await runCli([`keys`, `list`, `--json`], {env});
    expect(json.exitCode, json.stderr).toBe(1);
    const parsed = JSON.parse(json.stdout) as {keys: {platform: string}[]; errors: {platform: string; message: string}[]};
    expect(parsed.keys).toHaveLength(3);
    expect(parsed.keys.every(k => k.platform === `openrouter`)).toBe(true);
    expect(parsed.errors).toEqual([{platform: `zeta`, code: `CAPIT_OFFLINE`, message: expect.stringMatching(/^could not reach 127\.0\.0\.1:\d+ \(connection refused\); nothing was sent$/)}]);

    const text = await runCli([`keys`], {env});
    expect(text.exitCode, text.stderr).toBe(1);
    expect(text.stdout.split(`\n`).filter(l => l.startsWith(`capit-`))).toHaveLength(3);
    expect(text.stderr).toMatch(/^capit: zeta: could not reach 127\.0\.0\.1:\d+ \(connection refused\); nothing was sent$/m);
    expect(text.stderr).not.toContain(`sk-or-v1-zeta-fake-0000`);

    // The kill switch acts on what it could list, and its summary says what it could not.
    const off = await runCli([`keys`, `disable`, `*`, `--yes`], {env});
    expect(off.exitCode, off.stderr).toBe(1);
    expect(off.stdout).toMatch(/^Disabled 3 keys; not disabled: the keys of zeta \(could not be listed\)\.$/m);
  });

  it(`refuses an unknown platform and an empty glob before any request`, async () => {
    const {env} = setup();
    const unknown = await runCli([`keys`, `list`, `nope`], {env});
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/^capit: Unknown platform "nope", installed: .*openrouter.*\n$/);
    const empty = await runCli([`keys`, `list`, `openrouter`, ` `], {env});
    expect(empty.exitCode).toBe(2);
    expect(empty.stderr.trim().split(`\n`)).toHaveLength(1);
    expect(managementRequests()).toEqual([]);
  });
});

describe(`capit keys delete`, () => {
  it(`deletes the keys a glob matches with --yes, one line each, and records it in the ledger`, async () => {
    const {env, ledgerFile} = setup();
    const doomed = emulator.seedKeys(20, {prefix: `capit-a`});
    const kept = emulator.seedKeys(5, {prefix: `capit-b`});
    recordInLedger(ledgerFile, [...doomed, ...kept]);

    const result = await runCli([`keys`, `delete`, `capit-a-*`, `--yes`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Delete 20 keys:`);
    expect(result.stdout.split(`\n`).filter(l => /^deleted {2}capit-a-\d+ \(openrouter\)$/.test(l))).toHaveLength(20);
    expect(result.stdout).toContain(`Deleted 20 keys.`);
    expect([...emulator.state.keys.values()].map(k => k.name).sort()).toEqual(kept.map(k => k.name).sort());
    const rows = ledger(ledgerFile);
    expect(rows.filter(r => r.status === `deleted`).map(r => r.name).sort()).toEqual(doomed.map(k => k.name).sort());
    expect(rows.filter(r => r.status === `active`)).toHaveLength(5);
  });

  it(`says which agent now holds a deleted key`, async () => {
    const {env} = setup();
    expect((await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];

    const result = await runCli([`--keys`, `delete`, key!.name, `--yes`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`deleted  ${key!.name} (openrouter)`);
    expect(result.stderr).toContain(`opencode now holds a deleted key; run capit restore opencode`);
    expect(emulator.state.keys.size).toBe(0);
    expect(result.stdout + result.stderr).not.toContain(key!.key);
  });

  it(`deletes 300 keys with zero failures while every 10th call is a 429`, async () => {
    const {env, ledgerFile} = setup();
    recordInLedger(ledgerFile, emulator.seedKeys(300, {prefix: `capit`}));
    emulator.knobs.every429(10);

    const result = await runCli([`keys`, `delete`, `capit-*`, `--yes`, `--json`], {env, timeoutMs: 60_000});
    expect(result.stderr).toBe(``);
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as {action: string; results: {ok: boolean}[]; errors: unknown[]};
    expect(json.action).toBe(`delete`);
    expect(json.results).toHaveLength(300);
    expect(json.results.filter(r => !r.ok)).toEqual([]);
    expect(emulator.state.keys.size).toBe(0);
    expect(emulator.state.requests.filter(r => r.status === 429).length).toBeGreaterThan(20);
  }, 60_000);

  it(`reports a delete that lost its connection, keeps going, and exits 1`, async () => {
    const {env, ledgerFile} = setup();
    const keys = emulator.seedKeys(6, {prefix: `capit`});
    recordInLedger(ledgerFile, keys);
    const victim = keys[3]!;
    // More drops than core's client retries, so this one delete really fails.
    emulator.knobs.dropNext(10, {method: `DELETE`, path: `/api/v1/keys/${victim.hash}`});

    const result = await runCli([`keys`, `delete`, `capit-*`, `--yes`], {env, timeoutMs: 30_000});
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stdout).toMatch(new RegExp(`^failed  ${victim.name} \\(openrouter\\): no answer from 127\\.0\\.0\\.1:\\d+ \\(connection dropped\\); the request may have reached it$`, `m`));
    expect(result.stdout).toContain(`Deleted 5 of 6 keys; 1 failed.`);
    expect([...emulator.state.keys.values()].map(k => k.name)).toEqual([victim.name]);
    const rows = ledger(ledgerFile);
    expect(rows.find(r => r.name === victim.name)!.status).toBe(`active`);
    expect(rows.filter(r => r.status === `deleted`)).toHaveLength(5);
  }, 30_000);

  // Bad input (empty globs, a missing --yes, an unknown platform): core/test/cli/bad-input.test.ts.

  it(`a glob that matches nothing says so and exits 1`, async () => {
    const {env, ledgerFile} = setup();
    recordInLedger(ledgerFile, emulator.seedKeys(2, {prefix: `capit`}));
    emulator.seedKeys(1, {prefix: `other`});
    const result = await runCli([`keys`, `delete`, `other-*`, `--yes`], {env});
    expect(result.exitCode, result.stderr).toBe(1);
    expect(result.stderr).toContain(`no capit key matches "other-*"`);
    expect(emulator.state.keys.size).toBe(3);
    // --all reaches keys capit did not issue.
    const all = await runCli([`keys`, `delete`, `other-*`, `--yes`, `--all`], {env});
    expect(all.exitCode, all.stderr).toBe(0);
    expect(emulator.state.keys.size).toBe(2);
  });
});

describe(`capit keys disable|enable`, () => {
  it(`the kill switch works with the environment master key when the credentials file is corrupt or too open`, async () => {
    const {env, ledgerFile} = setup();
    const configDir = path.join(env.CAPIT_HOME!, `config`);
    const credentials = path.join(configDir, `credentials.json`);
    fs.mkdirSync(configDir, {recursive: true, mode: 0o700});
    const [key] = emulator.seedKeys(1, {prefix: `capit`});
    recordInLedger(ledgerFile, [key!]);
    for (const [body, mode, problem] of [[`{bad`, 0o600, `is corrupt`], [`{"version":1,"platforms":{}}`, 0o644, `is readable by other users`]] as const) {
      fs.writeFileSync(credentials, body);
      fs.chmodSync(credentials, mode);
      const listed = await runCli([`keys`, `list`, `--json`], {env});
      expect(listed.exitCode, listed.stderr).toBe(0);
      expect((JSON.parse(listed.stdout) as {keys: {name: string}[]}).keys.map(k => k.name)).toEqual([key!.name]);
      expect(listed.stderr).toMatch(new RegExp(`^capit: warning: \\S+credentials\\.json ${problem}.*platforms without a master key in the environment are skipped\n$`));
      const disabled = await runCli([`keys`, `disable`, `*`, `--yes`], {env});
      expect(disabled.exitCode, disabled.stderr).toBe(0);
      expect(emulator.state.keys.get(key!.hash)?.disabled).toBe(true);
      expect((await runCli([`keys`, `enable`, `*`, `--yes`], {env})).exitCode).toBe(0);
      // Never rewritten.
      expect(fs.readFileSync(credentials, `utf8`)).toBe(body);
      // Without an environment key the store is the only source: refused with the fix, exit 1.
      const {OPENROUTER_MANAGEMENT_KEY: _unset, ...withoutEnvKey} = env;
      const refused = await runCli([`keys`, `list`], {env: withoutEnvKey});
      expect(refused.exitCode).toBe(1);
      expect(refused.stderr).toMatch(new RegExp(`^capit: \\S+credentials\\.json ${problem}[^\n]*\n$`));
    }
  });

  it(`the kill switch disables every capit key and enable reverses it`, async () => {
    const {env, ledgerFile} = setup();
    const mine = emulator.seedKeys(12, {prefix: `capit`});
    const foreign = emulator.seedKeys(2, {prefix: `other`});
    recordInLedger(ledgerFile, mine, `opencode`);

    const off = await runCli([`keys`, `disable`, `*`, `--yes`], {env});
    expect(off.exitCode, off.stderr).toBe(0);
    expect(off.stdout).toContain(`Disabled 12 keys.`);
    expect(off.stderr).toContain(`opencode now holds 12 disabled keys`);
    expect(mine.every(k => emulator.state.keys.get(k.hash)!.disabled)).toBe(true);
    expect(foreign.every(k => !emulator.state.keys.get(k.hash)!.disabled)).toBe(true);
    expect(ledger(ledgerFile).every(r => r.status === `disabled`)).toBe(true);
    const listed = JSON.parse((await runCli([`keys`, `--json`], {env})).stdout) as {keys: {status: string}[]};
    expect(listed.keys.map(k => k.status)).toEqual(Array(12).fill(`disabled`));

    const again = await runCli([`keys`, `disable`, `capit-1`, `--yes`, `--json`], {env});
    expect(JSON.parse(again.stdout).results).toEqual([{platform: `openrouter`, id: mine[1]!.hash, name: `capit-1`, ok: true, agent: `opencode`, note: `already disabled`}]);

    const on = await runCli([`--keys`, `enable`, `*`, `--yes`], {env});
    expect(on.exitCode, on.stderr).toBe(0);
    expect(on.stdout).toContain(`Enabled 12 keys.`);
    expect(mine.every(k => !emulator.state.keys.get(k.hash)!.disabled)).toBe(true);
    expect(ledger(ledgerFile).every(r => r.status === `active`)).toBe(true);
  });

  it(`disable retries PATCH after a 429 and reports every key`, async () => {
    const {env, ledgerFile} = setup();
    recordInLedger(ledgerFile, emulator.seedKeys(40, {prefix: `capit`}));
    emulator.knobs.every429(5);
    const result = await runCli([`keys`, `disable`, `capit-*`, `--yes`, `--json`], {env, timeoutMs: 30_000});
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout) as {results: {ok: boolean}[]};
    expect(json.results.filter(r => r.ok)).toHaveLength(40);
    expect([...emulator.state.keys.values()].every(k => k.disabled)).toBe(true);
    expect(emulator.state.requests.some(r => r.method === `PATCH` && r.status === 429)).toBe(true);
  }, 30_000);
});
