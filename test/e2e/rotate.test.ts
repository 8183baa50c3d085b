import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-rotate-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  const ledgerFile = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
  return {env, authFile, ledgerFile};
}

interface Row {id?: string; name: string; status: string; agent: string | null; capUsd: number; reset: string | null; expiresAt: string | null; byokCounted?: boolean | null; rotatedTo?: string; rotatedFrom?: string}
const ledger = (file: string): Row[] => JSON.parse(fs.readFileSync(file, `utf8`)).keys;
const installedKey = (authFile: string): string => JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key;
const liveKeys = () => [...emulator.state.keys.values()];

/** Issues the first key into opencode: $3 weekly, expiring in 30 days, BYOK excluded. */
async function issueFirst(env: Record<string, string>) {
  const issued = await runCli([`openrouter`, `3`, `--agent`, `opencode`, `--yes`, `--reset`, `weekly`, `--expires`, `30d`, `--exclude-byok`], {env});
  expect(issued.exitCode, issued.stderr).toBe(0);
  const [key] = liveKeys();
  return key!;
}

/** After a failed rotation: the agent still holds the old key, it is the only key at the provider, nothing pending. */
function expectUnchanged(authFile: string, ledgerFile: string, old: {key: string; hash: string; name: string}) {
  expect(installedKey(authFile)).toBe(old.key);
  expect(liveKeys().map(k => k.hash)).toEqual([old.hash]);
  const rows = ledger(ledgerFile);
  expect(rows.map(r => [r.name, r.status])).toEqual([[old.name, `active`]]);
  expect(rows[0]!.rotatedTo).toBeUndefined();
}

