import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, KeySource, PlanInput} from 'capit/plugin';
import claude, {claudeConfigDir, claudeKeySources, claudeManagedSettingsPaths, detectClaude} from '../src/index.js';

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
  const label = (s: KeySource) => (s.kind === `env` ? `env:${s.name}` : `${s.path}#${s.at.join(`.`)}`) + (s.installs ? ` (installs)` : ``) + (s.role === `baseUrl` ? ` (baseUrl)` : ``) + (s.truthy ? ` (truthy)` : ``);
  const isSwitch = (s: KeySource) => /CLAUDE_CODE_USE_|ANTHROPIC_CUSTOM_HEADERS/.test(s.kind === `env` ? s.name : s.at.join(`.`));
  const SWITCHES = [`CLAUDE_CODE_USE_BEDROCK`, `CLAUDE_CODE_USE_FOUNDRY`, `CLAUDE_CODE_USE_ANTHROPIC_AWS`, `CLAUDE_CODE_USE_ANTHROPIC_GOOGLE_CLOUD`, `CLAUDE_CODE_USE_MANTLE`, `CLAUDE_CODE_USE_VERTEX`];

  it(`lists the provider switches (truthy, in every settings layer and the environment) and ANTHROPIC_CUSTOM_HEADERS of every settings layer, then the environment's, above everything else`, () => {
    const sources = claudeKeySources(envInfo(), `openrouter`);
    const firstOther = sources.findIndex(s => !isSwitch(s));
    expect(sources.slice(firstOther).some(isSwitch)).toBe(false);
    const layer = (file: string) => [...SWITCHES.map(n => `${file}#env.${n} (truthy)`), `${file}#env.ANTHROPIC_CUSTOM_HEADERS`];
    expect(sources.slice(0, firstOther).map(label)).toEqual([
      ...layer(`/etc/claude-code/managed-settings.json`),
      ...layer(`/work/proj/.claude/settings.local.json`),
      ...layer(`/work/proj/.claude/settings.json`),
      ...layer(`/home/u/.claude/settings.json`),
      ...SWITCHES.map(n => `env:${n} (truthy)`),
      `env:ANTHROPIC_CUSTOM_HEADERS`,
    ]);
  });

  it(`2.1.112 (no ANTHROPIC_GOOGLE_CLOUD switch yet) gets the five switches its cli.js reads`, () => {
    const sources = claudeKeySources(envInfo(), `openrouter`, {version: `2.1.112`, versionFrom: null});
    expect(sources.filter(s => s.kind === `env` && s.truthy).map(s => s.kind === `env` && s.name)).toEqual(SWITCHES.filter(n => !n.endsWith(`GOOGLE_CLOUD`)));
  });

  it(`every source says how its place is known`, () => {
    for (const source of claudeKeySources(envInfo(), `openrouter`)) expect(source.checked).toMatch(/^(binary|source): /);
  });

  it(`lists managed then project settings before the user file, and the shell after it`, () => {
    const sources = claudeKeySources(envInfo(), `openrouter`).filter(s => !isSwitch(s));
    const labels = sources.map(label);
    expect(labels).toEqual([
      `/etc/claude-code/managed-settings.json#env.ANTHROPIC_AUTH_TOKEN`,
      `/etc/claude-code/managed-settings.json#env.ANTHROPIC_BASE_URL (baseUrl)`,
      `/etc/claude-code/managed-settings.json#env.ANTHROPIC_API_KEY`,
      `/etc/claude-code/managed-settings.json#apiKeyHelper`,
      `/work/proj/.claude/settings.local.json#env.ANTHROPIC_AUTH_TOKEN`,
      `/work/proj/.claude/settings.local.json#env.ANTHROPIC_BASE_URL (baseUrl)`,
      `/work/proj/.claude/settings.local.json#env.ANTHROPIC_API_KEY`,
      `/work/proj/.claude/settings.local.json#apiKeyHelper`,
      `/work/proj/.claude/settings.json#env.ANTHROPIC_AUTH_TOKEN`,
      `/work/proj/.claude/settings.json#env.ANTHROPIC_BASE_URL (baseUrl)`,
      `/work/proj/.claude/settings.json#env.ANTHROPIC_API_KEY`,
      `/work/proj/.claude/settings.json#apiKeyHelper`,
      `/home/u/.claude/settings.json#apiKeyHelper`,
      `/home/u/.claude/settings.json#env.ANTHROPIC_AUTH_TOKEN (installs)`,
      `/home/u/.claude/settings.json#env.ANTHROPIC_BASE_URL (baseUrl)`,
      `env:ANTHROPIC_AUTH_TOKEN`,
      `env:ANTHROPIC_API_KEY`,
      `env:ANTHROPIC_BASE_URL (baseUrl)`,
    ]);
    expect(sources.filter(s => s.installs)).toHaveLength(1);
  });

  it(`does not list the user file as a project file when run from $HOME`, () => {
    const sources = claudeKeySources(envInfo({cwd: `/home/u`}), `openrouter`);
    const user = `/home/u/.claude/settings.json`;
    const installsAt = sources.findIndex(s => s.installs);
    // Only the helper capit removes from the user file (and its own switches) sits above the token: no user-file entry
    // counted twice as "project".
    expect(sources.slice(0, installsAt).filter(s => !isSwitch(s)).filter(s => s.kind === `file` && s.path === user).map(s => s.kind === `file` && s.at)).toEqual([[`apiKeyHelper`]]);
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

describe(`claude apiKeyHelper`, () => {
  const withHelper = (): PlanInput => ({...input(), read: (file, at) => (file === `settings` && at.join(`.`) === `apiKeyHelper` ? `~/bin/anthropic-key.sh` : undefined)});

  it(`deletes apiKeyHelper from the user settings it edits, and says why`, () => {
    const plan = claude.plan(withHelper(), envInfo());
    expect(plan.edits).toContainEqual({file: `settings`, op: `delete`, path: [`apiKeyHelper`]});
    expect(plan.notes!.join(`\n`)).toMatch(/apiKeyHelper was removed from settings\.json: .*x-api-key.*capit restore claude/);
    expect(plan.notes!.join(`\n`)).not.toContain(`anthropic-key.sh`);
  });

  it(`leaves the file alone when there is no helper`, () => {
    const plan = claude.plan(input(), envInfo());
    expect(plan.edits.some(e => e.op === `delete`)).toBe(false);
    expect(plan.notes!.join(`\n`)).not.toContain(`apiKeyHelper`);
  });

  it(`says a project helper needs trust only up to 2.1.112, and assumes the newest when the version is unknown`, () => {
    const note = (version: string | null) => {
      const sources = claudeKeySources(envInfo(), `openrouter`, {version, versionFrom: null});
      const helper = sources.find(s => s.kind === `file` && s.path === `/work/proj/.claude/settings.json` && s.at[0] === `apiKeyHelper`);
      return helper!.note!;
    };
    expect(note(`2.1.112`)).toMatch(/Claude 2\.1\.112 sends .* once you have trusted this project$/);
    expect(note(`2.1.332`)).not.toContain(`trusted`);
    expect(note(null)).toMatch(/Claude \(newest\) sends/);
    expect(note(null)).not.toContain(`trusted`);
  });
});

describe(`claude detect`, () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), `capit-claude-detect-`));
  const onPath = (bin: string) => envInfo({env: {PATH: `/nonexistent:${path.dirname(bin)}`}});

  it(`reads the npm package.json above the claude on PATH (cli.js and the native wrapper)`, () => {
    const prefix = tmp();
    const pkg = path.join(prefix, `lib/node_modules/@anthropic-ai/claude-code`);
    fs.mkdirSync(path.join(pkg, `bin`), {recursive: true});
    fs.writeFileSync(path.join(pkg, `package.json`), JSON.stringify({name: `@anthropic-ai/claude-code`, version: `2.1.332`}));
    fs.writeFileSync(path.join(pkg, `bin/claude.exe`), ``, {mode: 0o755});
    fs.mkdirSync(path.join(prefix, `bin`));
    fs.symlinkSync(path.join(pkg, `bin/claude.exe`), path.join(prefix, `bin/claude`));
    expect(detectClaude(onPath(path.join(prefix, `bin/claude`)))).toEqual({version: `2.1.332`, versionFrom: path.join(pkg, `package.json`)});
  });

  it(`reads the native installer's versions/<version> file name`, () => {
    const home = tmp();
    const versions = path.join(home, `.local/share/claude/versions`);
    fs.mkdirSync(versions, {recursive: true});
    fs.writeFileSync(path.join(versions, `2.1.200`), ``, {mode: 0o755});
    fs.mkdirSync(path.join(home, `.local/bin`), {recursive: true});
    fs.symlinkSync(path.join(versions, `2.1.200`), path.join(home, `.local/bin/claude`));
    expect(detectClaude(onPath(path.join(home, `.local/bin/claude`))).version).toBe(`2.1.200`);
  });

  it(`is null (assume the newest) when claude is absent or its version cannot be read`, () => {
    expect(detectClaude(envInfo({env: {PATH: `/nonexistent`}}))).toEqual({version: null, versionFrom: null});
    const dir = tmp();
    fs.writeFileSync(path.join(dir, `claude`), ``, {mode: 0o755});
    fs.writeFileSync(path.join(dir, `package.json`), JSON.stringify({name: `something-else`, version: `9.9.9`}));
    expect(detectClaude(onPath(path.join(dir, `claude`)))).toEqual({version: null, versionFrom: null});
  });
});
