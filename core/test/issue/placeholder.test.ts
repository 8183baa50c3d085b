import fs   from 'node:fs';
import path from 'node:path';
import {describe, expect, it} from 'vitest';
import {computeChanges, loadTargets} from '../../src/files/changes.js';
import {checkPlaceholderUse, newPlaceholder, withSecret} from '../../src/issue/placeholder.js';
import type {AgentFile, AgentPlan, FileEdit, FileFormat} from '../../src/plugin.js';
import {FAKE_KEY, tempDir} from '../files/helpers.js';

const TOKEN = newPlaceholder();

describe(`newPlaceholder`, () => {
  it(`is a fresh token each time, shaped like a key (no character a file format would quote or escape)`, () => {
    const a = newPlaceholder();
    const b = newPlaceholder();
    expect(a).not.toBe(b);
    expect(a).toMatch(/^[a-z0-9-]{32,}$/);
  });
});

describe(`withSecret`, () => {
  it(`replaces every occurrence of the token in string values, nested and inside longer strings, and nothing else`, () => {
    const secret = `sk-or-v1-fake-$&-$1-${`0`.repeat(8)}`;
    const edits: FileEdit[] = [
      {file: `a`, op: `set`, path: [`p`, 0], value: {type: `api`, key: TOKEN, headers: [`Bearer ${TOKEN}`, `x`], n: 1, ok: true, none: null}},
      {file: `b`, op: `set`, path: [`K`], value: `${TOKEN}|${TOKEN}`},
      {file: `b`, op: `delete`, path: [`OLD`]},
    ];
    const before = JSON.stringify(edits);
    const out = withSecret(edits, TOKEN, secret);
    expect(out).toEqual([
      {file: `a`, op: `set`, path: [`p`, 0], value: {type: `api`, key: secret, headers: [`Bearer ${secret}`, `x`], n: 1, ok: true, none: null}},
      {file: `b`, op: `set`, path: [`K`], value: `${secret}|${secret}`},
      {file: `b`, op: `delete`, path: [`OLD`]},
    ]);
    // The planned edits (what the preview showed) are left as they were.
    expect(JSON.stringify(edits)).toBe(before);
    expect(JSON.stringify(out)).not.toContain(TOKEN);
  });

  // The substitution is exact when the files come out byte for byte as if plan() had been given the real secret.
  const cases: {format: FileFormat; name: string; text: string; edit: (secret: string) => FileEdit}[] = [
    {format: `jsonc`, name: `auth.json`, text: `{\n  // mine\n  "other": {"type": "oauth"}\n}\n`, edit: s => ({file: `f`, op: `set`, path: [`openrouter`], value: {type: `api`, key: s}})},
    {format: `json`, name: `settings.json`, text: `{"env": {"A": "1"}}\n`, edit: s => ({file: `f`, op: `set`, path: [`env`, `TOKEN`], value: `Bearer ${s}`})},
    {format: `dotenv`, name: `.env`, text: `# keys\nOTHER=1\nOPENROUTER_API_KEY=old\n`, edit: s => ({file: `f`, op: `set`, path: [`OPENROUTER_API_KEY`], value: s})},
    {format: `yaml`, name: `config.yaml`, text: `model:\n  provider: openrouter # mine\n  api_key: old\n`, edit: s => ({file: `f`, op: `set`, path: [`model`, `api_key`], value: s})},
  ];
  const secrets = [FAKE_KEY, `sk-fake-with "quote" and \\ backslash`, `sk-fake $& #hash 'single'`, `12345`];
  for (const c of cases) {
    it(`gives the same ${c.format} bytes as planning with the real secret`, async () => {
      const dir = tempDir();
      const file: AgentFile = {id: `f`, path: path.join(dir, c.name), format: c.format, secret: true};
      fs.writeFileSync(file.path, c.text);
      const targets = await loadTargets([file]);
      for (const secret of secrets) {
        const direct = computeChanges(targets, [c.edit(secret)]);
        const substituted = computeChanges(targets, withSecret([c.edit(TOKEN)], TOKEN, secret));
        expect(substituted.map(x => x.newText), secret).toEqual(direct.map(x => x.newText));
        expect(substituted.map(x => x.written), secret).toEqual(direct.map(x => x.written));
      }
    });
  }
});

describe(`checkPlaceholderUse`, () => {
  const files: AgentFile[] = [
    {id: `auth`, path: `/x/auth.json`, format: `json`, secret: true},
    {id: `settings`, path: `/x/settings.json`, format: `json`, secret: false},
  ];
  const check = (plan: AgentPlan) => () => checkPlaceholderUse(`some-agent`, plan, files, TOKEN);
  const good: FileEdit = {file: `auth`, op: `set`, path: [`openrouter`], value: {type: `api`, key: TOKEN}};

  it(`accepts the token inside a string value of a secret file, beside edits without it`, () => {
    expect(check({edits: [good, {file: `settings`, op: `set`, path: [`model`], value: `x`}, {file: `settings`, op: `delete`, path: [`old`]}], notes: [`restart it`]})).not.toThrow();
    expect(check({edits: [{file: `auth`, op: `set`, path: [`k`], value: `Bearer ${TOKEN}`}]})).not.toThrow();
  });

  it.each([
    [`missing (the secret was reshaped)`, {edits: [{file: `auth`, op: `set`, path: [`k`], value: TOKEN.toUpperCase()}]}, /put the key nowhere/],
    [`only in a delete`, {edits: [{file: `auth`, op: `delete`, path: [`k`]}]}, /put the key nowhere/],
    [`in a note`, {edits: [good], notes: [`your key is ${TOKEN}`]}, /into a note/],
    [`in a path`, {edits: [good, {file: `auth`, op: `set`, path: [`keys`, TOKEN], value: 1}]}, /into the path of an edit in "auth"/],
    [`in a delete path`, {edits: [good, {file: `auth`, op: `delete`, path: [TOKEN]}]}, /into the path of an edit/],
    [`in an object key`, {edits: [{file: `auth`, op: `set`, path: [`k`], value: {[TOKEN]: TOKEN}}]}, /into an object key in "auth"/],
    [`in a file not marked secret`, {edits: [good, {file: `settings`, op: `set`, path: [`k`], value: [TOKEN]}]}, /into "settings", a file not marked secret/],
  ] as [string, AgentPlan, RegExp][])(`refuses the token %s, loudly, as a plugin failure`, (_what, plan, message) => {
    let error: unknown;
    try {
      check(plan)();
    } catch (e) {
      error = e;
    }
    expect(error).toMatchObject({code: `CAPIT_PLUGIN_FAILED`, message: expect.stringMatching(message)});
    expect((error as Error).message).toMatch(/^\[plugin:some-agent\] .*nothing was created or changed\)$/);
    expect((error as Error).message).not.toContain(TOKEN);
  });
});
