// The built-in agents' `model()` (headroom preflight, issue 14 slice B5): the conformance kit, then what each reads.
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import claude   from '../../plugins/agent-claude/src/index.js';
import hermes   from '../../plugins/agent-hermes/src/index.js';
import openclaw from '../../plugins/agent-openclaw/src/index.js';
import opencode from '../../plugins/agent-opencode/src/index.js';
import {describeAgentConformance} from '../../core/src/testing/agent.js';
import type {AgentDefinition, AgentEnvironment, ConfigReader} from '../../core/src/plugin.js';

for (const def of [claude, hermes, openclaw, opencode] as AgentDefinition[]) describeAgentConformance(def);

const HOME = `/home/u`;
const envInfo = (env: Record<string, string> = {}): AgentEnvironment => ({env, home: HOME, cwd: `/work/proj`, platform: `linux`});

/** A reader over in-memory files: `{path: {a: {b: value}}}`. */
function reader(files: Record<string, unknown>): ConfigReader {
  return async (file, at) => at.reduce<unknown>((value, key) => (value as Record<string | number, unknown> | undefined)?.[key], files[file.path]);
}

const model = (def: AgentDefinition, files: Record<string, unknown>, env: Record<string, string> = {}, platformId = `openrouter`) =>
  def.model!(envInfo(env), undefined, reader(files), platformId);

describe(`model() of the built-in agents`, () => {
  it(`opencode: the project config wins over the global one; only the platform's own provider; limit.output`, async () => {
    const global = path.join(HOME, `.config`, `opencode`, `opencode.json`);
    const project = `/work/proj/opencode.json`;
    expect(await model(opencode, {[global]: {model: `openrouter/a/b`}})).toMatchObject({model: `a/b`, source: global});
    expect(await model(opencode, {[global]: {model: `openrouter/a/b`}, [project]: {model: `openrouter/c/d`}})).toMatchObject({model: `c/d`, source: project});
    expect(await model(opencode, {[global]: {model: `anthropic/claude-sonnet-4`}})).toBeUndefined();
    expect(await model(opencode, {[global]: {model: `openrouter/a/b`, provider: {openrouter: {models: {[`a/b`]: {limit: {output: 4096}}}}}}}))
      .toMatchObject({model: `a/b`, maxOutputTokens: 4096});
  });

  it(`claude: ANTHROPIC_MODEL in the environment, then in settings' env block, then settings' model; CLAUDE_CODE_MAX_OUTPUT_TOKENS`, async () => {
    const settings = path.join(HOME, `.claude`, `settings.json`);
    expect(await model(claude, {[settings]: {model: `x/settings`}})).toMatchObject({model: `x/settings`});
    expect(await model(claude, {[settings]: {model: `x/settings`, env: {ANTHROPIC_MODEL: `x/env-block`, CLAUDE_CODE_MAX_OUTPUT_TOKENS: `8000`}}}))
      .toMatchObject({model: `x/env-block`, maxOutputTokens: 8000});
    expect(await model(claude, {[settings]: {model: `x/settings`}}, {ANTHROPIC_MODEL: `x/process`, CLAUDE_CODE_MAX_OUTPUT_TOKENS: `lots`}))
      .toEqual(expect.objectContaining({model: `x/process`, source: `environment variable ANTHROPIC_MODEL`}));
    expect((await model(claude, {[settings]: {model: `x/settings`}}, {CLAUDE_CODE_MAX_OUTPUT_TOKENS: `lots`}))?.maxOutputTokens).toBeUndefined();
    expect(await model(claude, {})).toBeUndefined();
  });

  it(`hermes: model.default (or model.model, or a plain string) unless model.provider names another provider`, async () => {
    const config = path.join(HOME, `.hermes`, `config.yaml`);
    expect(await model(hermes, {[config]: {model: {default: `a/b`, provider: `openrouter`}}})).toMatchObject({model: `a/b`});
    expect(await model(hermes, {[config]: {model: {model: `a/c`}}})).toMatchObject({model: `a/c`});
    expect(await model(hermes, {[config]: {model: `a/d`}})).toMatchObject({model: `a/d`});
    expect(await model(hermes, {[config]: {model: {default: `claude-x`, provider: `anthropic`}}})).toBeUndefined();
  });

  it(`openclaw: agents.defaults.model.primary (or a plain string) with the platform's prefix only`, async () => {
    const config = path.join(HOME, `.openclaw`, `openclaw.json`);
    expect(await model(openclaw, {[config]: {agents: {defaults: {model: {primary: `openrouter/a/b`}}}}})).toMatchObject({model: `a/b`});
    expect(await model(openclaw, {[config]: {agents: {defaults: {model: `openrouter/a/c`}}}})).toMatchObject({model: `a/c`});
    expect(await model(openclaw, {[config]: {agents: {defaults: {model: {primary: `anthropic/x`}}}}})).toBeUndefined();
  });
});
