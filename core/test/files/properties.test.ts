// Property tests: random documents in every format, random edits; unrelated content is kept and restore is exact.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';
import {isDeepStrictEqual} from 'node:util';
import fc from 'fast-check';
import {parse as parseJsonc, parseTree as parseJsoncTree, type Node as JsonNode} from 'jsonc-parser';
import {describe, expect, it} from 'vitest';
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml';
import {applyChanges, computeChanges, loadTargets, restoreLatest} from '../../src/files/changes.js';
import {openDocument} from '../../src/files/document.js';
import type {FileFormat, JsonPath} from '../../src/plugin.js';
import {FAKE_KEY, applyModel, applyOps} from './helpers.js';

const RUNS = 1000;
const KEYS = [`a`, `b`, `env`, `openrouter`, `key`, `model`, `x_y`, `Z9`];
const key = fc.constantFrom(...KEYS);
const scalar = fc.oneof(fc.string({maxLength: 12}), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(FAKE_KEY));
const {value: jsonValue} = fc.letrec<{value: unknown}>(tie => ({
  value: fc.oneof({depthSize: `small`, withCrossShrink: true}, scalar, fc.array(tie(`value`), {maxLength: 3}), fc.dictionary(key, tie(`value`), {maxKeys: 4})),
}));
const object = fc.dictionary(key, jsonValue, {maxKeys: 6}) as fc.Arbitrary<Record<string, unknown>>;
const jsonPath = fc.array(key, {minLength: 1, maxLength: 3});
const op = fc.oneof(
  fc.record({op: fc.constant(`set` as const), path: jsonPath, value: jsonValue}),
  fc.record({op: fc.constant(`delete` as const), path: jsonPath}),
);

const isObj = (v: unknown): v is Record<string, unknown> => typeof v === `object` && v !== null && !Array.isArray(v);


function serializeJson(obj: unknown, indent: string | number, eol: string, trailing: boolean, comments: boolean): string {
  let text = JSON.stringify(obj, null, indent);
  if (comments) {
    text = `/* header */\n` + text.split(`\n`).map((l, i) => (/[{,]$/.test(l) && i % 2 === 0 ? `${l} // c${i}` : l)).join(`\n`);
  }
  return text.replace(/\n/g, eol) + (trailing ? eol : ``);
}

const jsonDoc = (comments: boolean) =>
  fc.record({
    obj: object,
    indent: fc.constantFrom<string | number>(0, 2, 4, `\t`, 3),
    eol: fc.constantFrom(`\n`, `\r\n`),
    trailing: fc.boolean(),
  }).map(d => ({...d, text: serializeJson(d.obj, d.indent, d.eol, d.trailing, comments)}));

for (const format of [`json`, `jsonc`] as const) {
  describe(`${format} editor properties`, () => {
    it(`set/delete changes exactly the edited path`, () => {
      fc.assert(
        fc.property(jsonDoc(format === `jsonc`), fc.array(op, {minLength: 1, maxLength: 3}), (d, ops) => {
          const doc = openDocument(format, d.text, `/p.json`);
          const model = structuredClone(d.obj);
          for (const o of ops) {
            const before = doc.text();
            const probe = structuredClone(model);
            if (applyModel(probe, o)) {
              if (o.op === `set`) doc.set(o.path, o.value);
              else doc.delete(o.path);
              applyModel(model, o);
            } else {
              expect(() => doc.set(o.path, (o as {value?: unknown}).value)).toThrow(/cannot set/);
              expect(doc.text()).toBe(before);
            }
          }
          const out = doc.text();
          expect(parseJsonc(out)).toEqual(model);
          if (format === `json`) expect(JSON.parse(out.replace(/^\uFEFF/, ``))).toEqual(model);
          // Every line break is the file's (an object emptied by a delete is written `{}`, with none).
          if (d.text.includes(`\n`) && d.eol === `\r\n`) expect(out.replace(/\r\n/g, ``)).not.toContain(`\n`);
          if (d.text.includes(`\n`) && d.eol === `\n`) expect(out).not.toContain(`\r`);
        }),
        {numRuns: RUNS},
      );
    });

    it(`adding a new key and deleting it gives the original bytes back`, () => {
      fc.assert(
        fc.property(jsonDoc(format === `jsonc`), jsonValue, (d, value) => {
          const doc = openDocument(format, d.text, `/p.json`);
          doc.set([`capit_new`], value);
          expect(doc.read([`capit_new`])).toEqual(value);
          doc.delete([`capit_new`]);
          expect(doc.text()).toBe(d.text);
        }),
        {numRuns: RUNS},
      );
    });
  });
}

// JSON documents built line by line: compact inline objects and arrays (`{"k": true}`, `[1,2]`) among block
// objects, `// comments` after properties and trailing commas (JSONC), tabs or spaces, LF or CRLF, a BOM. One edit
// must change only the text of the edited property (plus the one comma the grammar needs), byte for byte.

const INLINE = Symbol(`inline`);
type Inline = {[INLINE]: true; value: unknown; spaced: boolean};
const inlineValue = fc.record({
  value: fc.oneof(fc.dictionary(key, jsonValue, {maxKeys: 3}), fc.array(jsonValue, {maxLength: 3})),
  spaced: fc.boolean(),
}).map(v => ({[INLINE]: true as const, ...v}));
const {layoutTree} = fc.letrec<{layoutTree: Tree; layoutNode: unknown}>(tie => ({
  layoutTree: fc.dictionary(key, tie(`layoutNode`), {minKeys: 1, maxKeys: 4}) as fc.Arbitrary<Tree>,
  layoutNode: fc.oneof({depthSize: `small`, withCrossShrink: true}, scalar, inlineValue, inlineValue, tie(`layoutTree`)),
}));
const isInline = (v: unknown): v is Inline => typeof v === `object` && v !== null && INLINE in v;

function plainOf(v: unknown): unknown {
  if (isInline(v)) return structuredClone(v.value);
  if (isObj(v)) return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, plainOf(x)]));
  return v;
}

