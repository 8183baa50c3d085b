import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';
import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import qwen, {envName, qwenHome} from '../src/index.js';
import {capit, issue, mode, onlyKey, read, restore, sandbox, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(providers: unknown): PlanInput {
  return {
    platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://example.test/v1`}},
    secret: KEY, keyName: `qwen-0000aaaa`,
    read: (file: string, p: JsonPath) => (file === `settings` && p.join(`.`) === `modelProviders.openai` ? providers : undefined),
  };
}

describeAgentConformance(qwen, {platforms: [`openrouter`, `aihubmix`]});

describe(`qwen (pure)`, () => {
  it(`resolves QWEN_HOME or ~/.qwen`, () => {
    expect(qwenHome(envInfo())).toBe(`/home/u/.qwen`);
    expect(qwenHome(envInfo({env: {QWEN_HOME: `q`}}))).toBe(`/work/proj/q`);
    expect(qwen.files(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`}), {index: {}, installed: {}})[0]!.path).toBe(`C:\\Users\\u\\.qwen\\.env`);
  });

  it(`puts the key under capit's own variable in ~/.qwen/.env and appends an entry naming it, then selects it`, () => {
    const plan = qwen.plan(input([{id: `qwen3-coder-plus`, envKey: `DASHSCOPE_API_KEY`, baseUrl: `https://dashscope.example/v1`}]), envInfo(), {index: {openrouter: 1}, installed: {}});
    expect(plan.edits).toEqual([
      {file: `env`, op: `set`, path: [`CAPIT_OPENROUTER_API_KEY`], value: KEY},
      {file: `settings`, op: `set`, path: [`modelProviders`, `openai`, 1], value: {
        id: `qwen/qwen3-coder`, name: `qwen/qwen3-coder (OpenRouter, capped by capit)`, envKey: `CAPIT_OPENROUTER_API_KEY`, baseUrl: `https://example.test/v1`,
      }},
      {file: `settings`, op: `set`, path: [`security`, `auth`, `selectedType`], value: `openai`},
      {file: `settings`, op: `set`, path: [`model`, `name`], value: `qwen/qwen3-coder`},
    ]);
  });

  it(`keeps the model of its own entry on a second install`, () => {
    const plan = qwen.plan(input([{id: `openai/gpt-4o-mini`, envKey: envName(`openrouter`), baseUrl: `https://old.example/v1`}]), envInfo(), {index: {openrouter: 0}, installed: {openrouter: true}});
    expect(plan.edits[1]).toMatchObject({path: [`modelProviders`, `openai`, 0], value: {id: `openai/gpt-4o-mini`, baseUrl: `https://example.test/v1`}});
    expect(plan.edits[3]).toMatchObject({value: `openai/gpt-4o-mini`});
  });

  it(`lists the shell, the project .env files, ~/.qwen/.env (installs), ~/.env and settings env, in qwen's order`, () => {
    const sources = qwen.keySources(envInfo(), `openrouter`, {index: {openrouter: 2}, installed: {}}).filter(s => s.role !== `selector`);
    expect(sources.map(s => (s.kind === `env` ? `env:${s.name}` : `${s.path}:${s.at.join(`.`)}`) + (s.installs ? ` *` : ``) + (s.role === `baseUrl` ? ` (base)` : ``))).toEqual([
      `env:CAPIT_OPENROUTER_API_KEY`,
      `/work/proj/.qwen/.env:CAPIT_OPENROUTER_API_KEY`,
      `/work/proj/.env:CAPIT_OPENROUTER_API_KEY`,
      `/home/u/.qwen/.env:CAPIT_OPENROUTER_API_KEY *`,
      `/home/u/.env:CAPIT_OPENROUTER_API_KEY`,
      `/work/proj/.qwen/settings.json:env.CAPIT_OPENROUTER_API_KEY`,
      `/home/u/.qwen/settings.json:env.CAPIT_OPENROUTER_API_KEY`,
      `/work/proj/.qwen/settings.json:modelProviders (base)`,
      `/home/u/.qwen/settings.json:modelProviders.openai.2.baseUrl (base)`,
    ]);
    expect(sources.every(s => typeof s.checked === `string`)).toBe(true);
  });

  it(`declares model.name (capit's entry id) and security.auth.selectedType as selectors, the workspace's first`, () => {
    const detected = {index: {openrouter: 2}, installed: {openrouter: true}, model: {openrouter: `qwen/qwen3-coder`}};
    const selectors = qwen.keySources(envInfo(), `openrouter`, detected).filter(s => s.role === `selector`);
    expect(selectors.map(s => `${s.kind === `file` ? `${s.path}:${s.at.join(`.`)}` : ``}=${s.selects}${s.installs ? ` *` : ``}`)).toEqual([
      `/work/proj/.qwen/settings.json:model.name=qwen/qwen3-coder`,
      `/home/u/.qwen/settings.json:model.name=qwen/qwen3-coder *`,
      `/work/proj/.qwen/settings.json:security.auth.selectedType=openai`,
      `/home/u/.qwen/settings.json:security.auth.selectedType=openai *`,
    ]);
    // They name what the plan writes.
    const plan = qwen.plan(input([{id: `qwen/qwen3-coder`, envKey: envName(`openrouter`), baseUrl: `https://old.example/v1`}]), envInfo(), detected);
    expect(plan.edits).toContainEqual({file: `settings`, op: `set`, path: [`model`, `name`], value: `qwen/qwen3-coder`});
    expect(plan.edits).toContainEqual({file: `settings`, op: `set`, path: [`security`, `auth`, `selectedType`], value: `openai`});
    // Before capit's entry exists: the model id a new entry gets, as the plan writes it.
    const fresh = qwen.keySources(envInfo(), `aihubmix`, {index: {aihubmix: 0}, installed: {}}).filter(s => s.role === `selector` && s.kind === `file` && s.at[0] === `model`);
    expect(fresh.map(s => s.selects)).toEqual([`qwen3-coder-plus`, `qwen3-coder-plus`]);
    expect(qwen.plan({...input([]), platform: {id: `aihubmix`, displayName: `AIHubMix`, inferenceBaseUrls: {openai: `https://aihubmix.com/v1`}}}, envInfo(), {index: {aihubmix: 0}, installed: {}}).edits)
      .toContainEqual({file: `settings`, op: `set`, path: [`model`, `name`], value: `qwen3-coder-plus`});
    // capit run: the selectors beat the session variable (none marked as capit's own).
    const session = qwen.sessionEnv({platform: `openrouter`, secret: KEY, baseUrls: {openai: `https://example.test/v1`}}, envInfo(), detected);
    expect(typeof session === `object` && session.beatenBy!.map(s => s.role)).toEqual([`selector`, `selector`, `selector`, `selector`]);
    expect(typeof session === `object` && session.beatenBy!.some(s => s.installs)).toBe(false);
  });

  it(`capit run hands the session key through capit's variable only once capit's entry exists`, () => {
    const baseUrls = {openai: `https://example.test/v1`};
    expect(qwen.sessionEnv({platform: `openrouter`, secret: KEY, baseUrls}, envInfo(), {index: {openrouter: 0}, installed: {openrouter: true}})).toEqual({env: {CAPIT_OPENROUTER_API_KEY: KEY}, beatenBy: expect.any(Array)});
    expect(qwen.sessionEnv({platform: `openrouter`, secret: KEY, baseUrls}, envInfo(), {index: {openrouter: 0}, installed: {}})).toEqual(expect.stringContaining(`modelProviders`));
  });
});

const emulator = useEmulator();

describe(`capit openrouter 5 --agent qwen`, () => {
  it(`writes ~/.qwen/.env (0600) and settings.json, keeps comments and other entries, and restores both exactly`, async () => {
    const sb = sandbox(emulator.current, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-0000`});
    const dir = path.join(sb.home, `.qwen`);
    const settings = [
      `{`,
      `  // Qwen Code settings`,
      `  "modelProviders": {`,
      `    "openai": [`,
      `      {"id": "qwen3-coder-plus", "envKey": "DASHSCOPE_API_KEY", "baseUrl": "https://dashscope.example/v1"}`,
      `    ]`,
      `  },`,
      `  "security": {"auth": {"selectedType": "qwen-oauth"}},`,
      `  "model": {"name": "qwen3-coder-plus"},`,
      `  "$version": 4`,
      `}`,
      ``,
    ].join(`\n`);
    const dotenv = `# mine\nDASHSCOPE_API_KEY=sk-fake-dashscope-0000\n`;
    write(path.join(dir, `settings.json`), settings);
    write(path.join(dir, `.env`), dotenv, 0o600);

    const result = await issue(sb, `qwen`);
    expect(result.exitCode, result.stderr).toBe(0);
    // A stale OPENROUTER_API_KEY in the shell is not the variable capit's entry names: no warning.
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    expect(read(path.join(dir, `.env`))).toBe(`${dotenv}CAPIT_OPENROUTER_API_KEY=${key.key}\n`);
    expect(mode(path.join(dir, `.env`))).toBe(0o600);
    const after = read(path.join(dir, `settings.json`));
    expect(after).toContain(`// Qwen Code settings`);
    expect(after).not.toContain(key.key);
    const parsed = JSON.parse(after.replace(/^\s*\/\/.*$/m, ``)) as {modelProviders: {openai: unknown[]}; security: unknown; model: unknown};
    expect(parsed.modelProviders.openai[1]).toEqual({id: `qwen/qwen3-coder`, name: `qwen/qwen3-coder (OpenRouter, capped by capit)`, envKey: `CAPIT_OPENROUTER_API_KEY`, baseUrl: emulator.current.openrouterBaseUrl});
    expect(parsed.security).toEqual({auth: {selectedType: `openai`}});
    expect(parsed.model).toEqual({name: `qwen/qwen3-coder`});

    const doctor = await capit([`doctor`, `qwen`], {env: sb.env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key ${key.name}`);

    // The auth type switched back to Qwen's own login (model.name still capit's): another chain, judged on its own.
    const installed = read(path.join(dir, `settings.json`));
    write(path.join(dir, `settings.json`), installed.replace(`"selectedType": "openai"`, `"selectedType": "qwen-oauth"`));
    const switched = await capit([`doctor`, `qwen`], {env: sb.env});
    expect(switched.exitCode).toBe(1);
    expect(switched.stdout).toMatch(/SHADOWED by .*security\.auth\.selectedType.*selects another provider or entry than capit's/);
    write(path.join(dir, `settings.json`), installed);

    expect((await restore(sb, `qwen`)).exitCode).toBe(0);
    expect(read(path.join(dir, `settings.json`))).toBe(settings);
    expect(read(path.join(dir, `.env`))).toBe(dotenv);
  });

  it(`warns when the shell exports capit's variable (it wins over ~/.qwen/.env)`, async () => {
    const sb = sandbox(emulator.current, {CAPIT_OPENROUTER_API_KEY: `sk-or-v1-shell-fake-0000`});
    const result = await issue(sb, `qwen`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(warnings(result).join(`\n`)).toContain(`CAPIT_OPENROUTER_API_KEY`);
  });

  it(`creates ~/.qwen for a user who never ran Qwen Code`, async () => {
    const sb = sandbox(emulator.current);
    expect((await issue(sb, `qwen`)).exitCode).toBe(0);
    expect(mode(path.join(sb.home, `.qwen`))).toBe(0o700);
    expect((await restore(sb, `qwen`)).exitCode).toBe(0);
    expect(fs.existsSync(path.join(sb.home, `.qwen`, `.env`))).toBe(false);
  });
});
