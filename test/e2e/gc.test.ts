import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup() {
  const root = tempDir(`capit-gc-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
  const stateDir = path.join(env.CAPIT_HOME!, `state`);
  return {env, stateDir, ledgerFile: path.join(stateDir, `ledger.json`)};
}

interface Row {id?: string; name: string; status: string; agent: string | null; backupDir: string | null; [k: string]: unknown}
const ledger = (file: string): Row[] => JSON.parse(fs.readFileSync(file, `utf8`)).keys;
const writeLedger = (file: string, keys: Row[]) => fs.writeFileSync(file, JSON.stringify({version: 1, keys}));
const entry = (over: Partial<Row> & {name: string}): Row => ({
  platform: `openrouter`, agent: null, capUsd: 1, reset: null, expiresAt: null, createdAt: new Date().toISOString(),
  status: `active`, files: [], backupDir: null, ...over,
});
interface Item {kind: string; key?: string; backupDir?: string; done?: boolean}

describe(`capit gc`, () => {
  it(`lists first and changes nothing; with --yes removes session, gone, stuck-pending keys and entries`, async () => {
    const {env, stateDir, ledgerFile} = setup();
    // A printed key (no agent), then leftovers written as the other commands would leave them.
    expect((await runCli([`openrouter`, `1`], {env})).exitCode).toBe(0);
    const [kept] = ledger(ledgerFile);
    const gone = emulator.createKey({name: `capit-0000gone`, limit: 1});
    emulator.removeKey(gone.hash);
    const goneHeld = emulator.createKey({name: `claude-0000dead`, limit: 1});
    emulator.removeKey(goneHeld.hash);
    const session = emulator.createKey({name: `run-5e551011`, limit: 2});
    const liveSession = emulator.createKey({name: `run-11fe1011`, limit: 2});
    const stuck = emulator.createKey({name: `opencode-57c4c4ed`, limit: 1});
    const dayAgo = new Date(Date.now() - 2 * 24 * 3600 * 1000).toISOString();
    writeLedger(ledgerFile, [
      kept!,
      entry({id: gone.hash, name: gone.name}),
      entry({id: goneHeld.hash, name: goneHeld.name, agent: `claude`}),
      entry({id: session.hash, name: session.name, session: true, expiresAt: dayAgo}),
      // Not expired and no recorded process: may belong to a live `capit run`, so it stays.
      entry({id: liveSession.hash, name: liveSession.name, session: true, expiresAt: new Date(Date.now() + 3600_000).toISOString()}),
      entry({name: stuck.name, status: `pending`, createdAt: dayAgo, agent: `opencode`, pendingNote: `looking it up failed`}),
    ]);

    const before = snapshotTree(stateDir);
    const dry = await runCli([`gc`, `--json`], {env});
    expect(dry.exitCode, dry.stderr).toBe(0);
    const listed = JSON.parse(dry.stdout) as {dryRun: boolean; items: Item[]};
    expect(listed.dryRun).toBe(true);
    expect(listed.items.map(i => [i.kind, i.key]).sort()).toEqual([
      [`gone-at-provider`, gone.name], [`gone-at-provider`, goneHeld.name], [`session-key`, session.name], [`stuck-pending`, stuck.name],
    ].sort());
    expect(snapshotTree(stateDir)).toEqual(before);
    expect(emulator.state.keys.has(session.hash)).toBe(true);

    const text = await runCli([`gc`], {env});
    expect(text.stdout).toContain(`Dry run — nothing was changed.`);

    const done = await runCli([`gc`, `--yes`], {env});
    expect(done.exitCode, done.stderr).toBe(0);
    expect(emulator.state.keys.has(session.hash)).toBe(false);
    expect(emulator.state.keys.has(stuck.hash)).toBe(false);
    expect(emulator.state.keys.has(liveSession.hash)).toBe(true);
    expect(emulator.state.keys.has(kept!.id!)).toBe(true);
    expect(ledger(ledgerFile).map(r => [r.name, r.status]).sort()).toEqual([[kept!.name, `active`], [liveSession.name, `active`], [goneHeld.name, `deleted`]].sort());
    const audit = fs.readFileSync(path.join(stateDir, `audit.jsonl`), `utf8`).trim().split(`\n`).map(l => JSON.parse(l) as {kind: string});
    expect(audit.map(a => a.kind).sort()).toEqual([`gone-at-provider`, `gone-at-provider`, `session-key`, `stuck-pending`]);

    const again = await runCli([`gc`], {env});
    expect(again.stdout).toBe(`Nothing to clean up.\n`);
  });

  it(`a session key gone at the provider is dropped, never said to be held by its agent`, async () => {
    const {env, stateDir, ledgerFile} = setup();
    fs.mkdirSync(stateDir, {recursive: true});
    const session = emulator.createKey({name: `openclaw-run-46c2d0e2`, limit: 1});
    emulator.removeKey(session.hash);
    writeLedger(ledgerFile, [entry({id: session.hash, name: session.name, agent: `openclaw`, session: true, expiresAt: new Date(Date.now() - 60_000).toISOString()})]);
    const dry = await runCli([`gc`], {env});
    expect(dry.stdout).toContain(`drop the ledger entry: "${session.name}" (openclaw): openrouter no longer has this key\n`);
    expect(dry.stdout).not.toContain(`holds it`);
    expect((await runCli([`gc`, `--yes`], {env})).exitCode).toBe(0);
    expect(ledger(ledgerFile)).toEqual([]);
  });

  it(`a platform whose keys could not be listed: a warning, "nothing … on the platforms that could be checked", exit 1`, async () => {
    const {env, ledgerFile} = setup();
    expect((await runCli([`openrouter`, `1`], {env})).exitCode).toBe(0);
    const before = fs.readFileSync(ledgerFile, `utf8`);
    const result = await runCli([`gc`], {env: {...env, OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-fake-bad-0000`}});
    expect(result.stderr).toMatch(/^warning: openrouter: its keys could not be listed \(.*\); they were not checked$/m);
    expect(result.stdout).toBe(`Nothing to clean up on the platforms that could be checked.\n`);
    expect(result.exitCode).toBe(1);
    const json = await runCli([`gc`, `--json`], {env: {...env, OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-fake-bad-0000`}});
    expect(json.exitCode).toBe(1);
    expect((JSON.parse(json.stdout) as {uncheckedPlatforms: number}).uncheckedPlatforms).toBe(1);
    expect(fs.readFileSync(ledgerFile, `utf8`)).toBe(before);
  });

  it(`keeps N backups per agent and never the backup of the key the agent holds`, async () => {
    const {env, stateDir} = setup();
    for (let i = 0; i < 4; i++) expect((await runCli([`openrouter`, `1`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    const backups = () => fs.readdirSync(path.join(stateDir, `backups`, `opencode`)).sort();
    const all = backups();
    expect(all).toHaveLength(4);

    const dry = await runCli([`gc`, `--json`, `--keep-backups`, `2`], {env});
    expect(dry.exitCode, dry.stderr).toBe(0);
    const items = (JSON.parse(dry.stdout) as {items: Item[]}).items;
    expect(items.map(i => path.basename(i.backupDir!)).sort()).toEqual(all.slice(0, 2));

    expect((await runCli([`gc`, `--yes`, `--keep-backups`, `2`], {env})).exitCode).toBe(0);
    expect(backups()).toEqual(all.slice(2));
    // The newest backup still restores.
    expect((await runCli([`restore`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
  });

  it(`refuses a bad --keep-backups with exit 2 and writes nothing`, async () => {
    const {env, stateDir} = setup();
    const result = await runCli([`gc`, `--keep-backups`, `0`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`Invalid --keep-backups "0"`);
    expect(fs.existsSync(stateDir)).toBe(false);
  });
});
