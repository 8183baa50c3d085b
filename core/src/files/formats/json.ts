// JSON / JSONC editor. Edits are computed here, byte for byte: only the touched property's text changes.
import {isDeepStrictEqual} from 'node:util';
import {
  applyEdits, createScanner, findNodeAtLocation, getNodeValue, modify, parseTree, printParseErrorCode, visit,
  type Node as JsonNode, type ParseError,
} from 'jsonc-parser';

import {conflict, formatPath, lineCol, MAX_NESTING_DEPTH, requirePath, splitBom, type EditableDocument} from './common.js';
import {CapitError, UnparseableFileError} from '../../errors.js';
import type {JsonPath} from '../../plugin.js';

// JSON / JSONC (edits are computed here, byte for byte: only the touched property's text changes)
//
// jsonc-parser's `modify` with formatting options re-formats whole lines around an insertion or removal, which
// includes the previous property's value (an inline `{"k": true}` before a new key came out multi-line), and it
// puts a new property between the previous one and that one's `// comment`. So the editor builds its own edits:
// the new text is rendered in the file's (or the enclosing inline object's) style, and nothing else is rewritten
// except one comma where the JSON grammar needs it.

export class JsonDocument implements EditableDocument {
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
