import fs   from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {applyChanges, computeChanges, listBackups, loadTargets, renderDiff, restoreLatest, settleInstall, type BackupMeta, type StoredManifest} from '../../src/files/changes.js';
import {UnparseableFileError} from '../../src/errors.js';
import {withLock} from '../../src/files/lock.js';
import type {AgentFile, FileEdit} from '../../src/plugin.js';
import {FAKE_KEY, mode, tempDir} from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

const meta: BackupMeta = {agent: `opencode`, platform: `openrouter`, keyId: `hash123`, keyName: `opencode-1a2b3c4d`, createdAt: `2026-11-28T20:41:07.000Z`};
const AUTH_ORIGINAL = `{\n  // my providers\n  "anthropic": {"type": "oauth", "refresh": "r"},\n  "openrouter": {"type": "api", "key": "sk-or-v1-old"}\n}\n`;

function setup(authText: string | null = AUTH_ORIGINAL) {
  const root = tempDir();
  const state = path.join(root, `state`);
  const auth = path.join(root, `share`, `opencode`, `auth.json`);
  const env = path.join(root, `.openclaw`, `.env`);
  if (authText !== null) {
    fs.mkdirSync(path.dirname(auth), {recursive: true});
    fs.writeFileSync(auth, authText, {mode: 0o644});
  }
  const files: AgentFile[] = [
    {id: `auth`, path: auth, format: `jsonc`, secret: true},
    {id: `env`, path: env, format: `dotenv`, secret: true},
  ];
  const edits: FileEdit[] = [
    {file: `auth`, op: `set`, path: [`openrouter`], value: {type: `api`, key: FAKE_KEY}},
    {file: `env`, op: `set`, path: [`OPENROUTER_API_KEY`], value: FAKE_KEY},
  ];
  return {root, state, auth, env, files, edits};
}

async function install(s: ReturnType<typeof setup>, edits = s.edits) {
  const targets = await loadTargets(s.files);
  const changes = computeChanges(targets, edits);
  return {targets, changes, result: await applyChanges(changes, {stateDir: s.state, meta})};
}

function allFiles(dir: string): string[] {
  return fs.readdirSync(dir, {recursive: true, withFileTypes: true}).filter(d => d.isFile()).map(d => path.join(d.parentPath, d.name));
}

describe(`loadTargets / computeChanges / renderDiff`, () => {
  it(`reads current values and refuses an unparseable file before anything is written`, async () => {
    const s = setup();
    const targets = await loadTargets(s.files);
    expect(targets.read(`auth`, [`anthropic`, `type`])).toBe(`oauth`);
    expect(targets.read(`env`, [`OPENROUTER_API_KEY`])).toBeUndefined();
    expect(targets.files[1]!.exists).toBe(false);
    fs.writeFileSync(s.auth, `{"broken": `);
    await expect(loadTargets(s.files)).rejects.toBeInstanceOf(UnparseableFileError);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(`{"broken": `);
  });

  it(`refuses an edit for an unknown file id`, async () => {
    const s = setup();
    const targets = await loadTargets(s.files);
    expect(() => computeChanges(targets, [{file: `nope`, op: `delete`, path: [`a`]}])).toThrow(/unknown agent file "nope"/);
  });

  it(`renders a redacted diff that never contains the secret`, async () => {
    const s = setup();
    const changes = computeChanges(await loadTargets(s.files), s.edits);
    const diff = renderDiff(changes, t => t.replaceAll(FAKE_KEY, `sk-or-v1-fake…0000`));
    expect(diff).not.toContain(FAKE_KEY);
    expect(diff).toContain(`modified: ${s.auth}`);
    expect(diff).toContain(`new file: ${s.env}`);
    expect(diff).toContain(`+OPENROUTER_API_KEY=sk-or-v1-fake…0000`);
    expect(diff).toContain(`-  "openrouter": {"type": "api", "key": "sk-or-v1-old"}`);
  });
});

