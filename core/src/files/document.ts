// Format-preserving editors for the files agents read their keys from.
// Every editor refuses input it cannot parse (UnparseableFileError) and returns the original text unchanged until
// something is actually edited, so an untouched file is never rewritten with different bytes.
import {isDeepStrictEqual} from 'node:util';
import {
  applyEdits, createScanner, findNodeAtLocation, getNodeValue, modify, parseTree, printParseErrorCode, visit,
  type Node as JsonNode, type ParseError,
} from 'jsonc-parser';
import type {Document as YamlDocument} from 'yaml';

import {diffLibrary, yamlLibrary} from './lazy.js';
import {CapitError, UnparseableFileError} from '../errors.js';
import type {FileFormat, JsonPath} from '../plugin.js';

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

const BOM = `\uFEFF`;

/**
 * Deepest nesting capit reads. Agent configs are a few levels deep; the parsers (and JSON.stringify, deep equality)
 * recurse, so a file nested thousands of levels deep would end in a RangeError instead of a clear refusal.
 */
export const MAX_NESTING_DEPTH = 100;

export function openDocument(format: FileFormat, text: string, filePath: string): EditableDocument {
  switch (format) {
    case `json`:
    case `jsonc`:
      return new JsonDocument(format, text, filePath);
    case `dotenv`:
      return new DotenvDocument(text, filePath);
    case `yaml`:
      return new YamlDoc(text, filePath);
    default:
      throw new Error(`Unknown file format ${JSON.stringify(format)}`);
  }
}

export function formatPath(path: JsonPath): string {
  return path.map(p => (typeof p === `number` ? `[${p}]` : /^[A-Za-z_$][\w$-]*$/.test(p) ? `.${p}` : `[${JSON.stringify(p)}]`)).join(``).replace(/^\./, ``) || `(root)`;
}

function splitBom(text: string): {bom: string; body: string} {
  return text.startsWith(BOM) ? {bom: BOM, body: text.slice(1)} : {bom: ``, body: text};
}

function lineCol(text: string, offset: number): string {
  const before = text.slice(0, offset);
  const line = before.split(`\n`).length;
  const col = offset - (before.lastIndexOf(`\n`) + 1) + 1;
  return `line ${line} column ${col}`;
}

function requirePath(path: JsonPath, filePath: string): void {
  if (path.length === 0) throw new Error(`${filePath}: an edit needs a non-empty path`);
}

function conflict(filePath: string, path: JsonPath, why: string, cause?: unknown): CapitError {
  return new CapitError(`CAPIT_PATH_CONFLICT`, `${filePath}: cannot set ${formatPath(path)}: ${why}`, {
    cause,
    hint: `Nothing was changed. Check the file by hand; capit does not replace values it did not expect.`,
  });
}

/**
 * Makes `path` in `target` hold what it holds in `source` (another version of the same file): deleted when absent
 * there; for JSON and dotenv the value's source text is copied, so its layout, comments and quoting come back too.
 */
export function copyValue(target: EditableDocument, source: EditableDocument, path: JsonPath): void {
  const value = source.read(path);
  if (value === undefined) return target.delete(path);
  if ((target instanceof JsonDocument && source instanceof JsonDocument) || (target instanceof DotenvDocument && source instanceof DotenvDocument)) {
    const raw = source.rawAt(path);
    if (raw !== undefined) {
      try {
        target.setRaw(path, raw);
        if (isDeepStrictEqual(target.read(path), value)) return;
      } catch {
        // fall back to setting the value
      }
    }
  }
  target.set(path, value);
}

// ---------------------------------------------------------------------------------------------------------------
// JSON / JSONC (edits are computed here, byte for byte: only the touched property's text changes)
//
// jsonc-parser's `modify` with formatting options re-formats whole lines around an insertion or removal, which
// includes the previous property's value (an inline `{"k": true}` before a new key came out multi-line), and it
// puts a new property between the previous one and that one's `// comment`. So the editor builds its own edits:
// the new text is rendered in the file's (or the enclosing inline object's) style, and nothing else is rewritten
// except one comma where the JSON grammar needs it.

class JsonDocument implements EditableDocument {
  private readonly original: string;
  private readonly bom: string;
  private readonly wasEmpty: boolean;
  private readonly eol: string;
  /** One indentation step, or `undefined` for a one-line file (edits keep it on one line). */
  private readonly unit: string | undefined;
  private body: string;
  private dirty = false;

  constructor(readonly format: `json` | `jsonc`, text: string, private readonly filePath: string) {
    this.original = text;
    const {bom, body} = splitBom(text);
    this.bom = bom;
    this.wasEmpty = body.trim() === ``;
    this.body = this.wasEmpty ? `{}` : body;
    this.eol = body.includes(`\r\n`) ? `\r\n` : `\n`;
    const root = this.parse(this.body);
    this.unit = detectJsonIndent(this.body, root);
    this.originalValue = getNodeValue(root);
  }

  private readonly originalValue: unknown;

  private parse(body: string): JsonNode {
    const errors: ParseError[] = [];
    const jsonc = this.format === `jsonc`;
    checkJsonDepth(body, this.filePath);
    const root = parseTree(body, errors, {allowTrailingComma: jsonc, disallowComments: !jsonc, allowEmptyContent: false});
    const first = errors[0];
    if (first)
      throw new UnparseableFileError(this.filePath, `${printParseErrorCode(first.error)} at ${lineCol(body, first.offset)}`);
    if (!root || root.type !== `object`)
      throw new UnparseableFileError(this.filePath, `expected an object at the top level, found ${root ? (root.type === `null` ? `null` : `an ${root.type}`) : `nothing`}`);
    refuseDuplicateJsonKeys(body, this.filePath);
    return root;
  }

  private tree(): JsonNode | undefined {
    return parseTree(this.body, [], {allowTrailingComma: true, disallowComments: false});
  }

  read(path: JsonPath): unknown {
    const root = this.tree();
    if (!root) return undefined;
    const node = path.length === 0 ? root : findNodeAtLocation(root, [...path]);
    return node ? getNodeValue(node) : undefined;
  }

