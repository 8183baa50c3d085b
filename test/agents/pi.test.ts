// The real pi (@mariozechner/pi-coding-agent, pinned 0.73.1, on this Node 20) after `capit … --agent pi`: its own
// request must reach the loopback emulator with the capped key, for OpenRouter and AIHubMix.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}         from '../support/cli.js';
import {emulatorPerFile} from '../support/emulator.js';
import {tempDir}        from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectDoctorSays, expectEmulatorHello, expectEveryInference, expectEveryInferenceWithAihubmixToken, installAihubmixToken} from './expect.js';
import {npmAgentCli} from './npm-agent.js';

const VERSION = `0.73.1`;
const GUARD = path.join(import.meta.dirname, `loopback-only.mjs`);
const AIHUBMIX_MASTER = `aihubmix-manage-fake-0000`;
const emulator = emulatorPerFile({port: 0});
// Another host (another port) for a base URL that sends pi's requests away from the platform.
const elsewhere = emulatorPerFile({port: 0});

const agent = npmAgentCli(`test/agents/pi.test.ts`, `@mariozechner/pi-coding-agent@${VERSION}`, `node_modules/@mariozechner/pi-coding-agent/dist/cli.js`);

/** One non-interactive pi turn; pi's startup network operations off, anything else off loopback refused. */
function pi(env: Record<string, string>, cwd: string, provider: string, model: string, stopWhen?: () => boolean) {
  const blocked = path.join(cwd, `blocked-hosts.log`);
  return run(process.execPath, [agent.cli!, `-p`, `--no-session`, `--provider`, provider, `--model`, model, `hi`], {
    env: {...env, PI_OFFLINE: `1`, PI_SKIP_VERSION_CHECK: `1`, PI_TELEMETRY: `0`, NODE_OPTIONS: `--import=${GUARD}`, CAPIT_TEST_BLOCKED_LOG: blocked},
    cwd, timeoutMs: 90_000, stopWhen,
  });
}

/** Points pi's built-in openrouter provider at the emulator the way a user would: models.json `baseUrl`. */
function pointOpenrouterAtEmulator(home: string, baseUrl = emulator.openrouterBaseUrl) {
  const dir = path.join(home, `.pi`, `agent`);
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, `models.json`), JSON.stringify({providers: {openrouter: {baseUrl}}}));
}

interface DoctorReport {status: string; redirectedBy: string | null; redirectedTo: string | null; sources: {label: string; role: string; present: boolean; origin: string | null}[]}

async function doctorJson(env: Record<string, string>) {
  const result = await runCli([`doctor`, `pi`, `--json`], {env});
  return {exitCode: result.exitCode, report: (JSON.parse(result.stdout) as DoctorReport[])[0]!, text: result.stdout + result.stderr};
}

