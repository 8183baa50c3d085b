import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';
import {afterEach} from 'vitest';

const dirs: string[] = [];

/** A fresh temp dir under os.tmpdir(), removed after the test. */
export function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `capit-files-`));
  dirs.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of dirs.splice(0)) {
    // Undo read-only modes tests may have set, then remove.
    try {
      fs.chmodSync(dir, 0o700);
    } catch {}
    fs.rmSync(dir, {recursive: true, force: true});
  }
});

export const FAKE_KEY = `sk-or-v1-fake-${`0`.repeat(64)}`;

export function mode(p: string): number {
  return fs.statSync(p).mode & 0o777;
}