  set(path: JsonPath, value: unknown): void {
    if (value === undefined) return this.delete(path);
    requirePath(path, this.filePath);
    // Refuse to replace a non-object that sits where an object is needed (it would lose the user's value).
    const root = this.tree();
    if (!root) throw conflict(this.filePath, path, `the file does not parse`);
    for (let i = 1; i < path.length; i++) {
      const node = findNodeAtLocation(root, [...path.slice(0, i)]);
      if (!node) break;
      const wanted = typeof path[i] === `number` ? `array` : `object`;
      if (node.type !== wanted) throw conflict(this.filePath, path, `${formatPath(path.slice(0, i))} is ${describeJson(node)}, not an ${wanted}`);
    }
    const json = JSON.stringify(value) as string | undefined;
    if (json === undefined) throw conflict(this.filePath, path, `the value cannot be written as JSON`);
    const plain: unknown = JSON.parse(json);
    let next: string;
    try {
      next = this.setText(root, path, plain);
    } catch (err) {
      if (err instanceof CapitError) throw err;
      throw conflict(this.filePath, path, (err as Error).message, err);
    }
    this.apply(next);
  }

  /** The body with `path` set to `value` (plain JSON data). */
  private setText(root: JsonNode, path: JsonPath, value: unknown): string {
    const body = this.body;
    const existing = findNodeAtLocation(root, [...path]);
    if (existing) {
      if (isDeepStrictEqual(getNodeValue(existing), value)) return body;
      const owner = existing.parent?.type === `property` ? existing.parent : existing;
      const container = owner.parent ?? root;
      const style = this.styleOf(container, indentOfLine(body, owner.offset));
      return splice(body, existing.offset, existing.length, renderJson(value, style));
    }
    // The deepest existing object on the path gets one new property holding the rest of the path.
    let depth = path.length - 1;
    let parent: JsonNode | undefined;
    for (; depth >= 0; depth--) {
      parent = depth === 0 ? root : findNodeAtLocation(root, [...path.slice(0, depth)]);
      if (parent) break;
    }
    const rest = path.slice(depth + 1);
    const segment = path[depth];
    if (!parent || parent.type !== `object` || typeof segment !== `string` || rest.some(s => typeof s !== `string`)) {
      // Arrays: jsonc-parser's plain edit, with no formatting (so no other text is touched).
      return applyEdits(body, modify(body, [...path], value, {}));
    }
    let nested = value;
    for (let i = rest.length - 1; i >= 0; i--) nested = {[rest[i] as string]: nested};
    return this.insertProperty(parent, segment, nested);
  }

  /** How a value inside `container` is written: inline when the container is, else on lines indented from `indent`. */
  private styleOf(container: JsonNode, indent: string): JsonStyle {
    const body = this.body;
    const text = body.slice(container.offset, container.offset + container.length);
    const hasChildren = (container.children?.length ?? 0) > 0;
    if (this.unit === undefined || (hasChildren && !/[\r\n]/.test(text))) return {...inlineSpacing(body, container), inline: true};
    return {inline: false, unit: this.unit, eol: this.eol, indent};
  }

  private insertProperty(container: JsonNode, key: string, value: unknown): string {
    const body = this.body;
    const children = container.children ?? [];
    const open = container.offset;
    const close = container.offset + container.length - 1;
    const containerIndent = indentOfLine(body, open);
    const style = this.styleOf(container, containerIndent);
    if (style.inline) {
      const prop = JSON.stringify(key) + style.colon + renderJson(value, style);
      const last = children[children.length - 1];
      if (!last) return splice(body, open + 1, 0, prop);
      return splice(body, last.offset + last.length, 0, style.comma + prop);
    }
    const eol = this.eol;
    const lined = children.filter(c => startsLine(body, c.offset, open));
    const childIndent = lined.length > 0 ? indentOfLine(body, lined[lined.length - 1]!.offset) : containerIndent + style.unit;
    const prop = JSON.stringify(key) + `: ` + renderJson(value, {...style, indent: childIndent});
    const last = children[children.length - 1];
    if (!last) {
      const inner = body.slice(open + 1, close);
      if (inner.trim() === ``) return splice(body, open + 1, inner.length, eol + childIndent + prop + eol + containerIndent);
      // Only comments inside: the property goes on its own line before the closing brace.
      const closeLine = lineStart(body, close);
      if (closeLine > open && /^[ \t]*$/.test(body.slice(closeLine, close))) return splice(body, closeLine, 0, childIndent + prop + eol);
      return splice(body, close, 0, eol + childIndent + prop + eol + containerIndent);
    }
    // After the last property: its own comma (a trailing comma in JSONC) stays where it is and the new property
    // gets one too; else a comma goes right after its value. Either way the new property starts after what
    // follows on that line (a `// comment` belongs to the property it follows).
    const end = last.offset + last.length;
    const after = skipTrivia(body, end);
    const trailing = body[after] === `,`;
    const anchor = trailing ? after + 1 : end;
    const at = skipInline(body, anchor);
    const insert = eol + childIndent + prop + (trailing ? `,` : ``);
    if (trailing) return splice(body, at, 0, insert);
    return body.slice(0, end) + `,` + body.slice(end, at) + insert + body.slice(at);
  }

  /** The source text of the value at `path` (comments and layout included), or undefined. */
  rawAt(path: JsonPath): string | undefined {
    const root = this.tree();
    const node = root && path.length > 0 ? findNodeAtLocation(root, [...path]) : undefined;
    return node ? this.body.slice(node.offset, node.offset + node.length) : undefined;
  }

  /** Sets `path` to a value given as source text (taken from another version of this file). */
  setRaw(path: JsonPath, raw: string): void {
    const marker = `capit-raw-${Math.random().toString(36).slice(2)}-${Date.now()}`;
    const before = this.body;
    const beforeDirty = this.dirty;
    this.set(path, marker);
    const quoted = JSON.stringify(marker);
    const at = this.body.indexOf(quoted);
    if (at === -1) throw new Error(`internal: raw value marker not found`);
    const next = this.body.slice(0, at) + raw + this.body.slice(at + quoted.length);
    try {
      this.parse(next);
    } catch (err) {
      this.body = before;
      this.dirty = beforeDirty;
      throw err;
    }
    this.body = next;
  }

  delete(path: JsonPath): void {
    requirePath(path, this.filePath);
    if (this.read(path) === undefined) return;
    const root = this.tree();
    const node = root ? findNodeAtLocation(root, [...path]) : undefined;
    if (!node) return;
    const prop = node.parent;
    if (!prop || prop.type !== `property` || !prop.parent) {
      // An array element: jsonc-parser's plain edit, with no formatting.
      return this.apply(applyEdits(this.body, modify(this.body, [...path], undefined, {})));
    }
    this.apply(this.removeProperty(prop.parent, prop));
  }

