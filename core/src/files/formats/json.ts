// JSON / JSONC editor on jsonc-parser: its tree locates every edit, its scanner reads the comments and commas around
// it, its formatter writes new objects and arrays in the file's formatting (indent unit, tabs or spaces, line ends:
// detected from the file), and `modify`/`applyEdits` edit arrays.
//
// Properties are placed here rather than by `modify`: with formatting options it re-formats the whole lines around
// an edit (an inline `{"k": true}` before a new key came out multi-line), it puts a new property between the
// previous one and that one's `// comment`, and a delete takes the previous property's comment along. So only the
// touched property's text changes, plus the one comma the JSON grammar needs.
import {isDeepStrictEqual} from 'node:util';
import {
  applyEdits, createScanner, findNodeAtLocation, format, getNodeValue, modify, parseTree, printParseErrorCode, visit,
  type FormattingOptions, type Node as JsonNode, type ParseError,
} from 'jsonc-parser';

import {conflict, formatPath, lineCol, MAX_NESTING_DEPTH, requirePath, splitBom, type EditableDocument} from './common.js';
import {CapitError, UnparseableFileError} from '../../errors.js';
import type {JsonPath} from '../../plugin.js';

export class JsonDocument implements EditableDocument {
  private readonly original: string;
  private readonly bom: string;
  private readonly wasEmpty: boolean;
  private readonly eol: string;
  /** The file's formatting, or `undefined` for a one-line file (edits keep it on one line). */
  private readonly formatting: FormattingOptions | undefined;
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
    this.formatting = detectFormatting(this.body, root);
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
      throw new UnparseableFileError(this.filePath, `expected an object at the top level, found ${root ? describeJson(root) : `nothing`}`);
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
    if (this.formatting === undefined || (hasChildren && !/[\r\n]/.test(text))) return {...inlineSpacing(body, container), inline: true};
    return {inline: false, formatting: this.formatting, indent};
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
    const childIndent = lined.length > 0 ? indentOfLine(body, lined[lined.length - 1]!.offset) : containerIndent + indentUnit(style.formatting);
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
    const at = skipTrivia(body, anchor, true);
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
    const stop = skipTrivia(body, afterEnd, true);
    const lineFrom = lineStart(body, start);
    if (startsLine(body, start, container.offset) && lineBreakLength(body, stop) > 0) {
      cuts.push([lineFrom, stop + lineBreakLength(body, stop)]);
    } else if (!isLast) {
      cuts.push([start, afterEnd + /^[ \t]*/.exec(body.slice(afterEnd))![0].length]);
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
        duplicate = `duplicate key ${formatPath([...pathSupplier(), property] as JsonPath)} ${first === startLine + 1 ? `on line ${first}, twice` : `on lines ${first} and ${startLine + 1}`}; an agent may read the other copy`;
      keys.set(property, startLine + 1);
    },
  }, {allowTrailingComma: true, disallowComments: false});
  if (duplicate !== undefined) throw new UnparseableFileError(filePath, duplicate);
}

type JsonStyle =
  | {inline: true; colon: string; comma: string}
  | {inline: false; formatting: FormattingOptions; indent: string};

/** Plain JSON data as text: inline (`{"a": 1, "b": [2]}`), or as the formatter lays it out, indented from `indent`. */
function renderJson(value: unknown, style: JsonStyle): string {
  const compact = JSON.stringify(value);
  if (!style.inline) {
    const {eol} = style.formatting;
    return applyEdits(compact, format(compact, undefined, style.formatting)).split(eol!).join(eol! + style.indent);
  }
  if (value === null || typeof value !== `object`) return compact;
  const items = Array.isArray(value)
    ? value.map(v => renderJson(v, style))
    : Object.entries(value as Record<string, unknown>).map(([k, v]) => JSON.stringify(k) + style.colon + renderJson(v, style));
  return Array.isArray(value) ? `[${items.join(style.comma)}]` : `{${items.join(style.comma)}}`;
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

/**
 * The file's formatting: the indent unit of its top-level properties (tabs or N spaces) and its line ends.
 * `undefined` for a one-line file with members: edits keep it on one line.
 */
function detectFormatting(body: string, root: JsonNode): FormattingOptions | undefined {
  const eol = body.includes(`\r\n`) ? `\r\n` : `\n`;
  const spaces = (n: number): FormattingOptions => ({insertSpaces: true, tabSize: n, eol, insertFinalNewline: false});
  if (!root.children?.[0]) return spaces(2);
  if (!body.slice(root.offset, root.offset + root.length).includes(`\n`)) return undefined;
  // The smallest indentation among the lines that start a top-level property.
  let best: string | undefined;
  for (const prop of root.children) {
    const from = lineStart(body, prop.offset);
    const lead = body.slice(from, prop.offset);
    if (from <= root.offset || !/^[ \t]+$/.test(lead)) continue;
    if (best === undefined || lead.length < best.length) best = lead;
  }
  if (best === undefined) return spaces(2);
  return best.includes(`\t`) ? {insertSpaces: false, tabSize: 1, eol, insertFinalNewline: false} : spaces(best.length);
}

function indentUnit(formatting: FormattingOptions): string {
  return formatting.insertSpaces ? ` `.repeat(formatting.tabSize ?? 2) : `\t`;
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
  return /^(?:\r\n|\n|\r)/.exec(text.slice(pos, pos + 2))?.[0].length ?? 0;
}

// jsonc-parser's SyntaxKind is a const enum (not importable under isolatedModules): its values, by name.
const LINE_COMMENT = 12;
const BLOCK_COMMENT = 13;
const LINE_BREAK = 14;
const TRIVIA = 15;
const EOF = 17;

/**
 * The offset of the first token at or after `pos` that is not a space, tab or comment. `inLine`: a line break (or
 * a block comment that spans one) stops too, so the result is a line break or other text.
 */
function skipTrivia(text: string, pos: number, inLine = false): number {
  const scanner = createScanner(text, false);
  scanner.setPosition(pos);
  for (;;) {
    const token = scanner.scan();
    const start = scanner.getTokenOffset();
    if (token === EOF) return text.length;
    if (token === TRIVIA || token === LINE_COMMENT || (token === LINE_BREAK && !inLine)) continue;
    if (token === BLOCK_COMMENT && !(inLine && /[\r\n]/.test(text.slice(start, scanner.getPosition())))) continue;
    return start;
  }
}

function describeJson(node: JsonNode): string {
  return node.type === `null` ? `null` : node.type === `array` || node.type === `object` ? `an ${node.type}` : `a ${node.type}`;
}
