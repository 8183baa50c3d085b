// The real Factory Droid (binary of @factory/cli-linux-x64@0.225.2, fetched from npm at test time) after
// `capit … --agent droid`: `droid exec` needs no Factory login for a BYOK custom model, and its own request must reach
// the loopback emulator with the capped key, for OpenRouter and for AIHubMix.
import fs   from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {DEFAULT_AIHUBMIX_MANAGE_KEY} from '../emulator/server.mjs';
import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {fetchPackage}    from '../support/npm-fetch.js';
import {tempDir}         from '../support/tmp.js';
import {agentSandbox, inferenceRequests, run} from './support.js';
import {expectDoctorSays, expectEmulatorHello, expectEveryInference, installAihubmixToken, installWithoutWarning} from './expect.js';

const emulator = emulatorPerFile({port: 0});
const SPEC = `@factory/cli-linux-x64@0.225.2`;
let droidBin: string | undefined;

beforeAll(() => {
  if (process.platform !== `linux` || process.arch !== `x64`) {
    process.stderr.write(`test/agents/droid.test.ts: skipped: ${SPEC} runs on linux x64 only\n`);
    return;
  }
  const got = fetchPackage(SPEC);
  if (`reason` in got) process.stderr.write(`test/agents/droid.test.ts: skipped: ${got.reason}\n`);
  else droidBin = path.join(got.dir, `bin`, `droid`);
}, 900_000);

function droid(env: Record<string, string>, cwd: string, model?: string) {
  return run(droidBin!, [`exec`, ...(model ? [`-m`, model] : []), `hi`], {
    // Keep it offline and quiet: no telemetry, no auto-update; HOME is the sandbox, so ~/.factory is capit's.
    env: {...env, DO_NOT_TRACK: `1`, FACTORY_DROID_AUTO_UPDATE_ENABLED: `false`},
    cwd,
    timeoutMs: 90_000,
  });
}

describe(`real Factory Droid 0.225.2`, () => {
  it(`droid exec sends the capped key as Bearer to OpenRouter, also with OPENROUTER_API_KEY in the shell`, async ctx => {
    if (!droidBin) return ctx.skip();
    const shellKey = `sk-or-v1-shell-fake-2222222222222222`;
    const {env, home} = agentSandbox(tempDir(`capit-droid-`), emulator, {OPENROUTER_API_KEY: shellKey});
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `droid`, `--yes`], {env});

    const result = await droid(env, home, `custom:capit-openrouter`);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

    await expectDoctorSays(`droid`, `uses capit key ${key.name}`, {env});

    // Without -m, Droid's default model is the one capit selected (sessionDefaultSettings.model), not Factory's.
    const before = inferenceRequests(emulator).length;
    const byDefault = await droid(env, home);
    expect(byDefault.exitCode, byDefault.stderr).toBe(0);
    const defaultCalls = inferenceRequests(emulator).slice(before);
    expect(defaultCalls.length).toBeGreaterThan(0);
    expect(defaultCalls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);
  }, 180_000);

  it(`sessionDefaultSettings.model set back to the user's model: droid exec sends the user's key, and doctor says SHADOWED (the selector)`, async ctx => {
    if (!droidBin) return ctx.skip();
    const mineKey = emulator.createKey({name: `mine`, limit: 1}).key;
    const {env, home} = agentSandbox(tempDir(`capit-droid-`), emulator);
    const settings = path.join(home, `.factory`, `settings.json`);
    fs.mkdirSync(path.dirname(settings), {recursive: true});
    fs.writeFileSync(settings, JSON.stringify({
      customModels: [{model: `openai/gpt-4o-mini`, id: `custom:mine`, displayName: `mine`, baseUrl: emulator.openrouterBaseUrl, apiKey: mineKey, provider: `generic-chat-completion-api`}],
      sessionDefaultSettings: {model: `custom:mine`},
    }, null, 2));
    const installed = await runCli([`openrouter`, `5`, `--agent`, `droid`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`droid-`))!;
    const fine = await runCli([`doctor`, `droid`], {env});
    expect(fine.exitCode, fine.stdout + fine.stderr).toBe(0);
    expect(fine.stdout).toContain(`uses capit key ${key.name}`);

    // As /model would: the user's model is the default again.
    const edited = JSON.parse(fs.readFileSync(settings, `utf8`)) as {sessionDefaultSettings: {model: string}};
    edited.sessionDefaultSettings.model = `custom:mine`;
    fs.writeFileSync(settings, JSON.stringify(edited, null, 2));
    const result = await droid(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${mineKey}`)).toBe(true);

    const doctor = await runCli([`doctor`, `droid`], {env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(1);
    expect(doctor.stdout).toContain(`SHADOWED`);
    expect(doctor.stdout).not.toContain(`uses capit key`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);
  }, 180_000);

  it(`droid exec sends the capped AIHubMix key to AIHubMix's OpenAI-compatible base`, async ctx => {
    if (!droidBin) return ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-droid-`), emulator, {
      CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: DEFAULT_AIHUBMIX_MANAGE_KEY,
    });
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `droid`, `--yes`], {env});

    const result = await droid(env, home, `custom:capit-aihubmix`);
    expect(result.exitCode, result.stderr).toBe(0);
    expectEveryInference(emulator, {path: `/v1/chat/completions`, authorization: `Bearer sk-${token.key}`});
  }, 120_000);
});