  /**
   * The body without `prop`. A property on lines of its own loses those lines (with its comma and the comment
   * after it); one that shares a line loses its text and the comma and spaces after it. Removing the last property
   * also removes the comma before it (unless it had a trailing comma of its own); an object left with nothing but
   * whitespace inside becomes `{}`.
   */
  private removeProperty(container: JsonNode, prop: JsonNode): string {
    const body = this.body;
    const children = container.children!;
    const index = children.indexOf(prop);
    const isLast = index === children.length - 1;
    const prev = children[index - 1];
    const start = prop.offset;
    const end = prop.offset + prop.length;
    const afterComma = skipTrivia(body, end);
    const ownComma = body[afterComma] === `,`;
    const afterEnd = ownComma ? afterComma + 1 : end;
    const cuts: Array<[number, number]> = [];
    if (isLast && !ownComma && prev) {
      const comma = skipTrivia(body, prev.offset + prev.length);
      if (body[comma] === `,`) cuts.push([comma, comma + 1]);
    }
    const stop = skipInline(body, afterEnd);
    const lineFrom = lineStart(body, start);
    if (startsLine(body, start, container.offset) && lineBreakLength(body, stop) > 0) {
      cuts.push([lineFrom, stop + lineBreakLength(body, stop)]);
    } else if (!isLast) {
      cuts.push([start, skipSpaces(body, afterEnd)]);
    } else {
      let from = start;
      while (from > container.offset + 1 && /\s/.test(body[from - 1]!)) from--;
      cuts.push([from, afterEnd]);
    }
    let next = body;
    for (const [from, to] of cuts.sort((x, y) => y[0] - x[0])) next = next.slice(0, from) + next.slice(to);
    if (children.length === 1) {
      const removed = cuts.reduce((n, [from, to]) => n + (to - from), 0);
      const open = container.offset;
      const close = container.offset + container.length - 1 - removed;
      if (next.slice(open + 1, close).trim() === ``) next = next.slice(0, open + 1) + next.slice(close);
    }
    return next;
  }

  private apply(next: string): void {
    if (next === this.body) return;
    this.parse(next); // never produce a file we could not read back
    this.body = next;
    this.dirty = true;
  }

  text(): string {
    // Edits that cancel out (set then delete of a new key) give the original bytes back.
    if (!this.dirty || isDeepStrictEqual(this.read([]), this.originalValue)) return this.original;
    return this.bom + this.body + (this.wasEmpty ? this.eol : ``);
  }
}

type JsonStyle =
  | {inline: true; colon: string; comma: string}
  | {inline: false; unit: string; eol: string; indent: string};

/** Plain JSON data as text: inline (`{"a": 1, "b": [2]}`), or one member a line, indented from `style.indent`. */
// The scanner is iterative, so this runs before the (recursive) parser ever sees a deep file.
function checkJsonDepth(body: string, filePath: string): void {
  const scanner = createScanner(body, false);
  let depth = 0;
  for (let token = scanner.scan(); token !== /* EOF */ 17; token = scanner.scan()) {
    if (token === /* OpenBrace */ 1 || token === /* OpenBracket */ 3) {
      if (++depth > MAX_NESTING_DEPTH)
        throw new UnparseableFileError(filePath, `nested more than ${MAX_NESTING_DEPTH} levels deep at line ${scanner.getTokenStartLine() + 1}`);
    } else if (token === /* CloseBrace */ 2 || token === /* CloseBracket */ 4) {
      depth--;
    }
  }
}

// Parsers disagree on a repeated key (opencode's, like JSON.parse, keeps the last; jsonc-parser's tree finds the
// first), so capit could write one copy while the agent reads the other. Refused anywhere in the file, like YAML.
function refuseDuplicateJsonKeys(body: string, filePath: string): void {
  const open: Map<string, number>[] = [];
  let duplicate: string | undefined;
  visit(body, {
    onObjectBegin: () => {
      open.push(new Map());
    },
    onObjectEnd: () => {
      open.pop();
    },
    onObjectProperty: (property, _offset, _length, startLine, _startCharacter, pathSupplier) => {
      const keys = open[open.length - 1];
      if (!keys || duplicate !== undefined) return;
      const first = keys.get(property);
      if (first !== undefined)
        duplicate = `duplicate key ${formatPath([...pathSupplier(), property] as JsonPath)} ${first === startLine + 1 ? `twice on line ${first}` : `on lines ${first} and ${startLine + 1}`}; an agent may read the other copy`;
      keys.set(property, startLine + 1);
    },
  }, {allowTrailingComma: true, disallowComments: false});
  if (duplicate !== undefined) throw new UnparseableFileError(filePath, duplicate);
}

function renderJson(value: unknown, style: JsonStyle): string {
  if (value === null || typeof value !== `object`) return JSON.stringify(value);
  const entries: Array<[string | undefined, unknown]> = Array.isArray(value)
    ? value.map(v => [undefined, v])
    : Object.entries(value as Record<string, unknown>);
  const [open, close] = Array.isArray(value) ? [`[`, `]`] : [`{`, `}`];
  if (entries.length === 0) return open + close;
  if (style.inline) {
    const items = entries.map(([k, v]) => (k === undefined ? `` : JSON.stringify(k) + style.colon) + renderJson(v, style));
    return open + items.join(style.comma) + close;
  }
  const inner = style.indent + style.unit;
  const items = entries.map(([k, v]) => inner + (k === undefined ? `` : `${JSON.stringify(k)}: `) + renderJson(v, {...style, indent: inner}));
  return open + style.eol + items.join(`,${style.eol}`) + style.eol + style.indent + close;
}

/** The spacing after `:` and `,` inside an inline object or array (`{"a": 1, "b": 2}` or `{"a":1,"b":2}`). */
function inlineSpacing(body: string, container: JsonNode): {colon: string; comma: string} {
  const children = container.children ?? [];
  let spaced = true;
  const first = children[0];
  if (first?.type === `property` && first.children?.length === 2) {
    const [k, v] = first.children as [JsonNode, JsonNode];
    spaced = /:[ \t]/.test(body.slice(k.offset + k.length, v.offset));
  }
  const colon = spaced ? `: ` : `:`;
  if (children.length >= 2) {
    const between = body.slice(children[0]!.offset + children[0]!.length, children[1]!.offset);
    return {colon, comma: /,[ \t]/.test(between) ? `, ` : `,`};
  }
  return {colon, comma: spaced ? `, ` : `,`};
}

function splice(text: string, offset: number, length: number, content: string): string {
  return text.slice(0, offset) + content + text.slice(offset + length);
}

function lineStart(text: string, pos: number): number {
  return text.lastIndexOf(`\n`, pos - 1) + 1;
}

function indentOfLine(text: string, pos: number): string {
  return /^[ \t]*/.exec(text.slice(lineStart(text, pos), pos))![0];
}

