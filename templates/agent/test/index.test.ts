import {describe, expect, it}     from 'vitest';
import {describeAgentConformance} from 'capit/testing';

import agent, {configDir} from '../src/index.js';

// The same suite capit's built-in agents pass: pure plan, absolute paths on every OS, one `installs` key source.
describeAgentConformance(agent, {platforms: [`openrouter`]});

describe(`__ID__ specifics`, () => {
  const linux = {platform: `linux` as const, home: `/home/ada`, cwd: `/tmp`, env: {}};

  it(`honours $__ID_UPPER___CONFIG_DIR`, () => {
    expect(configDir({...linux, env: {__ID_UPPER___CONFIG_DIR: `/opt/__ID__`}})).toBe(`/opt/__ID__`);
    expect(configDir(linux)).toBe(`/home/ada/.config/__ID__`);
  });

  it(`writes the key and the OpenAI-compatible base URL under providers.<platform>`, () => {
    const plan = agent.plan({
      platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}},
      secret: `sk-test`, keyName: `__ID__-0a1b2c3d`, now: new Date(`2026-01-01T00:00:00.000Z`), read: () => undefined,
    }, linux);
    expect(plan.edits).toEqual([
      {file: `auth`, op: `set`, path: [`providers`, `openrouter`, `apiKey`], value: `sk-test`},
      {file: `auth`, op: `set`, path: [`providers`, `openrouter`, `baseUrl`], value: `https://openrouter.ai/api/v1`},
    ]);
  });
});
