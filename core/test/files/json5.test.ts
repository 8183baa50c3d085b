import {describe, expect, it} from 'vitest';

import {openDocument} from '../../src/files/document.js';
import {UnparseableFileError} from '../../src/errors.js';

describe(`json5 (read only)`, () => {
  it(`reads what the agent's JSON5 parser reads: unquoted keys, single quotes, comments, trailing commas, a BOM`, () => {
    const doc = openDocument(`json5`, `\uFEFF// OpenClaw\n{models: {providers: {openrouter: {baseUrl: 'http://127.0.0.1:9/api/v1', /* x */ apiKey: "k",},},},}\n`, `/c/openclaw.json`);
    expect(doc.read([`models`, `providers`, `openrouter`, `baseUrl`])).toBe(`http://127.0.0.1:9/api/v1`);
    expect(doc.read([`models`, `providers`, `openrouter`, `apiKey`])).toBe(`k`);
    expect(doc.read([`models`, `providers`, `aihubmix`])).toBeUndefined();
    expect(doc.read([`constructor`])).toBeUndefined();
    expect(openDocument(`json5`, ``, `/c/empty.json`).read([`a`])).toBeUndefined();
  });

  it(`refuses what does not parse or is not an object, and never edits`, () => {
    expect(() => openDocument(`json5`, `{a: }`, `/c/bad.json`)).toThrow(UnparseableFileError);
    expect(() => openDocument(`json5`, `[1]`, `/c/array.json`)).toThrow(/expected an object/);
    expect(() => openDocument(`json5`, `{a:${`[`.repeat(150)}${`]`.repeat(150)}}`, `/c/deep.json`)).toThrow(/nested more than 100 levels/);
    const doc = openDocument(`json5`, `{a: 1}`, `/c/ok.json`);
    expect(() => doc.set([`a`], 2)).toThrow(/does not edit/);
    expect(doc.text()).toBe(`{a: 1}`);
  });
});