/** Whether only spaces and tabs come before `pos` on its line (and that line is inside the container at `open`). */
function startsLine(text: string, pos: number, open: number): boolean {
  const from = lineStart(text, pos);
  return from > open && /^[ \t]*$/.test(text.slice(from, pos));
}

function lineBreakLength(text: string, pos: number): number {
  if (text.startsWith(`\r\n`, pos)) return 2;
  return text[pos] === `\n` || text[pos] === `\r` ? 1 : 0;
}

function skipSpaces(text: string, pos: number): number {
  while (text[pos] === ` ` || text[pos] === `\t`) pos++;
  return pos;
}

/** Skips spaces, tabs and comments that end on this line: the result is a line break or other text. */
function skipInline(text: string, pos: number): number {
  for (;;) {
    pos = skipSpaces(text, pos);
    if (text.startsWith(`//`, pos)) {
      while (pos < text.length && text[pos] !== `\n` && text[pos] !== `\r`) pos++;
    } else if (text.startsWith(`/*`, pos)) {
      const close = text.indexOf(`*/`, pos + 2);
      if (close === -1 || /[\r\n]/.test(text.slice(pos, close))) return pos;
      pos = close + 2;
    } else {
      return pos;
    }
  }
}

/** Skips whitespace, line breaks and comments. */
function skipTrivia(text: string, pos: number): number {
  for (;;) {
    while (/\s/.test(text[pos] ?? ``)) pos++;
    if (text.startsWith(`//`, pos)) {
      while (pos < text.length && text[pos] !== `\n` && text[pos] !== `\r`) pos++;
    } else if (text.startsWith(`/*`, pos)) {
      const close = text.indexOf(`*/`, pos + 2);
      if (close === -1) return text.length;
      pos = close + 2;
    } else {
      return pos;
    }
  }
}

function describeJson(node: JsonNode): string {
  return node.type === `null` ? `null` : node.type === `array` || node.type === `object` ? `an ${node.type}` : `a ${node.type}`;
}

/** Tabs or N spaces, from the top-level properties; `undefined` keeps a one-line file on one line. */
function detectJsonIndent(body: string, root: JsonNode): string | undefined {
  const rootText = body.slice(root.offset, root.offset + root.length);
  if (!root.children?.[0]) return `  `;
  if (!rootText.includes(`\n`)) return undefined;
  // Find the smallest indentation among the lines that start a top-level property.
  let best: string | undefined;
  for (const prop of root.children ?? []) {
    const lineStartAt = body.lastIndexOf(`\n`, prop.offset - 1) + 1;
    if (lineStartAt <= root.offset) continue;
    const lead = body.slice(lineStartAt, prop.offset);
    if (!/^[ \t]+$/.test(lead)) continue;
    if (best === undefined || lead.length < best.length) best = lead;
  }
  if (best === undefined) return `  `;
  if (best.includes(`\t`)) return `\t`;
  return ` `.repeat(best.length);
}

// ---------------------------------------------------------------------------------------------------------------
// dotenv (hand-written: every untouched line is kept byte for byte)

interface EnvEntry {
  kind: `blank` | `comment` | `assign`;
  /** For assignments: everything before the value (`export KEY=`). */
  head: string;
  /** The value as written (quotes included). */
  raw: string;
  /** After the value: spaces and an inline comment. For blank/comment lines: the whole line. */
  tail: string;
  eol: string;
  key?: string;
  value?: string;
}

const ENV_ASSIGN = /^([ \t]*(?:export[ \t]+)?([A-Za-z_][A-Za-z0-9_.-]*)[ \t]*=[ \t]*)/;
const ENV_SET_KEY = /^[A-Za-z_][A-Za-z0-9_.-]*$/;
const ENV_SAFE = /^[A-Za-z0-9_.:/+@-]*$/;

export function encodeDotenvValue(value: string): string {
  if (ENV_SAFE.test(value)) return value;
  return `"${value.replace(/\\/g, `\\\\`).replace(/"/g, `\\"`).replace(/\$/g, `\\$`).replace(/\n/g, `\\n`).replace(/\r/g, `\\r`)}"`;
}

export function decodeDotenvValue(raw: string): string {
  const q = raw[0];
  if (raw.length >= 2 && (q === `'` || q === `\``) && raw.endsWith(q)) return raw.slice(1, -1);
  if (raw.length >= 2 && q === `"` && raw.endsWith(`"`)) {
    const map: Record<string, string> = {n: `\n`, r: `\r`, t: `\t`};
    return raw.slice(1, -1).replace(/\\([\s\S])/g, (_, c: string) => map[c] ?? c);
  }
  return raw;
}

