// YAML editor on the `yaml` library's source tokens. The library's Document is the model (what the file means after
// the edits); the text is edited in place:
// - a scalar that stays a scalar is rewritten in its own source token (`CST.setScalarValue`), so its quoting style,
//   anchor and trailing comment stay, and the comment keeps its column;
// - a new key is rendered by the Document API and inserted after the last line of its mapping;
// - a deleted key loses its lines (whole-line comments among them stay); a value replaced by a collection (or a
//   collection by anything) loses its lines and gets the Document API's rendering of the new pair in their place;
// - an edit inside a flow mapping (`{a: 1}`) rewrites that mapping alone, still in flow style;
// - block sequences are walked like block mappings (a number in the path is an item): a key inside an item is set,
//   added (at its siblings' column) or deleted as above, and the first key of an item keeps the item's `-` (deleting
//   it moves the next key up beside the `-`); a new item is rendered by the Document API in block style and inserted
//   after the sequence's last line, at its items' `-` column and spacing after `-`; a deleted item loses its lines
//   (whole-line comments among them stay), so adding an item and deleting it gives the original bytes back.
// Every other byte stays. Each edited text is parsed back and must mean exactly the model; when it does not (layouts
// not handled here: flow sequences, `- - nested` items, deleting a sequence's only item), the model is printed by the
// library instead (comments kept, spacing normalised).
import {isDeepStrictEqual} from 'node:util';
import type {Document as YamlDocument, Node as YamlNode, Pair, YAMLMap, YAMLSeq} from 'yaml';

import {conflict, formatPath, lineCol, MAX_NESTING_DEPTH, requirePath, splitBom, type EditableDocument} from './common.js';
import {UnparseableFileError} from '../../errors.js';
import type {JsonPath} from '../../plugin.js';
import {yamlLibrary} from '../lazy.js';

type ToStringOptions = {lineWidth: number; indentSeq: boolean; indent: number};

export class YamlDoc implements EditableDocument {
  readonly format = `yaml` as const;
  private readonly original: string;
  private readonly bom: string;
  private readonly crlf: boolean;
  /** The current text, in `\n` (see `crlf`). */
  private body: string;
  /** The model: the original document with every edit applied through the Document API. */
  private readonly doc: YamlDocument.Parsed;
  private readonly opts: ToStringOptions;
  /** The model as plain data (what `read` answers from), refreshed after each edit. */
  private value: unknown;
  private readonly originalValue: unknown;
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
    this.value = plainData(this.doc);
    this.originalValue = this.value;
  }

  read(path: JsonPath): unknown {
    let cur: unknown = this.value;
    for (const seg of path) {
      if (cur === null || typeof cur !== `object`) return undefined;
      if (cur instanceof Map) cur = cur.get(seg);
      else cur = (cur as Record<string | number, unknown>)[seg];
    }
    // A copy: the caller may change what it gets without changing the model.
    return typeof cur === `object` && cur !== null ? structuredClone(cur) : cur;
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
    this.edit(() => setInSource(this.body, path, value, this.editContext()));
  }

  delete(path: JsonPath): void {
    requirePath(path, this.filePath);
    if (this.read(path) === undefined && !this.doc.hasIn([...path])) return;
    this.doc.deleteIn([...path]);
    this.edit(() => deleteInSource(this.body, path, this.editContext()));
  }

  private editContext(): EditContext {
    return {opts: this.opts, model: path => this.read(path)};
  }

  /** Takes the source edit when it means exactly the model, else the library's printing of the model. */
  private edit(sourceEdit: () => string | undefined): void {
    this.dirty = true;
    this.value = plainData(this.doc);
    let next: string | undefined;
    try {
      next = sourceEdit();
    } catch {
      next = undefined;
    }
    if (next !== undefined && meansTheSame(next, this.value)) this.body = next;
    else this.body = this.doc.toString(this.opts);
  }

  text(): string {
    if (!this.dirty || isDeepStrictEqual(this.value, this.originalValue)) return this.original;
    return this.bom + (this.crlf ? this.body.replace(/\n/g, `\r\n`) : this.body);
  }
}

