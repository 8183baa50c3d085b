// The real Cline CLI (pinned @cline/cli-linux-x64@3.0.65, fetched from npm at test time) after `capit … --agent cline`:
// what it sends, as the loopback emulator sees it, must agree with `capit doctor cline` for each layer it reads.
// Cline's CLI reads settings/providers.json first (then OPENROUTER_API_KEY); secrets.json is the IDE extension's file.
import fs   from 'node:fs';
import path from 'node:path';

import {afterEach, beforeAll, describe, expect, it} from 'vitest';

import {startEmulator}   from '../emulator/server.mjs';
import {emulatorPerFile} from '../support/emulator.js';
import {fetchPackage}    from '../support/npm-fetch.js';
import {runCli}          from '../support/cli.js';
import {tempDir}         from '../support/tmp.js';
import {agentSandbox, inferenceRequests, run} from './support.js';
import {expectEmulatorHello, installAihubmixToken} from './expect.js';

const CLINE_SPEC = `@cline/cli-linux-x64@3.0.65`;
const MODEL = `openai/gpt-4o-mini`;
const emulator = emulatorPerFile({port: 0});

let clineBin: string | undefined;
let skipReason: string | undefined;

beforeAll(() => {
  if (process.platform !== `linux` || process.arch !== `x64`) {
    skipReason = `${CLINE_SPEC} is a linux-x64 binary`;
  } else {
    const fetched = fetchPackage(CLINE_SPEC);
    if (`reason` in fetched) skipReason = fetched.reason;
    else clineBin = path.join(fetched.dir, `bin`, `cline`);
  }
  if (skipReason) process.stderr.write(`test/agents/cline.test.ts: skipped: ${skipReason}\n`);
}, 900_000);

// `cline "<prompt>"` starts a detached hub daemon (`cline --cline-hub-daemon --cwd <cwd> …`) that outlives the run:
// stop the ones this file started (found by the binary and the sandbox it ran in), by pid.
const sandboxes: string[] = [];
afterEach(() => {
  for (const pid of fs.readdirSync(`/proc`).filter(p => /^\d+$/.test(p))) {
    let cmdline: string;
    try {
      cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, `utf8`).replaceAll(`\0`, ` `);
    } catch {
      continue;
    }
    if (clineBin && cmdline.startsWith(clineBin) && cmdline.includes(`--cline-hub-daemon`) && sandboxes.some(dir => cmdline.includes(dir))) {
      try {
        process.kill(Number(pid), `SIGKILL`);
      } catch {}
    }
  }
  sandboxes.length = 0;
});

