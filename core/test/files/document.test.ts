import {describe, expect, it} from 'vitest';
import {UnparseableFileError} from '../../src/errors.js';
import {decodeDotenvValue, encodeDotenvValue, openDocument} from '../../src/files/document.js';

const KEY = `sk-or-v1-fake-0000000000000000000000000000000000000000000000000000000000000000`;

describe(`json / jsonc`, () => {
  it(`keeps other keys, order, 4-space indent and the trailing newline`, () => {
    const src = `{\n    "z": 1,\n    "a": {"keep": [1, 2,   3]},\n    "m": "x"\n}\n`;
    const doc = openDocument(`json`, src, `/f.json`);
    doc.set([`openrouter`, `key`], KEY);
    const out = doc.text();
    expect(out).toBe(`{\n    "z": 1,\n    "a": {"keep": [1, 2,   3]},\n    "m": "x",\n    "openrouter": {\n        "key": "${KEY}"\n    }\n}\n`);
    expect(JSON.parse(out)).toEqual({z: 1, a: {keep: [1, 2, 3]}, m: `x`, openrouter: {key: KEY}});
  });

  it(`uses tabs, CRLF and keeps a BOM and comments in jsonc`, () => {
    const src = `\uFEFF// settings\r\n{\r\n\t/* block */\r\n\t"env": {\r\n\t\t"A": "1", // why\r\n\t},\r\n}`;
    const doc = openDocument(`jsonc`, src, `/s.json`);
    expect(doc.read([`env`, `A`])).toBe(`1`);
    doc.set([`env`, `ANTHROPIC_AUTH_TOKEN`], KEY);
    const out = doc.text();
    expect(out.startsWith(`\uFEFF// settings\r\n{\r\n\t/* block */\r\n`)).toBe(true);
    expect(out).toContain(`\t\t"ANTHROPIC_AUTH_TOKEN": "${KEY}"`);
    expect(out).toContain(`// why`);
    expect(out.replace(/\r\n/g, ``)).not.toContain(`\n`);
    expect(out.endsWith(`}`)).toBe(true);
    expect(openDocument(`jsonc`, out, `/s.json`).read([`env`])).toEqual({A: `1`, ANTHROPIC_AUTH_TOKEN: KEY});
  });

  it(`keeps a one-line file on one line`, () => {
    const doc = openDocument(`json`, `{"a":1}`, `/f.json`);
    doc.set([`b`], true);
    expect(doc.text()).not.toContain(`\n`);
    expect(JSON.parse(doc.text())).toEqual({a: 1, b: true});
  });

  it(`treats an empty or blank file as {} and writes a trailing newline`, () => {
    for (const src of [``, `  \n`]) {
      const doc = openDocument(`json`, src, `/f.json`);
      expect(doc.read([])).toEqual({});
      expect(doc.text()).toBe(src);
      doc.set([`a`, `b`], `c`);
      expect(doc.text()).toBe(`{\n  "a": {\n    "b": "c"\n  }\n}\n`);
    }
  });

  it(`returns the original text untouched when nothing changed`, () => {
    const src = `{ "a" :1 , "b":[ ] }`;
    const doc = openDocument(`jsonc`, src, `/f.json`);
    doc.delete([`missing`]);
    doc.set([`a`], 1);
    expect(doc.text()).toBe(src);
  });

  it(`deletes a key and leaves the rest`, () => {
    const doc = openDocument(`json`, `{\n  "a": 1,\n  "b": 2,\n  "c": 3\n}\n`, `/f.json`);
    doc.delete([`b`]);
    expect(doc.text()).toBe(`{\n  "a": 1,\n  "c": 3\n}\n`);
  });

  it.each([
    [`json`, `{"a": 1 // c\n}`],
    [`json`, `{"a": 1,}`],
    [`json`, `{"a": `],
    [`jsonc`, `{"a": 1} trailing`],
    [`jsonc`, `[1, 2]`],
    [`json`, `"str"`],
    [`json`, `null`],
    [`json`, `{"a" 1}`],
  ] as const)(`refuses %s %j`, (format, src) => {
    expect(() => openDocument(format, src, `/bad.json`)).toThrow(UnparseableFileError);
  });

  it(`says "expected an object" for a top-level array`, () => {
    expect(() => openDocument(`json`, `[]`, `/bad.json`)).toThrow(/expected an object/);
    expect(() => openDocument(`json`, `[]`, `/bad.json`)).toThrow(/found an array\)/);
    // "a string", "a number": the article follows the word.
    expect(() => openDocument(`json`, `"x"`, `/bad.json`)).toThrow(/expected an object at the top level, found a string\)/);
    expect(() => openDocument(`json`, `1`, `/bad.json`)).toThrow(/found a number\)/);
  });

  it(`refuses to replace a string where an object is needed`, () => {
    const doc = openDocument(`json`, `{"env": "x"}`, `/f.json`);
    expect(() => doc.set([`env`, `A`], `1`)).toThrow(expect.objectContaining({code: `CAPIT_PATH_CONFLICT`}));
    expect(doc.text()).toBe(`{"env": "x"}`);
  });
});

