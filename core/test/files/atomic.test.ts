import fs   from 'node:fs';
import path from 'node:path';
import {afterEach, describe, expect, it, vi} from 'vitest';
import {ensureDir, parseTempName, resolveRealPath, tempPathFor, writeFileAtomic} from '../../src/files/atomic.js';
import {mode, tempDir} from './helpers.js';

afterEach(() => {
  vi.restoreAllMocks();
});

describe(`resolveRealPath`, () => {
  it(`follows symlinks, dangling ones too, and resolves missing paths through the parent`, async () => {
    const dir = fs.realpathSync(tempDir());
    fs.mkdirSync(path.join(dir, `real`));
    fs.symlinkSync(path.join(dir, `real`), path.join(dir, `linkdir`));
    fs.writeFileSync(path.join(dir, `real`, `f.json`), `{}`);
    fs.symlinkSync(`real/f.json`, path.join(dir, `link.json`));
    fs.symlinkSync(`real/missing.json`, path.join(dir, `dangling.json`));
    expect(await resolveRealPath(path.join(dir, `link.json`))).toBe(path.join(dir, `real`, `f.json`));
    expect(await resolveRealPath(path.join(dir, `dangling.json`))).toBe(path.join(dir, `real`, `missing.json`));
    expect(await resolveRealPath(path.join(dir, `linkdir`, `new`, `x.json`))).toBe(path.join(dir, `real`, `new`, `x.json`));
  });
});

describe(`writeFileAtomic`, () => {
  it(`writes with the given mode and leaves no temp file`, async () => {
    const dir = tempDir();
    const file = path.join(dir, `a.json`);
    fs.writeFileSync(file, `old`, {mode: 0o644});
    await writeFileAtomic(file, `new`, {mode: 0o600});
    expect(fs.readFileSync(file, `utf8`)).toBe(`new`);
    expect(mode(file)).toBe(0o600);
    expect(fs.readdirSync(dir)).toEqual([`a.json`]);
  });

  it(`keeps an existing mode when none is given`, async () => {
    const dir = tempDir();
    const file = path.join(dir, `a`);
    fs.writeFileSync(file, `old`);
    fs.chmodSync(file, 0o640);
    await writeFileAtomic(file, Buffer.from([0xff, 0x00, 0x01]));
    expect(mode(file)).toBe(0o640);
    expect([...fs.readFileSync(file)]).toEqual([0xff, 0x00, 0x01]);
  });

  it(`writes the symlink's target and keeps the symlink`, async () => {
    const dir = tempDir();
    fs.mkdirSync(path.join(dir, `dotfiles`));
    const target = path.join(dir, `dotfiles`, `auth.json`);
    fs.writeFileSync(target, `old`);
    const link = path.join(dir, `auth.json`);
    fs.symlinkSync(target, link);
    await writeFileAtomic(link, `new`, {mode: 0o600});
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(target, `utf8`)).toBe(`new`);
    expect(fs.readdirSync(dir).sort()).toEqual([`auth.json`, `dotfiles`]);
    expect(fs.readdirSync(path.join(dir, `dotfiles`))).toEqual([`auth.json`]);
  });

  it(`creates the target of a dangling symlink`, async () => {
    const dir = tempDir();
    const link = path.join(dir, `.env`);
    fs.symlinkSync(`store/.env`, link);
    fs.mkdirSync(path.join(dir, `store`));
    fs.rmSync(path.join(dir, `store`), {recursive: true});
    fs.mkdirSync(path.join(dir, `store`));
    await writeFileAtomic(link, `A=1\n`);
    expect(fs.lstatSync(link).isSymbolicLink()).toBe(true);
    expect(fs.readFileSync(path.join(dir, `store`, `.env`), `utf8`)).toBe(`A=1\n`);
  });

  it(`leaves the original intact and no temp file when the rename fails`, async () => {
    const dir = tempDir();
    const file = path.join(dir, `a.json`);
    fs.writeFileSync(file, `original`);
    vi.spyOn(fs.promises, `rename`).mockImplementation((() => Promise.reject(Object.assign(new Error(`EIO: injected`), {code: `EIO`}))) as never);
    await expect(writeFileAtomic(file, `new`)).rejects.toThrow(/injected/);
    expect(fs.readFileSync(file, `utf8`)).toBe(`original`);
    expect(fs.readdirSync(dir)).toEqual([`a.json`]);
  });

  it.skipIf(process.getuid?.() === 0)(`fails in a read-only directory and keeps the original`, async () => {
    const dir = tempDir();
    const file = path.join(dir, `a.json`);
    fs.writeFileSync(file, `original`);
    fs.chmodSync(dir, 0o500);
    await expect(writeFileAtomic(file, `new`)).rejects.toThrow();
    fs.chmodSync(dir, 0o700);
    expect(fs.readFileSync(file, `utf8`)).toBe(`original`);
    expect(fs.readdirSync(dir)).toEqual([`a.json`]);
  });
});

describe(`capit temp names`, () => {
  it(`are hidden, name the file and the writing process, and are recognised only for that file`, () => {
    const temp = tempPathFor(`/x/auth.json`);
    expect(path.dirname(temp)).toBe(`/x`);
    expect(path.basename(temp)).toMatch(new RegExp(`^\\.auth\\.json\\.capit-${process.pid}-[0-9a-f]{12}\\.tmp$`));
    expect(parseTempName(path.basename(temp), `auth.json`)).toEqual({pid: process.pid});
    expect(parseTempName(path.basename(temp), `auth.jso`)).toBeNull();
    expect(parseTempName(`auth.json.123456`, `auth.json`)).toBeNull();
    expect(parseTempName(`.auth.json.capit-12-zz.tmp`, `auth.json`)).toBeNull();
  });

  it(`writes through the recorded temp path, created 0600 before the final mode`, async () => {
    const dir = tempDir();
    const file = path.join(dir, `a.json`);
    const temp = tempPathFor(file);
    let seen: number | undefined;
    await writeFileAtomic(file, `secret`, {mode: 0o644, tempPath: temp, beforeRename: () => (seen = mode(temp))});
    expect(seen).toBe(0o644);
    expect(fs.existsSync(temp)).toBe(false);
    expect(fs.readFileSync(file, `utf8`)).toBe(`secret`);
  });
});

describe(`ensureDir`, () => {
  it(`creates missing dirs with the exact mode and leaves existing ones alone`, async () => {
    const dir = tempDir();
    fs.chmodSync(dir, 0o755);
    await ensureDir(path.join(dir, `a`, `b`), 0o700);
    expect(mode(path.join(dir, `a`))).toBe(0o700);
    expect(mode(path.join(dir, `a`, `b`))).toBe(0o700);
    expect(mode(dir)).toBe(0o755);
  });
});
