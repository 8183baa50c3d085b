// Headroom preflight when issuing: a cap below one worst-case request of the agent's model is warned about (the
// provider would refuse requests with 402 "can only afford" while budget remains). Prices come from the emulator's
// /models (anthropic/claude-sonnet-4.5: $15 per million output tokens, at most 64,000; openai/gpt-4o-mini: $2, 16,384).
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {capit, managementRequests, onlyKey, sandbox, useEmulator, warnings, write} from '../support/agent-harness.js';
import type {Sandbox} from '../support/agent-harness.js';

const emulator = useEmulator();

const SONNET = `anthropic/claude-sonnet-4.5`;

function claudeSettings(sb: Sandbox, settings: Record<string, unknown>) {
  write(path.join(sb.home, `.claude`, `settings.json`), JSON.stringify(settings));
}

function opencodeConfig(sb: Sandbox, config: Record<string, unknown>) {
  write(path.join(sb.env.XDG_CONFIG_HOME!, `opencode`, `opencode.json`), JSON.stringify(config));
}

const modelLookups = () => managementRequests(emulator.current).filter(r => r.path === `/api/v1/models`);

interface Headroom {model: string | null; outputTokens: number | null; worstCaseUsd: number | null; warning: string | null}

describe(`headroom preflight`, () => {
  it(`warns when the cap is below one worst-case request of claude's model, and still installs the key`, async () => {
    const sb = sandbox(emulator.current);
    claudeSettings(sb, {model: SONNET});
    const result = await capit([`openrouter`, `0.50`, `--agent`, `claude`, `--yes`], {env: sb.env});
    expect(result.exitCode).toBe(0);
    const lines = warnings(result);
    expect(lines).toHaveLength(1);
    // 64,000 × $0.000015 = $0.96; $0.50 buys 33,333 output tokens.
    expect(lines[0]).toContain(`warning: a $0.50 cap is below one worst-case request on ${SONNET}: 64,000 output tokens (the model's maximum) × $15.00/M = $0.96;`);
    expect(lines[0]).toContain(`Use a cap of at least $0.96, or limit claude's output to 33,333 tokens (CLAUDE_CODE_MAX_OUTPUT_TOKENS`);
    expect(onlyKey(emulator.current).limit).toBe(0.5);
  });

  it(`uses the agent's own output limit (opencode's limit.output) and is silent once the cap covers it`, async () => {
    const sb = sandbox(emulator.current);
    opencodeConfig(sb, {model: `openrouter/${SONNET}`, provider: {openrouter: {models: {[SONNET]: {limit: {output: 8000}}}}}});
    // 8,000 × $0.000015 = $0.12.
    const low = await capit([`openrouter`, `0.10`, `--agent`, `opencode`, `--dry-run`, `--json`], {env: sb.env});
    expect(low.exitCode).toBe(0);
    const plan = JSON.parse(low.stdout) as {headroom: Headroom};
    expect(plan.headroom).toMatchObject({model: SONNET, outputTokens: 8000, worstCaseUsd: 0.12});
    expect(plan.headroom.warning).toContain(`8,000 output tokens (opencode's output limit)`);
    expect(plan.headroom.warning).toContain(`Use a cap of at least $0.12`);
    // --json keeps stderr free of the text warning: it is in the JSON.
    expect(warnings(low)).toEqual([]);

    const enough = await capit([`openrouter`, `0.12`, `--agent`, `opencode`, `--yes`, `--json`], {env: sb.env});
    expect(enough.exitCode).toBe(0);
    expect((JSON.parse(enough.stdout) as {headroom: Headroom}).headroom).toMatchObject({model: SONNET, worstCaseUsd: 0.12, warning: null});
  });

  it(`checks --model without an agent, and --model wins over the agent's config`, async () => {
    const sb = sandbox(emulator.current);
    const bare = await capit([`openrouter`, `0.01`, `--model`, `openai/gpt-4o-mini`, `--dry-run`], {env: sb.env});
    expect(bare.exitCode).toBe(0);
    // 16,384 × $0.000002 = $0.032768 → at least $0.04; $0.01 affords 5,000 tokens.
    expect(warnings(bare)).toEqual([expect.stringContaining(`a $0.01 cap is below one worst-case request on openai/gpt-4o-mini: 16,384 output tokens`)]);
    expect(warnings(bare)[0]).toContain(`Use a cap of at least $0.04, or limit the agent's output to 5,000 tokens`);
    // The form opencode writes, with the platform's id in front, names the same model.
    const prefixed = await capit([`openrouter`, `0.01`, `--model`, `openrouter/openai/gpt-4o-mini`, `--dry-run`], {env: sb.env});
    expect(warnings(prefixed)).toEqual(warnings(bare));

    claudeSettings(sb, {model: SONNET});
    const over = await capit([`openrouter`, `0.50`, `--agent`, `claude`, `--model`, `openai/gpt-4o-mini`, `--dry-run`], {env: sb.env});
    expect(over.exitCode).toBe(0);
    expect(warnings(over)).toEqual([]);
  });

  it(`says nothing and sends no lookup when the model is unknown`, async () => {
    const sb = sandbox(emulator.current);
    claudeSettings(sb, {permissions: {allow: []}});
    opencodeConfig(sb, {model: `anthropic/${SONNET}`}); // another provider's model: not priced by OpenRouter
    for (const agent of [`claude`, `opencode`]) {
      const result = await capit([`openrouter`, `0.01`, `--agent`, agent, `--yes`], {env: sb.env});
      expect(result.exitCode).toBe(0);
      expect(warnings(result)).toEqual([]);
      expect(result.stderr).not.toContain(`headroom`);
    }
    expect(modelLookups()).toEqual([]);
  });

  it(`never blocks the install when the price lookup fails: silent for a configured model, one note for --model`, async () => {
    const sb = sandbox(emulator.current);
    claudeSettings(sb, {model: SONNET});
    emulator.current.faults.add({kind: `status`, status: 500, method: `GET`, path: `/api/v1/models`, count: -1});
    const result = await capit([`openrouter`, `0.50`, `--agent`, `claude`, `--yes`, `--json`], {env: sb.env});
    expect(result.exitCode).toBe(0);
    expect(result.stderr).not.toMatch(/headroom|warning:/);
    expect((JSON.parse(result.stdout) as {headroom: Headroom}).headroom).toEqual({model: SONNET, outputTokens: null, worstCaseUsd: null, warning: null});
    expect(modelLookups()).toHaveLength(1); // one try, no retries: a nicety must not slow the install
    expect(onlyKey(emulator.current).limit).toBe(0.5);

    const named = await capit([`openrouter`, `0.50`, `--model`, SONNET, `--dry-run`], {env: sb.env});
    expect(named.exitCode).toBe(0);
    expect(named.stderr).toMatch(new RegExp(`^note: could not check headroom for ${SONNET.replace(/\./g, `\\.`)}: .*500`, `m`));
    expect(warnings(named)).toEqual([]);

    emulator.current.faults.clear();
    const unlisted = await capit([`openrouter`, `0.50`, `--model`, `example/not-a-model`, `--dry-run`], {env: sb.env});
    expect(unlisted.stderr).toContain(`note: could not check headroom for example/not-a-model: OpenRouter does not list example/not-a-model\n`);
  });

  it(`refuses a malformed --model with exit 2 before any request`, async () => {
    const sb = sandbox(emulator.current);
    const result = await capit([`openrouter`, `5`, `--model`, `bad model`, `--yes`], {env: sb.env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toContain(`Invalid --model "bad model"`);
    expect(managementRequests(emulator.current)).toEqual([]);
  });
});