function inlineJson(v: unknown, spaced: boolean): string {
  if (v === null || typeof v !== `object`) return JSON.stringify(v);
  const [colon, comma] = spaced ? [`: `, `, `] : [`:`, `,`];
  if (Array.isArray(v)) return `[${v.map(x => inlineJson(x, spaced)).join(comma)}]`;
  return `{${Object.entries(v).map(([k, x]) => JSON.stringify(k) + colon + inlineJson(x, spaced)).join(comma)}}`;
}

const layoutDoc = (jsonc: boolean) =>
  fc.record({
    tree: layoutTree,
    unit: fc.constantFrom(`  `, `    `, `\t`, `   `),
    eol: fc.constantFrom(`\n`, `\r\n`),
    bom: fc.boolean(),
    final: fc.boolean(),
    trailingCommas: jsonc ? fc.boolean() : fc.constant(false),
    comments: jsonc ? fc.array(fc.boolean(), {minLength: 1, maxLength: 8}) : fc.constant([false]),
    header: jsonc ? fc.boolean() : fc.constant(false),
    pick: fc.nat(),
  }).map(d => {
    let n = 0;
    const block = (obj: Tree, depth: number): string => {
      const pad = d.unit.repeat(depth + 1);
      const entries = Object.entries(obj);
      const lines = entries.map(([k, v], i) => {
        const text = isInline(v) ? inlineJson(v.value, v.spaced) : isObj(v) ? block(v, depth + 1) : JSON.stringify(v);
        const comma = i < entries.length - 1 || d.trailingCommas ? `,` : ``;
        const comment = d.comments[n++ % d.comments.length] ? ` // c${n}` : ``;
        return `${pad}${JSON.stringify(k)}: ${text}${comma}${comment}`;
      });
      return `{${d.eol}${lines.join(d.eol)}${d.eol}${d.unit.repeat(depth)}}`;
    };
    const body = (d.header ? `// header${d.eol}` : ``) + block(d.tree, 0) + (d.final ? d.eol : ``);
    return {...d, obj: plainOf(d.tree) as Record<string, unknown>, bom: d.bom ? `\uFEFF` : ``, text: (d.bom ? `\uFEFF` : ``) + body};
  });

type Located = {path: string[]; prop: JsonNode; container: JsonNode; inline: boolean; depth: number};

/** Every property of the document (offsets count the BOM), and whether its object is written on one line. */
function locate(text: string, bom: string): {root: JsonNode; props: Located[]} {
  // A space in place of the BOM keeps the offsets those of `text`.
  const root = parseJsoncTree(` `.repeat(bom.length) + text.slice(bom.length), [], {allowTrailingComma: true})!;
  const props: Located[] = [];
  const walk = (node: JsonNode, path: string[], depth: number): void => {
    const inline = !/[\r\n]/.test(text.slice(node.offset, node.offset + node.length));
    for (const prop of node.children ?? []) {
      const [k, v] = prop.children as [JsonNode, JsonNode];
      props.push({path: [...path, k.value as string], prop, container: node, inline, depth});
      if (v.type === `object`) walk(v, [...path, k.value as string], depth + 1);
    }
  };
  walk(root, [], 0);
  return {root, props};
}

const endOf = (node: JsonNode): number => node.offset + node.length;
const lineEndAt = (text: string, pos: number): number => text.slice(pos).search(/\r?\n|$/) + pos;

/** `out` is `text` with `[from, to)` replaced: returns the replacement, or fails when anything else changed. */
function replacement(text: string, out: string, from: number, to: number): string {
  expect(out.slice(0, from)).toBe(text.slice(0, from));
  expect(out.slice(out.length - (text.length - to))).toBe(text.slice(to));
  return out.slice(from, out.length - (text.length - to));
}

const parseBody = (text: string): unknown => parseJsonc(text.replace(/^\uFEFF/, ``), [], {allowTrailingComma: true});