function plainData(doc: YamlDocument): unknown {
  return doc.toJS({maxAliasCount: -1}) ?? {};
}

function meansTheSame(text: string, value: unknown): boolean {
  const check = yamlLibrary().parseDocument(text, {uniqueKeys: true});
  return check.errors.length === 0 && isDeepStrictEqual(plainData(check), value);
}

// ---------------------------------------------------------------------------------------------------------------
// Edits on the source text, located through the library's source tokens. `undefined`: not a layout handled here.

/** How new text is written, and what the document means after the edit (for pairs rewritten whole). */
type EditContext = {opts: ToStringOptions; model: (path: JsonPath) => unknown};

type Source = {tokens: import('yaml').CST.Token[]; doc: YamlDocument.Parsed | undefined};

function parseSource(body: string): Source {
  const yaml = yamlLibrary();
  const tokens = [...new yaml.Parser().parse(body)];
  const [doc] = new yaml.Composer({keepSourceTokens: true}).compose(tokens);
  return {tokens, doc: doc as YamlDocument.Parsed | undefined};
}

/** The pair holding `seg` in a block mapping, or `undefined`. */
function pairOf(map: YAMLMap, seg: string | number): Pair<YamlNode, YamlNode | null> | undefined {
  const yaml = yamlLibrary();
  return (map.items as Pair<YamlNode, YamlNode | null>[]).find(p => yaml.isScalar(p.key) && p.key.value === seg);
}

function isBlockMap(node: unknown): node is YAMLMap {
  return yamlLibrary().isMap(node) && (node as YAMLMap).srcToken?.type === `block-map`;
}

function setInSource(body: string, path: JsonPath, value: unknown, ctx: EditContext): string | undefined {
  const yaml = yamlLibrary();
  const {opts} = ctx;
  const {tokens, doc} = parseSource(body);
  const contents = doc?.contents;
  if (contents === null || contents === undefined) {
    // Only comments or nothing: the new mapping goes after them.
    const separator = body === `` || body.endsWith(`\n`) ? `` : `\n`;
    return body + separator + renderPair(path[0]!, nest(path.slice(1), value), 0, opts);
  }
  const scalarEdit = (node: unknown): string | undefined => {
    const token = yaml.isScalar(node) ? node.srcToken : undefined;
    if ((value === null || typeof value !== `object`) && token && FLOW_SCALARS.has(token.type)) {
      setScalarToken(token as import('yaml').CST.FlowScalar, value);
      return tokens.map(t => yaml.CST.stringify(t)).join(``);
    }
    return undefined;
  };
  let node: unknown = contents;
  for (let depth = 0; depth < path.length; depth++) {
    const seg = path[depth]!;
    const last = depth === path.length - 1;
    if (isBlockSeq(node)) {
      if (typeof seg !== `number`) return undefined;
      if (seg === node.items.length) {
        // A new item: after the sequence's last line, written like its items.
        if (!last) return undefined;
        const at = lineEndAfter(body, endOf(node));
        const separator = at === body.length && !body.endsWith(`\n`) ? `\n` : ``;
        const item = renderItem(value, seqLayout(body, node), opts);
        return item === undefined ? undefined : body.slice(0, at) + separator + item + body.slice(at);
      }
      const item = node.items[seg];
      if (item === undefined) return undefined;
      if (!last) {
        node = item;
        continue;
      }
      return scalarEdit(item) ?? replaceItem(body, node, seg, renderItem(value, seqLayout(body, node), opts));
    }
    if (!isBlockMap(node)) return rewriteFlowMap(body, node, path.slice(0, depth), ctx);
    const pair = pairOf(node, seg);
    if (!pair) {
      const at = lineEndAfter(body, endOf(node));
      const separator = at === body.length && !body.endsWith(`\n`) ? `\n` : ``;
      return body.slice(0, at) + separator + renderPair(seg, nest(path.slice(depth + 1), value), columnOf(body, node), opts) + body.slice(at);
    }
    if (!last) {
      node = pair.value;
      continue;
    }
    return scalarEdit(pair.value) ?? replacePair(body, pair, renderPair(seg, value, columnOf(body, node), opts));
  }
  return undefined;
}

