import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import hermes, {hermesHome, hermesKeySources} from '../src/index.js';
import {issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(current: Record<string, unknown> = {}): PlanInput {
  return {
    platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}},
    secret: KEY, keyName: `hermes-0000aaaa`,
    read: (file: string, p: JsonPath) => (file === `config` && p.join(`.`) === `model` ? current.model : undefined),
  };
}

describe(`hermes (pure)`, () => {
  it(`resolves HERMES_HOME, ~/.hermes, %LOCALAPPDATA%\\hermes and the data-dir suffix`, () => {
    expect(hermesHome(envInfo())).toBe(`/home/u/.hermes`);
    expect(hermesHome(envInfo({platform: `darwin`, home: `/Users/u`}))).toBe(`/Users/u/.hermes`);
    expect(hermesHome(envInfo({env: {HERMES_HOME: `/opt/h`}}))).toBe(`/opt/h`);
    expect(hermesHome(envInfo({env: {HERMES_HOME: `rel`}}))).toBe(`/work/proj/rel`);
    expect(hermesHome(envInfo({env: {HERMES_DATA_DIR_SUFFIX: `-dev`}}))).toBe(`/home/u/.hermes-dev`);
    const win = {platform: `win32` as const, home: `C:\\Users\\u`, cwd: `C:\\w`};
    expect(hermesHome(envInfo({...win, env: {LOCALAPPDATA: `C:\\Users\\u\\AppData\\Local`}}))).toBe(`C:\\Users\\u\\AppData\\Local\\hermes`);
    expect(hermesHome(envInfo({...win}))).toBe(`C:\\Users\\u\\AppData\\Local\\hermes`);
    expect(hermes.files(envInfo({...win, env: {HERMES_HOME: `D:\\hermes`}}))[0]!.path).toBe(`D:\\hermes\\.env`);
  });

  it(`declares the secret .env first, then config.yaml (not secret)`, () => {
    expect(hermes.files(envInfo())).toEqual([
      {id: `env`, path: `/home/u/.hermes/.env`, format: `dotenv`, secret: true},
      {id: `config`, path: `/home/u/.hermes/config.yaml`, format: `yaml`, secret: false},
    ]);
  });

  it(`sets the key and only model.provider`, () => {
    const plan = hermes.plan(input({model: {default: `x/y`, provider: `anthropic`}}), envInfo());
    expect(plan.edits).toEqual([
      {file: `env`, op: `set`, path: [`OPENROUTER_API_KEY`], value: KEY},
      {file: `config`, op: `set`, path: [`model`, `provider`], value: `openrouter`},
    ]);
    expect(plan.notes!.join(`\n`)).toContain(`auth.json`);
  });

  it(`turns an old "model: <slug>" into the mapping form, keeping the slug as default`, () => {
    expect(hermes.plan(input({model: `anthropic/claude-sonnet-4`}), envInfo()).edits[1]).toEqual(
      {file: `config`, op: `set`, path: [`model`], value: {default: `anthropic/claude-sonnet-4`, provider: `openrouter`}});
  });

  it(`supports openrouter only; .env outranks the shell`, () => {
    expect(hermes.supports(`openrouter`)).toBe(true);
    expect(hermes.supports(`aihubmix`)).toEqual(expect.any(String));
    expect(hermesKeySources(envInfo(), `openrouter`)).toEqual([
      {kind: `file`, path: `/home/u/.hermes/.env`, format: `dotenv`, at: [`OPENROUTER_API_KEY`], installs: true},
      {kind: `env`, name: `OPENROUTER_API_KEY`, note: expect.any(String)},
    ]);
  });
});

const emulator = useEmulator();