describe(`json / jsonc: only the edited property's text changes`, () => {
  const edit = (format: `json` | `jsonc`, src: string, f: (doc: ReturnType<typeof openDocument>) => void): string => {
    const doc = openDocument(format, src, `/f.json`);
    f(doc);
    return doc.text();
  };

  it(`adds a key after an inline object without reformatting it`, () => {
    const src = `{\n    "a": 1,\n    "x": {"k": true}\n}\n`;
    expect(edit(`jsonc`, src, d => d.set([`zoo`], `v`))).toBe(`{\n    "a": 1,\n    "x": {"k": true},\n    "zoo": "v"\n}\n`);
    expect(edit(`json`, `{\n  "x": [1,2,  3]\n}`, d => d.set([`y`], {z: [1]}))).toBe(`{\n  "x": [1,2,  3],\n  "y": {\n    "z": [\n      1\n    ]\n  }\n}`);
  });

  it(`adds a nested key after an inline value, in the file's indentation`, () => {
    const src = `{\n\t"env": {\n\t\t"A": "1",\n\t\t"B": {"deep": [1, 2]}\n\t},\n\t"x": {"k": true}\n}\n`;
    expect(edit(`jsonc`, src, d => d.set([`env`, `NEW`], KEY))).toBe(src.replace(`[1, 2]}\n`, `[1, 2]},\n\t\t"NEW": "${KEY}"\n`));
    expect(edit(`jsonc`, src, d => d.set([`env`, `C`, `D`], 1))).toBe(src.replace(`[1, 2]}\n`, `[1, 2]},\n\t\t"C": {\n\t\t\t"D": 1\n\t\t}\n`));
  });

  it(`adds to an inline object on its line, with its spacing`, () => {
    expect(edit(`json`, `{\n  "x": {"k": true},\n  "y": 2\n}`, d => d.set([`x`, `n`], [1, {a: 2}]))).toBe(`{\n  "x": {"k": true, "n": [1, {"a": 2}]},\n  "y": 2\n}`);
    expect(edit(`json`, `{"a":1,"b":{"c":2}}\n`, d => d.set([`b`, `d`], {e: 3}))).toBe(`{"a":1,"b":{"c":2,"d":{"e":3}}}\n`);
    expect(edit(`json`, `{"a": 1}`, d => d.set([`b`], true))).toBe(`{"a": 1, "b": true}`);
  });

  it(`puts a new property after the last property's line comment, which stays with its property`, () => {
    const src = `{\n  "a": 1, // one\n  "b": {"k": 2} // two\n}\n`;
    expect(edit(`jsonc`, src, d => d.set([`c`], 3))).toBe(`{\n  "a": 1, // one\n  "b": {"k": 2}, // two\n  "c": 3\n}\n`);
    const nested = `{\r\n  "env": {\r\n    "A": "1" /* x */ // why\r\n  }\r\n}`;
    expect(edit(`jsonc`, nested, d => d.set([`env`, `B`], `2`))).toBe(`{\r\n  "env": {\r\n    "A": "1", /* x */ // why\r\n    "B": "2"\r\n  }\r\n}`);
  });

  it(`keeps a trailing comma style: the new last property gets one too`, () => {
    const src = `{\n  "a": {"k": 2}, // two\n}`;
    expect(edit(`jsonc`, src, d => d.set([`c`], 3))).toBe(`{\n  "a": {"k": 2}, // two\n  "c": 3,\n}`);
  });

  it(`adds into an empty object, also one holding only a comment`, () => {
    expect(edit(`json`, `{\n  "x": {"k": true},\n  "env": {}\n}`, d => d.set([`env`, `A`], `1`))).toBe(`{\n  "x": {"k": true},\n  "env": {\n    "A": "1"\n  }\n}`);
    expect(edit(`jsonc`, `{\n  "env": { // none yet\n  }\n}`, d => d.set([`env`, `A`], `1`))).toBe(`{\n  "env": { // none yet\n    "A": "1"\n  }\n}`);
  });

  it(`replaces a value and nothing else`, () => {
    const src = `{\n  "a": {"k": 1}, // a\n  "b": [1,2], // b\n  "c": "x" // c\n}\n`;
    expect(edit(`jsonc`, src, d => d.set([`b`], `new`))).toBe(src.replace(`[1,2]`, `"new"`));
    expect(edit(`jsonc`, src, d => d.set([`a`, `k`], 2))).toBe(src.replace(`{"k": 1}`, `{"k": 2}`));
    expect(edit(`jsonc`, src, d => d.set([`c`], {d: 1}))).toBe(src.replace(`"x"`, `{\n    "d": 1\n  }`));
    expect(edit(`jsonc`, src, d => d.set([`a`], {k: 1}))).toBe(src); // the same value: no edit at all
    // A new object or array in place of an inline one is written in the file's style, like an added one.
    expect(edit(`jsonc`, src, d => d.set([`b`], [3]))).toBe(src.replace(`[1,2]`, `[\n    3\n  ]`));
  });

  it(`deletes a property next to compact neighbours, with its comment and nothing else`, () => {
    const src = `{\n  "a": {"k": 1}, // a\n  "b": 2, // b\n  "c": [1,2] // c\n}\n`;
    expect(edit(`jsonc`, src, d => d.delete([`b`]))).toBe(`{\n  "a": {"k": 1}, // a\n  "c": [1,2] // c\n}\n`);
    expect(edit(`jsonc`, src, d => d.delete([`c`]))).toBe(`{\n  "a": {"k": 1}, // a\n  "b": 2 // b\n}\n`);
    expect(edit(`jsonc`, src, d => d.delete([`a`]))).toBe(`{\n  "b": 2, // b\n  "c": [1,2] // c\n}\n`);
    expect(edit(`jsonc`, src, d => d.delete([`a`, `k`]))).toBe(src.replace(`{"k": 1}`, `{}`));
    expect(edit(`json`, `{"a": 1, "b": {"c": 2, "d": 3}}`, d => d.delete([`b`, `c`]))).toBe(`{"a": 1, "b": {"d": 3}}`);
    expect(edit(`json`, `{"a": 1, "b": {"c": 2, "d": 3}}`, d => d.delete([`b`, `d`]))).toBe(`{"a": 1, "b": {"c": 2}}`);
    expect(edit(`json`, `{\n  "a": 1,\n  "env": {\n    "A": "1"\n  }\n}\n`, d => d.delete([`env`, `A`]))).toBe(`{\n  "a": 1,\n  "env": {}\n}\n`);
  });

  it(`adding then deleting a key gives the same bytes back without the cancel-out shortcut`, () => {
    const src = `{\n  "a": {"k": 1} // a\n}\n`;
    const doc = openDocument(`jsonc`, src, `/f.json`);
    doc.set([`b`], 1);
    doc.set([`c`], 2);
    doc.delete([`b`]);
    expect(doc.text()).toBe(`{\n  "a": {"k": 1}, // a\n  "c": 2\n}\n`);
    doc.delete([`c`]);
    expect(doc.text()).toBe(src);
  });

  it(`edits a real Cursor-style settings.json with compact values, BOM and CRLF`, () => {
    const src = `\uFEFF{\r\n    "workbench.colorTheme": "Default Dark+",\r\n    "editor.rulers": [80, 120],\r\n    "[python]": {"editor.tabSize": 4}\r\n}`;
    const out = edit(`jsonc`, src, d => {
      d.set([`cursor`, `apiKey`], KEY);
      d.set([`workbench.colorTheme`], `Dark`);
    });
    expect(out).toBe(`\uFEFF{\r\n    "workbench.colorTheme": "Dark",\r\n    "editor.rulers": [80, 120],\r\n    "[python]": {"editor.tabSize": 4},\r\n    "cursor": {\r\n        "apiKey": "${KEY}"\r\n    }\r\n}`);
  });
});