function parseDotenv(body: string, filePath: string): EnvEntry[] {
  const entries: EnvEntry[] = [];
  let pos = 0;
  let lineNo = 0;
  const nextLine = (): {content: string; eol: string} => {
    const nl = body.indexOf(`\n`, pos);
    let line = nl === -1 ? body.slice(pos) : body.slice(pos, nl);
    let eol = nl === -1 ? `` : `\n`;
    if (eol && line.endsWith(`\r`)) {
      line = line.slice(0, -1);
      eol = `\r\n`;
    }
    pos = nl === -1 ? body.length : nl + 1;
    lineNo++;
    return {content: line, eol};
  };
  while (pos < body.length) {
    const startLine = lineNo + 1;
    const {content, eol} = nextLine();
    if (/^[ \t]*$/.test(content)) {
      entries.push({kind: `blank`, head: ``, raw: ``, tail: content, eol});
      continue;
    }
    if (/^[ \t]*#/.test(content)) {
      entries.push({kind: `comment`, head: ``, raw: ``, tail: content, eol});
      continue;
    }
    const m = ENV_ASSIGN.exec(content);
    if (!m) throw new UnparseableFileError(filePath, `line ${startLine} is not KEY=value, a comment or blank`);
    const head = m[1]!;
    const key = m[2]!;
    let rest = content.slice(head.length);
    let lineEol = eol;
    const q = rest[0];
    if (q === `"` || q === `'` || q === `\``) {
      // A quoted value may span lines; find the closing quote (double quotes honour backslash escapes).
      let i = 1;
      for (;;) {
        while (i < rest.length && rest[i] !== q) i += q === `"` && rest[i] === `\\` ? 2 : 1;
        if (i < rest.length) break;
        if (pos >= body.length) throw new UnparseableFileError(filePath, `unterminated quoted value starting on line ${startLine}`);
        const more = nextLine();
        rest += lineEol + more.content;
        lineEol = more.eol;
      }
      const raw = rest.slice(0, i + 1);
      const tail = rest.slice(i + 1);
      if (!/^[ \t]*(#.*)?$/.test(tail)) throw new UnparseableFileError(filePath, `unexpected text after the quoted value on line ${lineNo}`);
      entries.push({kind: `assign`, head, raw, tail, eol: lineEol, key, value: decodeDotenvValue(raw)});
      continue;
    }
    // Unquoted: an inline comment starts at a `#` preceded by whitespace.
    let cut = rest.length;
    for (let i = 0; i < rest.length; i++) {
      if (rest[i] === `#` && (i === 0 || rest[i - 1] === ` ` || rest[i - 1] === `\t`)) {
        cut = i;
        break;
      }
    }
    const raw = rest.slice(0, cut).replace(/[ \t]+$/, ``);
    entries.push({kind: `assign`, head, raw, tail: rest.slice(raw.length), eol: lineEol, key, value: raw});
  }
  return entries;
}

class DotenvDocument implements EditableDocument {
  readonly format = `dotenv` as const;
  private readonly original: string;
  private readonly bom: string;
  private readonly eol: string;
  private entries: EnvEntry[];
  private dirty = false;

  constructor(text: string, private readonly filePath: string) {
    this.original = text;
    const {bom, body} = splitBom(text);
    this.bom = bom;
    this.eol = body.includes(`\r\n`) ? `\r\n` : `\n`;
    this.entries = parseDotenv(body, filePath);
    this.originalValue = this.read([]);
  }

  private readonly originalValue: unknown;

  private key(path: JsonPath): string {
    if (path.length !== 1 || typeof path[0] !== `string`) throw new Error(`${this.filePath}: a .env path is one variable name, got ${formatPath(path)}`);
    return path[0];
  }

  // A variable assigned twice is read and written at its LAST assignment: python-dotenv (hermes), the dotenv package
  // and a shell that sources the file all keep the last one, so that is the copy the agent uses. Earlier copies are
  // left byte for byte (restore puts the file back exactly either way). Decision recorded in README.

  read(path: JsonPath): unknown {
    if (path.length === 0) {
      const all: Record<string, string> = {};
      for (const e of this.entries) if (e.kind === `assign`) all[e.key!] = e.value!;
      return all;
    }
    if (path.length !== 1) return undefined;
    const key = path[0];
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.key === key) return this.entries[i]!.value;
    return undefined;
  }

  set(path: JsonPath, value: unknown): void {
    if (value === undefined) return this.delete(path);
    const key = this.key(path);
    if (!ENV_SET_KEY.test(key)) throw new Error(`${this.filePath}: ${JSON.stringify(key)} is not a valid variable name`);
    if (typeof value !== `string` && typeof value !== `number` && typeof value !== `boolean`)
      throw conflict(this.filePath, path, `a .env value must be a string, got ${value === null ? `null` : typeof value}`);
    const str = String(value);
    const raw = encodeDotenvValue(str);
    let idx = -1;
    for (let i = this.entries.length - 1; i >= 0 && idx === -1; i--) if (this.entries[i]!.key === key) idx = i;
    if (idx !== -1) {
      const e = this.entries[idx]!;
      if (e.value === str) return; // already there: keep the user's quoting
      // `KEY= # note` has its comment right after the value: keep a space so it stays a comment.
      const tail = raw !== `` && e.tail.startsWith(`#`) ? ` ${e.tail}` : e.tail;
      this.entries[idx] = {...e, raw, tail, value: str};
    } else {
      const last = this.entries[this.entries.length - 1];
      const entry: EnvEntry = {kind: `assign`, head: `${key}=`, raw, tail: ``, eol: this.eol, key, value: str};
      if (last && last.eol === ``) {
        // The file does not end with a newline: keep it that way (so removing the line gives the same bytes back).
        last.eol = this.eol;
        entry.eol = ``;
      }
      this.entries.push(entry);
    }
    this.dirty = true;
  }

  rawAt(path: JsonPath): string | undefined {
    const key = this.key(path);
    for (let i = this.entries.length - 1; i >= 0; i--) if (this.entries[i]!.key === key) return this.entries[i]!.raw;
    return undefined;
  }

  /** Sets a variable to a value given as written in another version of this file (quotes kept). */
  setRaw(path: JsonPath, raw: string): void {
    this.set(path, decodeDotenvValue(raw));
    const key = this.key(path);
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const e = this.entries[i]!;
      if (e.key !== key) continue;
      if (e.raw !== raw) {
        e.raw = raw;
        this.dirty = true;
      }
      return;
    }
  }

  delete(path: JsonPath): void {
    const key = this.key(path);
    if (!this.entries.some(e => e.key === key)) return;
    const lastEol = this.entries[this.entries.length - 1]!.eol;
    this.entries = this.entries.filter(e => e.key !== key);
    const last = this.entries[this.entries.length - 1];
    if (last && lastEol === ``) last.eol = ``;
    this.dirty = true;
  }

  text(): string {
    if (!this.dirty || isDeepStrictEqual(this.read([]), this.originalValue)) return this.original;
    return this.bom + this.entries.map(e => e.head + e.raw + e.tail + e.eol).join(``);
  }
}

// ---------------------------------------------------------------------------------------------------------------
// YAML (the `yaml` Document API keeps comments; its output is then mapped back onto the original lines so that
// parts of the file the edit did not touch keep their exact bytes)

class YamlDoc implements EditableDocument {
  readonly format = `yaml` as const;
  private readonly original: string;
  private readonly bom: string;
  private readonly crlf: boolean;
  private readonly body: string;
  private readonly doc: YamlDocument.Parsed;
  private readonly opts: {lineWidth: number; indentSeq: boolean; indent: number};
  private readonly base: string;
  private dirty = false;