describe(`capit rotate`, () => {
  it(`installs a successor with the same cap, reset, expiry and BYOK setting, then deletes the old key`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);

    const result = await runCli([`rotate`, `opencode`, `--yes`, `--json`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    const {rotations} = JSON.parse(result.stdout) as {rotations: {status: string; oldKey: string; newKey: string}[]};
    expect(rotations).toHaveLength(1);
    expect(rotations[0]!.status).toBe(`rotated`);
    expect(rotations[0]!.oldKey).toBe(old.name);

    const keys = liveKeys();
    expect(keys).toHaveLength(1);
    const successor = keys[0]!;
    expect(successor.hash).not.toBe(old.hash);
    expect(successor.name).toBe(rotations[0]!.newKey);
    expect(successor.name).toMatch(/^opencode-[0-9a-f]{8}$/);
    expect([successor.limit, successor.limit_reset, successor.expires_at, successor.include_byok_in_limit])
      .toEqual([old.limit, old.limit_reset, old.expires_at, old.include_byok_in_limit]);
    expect(successor.include_byok_in_limit).toBe(false);
    expect(installedKey(authFile)).toBe(successor.key);
    expect(result.stdout + result.stderr).not.toContain(successor.key);

    const rows = ledger(ledgerFile);
    expect(rows.find(r => r.name === old.name)!.status).toBe(`deleted`);
    const next = rows.find(r => r.name === successor.name)!;
    expect([next.status, next.rotatedFrom, next.capUsd, next.reset, next.byokCounted]).toEqual([`active`, old.name, 3, `weekly`, false]);
    const audit = fs.readFileSync(path.join(env.CAPIT_HOME!, `state`, `audit.jsonl`), `utf8`);
    expect(audit).toContain(`"action":"rotate"`);
    expect(audit).not.toContain(successor.key);
  });

  it(`restore after a rotate goes back to the configuration from before capit's first install`, async () => {
    const {env, authFile} = setup();
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const original = `{\n  "anthropic": {"type": "api", "key": "sk-ant-fake-0000"}\n}\n`;
    fs.writeFileSync(authFile, original);
    await issueFirst(env);
    expect((await runCli([`rotate`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    expect((await runCli([`rotate`, `opencode`, `--yes`], {env})).exitCode).toBe(0);

    const restored = await runCli([`restore`, `opencode`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(original);
    // Names the key the agent held until now (still alive), not the ones rotate deleted.
    const [live] = liveKeys();
    expect(restored.stderr).toContain(`The key "${live!.name}" still exists`);
  });

  it(`create fails: nothing changes, the agent keeps its key`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    emulator.faults.add({method: `POST`, path: `/api/v1/keys`, when: `before`, kind: `status`, status: 500});
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/^capit: rotate opencode failed: .*opencode's files still hold its previous key/m);
    expectUnchanged(authFile, ledgerFile, old);
  });

  it(`verify fails: the successor is deleted before any file is written`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    // The check asks the provider about the new key with the new key itself (GET /key); it answers 500 every time.
    emulator.faults.add({method: `GET`, path: `/api/v1/key`, when: `before`, kind: `status`, status: 500, count: -1});
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`could not be verified`);
    expect(emulator.state.requests.some(r => r.method === `GET` && r.path === `/api/v1/key`)).toBe(true);
    expect(result.stderr).toContain(`was deleted at the provider`);
    expectUnchanged(authFile, ledgerFile, old);
  });

  it(`install fails: the files are put back and the successor deleted`, async () => {
    const {env, authFile, ledgerFile} = setup({CAPIT_TEST_FAIL_AT: `before-rename:auth`});
    const {CAPIT_TEST_FAIL_AT: _, ...issueEnv} = env;
    const old = await issueFirst(issueEnv);
    const before = fs.readFileSync(authFile);
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`Installing the key into opencode failed`);
    expect(fs.readFileSync(authFile).equals(before)).toBe(true);
    expectUnchanged(authFile, ledgerFile, old);
  });

  it(`deleting the old key fails: the agent holds the successor, the old key stays recorded and gc removes it`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    emulator.faults.add({method: `DELETE`, path: `/api/v1/keys/${old.hash}`, when: `before`, kind: `status`, status: 500, count: -1});
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`could not be deleted`);
    expect(result.stderr).toContain(`capit gc --yes`);
    const successor = liveKeys().find(k => k.hash !== old.hash)!;
    expect(installedKey(authFile)).toBe(successor.key);
    expect(ledger(ledgerFile).find(r => r.name === old.name)).toMatchObject({status: `active`, rotatedTo: successor.name});

    emulator.faults.clear();
    const dry = await runCli([`gc`, `--json`], {env});
    expect(dry.exitCode, dry.stderr).toBe(0);
    expect((JSON.parse(dry.stdout) as {items: {kind: string; key?: string}[]}).items).toEqual([expect.objectContaining({kind: `rotated-key`, key: old.name})]);
    expect(liveKeys()).toHaveLength(2);
    const gc = await runCli([`gc`, `--yes`], {env});
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect(liveKeys().map(k => k.hash)).toEqual([successor.hash]);
    expect(ledger(ledgerFile).find(r => r.name === old.name)!.status).toBe(`deleted`);
  });

  it(`killed after the install, before the old key was deleted: the next run completes it and gc deletes the old key`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    // A killed run leaves its lock; the test-only CAPIT_LOCK_STALE_MS lets the next run take it over sooner.
    Object.assign(env, {CAPIT_LOCK_STALE_MS: `2000`});
    const killed = await runCli([`rotate`, `opencode`, `--yes`], {env: {...env, CAPIT_TEST_CRASH_AT: `before-active`}});
    expect(killed.exitCode).toBeNull();
    const successor = liveKeys().find(k => k.hash !== old.hash)!;
    expect(installedKey(authFile)).toBe(successor.key);

    const gc = await runCli([`gc`, `--yes`, `--json`], {env});
    expect(gc.exitCode, gc.stderr).toBe(0);
    expect((JSON.parse(gc.stdout) as {items: {kind: string; key?: string}[]}).items.map(i => [i.kind, i.key])).toEqual([[`rotated-key`, old.name]]);
    expect(liveKeys().map(k => k.hash)).toEqual([successor.hash]);
    const rows = ledger(ledgerFile);
    expect(rows.map(r => [r.name, r.status]).sort()).toEqual([[old.name, `deleted`], [successor.name, `active`]].sort());
  });

  it(`--all rotates every agent holding a key, each with its own settings`, async () => {
    const {env} = setup();
    expect((await runCli([`openrouter`, `2`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const claude = await runCli([`openrouter`, `7`, `--agent`, `claude`, `--yes`, `--reset`, `daily`], {env});
    expect(claude.exitCode, claude.stderr).toBe(0);
    const before = liveKeys().map(k => k.hash);
    const result = await runCli([`rotate`, `--all`, `--yes`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout.trim().split(`\n`)).toHaveLength(2);
    const after = liveKeys();
    expect(after.some(k => before.includes(k.hash))).toBe(false);
    expect(after.map(k => [k.name.replace(/-[0-9a-f]{8}$/, ``), k.limit, k.limit_reset]).sort()).toEqual([[`claude`, 7, `daily`], [`opencode`, 2, null]]);
  });

  it(`refuses without an agent holding a key, and without --yes off a terminal (exit 2, nothing created)`, async () => {
    const {env} = setup();
    const none = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(none.exitCode).toBe(2);
    expect(none.stderr).toContain(`opencode holds no key capit installed`);
    await issueFirst(env);
    const noYes = await runCli([`rotate`, `--all`], {env});
    expect(noYes.exitCode).toBe(2);
    expect(liveKeys()).toHaveLength(1);
  });

  // adv2 F16: a rotation must never hand out more than the old key had left.
  it(`a lifetime cap: the successor's cap is what the old key had left; a used-up key is refused`, async () => {
    const {env, authFile, ledgerFile} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const [first] = liveKeys();
    emulator.charge(first!.hash, 1.5);
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode, result.stderr).toBe(0);
    const [successor] = liveKeys();
    expect(successor!.hash).not.toBe(first!.hash);
    expect(successor!.limit).toBe(3.5);
    expect(ledger(ledgerFile).find(r => r.name === successor!.name)!.capUsd).toBe(3.5);

    emulator.charge(successor!.hash, 3.5);
    const usedUp = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(usedUp.exitCode).toBe(1);
    expect(usedUp.stderr).toContain(`has spent $3.50 of its lifetime cap of $3.50`);
    expect(usedUp.stderr).toContain(`nothing was created or changed`);
    expect(installedKey(authFile)).toBe(successor!.key);
    expect(liveKeys().map(k => k.hash)).toEqual([successor!.hash]);
    expect(ledger(ledgerFile).filter(r => r.status === `active`).map(r => [r.name, r.rotatedTo])).toEqual([[successor!.name, undefined]]);
  });

  it(`a windowed cap with spend in the current window: refused, or with --force the extra amount is stated`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    emulator.charge(old.hash, 1.25);
    const refused = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain(`up to $1.25 more could be spent this window`);
    expect(refused.stderr).toContain(`--force`);
    expectUnchanged(authFile, ledgerFile, old);

    const forced = await runCli([`rotate`, `opencode`, `--yes`, `--force`], {env});
    expect(forced.exitCode, forced.stderr).toBe(0);
    expect(forced.stderr).toContain(`up to $1.25 more than $3.00 can be spent in the current window`);
    const [successor] = liveKeys();
    expect([successor!.hash === old.hash, successor!.limit, successor!.limit_reset]).toEqual([false, 3, `weekly`]);

    emulator.charge(successor!.hash, 3);
    const full = await runCli([`rotate`, `opencode`, `--yes`, `--force`], {env});
    expect(full.exitCode).toBe(1);
    expect(full.stderr).toContain(`wait for the cap to reset`);
    expect(liveKeys().map(k => k.hash)).toEqual([successor!.hash]);
  });

  // adv2 F17: a key disabled in the dashboard is not revived by a successor.
  it(`a key disabled at the provider is not rotated`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    const patched = await fetch(`${emulator.openrouterBaseUrl}/keys/${old.hash}`, {
      method: `PATCH`, headers: {authorization: `Bearer ${MASTER}`, 'content-type': `application/json`}, body: JSON.stringify({disabled: true}),
    });
    expect(patched.status).toBe(200);
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`is disabled at openrouter`);
    expect(result.stderr).toContain(`capit keys enable ${old.name}`);
    expect(result.stderr).toContain(`--force`);
    expect(liveKeys().map(k => [k.hash, k.disabled])).toEqual([[old.hash, true]]);
    expect(installedKey(authFile)).toBe(old.key);
    expect(ledger(ledgerFile).map(r => [r.name, r.status, r.rotatedTo])).toEqual([[old.name, `active`, undefined]]);

    // On purpose (a leaked key that was switched off): --force replaces it with a working successor.
    const forced = await runCli([`rotate`, `opencode`, `--yes`, `--force`], {env});
    expect(forced.exitCode, forced.stderr).toBe(0);
    const [successor] = liveKeys();
    expect([successor!.hash === old.hash, successor!.disabled]).toEqual([false, false]);
    expect(installedKey(authFile)).toBe(successor!.key);
  });

  // adv3 N2: spend on the old key while the successor is being made is taken off the successor's cap.
  it(`spend on the old key during the rotation is taken off the successor's cap`, async () => {
    const {env, ledgerFile} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const [old] = liveKeys();
    // The create call is held for a while; the agent spends $2 on the old key meanwhile.
    emulator.faults.add({method: `POST`, pathRegex: `^/api/v1/keys$`, when: `after`, kind: `hang`, delayMs: 1_500});
    const running = runCli([`rotate`, `opencode`, `--yes`], {env});
    await new Promise(resolve => setTimeout(resolve, 500));
    emulator.charge(old!.hash, 2);
    const result = await running;
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout + result.stderr).toContain(`The old key spent $2.00 during the rotation, so the new key's cap was lowered to $3.00`);
    const [successor] = liveKeys();
    expect(successor!.hash).not.toBe(old!.hash);
    expect(successor!.limit).toBe(3);
    expect(ledger(ledgerFile).find(r => r.name === successor!.name)!.capUsd).toBe(3);
  });

  // adv2 F8: the user replaced capit's key in the agent's file; rotate must not overwrite theirs.
  it(`refuses when the agent's files no longer hold capit's key`, async () => {
    const {env, authFile, ledgerFile} = setup();
    const old = await issueFirst(env);
    const own = `{\n  "openrouter": {"type": "api", "key": "sk-or-v1-fake-users-own"}\n}\n`;
    fs.writeFileSync(authFile, own);
    const result = await runCli([`rotate`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`no longer hold its capit key "${old.name}"`);
    expect(result.stderr).toContain(`capit restore opencode`);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(own);
    expect(liveKeys().map(k => k.hash)).toEqual([old.hash]);
    expect(ledger(ledgerFile).map(r => [r.name, r.status, r.rotatedTo])).toEqual([[old.name, `active`, undefined]]);
  });

  it(`an unknown agent is named as unknown (exit 2)`, async () => {
    const {env} = setup();
    const result = await runCli([`rotate`, `nosuch`, `--yes`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/unknown agent/i);
  });

  it(`a key disabled with capit keys disable: rotate names it and says to enable it (exit 2, nothing created)`, async () => {
    const {env, authFile} = setup();
    const old = await issueFirst(env);
    const off = await runCli([`keys`, `disable`, `*`, `--yes`], {env});
    expect(off.exitCode, off.stderr).toBe(0);
    for (const args of [[`rotate`, `opencode`, `--yes`], [`rotate`, `--all`, `--yes`]]) {
      const result = await runCli(args, {env});
      expect(result.exitCode).toBe(2);
      expect(result.stderr).toContain(`opencode holds the disabled key "${old.name}"`);
      expect(result.stderr).toContain(`capit keys enable ${old.name}`);
    }
    expect(liveKeys().map(k => [k.hash, k.disabled])).toEqual([[old.hash, true]]);
    expect(installedKey(authFile)).toBe(old.key);
  });
});