describe(`dotenv`, () => {
  const src = `# OpenClaw\n\nexport OPENROUTER_API_KEY='old' # mine\nOTHER = "a b"\nFOO=bar\n  # indented comment\nOPENROUTER_API_KEY=older2\n`;

  it(`reads quoted, unquoted and exported values; last assignment wins`, () => {
    const doc = openDocument(`dotenv`, src, `/.env`);
    expect(doc.read([`OTHER`])).toBe(`a b`);
    expect(doc.read([`FOO`])).toBe(`bar`);
    expect(doc.read([`OPENROUTER_API_KEY`])).toBe(`older2`);
    expect(doc.read([`NOPE`])).toBeUndefined();
  });

  it(`replaces the last assignment in place and keeps every other byte`, () => {
    const doc = openDocument(`dotenv`, src, `/.env`);
    doc.set([`OPENROUTER_API_KEY`], KEY);
    expect(doc.text()).toBe(src.replace(`OPENROUTER_API_KEY=older2`, `OPENROUTER_API_KEY=${KEY}`));
  });

  it(`keeps export and inline comments when replacing`, () => {
    const doc = openDocument(`dotenv`, `export K='old' # mine\r\nX=1\r\n`, `/.env`);
    doc.set([`K`], `new value`);
    expect(doc.text()).toBe(`export K="new value" # mine\r\nX=1\r\n`);
  });

  it(`appends, adding the missing newline, and delete gives the same bytes back`, () => {
    const doc = openDocument(`dotenv`, `A=1`, `/.env`);
    doc.set([`B`], KEY);
    expect(doc.text()).toBe(`A=1\nB=${KEY}`);
    doc.delete([`B`]);
    expect(doc.text()).toBe(`A=1`);
    const empty = openDocument(`dotenv`, ``, `/.env`);
    empty.set([`B`], `x`);
    expect(empty.text()).toBe(`B=x\n`);
  });

  it(`quotes values that need it and reads them back`, () => {
    for (const v of [`plain-ok_1.2:3/4+5@6`, `with space`, `a"b`, `$HOME`, `back\\slash`, `multi\nline`, `#hash`, ``]) {
      const doc = openDocument(`dotenv`, `X=1\n`, `/.env`);
      doc.set([`V`], v);
      expect(openDocument(`dotenv`, doc.text(), `/.env`).read([`V`])).toBe(v);
    }
    expect(encodeDotenvValue(`a b$`)).toBe(`"a b\\$"`);
    expect(decodeDotenvValue(`'a\\nb'`)).toBe(`a\\nb`);
  });

  it(`parses multi-line double-quoted values`, () => {
    const doc = openDocument(`dotenv`, `CERT="line1\nline2"\nB=2\n`, `/.env`);
    expect(doc.read([`CERT`])).toBe(`line1\nline2`);
    expect(doc.read([`B`])).toBe(`2`);
  });

  it.each([`just words\n`, `A=1\n=2\n`, `K="unterminated\n`, `K="x" junk\n`])(`refuses %j`, src => {
    expect(() => openDocument(`dotenv`, src, `/.env`)).toThrow(UnparseableFileError);
  });

  it(`keeps a BOM`, () => {
    const doc = openDocument(`dotenv`, `\uFEFFA=1\n`, `/.env`);
    doc.set([`B`], `2`);
    expect(doc.text()).toBe(`\uFEFFA=1\nB=2\n`);
  });
});