describe(`real pi ${VERSION}`, () => {
  it(`sends the capped key from auth.json, also with a stale OPENROUTER_API_KEY in the shell (auth.json wins)`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const shellKey = `sk-or-v1-shell-fake-2222222222222222`;
    const {env, home} = agentSandbox(tempDir(`capit-pi-`), emulator, {OPENROUTER_API_KEY: shellKey});
    pointOpenrouterAtEmulator(home);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `pi`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    // OPENROUTER_API_KEY ranks below auth.json in pi: nothing to warn about.
    expect(installed.stderr).not.toMatch(/warning/i);
    const key = issuedKey(emulator);

    const result = await pi(env, home, `openrouter`, `openai/gpt-4o-mini`);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

    await expectDoctorSays(`pi`, `pi  uses capit key ${key.name} ($5.00 cap) from ~/.pi/agent/auth.json (openrouter.key)`, {env});
    // models.json names the platform's own origin (the emulator): set, read, and not a redirect.
    const {exitCode, report} = await doctorJson(env);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({status: `capit`, redirectedBy: null, redirectedTo: null});
    expect(report.sources.find(s => s.label.endsWith(`models.json (providers.openrouter.baseUrl)`))).toMatchObject({role: `baseUrl`, present: true, origin: new URL(emulator.url).origin});
  }, 120_000);

  it(`a models.json baseUrl naming another host: the install warns, pi sends the capped key THERE, doctor says REDIRECTED`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-pi-`), emulator);
    const away = new URL(elsewhere.url).origin;
    const platformHost = new URL(emulator.openrouterBaseUrl).host;
    pointOpenrouterAtEmulator(home, `${elsewhere.url}/api/v1`);
    const modelsFile = path.join(home, `.pi`, `agent`, `models.json`);

    const installed = await runCli([`openrouter`, `5`, `--agent`, `pi`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`warning: ${modelsFile} (providers.openrouter.baseUrl) (pi sends openrouter requests to this base URL) → requests go to ${away}, not ${platformHost} — pi sends its requests there, where the cap does not apply\n`);
    const key = issuedKey(emulator);

    await pi(env, home, `openrouter`, `openai/gpt-4o-mini`, () => inferenceRequests(elsewhere).length > 0);
    expect(inferenceRequests(emulator)).toEqual([]);
    expectEveryInference(elsewhere, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

    const {exitCode, report, text} = await doctorJson(env);
    expect(exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedBy: `~/.pi/agent/models.json (providers.openrouter.baseUrl)`, redirectedTo: away});
    expect(text).not.toContain(key.key);
  }, 120_000);

  it(`sends the capped AIHubMix key to the AIHubMix base capit wrote into models.json`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-pi-`), emulator, {
      CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: AIHUBMIX_MASTER,
    });
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `pi`, `--yes`], {env});
    const models = JSON.parse(fs.readFileSync(path.join(home, `.pi`, `agent`, `models.json`), `utf8`));
    expect(models.providers.aihubmix.baseUrl).toBe(`${emulator.aihubmixBaseUrl}/v1`);
    expect(fs.statSync(path.join(home, `.pi`, `agent`, `models.json`)).mode & 0o777).toBe(0o600);

    const result = await pi(env, home, `aihubmix`, `gpt-4o-mini`);
    expectEmulatorHello(result);
    expectEveryInferenceWithAihubmixToken(emulator, `/v1/chat/completions`, token.key);
  }, 120_000);
  it(`capit run hands pi a session key through OPENROUTER_API_KEY, and refuses while auth.json holds one (it would win) or models.json sends it to another host`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-pi-`), emulator);
    pointOpenrouterAtEmulator(home);
    const piArgs = [process.execPath, agent.cli!, `-p`, `--no-session`, `--provider`, `openrouter`, `--model`, `openai/gpt-4o-mini`, `hi`];
    const runEnv = {...env, PI_OFFLINE: `1`, PI_SKIP_VERSION_CHECK: `1`, PI_TELEMETRY: `0`, NODE_OPTIONS: `--import=${GUARD}`};

    const result = await runCli([`run`, `--cap`, `1`, `--agent`, `pi`, `--`, ...piArgs], {env: runEnv, timeoutMs: 120_000});
    expectEmulatorHello(result);
    const created = emulator.state.requests.find(r => r.method === `POST` && r.path === `/api/v1/keys`);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.keyHash).toBe(created!.keyHash);
    // pi creates an empty auth.json itself; capit wrote no key into it.
    const authFile = path.join(home, `.pi`, `agent`, `auth.json`);
    if (fs.existsSync(authFile)) expect(JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter).toBeUndefined();

    // A models.json baseUrl naming another host would take the session key there (pi sends OPENROUTER_API_KEY to
    // whichever base wins): capit run refuses before creating a key, and pi is not started.
    pointOpenrouterAtEmulator(home, elsewhere.openrouterBaseUrl);
    const keysBeforeRedirect = emulator.state.keys.size;
    const redirected = await runCli([`run`, `--cap`, `1`, `--agent`, `pi`, `--`, ...piArgs], {env: runEnv});
    expect(redirected.exitCode, redirected.stderr).toBe(2);
    expect(redirected.stderr).toContain(`models.json`);
    expect(emulator.state.keys.size).toBe(keysBeforeRedirect);
    expect(inferenceRequests(elsewhere)).toEqual([]);
    pointOpenrouterAtEmulator(home);

    // With a key in auth.json, OPENROUTER_API_KEY would lose: capit run refuses before creating a key.
    fs.writeFileSync(authFile, JSON.stringify({openrouter: {type: `api_key`, key: `sk-or-v1-fake-installed-0000`}}), {mode: 0o600});
    const keysBefore = emulator.state.keys.size;
    const refused = await runCli([`run`, `--cap`, `1`, `--agent`, `pi`, `--`, ...piArgs], {env: runEnv});
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`auth.json`);
    expect(refused.stderr).not.toContain(`sk-or-v1-fake-installed-0000`);
    expect(emulator.state.keys.size).toBe(keysBefore);
  }, 150_000);
});
