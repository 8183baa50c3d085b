import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';
import {parse} from 'yaml';

import {describeAgentConformance} from 'capit/testing';
import cn, {modelIndex, usedModelIndex} from '../src/index.js';
import {capit, issue, mode, onlyKey, read, restore, sandbox, useEmulator, write} from '../../../test/support/agent-harness.js';

describeAgentConformance(cn, {platforms: [`openrouter`, `aihubmix`]});

describe(`continue (pure)`, () => {
  it(`keys the entry capit added before, else the first openrouter model, else a new one at the end`, () => {
    expect(modelIndex(undefined, `openrouter`)).toEqual({index: 0, exists: false});
    const models = [{name: `a`, provider: `anthropic`}, {name: `b`, provider: `openrouter`}, {name: `capit openrouter`, provider: `openrouter`}];
    expect(modelIndex(models, `openrouter`)).toEqual({index: 2, exists: true});
    expect(modelIndex(models.slice(0, 2), `openrouter`)).toEqual({index: 1, exists: true});
    expect(modelIndex(models.slice(0, 2), `aihubmix`)).toEqual({index: 2, exists: false});
  });

  it(`finds the model cn uses: the selected chat model, else the first chat model (capit's new entry counted)`, () => {
    const models = [{name: `edit only`, chat: false}, {name: `mine`, chat: true}, {model: `unnamed`, chat: true}, {name: `capit openrouter`, chat: true}];
    expect(usedModelIndex({models}, 3, `capit openrouter`)).toBe(1);
    expect(usedModelIndex({models, selected: `capit openrouter`}, 3, `capit openrouter`)).toBe(3);
    expect(usedModelIndex({models, selected: `unnamed`}, 3, `capit openrouter`)).toBe(2);
    // A selection cn no longer lists, or one that is not a chat model, falls back to the first chat model.
    expect(usedModelIndex({models, selected: `gone`}, 3, `capit openrouter`)).toBe(1);
    expect(usedModelIndex({models, selected: `edit only`}, 3, `capit openrouter`)).toBe(1);
    // Before the install: capit's entry goes at the end, and only a selection of it makes it win.
    expect(usedModelIndex({models: models.slice(0, 1)}, 1, `capit openrouter`)).toBe(1);
    expect(usedModelIndex({models: undefined, selected: `capit openrouter`}, 0, `capit openrouter`)).toBe(0);
    expect(usedModelIndex({models: models.slice(0, 3), selected: `capit openrouter`}, 3, `capit openrouter`)).toBe(3);
  });
});

describe(`continue (capit CLI)`, () => {
  const emulator = useEmulator();

  it(`keys the user's OpenRouter model in config.yaml in place (comments and order kept, 0600) and restores exactly`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.continue`, `config.yaml`);
    const before = [
      `# my Continue config`,
      `name: Local`,
      `version: 1.0.0`,
      `schema: v1`,
      `models:`,
      `  - name: Sonnet # via OpenRouter`,
      `    provider: openrouter`,
      `    model: anthropic/claude-sonnet-4.5`,
      `    apiKey: \${{ secrets.OPENROUTER_API_KEY }}`,
      `  - name: Local`,
      `    provider: ollama`,
      `    model: llama3`,
      ``,
    ].join(`\n`);
    write(file, before, 0o644);
    const result = await issue(sb, `continue`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    const text = read(file);
    expect(text).toContain(`# my Continue config`);
    expect(text).toContain(`- name: Sonnet # via OpenRouter`);
    const doc = parse(text);
    expect(doc.models[0]).toEqual({name: `Sonnet`, provider: `openrouter`, model: `anthropic/claude-sonnet-4.5`, apiKey: key.key, apiBase: emulator.current.openrouterBaseUrl});
    expect(doc.models[1]).toEqual({name: `Local`, provider: `ollama`, model: `llama3`});
    expect(mode(file)).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(key.key);

    const doctor = await capit([`doctor`, `continue`], {env: sb.env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key ${key.name}`);

    expect((await restore(sb, `continue`)).exitCode).toBe(0);
    expect(read(file)).toBe(before);
    expect(mode(file)).toBe(0o644);
  });

  it(`creates config.yaml with one capit model when there is none, and restore removes it`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.continue`, `config.yaml`);
    const result = await issue(sb, `continue`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    const doc = parse(read(file));
    expect(doc).toMatchObject({schema: `v1`, models: [{name: `capit openrouter`, provider: `openrouter`, apiKey: key.key, apiBase: emulator.current.openrouterBaseUrl}]});
    expect((await restore(sb, `continue`)).exitCode).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });

  it(`refuses a models: that is not a list (the user's value), writing nothing and creating no key`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.continue`, `config.yaml`);
    write(file, `name: Local\nmodels: 5\n`);
    const result = await issue(sb, `continue`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/models/);
    expect(read(file)).toBe(`name: Local\nmodels: 5\n`);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it(`a Continue Hub block (uses:) before capit's model is the model cn uses: warned at install, SHADOWED in doctor`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.continue`, `config.yaml`);
    write(file, `name: a\nversion: 1.0.0\nschema: v1\nmodels:\n  - uses: anthropic/claude-sonnet\n`);
    const result = await issue(sb, `continue`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toMatch(/warning: .*\(models\.0\.uses\) is set and wins over what capit wrote/);
    const doctor = await capit([`doctor`, `continue`], {env: sb.env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/SHADOWED by ~\/\.continue\/config\.yaml \(models\.0\.uses\)/);
  });
});
