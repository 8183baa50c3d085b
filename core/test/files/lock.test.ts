import fs   from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {lockPath, withLock} from '../../src/files/lock.js';
import {mode, tempDir} from './helpers.js';

describe(`withLock`, () => {
  it(`creates the state dir 0700, runs fn and releases the lock`, async () => {
    const state = path.join(tempDir(), `state`);
    expect(await withLock(state, async () => 42)).toBe(42);
    expect(mode(state)).toBe(0o700);
    expect(fs.existsSync(lockPath(state))).toBe(false);
  });

  it(`refuses a second concurrent run with CAPIT_LOCKED`, async () => {
    const state = tempDir();
    let release!: () => void;
    const first = withLock(state, () => new Promise<string>(r => (release = () => r(`first`))));
    await new Promise(r => setTimeout(r, 50));
    const err = await withLock(state, async () => `second`).catch(e => e);
    expect(err).toMatchObject({code: `CAPIT_LOCKED`, message: `Another capit run is changing files right now`});
    expect(err.hint).toContain(lockPath(state));
    release();
    expect(await first).toBe(`first`);
    expect(await withLock(state, async () => `third`)).toBe(`third`);
  });

  it(`re-enters from inside the same run`, async () => {
    const state = tempDir();
    expect(await withLock(state, () => withLock(state, async () => `nested`))).toBe(`nested`);
  });

  it(`releases the lock when fn throws`, async () => {
    const state = tempDir();
    await expect(withLock(state, async () => { throw new Error(`boom`); })).rejects.toThrow(`boom`);
    expect(await withLock(state, async () => `ok`)).toBe(`ok`);
  });

  it(`takes over a stale lock left by a crashed run`, async () => {
    const state = tempDir();
    const lock = lockPath(state);
    fs.mkdirSync(lock);
    const old = new Date(Date.now() - 60_000);
    fs.utimesSync(lock, old, old);
    expect(await withLock(state, async () => `took over`)).toBe(`took over`);
    expect(fs.existsSync(lock)).toBe(false);
  });

  it(`does not take over a fresh lock`, async () => {
    const state = tempDir();
    fs.mkdirSync(lockPath(state));
    await expect(withLock(state, async () => `x`)).rejects.toMatchObject({code: `CAPIT_LOCKED`});
  });
});
