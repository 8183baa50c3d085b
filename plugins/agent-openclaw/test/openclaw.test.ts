import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, KeySource, PlanInput} from 'capit/plugin';
import {configReader} from 'capit/testing';
import openclaw, {detectOpenclaw, openclawConfigPath, openclawKeySources, openclawServiceEnvPath, openclawStateDir} from '../src/index.js';
import {capit, issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';
import {tempDir} from '../../../test/support/tmp.js';

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

  it(`declares the secret .env and openclaw.json; OpenRouter edits only OPENROUTER_API_KEY in the .env`, () => {
    expect(openclaw.files(envInfo())).toEqual([
      {id: `env`, path: `/home/u/.openclaw/.env`, format: `dotenv`, secret: true},
      {id: `config`, path: `/home/u/.openclaw/openclaw.json`, format: `jsonc`, secret: false},
    ]);
    // A JSON5-only openclaw.json is not declared, so core never parses (and refuses) it for an OpenRouter install.
    expect(openclaw.files(envInfo(), {gatewayFollowsDotEnv: [], configEditable: false}).map(f => f.id)).toEqual([`env`]);
    const plan = openclaw.plan(input, envInfo(), {gatewayFollowsDotEnv: [], configEditable: true});
    expect(plan.edits).toEqual([{file: `env`, op: `set`, path: [`OPENROUTER_API_KEY`], value: KEY}]);
    const notes = plan.notes!.join(`\n`);
    expect(notes).toContain(`openclaw models status`);
    expect(notes).toContain(`openclaw gateway restart`);
    expect(notes).toContain(`openclaw gateway install --force`);
    // launchd keeps the copy it was installed with: a restart is not enough there.
    const mac = openclaw.plan(input, envInfo({platform: `darwin`, home: `/Users/u`}), {gatewayFollowsDotEnv: [], configEditable: true}).notes!.join(`\n`);
    expect(mac).toContain(`openclaw gateway install --force`);
    expect(mac).not.toContain(`openclaw gateway restart`);
  });

  it(`AIHubMix: the key in .env, a custom provider in openclaw.json that names it; models [] only when absent`, () => {
    const ahm: PlanInput = {...input, platform: {id: `aihubmix`, displayName: `AIHubMix`, inferenceBaseUrls: {openai: `https://aihubmix.com/v1`, anthropic: `https://aihubmix.com`}}};
    const plan = openclaw.plan(ahm, envInfo(), {gatewayFollowsDotEnv: [], configEditable: true});
    expect(plan.edits).toEqual([
      {file: `env`, op: `set`, path: [`AIHUBMIX_API_KEY`], value: KEY},
      {file: `config`, op: `set`, path: [`models`, `providers`, `aihubmix`, `baseUrl`], value: `https://aihubmix.com/v1`},
      {file: `config`, op: `set`, path: [`models`, `providers`, `aihubmix`, `api`], value: `openai-completions`},
      {file: `config`, op: `set`, path: [`models`, `providers`, `aihubmix`, `apiKey`], value: {source: `env`, provider: `default`, id: `AIHUBMIX_API_KEY`}},
      {file: `config`, op: `set`, path: [`models`, `providers`, `aihubmix`, `models`], value: []},
    ]);
    const withModels = openclaw.plan({...ahm, read: (file, at) => file === `config` && at.join(`.`) === `models.providers.aihubmix.models` ? [{id: `x`}] : undefined}, envInfo(), {gatewayFollowsDotEnv: [], configEditable: true});
    expect(withModels.edits.map(e => e.path.join(`.`))).not.toContain(`models.providers.aihubmix.models`);
    const json5 = openclaw.plan(ahm, envInfo(), {gatewayFollowsDotEnv: [], configEditable: false});
    expect(json5.edits).toEqual([]);
    expect(json5.notes!.join(`\n`)).toContain(`JSON5`);
  });

  it(`supports openrouter and aihubmix; capit run refuses aihubmix (no built-in provider)`, () => {
    expect(openclaw.supports(`openrouter`)).toBe(true);
    expect(openclaw.supports(`aihubmix`)).toBe(true);
    expect(openclaw.supports(`other`)).toEqual(expect.any(String));
    expect(openclaw.sessionEnv({platform: `aihubmix`, secret: KEY, baseUrls: {openai: `x`}})).toEqual(expect.stringContaining(`openclaw.json`));
  });

  const show = (s: KeySource) => (s.kind === `env` ? `env:${s.name}` : `${s.path}#${s.at.join(`.`)}:${s.format}`) + (s.installs ? `!` : ``) + (s.flavour ? ` [${s.flavour}]` : ``) + (s.role === `baseUrl` ? ` (baseUrl)` : ``);

  it(`lists the shell (CLI), the service env file (gateway service), the .env as installed, then gateway.env and openclaw.json`, () => {
    const sources = openclawKeySources(envInfo({env: {OPENCLAW_CONFIG_PATH: `/etc/oc.json5`}}), `openrouter`);
    expect(sources.map(show)).toEqual([
      `env:OPENROUTER_API_KEY [openclaw CLI]`,
      `/home/u/.openclaw/gateway.systemd.env#OPENROUTER_API_KEY:dotenv [gateway service]`,
      `/home/u/.openclaw/.env#OPENROUTER_API_KEY:dotenv!`,
      `/home/u/.config/openclaw/gateway.env#OPENROUTER_API_KEY:dotenv`,
      `/etc/oc.json5#env.vars.OPENROUTER_API_KEY:json5`,
      `/etc/oc.json5#models.providers.openrouter.apiKey:json5`,
      `/etc/oc.json5#models.providers.openrouter.baseUrl:json5 (baseUrl)`,
    ]);
    expect(openclawConfigPath(envInfo({env: {OPENCLAW_STATE_DIR: `/s`}}))).toBe(`/s/openclaw.json`);
  });

  it(`puts the service env file below .env for keys OpenClaw re-reads from .env; macOS and Windows service files`, () => {
    const sources = openclawKeySources(envInfo(), `openrouter`, {gatewayFollowsDotEnv: [`OPENROUTER_API_KEY`], configEditable: true}).map(show);
    expect(sources.indexOf(`/home/u/.openclaw/gateway.systemd.env#OPENROUTER_API_KEY:dotenv [gateway service]`)).toBe(sources.indexOf(`/home/u/.openclaw/.env#OPENROUTER_API_KEY:dotenv!`) + 1);
    expect(openclawServiceEnvPath(envInfo({platform: `darwin`, home: `/Users/u`}))).toBe(`/Users/u/.openclaw/service-env/ai.openclaw.gateway.env`);
    expect(openclawServiceEnvPath(envInfo({platform: `darwin`, home: `/Users/u`, env: {OPENCLAW_PROFILE: `work`}}))).toBe(`/Users/u/.openclaw-work/service-env/ai.openclaw.work.env`);
    expect(openclawServiceEnvPath(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`}))).toBeUndefined();
    // A state dir moved elsewhere drops ~/.config/openclaw/gateway.env.
    expect(openclawKeySources(envInfo({env: {OPENCLAW_STATE_DIR: `/s`}}), `openrouter`).map(show).join(`\n`)).not.toContain(`gateway.env#`);
  });

  it(`detect(): Linux follows .env for keys the systemd unit manages; macOS for a copy equal to .env; JSON5 is not editable`, async () => {
    const home = tempDir(`capit-oc-detect-`);
    const state = path.join(home, `.openclaw`);
    const linux = envInfo({home, cwd: home});
    expect((await detectOpenclaw(linux, configReader()))).toEqual({gatewayFollowsDotEnv: [], configEditable: true});
    write(path.join(state, `.env`), `OPENROUTER_API_KEY=sk-or-v1-same-fake\nAIHUBMIX_API_KEY=sk-ahm-new-fake\n`);
    write(path.join(state, `gateway.systemd.env`), `OPENROUTER_API_KEY=sk-or-v1-same-fake\nAIHUBMIX_API_KEY=sk-ahm-old-fake\n`);
    // An unmanaged key beats .env even when it equals today's .env: it stays when capit changes .env.
    expect((await detectOpenclaw(linux, configReader())).gatewayFollowsDotEnv).toEqual([]);
    write(path.join(home, `.config`, `systemd`, `user`, `openclaw-gateway.service`), `[Service]\nEnvironment="OPENCLAW_SERVICE_MANAGED_ENV_KEYS=AIHUBMIX_API_KEY,OTHER"\n`);
    expect((await detectOpenclaw(linux, configReader())).gatewayFollowsDotEnv).toEqual([`AIHUBMIX_API_KEY`]);
    const mac = envInfo({home, cwd: home, platform: `darwin`});
    write(path.join(state, `service-env`, `ai.openclaw.gateway.env`), `# generated\nexport OPENROUTER_API_KEY='sk-or-v1-same-fake'\nexport AIHUBMIX_API_KEY='sk-ahm-old-fake'\n`);
    expect((await detectOpenclaw(mac, configReader())).gatewayFollowsDotEnv).toEqual([`OPENROUTER_API_KEY`]);
    write(path.join(state, `openclaw.json`), `{gateway: {port: 1}}`);
    expect((await detectOpenclaw(linux, configReader())).configEditable).toBe(false);
    write(path.join(state, `openclaw.json`), `// ok\n{"gateway": {"port": 1},}`);
    expect((await detectOpenclaw(linux, configReader())).configEditable).toBe(true);
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
    expect(lines[0]).toMatch(/^warning: openclaw CLI: environment variable OPENROUTER_API_KEY is set and wins over what capit wrote/);
    expect(result.stderr).not.toContain(`sk-or-v1-shell-fake-0000`);
  });

  // Issue 12 case 3: a key of its own in gateway.systemd.env is the gateway service's environment on Linux.
  it(`a stale OPENROUTER_API_KEY in gateway.systemd.env: the install warns, doctor does not say "uses capit key"`, async () => {
    const sb = sandbox(emulator.current);
    const serviceEnv = path.join(sb.home, `.openclaw`, `gateway.systemd.env`);
    const stale = `sk-or-v1-old-fake-1111`;
    write(serviceEnv, `OPENCLAW_GATEWAY_PORT=18789\nOPENROUTER_API_KEY=${stale}\n`, 0o600);
    const result = await issue(sb, `openclaw`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(warnings(result)).toEqual([`warning: gateway service: ${serviceEnv} (OPENROUTER_API_KEY) is set and wins over what capit wrote (the gateway service's environment, which wins over .env: run openclaw gateway install --force to rewrite it from .env, then openclaw gateway restart) — openclaw may not use the capped key`]);
    expect(result.stderr).toContain(`openclaw gateway install --force`);
    expect(read(serviceEnv)).toBe(`OPENCLAW_GATEWAY_PORT=18789\nOPENROUTER_API_KEY=${stale}\n`); // OpenClaw's file: never written
    const key = onlyKey(emulator.current);

    const doctor = await capit([`doctor`, `openclaw`], {env: sb.env});
    expect(doctor.exitCode).toBe(1);
    // Judged per flavour: the one-shot CLI reads .env; the gateway service gets the stale key.
    expect(doctor.stdout).not.toMatch(/gateway service: uses capit key/);
    expect(doctor.stdout).toContain(`gateway service: SHADOWED by ~/.openclaw/gateway.systemd.env (OPENROUTER_API_KEY)`);
    expect(doctor.stdout + doctor.stderr).not.toContain(stale);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);

    // Once the unit lists the key as one OpenClaw manages (a copy of .env, re-read over it at start), it is no shadow.
    write(path.join(sb.home, `.config`, `systemd`, `user`, `openclaw-gateway.service`), `[Service]\nEnvironment=OPENCLAW_SERVICE_MANAGED_ENV_KEYS=OPENROUTER_API_KEY\n`);
    const after = await capit([`doctor`, `openclaw`], {env: sb.env});
    expect(after.exitCode, after.stdout).toBe(0);
    expect(after.stdout).toContain(`uses capit key ${key.name}`);
  });

  it(`aihubmix: the key into .env, a custom provider naming it into openclaw.json (comments kept); restore is exact`, async () => {
    const sb = sandbox(emulator.current, {CAPIT_AIHUBMIX_BASE_URL: emulator.current.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`});
    const config = path.join(sb.home, `.openclaw`, `openclaw.json`);
    const original = `// mine\n{\n  "gateway": {"port": 18789},\n  "models": {"providers": {"aihubmix": {"models": [{"id": "gpt-4o-mini", "name": "mini"}]}}},\n}\n`;
    write(config, original, 0o600);
    const result = await capit([`aihubmix`, `5`, `--agent`, `openclaw`, `--yes`], {env: sb.env});
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`aihubmix/<model>`);
    const [token] = [...emulator.current.state.aihubmixTokens.values()];
    const env = read(path.join(sb.home, `.openclaw`, `.env`));
    expect(env).toMatch(/^AIHUBMIX_API_KEY=sk-\w+\n$/);
    expect(env).toContain(token!.key);
    const text = read(config);
    expect(text).not.toContain(token!.key);
    expect(text.startsWith(`// mine\n`)).toBe(true);
    const provider = JSON.parse(text.replace(/^\/\/.*\n/, ``).replace(/,\s*}\s*$/, `}`)).models.providers.aihubmix;
    expect(provider).toEqual({
      models: [{id: `gpt-4o-mini`, name: `mini`}], baseUrl: `${emulator.current.aihubmixBaseUrl}/v1`, api: `openai-completions`,
      apiKey: {source: `env`, provider: `default`, id: `AIHUBMIX_API_KEY`},
    });
    expect(mode(config)).toBe(0o600);

    expect((await restore(sb, `openclaw`)).exitCode).toBe(0);
    expect(read(config)).toBe(original);
    expect(fs.existsSync(path.join(sb.home, `.openclaw`, `.env`))).toBe(false);
  });

  it(`aihubmix with a JSON5-only openclaw.json: refused with the reason, nothing written, no key created`, async () => {
    const sb = sandbox(emulator.current, {CAPIT_AIHUBMIX_BASE_URL: emulator.current.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`});
    write(path.join(sb.home, `.openclaw`, `openclaw.json`), `{gateway: {port: 18789}}\n`, 0o600);
    const before = snapshotTree(sb.home);
    const result = await capit([`aihubmix`, `5`, `--agent`, `openclaw`, `--yes`], {env: sb.env});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`openclaw.json uses JSON5 syntax`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(emulator.current.state.aihubmixTokens.size).toBe(0);
  });
});
