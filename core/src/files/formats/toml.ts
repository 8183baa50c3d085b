// TOML editor on @decimalturn/toml-patch (the maintained fork of toml-patch: TOML 1.1, checked against toml-test, no
// dependencies). The model is the file's plain value; an edit changes the model and `patch(text, model)` writes what
// differs into the text through the library's syntax tree, keeping comments, key order, quoting and line ends.
// Two things the library does are undone here, because capit promises that untouched bytes stay: it writes every line
// back from its tree (a tab between tokens becomes a space; a comment after `[]` is dropped), and a deleted key takes
// the comment line above it along. So lines are matched old to new and every line the edit did not change gets its
// original bytes back (see keepUntouchedLines). A new table is appended as its own `[a.b]` section. Whatever text is
// chosen must parse back to exactly the edited model, or the edit is refused and nothing changes.
import {isDeepStrictEqual} from 'node:util';

import {conflict, formatPath, MAX_NESTING_DEPTH, requirePath, splitBom, type EditableDocument} from './common.js';
import {CapitError, UnparseableFileError} from '../../errors.js';
import type {JsonPath} from '../../plugin.js';
import {diffLibrary, tomlLibrary} from '../lazy.js';

const parseTomlText = (text: string): unknown => tomlLibrary().parse(text);
const patchTomlText = (text: string, value: unknown, format: object): string => tomlLibrary().patch(text, value, format);
const stringifyToml = (value: unknown, format: object): string => tomlLibrary().stringify(value, format);

type Table = Record<string, unknown>;

/**
 * How new tables are written: `[model_providers.capit]` sections for the first two levels (what agents' docs show),
 * inline `{…}` below that (e.g. a provider's `http_headers`).
 */
const NEW_TABLES = {inlineTableStart: 3} as const;

export class TomlDoc implements EditableDocument {
  readonly format = `toml` as const;
  private readonly original: string;
  private readonly bom: string;
  private body: string;
  private model: Table;
  private readonly originalValue: Table;
  private dirty = false;

  constructor(text: string, private readonly filePath: string) {
    this.original = text;
    const {bom, body} = splitBom(text);
    this.bom = bom;
    this.body = body;
    this.model = parseToml(body, filePath);
    this.originalValue = this.model;
  }

  read(path: JsonPath): unknown {
    let cur: unknown = this.model;
    for (const seg of path) {
      if (!isContainer(cur) || !Object.hasOwn(cur, seg)) return undefined;
      cur = cur[seg];
    }
    // A copy: the caller may change what it gets without changing the model.
    return cloneData(cur);
  }

  set(path: JsonPath, value: unknown): void {
    if (value === undefined) return this.delete(path);
    requirePath(path, this.filePath);
    if (isDeepStrictEqual(this.read(path), value)) return;
    const bad = unwritable(value);
    if (bad) throw conflict(this.filePath, path, bad);
    const next = cloneData(this.model) as Table;
    let cur: Record<string | number, unknown> = next;
    for (let i = 0; i < path.length - 1; i++) {
      const seg = path[i]!;
      const child = Object.hasOwn(cur, seg) ? cur[seg] : undefined;
      if (child === undefined) {
        if (typeof path[i + 1] === `number`) throw conflict(this.filePath, path, `${formatPath(path.slice(0, i + 1))} does not exist`);
        put(cur, seg, {});
      } else if (!isContainer(child) || Array.isArray(child) !== (typeof path[i + 1] === `number`)) {
        throw conflict(this.filePath, path, `${formatPath(path.slice(0, i + 1))} is not a ${typeof path[i + 1] === `number` ? `array` : `table`}`);
      }
      cur = cur[seg] as Record<string | number, unknown>;
    }
    const isNew = this.read(path) === undefined;
    put(cur, path[path.length - 1]!, cloneData(value));
    // A new table goes at the end as its own `[a.b]` section, as people write them (the library would write it
    // as a dotted key among the top-level keys when its parent table already has sections).
    const section = isNew && isContainer(value) && !Array.isArray(value) && Object.keys(value).length > 0 ? appendSection(this.body, path, value) : undefined;
    this.apply(next, path, section);
  }

  delete(path: JsonPath): void {
    requirePath(path, this.filePath);
    if (this.read(path) === undefined) return;
    const next = cloneData(this.model) as Table;
    let cur: unknown = next;
    for (const seg of path.slice(0, -1)) cur = (cur as Record<string | number, unknown>)[seg];
    const last = path[path.length - 1]!;
    if (Array.isArray(cur) && typeof last === `number`) cur.splice(last, 1);
    else delete (cur as Record<string | number, unknown>)[last];
    this.apply(next, path);
  }