function sandbox(extra: Record<string, string> = {}) {
  const box = agentSandbox(tempDir(`capit-cline-`), emulator, {
    CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl,
    AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`,
    ...extra,
  });
  sandboxes.push(box.home);
  // Cline's own switches for an offline run: no self-update, no telemetry (globalState.json, which capit keeps).
  box.env.CLINE_NO_AUTO_UPDATE = `1`;
  box.env.DO_NOT_TRACK = `1`;
  const data = path.join(box.home, `.cline`, `data`);
  fs.mkdirSync(data, {recursive: true});
  fs.writeFileSync(path.join(data, `globalState.json`), `{"telemetrySetting": "disabled"}\n`);
  return {...box, data, providers: path.join(data, `settings`, `providers.json`), secrets: path.join(data, `secrets.json`)};
}

/** One non-interactive task (`--json`, its own 60 s timeout); the CLI exits once the model has answered. */
function cline(env: Record<string, string>, cwd: string, model = MODEL) {
  return run(clineBin!, [`say hi`, `--json`, `-t`, `60`, `-m`, model], {env, cwd, timeoutMs: 90_000});
}

/** The key capit issued in this test (the emulator also holds the keys the test made itself). */
function cappedKey() {
  return [...emulator.state.keys.values()].find(k => k.name.startsWith(`cline-`))!;
}

/** The Authorization headers of the inference requests made since `from`. */
function sentSince(from: number): (string | null)[] {
  return inferenceRequests(emulator).slice(from).map(r => r.authorization);
}

/** Doctor lines that vouch for the capped key, except those about the IDE extension (which reads secrets.json first). */
function vouchesForCli(stdout: string): string[] {
  return stdout.split(`\n`).filter(line => line.includes(`uses capit key`) && !/extension/i.test(line));
}

describe(`real Cline CLI 3.0.65`, () => {
  it(`sends the capped key from providers.json, also with OPENROUTER_API_KEY in the shell; doctor agrees`, async ctx => {
    if (skipReason) return ctx.skip();
    const shellKey = emulator.createKey({name: `shell`, limit: 1}).key;
    const sb = sandbox({OPENROUTER_API_KEY: shellKey});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const key = cappedKey();
    // capit pointed Cline at the emulator (not Cline's default base) in the file the CLI reads.
    expect(JSON.parse(fs.readFileSync(sb.providers, `utf8`)).providers.openrouter.settings.baseUrl).toBe(emulator.openrouterBaseUrl);

    const result = await cline(sb.env, sb.home);
    expectEmulatorHello(result);
    const sent = sentSince(0);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every(a => a === `Bearer ${key.key}`)).toBe(true);

    const doctor = await runCli([`doctor`, `cline`], {env: sb.env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key ${key.name}`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);
  }, 180_000);

  it(`after \`cline auth openrouter -k <other>\` (only providers.json rewritten) the CLI sends the other key, and doctor does not vouch for the capped one`, async ctx => {
    if (skipReason) return ctx.skip();
    const sb = sandbox();
    expect((await runCli([`openrouter`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env})).exitCode).toBe(0);
    const capped = cappedKey();
    const other = emulator.createKey({name: `other`, limit: 1}).key;
    const secretsBefore = fs.readFileSync(sb.secrets, `utf8`);

    const auth = await run(clineBin!, [`auth`, `openrouter`, `-k`, other, `-m`, MODEL], {env: sb.env, cwd: sb.home, timeoutMs: 60_000});
    expect(auth.exitCode, auth.stderr).toBe(0);
    expect(fs.readFileSync(sb.secrets, `utf8`)).toBe(secretsBefore);
    expect(JSON.parse(fs.readFileSync(sb.providers, `utf8`)).providers.openrouter.settings.apiKey).toBe(other);

    expect((await cline(sb.env, sb.home)).exitCode).toBe(0);
    const sent = sentSince(0);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every(a => a === `Bearer ${other}`)).toBe(true);

    const doctor = await runCli([`doctor`, `cline`], {env: sb.env});
    // Issue 12 case 6: the CLI sends an uncapped key, so doctor must not exit 0.
    expect(doctor.exitCode).toBe(1);
    expect(vouchesForCli(doctor.stdout)).toEqual([]);
    expect(doctor.stdout).toContain(`providers.json`);
    expect(doctor.stdout + doctor.stderr).not.toContain(capped.key);
    expect(doctor.stdout + doctor.stderr).not.toContain(other);
  }, 180_000);

  it(`an edit of secrets.json alone does not change what the CLI sends (and, where core judges flavours, doctor still vouches for the CLI)`, async ctx => {
    if (skipReason) return ctx.skip();
    const sb = sandbox();
    expect((await runCli([`openrouter`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env})).exitCode).toBe(0);
    const capped = cappedKey();
    const other = emulator.createKey({name: `other`, limit: 1}).key;
    const secrets = JSON.parse(fs.readFileSync(sb.secrets, `utf8`)) as Record<string, string>;
    fs.writeFileSync(sb.secrets, JSON.stringify({...secrets, openRouterApiKey: other}));

    expect((await cline(sb.env, sb.home)).exitCode).toBe(0);
    const sent = sentSince(0);
    expect(sent.length).toBeGreaterThan(0);
    expect(sent.every(a => a === `Bearer ${capped.key}`)).toBe(true);

    const doctor = await runCli([`doctor`, `cline`], {env: sb.env});
    expect(doctor.stdout + doctor.stderr).not.toContain(other);
    const cliLines = doctor.stdout.split(`\n`).filter(line => line.includes(`Cline CLI`));
    expect(cliLines.length).toBeGreaterThan(0);
    expect(cliLines.every(line => line.includes(`uses capit key ${capped.name}`))).toBe(true);
  }, 180_000);

  it(`lastUsedProvider switched to another provider (as \`cline auth\` does): the CLI sends that provider's key, and doctor says SHADOWED for the CLI only`, async ctx => {
    if (skipReason) return ctx.skip();
    const sb = sandbox();
    expect((await runCli([`openrouter`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env})).exitCode).toBe(0);
    const capped = cappedKey();
    // The user's own AIHubMix token, on Cline's aihubmix provider, selected again.
    const mine = emulator.seedAihubmixTokens(1, {prefix: `mine`, capUsd: 1})[0]!;
    const providers = JSON.parse(fs.readFileSync(sb.providers, `utf8`)) as {lastUsedProvider?: string; providers: Record<string, unknown>};
    providers.providers.aihubmix = {
      settings: {provider: `aihubmix`, apiKey: `sk-${mine.key}`, baseUrl: `${emulator.aihubmixBaseUrl}/v1`},
      updatedAt: `2026-01-01T00:00:00.000Z`, tokenSource: `manual`,
    };
    providers.lastUsedProvider = `aihubmix`;
    fs.writeFileSync(sb.providers, JSON.stringify(providers, null, 2));

    await cline(sb.env, sb.home, `gpt-4o-mini`);
    expect(inferenceRequests(emulator).filter(r => r.authorization === `Bearer ${capped.key}`)).toEqual([]);
    const calls = emulator.state.requests.filter(r => r.method === `POST` && r.path === `/v1/chat/completions`);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer sk-${mine.key}`)).toBe(true);

    const doctor = await runCli([`doctor`, `cline`], {env: sb.env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(1);
    expect(vouchesForCli(doctor.stdout)).toEqual([]);
    expect(doctor.stdout).toContain(`SHADOWED`);
    expect(doctor.stdout + doctor.stderr).not.toContain(capped.key);
  }, 180_000);

  it(`capit aihubmix 5 --agent cline: the CLI's own aihubmix provider sends the capped AIHubMix key`, async ctx => {
    if (skipReason) return ctx.skip();
    const sb = sandbox();
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env});
    const settings = JSON.parse(fs.readFileSync(sb.providers, `utf8`)).providers.aihubmix.settings;
    expect(settings.baseUrl).toBe(`${emulator.aihubmixBaseUrl}/v1`);

    const result = await cline(sb.env, sb.home, `gpt-4o-mini`);
    expectEmulatorHello(result);
    const calls = emulator.state.requests.filter(r => r.method === `POST` && r.path === `/v1/chat/completions`);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${settings.apiKey}`)).toBe(true);
    expect(settings.apiKey).toContain(token.key);

    const doctor = await runCli([`doctor`, `cline`], {env: sb.env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key`);
  }, 180_000);

  it(`a providers.json baseUrl on another host gets the capped key and doctor says REDIRECTED`, async ctx => {
    if (skipReason) return ctx.skip();
    const elsewhere = await startEmulator({port: 0, quiet: true});
    try {
      const sb = sandbox();
      expect((await runCli([`openrouter`, `5`, `--agent`, `cline`, `--yes`], {env: sb.env})).exitCode).toBe(0);
      const capped = cappedKey();
      const settings = JSON.parse(fs.readFileSync(sb.providers, `utf8`)) as {providers: {openrouter: {settings: Record<string, string>}}};
      settings.providers.openrouter.settings.baseUrl = elsewhere.openrouterBaseUrl;
      fs.writeFileSync(sb.providers, JSON.stringify(settings));

      await cline(sb.env, sb.home);
      expect(inferenceRequests(emulator)).toEqual([]);
      const there = elsewhere.state.requests.filter(r => r.method === `POST` && r.path === `/api/v1/chat/completions`);
      expect(there.length).toBeGreaterThan(0);
      expect(there.every(r => r.authorization === `Bearer ${capped.key}`)).toBe(true);

      const doctor = await runCli([`doctor`, `cline`], {env: sb.env});
      expect(doctor.stdout + doctor.stderr).not.toContain(capped.key);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.stdout).toContain(`REDIRECTED`);
      expect(vouchesForCli(doctor.stdout)).toEqual([]);
    } finally {
      await elsewhere.close();
    }
  }, 180_000);
});

