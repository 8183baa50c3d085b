import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {JsonPath, PlanInput} from 'capit/plugin';
import {describeAgentConformance} from 'capit/testing';
import grok from '../src/index.js';
import {issue, mode, onlyKey, read, restore, sandbox, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

describeAgentConformance(grok, {platforms: [`openrouter`, `aihubmix`]});

const envInfo = {env: {}, home: `/home/u`, cwd: `/w`, platform: `linux` as const};

function input(platformId: string, values: Record<string, unknown> = {}): PlanInput {
  return {
    platform: {id: platformId, displayName: platformId, inferenceBaseUrls: {openai: `https://example.test/${platformId}/v1`}},
    secret: `sk-fake-token`, keyName: `grok-0000aaaa`,
    read: (_file: string, p: JsonPath) => values[p.join(`.`)],
  };
}

describe(`grok (pure)`, () => {
  it(`writes apiKey and baseURL only (grok-cli never reads defaultModel), and tells how to pick an OpenRouter model`, () => {
    const planned = grok.plan(input(`openrouter`), envInfo);
    expect(planned.edits).toEqual([
      {file: `settings`, op: `set`, path: [`apiKey`], value: `sk-fake-token`},
      {file: `settings`, op: `set`, path: [`baseURL`], value: `https://example.test/openrouter/v1`},
    ]);
    expect(planned.notes?.join(`\n`)).toContain(`-m x-ai/grok-code-fast-1`);
    expect(grok.plan(input(`aihubmix`), envInfo).edits.map(e => e.path)).toEqual([[`apiKey`], [`baseURL`]]);
  });

  it(`ranks GROK_API_KEY and the project's .env above user-settings.json, as grok-cli 0.0.34 does`, () => {
    const sources = grok.keySources!(envInfo, `openrouter`, undefined);
    const names = (role: string) => sources.filter(s => (s.role ?? `key`) === role).map(s => s.kind === `env` ? s.name : `${path.basename(s.path)}:${s.at.join(`.`)}`);
    expect(names(`key`)).toEqual([`GROK_API_KEY`, `.env:GROK_API_KEY`, `user-settings.json:apiKey`]);
    expect(names(`baseUrl`)).toEqual([`GROK_BASE_URL`, `.env:GROK_BASE_URL`, `user-settings.json:baseURL`]);
  });
});

describe(`grok (capit CLI)`, () => {
  const emulator = useEmulator();

  it(`writes user-settings.json 0600 keeping the user's other settings, and restores it exactly`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.grok`, `user-settings.json`);
    const before = `{\n  "apiKey": "xai-old-fake",\n  "defaultModel": "grok-4-latest",\n  "models": ["grok-4-latest"],\n  "settingsVersion": 2\n}\n`;
    write(file, before, 0o644);
    const result = await issue(sb, `grok`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    const written = JSON.parse(read(file));
    expect(written).toEqual({apiKey: key.key, defaultModel: `grok-4-latest`, models: [`grok-4-latest`], settingsVersion: 2, baseURL: emulator.current.openrouterBaseUrl});
    expect(mode(file)).toBe(0o600);
    expect(result.stdout + result.stderr).not.toContain(key.key);
    expect((await restore(sb, `grok`)).exitCode).toBe(0);
    expect(read(file)).toBe(before);
    expect(mode(file)).toBe(0o644);
  });

  it(`warns that a GROK_API_KEY in the shell wins over what capit wrote`, async () => {
    const sb = sandbox(emulator.current, {GROK_API_KEY: `xai-shell-fake-1111`});
    const result = await issue(sb, `grok`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(warnings(result).join(`\n`)).toContain(`GROK_API_KEY`);
    expect(result.stdout + result.stderr).not.toContain(`xai-shell-fake-1111`);
  });
});