  private apply(next: Table, path: JsonPath, preferred?: string): void {
    let patched: string | undefined;
    let failure: unknown;
    try {
      patched = patchTomlText(this.body, next, NEW_TABLES);
    } catch (err) {
      failure = err;
    }
    // The closest text to the original that still means exactly the edited model: untouched lines (and trailing
    // comments the library drops) back byte for byte, else spacing only, else the library's text as it is.
    const candidates = patched === undefined ? [] : [
      keepUntouchedLines(this.body, patched, sameIgnoringComment), keepUntouchedLines(this.body, patched, sameTokens), patched,
    ];
    if (preferred !== undefined) candidates.unshift(preferred);
    for (const candidate of candidates) {
      const text = tidyNewHeaders(candidate, this.body, next);
      let check: unknown;
      try {
        check = parsePlain(text);
      } catch {
        continue;
      }
      if (!isDeepStrictEqual(check, next)) continue;
      this.body = text;
      this.model = next;
      this.dirty = true;
      return;
    }
    if (failure instanceof CapitError) throw failure;
    if (failure !== undefined) throw conflict(this.filePath, path, (failure as Error).message.split(`\n`)[0]!, failure);
    // Never produce a file that does not mean exactly the edited model.
    throw conflict(this.filePath, path, `the edit would change other values`);
  }

  text(): string {
    // Edits that cancel out (set then delete of a new key) give the original bytes back.
    if (!this.dirty || isDeepStrictEqual(this.model, this.originalValue)) return this.original;
    // A file capit starts (or one that was empty) ends with a line break, like one written by hand.
    const close = this.original.trim() === `` && !this.body.endsWith(`\n`) ? `\n` : ``;
    return this.bom + this.body + close;
  }
}

/** Sets an own property, also for a key such as `__proto__` (plain assignment would change the prototype). */
function put(target: Record<string | number, unknown>, key: string | number, value: unknown): void {
  Object.defineProperty(target, key, {value, writable: true, enumerable: true, configurable: true});
}

function isContainer(v: unknown): v is Record<string | number, unknown> {
  if (typeof v !== `object` || v === null) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return Array.isArray(v) || proto === Object.prototype || proto === null;
}

/**
 * A copy of tables (as plain objects: the library's have a null prototype, which deep equality tells apart) and
 * arrays; anything else (a TOML date is a Date subclass) is immutable and kept as is.
 */
function cloneData(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(cloneData);
  if (isContainer(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, cloneData(x)]));
  return v;
}

/** The file's value as plain data (what the model holds). */
function parsePlain(text: string): unknown {
  return cloneData(parseTomlText(text));
}

/** Why `value` cannot be written in TOML, or undefined. */
function unwritable(value: unknown): string | undefined {
  const stack: unknown[] = [value];
  while (stack.length > 0) {
    const v = stack.pop();
    if (v === null) return `TOML has no null value`;
    if (v === undefined) return `TOML has no undefined value`;
    if (typeof v === `function` || typeof v === `symbol`) return `a ${typeof v} cannot be written in TOML`;
    if (typeof v === `object` && !(v instanceof Date)) {
      if (!isContainer(v)) return `the value cannot be written in TOML`;
      stack.push(...Object.values(v));
    }
  }
  return undefined;
}

const keyText = (k: string | number) => (/^[A-Za-z0-9_-]+$/.test(String(k)) ? String(k) : JSON.stringify(String(k)));

/** The body with a `[a.b]` section holding `value` appended (nested tables inline), or undefined. */
function appendSection(body: string, path: JsonPath, value: Record<string | number, unknown>): string | undefined {
  if (path.some(seg => typeof seg !== `string`)) return undefined;
  const eol = body.includes(`\r\n`) ? `\r\n` : `\n`;
  let lines: string;
  try {
    lines = Object.entries(value).map(([k, v]) => stringifyToml({[k]: v}, {inlineTableStart: 1}).trim()).join(eol);
  } catch {
    return undefined;
  }
  const lead = body.trim() === `` ? `` : body.endsWith(`${eol}${eol}`) ? `` : body.endsWith(eol) ? eol : `${eol}${eol}`;
  return `${body}${lead}[${path.map(keyText).join(`.`)}]${eol}${lines.replace(/\r?\n/g, eol)}${eol}`;
}