describe(`capit openrouter 5 --agent hermes`, () => {
  it(`creates .env (0600) and config.yaml in a new ~/.hermes`, async () => {
    const sb = sandbox(emulator.current);
    const result = await issue(sb, `hermes`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into hermes\n`);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    const dir = path.join(sb.home, `.hermes`);
    expect(read(path.join(dir, `.env`))).toBe(`OPENROUTER_API_KEY=${key.key}\n`);
    expect(mode(path.join(dir, `.env`))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(read(path.join(dir, `config.yaml`))).toBe(`model:\n  provider: openrouter\n`);
    expect(fs.existsSync(path.join(dir, `auth.json`))).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(key.key);
  });

  it(`keeps a rich .env and a commented config.yaml except capit's two edits, and restores both exactly`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.home, `.hermes`);
    const envText = [
      `# Hermes secrets`,
      `export OPENAI_API_KEY=sk-fake-openai-0000`,
      `OPENROUTER_API_KEY="sk-or-v1-old-fake-0000"  # set by hermes setup`,
      ``,
      `\tTELEGRAM_BOT_TOKEN=fake:0000`,
      `DISCORD_TOKEN='fake-discord-0000'`,
      ``,
    ].join(`\n`);
    const yamlText = [
      `# Hermes config`,
      `model:`,
      `    default: anthropic/claude-sonnet-4 # the main model`,
      `    provider: anthropic # was anthropic`,
      `    base_url: https://api.anthropic.com`,
      ``,
      `terminal:`,
      `    backend: local      # spaced out on purpose`,
      `    cwd: "."`,
      `toolsets:`,
      `- hermes-cli`,
      `- web`,
      `# end`,
      ``,
    ].join(`\n`);
    write(path.join(dir, `.env`), envText, 0o600);
    write(path.join(dir, `config.yaml`), yamlText, 0o644);
    write(path.join(dir, `auth.json`), `{"credential_pool": {"openrouter": []}}\n`, 0o600);

    const result = await issue(sb, `hermes`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    expect(read(path.join(dir, `.env`))).toBe(envText.replace(`"sk-or-v1-old-fake-0000"`, key.key));
    expect(read(path.join(dir, `config.yaml`))).toBe(yamlText.replace(`provider: anthropic # was anthropic`, `provider: openrouter # was anthropic`));
    expect(mode(path.join(dir, `config.yaml`))).toBe(0o644);
    expect(read(path.join(dir, `auth.json`))).toBe(`{"credential_pool": {"openrouter": []}}\n`);

    const restored = await restore(sb, `hermes`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(read(path.join(dir, `.env`))).toBe(envText);
    expect(read(path.join(dir, `config.yaml`))).toBe(yamlText);
    expect(mode(path.join(dir, `.env`))).toBe(0o600);
  });

  // Core's YAML editor used to re-render a run of adjacent lines that the yaml library prints differently when the edit
  // touched one of them: here the edited `provider:` line and the untouched `default:` line both have extra spaces
  // before their comments, and the `default:` line must keep them.
  it(`keeps the spacing of inline comments on lines next to the edited one`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.hermes`, `config.yaml`);
    const yamlText = `model:\n  default: anthropic/claude-sonnet-4   # the main model\n  provider: anthropic  # was anthropic\n`;
    write(file, yamlText);
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    const lines = read(file).split(`\n`);
    expect(lines[2]).toMatch(/^  provider: openrouter +# was anthropic$/);
    expect(lines[1]).toBe(`  default: anthropic/claude-sonnet-4   # the main model`);
  });

  it(`adds model.provider to a config.yaml without one, keeping its comments`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.hermes`, `config.yaml`);
    const yamlText = `# my config\ndisplay:\n  skin: mono # dark\n`;
    write(file, yamlText);
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    expect(read(file)).toBe(`${yamlText}model:\n  provider: openrouter\n`);
    expect((await restore(sb, `hermes`)).exitCode).toBe(0);
    expect(read(file)).toBe(yamlText);
  });

  it(`refuses an unparseable config.yaml, leaving both files untouched and no key behind`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.home, `.hermes`);
    write(path.join(dir, `.env`), `OPENROUTER_API_KEY=sk-or-v1-old-fake-0000\n`, 0o600);
    write(path.join(dir, `config.yaml`), `model:\n  provider: [openrouter\n  default: x\n`);
    const before = snapshotTree(sb.home);
    const result = await issue(sb, `hermes`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${path.join(dir, `config.yaml`)} is not valid`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(managementRequests(emulator.current)).toEqual([]);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it(`honours HERMES_HOME`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.root, `hermes-home`);
    sb.env.HERMES_HOME = dir;
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    expect(read(path.join(dir, `.env`))).toBe(`OPENROUTER_API_KEY=${onlyKey(emulator.current).key}\n`);
    expect(fs.existsSync(path.join(sb.home, `.hermes`))).toBe(false);
  });

  it(`does not warn about OPENROUTER_API_KEY in the shell (Hermes loads .env over it)`, async () => {
    const sb = sandbox(emulator.current, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-0000`});
    const result = await issue(sb, `hermes`);
    expect(result.exitCode).toBe(0);
    expect(warnings(result)).toEqual([]);
  });
});
