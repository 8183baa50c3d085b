// The real Continue CLI (`cn`, @continuedev/cli pinned 1.5.47, on this Node 20) after `capit … --agent continue`: its
// own request must reach the loopback emulator with the capped key, for OpenRouter and AIHubMix. cn asks
// api.continue.dev for its latest version at every start (src/version.ts, no switch): the loopback-only preload
// refuses that connection, and telemetry is off.
import fs   from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {runCli}          from '../support/cli.js';
import {emulatorPerFile} from '../support/emulator.js';
import {installPackage}  from '../support/npm-fetch.js';
import {tempDir}         from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';

const VERSION = `1.5.47`;
const GUARD = path.join(import.meta.dirname, `loopback-only.mjs`);
const AIHUBMIX_MASTER = `aihubmix-manage-fake-0000`;
const emulator = emulatorPerFile({port: 0});

let cli: string | undefined;
let skipReason: string | undefined;

beforeAll(() => {
  const got = installPackage(`@continuedev/cli@${VERSION}`);
  if (`reason` in got) {
    skipReason = got.reason;
    process.stderr.write(`test/agents/continue.test.ts: skipped: ${got.reason}\n`);
    return;
  }
  cli = path.join(got.dir, `node_modules/@continuedev/cli/dist/cn.js`);
}, 900_000);

/** One headless cn turn (`-p`) with the local config.yaml; no telemetry, anything off loopback refused. */
function cn(env: Record<string, string>, cwd: string) {
  return run(process.execPath, [cli!, `-p`, `hi`], {
    env: {...env, CONTINUE_CLI_ENABLE_TELEMETRY: `0`, CONTINUE_METRICS_ENABLED: `0`, NODE_OPTIONS: `--import=${GUARD}`, CAPIT_TEST_BLOCKED_LOG: path.join(cwd, `blocked-hosts.log`)},
    cwd, timeoutMs: 90_000,
  });
}

describe(`real Continue CLI ${VERSION}`, () => {
  it(`sends the capped key written into config.yaml, also with a stale OPENROUTER_API_KEY in the shell`, async ctx => {
    if (!cli) return ctx.skip(skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-2222222222222222`});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `continue`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/warning/i);
    const key = issuedKey(emulator);

    const result = await cn(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Hello from the capit emulator`);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/api/v1/chat/completions`);
      expect(call.authorization).toBe(`Bearer ${key.key}`);
    }

    const doctor = await runCli([`doctor`, `continue`], {env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key ${key.name} ($5.00 cap) from ~/.continue/config.yaml (models.0.apiKey)`);
  }, 120_000);

  it(`sends the capped AIHubMix key to the AIHubMix base capit wrote`, async ctx => {
    if (!cli) return ctx.skip(skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator, {
      CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: AIHUBMIX_MASTER,
    });
    const installed = await runCli([`aihubmix`, `5`, `--agent`, `continue`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const tokens = [...emulator.state.aihubmixTokens.values()];
    expect(tokens).toHaveLength(1);
    expect(fs.readFileSync(path.join(home, `.continue`, `config.yaml`), `utf8`)).toContain(`apiBase: ${emulator.aihubmixBaseUrl}/v1`);

    const result = await cn(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toContain(`Hello from the capit emulator`);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/v1/chat/completions`);
      expect(call.authorization?.replace(/^Bearer (sk-)?/, ``)).toBe(tokens[0]!.key);
    }
  }, 120_000);
});
