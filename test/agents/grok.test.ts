// The real Grok CLI (@vibe-kit/grok-cli, pinned 0.0.34, on this Node 20) after `capit … --agent grok`: its own
// request must reach the loopback emulator with the capped key, for OpenRouter and AIHubMix; a GROK_API_KEY in the
// shell wins over user-settings.json in grok-cli, so capit and doctor must say SHADOWED.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}          from '../support/cli.js';
import {emulatorPerFile} from '../support/emulator.js';
import {tempDir}         from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectDoctorSays, expectEmulatorHello, expectEveryInference, expectEveryInferenceWithAihubmixToken, expectEveryInferenceWithSessionKey, installAihubmixToken, installWithoutWarning} from './expect.js';
import {npmAgentCli} from './npm-agent.js';

const VERSION = `0.0.34`;
const GUARD = path.join(import.meta.dirname, `loopback-only.mjs`);
const AIHUBMIX_MASTER = `aihubmix-manage-fake-0000`;
const emulator = emulatorPerFile({port: 0});
// Another host (another port) for a base URL that sends grok's requests away from the platform.
const elsewhere = emulatorPerFile({port: 0});

const agent = npmAgentCli(`test/agents/grok.test.ts`, `@vibe-kit/grok-cli@${VERSION}`, `node_modules/@vibe-kit/grok-cli/dist/index.js`);

/**
 * One headless grok turn (`-p`) with an OpenRouter model id, as capit's note says (grok-cli's own default id is bare);
 * anything off loopback refused.
 */
function grok(env: Record<string, string>, cwd: string, model = `x-ai/grok-code-fast-1`, stopWhen?: () => boolean) {
  return run(process.execPath, [agent.cli!, `-p`, `hi`, `-m`, model, `--max-tool-rounds`, `1`], {
    env: {...env, NODE_OPTIONS: `--import=${GUARD}`, CAPIT_TEST_BLOCKED_LOG: path.join(cwd, `blocked-hosts.log`)},
    cwd, timeoutMs: 90_000, stopWhen,
  });
}

interface DoctorReport {status: string; redirectedBy: string | null; redirectedTo: string | null}

async function doctorJson(env: Record<string, string>, cwd: string) {
  const result = await runCli([`doctor`, `grok`, `--json`], {env, cwd});
  return {exitCode: result.exitCode, report: (JSON.parse(result.stdout) as DoctorReport[])[0]!, text: result.stdout + result.stderr};
}

/**
 * Installs with a base URL naming `elsewhere` in one of grok's layers, runs the real grok and checks that its request
 * carried the capped key to `elsewhere` (none reached the platform), and that doctor says REDIRECTED by that layer.
 */