describe(`applyChanges + restoreLatest`, () => {
  it(`backs up, writes 0600, and restores byte for byte (existing file back, created file removed)`, async () => {
    const s = setup();
    const {result} = await install(s);
    expect(result.hadExistingFiles).toBe(true);
    expect(result.backupDir.startsWith(path.join(s.state, `backups`, `opencode`))).toBe(true);
    expect(path.basename(result.backupDir)).toMatch(/^\d{4}-\d\d-\d\dT\d\d-\d\d-\d\dZ$/);
    expect(mode(result.backupDir)).toBe(0o700);
    expect(fs.readFileSync(path.join(result.backupDir, `files`, `0`), `utf8`)).toBe(AUTH_ORIGINAL);
    expect(mode(path.join(result.backupDir, `files`, `0`))).toBe(0o600);

    const auth = fs.readFileSync(s.auth, `utf8`);
    expect(auth).toContain(`// my providers`);
    expect(auth).toContain(`"anthropic": {"type": "oauth", "refresh": "r"}`);
    expect(auth).toContain(FAKE_KEY);
    expect(mode(s.auth)).toBe(0o600);
    expect(fs.readFileSync(s.env, `utf8`)).toBe(`OPENROUTER_API_KEY=${FAKE_KEY}\n`);
    expect(mode(s.env)).toBe(0o600);
    expect(mode(path.dirname(s.env))).toBe(0o700);

    const report = await restoreLatest(s.state, `opencode`);
    expect(report.files).toEqual([{path: s.auth, action: `restored`}, {path: s.env, action: `removed`}]);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
    expect(mode(s.auth)).toBe(0o644);
    expect(fs.existsSync(s.env)).toBe(false);
  });

  it(`never stores a secret in the manifest`, async () => {
    const s = setup();
    const {result} = await install(s);
    const manifest = fs.readFileSync(path.join(result.backupDir, `manifest.json`), `utf8`);
    expect(manifest).not.toContain(FAKE_KEY);
    expect(manifest).not.toContain(`sk-or-v1-fake`);
    const parsed = JSON.parse(manifest);
    expect(parsed).toMatchObject({version: 1, agent: `opencode`, platform: `openrouter`, keyId: `hash123`, keyName: `opencode-1a2b3c4d`});
    expect(parsed.files[0]).toMatchObject({path: s.auth, existed: true, mode: 0o644, backup: `files/0`});
    expect(parsed.files[1]).toMatchObject({path: s.env, existed: false, mode: null, backup: null, sha256Before: null});
    expect(parsed.files[1].edits[0].sha256Written).toMatch(/^[0-9a-f]{64}$/);
    // The only copy of an old secret is the backup of the original file, 0600 in a 0700 dir.
    for (const f of allFiles(result.backupDir)) if (fs.readFileSync(f, `utf8`).includes(FAKE_KEY)) throw new Error(`secret in ${f}`);
  });

  it(`writes through a symlink, keeps it, and restores the target`, async () => {
    const s = setup(null);
    const real = path.join(s.root, `dotfiles`, `auth.json`);
    fs.mkdirSync(path.dirname(real), {recursive: true});
    fs.writeFileSync(real, AUTH_ORIGINAL, {mode: 0o600});
    fs.mkdirSync(path.dirname(s.auth), {recursive: true});
    fs.symlinkSync(real, s.auth);
    await install(s);
    expect(fs.lstatSync(s.auth).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, `utf8`)).toContain(FAKE_KEY);
    await restoreLatest(s.state, `opencode`);
    expect(fs.lstatSync(s.auth).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(real, `utf8`)).toBe(AUTH_ORIGINAL);
  });

  it(`refuses with CAPIT_FILE_CHANGED when a file changed between plan and apply`, async () => {
    const s = setup();
    const changes = computeChanges(await loadTargets(s.files), s.edits);
    fs.appendFileSync(s.auth, ` `);
    await expect(applyChanges(changes, {stateDir: s.state, meta})).rejects.toMatchObject({code: `CAPIT_FILE_CHANGED`});
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(`${AUTH_ORIGINAL} `);
    expect(fs.existsSync(s.env)).toBe(false);
    expect(await listBackups(s.state, `opencode`)).toEqual([]);
  });

  it(`puts back already-written files when a later write fails`, async () => {
    const s = setup();
    fs.mkdirSync(path.dirname(s.env), {recursive: true});
    fs.writeFileSync(s.env, `# keep\nA=1\n`);
    const changes = computeChanges(await loadTargets(s.files), s.edits);
    const rename = fs.promises.rename;
    vi.spyOn(fs.promises, `rename`).mockImplementation(((from: string, to: string) =>
      to === s.env ? Promise.reject(Object.assign(new Error(`EIO: injected`), {code: `EIO`})) : rename(from, to)) as never);
    await expect(applyChanges(changes, {stateDir: s.state, meta})).rejects.toThrow(/injected/);
    vi.restoreAllMocks();
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
    expect(mode(s.auth)).toBe(0o644);
    expect(fs.readFileSync(s.env, `utf8`)).toBe(`# keep\nA=1\n`);
    expect(fs.readdirSync(path.dirname(s.env))).toEqual([`.env`]);
    expect(await listBackups(s.state, `opencode`)).toEqual([]);
  });

  it(`after a user edit of another key, reverts only capit's edits and keeps the user's`, async () => {
    const s = setup();
    await install(s);
    const auth = fs.readFileSync(s.auth, `utf8`);
    fs.writeFileSync(s.auth, auth.replace(`"refresh": "r"`, `"refresh": "user-changed"`));
    fs.appendFileSync(s.env, `USER_ADDED=1\n`);
    const report = await restoreLatest(s.state, `opencode`);
    expect(report.files.map(f => f.action)).toEqual([`reverted-edits`, `reverted-edits`]);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL.replace(`"refresh": "r"`, `"refresh": "user-changed"`));
    expect(fs.readFileSync(s.env, `utf8`)).toBe(`USER_ADDED=1\n`);
  });

  it(`refuses a conflicting edit without --force, and --force puts the original bytes back`, async () => {
    const s = setup();
    await install(s);
    const doc = JSON.parse(fs.readFileSync(s.auth, `utf8`).replace(`// my providers`, ``));
    doc.openrouter.key = `sk-or-v1-user-own`;
    fs.writeFileSync(s.auth, JSON.stringify(doc));
    const err = await restoreLatest(s.state, `opencode`).catch(e => e);
    expect(err).toMatchObject({code: `CAPIT_RESTORE_CONFLICT`, exitCode: 1});
    expect(err.message).toContain(s.auth);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(JSON.stringify(doc));
    expect(fs.existsSync(s.env)).toBe(true);
    const report = await restoreLatest(s.state, `opencode`, {force: true});
    expect(report.files).toEqual([{path: s.auth, action: `restored`}, {path: s.env, action: `removed`}]);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
  });

  it(`recreates a file deleted since`, async () => {
    const s = setup();
    await install(s);
    fs.rmSync(s.auth);
    const report = await restoreLatest(s.state, `opencode`);
    expect(report.files[0]).toEqual({path: s.auth, action: `restored`});
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
  });

  it(`restores backups newest first, then says CAPIT_NO_BACKUP`, async () => {
    const s = setup();
    await install(s);
    const second = `sk-or-v1-fake-${`1`.repeat(64)}`;
    const {result} = await install(s, [{file: `auth`, op: `set`, path: [`openrouter`, `key`], value: second}]);
    expect(path.basename(result.backupDir)).toMatch(/Z(-2)?$/);
    const list = await listBackups(s.state, `opencode`);
    expect(list.map(b => b.dir)).toEqual([result.backupDir, expect.any(String)]);
    await restoreLatest(s.state, `opencode`);
    expect(fs.readFileSync(s.auth, `utf8`)).toContain(FAKE_KEY);
    await restoreLatest(s.state, `opencode`);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
    expect(fs.existsSync(s.env)).toBe(false);
    await expect(restoreLatest(s.state, `opencode`)).rejects.toMatchObject({code: `CAPIT_NO_BACKUP`});
    expect((await listBackups(s.state, `opencode`)).every(b => b.restoredAt)).toBe(true);
  });

  it(`runs inside the caller's lock: neither applyChanges nor restoreLatest takes it again`, async () => {
    const s = setup();
    const previous = process.env.CAPIT_LOCK_WAIT_MS;
    // A nested take would wait for the caller's lock; a short bound makes that a quick CAPIT_LOCKED, not a 2 min hang.
    process.env.CAPIT_LOCK_WAIT_MS = `300`;
    try {
      const report = await withLock(s.state, async () => {
        await install(s);
        return restoreLatest(s.state, `opencode`);
      });
      expect(report.files.map(f => f.action)).toEqual([`restored`, `removed`]);
      expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
    } finally {
      if (previous === undefined) delete process.env.CAPIT_LOCK_WAIT_MS;
      else process.env.CAPIT_LOCK_WAIT_MS = previous;
    }
  });

  it(`says CAPIT_NO_BACKUP for an agent never changed`, async () => {
    const err = await restoreLatest(tempDir(), `claude`).catch(e => e);
    expect(err).toMatchObject({code: `CAPIT_NO_BACKUP`});
    expect(err.message).toContain(`claude`);
  });
});

