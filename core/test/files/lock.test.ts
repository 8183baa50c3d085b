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

  it(`queues a second run until the first releases the lock, saying so after a second`, async () => {
    const state = tempDir();
    let release!: () => void;
    const order: string[] = [];
    const first = withLock(state, () => new Promise<string>(r => (release = () => {
      order.push(`first done`);
      r(`first`);
    })));
    await new Promise(r => setTimeout(r, 50));
    const said: string[] = [];
    const stderr = {write: (s: string) => said.push(s)} as unknown as NodeJS.WritableStream;
    const second = withLock(state, async () => {
      order.push(`second ran`);
      return `second`;
    }, {stderr});
    await new Promise(r => setTimeout(r, 1300));
    expect(order).toEqual([]);
    expect(said.join(``)).toMatch(/^waiting for another capit run to finish/);
    release();
    expect(await first).toBe(`first`);
    expect(await second).toBe(`second`);
    expect(order).toEqual([`first done`, `second ran`]);
  });

  it(`gives up with CAPIT_LOCKED once the bound passes`, async () => {
    const state = tempDir();
    let release!: () => void;
    const first = withLock(state, () => new Promise<void>(r => (release = r)));
    await new Promise(r => setTimeout(r, 50));
    const err = await withLock(state, async () => `second`, {maxWaitMs: 300}).catch(e => e);
    expect(err).toMatchObject({code: `CAPIT_LOCKED`});
    expect(err.message).toMatch(/^Another capit run kept its lock for .*; gave up waiting$/);
    expect(err.hint).toContain(lockPath(state));
    release();
    await first;
  });

  it(`is not re-entrant: the transaction takes it once, and a nested take waits for itself until the bound`, async () => {
    const state = tempDir();
    const err = await withLock(state, () => withLock(state, async () => `nested`, {maxWaitMs: 300})).catch(e => e);
    expect(err).toMatchObject({code: `CAPIT_LOCKED`});
    expect(fs.existsSync(lockPath(state))).toBe(false);
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
    await expect(withLock(state, async () => `x`, {maxWaitMs: 500})).rejects.toMatchObject({code: `CAPIT_LOCKED`});
  });
});
