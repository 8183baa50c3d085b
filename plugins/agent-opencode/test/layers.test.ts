// opencode's config layers as capit declares them, highest precedence first (pure: no disk). Each step of this order
// was checked with the real opencode 1.18.34 binary against the loopback emulator (test/agents/opencode.test.ts and the
// report of branch h-opencode).
import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, KeySource} from 'capit/plugin';
import opencode, {configLayers, managedConfigDir} from '../src/index.js';

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {XDG_CONFIG_HOME: `/home/u/.config`}, home: `/home/u`, cwd: `/w/repo/pkg`, platform: `linux`, ...over};
}

const label = (s: KeySource) => (s.kind === `env` ? `env:${s.name}` : s.path);
const layerLabels = (info: AgentEnvironment, gitRoot: string | null) =>
  configLayers(info, {gitRoot}).map(l => (`path` in l ? l.path : `env:${l.env}`));

describe(`opencode config layers`, () => {
  it(`lists managed > OPENCODE_CONFIG_CONTENT > config dirs > project files up to the git root > $OPENCODE_CONFIG > global`, () => {
    const info = envInfo({env: {XDG_CONFIG_HOME: `/home/u/.config`, OPENCODE_CONFIG: `/x/custom.json`, OPENCODE_CONFIG_DIR: `/cfgdir`}});
    expect(layerLabels(info, `/w/repo`)).toEqual([
      `/etc/opencode/opencode.jsonc`, `/etc/opencode/opencode.json`,
      `env:OPENCODE_CONFIG_CONTENT`,
      `/cfgdir/opencode.jsonc`, `/cfgdir/opencode.json`,
      `/home/u/.opencode/opencode.jsonc`, `/home/u/.opencode/opencode.json`,
      // A parent's .opencode beats cwd's: opencode merges them from cwd upwards.
      `/w/repo/.opencode/opencode.jsonc`, `/w/repo/.opencode/opencode.json`,
      `/w/repo/pkg/.opencode/opencode.jsonc`, `/w/repo/pkg/.opencode/opencode.json`,
      // Project files: cwd's beat its parents', up to the git root and not above.
      `/w/repo/pkg/opencode.jsonc`, `/w/repo/pkg/opencode.json`,
      `/w/repo/opencode.jsonc`, `/w/repo/opencode.json`,
      `/x/custom.json`,
      `/home/u/.config/opencode/opencode.jsonc`, `/home/u/.config/opencode/opencode.json`, `/home/u/.config/opencode/config.json`,
    ]);
  });

  it(`walks to / outside a git repository; OPENCODE_DISABLE_PROJECT_CONFIG drops the project layers`, () => {
    expect(layerLabels(envInfo(), null)).toContain(`/opencode.json`);
    const off = layerLabels(envInfo({env: {OPENCODE_DISABLE_PROJECT_CONFIG: `1`}}), null);
    expect(off.filter(l => l.startsWith(`/w`))).toEqual([]);
    expect(off).toContain(`/home/u/.opencode/opencode.json`);
  });

  it(`uses the per-OS managed directory, and OPENCODE_TEST_MANAGED_CONFIG_DIR as the binary does`, () => {
    expect(managedConfigDir(envInfo({platform: `darwin`}))).toBe(`/Library/Application Support/opencode`);
    expect(managedConfigDir(envInfo({platform: `win32`, env: {ProgramData: `D:\\PD`}}))).toBe(`D:\\PD\\opencode`);
    expect(managedConfigDir(envInfo({env: {OPENCODE_TEST_MANAGED_CONFIG_DIR: `/m`}}))).toBe(`/m`);
  });

  it(`keySources: config apiKeys, OPENCODE_AUTH_CONTENT, auth.json (installs), the env key, then every layer's baseURL`, () => {
    const sources = opencode.keySources(envInfo(), `openrouter`, {gitRoot: `/w/repo`});
    const keys = sources.filter(s => s.role !== `baseUrl`);
    const urls = sources.slice(keys.length);
    expect(urls.every(s => s.role === `baseUrl`)).toBe(true);
    expect(keys.slice(-3).map(label)).toEqual([`env:OPENCODE_AUTH_CONTENT`, `/home/u/.local/share/opencode/auth.json`, `env:OPENROUTER_API_KEY`]);
    expect(keys.filter(s => s.installs).map(label)).toEqual([`/home/u/.local/share/opencode/auth.json`]);
    const layers = layerLabels(envInfo(), `/w/repo`);
    expect(keys.slice(0, -3).map(label)).toEqual(layers);
    expect(urls.map(label)).toEqual(layers);
    for (const s of keys.slice(0, -3)) expect(s).toMatchObject({at: [`provider`, `openrouter`, `options`, `apiKey`]});
    for (const s of urls) expect(s).toMatchObject({at: [`provider`, `openrouter`, `options`, `baseURL`]});
  });

  it(`refuses aihubmix with the reason seen in the binary`, () => {
    expect(opencode.supports(`aihubmix`)).toMatch(/only through @aihubmix\/ai-sdk-provider/);
    expect(opencode.supports(`openrouter`)).toBe(true);
  });
});
