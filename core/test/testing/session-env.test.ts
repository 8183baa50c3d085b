// The conformance kit's sessionEnv check (sessionEnvProblems) fails the answers it exists to catch.
import {describe, expect, it} from 'vitest';

import {PLACEHOLDER_SECRET, sessionEnvProblems} from '../../src/testing/agent.js';

describe(`sessionEnvProblems`, () => {
  it(`accepts a well-formed answer and a reason`, () => {
    expect(sessionEnvProblems({env: {OPENROUTER_API_KEY: PLACEHOLDER_SECRET}, beatenBy: [
      {kind: `file`, path: `/home/ada/.hermes/.env`, format: `dotenv`, at: [`OPENROUTER_API_KEY`]},
      {kind: `env`, name: `CLAUDE_CODE_USE_BEDROCK`},
    ]}, `linux`)).toEqual([]);
    expect(sessionEnvProblems(`an IDE reads its own store`, `linux`)).toEqual([]);
  });

  it(`names each broken rule`, () => {
    expect(sessionEnvProblems(``, `linux`)).toEqual([`the refusal reason is empty`]);
    expect(sessionEnvProblems(`no: ${PLACEHOLDER_SECRET}`, `linux`)).toEqual([`the refusal reason contains the secret`]);
    expect(sessionEnvProblems({env: {}}, `linux`)).toEqual([`sets no variable`, `no variable carries the secret`]);
    expect(sessionEnvProblems({env: {[`KEY_${PLACEHOLDER_SECRET}`]: `x`}}, `linux`)).toEqual([
      `variable name "KEY_<secret>" is not a valid name`, `no variable carries the secret`,
    ]);
    expect(sessionEnvProblems({env: {A: PLACEHOLDER_SECRET}, beatenBy: [
      {kind: `file`, path: `relative/settings.json`, format: `json`, at: [`env`, PLACEHOLDER_SECRET]},
    ]}, `linux`)).toEqual([`a beatenBy source contains the secret`, `beatenBy relative/settings.json is not absolute on linux`]);
  });
});
