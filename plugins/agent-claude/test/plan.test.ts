import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, PlanInput} from 'capit/plugin';
import claude, {claudeConfigDir, claudeKeySources, claudeManagedSettingsPaths} from '../src/index.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(platformId = `openrouter`, anthropic: string | null = `https://openrouter.ai/api`): PlanInput {
  return {
    platform: {id: platformId, displayName: platformId, inferenceBaseUrls: {openai: `https://x.example/v1`, ...(anthropic ? {anthropic} : {})}},
    secret: KEY, keyName: `claude-0000aaaa`, read: () => undefined,
  };
}

describe(`claude files`, () => {
  it(`uses ~/.claude/settings.json on Linux and macOS`, () => {
    expect(claude.files(envInfo())).toEqual([{id: `settings`, path: `/home/u/.claude/settings.json`, format: `json`, secret: true}]);
    expect(claude.files(envInfo({platform: `darwin`, home: `/Users/u`}))[0]!.path).toBe(`/Users/u/.claude/settings.json`);
  });

  it(`uses %USERPROFILE%\\.claude on Windows`, () => {
    expect(claude.files(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\proj`}))[0]!.path).toBe(`C:\\Users\\u\\.claude\\settings.json`);
  });

  it(`honours CLAUDE_CONFIG_DIR (relative to the current directory when relative)`, () => {
    expect(claude.files(envInfo({env: {CLAUDE_CONFIG_DIR: `/etc/cc`}}))[0]!.path).toBe(`/etc/cc/settings.json`);
    expect(claudeConfigDir(envInfo({env: {CLAUDE_CONFIG_DIR: `cfg`}}))).toBe(`/work/proj/cfg`);
    expect(claudeConfigDir(envInfo({env: {CLAUDE_CONFIG_DIR: `  `}}))).toBe(`/home/u/.claude`);
  });
});

describe(`claude plan`, () => {
  it(`sets the three env entries one by one, with the platform's Anthropic base`, () => {
    const plan = claude.plan(input(), envInfo());
    expect(plan.edits).toEqual([
      {file: `settings`, op: `set`, path: [`env`, `ANTHROPIC_BASE_URL`], value: `https://openrouter.ai/api`},
      {file: `settings`, op: `set`, path: [`env`, `ANTHROPIC_AUTH_TOKEN`], value: KEY},
      {file: `settings`, op: `set`, path: [`env`, `ANTHROPIC_API_KEY`], value: ``},
    ]);
    expect(plan.notes).toContain(`If you are logged in to Claude with a subscription, run /logout so Claude uses the capped key`);
    expect(plan.notes!.join(`\n`)).not.toContain(`ANTHROPIC_API_KEY from your shell`);
    for (const note of plan.notes!) expect(note).not.toContain(`\n`);
  });

  it(`uses whatever base the platform gives (emulator loopback, aihubmix)`, () => {
    expect(claude.plan(input(`openrouter`, `http://127.0.0.1:4321/api`), envInfo()).edits[0]!).toMatchObject({value: `http://127.0.0.1:4321/api`});
    expect(claude.plan(input(`aihubmix`, `https://aihubmix.com`), envInfo()).edits[0]!).toMatchObject({value: `https://aihubmix.com`});
  });

  it(`says that a shell ANTHROPIC_API_KEY is blanked, without printing it`, () => {
    const plan = claude.plan(input(), envInfo({env: {ANTHROPIC_API_KEY: `sk-ant-fake-shell-0000`}}));
    const text = plan.notes!.join(`\n`);
    expect(text).toContain(`ANTHROPIC_API_KEY from your shell is blanked`);
    expect(text).not.toContain(`sk-ant-fake-shell-0000`);
  });

  it(`refuses a platform without an Anthropic base`, () => {
    expect(() => claude.plan(input(`openrouter`, null), envInfo())).toThrow(/Anthropic-compatible/);
  });
});

describe(`claude supports`, () => {
  it(`accepts openrouter and aihubmix, explains anything else`, () => {
    expect(claude.supports(`openrouter`)).toBe(true);
    expect(claude.supports(`aihubmix`)).toBe(true);
    expect(claude.supports(`groq`)).toMatch(/Anthropic-compatible/);
  });
});

describe(`claude keySources`, () => {
  it(`lists env switches, managed then project settings before the user file, and the shell after it`, () => {
    const sources = claudeKeySources(envInfo(), `openrouter`);
    const labels = sources.map(s => (s.kind === `env` ? `env:${s.name}` : `${s.path}#${s.at.join(`.`)}`) + (s.installs ? ` (installs)` : ``));
    expect(labels).toEqual([
      `env:CLAUDE_CODE_USE_BEDROCK`,
      `env:CLAUDE_CODE_USE_VERTEX`,
      `env:CLAUDE_CODE_USE_FOUNDRY`,
      `/etc/claude-code/managed-settings.json#env.ANTHROPIC_AUTH_TOKEN`,
      `/etc/claude-code/managed-settings.json#env.ANTHROPIC_BASE_URL`,
      `/etc/claude-code/managed-settings.json#env.ANTHROPIC_API_KEY`,
      `/work/proj/.claude/settings.local.json#env.ANTHROPIC_AUTH_TOKEN`,
      `/work/proj/.claude/settings.local.json#env.ANTHROPIC_BASE_URL`,
      `/work/proj/.claude/settings.local.json#env.ANTHROPIC_API_KEY`,
      `/work/proj/.claude/settings.json#env.ANTHROPIC_AUTH_TOKEN`,
      `/work/proj/.claude/settings.json#env.ANTHROPIC_BASE_URL`,
      `/work/proj/.claude/settings.json#env.ANTHROPIC_API_KEY`,
      `/home/u/.claude/settings.json#env.ANTHROPIC_AUTH_TOKEN (installs)`,
      `env:ANTHROPIC_AUTH_TOKEN`,
      `env:ANTHROPIC_API_KEY`,
    ]);
    expect(sources.filter(s => s.installs)).toHaveLength(1);
  });

  it(`does not list the user file as a project file when run from $HOME`, () => {
    const sources = claudeKeySources(envInfo({cwd: `/home/u`}), `openrouter`);
    const user = `/home/u/.claude/settings.json`;
    const installsAt = sources.findIndex(s => s.installs);
    expect(sources.slice(0, installsAt).some(s => s.kind === `file` && s.path === user)).toBe(false);
    expect(sources.some(s => s.kind === `file` && s.path === `/home/u/.claude/settings.local.json`)).toBe(true);
  });

  it(`uses the per-OS managed settings paths`, () => {
    expect(claudeManagedSettingsPaths(`darwin`)).toEqual([`/Library/Application Support/ClaudeCode/managed-settings.json`]);
    expect(claudeManagedSettingsPaths(`win32`)).toEqual([`C:\\Program Files\\ClaudeCode\\managed-settings.json`, `C:\\ProgramData\\ClaudeCode\\managed-settings.json`]);
    const win = claudeKeySources(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `D:\\proj`}), `openrouter`);
    expect(win.map(s => (s.kind === `file` ? s.path : ``))).toContain(`D:\\proj\\.claude\\settings.local.json`);
    expect(win.find(s => s.installs)).toMatchObject({path: `C:\\Users\\u\\.claude\\settings.json`});
  });
});