describe(`restoreLatest after a killed restore`, () => {
  it(`removes capit temp files a killed writer left beside the files it restores`, async () => {
    const s = setup();
    await install(s);
    const stray = path.join(path.dirname(s.auth), `.auth.json.capit-999999999-0a1b2c.tmp`);
    fs.writeFileSync(stray, AUTH_ORIGINAL, {mode: 0o600});
    await restoreLatest(s.state, `opencode`);
    expect(fs.readdirSync(path.dirname(s.auth))).toEqual([`auth.json`]);
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
  });
});

describe(`settleInstall (recovery of an install a killed run left)`, () => {
  const CRASH = new Error(`simulated kill`);

  // Runs an install that "dies" right after its manifest is durable (the hook throws outside any rollback), then
  // lets the test play what the killed run had written before it died.
  async function interrupted(s: ReturnType<typeof setup>) {
    const changes = computeChanges(await loadTargets(s.files), s.edits);
    let backupDir = ``;
    await expect(applyChanges(changes, {
      stateDir: s.state, meta, onBackupDir: async dir => void (backupDir = dir),
      at: step => {
        if (step === `after-manifest`) throw CRASH;
      },
    })).rejects.toBe(CRASH);
    const manifest = JSON.parse(fs.readFileSync(path.join(backupDir, `manifest.json`), `utf8`)) as StoredManifest;
    return {changes, backupDir, manifest};
  }

  it(`rolls back a partly written install as one unit, removes capit temp files and created dirs, and is idempotent`, async () => {
    const s = setup();
    const {changes, backupDir, manifest} = await interrupted(s);
    expect(manifest.createdDirs).toEqual([path.dirname(s.env)]);
    // auth.json was renamed into place; .env's temp file (holding the secret) was written but not renamed.
    fs.writeFileSync(s.auth, changes[0]!.newText);
    fs.mkdirSync(path.dirname(s.env), {recursive: true});
    fs.writeFileSync(manifest.files[1]!.tempPath!, changes[1]!.newText, {mode: 0o600});
    const stray = path.join(path.dirname(s.auth), `.auth.json.capit-999999999-abcdef.tmp`);
    fs.writeFileSync(stray, FAKE_KEY);

    expect(await settleInstall(backupDir)).toEqual({state: `rolled-back`, restored: [s.auth], reverted: []});
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
    expect(mode(s.auth)).toBe(0o644);
    expect(fs.existsSync(path.dirname(s.env))).toBe(false);
    expect(fs.existsSync(stray)).toBe(false);
    expect(fs.existsSync(backupDir)).toBe(false);
    expect(allFiles(s.root).some(f => fs.readFileSync(f, `utf8`).includes(FAKE_KEY))).toBe(false);
    // A second recovery (say the first was killed after its work) finds nothing left to do.
    expect(await settleInstall(backupDir)).toEqual({state: `untouched`});
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
  });

  it(`completes an install whose files all hold the new bytes, leaving them and the backup in place`, async () => {
    const s = setup();
    const {changes, backupDir} = await interrupted(s);
    fs.writeFileSync(s.auth, changes[0]!.newText);
    fs.mkdirSync(path.dirname(s.env), {recursive: true});
    fs.writeFileSync(s.env, changes[1]!.newText);
    expect(await settleInstall(backupDir)).toEqual({state: `complete`, changedSince: []});
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(changes[0]!.newText);
    expect((await listBackups(s.state, `opencode`)).map(b => b.dir)).toEqual([backupDir]);
  });

  it(`a file someone rewrote without capit's value is left as they wrote it; the files capit wrote are rolled back`, async () => {
    const s = setup();
    const {changes, backupDir} = await interrupted(s);
    fs.writeFileSync(s.auth, changes[0]!.newText);
    fs.mkdirSync(path.dirname(s.env), {recursive: true});
    fs.writeFileSync(s.env, `MINE=1\n`);
    // No file holds the new key any more after this, so recovery may delete it.
    expect(await settleInstall(backupDir)).toEqual({state: `rolled-back`, restored: [s.auth], reverted: []});
    expect(fs.readFileSync(s.auth, `utf8`)).toBe(AUTH_ORIGINAL);
    expect(fs.readFileSync(s.env, `utf8`)).toBe(`MINE=1\n`);
  });
});
