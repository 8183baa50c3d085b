import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, PlanInput} from 'capit/plugin';
import openclaw, {openclawConfigPath, openclawKeySources, openclawStateDir} from '../src/index.js';
import {issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

const input: PlanInput = {
  platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`, anthropic: `https://openrouter.ai/api`}},
  secret: KEY, keyName: `openclaw-0000aaaa`, read: () => undefined,
};

describe(`openclaw (pure)`, () => {
  it(`resolves the state dir: STATE_DIR > profile > OPENCLAW_HOME > home`, () => {
    expect(openclawStateDir(envInfo())).toBe(`/home/u/.openclaw`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_HOME: `/srv/claw`}}))).toBe(`/srv/claw/.openclaw`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_PROFILE: `work`}}))).toBe(`/home/u/.openclaw-work`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_PROFILE: `Default`}}))).toBe(`/home/u/.openclaw`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_HOME: `/srv/claw`, OPENCLAW_PROFILE: `work`}}))).toBe(`/srv/claw/.openclaw-work`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_STATE_DIR: `/var/oc`, OPENCLAW_PROFILE: `work`}}))).toBe(`/var/oc`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_STATE_DIR: `~/oc`, OPENCLAW_HOME: `/srv/claw`}}))).toBe(`/srv/claw/oc`);
    expect(openclawStateDir(envInfo({env: {OPENCLAW_STATE_DIR: `rel/oc`}}))).toBe(`/work/proj/rel/oc`);
    expect(openclawStateDir(envInfo({env: {CLAWDBOT_STATE_DIR: `/legacy`}}))).toBe(`/legacy`);
    expect(() => openclawStateDir(envInfo({env: {OPENCLAW_PROFILE: `../x`}}))).toThrow(/OPENCLAW_PROFILE/);
  });

  it(`uses Windows paths on Windows and macOS paths on macOS`, () => {
    expect(openclaw.files(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`}))[0]!.path).toBe(`C:\\Users\\u\\.openclaw\\.env`);
    expect(openclaw.files(envInfo({platform: `darwin`, home: `/Users/u`}))[0]!.path).toBe(`/Users/u/.openclaw/.env`);
  });

  it(`declares one secret dotenv file and sets OPENROUTER_API_KEY in it`, () => {
    expect(openclaw.files(envInfo())).toEqual([{id: `env`, path: `/home/u/.openclaw/.env`, format: `dotenv`, secret: true}]);
    const plan = openclaw.plan(input, envInfo());
    expect(plan.edits).toEqual([{file: `env`, op: `set`, path: [`OPENROUTER_API_KEY`], value: KEY}]);
    const notes = plan.notes!.join(`\n`);
    expect(notes).toContain(`openclaw models status`);
    expect(notes).toContain(`openclaw secrets reload`);
  });

  it(`supports openrouter only`, () => {
    expect(openclaw.supports(`openrouter`)).toBe(true);
    expect(openclaw.supports(`aihubmix`)).toEqual(expect.any(String));
  });

  it(`lists the process env first, the .env as installed, openclaw.json layers after it`, () => {
    const sources = openclawKeySources(envInfo({env: {OPENCLAW_CONFIG_PATH: `/etc/oc.json5`}}), `openrouter`);
    expect(sources.map(s => (s.kind === `env` ? `env:${s.name}` : `${s.path}#${s.at.join(`.`)}:${s.format}`) + (s.installs ? `!` : ``))).toEqual([
      `env:OPENROUTER_API_KEY`,
      `/home/u/.openclaw/.env#OPENROUTER_API_KEY:dotenv!`,
      `/etc/oc.json5#env.vars.OPENROUTER_API_KEY:jsonc`,
      `/etc/oc.json5#env.OPENROUTER_API_KEY:jsonc`,
      `/etc/oc.json5#models.providers.openrouter.apiKey:jsonc`,
    ]);
    expect(openclawConfigPath(envInfo({env: {OPENCLAW_STATE_DIR: `/s`}}))).toBe(`/s/openclaw.json`);
  });
});

const emulator = useEmulator();

