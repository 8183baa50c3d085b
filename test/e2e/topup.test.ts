import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});
const HOUR = 3_600_000;

function setup() {
  const root = tempDir(`capit-topup-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
  // Real XDG layout: the config at $XDG_CONFIG_HOME/capit/config.json, the audit log at $XDG_STATE_HOME/capit/audit.jsonl.
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const stateDir = path.join(env.XDG_STATE_HOME!, `capit`);
  return {env, stateDir, auditFile: path.join(stateDir, `audit.jsonl`), configFile: path.join(env.XDG_CONFIG_HOME!, `capit`, `config.json`)};
}

interface TopupRow {at: string; amountUsd: number; fromCapUsd: number; toCapUsd: number; until: string | null; state: string}
interface LedgerRow {id?: string; name: string; agent: string | null; capUsd: number; topups?: TopupRow[]}

const ledger = (stateDir: string): LedgerRow[] => JSON.parse(fs.readFileSync(path.join(stateDir, `ledger.json`), `utf8`)).keys;
const audit = (file: string) => fs.existsSync(file) ? fs.readFileSync(file, `utf8`).trim().split(`\n`).map(l => JSON.parse(l) as Record<string, unknown>) : [];
const patches = () => emulator.state.requests.filter(r => r.method === `PATCH`);
const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

/** Installs a $5 key into opencode and returns its emulator record. */
async function installOpencode(env: Record<string, string>) {
  const installed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
  expect(installed.exitCode, installed.stderr).toBe(0);
  const [record] = [...emulator.state.keys.values()];
  return record!;
}

/** An env whose clock reads `ms` from now (CAPIT_TEST_NOW), so a take-back comes due without waiting. */
const later = (env: Record<string, string>, ms: number) => ({...env, CAPIT_TEST_NOW: new Date(Date.now() + ms).toISOString()});

describe(`capit topup`, () => {
  it(`raises the agent's key, verified at the provider, and records it in the ledger and the audit log`, async () => {
    const {env, stateDir, auditFile} = setup();
    const key = await installOpencode(env);

    const result = await runCli([`topup`, `opencode`, `5`, `--for`, `2h`, `--yes`, `--json`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    const json = JSON.parse(result.stdout);
    expect(json).toMatchObject({platform: `openrouter`, keyId: key.hash, keyName: key.name, agent: `opencode`, amountUsd: 5, oldCapUsd: 5, newCapUsd: 10});
    expect(Date.parse(json.until)).toBeGreaterThan(Date.now() + HOUR);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(10);
    expect(patches()).toHaveLength(1);

    const entry = ledger(stateDir).find(k => k.id === key.hash)!;
    expect(entry.capUsd).toBe(10);
    expect(entry.topups).toEqual([expect.objectContaining({amountUsd: 5, fromCapUsd: 5, toCapUsd: 10, state: `applied`, until: json.until})]);

    const lines = audit(auditFile);
    expect(lines).toEqual([expect.objectContaining({action: `topup`, platform: `openrouter`, keyName: key.name, keyId: key.hash, agent: `opencode`,
      oldCapUsd: 5, newCapUsd: 10, until: json.until, reason: `capit topup opencode 5 --for 2h`})]);
    expect(fs.statSync(auditFile).mode & 0o777).toBe(0o600);
    expect(fs.readFileSync(auditFile, `utf8`)).not.toContain(key.key);

    // Before its time nothing is taken back; keys list shows the pending take-back.
    const listed = await runCli([`keys`, `list`, `--json`], {env});
    expect(listed.exitCode, listed.stderr).toBe(0);
    expect(JSON.parse(listed.stdout).keys[0].takeBacks).toEqual([{amountUsd: 5, until: json.until}]);
    const text = await runCli([`keys`, `list`], {env});
    expect(text.stdout).toContain(`${key.name}: $5.00 top-up to be taken back at`);
    expect(patches()).toHaveLength(1);
  });

  it(`a later command takes a due raise back to the original cap, once`, async () => {
    const {env, stateDir, auditFile} = setup();
    const key = await installOpencode(env);
    expect((await runCli([`topup`, `opencode`, `3`, `--for`, `2h`, `--yes`], {env})).exitCode).toBe(0);
    emulator.charge(key.hash, 1.5);

    const next = await runCli([`agents`], {env: later(env, 3 * HOUR)});
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toContain(`took back the $3.00 top-up on ${key.name} (opencode): cap $8.00 → $5.00`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);
    const entry = ledger(stateDir).find(k => k.id === key.hash)!;
    expect(entry.capUsd).toBe(5);
    expect(entry.topups![0]).toMatchObject({state: `taken-back`, takenBackToUsd: 5});
    expect(audit(auditFile).map(l => [l.action, l.oldCapUsd, l.newCapUsd])).toEqual([[`topup`, 5, 8], [`take-back`, 8, 5]]);

    const again = await runCli([`keys`, `list`, `--json`], {env: later(env, 4 * HOUR)});
    expect(again.stderr).toBe(``);
    expect(JSON.parse(again.stdout).keys[0].takeBacks).toBeUndefined();
    expect(patches()).toHaveLength(2);
  });

  it(`never takes back below what the key has spent (rounded up to the cent)`, async () => {
    const {env, auditFile} = setup();
    const key = await installOpencode(env);
    expect((await runCli([`topup`, key.name, `5`, `--for`, `30m`, `--yes`], {env})).exitCode).toBe(0);
    emulator.charge(key.hash, 7.123);

    const next = await runCli([`keys`, `list`], {env: later(env, HOUR)});
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toContain(`took back $2.87 of the $5.00 top-up on ${key.name} (opencode): cap $10.00 → $7.13 (not lower: already spent $7.12)`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(7.13);
    expect(audit(auditFile).at(-1)).toMatchObject({action: `take-back`, oldCapUsd: 10, newCapUsd: 7.13, reason: `timer expired; kept at what was spent`});
  });

  it(`without a master key at hand the take-back stays due, said once, and happens when the key is back`, async () => {
    const {env} = setup();
    const key = await installOpencode(env);
    expect((await runCli([`topup`, `opencode`, `2`, `--for`, `1h`, `--yes`], {env})).exitCode).toBe(0);
    const {OPENROUTER_MANAGEMENT_KEY: _, ...noKey} = env;

    const first = await runCli([`agents`], {env: later(noKey, 2 * HOUR)});
    expect(first.exitCode, first.stderr).toBe(0);
    expect(first.stderr).toContain(`the $2.00 top-up on ${key.name} (opencode) is due to be taken back, but no openrouter master key is set`);
    expect(first.stderr).not.toContain(`keys list`);
    const second = await runCli([`agents`], {env: later(noKey, 2 * HOUR)});
    expect(second.stderr).not.toContain(`due to be taken back`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(7);

    const withKey = await runCli([`agents`], {env: later(env, 2 * HOUR)});
    expect(withKey.stderr).toContain(`cap $7.00 → $5.00`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);
  });

  it(`two raises at once both count: each works from the cap the other left`, async () => {
    const {env, stateDir, auditFile} = setup();
    const key = await installOpencode(env);
    const results = await Promise.all([
      runCli([`topup`, `opencode`, `2`, `--yes`], {env}),
      runCli([`topup`, key.name, `3`, `--yes`], {env}),
    ]);
    for (const r of results) expect(r.exitCode, r.stderr).toBe(0);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(10);
    expect(ledger(stateDir)[0]!.capUsd).toBe(10);
    // The audit log chains: the second raise starts from the cap the first one left.
    const [first, second] = audit(auditFile);
    expect(first!.oldCapUsd).toBe(5);
    expect(second!.oldCapUsd).toBe(first!.newCapUsd);
    expect(second!.newCapUsd).toBe(10);
  });

  it(`a permanent raise (no --for) is never taken back`, async () => {
    const {env, stateDir} = setup();
    const key = await installOpencode(env);
    const result = await runCli([`topup`, `opencode`, `$1.50`, `--yes`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`cap $5.00 → $6.50, verified at openrouter`);
    await runCli([`keys`, `list`], {env: later(env, 48 * HOUR)});
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(6.5);
    expect(ledger(stateDir)[0]!.topups![0]).toMatchObject({until: null, state: `applied`});
  });

  it(`refuses a raise over topup.maxUsd with exit 2 before any request`, async () => {
    const {env, stateDir, auditFile, configFile} = setup();
    await installOpencode(env);
    fs.mkdirSync(path.dirname(configFile), {recursive: true});
    fs.writeFileSync(configFile, JSON.stringify({topup: {maxUsd: 3}}));
    const before = managementRequests().length;
    const ledgerBefore = fs.readFileSync(path.join(stateDir, `ledger.json`), `utf8`);

    const result = await runCli([`topup`, `opencode`, `5`, `--yes`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`over the configured ceiling topup.maxUsd = $3.00 (${configFile}); nothing was sent`);
    expect(managementRequests().length).toBe(before);
    expect(fs.readFileSync(path.join(stateDir, `ledger.json`), `utf8`)).toBe(ledgerBefore);
    expect(fs.existsSync(auditFile)).toBe(false);
  });

  it(`caps the raises on one key in 24 hours at the ceiling too; a project config can tighten it`, async () => {
    const {env, configFile} = setup();
    const key = await installOpencode(env);
    fs.mkdirSync(path.dirname(configFile), {recursive: true});
    fs.writeFileSync(configFile, JSON.stringify({topup: {maxUsd: 3}}));
    expect((await runCli([`topup`, `opencode`, `2`, `--yes`], {env})).exitCode).toBe(0);
    const before = managementRequests().length;

    const over = await runCli([`topup`, `opencode`, `2`, `--yes`], {env});
    expect(over.exitCode).toBe(2);
    expect(over.stderr).toContain(`was raised by $2.00 in the last 24 hours; another $2.00 would pass the configured daily ceiling of $3.00`);
    expect(managementRequests().length).toBe(before);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(7);
    // A day later the window has moved on.
    expect((await runCli([`topup`, `opencode`, `2`, `--yes`], {env: later(env, 25 * HOUR)})).exitCode).toBe(0);

    // The project's ceiling is smaller than the user's: it wins.
    const project = path.join(env.HOME!, `project`);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, `.capitrc.json`), JSON.stringify({topup: {maxUsd: 0.5}}));
    const tight = await runCli([`topup`, `opencode`, `1`, `--yes`], {env: later(env, 50 * HOUR), cwd: project});
    expect(tight.exitCode).toBe(2);
    expect(tight.stderr).toContain(`topup.maxUsd = $0.50`);
  });

  it(`says so when the provider does not show the new cap, and keeps the timer`, async () => {
    const {env, stateDir} = setup();
    const key = await installOpencode(env);
    // The PATCH answers junk and changes nothing: the read-back shows the old cap.
    emulator.faults.add({kind: `junk`, when: `before`, method: `PATCH`, pathRegex: `^/api/v1/keys/`});
    const result = await runCli([`topup`, `opencode`, `5`, `--for`, `1h`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/still has its old value of limit/);
    expect(result.stdout).toBe(``);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);
    expect(ledger(stateDir)[0]!.topups![0]).toMatchObject({state: `applying`, fromCapUsd: 5});
    // Its take-back never lowers the cap below where it was before.
    const next = await runCli([`agents`], {env: later(env, 2 * HOUR)});
    expect(next.exitCode, next.stderr).toBe(0);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);
  });

  it(`refuses bad input with exit 2 and sends nothing`, async () => {
    const {env} = setup();
    await installOpencode(env);
    const before = managementRequests().length;
    for (const [args, message] of [
      [[`topup`, `nobody`, `5`, `--yes`], `No agent or capit key is named "nobody"`],
      [[`topup`, `claude`, `5`, `--yes`], `claude holds no capit key`],
      [[`topup`, `opencode`, `0`, `--yes`], `must be more than $0.00`],
      [[`topup`, `opencode`, `5`, `--for`, `2 hours`, `--yes`], `Invalid --for "2 hours"`],
      [[`topup`, `opencode`, `5`], `pass --yes`],
    ] as const) {
      const result = await runCli([...args], {env});
      expect(result.exitCode, `${args.join(` `)}: ${result.stderr}`).toBe(2);
      expect(result.stderr).toContain(message);
    }
    expect(managementRequests().length).toBe(before);
  });

  it(`AIHubMix: raises the token's quota (GET then full PUT) and takes it back`, async () => {
    const {env} = setup();
    const aihubmix = {...env, CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`};
    // No agent takes an AIHubMix key yet: the key is printed once and topped up by its name.
    const issued = await runCli([`aihubmix`, `4`, `--yes`], {env: aihubmix});
    expect(issued.exitCode, issued.stderr).toBe(0);
    const [token] = [...emulator.state.aihubmixTokens.values()];
    emulator.chargeAihubmix(token!.id, 1);

    const result = await runCli([`topup`, token!.name, `2`, `--for`, `1h`, `--yes`, `--json`], {env: aihubmix});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({platform: `aihubmix`, oldCapUsd: 4, newCapUsd: 6, spentUsd: 1});
    // one-api's quota is what remains: $6 cap − $1 used.
    expect(emulator.state.aihubmixTokens.get(token!.id)!.remain_quota).toBe(5 * 500_000);

    const next = await runCli([`agents`], {env: later(aihubmix, 2 * HOUR)});
    expect(next.stderr).toContain(`cap $6.00 → $4.00`);
    expect(emulator.state.aihubmixTokens.get(token!.id)!.remain_quota).toBe(3 * 500_000);
  });

  it(`a take-back aims at the cap before the raise: retried after a kill, or after a dashboard change, it never lowers twice`, async () => {
    const {env, stateDir, auditFile} = setup();
    const key = await installOpencode(env);
    emulator.charge(key.hash, 1);
    expect((await runCli([`topup`, `opencode`, `5`, `--for`, `30m`, `--yes`], {env})).exitCode).toBe(0);
    // A take-back whose PATCH landed (cap back to $5) but whose run was killed before the ledger said so.
    emulator.state.keys.get(key.hash)!.limit = 5;

    const next = await runCli([`keys`, `list`], {env: later(env, HOUR)});
    expect(next.exitCode, next.stderr).toBe(0);
    expect(next.stderr).toContain(`the $5.00 top-up on ${key.name} (opencode) is over; its cap is $5.00 already, so there was nothing to take back`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);
    expect(ledger(stateDir)[0]!.topups![0]).toMatchObject({state: `taken-back`, takenBackToUsd: 5});
    expect(audit(auditFile).at(-1)).toMatchObject({action: `take-back`, oldCapUsd: 5, newCapUsd: 5});

    // The same raise, but the cap was set to $6 in the dashboard meanwhile: back to the $5 base, not $6 − $5.
    const second = await runCli([`topup`, `opencode`, `5`, `--for`, `30m`, `--yes`], {env: later(env, HOUR)});
    expect(second.exitCode, second.stderr).toBe(0);
    emulator.state.keys.get(key.hash)!.limit = 6;
    const after = await runCli([`agents`], {env: later(env, 2 * HOUR)});
    expect(after.stderr).toContain(`took back the $5.00 top-up on ${key.name} (opencode): cap $6.00 → $5.00`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);
    // The aim was recorded before the request.
    expect(ledger(stateDir)[0]!.topups![1]).toMatchObject({state: `taken-back`, takingBackToUsd: 5, takenBackToUsd: 5});
  });

  it(`a rotation ends a pending timed top-up: the successor gets the base cap, and the later take-back changes nothing`, async () => {
    const {env} = setup();
    const old = await installOpencode(env);
    expect((await runCli([`topup`, `opencode`, `5`, `--for`, `30m`, `--yes`], {env})).exitCode).toBe(0);
    expect(emulator.state.keys.get(old.hash)!.limit).toBe(10);
    // A leaked key must be replaceable at once, timer or not; the raise does not move to the successor.
    const rotated = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(rotated.exitCode, rotated.stderr).toBe(0);
    const successor = [...emulator.state.keys.values()].find(k => k.hash !== old.hash)!;
    expect(successor.limit).toBe(5);
    expect(emulator.state.keys.has(old.hash)).toBe(false);

    // When the timer runs out, nothing raises or lowers the successor.
    const later1 = await runCli([`agents`], {env: later(env, HOUR)});
    expect(later1.exitCode, later1.stderr).toBe(0);
    expect(emulator.state.keys.get(successor.hash)!.limit).toBe(5);
  });

  it(`the daily ceiling counts the raises of the keys a rotation replaced`, async () => {
    const {env, configFile} = setup();
    await installOpencode(env);
    fs.mkdirSync(path.dirname(configFile), {recursive: true});
    fs.writeFileSync(configFile, JSON.stringify({topup: {maxUsd: 10, maxPerDayUsd: 12}}));
    expect((await runCli([`topup`, `opencode`, `10`, `--yes`], {env})).exitCode).toBe(0);
    expect((await runCli([`rotate`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const before = managementRequests().length;

    const over = await runCli([`topup`, `opencode`, `10`, `--yes`], {env});
    expect(over.exitCode).toBe(2);
    expect(over.stderr).toContain(`was raised by $10.00 in the last 24 hours; another $10.00 would pass the configured daily ceiling of $12.00`);
    expect(managementRequests().length).toBe(before);
  });

  it(`AIHubMix: spend landing between the read and the PUT is not given back; the raise is corrected to exactly what was asked`, async () => {
    const {env} = setup();
    const aihubmix = {...env, CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`};
    expect((await runCli([`aihubmix`, `6`, `--yes`], {env: aihubmix})).exitCode).toBe(0);
    const [token] = [...emulator.state.aihubmixTokens.values()];
    const putsBefore = emulator.state.requests.filter(r => r.method === `PUT`).length;
    emulator.knobs.latencyMs = 400;
    try {
      const running = runCli([`topup`, token!.name, `1`, `--yes`, `--json`], {env: aihubmix});
      // The PUT has arrived (its body computed from the spend read before); the spend lands before it is handled.
      for (let i = 0; i < 200 && emulator.state.requests.filter(r => r.method === `PUT`).length === putsBefore; i++) await new Promise(r => setTimeout(r, 25));
      emulator.chargeAihubmix(token!.id, 2);
      const result = await running;
      expect(result.exitCode, result.stderr).toBe(0);
      expect(JSON.parse(result.stdout)).toMatchObject({oldCapUsd: 6, newCapUsd: 7, spentUsd: 2});
    } finally {
      emulator.knobs.latencyMs = 0;
    }
    // $7 cap − $2 used.
    expect(emulator.state.aihubmixTokens.get(token!.id)!.remain_quota).toBe(5 * 500_000);
  });

  it(`overlapping timed raises are each taken back to the cap they started from; a cap lowered in the dashboard before a raise is kept`, async () => {
    const {env} = setup();
    const key = await installOpencode(env);
    expect((await runCli([`topup`, `opencode`, `3`, `--for`, `30m`, `--yes`], {env})).exitCode).toBe(0);
    expect((await runCli([`topup`, `opencode`, `2`, `--for`, `2h`, `--yes`], {env})).exitCode).toBe(0);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(10);
    const first = await runCli([`agents`], {env: later(env, HOUR)});
    expect(first.stderr).toContain(`took back the $3.00 top-up on ${key.name} (opencode): cap $10.00 → $7.00`);
    const second = await runCli([`agents`], {env: later(env, 3 * HOUR)});
    expect(second.stderr).toContain(`took back the $2.00 top-up on ${key.name} (opencode): cap $7.00 → $5.00`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(5);

    // The user lowers the cap to $3 in the dashboard; a later timed raise goes back to $3, not to the older $5.
    emulator.state.keys.get(key.hash)!.limit = 3;
    expect((await runCli([`topup`, `opencode`, `2`, `--for`, `30m`, `--yes`], {env: later(env, 3 * HOUR)})).exitCode).toBe(0);
    const third = await runCli([`agents`], {env: later(env, 4 * HOUR)});
    expect(third.stderr).toContain(`cap $5.00 → $3.00`);
    expect(emulator.state.keys.get(key.hash)!.limit).toBe(3);
  });
});