for (const format of [`json`, `jsonc`] as const) {
  describe(`${format} editor properties: inline values and comments next to the edit`, () => {
    it(`replacing a value changes only that value's text`, () => {
      fc.assert(
        fc.property(layoutDoc(format === `jsonc`), jsonValue, (d, value) => {
          const {props} = locate(d.text, d.bom);
          const target = props[d.pick % props.length]!;
          const doc = openDocument(format, d.text, `/p.json`);
          expect(doc.read([])).toEqual(d.obj);
          doc.set(target.path, value);
          const out = doc.text();
          const node = target.prop.children![1]!;
          const written = replacement(d.text, out, node.offset, endOf(node));
          expect(parseJsonc(written)).toEqual(value);
          // Inside an inline object the value stays on one line; elsewhere (even in place of an inline value) it is
          // written in the file's style, indented like its property.
          if (target.inline) expect(written).not.toMatch(/[\r\n]/);
          else for (const line of written.split(d.eol).slice(1)) expect(line.startsWith(d.unit.repeat(target.depth + 1))).toBe(true);
          if (d.eol === `\r\n`) expect(written.replace(/\r\n/g, ``)).not.toContain(`\n`);
          const model = structuredClone(d.obj);
          applyModel(model, {op: `set`, path: target.path, value});
          expect(parseBody(out)).toEqual(model);
        }),
        {numRuns: RUNS},
      );
    });

    it(`adding a key after the last property keeps every other byte, and its comment stays with it`, () => {
      fc.assert(
        fc.property(layoutDoc(format === `jsonc`), jsonValue, fc.boolean(), fc.boolean(), (d, value, nested, atRoot) => {
          const {root, props} = locate(d.text, d.bom);
          // The parent: the root, an object written as a block, or an inline object with members.
          const parents = [
            {node: root, path: [] as string[], inline: false, depth: 0},
            ...props.flatMap(p => {
              const v = p.prop.children![1]!;
              if (v.type !== `object` || !v.children?.length) return [];
              return [{node: v, path: p.path, inline: !/[\r\n]/.test(d.text.slice(v.offset, endOf(v))), depth: p.depth + 1}];
            }),
          ];
          const parent = atRoot ? parents[0]! : parents[d.pick % parents.length]!;
          const path = [...parent.path, `capit_new`, ...(nested ? [`inner`] : [])];
          const doc = openDocument(format, d.text, `/p.json`);
          doc.set(path, value);
          const out = doc.text();
          const model = structuredClone(d.obj);
          applyModel(model, {op: `set`, path, value});
          expect(parseBody(out)).toEqual(model);
          const last = parent.node.children![parent.node.children!.length - 1]!;
          const end = endOf(last);
          if (parent.inline) {
            const added = replacement(d.text, out, end, end);
            expect(added).toMatch(/^,[ ]?"capit_new":/);
            expect(added).not.toMatch(/[\r\n]/);
            return;
          }
          // `"last": value, // comment` + EOL + the new property on its own line(s), in the file's indentation.
          const lineEnd = lineEndAt(d.text, end);
          const trailing = d.text.slice(end, lineEnd).trimStart().startsWith(`,`);
          const expectedHead = d.text.slice(0, end) + (trailing ? `` : `,`) + d.text.slice(end, lineEnd);
          expect(out.startsWith(expectedHead)).toBe(true);
          expect(out.endsWith(d.text.slice(lineEnd))).toBe(true);
          const added = out.slice(expectedHead.length, out.length - (d.text.length - lineEnd));
          const indent = d.unit.repeat(parent.depth + 1);
          expect(added.startsWith(`${d.eol}${indent}"capit_new": `)).toBe(true);
          expect(added.endsWith(trailing ? `,` : ``)).toBe(true);
          for (const line of added.split(d.eol).slice(1)) expect(line.startsWith(indent)).toBe(true);
          if (d.eol === `\r\n`) expect(added.replace(/\r\n/g, ``)).not.toContain(`\n`);
        }),
        {numRuns: RUNS},
      );
    });

    it(`deleting a property removes only its text (its lines and comment), and the comma before it when it was last`, () => {
      fc.assert(
        fc.property(layoutDoc(format === `jsonc`), d => {
          const {props} = locate(d.text, d.bom);
          const target = props[d.pick % props.length]!;
          const doc = openDocument(format, d.text, `/p.json`);
          doc.delete(target.path);
          const out = doc.text();
          const model = structuredClone(d.obj);
          applyModel(model, {op: `delete`, path: target.path});
          expect(parseBody(out)).toEqual(model);
          const siblings = target.container.children!;
          const index = siblings.indexOf(target.prop);
          const prev = siblings[index - 1];
          const isLast = index === siblings.length - 1;
          const start = target.prop.offset;
          const end = endOf(target.prop);
          const cut = (text: string, ranges: Array<[number, number]>): string =>
            ranges.sort((x, y) => y[0] - x[0]).reduce((t, [a, b]) => t.slice(0, a) + t.slice(b), text);
          const open = target.container.offset;
          const close = endOf(target.container) - 1;
          let expected: string;
          if (siblings.length === 1) {
            expected = d.text.slice(0, open + 1) + d.text.slice(close); // the object becomes {}
          } else if (target.inline) {
            // Inline objects here have no comments or trailing commas: `"k": v, ` goes, or `, "k": v` when last.
            if (!isLast) expected = cut(d.text, [[start, end + 1 + /^[ \t]*/.exec(d.text.slice(end + 1))![0].length]]);
            else expected = cut(d.text, [[endOf(prev!), end]]);
          } else {
            // Its whole lines go (with its comma and comment); a last property without a trailing comma takes the
            // comma of the one before it.
            const lineFrom = d.text.lastIndexOf(`\n`, start) + 1;
            const lineEnd = lineEndAt(d.text, end);
            const ranges: Array<[number, number]> = [[lineFrom, lineEnd + (d.text.startsWith(`\r\n`, lineEnd) ? 2 : 1)]];
            if (isLast && d.text[end] !== `,`) ranges.push([endOf(prev!), endOf(prev!) + 1]);
            expected = cut(d.text, ranges);
          }
          expect(out).toBe(expected);
        }),
        {numRuns: RUNS},
      );
    });

    it(`set/delete sequences on these documents mean exactly the model's edits`, () => {
      fc.assert(
        fc.property(layoutDoc(format === `jsonc`), fc.array(op, {minLength: 1, maxLength: 3}), (d, ops) => {
          const doc = openDocument(format, d.text, `/p.json`);
          const model = applyOps(doc, d.obj, ops, attempt => expect(attempt).toThrow(/cannot set/));
          const out = doc.text();
          expect(parseBody(out)).toEqual(model);
          expect(out.startsWith(d.bom)).toBe(true);
          if (d.eol === `\r\n`) expect(out.replace(/\r\n/g, ``)).not.toContain(`\n`);
          else expect(out).not.toContain(`\r`);
        }),
        {numRuns: RUNS},
      );
    });
  });
}

// ---------------------------------------------------------------------------------------------------------------
// dotenv

const envKey = fc.constantFrom(`A`, `B_2`, `OPENROUTER_API_KEY`, `HOME_DIR`, `x`);
const envValue = fc.oneof(fc.string({maxLength: 16}), fc.stringMatching(/^[A-Za-z0-9_.:/+@-]{0,12}$/), fc.constant(FAKE_KEY));
const envLine = fc.oneof(
  fc.record({kind: fc.constant(`assign` as const), key: envKey, value: envValue, exp: fc.boolean(), quote: fc.constantFrom(`none`, `single`, `double`), space: fc.boolean(), comment: fc.boolean()}),
  fc.record({kind: fc.constant(`comment` as const), text: fc.stringMatching(/^[^\r\n]{0,10}$/)}),
  fc.constant({kind: `blank` as const}),
);
type EnvLine = typeof envLine extends fc.Arbitrary<infer T> ? T : never;

