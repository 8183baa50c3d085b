import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, KeySource, PlanInput} from 'capit/plugin';
import kilo, {KILO_AUTH_FILE_ID, kiloFiles, kiloKeySources, planKilo} from '../src/index.js';
import {issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

const input: PlanInput = {
  platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}},
  secret: KEY, keyName: `kilo-0000aaaa`, read: () => undefined,
};

describe(`kilo (pure)`, () => {
  it(`puts auth.json under XDG_DATA_HOME or ~/.local/share on every OS, with a namespaced id`, () => {
    expect(kiloFiles(envInfo())).toEqual([{id: `kilo-auth`, path: `/home/u/.local/share/kilo/auth.json`, format: `json`, secret: true}]);
    expect(kiloFiles(envInfo({env: {XDG_DATA_HOME: `/xdg/data`}}))[0]!.path).toBe(`/xdg/data/kilo/auth.json`);
    expect(kiloFiles(envInfo({platform: `darwin`, home: `/Users/u`}))[0]!.path).toBe(`/Users/u/.local/share/kilo/auth.json`);
    expect(kiloFiles(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`}))[0]!.path).toBe(`C:\\Users\\u\\.local\\share\\kilo\\auth.json`);
    expect(kilo.files(envInfo())).toEqual(kiloFiles(envInfo()));
    expect(KILO_AUTH_FILE_ID).toBe(`kilo-auth`);
  });

  it(`writes the opencode-shaped entry for the platform`, () => {
    const plan = planKilo(input);
    expect(plan.edits).toEqual([{file: `kilo-auth`, op: `set`, path: [`openrouter`], value: {type: `api`, key: KEY}}]);
    expect(kilo.plan(input, envInfo())).toEqual(plan);
    expect(plan.notes!.length).toBeGreaterThan(0);
  });

  it(`supports openrouter only`, () => {
    expect(kilo.supports(`openrouter`)).toBe(true);
    expect(kilo.supports(`aihubmix`)).toEqual(expect.any(String));
  });

  it(`lists every config that can carry an apiKey and KILO_AUTH_CONTENT before auth.json, the env key after`, () => {
    const all = kiloKeySources(envInfo({env: {XDG_CONFIG_HOME: `/xdg/cfg`, KILO_CONFIG: `/etc/my-kilo.json`}}), `openrouter`, {gitRoot: `/work`});
    const sources = all.filter(s => s.role !== `baseUrl`);
    // Base-URL sources come after every key source, one per config layer.
    expect(all.slice(sources.length).every(s => s.role === `baseUrl`)).toBe(true);
    expect(all.length - sources.length).toBe(sources.filter(s => !s.installs && s.kind === `file` || (s.kind === `env` && s.at)).length);
    const installsAt = sources.findIndex(s => s.installs);
    const label = (s: (typeof sources)[number]) => (s.kind === `env` ? `env:${s.name}` : s.path);
    expect(sources.slice(installsAt).map(label)).toEqual([`/home/u/.local/share/kilo/auth.json`, `env:OPENROUTER_API_KEY`]);
    const above = sources.slice(0, installsAt).map(label);
    expect(above.at(-1)).toBe(`env:KILO_AUTH_CONTENT`);
    for (const name of [`kilo.jsonc`, `kilo.json`, `opencode.jsonc`, `opencode.json`, `config.json`])
      expect(above).toContain(`/xdg/cfg/kilo/${name}`);
    expect(above).toContain(`/work/proj/kilo.json`);
    expect(above).toContain(`/work/proj/.kilo/kilo.jsonc`);
    expect(above).toContain(`/etc/my-kilo.json`);
    expect(above).toContain(`/etc/kilo/kilo.json`);
    expect(above.indexOf(`/etc/kilo/kilo.json`)).toBeLessThan(above.indexOf(`/work/proj/kilo.json`));
    expect(above.indexOf(`/work/proj/kilo.json`)).toBeLessThan(above.indexOf(`/xdg/cfg/kilo/kilo.json`));
    // Parent directories up to the git root, not above it; a project's opencode.json beats its kilo.json (checked with
    // the 7.7.9 binary), a parent's .kilo beats cwd's; .opencode directories are not read by Kilo.
    expect(above).toContain(`/work/kilo.json`);
    expect(above).not.toContain(`/kilo.json`);
    expect(above.indexOf(`/work/opencode.json`)).toBeLessThan(above.indexOf(`/work/proj/kilo.json`));
    expect(above.indexOf(`/work/.kilo/kilo.json`)).toBeLessThan(above.indexOf(`/work/proj/.kilo/kilo.json`));
    expect(above.indexOf(`env:KILO_CONFIG_CONTENT`)).toBe(4);
    expect(above.some(l => l.includes(`.opencode`))).toBe(false);
    for (const s of sources.slice(0, installsAt)) if (s.kind === `file`) expect(s).toMatchObject({format: `jsonc`, at: [`provider`, `openrouter`, `options`, `apiKey`]});
    expect(sources.filter(s => s.installs)).toHaveLength(1);
  });

  it(`walks to the file-system root outside a git repository, and drops project layers with KILO_DISABLE_PROJECT_CONFIG`, () => {
    const label = (s: KeySource) => (s.kind === `env` ? `env:${s.name}` : s.path);
    expect(kiloKeySources(envInfo(), `openrouter`, {gitRoot: null}).map(label)).toContain(`/kilo.json`);
    const off = kiloKeySources(envInfo({env: {KILO_DISABLE_PROJECT_CONFIG: `true`}}), `openrouter`, {gitRoot: null}).map(label);
    expect(off.filter(l => l.startsWith(`/work`))).toEqual([]);
    expect(off).toContain(`/home/u/.kilo/kilo.json`);
  });

  it(`refuses aihubmix with the reason found in the binary`, () => {
    expect(kilo.supports(`aihubmix`)).toMatch(/only through @aihubmix\/ai-sdk-provider, which it downloads from npm on first use and which sends to https:\/\/aihubmix.com\/v1 whatever base URL is configured/);
  });

  it(`uses the per-OS managed config dir`, () => {
    const mac = kiloKeySources(envInfo({platform: `darwin`, home: `/Users/u`}), `openrouter`).map(s => (s.kind === `file` ? s.path : ``));
    expect(mac).toContain(`/Library/Application Support/kilo/kilo.json`);
    const win = kiloKeySources(envInfo({platform: `win32`, home: `C:\\Users\\u`, cwd: `C:\\w`, env: {ProgramData: `C:\\ProgramData`}}), `openrouter`).map(s => (s.kind === `file` ? s.path : ``));
    expect(win).toContain(`C:\\ProgramData\\kilo\\kilo.json`);
    expect(win).toContain(`C:\\Users\\u\\.config\\kilo\\kilo.json`);
  });
});

const emulator = useEmulator();

describe(`capit openrouter 5 --agent kilo`, () => {
  it(`creates auth.json 0600 on an empty HOME`, async () => {
    const sb = sandbox(emulator.current);
    const result = await issue(sb, `kilo`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into kilo\n`);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    const file = path.join(sb.env.XDG_DATA_HOME!, `kilo`, `auth.json`);
    expect(JSON.parse(read(file))).toEqual({openrouter: {type: `api`, key: key.key}});
    expect(mode(file)).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(key.key);
  });

  it(`keeps other providers and the tab layout, replaces a stale openrouter entry, restores byte for byte`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.env.XDG_DATA_HOME!, `kilo`, `auth.json`);
    const original = `{\n\t"kilo": {\n\t\t"type": "oauth",\n\t\t"refresh": "fake-refresh-0000",\n\t\t"access": "fake-access-0000",\n\t\t"expires": 1790000000000\n\t},\n\t"openrouter": {"type": "oauth", "refresh": "fake-or-refresh-0000", "access": "x", "expires": 0},\n\t"anthropic": {"type": "api", "key": "sk-ant-fake-0000"}\n}\n`;
    write(file, original, 0o644);
    const result = await issue(sb, `kilo`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    const after = read(file);
    expect(after).toBe(original.replace(`{"type": "oauth", "refresh": "fake-or-refresh-0000", "access": "x", "expires": 0}`, `{\n\t\t"type": "api",\n\t\t"key": ${JSON.stringify(key.key)}\n\t}`));
    expect(mode(file)).toBe(0o600);
    const restored = await restore(sb, `kilo`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(read(file)).toBe(original);
    expect(mode(file)).toBe(0o644);
  });

  it(`refuses an unparseable auth.json untouched, with no key left at the provider`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.env.XDG_DATA_HOME!, `kilo`, `auth.json`);
    write(file, `{"kilo": {"type": "oauth", "access": "fake-access-0000"}\n`);
    const before = snapshotTree(sb.home);
    const result = await issue(sb, `kilo`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${file} is not valid`);
    expect(result.stderr).not.toContain(`fake-access-0000`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(managementRequests(emulator.current)).toEqual([]);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it(`honours XDG_DATA_HOME, and ~/.local/share when it is unset`, async () => {
    const sb = sandbox(emulator.current);
    sb.env.XDG_DATA_HOME = path.join(sb.root, `data`);
    expect((await issue(sb, `kilo`)).exitCode).toBe(0);
    expect(JSON.parse(read(path.join(sb.root, `data`, `kilo`, `auth.json`))).openrouter.key).toBe(onlyKey(emulator.current).key);

    emulator.current.reset();
    const sb2 = sandbox(emulator.current, {XDG_DATA_HOME: undefined});
    expect((await issue(sb2, `kilo`)).exitCode).toBe(0);
    expect(fs.existsSync(path.join(sb2.home, `.local`, `share`, `kilo`, `auth.json`))).toBe(true);
  });

  it(`warns about KILO_AUTH_CONTENT and about an apiKey in Kilo's global config`, async () => {
    const sb = sandbox(emulator.current, {KILO_AUTH_CONTENT: `{"openrouter": {"type": "api", "key": "sk-or-v1-env-fake-0000"}}`});
    const config = path.join(sb.env.XDG_CONFIG_HOME!, `kilo`, `kilo.jsonc`);
    write(config, `{\n  // my Kilo config\n  "provider": {"openrouter": {"options": {"apiKey": "sk-or-v1-cfg-fake-0000"}}},\n}\n`);
    const result = await issue(sb, `kilo`);
    expect(result.exitCode, result.stderr).toBe(0);
    const lines = warnings(result);
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain(`${config} (provider.openrouter.options.apiKey) is set and wins over what capit wrote`);
    expect(lines[1]).toContain(`environment variable KILO_AUTH_CONTENT is set`);
    expect(result.stderr).not.toMatch(/sk-or-v1-(env|cfg)-fake-0000/);
  });
});
