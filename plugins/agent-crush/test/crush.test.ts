import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';
import type {AgentEnvironment, PlanInput} from 'capit/plugin';
import crush, {dataConfig, globalConfig} from '../src/index.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(platformId: string): PlanInput {
  return {
    platform: {id: platformId, displayName: platformId === `openrouter` ? `OpenRouter` : `AIHubMix`, inferenceBaseUrls: {openai: `https://example.test/v1`}},
    secret: KEY, keyName: `crush-0000aaaa`, read: () => undefined,
  };
}

describeAgentConformance(crush, {platforms: [`openrouter`, `aihubmix`]});

describe(`crush (pure)`, () => {
  it(`finds the data and global configs the way Crush's load.go does`, () => {
    expect(dataConfig(envInfo())).toBe(`/home/u/.local/share/crush/crush.json`);
    expect(dataConfig(envInfo({env: {XDG_DATA_HOME: `/x`}}))).toBe(`/x/crush/crush.json`);
    expect(dataConfig(envInfo({env: {CRUSH_GLOBAL_DATA: `/d`, XDG_DATA_HOME: `/x`}}))).toBe(`/d/crush.json`);
    expect(dataConfig(envInfo({platform: `win32`, home: `C:\\Users\\u`, env: {LOCALAPPDATA: `C:\\L`}}))).toBe(`C:\\L\\crush\\crush.json`);
    expect(globalConfig(envInfo())).toBe(`/home/u/.config/crush/crush.json`);
    expect(globalConfig(envInfo({env: {CRUSH_GLOBAL_CONFIG: `/g`}}))).toBe(`/g/crush.json`);
  });

  it(`sets the built-in OpenRouter provider's api_key and base_url`, () => {
    expect(crush.plan(input(`openrouter`), envInfo(), undefined).edits).toEqual([
      {file: `data`, op: `set`, path: [`providers`, `openrouter`, `api_key`], value: KEY},
      {file: `data`, op: `set`, path: [`providers`, `openrouter`, `base_url`], value: `https://example.test/v1`},
    ]);
  });

  it(`sets Crush's built-in AIHubMix provider the same way`, () => {
    expect(crush.plan(input(`aihubmix`), envInfo(), undefined).edits).toEqual([
      {file: `data`, op: `set`, path: [`providers`, `aihubmix`, `api_key`], value: KEY},
      {file: `data`, op: `set`, path: [`providers`, `aihubmix`, `base_url`], value: `https://example.test/v1`},
    ]);
    expect(crush.supports(`no-such`)).toEqual(expect.any(String));
  });

  it(`ranks project configs over the data config, and the environment below every config`, () => {
    const sources = crush.keySources!(envInfo(), `openrouter`, undefined);
    expect(sources.filter(s => s.role !== `baseUrl`).map(s => (s.kind === `env` ? `env:${s.name}` : s.path) + (s.installs ? ` *` : ``))).toEqual([
      `/work/proj/.crush.json`,
      `/work/proj/crush.json`,
      `/home/u/.local/share/crush/crush.json *`,
      `/home/u/.config/crush/crush.json`,
      `env:CRUSH_OPENROUTER_API_KEY`,
      `env:OPENROUTER_API_KEY`,
    ]);
    expect(sources.filter(s => s.role === `baseUrl`).map(s => s.kind === `file` && s.path)).toEqual([
      `/work/proj/.crush.json`, `/work/proj/crush.json`, `/home/u/.local/share/crush/crush.json`, `/home/u/.config/crush/crush.json`,
    ]);
    expect(crush.keySources!(envInfo(), `aihubmix`, undefined).filter(s => s.kind === `env`).map(s => s.kind === `env` && s.name)).toEqual([`CRUSH_AIHUBMIX_API_KEY`, `AIHUBMIX_API_KEY`]);
  });

  it(`reads the large model of the winning config when its provider is the platform`, async () => {
    const files: Record<string, unknown> = {
      '/work/proj/crush.json': {models: {large: {model: `anthropic/claude-sonnet-4.5`, provider: `openrouter`, max_tokens: 8000}}},
      '/home/u/.local/share/crush/crush.json': {models: {large: {model: `gpt-5`, provider: `openai`}}},
    };
    const read = async (file: {path: string}, at: readonly (string | number)[]) => at.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k as string], files[file.path]);
    expect(await crush.model!(envInfo(), undefined, read, `openrouter`)).toEqual({
      model: `anthropic/claude-sonnet-4.5`, maxOutputTokens: 8000, source: `/work/proj/crush.json`, outputTokensSetting: expect.any(String),
    });
    delete files[`/work/proj/crush.json`];
    expect(await crush.model!(envInfo(), undefined, read, `openrouter`)).toBeUndefined();
  });

  it(`capit run uses CRUSH_OPENROUTER_API_KEY, beaten by any config with an api_key, and moved by any config's base_url`, () => {
    const session = crush.sessionEnv!({platform: `openrouter`, secret: KEY, baseUrls: {openai: `https://example.test/v1`}}, envInfo(), undefined);
    expect(session).toMatchObject({env: {CRUSH_OPENROUTER_API_KEY: KEY}});
    const beatenBy = typeof session === `object` ? session.beatenBy! : [];
    const files = [`.crush.json`, `crush.json`, `crush.json`, `crush.json`];
    expect(beatenBy.filter(s => s.role !== `baseUrl`).map(s => s.kind === `file` && path.basename(s.path))).toEqual(files);
    expect(beatenBy.filter(s => s.role === `baseUrl`).map(s => s.kind === `file` && path.basename(s.path))).toEqual(files);
    expect(beatenBy.every(s => !s.installs)).toBe(true);
  });
});