function deleteInSource(body: string, path: JsonPath, ctx: EditContext): string | undefined {
  const {doc} = parseSource(body);
  let node: unknown = doc?.contents;
  for (let depth = 0; depth < path.length; depth++) {
    const seg = path[depth]!;
    const last = depth === path.length - 1;
    if (isBlockSeq(node)) {
      const item = typeof seg === `number` ? node.items[seg] : undefined;
      if (item === undefined) return body;
      if (!last) {
        node = item;
        continue;
      }
      // The last item of a sequence cannot go without the sequence becoming `[]`: left to the library.
      if (node.items.length === 1) return undefined;
      return replaceItem(body, node, seg as number, ``);
    }
    if (!isBlockMap(node)) return rewriteFlowMap(body, node, path.slice(0, depth), ctx);
    const pair = pairOf(node, seg);
    if (!pair) return body;
    if (!last) {
      node = pair.value;
      continue;
    }
    if (node.items.length > 1) return replacePair(body, pair, ``, node);
    // The mapping's only key: the mapping is written `{}` (at the top level, in place of the key's lines).
    if (depth === 0) return replacePair(body, pair, `{}\n`);
    return setInSource(body, path.slice(0, -1), {}, ctx);
  }
  return undefined;
}

function isBlockSeq(node: unknown): node is YAMLSeq {
  return yamlLibrary().isSeq(node) && (node as YAMLSeq).srcToken?.type === `block-seq`;
}

/** Where a block sequence's `-` indicators stand, and how far after them its items' keys start (`- key` is 2). */
type SeqLayout = {column: number; keyOffset: number};

function seqLayout(body: string, seq: YAMLSeq): SeqLayout {
  const dash = dashOf(seq, 0);
  const column = dash === undefined ? 0 : dash - lineStartOf(body, dash);
  const first = seq.items[0] as YamlNode | undefined;
  const yaml = yamlLibrary();
  let keyOffset = 2;
  if (dash !== undefined && yaml.isMap(first) && first.items.length > 0) {
    const keyStart = (first.items[0] as Pair<YamlNode>).key.range?.[0];
    // Only a key on the `-` line tells the spacing after it.
    if (keyStart !== undefined && !body.slice(dash, keyStart).includes(`\n`) && keyStart - dash >= 2) keyOffset = keyStart - dash;
  }
  return {column, keyOffset};
}

/** The offset of item `index`'s `-` indicator in a block sequence. */
function dashOf(seq: YAMLSeq, index: number): number | undefined {
  const token = seq.srcToken as import('yaml').CST.BlockSequence | undefined;
  return token?.items[index]?.start.find(t => t.type === `seq-item-ind`)?.offset;
}

/** `- value` as the library writes it, at the sequence's column and with its spacing after `-`. */
function renderItem(value: unknown, layout: SeqLayout, opts: ToStringOptions): string | undefined {
  const yaml = yamlLibrary();
  const text = new yaml.Document([value], {aliasDuplicateObjects: false}).toString(opts);
  if (!text.startsWith(`- `)) return undefined;
  const pad = ` `.repeat(layout.column);
  const extra = ` `.repeat(layout.keyOffset - 2);
  return text.split(`\n`).map((line, i) => {
    if (line === ``) return line;
    // The item's own lines sit 2 after the `-` as the library writes them; this file's items may use more.
    if (i === 0) return pad + `-` + ` `.repeat(layout.keyOffset - 1) + line.slice(2);
    return pad + (line.startsWith(`  `) ? extra : ``) + line;
  }).join(`\n`);
}

