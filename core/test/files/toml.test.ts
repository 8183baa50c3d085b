// The TOML editor (Codex's config.toml): the same properties as the JSONC and YAML editors — untouched bytes stay,
// a replaced value changes only its own text, add-then-delete gives the original bytes back, comments, order, line
// ends and BOM are kept — and the same refusals (duplicate keys, unparseable or absurdly deep files).
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';
import {parse as parseToml} from '@decimalturn/toml-patch';
import fc from 'fast-check';
import {describe, expect, it} from 'vitest';

import {applyChanges, computeChanges, loadTargets, restoreLatest} from '../../src/files/changes.js';
import {openDocument} from '../../src/files/document.js';
import type {JsonPath} from '../../src/plugin.js';
import {FAKE_KEY, applyModel, applyOps} from './helpers.js';

const RUNS = Number(process.env.CAPIT_TOML_RUNS ?? 300);
const KEYS = [`a`, `b`, `env`, `openrouter`, `key`, `model`, `x_y`, `Z9`];
const key = fc.constantFrom(...KEYS);
const scalar = fc.oneof(
  fc.string({maxLength: 12}), fc.integer(), fc.boolean(), fc.constant(FAKE_KEY), fc.stringMatching(/^[a-z][a-z0-9 ./:-]{0,10}$/),
);
type Tree = {[k: string]: unknown};
const isObj = (v: unknown): v is Tree => typeof v === `object` && v !== null && !Array.isArray(v);
const {tree} = fc.letrec<{tree: Tree; node: unknown}>(tie => ({
  tree: fc.dictionary(key, tie(`node`), {maxKeys: 4}) as fc.Arbitrary<Tree>,
  node: fc.oneof({depthSize: `small`, withCrossShrink: true}, scalar, scalar, fc.array(scalar, {maxLength: 3}), tie(`tree`)),
}));
const value = fc.oneof(scalar, fc.array(scalar, {maxLength: 3}), fc.dictionary(key, scalar, {maxKeys: 3}));
const decoration = fc.record({
  comment: fc.option(fc.record({gap: fc.constantFrom(` `, `  `, `\t`, `    `), text: fc.stringMatching(/^[ a-z0-9#:'"-]{0,8}$/)}), {nil: undefined}),
  before: fc.constantFrom(`none`, `none`, `blank`, `comment`),
  spacing: fc.constantFrom(` = `, `=`, ` =  `),
});
type Deco = typeof decoration extends fc.Arbitrary<infer T> ? T : never;
type Line = {text: string; path: string[]; leaf: boolean; comment?: string};

const tomlScalar = (v: unknown): string => (Array.isArray(v) ? `[${v.map(tomlScalar).join(`, `)}]` : JSON.stringify(v));

/** Scalars and arrays first, then each table under its `[a.b]` header (how people and Codex's docs write it). */
function render(obj: Tree, decorations: Deco[]): Line[] {
  const lines: Line[] = [{text: `# top comment`, path: [], leaf: false}];
  let n = 0;
  const walk = (node: Tree, parent: string[]): void => {
    const entries = Object.entries(node);
    entries.filter(([, v]) => !isObj(v)).forEach(([k, v], i) => {
      const deco = decorations[n++ % Math.max(1, decorations.length)]!;
      if (i > 0 && deco.before === `blank`) lines.push({text: ``, path: [], leaf: false});
      if (i > 0 && deco.before === `comment`) lines.push({text: `# about ${k}`, path: [], leaf: false});
      const comment = deco.comment ? `#${deco.comment.text}` : undefined;
      lines.push({text: `${k}${deco.spacing}${tomlScalar(v)}${comment ? deco.comment!.gap + comment : ``}`, path: [...parent, k], leaf: true, comment});
    });
    for (const [k, v] of entries.filter(([, v]) => isObj(v))) {
      lines.push({text: ``, path: [], leaf: false});
      lines.push({text: `[${[...parent, k].join(`.`)}]`, path: [...parent, k], leaf: false});
      walk(v as Tree, [...parent, k]);
    }
  };
  walk(obj, []);
  return lines;
}

const tomlDoc = fc.record({obj: tree, decorations: fc.array(decoration, {minLength: 1, maxLength: 10}), pick: fc.nat(), crlf: fc.boolean(), bom: fc.boolean()})
  .map(d => {
    const lines = render(d.obj, d.decorations);
    const eol = d.crlf ? `\r\n` : `\n`;
    const leaves = lines.filter(l => l.leaf);
    return {...d, lines, eol, text: (d.bom ? `\uFEFF` : ``) + lines.map(l => `${l.text}${eol}`).join(``), target: leaves.length ? leaves[d.pick % leaves.length] : undefined};
  });


const plain = (text: string): unknown => JSON.parse(JSON.stringify(parseToml(text.replace(/^\uFEFF/, ``))));
const bodyLines = (text: string, eol: string) => text.replace(/^\uFEFF/, ``).split(eol);

describe(`toml editor properties`, () => {
  it(`reads the file as it means; set/delete changes exactly the edited path, comments, BOM and line ends kept`, () => {
    const op = fc.oneof(
      fc.record({op: fc.constant(`set` as const), path: fc.array(key, {minLength: 1, maxLength: 3}), value}),
      fc.record({op: fc.constant(`delete` as const), path: fc.array(key, {minLength: 1, maxLength: 3})}),
    );
    fc.assert(
      fc.property(tomlDoc, fc.array(op, {minLength: 1, maxLength: 3}), (d, ops) => {
        const doc = openDocument(`toml`, d.text, `/c.toml`);
        expect(doc.read([])).toEqual(d.obj);
        const model = applyOps(doc, d.obj, ops, attempt => expect(attempt).toThrow(/cannot set/));
        const out = doc.text();
        expect(plain(out)).toEqual(model);
        expect(out).toContain(`# top comment`);
        expect(out.startsWith(`\uFEFF`)).toBe(d.bom);
        if (d.crlf) expect(out.replace(/\r\n/g, ``)).not.toContain(`\n`);
      }),
      {numRuns: RUNS},
    );
  });

  it(`adding a new key (or table) and deleting it gives the original bytes back`, () => {
    fc.assert(
      fc.property(tomlDoc, value, fc.array(key, {maxLength: 1}), (d, v, parent) => {
        fc.pre(parent.length === 0 || isObj(d.obj[parent[0]!]) || d.obj[parent[0]!] === undefined);
        const doc = openDocument(`toml`, d.text, `/c.toml`);
        doc.set([...parent, `capit_new`], v);
        expect(doc.read([...parent, `capit_new`])).toEqual(v);
        doc.delete([...parent, `capit_new`]);
        if (parent.length === 1 && d.obj[parent[0]!] === undefined) doc.delete(parent);
        expect(doc.text()).toBe(d.text);
      }),
      {numRuns: RUNS},
    );
  });

  it(`replacing a scalar changes only its own line, which keeps its key and comment`, () => {
    fc.assert(
      fc.property(tomlDoc, scalar, (d, v) => {
        fc.pre(d.target !== undefined);
        const target = d.target!;
        const doc = openDocument(`toml`, d.text, `/c.toml`);
        doc.set(target.path, v);
        const out = doc.text();
        const model = structuredClone(d.obj);
        applyModel(model, {op: `set`, path: target.path, value: v});
        expect(plain(out)).toEqual(model);
        const before = bodyLines(d.text, d.eol);
        const after = bodyLines(out, d.eol);
        expect(after.length).toBe(before.length);
        const at = d.lines.indexOf(target);
        for (let i = 0; i < before.length; i++) if (i !== at) expect(after[i]).toBe(before[i]);
        expect(after[at]!.startsWith(target.path[target.path.length - 1]!)).toBe(true);
        if (target.comment !== undefined) expect(after[at]!.endsWith(target.comment)).toBe(true);
      }),
      {numRuns: RUNS},
    );
  });

  it(`adding a key to an existing table or deleting a scalar leaves every other line as it was`, () => {
    fc.assert(
      fc.property(tomlDoc, scalar, fc.boolean(), (d, v, add) => {
        fc.pre(d.target !== undefined);
        const target = d.target!;
        const doc = openDocument(`toml`, d.text, `/c.toml`);
        const nonBlank = (lines: string[]) => lines.filter(l => l.trim() !== ``);
        if (add) {
          doc.set([...target.path.slice(0, -1), `capit_new`], v);
          const after = bodyLines(doc.text(), d.eol);
          expect(nonBlank(after.filter(l => !l.startsWith(`capit_new`)))).toEqual(nonBlank(bodyLines(d.text, d.eol)));
        } else {
          doc.delete(target.path);
          const after = bodyLines(doc.text(), d.eol);
          const expected = d.lines.filter(l => l !== target).map(l => l.text);
          // A comment line right above the key belongs to it (the library removes it with the key).
          const at = d.lines.indexOf(target);
          const above = d.lines[at - 1];
          const withoutNote = above && /^# about /.test(above.text) ? expected.filter((_, i) => i !== at - 1) : expected;
          expect([nonBlank(expected), nonBlank(withoutNote)]).toContainEqual(nonBlank(after));
        }
      }),
      {numRuns: RUNS},
    );
  });
});

describe(`toml editor`, () => {
  it(`writes a new provider table as a [a.b] section after the user's settings, keeps the top-level keys above every table`, () => {
    const text = `# mine\nmodel = "openai/gpt-4o-mini" # keep\n\n[profiles.fast]\nmodel = "x"\n`;
    const doc = openDocument(`toml`, text, `/c.toml`);
    doc.set([`model_provider`], `capit-openrouter`);
    doc.set([`model_providers`, `capit-openrouter`], {name: `OpenRouter (capit)`, base_url: `https://openrouter.ai/api/v1`, wire_api: `responses`, experimental_bearer_token: FAKE_KEY});
    expect(doc.text()).toBe(
      `# mine\nmodel = "openai/gpt-4o-mini" # keep\nmodel_provider = "capit-openrouter"\n\n[profiles.fast]\nmodel = "x"\n\n` +
      `[model_providers.capit-openrouter]\nname = "OpenRouter (capit)"\nbase_url = "https://openrouter.ai/api/v1"\nwire_api = "responses"\nexperimental_bearer_token = "${FAKE_KEY}"\n`,
    );
    // Another provider's section already there: the new one is a section of its own after it, never a dotted key.
    const other = `model = "m"\n\n[model_providers.mine]\nname = "Mine"\n`;
    const withOther = openDocument(`toml`, other, `/c.toml`);
    withOther.set([`model_provider`], `capit-openrouter`);
    withOther.set([`model_providers`, `capit-openrouter`], {name: `n`, wire_api: `responses`});
    expect(withOther.text()).toBe(`model = "m"\nmodel_provider = "capit-openrouter"\n\n[model_providers.mine]\nname = "Mine"\n\n[model_providers.capit-openrouter]\nname = "n"\nwire_api = "responses"\n`);
    const empty = openDocument(`toml`, ``, `/c.toml`);
    empty.set([`model_provider`], `p`);
    empty.set([`model_providers`, `p`, `name`], `n`);
    expect(empty.text()).toBe(`model_provider = "p"\n\n[model_providers.p]\nname = "n"\n`);
  });

  it(`a realistic Codex config: quoted table names, multi-line and literal strings, arrays of tables, dotted keys kept`, () => {
    const text = [
      `# Codex`, `model = "gpt-5-codex"`, `model_reasoning_effort = 'high'   # literal`, `tui.theme = "dark"`,
      `instructions = """`, `multi`, `line"""`, ``,
      `[projects."/home/u/my proj"]`, `trust_level = "trusted"`, ``,
      `[mcp_servers.docs]`, `command = "npx"`, `args = ["-y", "docs-mcp"]`, `env = { TOKEN = "x" }   # inline`, ``,
      `[[skills.config]]`, `path = "/a"`, ``, `[[skills.config]]`, `path = "/b"`, ``,
    ].join(`\n`);
    const doc = openDocument(`toml`, text, `/c.toml`);
    doc.set([`model_provider`], `capit-openrouter`);
    doc.set([`model_providers`, `capit-openrouter`], {name: `n`, base_url: `https://openrouter.ai/api/v1`, wire_api: `responses`, experimental_bearer_token: FAKE_KEY});
    const lines = text.split(`\n`);
    expect(doc.text()).toBe([
      ...lines.slice(0, 7), `model_provider = "capit-openrouter"`, ...lines.slice(7),
      `[model_providers.capit-openrouter]`, `name = "n"`, `base_url = "https://openrouter.ai/api/v1"`, `wire_api = "responses"`,
      `experimental_bearer_token = "${FAKE_KEY}"`, ``,
    ].join(`\n`));
    doc.delete([`model_providers`]);
    doc.delete([`model_provider`]);
    expect(doc.text()).toBe(text);
  });

  it(`keeps dates, big integers and inline tables it does not touch`, () => {
    const text = `when = 1979-05-27T07:32:00-08:00 # dob\nday = 1979-05-27\nbig = 9007199254740993\npoint = { x = 1, y = 2 }\n`;
    const doc = openDocument(`toml`, text, `/c.toml`);
    doc.set([`model`], `m`);
    expect(doc.text()).toBe(`${text}model = "m"\n`);
    doc.set([`point`, `x`], 3);
    expect(doc.text()).toBe(`when = 1979-05-27T07:32:00-08:00 # dob\nday = 1979-05-27\nbig = 9007199254740993\npoint = { x = 3, y = 2 }\nmodel = "m"\n`);
  });

  it(`refuses duplicate keys, redefined tables, unparseable and absurdly deep files, naming the file`, () => {
    const refuse = (text: string, why: RegExp) => {
      let err: unknown;
      try {
        openDocument(`toml`, text, `/c.toml`);
      } catch (e) {
        err = e;
      }
      expect((err as {code?: string}).code).toBe(`CAPIT_UNPARSEABLE_FILE`);
      expect((err as Error).message).toMatch(/\/c\.toml/);
      expect((err as Error).message).toMatch(why);
      expect((err as Error).message).not.toContain(`\n`);
    };
    refuse(`a = 1\na = 2\n`, /duplicate key.*line 2/);
    refuse(`[t]\nx = 1\n[t]\ny = 2\n`, /duplicate key/);
    refuse(`a = \n`, /line 1/);
    refuse(`a = "unterminated\n`, /line 1/);
    refuse(`a = ${`[`.repeat(5000)}${`]`.repeat(5000)}\n`, /nested/);
    refuse(`a = ${`[`.repeat(150)}1${`]`.repeat(150)}\n`, /nested more than 100 levels/);
  });

  it(`a key named __proto__ is an ordinary key: read from the file, never the object's prototype`, () => {
    const doc = openDocument(`toml`, `a = 1\n`, `/c.toml`);
    expect(doc.read([`__proto__`])).toBeUndefined();
    expect(doc.read([`constructor`])).toBeUndefined();
    const file = openDocument(`toml`, `"__proto__" = 2\n`, `/c.toml`);
    expect(file.read([`__proto__`])).toBe(2);
    doc.set([`__proto__`, `polluted`], 1);
    expect(doc.read([`__proto__`, `polluted`])).toBe(1);
    expect(doc.text()).toBe(`a = 1\n\n[__proto__]\npolluted = 1\n`);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it(`refuses to write what TOML cannot hold, or to turn a value into a table, and changes nothing`, () => {
    const text = `a = 1\n`;
    const doc = openDocument(`toml`, text, `/c.toml`);
    expect(() => doc.set([`b`], null)).toThrow(/TOML has no null/);
    expect(() => doc.set([`a`, `x`], 1)).toThrow(/a is not a table/);
    expect(doc.text()).toBe(text);
  });
});

describe(`toml apply → restore`, () => {
  it(`gives back the exact bytes and mode, or removes a file capit created`, async () => {
    await fc.assert(
      fc.asyncProperty(tomlDoc, fc.array(fc.record({path: fc.array(key, {minLength: 1, maxLength: 2}), value}), {minLength: 1, maxLength: 2}), fc.boolean(), async (d, edits, exists) => {
        const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-toml-`));
        try {
          const file = path.join(root, `codex`, `config.toml`);
          if (exists) {
            fs.mkdirSync(path.dirname(file));
            fs.writeFileSync(file, d.text);
            fs.chmodSync(file, 0o644);
          }
          const targets = await loadTargets([{id: `f`, path: file, format: `toml`, secret: true}]);
          let changes;
          try {
            changes = computeChanges(targets, edits.map(e => ({file: `f`, op: `set`, path: e.path as JsonPath, value: e.value})) as never);
          } catch (err) {
            expect((err as {code?: string}).code).toBe(`CAPIT_PATH_CONFLICT`);
            return;
          }
          const state = path.join(root, `state`);
          await applyChanges(changes, {stateDir: state, meta: {agent: `prop`, platform: `openrouter`, keyName: `prop-1`, createdAt: new Date().toISOString()}});
          await restoreLatest(state, `prop`);
          if (exists) {
            expect(fs.readFileSync(file, `utf8`)).toBe(d.text);
            expect(fs.statSync(file).mode & 0o777).toBe(0o644);
          } else {
            expect(fs.existsSync(file)).toBe(false);
          }
        } finally {
          fs.rmSync(root, {recursive: true, force: true});
        }
      }),
      {numRuns: 60},
    );
  });
});
