// JSON5 (OpenClaw's openclaw.json), read only: capit reads a key or a base URL from it for `capit doctor` and the
// install warnings, parsed by the same `json5` package the agent uses, so unquoted keys and single quotes read as the
// agent reads them. Edits are refused: no well-kept library edits JSON5 preserving its layout, and a JSON rewrite would
// lose the user's comments and style.
import {json5Library} from '../lazy.js';

import {UnparseableFileError} from '../../errors.js';
import type {JsonPath} from '../../plugin.js';
import {MAX_NESTING_DEPTH, splitBom, type EditableDocument} from './common.js';

function depthOf(value: unknown, depth = 0): number {
  if (depth > MAX_NESTING_DEPTH || typeof value !== `object` || value === null) return depth;
  let max = depth;
  for (const child of Object.values(value)) max = Math.max(max, depthOf(child, depth + 1));
  return max;
}

export class Json5Document implements EditableDocument {
  readonly format = `json5` as const;
  private readonly value: Record<string, unknown>;

  constructor(private readonly original: string, private readonly filePath: string) {
    const {body} = splitBom(original);
    let parsed: unknown;
    try {
      parsed = body.trim() === `` ? {} : json5Library().parse(body);
    } catch (error) {
      // JSON5's own message names the line and column; a RangeError is a file nested too deep to parse.
      const why = error instanceof RangeError ? `nested more than ${MAX_NESTING_DEPTH} levels deep` : (error as Error).message.replace(/^JSON5: /, ``);
      throw new UnparseableFileError(filePath, why);
    }
    if (typeof parsed !== `object` || parsed === null || Array.isArray(parsed))
      throw new UnparseableFileError(filePath, `expected an object at the top level`);
    if (depthOf(parsed) > MAX_NESTING_DEPTH) throw new UnparseableFileError(filePath, `nested more than ${MAX_NESTING_DEPTH} levels deep`);
    this.value = parsed as Record<string, unknown>;
  }

  read(path: JsonPath): unknown {
    let at: unknown = this.value;
    for (const segment of path) {
      if (typeof at !== `object` || at === null || !Object.hasOwn(at, segment)) return undefined;
      at = (at as Record<string | number, unknown>)[segment];
    }
    return at;
  }

  set(): void {
    throw new Error(`${this.filePath}: capit reads JSON5 but does not edit it`);
  }

  delete(): void {
    throw new Error(`${this.filePath}: capit reads JSON5 but does not edit it`);
  }

  text(): string {
    return this.original;
  }
}