describe(`yaml`, () => {
  const src = `# Hermes config
model:
  default: anthropic/claude-sonnet-4   # the default
  provider: auto
  base_url: "https://openrouter.ai/api/v1"

toolsets:
- hermes-cli
- web

terminal:
  backend: local
  long: this is a very long string value that goes on and on and on and on and on and on and on past eighty columns
compression: {enabled: true, threshold: 0.85}
`;

  it(`changes one value and keeps every other line byte for byte`, () => {
    const doc = openDocument(`yaml`, src, `/config.yaml`);
    expect(doc.read([`model`, `provider`])).toBe(`auto`);
    doc.set([`model`, `provider`], `openrouter`);
    expect(doc.text()).toBe(src.replace(`provider: auto`, `provider: openrouter`));
  });

  it(`adds a nested key and removing it gives the original bytes back`, () => {
    const doc = openDocument(`yaml`, src, `/config.yaml`);
    doc.set([`auth`, `openrouter`, `key`], KEY);
    const out = doc.text();
    expect(out.startsWith(src)).toBe(true);
    expect(openDocument(`yaml`, out, `/c.yaml`).read([`auth`])).toEqual({openrouter: {key: KEY}});
    doc.delete([`auth`]);
    expect(doc.text()).toBe(src);
  });

  it(`keeps CRLF and BOM`, () => {
    const doc = openDocument(`yaml`, `\uFEFFa: 1  # c\r\nb: 2\r\n`, `/c.yaml`);
    doc.set([`b`], 3);
    expect(doc.text()).toBe(`\uFEFFa: 1  # c\r\nb: 3\r\n`);
  });

  it(`edits an empty file`, () => {
    const doc = openDocument(`yaml`, ``, `/c.yaml`);
    doc.set([`model`, `provider`], `openrouter`);
    expect(doc.text()).toBe(`model:\n  provider: openrouter\n`);
  });

  describe(`inline comments with extra spacing next to the edited line`, () => {
    const spaced = `model:\n  default: y   # z\n  provider: anthropic  # x\n  base_url: "u"\t# tab\nother: 1     # o\n`;
    const edit = (text: string, path: string[], value: unknown): string => {
      const doc = openDocument(`yaml`, text, `/c.yaml`);
      doc.set(path, value);
      return doc.text();
    };

    it(`keeps the neighbours byte for byte and the edited line's comment in its column`, () => {
      expect(edit(spaced, [`model`, `provider`], `openai`)).toBe(spaced.replace(`provider: anthropic  # x`, `provider: openai     # x`));
    });

    it(`keeps the user's gap before the comment when the new value is longer`, () => {
      expect(edit(spaced, [`model`, `default`], `anthropic/claude-sonnet-4`)).toBe(
        spaced.replace(`default: y   # z`, `default: anthropic/claude-sonnet-4   # z`),
      );
      expect(edit(spaced, [`model`, `base_url`], `https://openrouter.ai/api/v1`)).toBe(
        spaced.replace(`base_url: "u"\t# tab`, `base_url: "https://openrouter.ai/api/v1"\t# tab`),
      );
    });

    it(`keeps every other line when a commented key is deleted, replaced by a mapping or a sibling is added`, () => {
      expect(edit(spaced, [`model`, `provider`], undefined)).toBe(spaced.replace(`  provider: anthropic  # x\n`, ``));
      expect(edit(spaced, [`model`, `provider`], {name: `openrouter`})).toBe(
        spaced.replace(`  provider: anthropic  # x\n`, `  provider:\n    name: openrouter\n`),
      );
      expect(edit(spaced, [`model`, `api_key`], KEY)).toBe(spaced.replace(`# tab\n`, `# tab\n  api_key: ${KEY}\n`));
    });

    it(`handles a run of lines that all differ from the library's rendering`, () => {
      const text = `a:      1 #  one\nb:\t2   # two\nc: 3     # three\nd: [1,2]   # four\n`;
      // Only the value's own token changes: the tab after `b:` stays.
      expect(edit(text, [`b`], 20)).toBe(`a:      1 #  one\nb:\t20   # two\nc: 3     # three\nd: [1,2]   # four\n`);
      expect(edit(text, [`d`], [3])).toBe(`a:      1 #  one\nb:\t2   # two\nc: 3     # three\nd:\n  - 3\n`);
    });

    it(`keeps a comment on a mapping's key line that the library moves to the next line`, () => {
      const text = `a:   # parent\n  b:  # inner\n    x: 1\n  c: 2  # other\n`;
      expect(edit(text, [`a`, `b`], undefined)).toBe(`a:   # parent\n  c: 2  # other\n`);
      expect(edit(text, [`a`, `b`, `x`], 5)).toBe(`a:   # parent\n  b:  # inner\n    x: 5\n  c: 2  # other\n`);
      expect(edit(text, [`a`, `d`], 3)).toBe(`${text}  d: 3\n`);
    });

    it(`keeps empty comments and mixed space/tab gaps when a key repeated under other parents is edited`, () => {
      // A property-test counterexample: the library moves each empty `#` after a mapping key to a line of its own,
      // and the same lines (`    key:`, `      a: ...`) occur under several parents; each edit must still touch
      // only its own lines.
      const text = [
        `a: ${KEY}      #`,
        `env: #`,
        `  a: "" \t #`,
        `  x_y: a`,
        `openrouter: false #`,
        `x_y:      #`,
        `  a: #`,
        `    a: ${KEY} \t #`,
        `    b: ""`,
        `    key: #`,
        `      a: a      #`,
        `  openrouter: #`,
        `    a: 0 \t #`,
        `    key:`,
        `      a: 0 #`,
        ``,
      ].join(`\n`);
      const lines = text.split(`\n`);
      const without = (from: number, to: number): string => [...lines.slice(0, from), ...lines.slice(to)].join(`\n`);
      expect(edit(text, [`x_y`], undefined)).toBe(without(5, 15));
      expect(edit(text, [`env`, `x_y`], undefined)).toBe(without(3, 4));
      expect(edit(text, [`x_y`, `a`], undefined)).toBe(without(6, 11));
      expect(edit(text, [`x_y`, `openrouter`, `key`], undefined)).toBe(without(13, 15));
      expect(edit(text, [`capit_new`], `v`)).toBe(`${text}capit_new: v\n`);
      expect(edit(text, [`x_y`, `capit_new`], 1)).toBe(`${text}  capit_new: 1\n`);
      expect(edit(text, [`x_y`, `a`, `capit_new`], 1)).toBe(text.replace(`      a: a      #\n`, `      a: a      #\n    capit_new: 1\n`));
      expect(edit(text, [`x_y`, `a`, `key`, `capit_new`], 1)).toBe(text.replace(`      a: a      #\n`, `      a: a      #\n      capit_new: 1\n`));
      // the same shape found by another seed: `    key:` under x_y.a and under x_y.x_y
      const twice = `x_y: #\n  a:\n    key: #\n      a: a\t#\n  key: null  #\n  x_y: #\n    key:\n      a: null #\n  b:\t#\n    a:  #\n      a: false #\na:\n  a: 0 #\n`;
      expect(edit(twice, [`x_y`, `a`, `capit_new`], `a`)).toBe(twice.replace(`      a: a\t#\n`, `      a: a\t#\n    capit_new: a\n`));
      expect(edit(twice, [`x_y`, `a`], undefined)).toBe(twice.replace(`  a:\n    key: #\n      a: a\t#\n`, ``));
      expect(edit(twice, [`x_y`, `x_y`], undefined)).toBe(twice.replace(`  x_y: #\n    key:\n      a: null #\n`, ``));
    });

    it(`drops the lines of a deleted sequence the library re-indents, and keeps the comment above it`, () => {
      const text = `# top comment\nopenrouter:\n    - - ${KEY}\n      - null\n      - - false\n        - null\n`;
      expect(edit(text, [`openrouter`], undefined)).toBe(`# top comment\n{}\n`);
    });

    it(`keeps a comment on a mapping's key line and CRLF`, () => {
      const text = `a:    # parent\r\n  b: 1   # child\r\n  c: 2  # other\r\n`;
      expect(edit(text, [`a`, `c`], 3)).toBe(`a:    # parent\r\n  b: 1   # child\r\n  c: 3  # other\r\n`);
    });
  });

  describe(`edits on the source tokens`, () => {
    const edit = (text: string, path: string[], value: unknown): string => {
      const doc = openDocument(`yaml`, text, `/c.yaml`);
      doc.set(path, value);
      return doc.text();
    };

    it(`keeps a scalar's quoting, or quotes a string that would read back as another type`, () => {
      expect(edit(`a: 'old'  # c\nb: 1\n`, [`a`], `it's`)).toBe(`a: 'it''s'  # c\nb: 1\n`);
      expect(edit(`a: "5"\n`, [`a`], `6`)).toBe(`a: "6"\n`);
      expect(edit(`a: x\n`, [`a`], `true`)).toBe(`a: "true"\n`);
      expect(edit(`a: x\n`, [`a`], 7)).toBe(`a: 7\n`);
    });

    it(`keeps an anchor on the edited scalar, and its alias follows`, () => {
      const doc = openDocument(`yaml`, `a: &x 1\nb: *x\n`, `/c.yaml`);
      doc.set([`a`], 2);
      expect(doc.text()).toBe(`a: &x 2\nb: *x\n`);
      expect(doc.read([`b`])).toBe(2);
    });

    it(`replaces a block scalar by its lines`, () => {
      expect(edit(`a: 1\nb: |\n  text\n  more\nc: 2\n`, [`b`], `short`)).toBe(`a: 1\nb: short\nc: 2\n`);
    });

    it(`edits inside a flow mapping keep it a flow mapping, with the comment after it`, () => {
      const text = `a: 1\nc: {enabled: true, threshold: 0.85}  # c\nz: 2\n`;
      expect(edit(text, [`c`, `enabled`], false)).toBe(text.replace(`enabled: true`, `enabled: false`));
      expect(edit(`c: { e: true }\n`, [`c`, `x`, `y`], `a,b`)).toBe(`c: { e: true, x: { y: "a,b" } }\n`);
      expect(edit(`a: 1\nc: {e: true}\n`, [`c`, `e`], undefined)).toBe(`a: 1\nc: {}\n`);
    });

    it(`a file left as {} by a delete gets block mappings again`, () => {
      const doc = openDocument(`yaml`, `# top\nonly: 1\n`, `/c.yaml`);
      doc.delete([`only`]);
      expect(doc.text()).toBe(`# top\n{}\n`);
      doc.set([`c`, `e`], 1);
      expect(doc.text()).toBe(`# top\nc:\n  e: 1\n`);
    });
  });

  describe(`edits inside block sequences (Continue's models list)`, () => {
    const models = `models:
  - name: Claude   # first
    provider: anthropic
    model: claude-sonnet-4-5   # pinned
  - name: OR
    provider: openrouter   # x
    model: openai/gpt-4o-mini
# tail
`;
    const open = (text = models) => openDocument(`yaml`, text, `/config.yaml`);

    it(`sets a scalar inside an item and keeps every other byte`, () => {
      const doc = open();
      doc.set([`models`, 1, `model`], `openai/gpt-4o`);
      expect(doc.text()).toBe(models.replace(`model: openai/gpt-4o-mini`, `model: openai/gpt-4o`));
    });

    it(`adds keys to an item, indented like its siblings, and deleting them gives the original bytes back`, () => {
      const doc = open();
      doc.set([`models`, 1, `apiKey`], KEY);
      doc.set([`models`, 1, `apiBase`], `https://openrouter.ai/api/v1`);
      expect(doc.text()).toBe(models.replace(`gpt-4o-mini\n`, `gpt-4o-mini\n    apiKey: ${KEY}\n    apiBase: https://openrouter.ai/api/v1\n`));
      doc.set([`models`, 0, `model`], `claude-opus-4`);
      doc.delete([`models`, 1, `apiKey`]);
      doc.delete([`models`, 1, `apiBase`]);
      // (after an unrelated edit: a document that means what it did at first is given back as read anyway)
      expect(doc.text()).toBe(models.replace(`claude-sonnet-4-5   # pinned`, `claude-opus-4       # pinned`));
    });

    it(`deletes a key inside an item; the first key's sibling moves up beside the dash`, () => {
      const doc = open();
      doc.delete([`models`, 0, `provider`]);
      expect(doc.text()).toBe(models.replace(`    provider: anthropic\n`, ``));
      const first = open();
      first.delete([`models`, 0, `name`]);
      expect(first.text()).toBe(models.replace(`  - name: Claude   # first\n    provider: anthropic\n`, `  - provider: anthropic\n`));
      const noted = open(models.replace(`    provider: anthropic`, `    # why\n    provider: anthropic`));
      noted.delete([`models`, 0, `name`]);
      expect(noted.text()).toBe(models.replace(`  - name: Claude   # first\n`, `  -\n    # why\n`));
    });

    it(`appends an item in block style at the items' indent; deleting it gives the original bytes back`, () => {
      const doc = open();
      doc.set([`models`, 2], {name: `capit openrouter`, provider: `openrouter`, model: `x`, apiKey: KEY, roles: [`chat`]});
      expect(doc.text()).toBe(models.replace(`# tail`, `  - name: capit openrouter\n    provider: openrouter\n    model: x\n    apiKey: ${KEY}\n    roles:\n      - chat\n# tail`));
      doc.set([`models`, 0, `model`], `claude-opus-4`);
      doc.delete([`models`, 2]);
      expect(doc.text()).toBe(models.replace(`claude-sonnet-4-5   # pinned`, `claude-opus-4       # pinned`));
    });

    it(`follows a file's own dash column, spacing after the dash and CRLF`, () => {
      const text = `models:\r\n-   name: a    # c\r\n    model: m\r\nz: 1\r\n`;
      const doc = open(text);
      doc.set([`models`, 1], {name: `b`, model: `n`});
      expect(doc.text()).toBe(`models:\r\n-   name: a    # c\r\n    model: m\r\n-   name: b\r\n    model: n\r\nz: 1\r\n`);
      doc.set([`z`], 2);
      doc.delete([`models`, 1]);
      expect(doc.text()).toBe(text.replace(`z: 1`, `z: 2`));
    });

    it(`deletes an item by its lines; comment lines inside it stay`, () => {
      const doc = open(models.replace(`    provider: anthropic`, `    # why\n    provider: anthropic`));
      doc.delete([`models`, 0]);
      expect(doc.text()).toBe(`models:\n    # why\n${models.slice(models.indexOf(`  - name: OR`))}`);
    });
  });

  it.each([`a: [1\n`, `- a\n- b\n`, `just a string\n`, `a: 1\na: 2\n`, `a: 1\n---\nb: 2\n`])(`refuses %j`, src => {
    expect(() => openDocument(`yaml`, src, `/c.yaml`)).toThrow(UnparseableFileError);
  });
});

