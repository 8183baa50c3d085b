// Property tests: random documents in every format, random edits; unrelated content is kept and restore is exact.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';
import {isDeepStrictEqual} from 'node:util';
import fc from 'fast-check';
import {parse as parseJsonc} from 'jsonc-parser';
import {describe, expect, it} from 'vitest';
import {parse as parseYaml, stringify as stringifyYaml} from 'yaml';
import {applyChanges, computeChanges, loadTargets, restoreLatest} from '../../src/files/changes.js';
import {openDocument} from '../../src/files/document.js';
import type {FileFormat, JsonPath} from '../../src/plugin.js';
import {FAKE_KEY} from './helpers.js';

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

/** Applies an op to a plain object model; returns false when the path crosses a non-object (the editor must refuse). */
function applyModel(model: Record<string, unknown>, o: {op: `set` | `delete`; path: string[]; value?: unknown}): boolean {
  let cur: Record<string, unknown> = model;
  for (const seg of o.path.slice(0, -1)) {
    const next = cur[seg];
    if (next === undefined) {
      if (o.op === `delete`) return true;
      cur[seg] = {};
    } else if (!isObj(next)) {
      return o.op === `delete`;
    }
    cur = cur[seg] as Record<string, unknown>;
  }
  const last = o.path[o.path.length - 1]!;
  if (o.op === `set`) cur[last] = structuredClone(o.value);
  else delete cur[last];
  return true;
}

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
              expect(() => doc.set(o.path, o.value)).toThrow(/cannot set/);
              expect(doc.text()).toBe(before);
            }
          }
          const out = doc.text();
          expect(parseJsonc(out)).toEqual(model);
          if (format === `json`) expect(JSON.parse(out.replace(/^\uFEFF/, ``))).toEqual(model);
          if (d.text.includes(`\n`) && out !== d.text) expect(out.includes(`\r\n`)).toBe(d.eol === `\r\n`);
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
            expect(() => doc.set(o.path, o.value)).toThrow(/cannot set/);
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
      const value = leaf ? ` ${stringifyYaml(v, {lineWidth: 0}).replace(/\n$/, ``)}` : ``;
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
