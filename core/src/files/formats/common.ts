// What every format editor shares: the document contract, the BOM, path printing and the errors for bad edits.
import {CapitError} from '../../errors.js';
import type {FileFormat, JsonPath} from '../../plugin.js';

export interface EditableDocument {
  readonly format: FileFormat;
  /** The value at `path` (plain JS data), or `undefined` when absent. `[]` is the whole document. */
  read(path: JsonPath): unknown;
  /** Sets `path` to `value`, creating intermediate objects. `undefined` deletes. */
  set(path: JsonPath, value: unknown): void;
  /** Removes `path`; nothing happens when it is absent. */
  delete(path: JsonPath): void;
  /** The current text: exactly the input until the first edit that changed something. */
  text(): string;
}

export const BOM = `\uFEFF`;

/**
 * Deepest nesting capit reads. Agent configs are a few levels deep; the parsers (and JSON.stringify, deep equality)
 * recurse, so a file nested thousands of levels deep would end in a RangeError instead of a clear refusal.
 */
export const MAX_NESTING_DEPTH = 100;

export function formatPath(path: JsonPath): string {
  return path.map(p => (typeof p === `number` ? `[${p}]` : /^[A-Za-z_$][\w$-]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join(``).replace(/^\./, ``) || `(root)`;
}

export function splitBom(text: string): {bom: string; body: string} {
  return text.startsWith(BOM) ? {bom: BOM, body: text.slice(1)} : {bom: ``, body: text};
}

export function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split(`\n`).length;
  const col = offset - (before.lastIndexOf(`\n`) + 1) + 1;
  return `line ${line} column ${col}`;
}

export function requirePath(path: JsonPath, filePath: string): void {
  if (path.length === 0) throw new Error(`${filePath}: an edit needs a non-empty path`);
}

export function conflict(filePath: string, path: JsonPath, why: string, cause?: unknown): CapitError {
  return new CapitError(`CAPIT_PATH_CONFLICT`, `${filePath}: cannot set ${formatPath(path)}: ${why}`, {
    cause,
    hint: `Nothing was changed. Check the file by hand; capit does not replace values it did not expect.`,
  });
}