describe(`hostile documents are refused in one line, never a RangeError`, () => {
  function refusal(format: `json` | `jsonc` | `yaml` | `dotenv`, text: string): UnparseableFileError {
    try {
      openDocument(format, text, `/agent/file`);
    } catch (error) {
      expect(error).toBeInstanceOf(UnparseableFileError);
      expect((error as Error).message).not.toContain(`\n`);
      return error as UnparseableFileError;
    }
    throw new Error(`expected a refusal`);
  }

  it.each([`json`, `jsonc`] as const)(`%s: a duplicate key, at the top or nested, names the key and both lines`, format => {
    expect(refusal(format, `{\n  "openrouter": {"key": "a"},\n  "openrouter": {"key": "b"}\n}\n`).message)
      .toMatch(/duplicate key openrouter on lines 2 and 3/);
    expect(refusal(format, `{"provider": {"openrouter": {\n"key": "a",\n"key": "b"}}}`).message)
      .toMatch(/duplicate key provider\.openrouter\.key on lines 2 and 3/);
    expect(refusal(format, `{"a": 1, "a": 2}`).message).toMatch(/duplicate key a on line 1, twice/);
  });

  it(`json: the same name in sibling objects or an array of objects is no duplicate`, () => {
    const doc = openDocument(`json`, `{"a": {"key": 1}, "b": {"key": 2}, "list": [{"key": 1}, {"key": 2}]}`, `/f.json`);
    expect(doc.read([`b`, `key`])).toBe(2);
  });

  it.each([`json`, `jsonc`] as const)(`%s: nesting 10,000 levels deep`, format => {
    expect(refusal(format, `{"a": ${`[`.repeat(10_000)}${`]`.repeat(10_000)}}`).message).toMatch(/nested more than 100 levels deep/);
    expect(refusal(format, `{"a": ${`{"b": `.repeat(10_000)}1${`}`.repeat(10_000)}}`).message).toMatch(/nested more than 100 levels deep/);
  });

  it(`json: 100 levels are fine, brackets inside strings do not count`, () => {
    expect(openDocument(`json`, `{"a": ${`[`.repeat(99)}${`]`.repeat(99)}}`, `/f.json`).read([`a`])).toBeDefined();
    expect(openDocument(`json`, `{"a": "${`[`.repeat(500)}"}`, `/f.json`).read([`a`])).toHaveLength(500);
  });

  it(`yaml: a duplicate key names the key and line; deep flow or block nesting is refused`, () => {
    expect(refusal(`yaml`, `model:\n  provider: a\n  provider: b\n`).message).toMatch(/duplicate key "provider" at line 3/);
    expect(refusal(`yaml`, `a: ${`[`.repeat(10_000)}${`]`.repeat(10_000)}\n`).message).toMatch(/nested/);
    expect(refusal(`yaml`, `a: ${`[`.repeat(150)}${`]`.repeat(150)}\n`).message).toMatch(/nested more than 100 levels deep/);
    const block = Array.from({length: 150}, (_, i) => `${` `.repeat(i)}k${i}:`).join(`\n`);
    expect(refusal(`yaml`, `${block}\n`).message).toMatch(/nested more than 100 levels deep/);
  });

  it(`yaml: aliases that expand to billions of values ("billion laughs") are refused at once; a few aliases are fine`, () => {
    let bomb = `a0: &a0 [x, x, x, x, x, x, x, x, x]\n`;
    for (let i = 1; i < 12; i++) bomb += `a${i}: &a${i} [${Array(9).fill(`*a${i - 1}`).join(`, `)}]\n`;
    expect(refusal(`yaml`, bomb).message).toMatch(/aliases expand to more than 100,000 values/);
    const doc = openDocument(`yaml`, `base: &base {provider: openrouter}\nmodel: *base\n`, `/c.yaml`);
    expect(doc.read([`model`, `provider`])).toBe(`openrouter`);
  });

  it(`dotenv: a variable set twice is read and written at its last assignment (what the loaders use)`, () => {
    const doc = openDocument(`dotenv`, `OPENROUTER_API_KEY=old-1\nOPENROUTER_API_KEY=old-2\n`, `/.env`);
    expect(doc.read([`OPENROUTER_API_KEY`])).toBe(`old-2`);
    doc.set([`OPENROUTER_API_KEY`], KEY);
    expect(doc.text()).toBe(`OPENROUTER_API_KEY=old-1\nOPENROUTER_API_KEY=${KEY}\n`);
  });
});