  constructor(text: string, private readonly filePath: string) {
    this.original = text;
    const {bom, body} = splitBom(text);
    this.bom = bom;
    // Work in \n; a file written entirely in CRLF gets CRLF back.
    this.crlf = body.includes(`\r\n`) && !/(^|[^\r])\n/.test(body);
    this.body = this.crlf ? body.replace(/\r\n/g, `\n`) : body;
    this.doc = parseYaml(this.body, filePath);
    this.opts = {
      lineWidth: 0,
      indentSeq: !/^([ \t]*)[^\s#][^\n]*:[ \t]*(#[^\n]*)?\n\1- /m.test(this.body),
      indent: detectYamlIndent(this.body),
    };
    this.base = this.doc.toString(this.opts);
    this.originalValue = this.read([]);
  }

  private readonly originalValue: unknown;

  read(path: JsonPath): unknown {
    let cur: unknown = this.doc.toJS({maxAliasCount: -1}) ?? {};
    for (const seg of path) {
      if (cur === null || typeof cur !== `object`) return undefined;
      if (cur instanceof Map) cur = cur.get(seg);
      else cur = (cur as Record<string | number, unknown>)[seg];
    }
    return cur;
  }

  set(path: JsonPath, value: unknown): void {
    if (value === undefined) return this.delete(path);
    requirePath(path, this.filePath);
    if (isDeepStrictEqual(this.read(path), value)) return;
    for (let i = 1; i < path.length; i++) {
      const v = this.read(path.slice(0, i));
      if (v === undefined) break;
      if (v === null || typeof v !== `object`) throw conflict(this.filePath, path, `${formatPath(path.slice(0, i))} is not a mapping`);
    }
    const existing = this.doc.getIn([...path], true);
    try {
      if (yamlLibrary().isScalar(existing) && (value === null || typeof value !== `object`)) {
        existing.value = value; // keeps the node's comments and anchor
      } else {
        if (this.doc.contents === null) this.doc.contents = this.doc.createNode({}) as never;
        this.doc.setIn([...path], this.doc.createNode(value));
      }
    } catch (err) {
      throw conflict(this.filePath, path, (err as Error).message, err);
    }
    this.dirty = true;
  }

  delete(path: JsonPath): void {
    requirePath(path, this.filePath);
    if (this.read(path) === undefined && !this.doc.hasIn([...path])) return;
    this.doc.deleteIn([...path]);
    this.dirty = true;
  }

  text(): string {
    if (!this.dirty || isDeepStrictEqual(this.read([]), this.originalValue)) return this.original;
    const modified = this.doc.toString(this.opts);
    let out = mergeLines(this.body, this.base, modified);
    // Keep the merge only if it means exactly what the library produced; else use the library's output.
    try {
      const check = yamlLibrary().parseDocument(out);
      if (check.errors.length > 0 || !isDeepStrictEqual(check.toJS({maxAliasCount: -1}), this.doc.toJS({maxAliasCount: -1}))) out = modified;
    } catch {
      out = modified;
    }
    if (this.crlf) out = out.replace(/\n/g, `\r\n`);
    return this.bom + out;
  }
}

function parseYaml(body: string, filePath: string): YamlDocument.Parsed {
  let doc: YamlDocument.Parsed;
  try {
    doc = yamlLibrary().parseDocument(body, {prettyErrors: false, uniqueKeys: true});
  } catch (err) {
    throw new UnparseableFileError(filePath, (err as Error).message);
  }
  const first = doc.errors[0];
  if (first) {
    const line = lineCol(body, first.pos[0]);
    if (first.code === `DUPLICATE_KEY`)
      throw new UnparseableFileError(filePath, `duplicate key${yamlKeyAt(body, first.pos[0])} at ${line}; an agent may read the other copy`);
    if (first.code === `RESOURCE_EXHAUSTION`)
      throw new UnparseableFileError(filePath, `nested too deeply (over ${MAX_NESTING_DEPTH} levels) or too many aliases`);
    throw new UnparseableFileError(filePath, `${first.message.split(`\n`)[0]} at ${line}`);
  }
  checkYamlDepth(doc.contents, filePath);
  checkYamlExpansion(doc, filePath);
  if (doc.contents !== null && !yamlLibrary().isMap(doc.contents))
    throw new UnparseableFileError(filePath, `expected a mapping at the top level`);
  return doc;
}

// The error's position marks only the key's first character: read the key as written (plain or quoted).
function yamlKeyAt(body: string, offset: number): string {
  const key = /^("(?:[^"\\\n]|\\.)*"|'[^'\n]*'|[^:#\n]*?)\s*:/.exec(body.slice(offset, offset + 300))?.[1];
  return key ? (/^["']/.test(key) ? ` ${key}` : ` ${JSON.stringify(key)}`) : ``;
}

// Iterative, so a deep document is refused before anything recursive (toJS, stringify, deep equality) touches it.
function checkYamlDepth(root: unknown, filePath: string): void {
  const yaml = yamlLibrary();
  const stack: {node: unknown; depth: number}[] = [{node: root, depth: 1}];
  while (stack.length > 0) {
    const {node, depth} = stack.pop()!;
    if (!yaml.isCollection(node)) continue;
    if (depth > MAX_NESTING_DEPTH) throw new UnparseableFileError(filePath, `nested more than ${MAX_NESTING_DEPTH} levels deep`);
    for (const item of node.items as unknown[]) {
      if (yaml.isPair(item)) {
        stack.push({node: item.key, depth: depth + 1}, {node: item.value, depth: depth + 1});
      } else {
        stack.push({node: item, depth: depth + 1});
      }
    }
  }
}

/** Most nodes a YAML document may stand for once its aliases are expanded (real configs: hundreds). */
const MAX_YAML_EXPANDED_NODES = 100_000;

// A few anchors aliased in layers ("billion laughs") stand for billions of nodes: reading or comparing the value
// would never finish. Sizes are counted per node once (memoised), so this costs one pass over the document.
function checkYamlExpansion(doc: YamlDocument.Parsed, filePath: string): void {
  const yaml = yamlLibrary();
  const sizes = new Map<unknown, number>();
  const tooBig = () => new UnparseableFileError(filePath, `its aliases expand to more than ${MAX_YAML_EXPANDED_NODES.toLocaleString(`en-US`)} values`);
  const size = (node: unknown, hops: number): number => {
    if (hops > MAX_NESTING_DEPTH) throw tooBig();
    if (yaml.isAlias(node)) return size(node.resolve(doc), hops + 1);
    if (!yaml.isCollection(node)) return 1;
    const known = sizes.get(node);
    if (known !== undefined) return known;
    let total = 1;
    for (const item of node.items as unknown[]) {
      total += yaml.isPair(item) ? size(item.key, hops + 1) + size(item.value, hops + 1) : size(item, hops + 1);
      if (total > MAX_YAML_EXPANDED_NODES) throw tooBig();
    }
    sizes.set(node, total);
    return total;
  };
  size(doc.contents, 0);
}

function detectYamlIndent(body: string): number {
  const m = /^[^\s#-][^\n]*:[ \t]*(?:#[^\n]*)?\n( +)[^\s-]/m.exec(body);
  const n = m ? m[1]!.length : 2;
  return n >= 1 && n <= 8 ? n : 2;
}

/**
 * `base` is the library's rendering of `original`, `modified` its rendering after the edit. Lines the edit did not
 * change are taken from `original` (so its own spacing, quoting and folding stay); regions where the library
 * reformatted the file *and* the edit touched them come from `modified`.
 *
 * Base and original lines are paired first where they are identical, then (inside the regions that differ) where
 * they differ only in spacing (`a: 1   # c` is rendered `a: 1 # c`), so one edited line does not pull its
 * neighbours into the library's formatting. An edited line that replaces a paired line keeps its inline comment's
 * spacing. Every comparison (base ↔ original, base ↔ modified) also requires the same chain of parent keys, so a line
 * that occurs under several parents (`    key:`, `      a: 0 #`) is paired with its own copy.
 */
function mergeLines(original: string, base: string, modified: string): string {
  const o = original.split(`\n`);
  const b = base.split(`\n`);
  const m = modified.split(`\n`);
  const blocks = alignLines(b, o);
  // Fate of each base line under the edit, the lines inserted before each base position, and the one line that
  // replaces a base line in place (a removed line directly followed by an added one with the same key).
  const kept: boolean[] = new Array<boolean>(b.length).fill(true);
  const inserted: string[][] = Array.from({length: b.length + 1}, () => []);
  const replacedBy = new Map<number, string>();
  let pos = 0;
  // Lines are compared with the keys of the mappings they sit in, so that a line repeated in another mapping
  // (`    key:` under two parents) is not taken for the edited one.
  const raw = (l: ContextLine): string => l.text;
  const parts = diffLibrary().diffArrays(withContexts(b), withContexts(m), {comparator: sameContextLine});
  for (let i = 0; i < parts.length; i++) {
    const part = parts[i]!;
    if (part.added) {
      inserted[pos]!.push(...part.value.map(raw));
    } else if (part.removed) {
      const next = parts[i + 1];
      const start = pos;
      for (let k = 0; k < part.value.length; k++) kept[pos++] = false;
      if (next?.added) {
        // Pair the removed and added lines one for one (up to the shorter run); the rest stay insertions.
        const added = next.value.map(raw);
        let used = 0;
        while (used < part.value.length && used < added.length && sameLineKey(b[start + used]!, added[used]!)) {
          replacedBy.set(start + used, added[used]!);
          used++;
        }
        inserted[pos]!.push(...added.slice(used));
        i++;
      }
    } else {
      pos += part.value.length;
    }
  }
  const out: string[] = [];
  for (const block of blocks) {
    if (block.kind === `joined`) {
      const k = block.bStart;
      out.push(...inserted[k]!);
      if (kept[k] && kept[k + 1] && inserted[k + 1]!.length === 0) {
        out.push(o[block.oStart]!);
      } else {
        if (kept[k]) out.push(b[k]!);
        else if (replacedBy.has(k)) out.push(replacedBy.get(k)!);
        out.push(...inserted[k + 1]!);
        if (kept[k + 1]) out.push(b[k + 1]!);
      }
      continue;
    }
    if (block.kind === `equal`) {
      for (let k = block.bStart; k < block.bEnd; k++) {
        out.push(...inserted[k]!);
        const line = o[block.oStart + (k - block.bStart)]!;
        const replacement = replacedBy.get(k);
        if (kept[k]) out.push(line);
        else if (replacement !== undefined) out.push(keepCommentSpacing(line, b[k]!, replacement));
        // A whole-line comment of the user's stays even when the library dropped it with a deleted node
        // (the result is checked afterwards, so a '#' line inside a block scalar cannot slip through).
        else if (/^[ \t]*#/.test(line)) out.push(line);
      }
      continue;
    }
    if (block.bStart === block.bEnd) {
      // Original lines the library does not render at all (or that could not be paired): kept when the lines on
      // both sides are, else they went with a deleted neighbour (only whole-line comments stay, as above).
      // Lines inserted before base line k come after them, with the next block (or at the end).
      const k = block.bStart;
      const around = (k === 0 || kept[k - 1]) && (k === b.length || kept[k]);
      for (const line of o.slice(block.oStart, block.oEnd)) if (around || /^[ \t]*#/.test(line)) out.push(line);
      continue;
    }
    let untouched = true;
    for (let k = block.bStart; k < block.bEnd; k++) if (!kept[k] || (k > block.bStart && inserted[k]!.length > 0)) untouched = false;
    if (untouched) {
      out.push(...inserted[block.bStart]!);
      out.push(...o.slice(block.oStart, block.oEnd));
    } else {
      for (let k = block.bStart; k < block.bEnd; k++) {
        out.push(...inserted[k]!);
        if (kept[k]) out.push(b[k]!);
        else if (replacedBy.has(k)) out.push(replacedBy.get(k)!);
      }
    }
  }
  // Insertions at the very end come after the last line; blocks already emitted inserted[k] for k < b.length.
  const tail = inserted[b.length]!;
  if (tail.length > 0) {
    // `split` leaves a final "" for a trailing newline: keep it last.
    if (out.length > 0 && out[out.length - 1] === `` && (m[m.length - 1] === ``)) out.splice(out.length - 1, 0, ...tail);
    else out.push(...tail);
  }
  return out.join(`\n`);
}

/**
 * A run of base lines and the original lines they render: `equal` pairs them one for one (identical, or different
 * only in spacing), `joined` is one original line the library printed as two (`key: # c` becomes `key:` and an
 * indented `# c`), `differ` is a region that could not be paired.
 */
type LineBlock = {bStart: number; bEnd: number; oStart: number; oEnd: number; kind: `equal` | `joined` | `differ`};

/**
 * Alignment base → original. Identical lines are paired first; inside each region that differs, lines that differ
 * only in spacing are paired too, and so is a key line with its comment that the library moved to the next line.
 */
function alignLines(b: string[], o: string[]): LineBlock[] {
  const blocks: LineBlock[] = [];
  const push = (bStart: number, bEnd: number, oStart: number, oEnd: number, kind: LineBlock[`kind`]): void => {
    const last = blocks[blocks.length - 1];
    if (kind !== `joined` && last && last.kind === kind && last.bEnd === bStart && last.oEnd === oStart) {
      last.bEnd = bEnd;
      last.oEnd = oEnd;
    } else if (bEnd > bStart || oEnd > oStart) {
      blocks.push({bStart, bEnd, oStart, oEnd, kind});
    }
  };
  let bi = 0;
  let oi = 0;
  const bc = withContexts(b);
  const oc = withContexts(o);
  for (const part of diffLibrary().diffArrays(bc, oc, {comparator: sameContextLine})) {
    const n = part.value.length;
    if (part.added) {
      oi += n;
      continue;
    }
    if (part.removed) {
      bi += n;
      continue;
    }
    const last = blocks[blocks.length - 1];
    const from = last ? {b: last.bEnd, o: last.oEnd} : {b: 0, o: 0};
    alignLoosely(bc, oc, from.b, bi, from.o, oi, push);
    push(bi, bi + n, oi, oi + n, `equal`);
    bi += n;
    oi += n;
  }
  const last = blocks[blocks.length - 1];
  alignLoosely(bc, oc, last ? last.bEnd : 0, b.length, last ? last.oEnd : 0, o.length, push);
  return blocks;
}

/** Pairs the lines of a differing region b[bStart, bEnd) ↔ o[oStart, oEnd) that differ only in layout. */
function alignLoosely(
  b: ContextLine[], o: ContextLine[], bStart: number, bEnd: number, oStart: number, oEnd: number,
  push: (bStart: number, bEnd: number, oStart: number, oEnd: number, kind: LineBlock[`kind`]) => void,
): void {
  if (bStart === bEnd || oStart === oEnd) return push(bStart, bEnd, oStart, oEnd, `differ`);
  const os = o.slice(oStart, oEnd);
  // Base items: single lines, or a `key:` line joined with the indented comment the library moved under it (only
  // when the original region has such a line, so a user's own comment line under a key is not joined).
  const items: Array<{line: ContextLine; start: number; end: number}> = [];
  for (let k = bStart; k < bEnd; k++) {
    const line = b[k]!;
    const next = b[k + 1];
    if (k + 1 < bEnd && next !== undefined && /:$/.test(line.text) && /^[ \t]*#/.test(next.text) && indentOf(next.text).length > indentOf(line.text).length) {
      const joined = {context: line.context, text: `${line.text} ${next.text.trim()}`};
      if (os.some(l => sameContextLoosely(joined, l))) {
        items.push({line: joined, start: k, end: k + 2});
        k++;
        continue;
      }
    }
    items.push({line, start: k, end: k + 1});
  }
  let ii = 0;
  let oi = oStart;
  let pendingB = bStart;
  let pendingO = oStart;
  for (const part of diffLibrary().diffArrays(items.map(i => i.line), os, {comparator: sameContextLoosely})) {
    const n = part.value.length;
    if (part.added) {
      oi += n;
    } else if (part.removed) {
      ii += n;
    } else {
      const firstB = items[ii]!.start;
      push(pendingB, firstB, pendingO, oi, `differ`);
      for (let j = 0; j < n; j++, ii++, oi++) {
        const item = items[ii]!;
        push(item.start, item.end, oi, oi + 1, item.end - item.start === 1 ? `equal` : `joined`);
      }
      pendingB = items[ii - 1]!.end;
      pendingO = oi;
    }
  }
  push(pendingB, bEnd, pendingO, oEnd, `differ`);
}

/** A line with the keys of the mappings it sits in (found from indentation; see `withContexts`). */
type ContextLine = {context: string; text: string};

/**
 * Each line with the chain of keys above it, found from indentation: a key line opens a mapping for the lines
 * indented deeper than its key. Lines inside block scalars are read the same way on both sides of a comparison,
 * so they only make the context finer; it is used to tell equal lines apart, never to decide what is written.
 */
function withContexts(lines: string[]): ContextLine[] {
  const stack: Array<{col: number; key: string}> = [];
  return lines.map(text => {
    if (text.trim() !== ``) {
      const col = /^[ \t]*(?:-(?:[ \t]+|$))*/.exec(text)![0].length;
      while (stack.length > 0 && stack[stack.length - 1]!.col >= col) stack.pop();
    }
    const context = stack.map(s => s.key).join(`\n`);
    if (!/^[ \t]*(#|$)/.test(text)) {
      const key = lineKey(text);
      if (/:$/.test(key)) stack.push({col: /^[ \t]*(?:-(?:[ \t]+|$))*/.exec(text)![0].length, key: key.trim()});
    }
    return {context, text};
  });
}

function sameContextLine(l: ContextLine, r: ContextLine): boolean {
  return l.context === r.context && l.text === r.text;
}

function sameContextLoosely(l: ContextLine, r: ContextLine): boolean {
  return l.context === r.context && sameSpacingInsensitive(l.text, r.text);
}

function indentOf(line: string): string {
  return /^[ \t]*/.exec(line)![0];
}

/** Whether two lines differ only in spacing after their indentation (the library writes `a: 1   # c` as `a: 1 # c`). */
function sameSpacingInsensitive(l: string, r: string): boolean {
  const norm = (line: string): string => {
    const indent = indentOf(line);
    return indent + line.slice(indent.length).replace(/[ \t]+$/, ``).replace(/[ \t]+/g, ` `);
  };
  return l !== `` && r !== `` && norm(l) === norm(r);
}

/** The part of a line that says which entry it is: indentation, `- ` markers and the key, when there is one. */
function lineKey(line: string): string {
  const keyed = /^[ \t]*(?:-[ \t]+)*(?:"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{[\]}&*!|>%@`,-][^#]*?|-[^\s#][^#]*?)[ \t]*:(?=[ \t]|$)/.exec(line);
  return keyed ? keyed[0] : /^[ \t]*(?:-(?=[ \t]|$)[ \t]*)*/.exec(line)![0];
}

function sameLineKey(baseLine: string, modifiedLine: string): boolean {
  return !/^[ \t]*(#|$)/.test(baseLine) && !/^[ \t]*(#|$)/.test(modifiedLine) && lineKey(baseLine) === lineKey(modifiedLine);
}

/**
 * The edited line `modified` replaces `baseLine`, which renders the user's `originalLine`. When the user's line
 * has an inline comment that the edit kept, the comment keeps its column (or, when the new value is too long for
 * that or a tab makes columns ambiguous, the user's gap before the `#`).
 */
function keepCommentSpacing(originalLine: string, baseLine: string, modified: string): string {
  if (originalLine === baseLine) return modified;
  for (let i = originalLine.indexOf(`#`); i > 0; i = originalLine.indexOf(`#`, i + 1)) {
    const gapStart = originalLine.slice(0, i).search(/[ \t]+$/);
    if (gapStart === -1) continue;
    const comment = originalLine.slice(i);
    if (!baseLine.endsWith(` ${comment}`) || !modified.endsWith(` ${comment}`)) continue;
    const before = modified.slice(0, modified.length - comment.length - 1);
    if (/[ \t]$/.test(before) || before.trim() === ``) return modified;
    const gap = originalLine.slice(gapStart, i);
    if (!originalLine.slice(0, i).includes(`\t`) && before.length < i) return before + ` `.repeat(i - before.length) + comment;
    return before + gap + comment;
  }
  return modified;
}
