import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import {describeAgentConformance} from 'capit/testing';
import codex, {codexHome, codexKeySources, codexModel} from '../src/index.js';
import {capit, issue, mode, onlyKey, read, restore, sandbox, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

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
      {kind: `file`, path: `/home/u/.codex/config.toml`, format: `toml`, at: [`model_providers`, `capit-openrouter`, `experimental_bearer_token`], installs: true, checked: `binary: codex 0.171.0`},
      {kind: `file`, path: `/home/u/.codex/config.toml`, format: `toml`, at: [`model_providers`, `capit-openrouter`, `base_url`], role: `baseUrl`, checked: `binary: codex 0.171.0`},
      // The provider Codex uses: the id the plan writes into model_provider.
      {
        kind: `file`, path: `/home/u/.codex/config.toml`, format: `toml`, at: [`model_provider`], role: `selector`, selects: `capit-openrouter`,
        installs: true, note: expect.stringContaining(`--profile`), checked: `binary: codex 0.171.0`,
      },
    ]);
    expect(codex.plan(input(`openai/gpt-5`), envInfo()).edits[0]).toEqual({file: `config`, op: `set`, path: [`model_provider`], value: `capit-openrouter`});
  });

  it(`capit run refuses Codex with the user-facing sentence`, () => {
    const refusal = codex.sessionEnv!({platform: `aihubmix`, secret: KEY, baseUrls: {openai: `https://aihubmix.com/v1`}}, envInfo(), undefined);
    expect(refusal).toEqual(expect.stringContaining(`use: capit aihubmix <usd> --agent codex`));
  });

  it(`warns about a legacy top-level profile, which Codex 0.171.0 refuses to load, with the fix`, () => {
    const withProfile: PlanInput = {...input(`openai/gpt-5`), read: (file, p) => file === `config` && p.join(`.`) === `profile` ? `fast` : undefined};
    const notes = codex.plan(withProfile, envInfo()).notes!.join(`\n`);
    expect(notes).toContain(`profile = "fast"`);
    expect(notes).toContain(`fast.config.toml`);
    expect(codex.plan(input(`openai/gpt-5`), envInfo()).notes!.join(`\n`)).not.toContain(`legacy`);
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

const emulator = useEmulator();

describe(`capit openrouter 5 --agent codex`, () => {
  const userConfig = [
    `# my Codex settings`,
    `model = "openai/gpt-5"\t# tab before the comment`,
    ``,
    `[projects."/home/u/proj"]`,
    `trust_level = "trusted"`,
    ``,
  ].join(`\n`);

  it(`adds capit's provider to config.toml (0600), keeps every other byte, and restores it exactly`, async () => {
    const sb = sandbox(emulator.current, {CODEX_HOME: undefined});
    const file = path.join(sb.home, `.codex`, `config.toml`);
    write(file, userConfig);
    const result = await issue(sb, `codex`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    expect(read(file)).toBe([
      `# my Codex settings`, `model = "openai/gpt-5"\t# tab before the comment`, `model_provider = "capit-openrouter"`, ``,
      `[projects."/home/u/proj"]`, `trust_level = "trusted"`, ``,
      `[model_providers.capit-openrouter]`, `name = "OpenRouter (capit)"`, `base_url = "${emulator.current.openrouterBaseUrl}"`,
      `wire_api = "responses"`, `experimental_bearer_token = "${key.key}"`, ``,
    ].join(`\n`));
    expect(mode(file)).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(key.key);
    // `capit why` reads the key back from the TOML file and probes it with its own secret.
    const why = await capit([`why`, `codex`, `--json`], {env: sb.env});
    expect(why.exitCode, why.stderr).toBe(0);
    expect(why.stdout + why.stderr).not.toContain(key.key);
    expect(JSON.parse(why.stdout)[0]).toMatchObject({agent: `codex`, platform: `openrouter`, keyName: key.name, class: `fine`});
    expect(emulator.current.state.requests.some(r => r.path === `/api/v1/key` && r.authorization === `Bearer ${key.key}`)).toBe(true);
    const restored = await restore(sb, `codex`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(read(file)).toBe(userConfig);
    expect(mode(file)).toBe(0o644);
  });

  it(`restore after the user edited config.toml takes out capit's edits and keeps the user's new line`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.codex`, `config.toml`);
    write(file, userConfig);
    expect((await issue(sb, `codex`)).exitCode).toBe(0);
    write(file, `${read(file)}\n[mcp_servers.docs]\ncommand = "npx"\n`, 0o600);
    const restored = await restore(sb, `codex`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    const after = read(file);
    expect(after).not.toContain(`capit-openrouter`);
    expect(after).not.toContain(`sk-or-v1`);
    expect(after.startsWith(userConfig.trimEnd())).toBe(true);
    expect(after).toContain(`[mcp_servers.docs]\ncommand = "npx"\n`);
  });

  it(`refuses a config.toml that does not parse, before any key is created`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.codex`, `config.toml`);
    write(file, `model = "a"\nmodel = "b"\n`);
    const result = await issue(sb, `codex`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toMatch(/config\.toml.*duplicate key/);
    expect(emulator.current.state.keys.size).toBe(0);
    expect(read(file)).toBe(`model = "a"\nmodel = "b"\n`);
  });
});
