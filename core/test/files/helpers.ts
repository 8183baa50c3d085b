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

export type ModelOp = {op: `set` | `delete`; path: string[]; value?: unknown};

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === `object` && v !== null && !Array.isArray(v);

/** Applies an op to a plain object model; returns false when the path crosses a non-object (the editor must refuse). */
export function applyModel(model: Record<string, unknown>, o: ModelOp): boolean {
  let cur: Record<string, unknown> = model;
  for (const seg of o.path.slice(0, -1)) {
    const next = cur[seg];
    if (next === undefined) {
      if (o.op === `delete`) return true;
      cur[seg] = {};
    } else if (!isPlainObject(next)) {
      return o.op === `delete`;
    }
    cur = cur[seg] as Record<string, unknown>;
  }
  const last = o.path[o.path.length - 1]!;
  if (o.op === `set`) cur[last] = structuredClone(o.value);
  else delete cur[last];
  return true;
}

/**
 * Applies `ops` to both the document and `model`: an op the model cannot take (a path through a non-object) must be
 * refused by the editor. Returns the model the document should now mean.
 */
export function applyOps(doc: {set(path: string[], value: unknown): void; delete(path: string[]): void}, start: Record<string, unknown>, ops: readonly ModelOp[], expectRefusal: (attempt: () => void) => void): Record<string, unknown> {
  const model = structuredClone(start);
  for (const o of ops) {
    if (applyModel(structuredClone(model), o)) {
      if (o.op === `set`) doc.set(o.path, o.value);
      else doc.delete(o.path);
      applyModel(model, o);
    } else {
      expectRefusal(() => doc.set(o.path, o.value));
    }
  }
  return model;
}