describe(`capit openrouter 5 --agent openclaw`, () => {
  it(`creates <state>/.env 0600 in a new 0700 state dir, on an empty HOME`, async () => {
    const sb = sandbox(emulator.current);
    const result = await issue(sb, `openclaw`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into openclaw\n`);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    const file = path.join(sb.home, `.openclaw`, `.env`);
    expect(read(file)).toBe(`OPENROUTER_API_KEY=${key.key}\n`);
    expect(mode(file)).toBe(0o600);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(result.stdout + result.stderr).not.toContain(key.key);
    expect(fs.readdirSync(path.dirname(file))).toEqual([`.env`]); // no auth-profiles.json, no openclaw.json
  });

  it(`keeps comments, export prefixes, quoting and other keys; replaces only the value; restores exactly`, async () => {
    const sb = sandbox(emulator.current);
    const state = path.join(sb.home, `.openclaw`);
    const file = path.join(state, `.env`);
    const original = [
      `# OpenClaw global env — edited by hand`,
      `export ANTHROPIC_API_KEY="sk-ant-fake-0000" # main`,
      ``,
      `  TELEGRAM_BOT_TOKEN='fake:telegram-0000'`,
      `export OPENROUTER_API_KEY=sk-or-v1-old-fake-0000   # old key`,
      `MULTI="line one\\nline two"`,
      `# trailing comment`,
    ].join(`\n`); // no final newline
    write(file, original, 0o640);
    const config = path.join(state, `openclaw.json`);
    const configText = `// JSON5 config\n{\n  gateway: {port: 18789},\n  env: {vars: {OPENROUTER_API_KEY: 'sk-or-v1-vars-fake-0000'}},\n}\n`;
    write(config, configText, 0o600);

    const result = await issue(sb, `openclaw`);
    expect(result.exitCode, result.stderr).toBe(0);
    // openclaw.json is lower than .env (and JSON5 with unquoted keys): no warning, never written.
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    expect(read(file)).toBe(original.replace(`sk-or-v1-old-fake-0000`, key.key));
    expect(mode(file)).toBe(0o600);
    expect(read(config)).toBe(configText);

    const restored = await restore(sb, `openclaw`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(read(file)).toBe(original);
    expect(mode(file)).toBe(0o640);
  });

  it(`appends the key to a .env that lacks it, and restore takes it out again`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.openclaw`, `.env`);
    const original = `# keys\r\nBRAVE_API_KEY=fake-brave-0000\r\n`;
    write(file, original);
    expect((await issue(sb, `openclaw`)).exitCode).toBe(0);
    const key = onlyKey(emulator.current);
    expect(read(file)).toBe(`${original}OPENROUTER_API_KEY=${key.key}\r\n`);
    expect((await restore(sb, `openclaw`)).exitCode).toBe(0);
    expect(read(file)).toBe(original);
  });

  it(`refuses an unparseable .env untouched, with no key left at the provider`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.openclaw`, `.env`);
    const broken = `OPENROUTER_API_KEY="sk-or-v1-old-fake-0000\nthis is not a dotenv line\n`;
    write(file, broken);
    const before = snapshotTree(sb.home);
    const result = await issue(sb, `openclaw`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${file} is not valid`);
    expect(result.stderr).not.toContain(`sk-or-v1-old-fake-0000`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(managementRequests(emulator.current)).toEqual([]);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it.each([
    [`OPENCLAW_STATE_DIR`, (root: string) => ({OPENCLAW_STATE_DIR: path.join(root, `state`)}), (root: string) => path.join(root, `state`, `.env`)],
    [`OPENCLAW_HOME`, (root: string) => ({OPENCLAW_HOME: path.join(root, `ochome`)}), (root: string) => path.join(root, `ochome`, `.openclaw`, `.env`)],
    [`OPENCLAW_PROFILE`, () => ({OPENCLAW_PROFILE: `work`}), (root: string) => path.join(root, `home`, `.openclaw-work`, `.env`)],
  ])(`honours %s`, async (_name, extra, expected) => {
    const sb = sandbox(emulator.current);
    Object.assign(sb.env, extra(sb.root));
    expect((await issue(sb, `openclaw`)).exitCode).toBe(0);
    const file = expected(sb.root);
    expect(read(file)).toBe(`OPENROUTER_API_KEY=${onlyKey(emulator.current).key}\n`);
    expect(mode(path.dirname(file))).toBe(0o700);
    expect(fs.existsSync(path.join(sb.home, `.openclaw`))).toBe(false);
  });

  it(`warns that OPENROUTER_API_KEY in the environment wins over the .env`, async () => {
    const sb = sandbox(emulator.current, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-0000`});
    const result = await issue(sb, `openclaw`);
    expect(result.exitCode).toBe(0);
    const lines = warnings(result);
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/^warning: environment variable OPENROUTER_API_KEY is set and wins over what capit wrote/);
    expect(result.stderr).not.toContain(`sk-or-v1-shell-fake-0000`);
  });
});