const sameTokens = (a: string, b: string) => a.replace(/[ \t]+/g, ` `).trim() === b.replace(/[ \t]+/g, ` `).trim();
/** Also equal when one is the other without its trailing comment (the library drops the one after `[]`, 3.3.0). */
const sameIgnoringComment = (a: string, b: string) => {
  const [x, y] = [a.replace(/[ \t]+/g, ` `).trim(), b.replace(/[ \t]+/g, ` `).trim()];
  const [long, short] = x.length >= y.length ? [x, y] : [y, x];
  return long === short || (short !== `` && long.startsWith(`${short} #`));
};

/**
 * The library writes every line back from its syntax tree, which turns a tab between tokens into a space (3.3.0), and
 * a deleted key takes the whole-line comment above it along ("comment ownership"). Lines are matched old to new
 * ignoring spacing: a line the edit did not change gets its original bytes back, and a whole-line comment the edit
 * removed stays where it was (a note is the user's, like the YAML editor's). The caller checks the result still
 * means the edited model.
 */
function keepUntouchedLines(before: string, after: string, same: (a: string, b: string) => boolean): string {
  const eol = before.includes(`\r\n`) ? `\r\n` : `\n`;
  const oldLines = before.split(eol);
  const newLines = after.split(eol);
  const parts = diffLibrary().diffArrays(oldLines, newLines, {comparator: same});
  const out: string[] = [];
  let at = 0; // index in oldLines
  for (const part of parts) {
    if (part.added) {
      out.push(...part.value);
    } else if (part.removed) {
      out.push(...part.value.filter(line => /^[ \t]*#/.test(line)));
      at += part.count ?? part.value.length;
    } else {
      const n = part.count ?? part.value.length;
      out.push(...oldLines.slice(at, at + n));
      at += n;
    }
  }
  return out.join(eol);
}

/**
 * A new `[a.b]` section whose parent `[a]` did not exist comes out of the library with an empty `[a]` header before
 * it. TOML does not need that header: it is dropped when it is new (not in the file before) and holds no keys.
 */
function tidyNewHeaders(text: string, before: string, model: Table): string {
  const oldLines = new Set(before.split(/\r?\n/));
  const tidied = text.replace(/^\[([^\[\]\r\n]+)\][ \t]*\r?\n(?:[ \t]*\r?\n)*(?=\[\1\.)/gm, header =>
    oldLines.has(header.split(/\r?\n/)[0]!) ? header : ``);
  if (tidied === text) return text;
  try {
    return isDeepStrictEqual(parsePlain(tidied), model) ? tidied : text;
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: refusals for files capit cannot edit safely

function parseToml(body: string, filePath: string): Table {
  let value: unknown;
  try {
    value = parseTomlText(body);
  } catch (err) {
    if (err instanceof CapitError) throw err;
    if (err instanceof RangeError) throw new UnparseableFileError(filePath, `nested too deeply (over ${MAX_NESTING_DEPTH} levels)`);
    const message = (err as Error).message;
    // The library's message: `Error parsing TOML (line, column):` then the source line, a caret and the reason.
    const at = /\((\d+), ?(\d+)\)/.exec(message);
    const lines = message.split(`\n`).map(l => l.trim()).filter(Boolean);
    const reason = lines[lines.length - 1] ?? `not valid TOML`;
    const duplicate = /already defined|redefine|duplicate/i.test(reason);
    throw new UnparseableFileError(
      filePath,
      `${duplicate ? `duplicate key: ${reason}` : reason}${at ? ` at line ${at[1]} column ${at[2]}` : ``}${duplicate ? `; an agent may read the other copy` : ``}`,
    );
  }
  checkTomlDepth(value, filePath);
  return cloneData(value) as Table;
}

// Iterative, so a deep document is refused before anything recursive (deep equality, patch) touches it.
function checkTomlDepth(root: unknown, filePath: string): void {
  const stack: {node: unknown; depth: number}[] = [{node: root, depth: 1}];
  while (stack.length > 0) {
    const {node, depth} = stack.pop()!;
    if (!isContainer(node)) continue;
    if (depth > MAX_NESTING_DEPTH) throw new UnparseableFileError(filePath, `nested more than ${MAX_NESTING_DEPTH} levels deep`);
    for (const child of Object.values(node)) stack.push({node: child, depth: depth + 1});
  }
}
