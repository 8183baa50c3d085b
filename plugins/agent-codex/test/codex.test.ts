import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import {describeAgentConformance} from 'capit/testing';
import codex, {codexHome, codexKeySources, codexModel} from '../src/index.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(model?: unknown): PlanInput {
  return {
    platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}},
    secret: KEY, keyName: `codex-0000aaaa`,
    read: (file: string, p: JsonPath) => (file === `config` && p.join(`.`) === `model` ? model : undefined),
  };
}

describeAgentConformance(codex, {platforms: [`openrouter`, `aihubmix`]});

describe(`codex (pure)`, () => {
  it(`resolves CODEX_HOME (relative to the working directory) or ~/.codex, on every platform`, () => {
    expect(codexHome(envInfo())).toBe(`/home/u/.codex`);
    expect(codexHome(envInfo({env: {CODEX_HOME: `/opt/codex`}}))).toBe(`/opt/codex`);
    expect(codexHome(envInfo({env: {CODEX_HOME: `rel`}}))).toBe(`/work/proj/rel`);
    expect(codex.files(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`}), undefined)).toEqual([
      {id: `config`, path: `C:\\Users\\u\\.codex\\config.toml`, format: `toml`, secret: true},
    ]);
  });

  it(`selects capit's own provider table (Responses API, bearer token) and keeps the user's model`, () => {
    const plan = codex.plan(input(`openai/gpt-5`), envInfo(), undefined);
    expect(plan.edits).toEqual([
      {file: `config`, op: `set`, path: [`model_provider`], value: `capit-openrouter`},
      {file: `config`, op: `set`, path: [`model_providers`, `capit-openrouter`], value: {
        name: `OpenRouter (capit)`, base_url: `https://openrouter.ai/api/v1`, wire_api: `responses`, experimental_bearer_token: KEY,
      }},
    ]);
    expect(plan.notes!.join(`\n`)).not.toMatch(/model id/);
  });

  it(`says when Codex's model is not an OpenRouter id, without choosing one`, () => {
    expect(codex.plan(input(), envInfo(), undefined).notes!.join(`\n`)).toContain(`Codex's model (its built-in default) is not an OpenRouter model id`);
    expect(codex.plan(input(`gpt-5-codex`), envInfo(), undefined).notes!.join(`\n`)).toContain(`Codex's model (gpt-5-codex) is not an OpenRouter model id`);
    expect(codex.plan(input(`gpt-5-codex`), envInfo(), undefined).edits.some(e => e.path[0] === `model`)).toBe(false);
  });

  it(`supports openrouter and aihubmix (both serve the Responses API), with the reason for others`, () => {
    expect(codex.supports(`openrouter`)).toBe(true);
    expect(codex.supports(`aihubmix`)).toBe(true);
    expect(codex.supports(`acme`)).toMatch(/Responses API/);
  });

  it(`AIHubMix: its own provider table at its OpenAI-style base, and no note about plain model names`, () => {
    const plan = codex.plan({...input(`gpt-5.4`), platform: {id: `aihubmix`, displayName: `AIHubMix`, inferenceBaseUrls: {openai: `https://aihubmix.com/v1`}}}, envInfo(), undefined);
    expect(plan.edits).toEqual([
      {file: `config`, op: `set`, path: [`model_provider`], value: `capit-aihubmix`},
      {file: `config`, op: `set`, path: [`model_providers`, `capit-aihubmix`], value: {
        name: `AIHubMix (capit)`, base_url: `https://aihubmix.com/v1`, wire_api: `responses`, experimental_bearer_token: KEY,
      }},
    ]);
    expect(plan.notes).toEqual([`Restart Codex to use the new key`]);
  });

  it(`declares the token capit writes and the base URL it sends to, in config.toml`, () => {
    expect(codexKeySources(envInfo(), `openrouter`)).toEqual([
      {kind: `file`, path: `/home/u/.codex/config.toml`, format: `toml`, at: [`model_providers`, `capit-openrouter`, `experimental_bearer_token`], installs: true},
      {kind: `file`, path: `/home/u/.codex/config.toml`, format: `toml`, at: [`model_providers`, `capit-openrouter`, `base_url`], role: `baseUrl`},
    ]);
  });

  it(`reads the model only while capit's provider is selected and the id is an OpenRouter one`, async () => {
    const files = (values: Record<string, unknown>) => async (_f: unknown, at: JsonPath) => values[at.join(`.`)];
    expect(await codexModel(envInfo(), files({model: `openai/gpt-5`}), `openrouter`)).toEqual({model: `openai/gpt-5`, source: `/home/u/.codex/config.toml`});
    expect(await codexModel(envInfo(), files({model: `openai/gpt-5`, model_provider: `capit-openrouter`}), `openrouter`)).toMatchObject({model: `openai/gpt-5`});
    expect(await codexModel(envInfo(), files({model: `openai/gpt-5`, model_provider: `openai`}), `openrouter`)).toBeUndefined();
    expect(await codexModel(envInfo(), files({model: `gpt-5`}), `openrouter`)).toBeUndefined();
    expect(await codexModel(envInfo(), files({model: `gpt-5`, model_provider: `capit-aihubmix`}), `aihubmix`)).toMatchObject({model: `gpt-5`});
  });
});