/**
 * `body` with the lines of item `index` (its `-` line to the end of its value) replaced by `replacement`; whole-line
 * comments among them stay, before the replacement. `undefined` when the `-` shares its line with something else.
 */
function replaceItem(body: string, seq: YAMLSeq, index: number, replacement: string | undefined): string | undefined {
  const dash = dashOf(seq, index);
  if (dash === undefined || replacement === undefined) return undefined;
  const from = lineStartOf(body, dash);
  if (!/^[ \t]*$/.test(body.slice(from, dash))) return undefined;
  const item = seq.items[index] as YamlNode | null;
  const to = lineEndAfter(body, Math.max(dash + 1, endOf(item)));
  const notes = body.slice(lineEndAfter(body, dash), to).split(/(?<=\n)/).filter(line => /^[ \t]*#/.test(line));
  return body.slice(0, from) + notes.join(``) + replacement + body.slice(to);
}

/**
 * An edit inside a flow mapping (`key: {a: 1}  # c`): the mapping is written again from the model, still in flow
 * style and in its own place, so what follows it (a comment) stays. A top-level `{}` (left by deleting every key)
 * becomes the new block mapping.
 */
function rewriteFlowMap(body: string, map: unknown, at: JsonPath, ctx: EditContext): string | undefined {
  const yaml = yamlLibrary();
  if (!yaml.isMap(map) || map.srcToken?.type !== `flow-collection` || !map.range) return undefined;
  const value = ctx.model(at) as Record<string, unknown>;
  let rendered: string;
  if (at.length === 0 && map.items.length === 0) {
    rendered = Object.entries(value).map(([k, v]) => renderPair(k, v, 0, ctx.opts)).join(``);
  } else {
    const doc = new yaml.Document(value, {aliasDuplicateObjects: false});
    (doc.contents as YAMLMap).flow = true;
    const padded = /^\{[ \t]/.test(body.slice(map.range[0], map.range[1]));
    rendered = doc.toString({lineWidth: 0, flowCollectionPadding: padded});
  }
  return body.slice(0, map.range[0]) + rendered.replace(/\n$/, ``) + body.slice(map.range[1]);
}

const FLOW_SCALARS = new Set([`scalar`, `single-quoted-scalar`, `double-quoted-scalar`]);

/**
 * Rewrites a scalar's own token. Its quoting is kept when the value can be written so; otherwise the library's
 * choice for the value is used. A comment after the value keeps its column while the value is shorter than before.
 */
function setScalarToken(token: import('yaml').CST.FlowScalar, value: unknown): void {
  const yaml = yamlLibrary();
  const before = token.source.length;
  if (typeof value === `string`) {
    const rendered = yaml.stringify(value, {lineWidth: 0});
    const libraryType = rendered.startsWith(`"`) || /\n./.test(rendered) ? `QUOTE_DOUBLE` : rendered.startsWith(`'`) ? `QUOTE_SINGLE` : `PLAIN`;
    const quoted = token.type === `double-quoted-scalar` ? `QUOTE_DOUBLE` : token.type === `single-quoted-scalar` ? `QUOTE_SINGLE` : undefined;
    const type = libraryType === `PLAIN` ? (quoted ?? `PLAIN`) : libraryType === `QUOTE_SINGLE` && quoted ? quoted : libraryType;
    yaml.CST.setScalarValue(token, value, {type});
  } else {
    yaml.CST.setScalarValue(token, yaml.stringify(value).trimEnd(), {type: `PLAIN`});
  }
  const [gap, comment] = token.end ?? [];
  const shorter = before - token.source.length;
  if (gap?.type === `space` && comment?.type === `comment` && shorter > 0 && !gap.source.includes(`\t`)) gap.source += ` `.repeat(shorter);
}

/** `key: value` as the library writes it, each line indented to `column`. */
function renderPair(key: string | number, value: unknown, column: number, opts: ToStringOptions): string {
  const yaml = yamlLibrary();
  const text = new yaml.Document({[key]: value}, {aliasDuplicateObjects: false}).toString(opts);
  const pad = ` `.repeat(column);
  return text.split(`\n`).map(line => (line === `` ? line : pad + line)).join(`\n`);
}

function nest(rest: JsonPath, value: unknown): unknown {
  return rest.reduceRight<unknown>((inner, seg) => ({[seg]: inner}), value);
}

/**
 * `body` with the lines of `pair` (its key's line to the end of its value) replaced by `replacement`. Whole-line
 * comments among them are the user's notes, not part of the value: they stay, before the replacement. The first key
 * of a sequence item shares its line with the item's `-`, which stays: a replacement follows it, and a deleted key's
 * next sibling (in `map`) moves up beside it.
 */
function replacePair(body: string, pair: Pair<YamlNode, YamlNode | null>, replacement: string, map?: YAMLMap): string | undefined {
  const keyStart = pair.key.range![0];
  const from = lineStartOf(body, keyStart);
  const to = lineEndAfter(body, endOf(pair));
  const notes = body.slice(lineEndAfter(body, keyStart), to).split(/(?<=\n)/).filter(line => /^[ \t]*#/.test(line));
  const prefix = body.slice(from, keyStart);
  if (/^[ \t]*$/.test(prefix)) return body.slice(0, from) + notes.join(``) + replacement + body.slice(to);
  // A key after something other than an item's `-` (`- - key: 1`, `? key`) is left to the library.
  if (!/^[ \t]*-[ \t]+$/.test(prefix)) return undefined;
  if (replacement !== ``) {
    if (notes.length > 0) return undefined;
    return body.slice(0, keyStart) + replacement.slice(keyStart - from) + body.slice(to);
  }
  const items = (map?.items ?? []) as Pair<YamlNode>[];
  const next = items[items.indexOf(pair as Pair<YamlNode>) + 1]?.key.range?.[0];
  if (next === undefined) return undefined;
  // Nothing but blank lines between: the next key takes the deleted key's place on the `-` line.
  if (notes.length === 0 && /^\s*$/.test(body.slice(to, lineStartOf(body, next))) && /^[ \t]*$/.test(body.slice(lineStartOf(body, next), next)))
    return body.slice(0, keyStart) + body.slice(next);
  // Else the `-` stands alone on its line and the item's other lines stay as they are.
  return body.slice(0, from) + prefix.replace(/[ \t]+$/, ``) + `\n` + notes.join(``) + body.slice(to);
}

/** The column of a block mapping's keys. */
function columnOf(body: string, map: YAMLMap): number {
  const first = map.items[0] as Pair<YamlNode> | undefined;
  if (!first?.key.range) return 0;
  return first.key.range[0] - lineStartOf(body, first.key.range[0]);
}

/** Where the last source text of a node (or pair) ends, its trailing comment and line break not included. */
function endOf(node: unknown): number {
  const yaml = yamlLibrary();
  if (yaml.isPair(node)) {
    const value = node.value as YamlNode | null;
    // `key:` with no value holds an empty null scalar with no source token: the key's end is the pair's end.
    const hasValue = value !== null && (!yaml.isScalar(value) || value.srcToken !== undefined);
    return Math.max(endOf(node.key), hasValue ? endOf(value) : 0);
  }
  if (yaml.isCollection(node) && node.items.length > 0 && node.srcToken?.type !== `flow-collection`) return endOf(node.items[node.items.length - 1]);
  return (node as YamlNode | null)?.range?.[1] ?? 0;
}

function lineStartOf(body: string, pos: number): number {
  return body.lastIndexOf(`\n`, pos - 1) + 1;
}

/** The start of the line after the one `pos` is on (a position already at a line start is its own answer). */
function lineEndAfter(body: string, pos: number): number {
  if (pos > 0 && body[pos - 1] === `\n`) return pos;
  const nl = body.indexOf(`\n`, pos);
  return nl === -1 ? body.length : nl + 1;
}

// ---------------------------------------------------------------------------------------------------------------
// Reading: refusals for files capit cannot edit safely

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
