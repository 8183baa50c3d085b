import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';
import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import droid, {customModelId, entryIndex, factoryDir} from '../src/index.js';
import {issue, mode, onlyKey, read, restore, sandbox, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(customModels: unknown, platformId = `openrouter`): PlanInput {
  return {
    platform: {id: platformId, displayName: platformId === `openrouter` ? `OpenRouter` : `AIHubMix`, inferenceBaseUrls: {openai: `https://example.test/v1`}},
    secret: KEY, keyName: `droid-0000aaaa`,
    read: (file: string, p: JsonPath) => (file === `settings` && p.join(`.`) === `customModels` ? customModels : undefined),
  };
}

describeAgentConformance(droid, {platforms: [`openrouter`, `aihubmix`]});

describe(`droid (pure)`, () => {
  it(`finds ~/.factory under FACTORY_HOME_OVERRIDE or the home`, () => {
    expect(factoryDir(envInfo())).toBe(`/home/u/.factory`);
    expect(factoryDir(envInfo({env: {FACTORY_HOME_OVERRIDE: `/opt/f`}}))).toBe(`/opt/f/.factory`);
    expect(factoryDir(envInfo({platform: `win32`, home: `C:\\Users\\u`}))).toBe(`C:\\Users\\u\\.factory`);
  });

  it(`appends capit's entry after the user's custom models and selects it`, () => {
    const mine = {model: `gpt-5`, baseUrl: `https://api.openai.com/v1`, apiKey: `sk-fake-user-0000`, provider: `openai`};
    const plan = droid.plan(input([mine]), envInfo(), {index: {openrouter: 1, aihubmix: 1}});
    expect(plan.edits).toEqual([
      {file: `settings`, op: `set`, path: [`customModels`, 1], value: {
        model: `openai/gpt-4o-mini`, id: `custom:capit-openrouter`, displayName: `openai/gpt-4o-mini (OpenRouter, capped by capit)`,
        baseUrl: `https://example.test/v1`, apiKey: KEY, provider: `generic-chat-completion-api`,
      }},
      {file: `settings`, op: `set`, path: [`sessionDefaultSettings`, `model`], value: `custom:capit-openrouter`},
    ]);
  });

  it(`replaces its own entry in place, keeping the model and settings the user gave it`, () => {
    const own = {model: `anthropic/claude-sonnet-4.5`, id: customModelId(`openrouter`), apiKey: `sk-or-v1-old-fake`, maxOutputTokens: 2000};
    const plan = droid.plan(input([{model: `x`, provider: `openai`}, own]), envInfo(), {index: {openrouter: 1, aihubmix: 2}});
    expect(plan.edits[0]).toMatchObject({path: [`customModels`, 1], value: {model: `anthropic/claude-sonnet-4.5`, maxOutputTokens: 2000, apiKey: KEY}});
    expect(entryIndex([{id: `custom:capit-aihubmix`}], `aihubmix`)).toBe(0);
    expect(entryIndex(undefined, `aihubmix`)).toBe(0);
  });

  it(`names the entry capit writes as the key and base-URL sources, at its index`, () => {
    expect(droid.keySources(envInfo(), `aihubmix`, {index: {openrouter: 0, aihubmix: 3}})).toEqual([
      {kind: `file`, path: `/home/u/.factory/settings.json`, format: `jsonc`, at: [`customModels`, 3, `apiKey`], installs: true, checked: `binary: droid 0.225.2`},
      {kind: `file`, path: `/home/u/.factory/settings.json`, format: `jsonc`, at: [`customModels`, 3, `baseUrl`], role: `baseUrl`, note: expect.any(String), checked: `binary: droid 0.225.2`},
      // The default model of new sessions, set to capit's entry by the plan.
      {
        kind: `file`, path: `/home/u/.factory/settings.json`, format: `jsonc`, at: [`sessionDefaultSettings`, `model`],
        role: `selector`, selects: `custom:capit-aihubmix`, installs: true, note: expect.any(String), checked: `binary: droid 0.225.2`,
      },
    ]);
    expect(droid.supports(`no-such`)).toEqual(expect.any(String));
  });
});

const emulator = useEmulator();

describe(`capit openrouter 5 --agent droid`, () => {
  it(`keeps a commented settings.json except capit's entry and selection, writes it 0600, restores it exactly`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.factory`, `settings.json`);
    const text = [
      `{`,
      `  // my droid settings`,
      `  "model": "claude-opus-5",`,
      `  "customModels": [`,
      `    {"model": "gpt-5", "baseUrl": "https://api.openai.com/v1", "apiKey": "sk-fake-user-0000", "provider": "openai"}`,
      `  ],`,
      `  "sessionDefaultSettings": {"autonomyMode": "normal"}`,
      `}`,
      ``,
    ].join(`\n`);
    write(file, text, 0o644);

    const result = await issue(sb, `droid`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    const after = read(file);
    expect(after).toContain(`// my droid settings`);
    expect(after).toContain(`"sk-fake-user-0000"`);
    expect(mode(file)).toBe(0o600);
    const parsed = JSON.parse(after.replace(/^\s*\/\/.*$/m, ``)) as {customModels: Record<string, unknown>[]; sessionDefaultSettings: Record<string, unknown>};
    expect(parsed.customModels[1]).toMatchObject({id: `custom:capit-openrouter`, apiKey: key.key, baseUrl: emulator.current.openrouterBaseUrl, provider: `generic-chat-completion-api`});
    expect(parsed.sessionDefaultSettings).toEqual({autonomyMode: `normal`, model: `custom:capit-openrouter`});
    expect(result.stdout + result.stderr).not.toContain(key.key);

    const doctor = await restore(sb, `droid`);
    expect(doctor.exitCode, doctor.stderr).toBe(0);
    expect(read(file)).toBe(text);
  });

  it(`creates ~/.factory/settings.json when Droid never ran`, async () => {
    const sb = sandbox(emulator.current);
    expect((await issue(sb, `droid`)).exitCode).toBe(0);
    const file = path.join(sb.home, `.factory`, `settings.json`);
    expect(JSON.parse(read(file)).customModels[0].apiKey).toBe(onlyKey(emulator.current).key);
    expect(mode(file)).toBe(0o600);
    expect((await restore(sb, `droid`)).exitCode).toBe(0);
    expect(fs.existsSync(file)).toBe(false);
  });
});
