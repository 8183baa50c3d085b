import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import cline, {CLINE_CLI_FLAVOUR, CLINE_EXTENSION_FLAVOUR, CLINE_FILE_IDS, clineDataDir, clineFiles, clineKeySources, planCline} from '../src/index.js';
import {capit, issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;
const NOW = new Date(`2026-11-28T12:00:00.000Z`);

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

function input(values: Record<string, unknown> = {}, platformId = `openrouter`, base = `https://openrouter.ai/api/v1`): PlanInput {
  return {
    platform: {id: platformId, displayName: platformId, inferenceBaseUrls: {openai: base}},
    secret: KEY, keyName: `cline-0000aaaa`, now: NOW,
    read: (file: string, p: JsonPath) => values[`${file}:${p.join(`.`)}`],
  };
}

describe(`cline (pure)`, () => {
  it(`resolves the data dir from CLINE_DATA_DIR, CLINE_DIR or ~/.cline on every OS`, () => {
    expect(clineDataDir(envInfo())).toBe(`/home/u/.cline/data`);
    expect(clineDataDir(envInfo({env: {CLINE_DIR: `/opt/cline`}}))).toBe(`/opt/cline/data`);
    expect(clineDataDir(envInfo({env: {CLINE_DIR: `/opt/cline`, CLINE_DATA_DIR: `/var/cline-data`}}))).toBe(`/var/cline-data`);
    expect(clineDataDir(envInfo({platform: `darwin`, home: `/Users/u`}))).toBe(`/Users/u/.cline/data`);
    expect(clineDataDir(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`}))).toBe(`C:\\Users\\u\\.cline\\data`);
  });

  it(`declares providers.json and secrets.json (secret) and globalState.json with namespaced ids`, () => {
    expect(clineFiles(envInfo())).toEqual([
      {id: `cline-providers`, path: `/home/u/.cline/data/settings/providers.json`, format: `json`, secret: true},
      {id: `cline-secrets`, path: `/home/u/.cline/data/secrets.json`, format: `json`, secret: true},
      {id: `cline-global-state`, path: `/home/u/.cline/data/globalState.json`, format: `json`, secret: false},
    ]);
    expect(clineFiles(envInfo({env: {CLINE_PROVIDER_SETTINGS_PATH: `/etc/providers.json`}}))[0]!.path).toBe(`/etc/providers.json`);
    expect(cline.files(envInfo())).toEqual(clineFiles(envInfo()));
    expect(Object.values(CLINE_FILE_IDS).every(id => id.startsWith(`cline-`))).toBe(true);
  });

  it(`sets leaf paths in providers.json (version only when absent), the secret, and both mode providers`, () => {
    const plan = planCline(input());
    expect(plan.edits).toEqual([
      {file: `cline-providers`, op: `set`, path: [`version`], value: 1},
      {file: `cline-providers`, op: `set`, path: [`lastUsedProvider`], value: `openrouter`},
      {file: `cline-providers`, op: `set`, path: [`providers`, `openrouter`, `settings`, `provider`], value: `openrouter`},
      {file: `cline-providers`, op: `set`, path: [`providers`, `openrouter`, `settings`, `apiKey`], value: KEY},
      {file: `cline-providers`, op: `set`, path: [`providers`, `openrouter`, `updatedAt`], value: `2026-11-28T12:00:00.000Z`},
      {file: `cline-providers`, op: `set`, path: [`providers`, `openrouter`, `tokenSource`], value: `manual`},
      {file: `cline-secrets`, op: `set`, path: [`openRouterApiKey`], value: KEY},
      {file: `cline-global-state`, op: `set`, path: [`actModeApiProvider`], value: `openrouter`},
      {file: `cline-global-state`, op: `set`, path: [`planModeApiProvider`], value: `openrouter`},
    ]);
    expect(plan.notes).toEqual([`Cline reads these files when it starts: restart the IDE/Cline`]);
    expect(planCline(input({[`cline-providers:version`]: 2})).edits.some(e => e.path[0] === `version`)).toBe(false);
    expect(() => planCline(input({}, `anthropic`))).toThrow(/openrouter or aihubmix/);
  });

  it(`writes the base URL only when it is not Cline's default for the provider`, () => {
    const baseUrls = (platformId: string, base: string) => planCline(input({}, platformId, base)).edits.filter(e => e.path.includes(`baseUrl`) || e.path[0] === `aihubmixBaseUrl`);
    expect(baseUrls(`openrouter`, `https://openrouter.ai/api/v1/`)).toEqual([]);
    expect(baseUrls(`openrouter`, `http://127.0.0.1:9/api/v1`)).toEqual([
      {file: `cline-providers`, op: `set`, path: [`providers`, `openrouter`, `settings`, `baseUrl`], value: `http://127.0.0.1:9/api/v1`},
    ]);
    expect(baseUrls(`aihubmix`, `https://aihubmix.com/v1`)).toEqual([
      {file: `cline-providers`, op: `set`, path: [`providers`, `aihubmix`, `settings`, `baseUrl`], value: `https://aihubmix.com/v1`},
      {file: `cline-global-state`, op: `set`, path: [`aihubmixBaseUrl`], value: `https://aihubmix.com/v1`},
    ]);
  });

  it(`configures AIHubMix as Cline's own aihubmix provider, in the CLI's file and the extension's`, () => {
    const plan = planCline(input({}, `aihubmix`, `https://api.aihubmix.com/v1`));
    expect(plan.edits).toEqual([
      {file: `cline-providers`, op: `set`, path: [`version`], value: 1},
      {file: `cline-providers`, op: `set`, path: [`lastUsedProvider`], value: `aihubmix`},
      {file: `cline-providers`, op: `set`, path: [`providers`, `aihubmix`, `settings`, `provider`], value: `aihubmix`},
      {file: `cline-providers`, op: `set`, path: [`providers`, `aihubmix`, `settings`, `apiKey`], value: KEY},
      {file: `cline-providers`, op: `set`, path: [`providers`, `aihubmix`, `updatedAt`], value: `2026-11-28T12:00:00.000Z`},
      {file: `cline-providers`, op: `set`, path: [`providers`, `aihubmix`, `tokenSource`], value: `manual`},
      {file: `cline-secrets`, op: `set`, path: [`aihubmixApiKey`], value: KEY},
      {file: `cline-global-state`, op: `set`, path: [`actModeApiProvider`], value: `aihubmix`},
      {file: `cline-global-state`, op: `set`, path: [`planModeApiProvider`], value: `aihubmix`},
    ]);
  });

  it(`declares each flavour's order: the CLI reads providers.json then the shell, the extension secrets.json first`, () => {
    expect(cline.supports(`openrouter`)).toBe(true);
    expect(cline.supports(`aihubmix`)).toBe(true);
    expect(cline.supports(`anthropic`)).toEqual(expect.any(String));
    const providers = `/home/u/.cline/data/settings/providers.json`;
    const globalState = `/home/u/.cline/data/globalState.json`;
    const cli = `binary: cline 3.0.65`;
    const cliCode = `source: @cline/cli-linux-x64@3.0.65 bin/cline`;
    const extension = `source: apps/vscode/src/sdk/model-catalog/effective-config.ts@21cb8d25`;
    expect(clineKeySources(envInfo(), `openrouter`)).toEqual([
      {kind: `file`, path: providers, format: `json`, at: [`providers`, `openrouter`, `settings`, `apiKey`], installs: true, flavour: CLINE_CLI_FLAVOUR, checked: cli},
      {kind: `env`, name: `OPENROUTER_API_KEY`, flavour: CLINE_CLI_FLAVOUR, note: expect.any(String), checked: cli},
      {kind: `file`, path: `/home/u/.cline/data/secrets.json`, format: `json`, at: [`openRouterApiKey`], installs: true, flavour: CLINE_EXTENSION_FLAVOUR, checked: extension},
      {kind: `file`, path: providers, format: `json`, at: [`providers`, `openrouter`, `settings`, `apiKey`], flavour: CLINE_EXTENSION_FLAVOUR, note: expect.any(String), checked: extension},
      {kind: `file`, path: providers, format: `json`, at: [`providers`, `openrouter`, `settings`, `baseUrl`], role: `baseUrl`, note: expect.any(String), checked: cli},
      // The provider each flavour calls: the values the plan writes.
      {kind: `file`, path: providers, format: `json`, at: [`lastUsedProvider`], role: `selector`, selects: `openrouter`, installs: true, flavour: CLINE_CLI_FLAVOUR, note: expect.any(String), checked: cli},
      {kind: `file`, path: globalState, format: `json`, at: [`actModeApiProvider`], role: `selector`, selects: `openrouter`, installs: true, setting: `actModeApiProvider`, flavour: CLINE_EXTENSION_FLAVOUR, note: expect.any(String), checked: cliCode},
      {kind: `file`, path: globalState, format: `json`, at: [`planModeApiProvider`], role: `selector`, selects: `openrouter`, installs: true, setting: `planModeApiProvider`, flavour: CLINE_EXTENSION_FLAVOUR, note: expect.any(String), checked: cliCode},
    ]);
    // QA #19: every source follows CLINE_PROVIDER_SETTINGS_PATH / CLINE_DATA_DIR as the CLI does.
    const moved = clineKeySources(envInfo({env: {CLINE_PROVIDER_SETTINGS_PATH: `/alt/p.json`, CLINE_DATA_DIR: `/alt2`}}), `openrouter`);
    expect([...new Set(moved.flatMap(s => s.kind === `file` ? [s.path] : []))].sort()).toEqual([`/alt/p.json`, `/alt2/globalState.json`, `/alt2/secrets.json`]);
    const aihubmix = clineKeySources(envInfo(), `aihubmix`);
    expect(aihubmix.map(s => [s.kind === `env` ? s.name : s.at.join(`.`), s.flavour ?? null, s.role ?? `key`, Boolean(s.installs)])).toEqual([
      [`providers.aihubmix.settings.apiKey`, CLINE_CLI_FLAVOUR, `key`, true],
      [`AIHUBMIX_API_KEY`, CLINE_CLI_FLAVOUR, `key`, false],
      [`aihubmixApiKey`, CLINE_EXTENSION_FLAVOUR, `key`, true],
      [`providers.aihubmix.settings.apiKey`, CLINE_EXTENSION_FLAVOUR, `key`, false],
      [`providers.aihubmix.settings.baseUrl`, null, `baseUrl`, false],
      [`aihubmixBaseUrl`, CLINE_EXTENSION_FLAVOUR, `baseUrl`, false],
      [`lastUsedProvider`, CLINE_CLI_FLAVOUR, `selector`, true],
      [`actModeApiProvider`, CLINE_EXTENSION_FLAVOUR, `selector`, true],
      [`planModeApiProvider`, CLINE_EXTENSION_FLAVOUR, `selector`, true],
    ]);
    expect(aihubmix.filter(s => s.role === `selector`).every(s => s.selects === `aihubmix`)).toBe(true);
    expect(aihubmix.every(s => typeof s.checked === `string`)).toBe(true);
    expect(clineKeySources(envInfo(), `anthropic`)).toEqual([]);
  });
});

const emulator = useEmulator();

function paths(dataDir: string) {
  return {
    providers: path.join(dataDir, `settings`, `providers.json`),
    secrets: path.join(dataDir, `secrets.json`),
    globalState: path.join(dataDir, `globalState.json`),
  };
}

describe(`capit openrouter 5 --agent cline`, () => {
  it(`creates the three files on an empty HOME, secrets 0600 in 0700 dirs`, async () => {
    const sb = sandbox(emulator.current);
    const result = await issue(sb, `cline`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into cline\n`);
    expect(result.stderr).toContain(`restart the IDE/Cline`);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    const p = paths(path.join(sb.home, `.cline`, `data`));
    const providers = JSON.parse(read(p.providers));
    expect(providers).toEqual({
      version: 1, lastUsedProvider: `openrouter`,
      // The emulator is not Cline's default OpenRouter base, so capit points Cline at it.
      providers: {openrouter: {settings: {provider: `openrouter`, apiKey: key.key, baseUrl: emulator.current.openrouterBaseUrl}, updatedAt: expect.any(String), tokenSource: `manual`}},
    });
    expect(Date.now() - Date.parse(providers.providers.openrouter.updatedAt)).toBeLessThan(60_000);
    expect(JSON.parse(read(p.secrets))).toEqual({openRouterApiKey: key.key});
    expect(JSON.parse(read(p.globalState))).toEqual({actModeApiProvider: `openrouter`, planModeApiProvider: `openrouter`});
    expect(mode(p.providers)).toBe(0o600);
    expect(mode(p.secrets)).toBe(0o600);
    expect(mode(path.join(sb.home, `.cline`, `data`))).toBe(0o700);
    expect(mode(path.join(sb.home, `.cline`, `data`, `settings`))).toBe(0o700);
    expect(result.stdout + result.stderr).not.toContain(key.key);

    // Plan mode switched to another provider (Act mode still capit's): the extension's Plan-mode requests no longer use
    // the capped key, so doctor must not vouch for the extension.
    write(p.globalState, JSON.stringify({actModeApiProvider: `openrouter`, planModeApiProvider: `anthropic`}));
    const doctor = await capit([`doctor`, `cline`], {env: sb.env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/Cline extension: SHADOWED by ~\/\.cline\/data\/globalState\.json \(planModeApiProvider\)/);
    expect(doctor.stdout).not.toContain(`anthropic`);
  });

  it(`keeps the model, other providers, other secrets and global state; restores all three exactly`, async () => {
    const sb = sandbox(emulator.current);
    const p = paths(path.join(sb.home, `.cline`, `data`));
    const providersText = `{\n  "version": 1,\n  "lastUsedProvider": "anthropic",\n  "modes": {},\n  "providers": {\n    "anthropic": {\n      "settings": {"provider": "anthropic", "apiKey": "sk-ant-fake-0000", "model": "claude-sonnet-4-5"},\n      "updatedAt": "2026-01-01T00:00:00.000Z",\n      "tokenSource": "manual"\n    },\n    "openrouter": {\n      "settings": {\n        "provider": "openrouter",\n        "apiKey": "sk-or-v1-old-fake-0000",\n        "model": "anthropic/claude-sonnet-4.5"\n      },\n      "updatedAt": "2026-02-02T00:00:00.000Z",\n      "tokenSource": "oauth"\n    }\n  }\n}\n`;
    const secretsText = `{\n\t"apiKey": "sk-ant-fake-0000",\n\t"openRouterApiKey": "sk-or-v1-old-fake-0000",\n\t"geminiApiKey": "fake-gemini-0000"\n}\n`;
    const globalText = `{"actModeApiProvider":"anthropic","planModeApiProvider":"anthropic","actModeOpenRouterModelId":"anthropic/claude-sonnet-4.5","telemetrySetting":"disabled"}`;
    write(p.providers, providersText, 0o600);
    write(p.secrets, secretsText, 0o600);
    write(p.globalState, globalText, 0o644);

    const result = await issue(sb, `cline`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    const providersAfter = read(p.providers);
    const updatedAt = JSON.parse(providersAfter).providers.openrouter.updatedAt as string;
    expect(updatedAt).not.toBe(`2026-02-02T00:00:00.000Z`);
    expect(providersAfter).toBe(providersText
      .replace(`"lastUsedProvider": "anthropic"`, `"lastUsedProvider": "openrouter"`)
      .replace(`"sk-or-v1-old-fake-0000"`, JSON.stringify(key.key))
      .replace(`"model": "anthropic/claude-sonnet-4.5"\n`, `"model": "anthropic/claude-sonnet-4.5",\n        "baseUrl": ${JSON.stringify(emulator.current.openrouterBaseUrl)}\n`)
      .replace(`"2026-02-02T00:00:00.000Z"`, JSON.stringify(updatedAt))
      .replace(`"tokenSource": "oauth"`, `"tokenSource": "manual"`));
    expect(read(p.secrets)).toBe(secretsText.replace(`"sk-or-v1-old-fake-0000"`, JSON.stringify(key.key)));
    expect(read(p.globalState)).toBe(globalText.replace(/"anthropic","planModeApiProvider":"anthropic"/, `"openrouter","planModeApiProvider":"openrouter"`));
    expect(mode(p.globalState)).toBe(0o644);

    const restored = await restore(sb, `cline`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(read(p.providers)).toBe(providersText);
    expect(read(p.secrets)).toBe(secretsText);
    expect(read(p.globalState)).toBe(globalText);
  });

  it(`refuses an unparseable secrets.json, leaving every file untouched and no key behind`, async () => {
    const sb = sandbox(emulator.current);
    const p = paths(path.join(sb.home, `.cline`, `data`));
    write(p.providers, `{"version": 1, "providers": {}}\n`, 0o600);
    write(p.secrets, `{"openRouterApiKey": "sk-or-v1-old-fake-0000"\n`, 0o600);
    const before = snapshotTree(sb.home);
    const result = await issue(sb, `cline`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${p.secrets} is not valid`);
    expect(result.stderr).not.toContain(`sk-or-v1-old-fake-0000`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(managementRequests(emulator.current)).toEqual([]);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it(`doctor reads the providers.json CLINE_PROVIDER_SETTINGS_PATH names, as the CLI does (QA #19)`, async () => {
    const sb = sandbox(emulator.current);
    expect((await issue(sb, `cline`)).exitCode).toBe(0);
    const capped = onlyKey(emulator.current);
    // Another file holding the user's own OpenRouter key, as the CLI would read it under that variable.
    const alt = path.join(sb.root, `alt`, `p.json`);
    write(alt, JSON.stringify({version: 1, lastUsedProvider: `openrouter`, providers: {openrouter: {settings: {provider: `openrouter`, apiKey: `sk-or-v1-fake-alt-0000`}, updatedAt: `2026-01-01T00:00:00.000Z`, tokenSource: `manual`}}}));
    const doctor = await capit([`doctor`, `cline`, `--json`], {env: {...sb.env, CLINE_PROVIDER_SETTINGS_PATH: alt}});
    const text = await capit([`doctor`, `cline`], {env: {...sb.env, CLINE_PROVIDER_SETTINGS_PATH: alt}});
    expect(doctor.stdout).toContain(`alt/p.json`);
    expect(text.stdout).toContain(`Cline CLI: `);
    expect(text.stdout).not.toContain(`Cline CLI: uses capit key`);
    expect(text.exitCode, text.stdout).toBe(1);
    expect(doctor.stdout + text.stdout).not.toContain(capped.key);
    expect(doctor.stdout + text.stdout).not.toContain(`sk-or-v1-fake-alt-0000`);
  });

  it(`honours CLINE_DIR, CLINE_DATA_DIR and CLINE_PROVIDER_SETTINGS_PATH`, async () => {
    const sb = sandbox(emulator.current);
    sb.env.CLINE_DIR = path.join(sb.root, `cline-dir`);
    expect((await issue(sb, `cline`)).exitCode).toBe(0);
    const first = onlyKey(emulator.current).key;
    expect(JSON.parse(read(paths(path.join(sb.root, `cline-dir`, `data`)).secrets)).openRouterApiKey).toBe(first);

    emulator.current.reset();
    const sb2 = sandbox(emulator.current);
    sb2.env.CLINE_DIR = path.join(sb2.root, `ignored`);
    sb2.env.CLINE_DATA_DIR = path.join(sb2.root, `data-dir`);
    sb2.env.CLINE_PROVIDER_SETTINGS_PATH = path.join(sb2.root, `elsewhere`, `providers.json`);
    expect((await issue(sb2, `cline`)).exitCode).toBe(0);
    const second = onlyKey(emulator.current).key;
    expect(JSON.parse(read(path.join(sb2.root, `data-dir`, `secrets.json`))).openRouterApiKey).toBe(second);
    expect(JSON.parse(read(path.join(sb2.root, `elsewhere`, `providers.json`))).providers.openrouter.settings.apiKey).toBe(second);
    expect(fs.existsSync(path.join(sb2.root, `data-dir`, `settings`))).toBe(false);
    expect(fs.existsSync(path.join(sb2.root, `ignored`))).toBe(false);
    expect(fs.existsSync(path.join(sb2.home, `.cline`))).toBe(false);
  });

  it(`restore removes the files capit created`, async () => {
    const sb = sandbox(emulator.current);
    expect((await issue(sb, `cline`)).exitCode).toBe(0);
    expect((await restore(sb, `cline`)).exitCode).toBe(0);
    const p = paths(path.join(sb.home, `.cline`, `data`));
    for (const file of Object.values(p)) expect(fs.existsSync(file)).toBe(false);
  });
});

describe(`capit aihubmix 5 --agent cline`, () => {
  it(`configures Cline's aihubmix provider in providers.json, secrets.json and globalState.json, and restores them exactly`, async () => {
    const sb = sandbox(emulator.current, {CAPIT_AIHUBMIX_BASE_URL: emulator.current.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`});
    const p = paths(path.join(sb.home, `.cline`, `data`));
    const providersText = `{"version": 1, "lastUsedProvider": "openrouter", "providers": {"openrouter": {"settings": {"provider": "openrouter", "apiKey": "sk-or-v1-old-fake-0000"}}}}\n`;
    write(p.providers, providersText, 0o600);
    const result = await capit([`aihubmix`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env});
    expect(result.exitCode, result.stderr).toBe(0);
    const tokens = [...emulator.current.state.aihubmixTokens.values()];
    expect(tokens).toHaveLength(1);
    const base = `${emulator.current.aihubmixBaseUrl}/v1`;
    const providers = JSON.parse(read(p.providers));
    expect(providers.lastUsedProvider).toBe(`aihubmix`);
    expect(providers.providers.openrouter.settings.apiKey).toBe(`sk-or-v1-old-fake-0000`);
    expect(providers.providers.aihubmix.settings).toEqual({provider: `aihubmix`, apiKey: expect.stringContaining(tokens[0]!.key), baseUrl: base});
    expect(JSON.parse(read(p.secrets))).toEqual({aihubmixApiKey: providers.providers.aihubmix.settings.apiKey});
    expect(JSON.parse(read(p.globalState))).toEqual({actModeApiProvider: `aihubmix`, planModeApiProvider: `aihubmix`, aihubmixBaseUrl: base});
    expect(result.stdout + result.stderr).not.toContain(tokens[0]!.key);
    expect((await restore(sb, `cline`)).exitCode).toBe(0);
    expect(read(p.providers)).toBe(providersText);
    expect(fs.existsSync(p.secrets)).toBe(false);
    expect(fs.existsSync(p.globalState)).toBe(false);
  });
});