async function expectRedirected(env: Record<string, string>, cwd: string, warnedLabel: string, doctorLabel: string) {
  const away = new URL(elsewhere.url).origin;
  const platformHost = new URL(emulator.openrouterBaseUrl).host;
  const installed = await runCli([`openrouter`, `5`, `--agent`, `grok`, `--yes`], {env, cwd});
  expect(installed.exitCode, installed.stderr).toBe(0);
  expect(installed.stderr).toContain(`warning: ${warnedLabel} → requests go to ${away}, not ${platformHost} — grok sends its requests there, where the cap does not apply\n`);
  const key = issuedKey(emulator);

  await grok(env, cwd, undefined, () => inferenceRequests(elsewhere).length > 0);
  expect(inferenceRequests(emulator)).toEqual([]);
  expectEveryInference(elsewhere, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

  const {exitCode, report, text} = await doctorJson(env, cwd);
  expect(exitCode).toBe(1);
  expect(report).toMatchObject({status: `redirected`, redirectedBy: doctorLabel, redirectedTo: away});
  expect(text).not.toContain(key.key);
}

describe(`real Grok CLI ${VERSION}`, () => {
  it(`sends the capped key to the base URL capit wrote; an OPENROUTER_API_KEY in the shell plays no part`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-2222222222222222`});
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `grok`, `--yes`], {env});

    const result = await grok(env, home);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`, model: `x-ai/grok-code-fast-1`});

    await expectDoctorSays(`grok`, `uses capit key ${key.name} ($5.00 cap) from ~/.grok/user-settings.json (apiKey)`, {env});
  }, 120_000);

  it(`a stale GROK_API_KEY in the shell wins: capit warns, doctor says SHADOWED, and grok really sends it`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const shellKey = emulator.createKey({name: `shell`, limit: 1}).key;
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator, {GROK_API_KEY: shellKey});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `grok`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`warning: environment variable GROK_API_KEY is set and wins over what capit wrote`);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`grok-`))!;

    const doctor = await runCli([`doctor`, `grok`], {env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`SHADOWED by environment variable GROK_API_KEY`);
    expect(doctor.stdout + doctor.stderr).not.toContain(shellKey);

    const result = await grok(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${shellKey}`)).toBe(true);
    expect(calls.some(c => c.authorization === `Bearer ${key.key}`)).toBe(false);
  }, 120_000);

  it(`a GROK_BASE_URL in the shell naming another host: the install warns, grok sends the capped key THERE, doctor says REDIRECTED`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator, {GROK_BASE_URL: `${elsewhere.url}/api/v1`});
    const label = `environment variable GROK_BASE_URL (grok-cli reads GROK_BASE_URL before user-settings.json)`;
    await expectRedirected(env, home, label, `environment variable GROK_BASE_URL`);
  }, 120_000);

  it(`a GROK_BASE_URL in the project's .env naming another host: the same, from that project`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator);
    const project = path.join(home, `project`);
    fs.mkdirSync(project);
    fs.writeFileSync(path.join(project, `.env`), `GROK_BASE_URL=${elsewhere.url}/api/v1\n`);
    const label = `${path.join(project, `.env`)} (GROK_BASE_URL) (grok-cli loads the project's .env into GROK_BASE_URL)`;
    await expectRedirected(env, project, label, `~/project/.env (GROK_BASE_URL)`);
  }, 120_000);

  it(`a GROK_BASE_URL naming the platform's own origin is not a redirect`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator, {GROK_BASE_URL: `${emulator.openrouterBaseUrl}/`});
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `grok`, `--yes`], {env});
    const result = await grok(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`});
    const {exitCode, report} = await doctorJson(env, home);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({status: `capit`, redirectedBy: null, redirectedTo: null});
  }, 120_000);

  it(`sends the capped AIHubMix key to the AIHubMix base capit wrote`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator, {
      CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: AIHUBMIX_MASTER,
    });
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `grok`, `--yes`], {env});

    const result = await grok(env, home, `grok-code-fast-1`);
    expectEmulatorHello(result);
    expectEveryInferenceWithAihubmixToken(emulator, `/v1/chat/completions`, token.key);
  }, 120_000);
  it(`after Grok CLI rewrote the settings capit created (its settings migration), restore still takes capit's key out`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator);
    expect((await runCli([`openrouter`, `5`, `--agent`, `grok`, `--yes`], {env})).exitCode).toBe(0);
    const key = issuedKey(emulator);
    const file = path.join(home, `.grok`, `user-settings.json`);
    expect((await grok(env, home)).exitCode).toBe(0);
    // grok-cli migrates a settings file without settingsVersion on its first run, adding its model list.
    const rewritten = JSON.parse(fs.readFileSync(file, `utf8`));
    expect(rewritten).toMatchObject({apiKey: key.key, baseURL: emulator.openrouterBaseUrl, settingsVersion: expect.any(Number)});
    const restored = await runCli([`restore`, `grok`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(restored.stdout).toContain(`reverted-edits`);
    // capit's two values are gone; what grok wrote itself stays.
    const after = JSON.parse(fs.readFileSync(file, `utf8`));
    expect(after.apiKey).toBeUndefined();
    expect(after.baseURL).toBeUndefined();
    expect(after.settingsVersion).toBe(rewritten.settingsVersion);
    expect(after.models).toEqual(rewritten.models);
  }, 120_000);
  it(`capit run hands Grok CLI a session key through GROK_API_KEY/GROK_BASE_URL over the key in user-settings.json`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-grok-`), emulator);
    const installed = emulator.createKey({name: `installed-before`, limit: 5});
    const file = path.join(home, `.grok`, `user-settings.json`);
    fs.mkdirSync(path.dirname(file), {recursive: true});
    const text = `${JSON.stringify({apiKey: installed.key, baseURL: emulator.openrouterBaseUrl, settingsVersion: 2})}\n`;
    fs.writeFileSync(file, text, {mode: 0o600});

    const result = await runCli([`run`, `--cap`, `1`, `--agent`, `grok`, `--`, process.execPath, agent.cli!, `-p`, `hi`, `-m`, `x-ai/grok-code-fast-1`, `--max-tool-rounds`, `1`], {
      env: {...env, NODE_OPTIONS: `--import=${GUARD}`}, timeoutMs: 120_000,
    });
    expectEmulatorHello(result);
    expectEveryInferenceWithSessionKey(emulator, installed.key);
    expect([...emulator.state.keys.values()].map(k => k.name)).toEqual([`installed-before`]);
    expect(JSON.parse(fs.readFileSync(file, `utf8`)).apiKey).toBe(installed.key);
  }, 150_000);
});