function renderEnvLine(l: EnvLine): string {
  if (l.kind === `blank`) return ``;
  if (l.kind === `comment`) return `# ${l.text}`;
  let raw: string;
  const safe = /^[A-Za-z0-9_.:/+@-]*$/.test(l.value);
  if (l.quote === `single` && !/['\r\n]/.test(l.value)) raw = `'${l.value}'`;
  else if (l.quote === `none` && safe) raw = l.value;
  else raw = `"${l.value.replace(/\\/g, `\\\\`).replace(/"/g, `\\"`).replace(/\$/g, `\\$`).replace(/\n/g, `\\n`).replace(/\r/g, `\\r`)}"`;
  return `${l.exp ? `export ` : ``}${l.key}${l.space ? ` = ` : `=`}${raw}${l.comment ? ` # note` : ``}`;
}

const envDoc = fc.record({lines: fc.array(envLine, {maxLength: 8}), eol: fc.constantFrom(`\n`, `\r\n`), trailing: fc.boolean()}).map(d => {
  const body = d.lines.map(renderEnvLine).join(d.eol);
  const model: Record<string, string> = {};
  for (const l of d.lines) if (l.kind === `assign`) model[l.key] = l.value;
  return {...d, model, text: body + (d.trailing && d.lines.length > 0 ? d.eol : ``)};
});

const linesWithout = (text: string, k: string) => text.split(/\r?\n/).filter(l => !new RegExp(`^\\s*(export\\s+)?${k}\\s*=`).test(l) && l !== ``);

describe(`dotenv editor properties`, () => {
  it(`set/delete changes only that variable; every other line is kept byte for byte`, () => {
    fc.assert(
      fc.property(envDoc, envKey, fc.option(envValue, {nil: undefined}), (d, k, value) => {
        const doc = openDocument(`dotenv`, d.text, `/.env`);
        expect(doc.read([])).toEqual(d.model);
        const model = {...d.model};
        if (value === undefined) {
          doc.delete([k]);
          delete model[k];
        } else {
          doc.set([k], value);
          model[k] = value;
        }
        const out = doc.text();
        expect(openDocument(`dotenv`, out, `/.env`).read([])).toEqual(model);
        expect(linesWithout(out, k)).toEqual(linesWithout(d.text, k));
        if (out !== d.text && d.text.includes(`\r\n`)) expect(out.replace(/\r\n/g, ``)).not.toContain(`\n`);
      }),
      {numRuns: RUNS},
    );
  });

  it(`adding a new variable and deleting it gives the original bytes back`, () => {
    fc.assert(
      fc.property(envDoc, envValue, (d, value) => {
        const doc = openDocument(`dotenv`, d.text, `/.env`);
        doc.set([`CAPIT_NEW`], value);
        expect(doc.read([`CAPIT_NEW`])).toBe(value);
        doc.delete([`CAPIT_NEW`]);
        expect(doc.text()).toBe(d.text);
      }),
      {numRuns: RUNS},
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// YAML

const yamlScalar = fc.oneof(fc.string({maxLength: 12}), fc.integer(), fc.boolean(), fc.constant(null), fc.constant(FAKE_KEY));
const {value: yamlValue} = fc.letrec<{value: unknown}>(tie => ({
  value: fc.oneof({depthSize: `small`, withCrossShrink: true}, yamlScalar, fc.array(tie(`value`), {maxLength: 3}), fc.dictionary(key, tie(`value`), {maxKeys: 4})),
}));
/** Spacing before an inline comment: the library prints one space, so anything else must be kept from the file. */
const commentGap = fc.constantFrom(` `, `  `, `   `, `      `, `\t`, ` \t `);
const yamlDoc = fc.record({
  obj: fc.dictionary(key, yamlValue, {maxKeys: 6}) as fc.Arbitrary<Record<string, unknown>>,
  indent: fc.constantFrom(2, 4),
  indentSeq: fc.boolean(),
  comments: fc.boolean(),
  inline: fc.array(fc.option(commentGap, {nil: undefined}), {maxLength: 16}),
}).map(d => {
  let text = Object.keys(d.obj).length === 0 ? `` : stringifyYaml(d.obj, {indent: d.indent, indentSeq: d.indentSeq});
  if (d.comments) text = `# top comment\n` + text.split(`\n`).map((l, i) => (i > 0 && /^[a-zA-Z]/.test(l) ? `# before ${i}\n${l}` : l)).join(`\n`);
  // Inline comments with varied spacing on lines where one does not change the meaning (not inside a block scalar
  // or a multi-line string: each candidate is checked by parsing).
  const lines = text.split(`\n`);
  d.inline.forEach((gap, i) => {
    const line = lines[i];
    if (gap === undefined || line === undefined || line.trim() === `` || /^\s*#/.test(line)) return;
    const next = [...lines];
    next[i] = `${line}${gap}# c${i}`;
    try {
      if (isDeepStrictEqual(parseYaml(next.join(`\n`)) ?? {}, d.obj)) lines[i] = next[i]!;
    } catch {
      // not a place for a comment
    }
  });
  return {...d, text: lines.join(`\n`)};
});
const yamlOp = fc.oneof(
  fc.record({op: fc.constant(`set` as const), path: jsonPath, value: yamlValue}),
  fc.record({op: fc.constant(`delete` as const), path: jsonPath}),
);

describe(`yaml editor properties`, () => {
  it(`set/delete changes exactly the edited path, comments kept`, () => {
    fc.assert(
      fc.property(yamlDoc, fc.array(yamlOp, {minLength: 1, maxLength: 3}), (d, ops) => {
        const doc = openDocument(`yaml`, d.text, `/c.yaml`);
        expect(doc.read([]) ?? {}).toEqual(d.obj);
        const model = structuredClone(d.obj);
        for (const o of ops) {
          const probe = structuredClone(model);
          if (applyModel(probe, o)) {
            if (o.op === `set`) doc.set(o.path, o.value);
            else doc.delete(o.path);
            applyModel(model, o);
          } else {
            expect(() => doc.set(o.path, (o as {value?: unknown}).value)).toThrow(/cannot set/);
          }
        }
        const out = doc.text();
        expect(parseYaml(out) ?? {}).toEqual(model);
        if (d.comments) expect(out).toContain(`# top comment`);
      }),
      {numRuns: RUNS},
    );
  });

  it(`adding a new key and deleting it gives the original bytes back`, () => {
    fc.assert(
      fc.property(yamlDoc, yamlValue, (d, value) => {
        const doc = openDocument(`yaml`, d.text, `/c.yaml`);
        doc.set([`capit_new`], value);
        expect(doc.read([`capit_new`])).toEqual(value);
        doc.delete([`capit_new`]);
        expect(doc.text()).toBe(d.text);
      }),
      {numRuns: RUNS},
    );
  });
});

/** The paths of the non-empty sequences in a value (empty ones are written `[]`, in flow style). */
function sequencePaths(value: unknown, at: (string | number)[] = []): (string | number)[][] {
  if (Array.isArray(value)) return [...(value.length > 0 ? [at] : []), ...value.flatMap((v, i) => sequencePaths(v, [...at, i]))];
  if (isObj(value)) return Object.entries(value).flatMap(([k, v]) => sequencePaths(v, [...at, k]));
  return [];
}

describe(`yaml editor properties: items of any block sequence`, () => {
  it(`appending an item means the model's edit, and deleting it again gives back the bytes of the other edits`, () => {
    fc.assert(
      fc.property(yamlDoc, yamlValue, fc.nat(), (d, value, pick) => {
        const seqs = sequencePaths(d.obj);
        fc.pre(seqs.length > 0);
        const at = seqs[pick % seqs.length]!;
        const length = (getAt(d.obj as Tree, at as string[]) as unknown[]).length;
        const marked = openDocument(`yaml`, d.text, `/c.yaml`);
        marked.set([`capit_mark`], 1);
        const doc = openDocument(`yaml`, d.text, `/c.yaml`);
        doc.set([`capit_mark`], 1);
        doc.set([...at, length], value);
        const model = {...structuredClone(d.obj), capit_mark: 1};
        (getAt(model as Tree, at as string[]) as unknown[]).push(value);
        expect(parseYaml(doc.text())).toEqual(model);
        doc.delete([...at, length]);
        expect(doc.text()).toBe(marked.text());
      }),
      {numRuns: RUNS},
    );
  });
});

// Documents built line by line (so the line of every key is known), with inline comments of varied spacing on
// keys and their neighbours; one edit next to them must leave every other line byte for byte as it was.

const lineScalar = fc.oneof(
  fc.integer(), fc.boolean(), fc.constant(null), fc.constant(FAKE_KEY),
  fc.stringMatching(/^[a-z][a-z0-9 ./:-]{0,10}$/),
  fc.string({maxLength: 8}).filter(v => !/[\r\n]/.test(v)),
);
type Tree = {[k: string]: unknown};
const {tree} = fc.letrec<{tree: Tree; node: unknown}>(tie => ({
  tree: fc.dictionary(key, tie(`node`), {minKeys: 1, maxKeys: 4}) as fc.Arbitrary<Tree>,
  node: fc.oneof({depthSize: `small`, withCrossShrink: true}, lineScalar, tie(`tree`)),
}));
const decoration = fc.record({
  comment: fc.option(fc.record({gap: commentGap, text: fc.stringMatching(/^(?:[ a-z0-9#:'"-]{0,7}[a-z0-9#:'"-])?$/)}), {nil: undefined}),
  before: fc.constantFrom(`none`, `none`, `blank`, `comment`),
});
type Line = {text: string; path: string[]; leaf: boolean; comment?: string};

function renderTree(obj: Tree, indent: number, decorations: Array<typeof decoration extends fc.Arbitrary<infer T> ? T : never>): Line[] {
  const lines: Line[] = [];
  let n = 0;
  const walk = (node: Tree, depth: number, parent: string[]): void => {
    Object.entries(node).forEach(([k, v], i) => {
      const deco = decorations[n++ % Math.max(1, decorations.length)];
      const pad = ` `.repeat(indent * depth);
      const leaf = !isObj(v);
      // A comment or blank line before the first child would hide the indentation the editor detects.
      if (deco && i > 0 && deco.before === `blank`) lines.push({text: ``, path: [], leaf: false});
      if (deco && i > 0 && deco.before === `comment`) lines.push({text: `${pad}# about ${k}`, path: [], leaf: false});
      // A string the library writes as a block scalar (`---`, `...`) is written double-quoted instead: a block
      // scalar's lines would need the indentation of this depth, not the library's.
      const rendered = leaf ? stringifyYaml(v, {lineWidth: 0}).replace(/\n$/, ``) : ``;
      const value = leaf ? ` ${rendered.includes(`\n`) ? JSON.stringify(v) : rendered}` : ``;
      const comment = deco?.comment ? `#${deco.comment.text}` : undefined;
      lines.push({text: `${pad}${k}:${value}${comment ? deco!.comment!.gap + comment : ``}`, path: [...parent, k], leaf, comment});
      if (!leaf) walk(v as Tree, depth + 1, [...parent, k]);
    });
  };
  walk(obj, 0, []);
  return lines;
}

const commentedYaml = fc.record({
  obj: tree,
  indent: fc.constantFrom(2, 4),
  decorations: fc.array(decoration, {minLength: 1, maxLength: 12}),
  pick: fc.nat(),
}).map(d => {
  const lines = renderTree(d.obj, d.indent, d.decorations);
  const keyed = lines.filter(l => l.path.length > 0);
  return {...d, lines, text: lines.map(l => `${l.text}\n`).join(``), target: keyed[d.pick % keyed.length]!};
});

function getAt(obj: Tree, p: string[]): unknown {
  let cur: unknown = obj;
  for (const seg of p) cur = (cur as Tree)[seg];
  return cur;
}

describe(`yaml editor properties: inline comments next to the edit`, () => {
  it(`replacing a value keeps every other line byte for byte and the edited line's comment`, () => {
    fc.assert(
      fc.property(commentedYaml, lineScalar, (d, value) => {
        fc.pre(d.target.leaf);
        const doc = openDocument(`yaml`, d.text, `/c.yaml`);
        expect(doc.read([])).toEqual(d.obj);
        doc.set(d.target.path, value);
        const out = doc.text();
        const model = structuredClone(d.obj);
        applyModel(model, {op: `set`, path: d.target.path, value});
        expect(parseYaml(out)).toEqual(model);
        const before = d.text.split(`\n`);
        const after = out.split(`\n`);
        expect(after.length).toBe(before.length);
        const at = d.lines.indexOf(d.target);
        for (let i = 0; i < before.length; i++) if (i !== at) expect(after[i]).toBe(before[i]);
        const pad = ` `.repeat(d.indent * (d.target.path.length - 1));
        expect(after[at]!.startsWith(`${pad}${d.target.path[d.target.path.length - 1]}:`)).toBe(true);
        if (d.target.comment !== undefined) expect(after[at]).toMatch(new RegExp(`\\S[ \\t]+${d.target.comment.replace(/[^\w ]/g, c => `\\${c}`)}$`));
      }),
      {numRuns: RUNS},
    );
  });

  it(`adding a sibling or deleting a key leaves every other line byte for byte`, () => {
    fc.assert(
      fc.property(commentedYaml, lineScalar, fc.boolean(), (d, value, add) => {
        const parent = d.target.path.slice(0, -1);
        const siblings = Object.keys(parent.length === 0 ? d.obj : (getAt(d.obj, parent) as Tree));
        const doc = openDocument(`yaml`, d.text, `/c.yaml`);
        const model = structuredClone(d.obj);
        const nonBlank = (text: string) => text.split(`\n`).filter(l => l.trim() !== ``);
        if (add) {
          doc.set([...parent, `capit_new`], value);
          applyModel(model, {op: `set`, path: [...parent, `capit_new`], value});
          const out = doc.text();
          expect(parseYaml(out)).toEqual(model);
          expect(out.split(`\n`).filter(l => !l.includes(`capit_new:`))).toEqual(d.text.split(`\n`));
        } else {
          // Deleting the only key of a mapping rewrites its parent as `{}`: only the other cases are line-exact.
          fc.pre(siblings.length > 1);
          doc.delete(d.target.path);
          applyModel(model, {op: `delete`, path: d.target.path});
          const out = doc.text();
          expect(parseYaml(out) ?? {}).toEqual(model);
          const at = d.lines.indexOf(d.target);
          const end = d.lines.findIndex((l, i) => i > at && l.path.length > 0 && l.path.length <= d.target.path.length);
          const removed = new Set(d.lines.slice(at, end === -1 ? d.lines.length : end).filter(l => l.path.length > 0));
          const expected = d.lines.filter(l => !removed.has(l)).map(l => `${l.text}\n`).join(``);
          expect(nonBlank(out)).toEqual(nonBlank(expected));
        }
      }),
      {numRuns: RUNS},
    );
  });
});

// A mapping written in flow style (`key: {a: 1}  # note`) among block lines: an edit inside it rewrites that line
// alone, still in flow style, and the comment after it stays.

describe(`yaml editor properties: flow mappings`, () => {
  it(`an edit inside a flow mapping changes only its line, which stays a flow mapping with its comment`, () => {
    fc.assert(
      fc.property(
        tree, fc.dictionary(key, lineScalar, {minKeys: 1, maxKeys: 4}), fc.boolean(), fc.array(key, {minLength: 1, maxLength: 2}),
        fc.option(lineScalar, {nil: undefined}),
        (obj, flow, comment, sub, value) => {
          const model: Record<string, unknown> = {...structuredClone(obj), capit_flow: structuredClone(flow)};
          const path = [`capit_flow`, ...sub];
          const o = value === undefined ? {op: `delete` as const, path} : {op: `set` as const, path, value};
          fc.pre(applyModel(structuredClone(model), o));
          const block = renderTree(obj, 2, []).map(l => `${l.text}\n`).join(``);
          const flowLine = `capit_flow: ${stringifyYaml(flow, {collectionStyle: `flow`, lineWidth: 0}).trimEnd()}${comment ? `  # keep` : ``}`;
          const text = `${block}${flowLine}\n`;
          const doc = openDocument(`yaml`, text, `/c.yaml`);
          if (value === undefined) doc.delete(path);
          else doc.set(path, value);
          applyModel(model, o);
          const out = doc.text();
          expect(parseYaml(out)).toEqual(model);
          expect(out.startsWith(block)).toBe(true);
          const line = out.slice(block.length);
          expect(line).toMatch(/^capit_flow: \{[^\n]*\}[^\n]*\n$/);
          if (comment) expect(line.endsWith(`}  # keep\n`)).toBe(true);
        },
      ),
      {numRuns: RUNS},
    );
  });
});

// A block sequence of mappings (Continue's `models:` list) built line by line, with inline comments of varied
// spacing, comment lines between keys, `-` at varied columns, varied spacing after `-`, and LF or CRLF. An edit inside
// an item, a new item or a deleted item must leave every line that is not its own byte for byte as it was.

type SeqLine = {text: string; kind: `top` | `seq` | `dash` | `key` | `note` | `blank`; item?: number; key?: string};

const seqYaml = fc.record({
  before: fc.dictionary(key, lineScalar, {maxKeys: 2}),
  after: fc.dictionary(key.map(k => `z_${k}`), lineScalar, {maxKeys: 2}),
  items: fc.array(fc.dictionary(key, lineScalar, {minKeys: 1, maxKeys: 4}), {minLength: 1, maxLength: 4}),
  dashColumn: fc.constantFrom(0, 2, 4),
  afterDash: fc.constantFrom(1, 1, 3),
  decorations: fc.array(decoration, {minLength: 1, maxLength: 12}),
  crlf: fc.boolean(),
}).map(d => {
  let n = 0;
  const deco = () => d.decorations[n++ % d.decorations.length]!;
  const scalarText = (v: unknown) => {
    const rendered = stringifyYaml(v, {lineWidth: 0}).replace(/\n$/, ``);
    return rendered.includes(`\n`) ? JSON.stringify(v) : rendered;
  };
  const withComment = (text: string) => {
    const c = deco().comment;
    return c ? `${text}${c.gap}#${c.text}` : text;
  };
  const lines: SeqLine[] = [];
  for (const [k, v] of Object.entries(d.before)) lines.push({text: withComment(`${k}: ${scalarText(v)}`), kind: `top`});
  lines.push({text: withComment(`models:`), kind: `seq`});
  const dash = `${` `.repeat(d.dashColumn)}-${` `.repeat(d.afterDash)}`;
  const pad = ` `.repeat(dash.length);
  d.items.forEach((item, i) => {
    Object.entries(item).forEach(([k, v], j) => {
      const before = deco().before;
      if (j > 0 && before === `blank`) lines.push({text: ``, kind: `blank`, item: i});
      if (j > 0 && before === `comment`) lines.push({text: `${pad}# about ${k}`, kind: `note`, item: i});
      lines.push({text: withComment(`${j === 0 ? dash : pad}${k}: ${scalarText(v)}`), kind: j === 0 ? `dash` : `key`, item: i, key: k});
    });
  });
  for (const [k, v] of Object.entries(d.after)) lines.push({text: withComment(`${k}: ${scalarText(v)}`), kind: `top`});
  const eol = d.crlf ? `\r\n` : `\n`;
  const model = {...d.before, models: d.items, ...d.after};
  return {...d, lines, model, eol, text: lines.map(l => `${l.text}${eol}`).join(``)};
});

/** The output's lines, after checking it kept the file's line breaks. */
function linesOf(out: string, eol: string): string[] {
  if (eol === `\r\n`) expect(out.replace(/\r\n/g, ``)).not.toContain(`\n`);
  else expect(out).not.toContain(`\r`);
  return out.split(eol);
}

const seqEdit = fc.record({
  kind: fc.constantFrom(`set`, `add`, `delete`, `append`, `deleteItem`),
  item: fc.nat(),
  pick: fc.nat(),
  value: lineScalar,
  extra: fc.dictionary(key, lineScalar, {maxKeys: 3}),
});

describe(`yaml editor properties: block sequences of mappings`, () => {
  it(`an edit inside an item, a new item or a deleted item changes only its own lines`, () => {
    fc.assert(
      fc.property(seqYaml, seqEdit, (d, e) => {
        const doc = openDocument(`yaml`, d.text, `/c.yaml`);
        expect(doc.read([])).toEqual(d.model);
        const model = structuredClone(d.model) as {models: Record<string, unknown>[]};
        const i = e.item % d.items.length;
        const keys = Object.keys(d.items[i]!);
        const k = keys[e.pick % keys.length]!;
        const before = d.lines.map(l => l.text);
        const keyLine = d.lines.findIndex(l => l.item === i && l.key === k);
        let expected: string[];
        if (e.kind === `set`) {
          doc.set([`models`, i, k], e.value);
          model.models[i]![k] = e.value;
          const after = linesOf(doc.text(), d.eol);
          expect(after.length).toBe(before.length + 1);
          for (let n = 0; n < before.length; n++) if (n !== keyLine) expect(after[n]).toBe(before[n]);
          expect(after[keyLine]!.startsWith(before[keyLine]!.slice(0, before[keyLine]!.indexOf(`${k}:`) + k.length + 1))).toBe(true);
          expect(parseYaml(doc.text())).toEqual(model);
          return;
        }
        if (e.kind === `add`) {
          doc.set([`models`, i, `capit_new`], e.value);
          model.models[i]!.capit_new = e.value;
          const after = linesOf(doc.text(), d.eol);
          const added = after.findIndex(l => l.includes(`capit_new:`));
          // Indented like its siblings, right after the item's last line.
          const lastOfItem = d.lines.findLastIndex(l => l.item === i && l.key !== undefined);
          expect(added).toBe(lastOfItem + 1);
          expect(after[added]!.startsWith(`${` `.repeat(d.dashColumn + d.afterDash + 1)}capit_new:`)).toBe(true);
          expected = [...before, ``];
          expect(after.filter((_, n) => n !== added)).toEqual(expected);
        } else if (e.kind === `delete`) {
          fc.pre(keys.length > 1);
          doc.delete([`models`, i, k]);
          delete model.models[i]![k];
          const rest = d.lines.filter((_, n) => n !== keyLine);
          if (d.lines[keyLine]!.kind === `dash`) {
            // The first key's line goes; the next key moves up beside the `-`, or (comment lines between) the `-`
            // stands alone.
            // Blank lines between go with it.
            const next = d.lines.slice(keyLine + 1).find(l => l.kind !== `blank`)!;
            const dash = before[keyLine]!.slice(0, d.dashColumn + 1 + d.afterDash);
            if (next.kind === `key`) {
              const gap = d.lines.slice(keyLine + 1, d.lines.indexOf(next));
              expected = rest.filter(l => !gap.includes(l)).map(l => (l === next ? dash + l.text.trimStart() : l.text));
            } else {
              expected = [...before.slice(0, keyLine), dash.trimEnd(), ...before.slice(keyLine + 1)];
            }
          } else {
            expected = rest.map(l => l.text);
          }
          expect(linesOf(doc.text(), d.eol)).toEqual([...expected, ``]);
        } else if (e.kind === `append`) {
          const entry = {capit_name: e.value, ...Object.fromEntries(Object.entries(e.extra).map(([x, v]) => [`capit_${x}`, v]))};
          doc.set([`models`, d.items.length], entry);
          model.models.push(entry);
          const after = linesOf(doc.text(), d.eol);
          const added = after.map((l, n) => (l.includes(`capit_`) ? n : -1)).filter(n => n >= 0);
          const lastOfSeq = d.lines.findLastIndex(l => l.item !== undefined);
          expect(added[0]).toBe(lastOfSeq + 1);
          expect(after[added[0]!]!.startsWith(`${` `.repeat(d.dashColumn)}-${` `.repeat(d.afterDash)}capit_name:`)).toBe(true);
          for (const n of added.slice(1)) expect(after[n]!.startsWith(`${` `.repeat(d.dashColumn + 1 + d.afterDash)}capit_`)).toBe(true);
          expect(after.filter((_, n) => !added.includes(n))).toEqual([...before, ``]);
          expect(parseYaml(doc.text())).toEqual(model);
          // Deleting the new item gives the original bytes back: checked after an unrelated edit too, since a
          // document that means what it did at first is given back as read.
          doc.delete([`models`, d.items.length]);
          expect(doc.text()).toBe(d.text);
          const marked = openDocument(`yaml`, d.text, `/c.yaml`);
          marked.set([`capit_mark`], 1);
          const expectedText = marked.text();
          doc.set([`capit_mark`], 1);
          doc.set([`models`, d.items.length], entry);
          doc.delete([`models`, d.items.length]);
          expect(doc.text()).toBe(expectedText);
          return;
        } else {
          fc.pre(d.items.length > 1);
          doc.delete([`models`, i]);
          model.models.splice(i, 1);
          // The item's key lines go; comment lines among them stay.
          expected = d.lines.filter(l => l.item !== i || l.kind === `note`).map(l => l.text);
          const nonBlank = (ls: string[]) => ls.filter(l => l.trim() !== ``);
          expect(nonBlank(linesOf(doc.text(), d.eol))).toEqual(nonBlank(expected));
        }
        expect(parseYaml(doc.text())).toEqual(model);
      }),
      {numRuns: RUNS},
    );
  });
});

// ---------------------------------------------------------------------------------------------------------------
// apply → restore on disk

const diskCase = fc.oneof(
  fc.record({format: fc.constant<FileFormat>(`json`), doc: jsonDoc(false).map(d => d.text), edits: fc.array(op, {minLength: 1, maxLength: 3})}),
  fc.record({format: fc.constant<FileFormat>(`jsonc`), doc: jsonDoc(true).map(d => d.text), edits: fc.array(op, {minLength: 1, maxLength: 3})}),
  fc.record({format: fc.constant<FileFormat>(`yaml`), doc: yamlDoc.map(d => d.text), edits: fc.array(yamlOp, {minLength: 1, maxLength: 3})}),
  fc.record({
    format: fc.constant<FileFormat>(`dotenv`),
    doc: envDoc.map(d => d.text),
    edits: fc.array(fc.oneof(
      fc.record({op: fc.constant(`set` as const), path: envKey.map(k => [k]), value: envValue}),
      fc.record({op: fc.constant(`delete` as const), path: envKey.map(k => [k])}),
    ), {minLength: 1, maxLength: 3}),
  }),
);

describe(`apply → restore`, () => {
  it(`gives back the exact bytes and mode, or removes a file capit created`, async () => {
    await fc.assert(
      fc.asyncProperty(diskCase, fc.boolean(), fc.constantFrom(0o600, 0o644, 0o640), async (c, exists, fileMode) => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-prop-`));
        try {
          const file = path.join(root, `agent`, `config`);
          if (exists) {
            fs.mkdirSync(path.dirname(file));
            fs.writeFileSync(file, c.doc);
            fs.chmodSync(file, fileMode);
          }
          const spec = {id: `f`, path: file, format: c.format, secret: true};
          const targets = await loadTargets([spec]);
          let changes;
          try {
            changes = computeChanges(targets, c.edits.map(e => ({file: `f`, ...e, path: e.path as JsonPath})) as never);
          } catch (err) {
            expect((err as {code?: string}).code).toBe(`CAPIT_PATH_CONFLICT`);
            return;
          }
          const state = path.join(root, `state`);
          await applyChanges(changes, {stateDir: state, meta: {agent: `prop`, platform: `openrouter`, keyName: `prop-1`, createdAt: new Date().toISOString()}});
          if (changes.length > 0) expect(fs.readFileSync(file, `utf8`)).toBe(changes[0]!.newText);
          await restoreLatest(state, `prop`);
          if (exists) {
            expect(fs.readFileSync(file, `utf8`)).toBe(c.doc);
            expect(fs.statSync(file).mode & 0o777).toBe(fileMode);
          } else {
            expect(fs.existsSync(file)).toBe(false);
          }
        } finally {
          fs.rmSync(root, {recursive: true, force: true});
        }
      }),
      {numRuns: 100},
    );
  });
});
