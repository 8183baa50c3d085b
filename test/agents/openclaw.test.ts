// The real OpenClaw (openclaw@2026.9.6 on Node 24, both fetched from npm at test time) after `capit … --agent
// openclaw`: its own one-shot turn (`openclaw agent exec`) must reach the loopback emulator with the capped key, and
// doctor's verdict must match the key the emulator really saw. Skipped, with the reason printed, when Node 24 or
// openclaw cannot be fetched. The gateway service (systemd/launchd) cannot run here: its layer (issue 12 case 3) is
// covered by plugins/agent-openclaw/test against OpenClaw's code (cited in the plugin).
import fs   from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {runCli}                           from '../support/cli.js';
import {emulatorPerFile}                  from '../support/emulator.js';
import {fetchNode, installPackage, NODE_24} from '../support/npm-fetch.js';
import {tempDir}                          from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';

const OPENCLAW = `openclaw@2026.9.6`;
const emulator = emulatorPerFile({port: 0});

let skipReason: string | undefined;
let nodeDir = ``;
let openclawEntry = ``;

beforeAll(() => {
  const node = fetchNode(NODE_24);
  const installed = `dir` in node ? installPackage(OPENCLAW, {node: node.dir}) : node;
  if (`reason` in installed) {
    skipReason = installed.reason;
    process.stderr.write(`test/agents/openclaw.test.ts: skipped: ${skipReason}\n`);
    return;
  }
  nodeDir = (node as {dir: string}).dir;
  openclawEntry = path.join(installed.dir, `node_modules`, `openclaw`, `openclaw.mjs`);
}, 900_000);

/** openclaw.json pointing OpenClaw's bundled openrouter provider at the emulator; the key comes only from capit. */
function pointAtEmulator(home: string) {
  const config = path.join(home, `.openclaw`, `openclaw.json`);
  fs.mkdirSync(path.dirname(config), {recursive: true, mode: 0o700});
  fs.writeFileSync(config, `${JSON.stringify({models: {providers: {openrouter: {baseUrl: emulator.openrouterBaseUrl, models: []}}}}, null, 2)}\n`, {mode: 0o600});
}

/** One turn of the real OpenClaw, Node 24 first on PATH, in the sandbox HOME, without updates, channels or Bonjour. */
function openclaw(env: Record<string, string>, model: string) {
  const cwd = path.join(env.HOME!, `work`);
  fs.mkdirSync(cwd, {recursive: true});
  return run(path.join(nodeDir, `bin`, `node`), [openclawEntry, `agent`, `exec`, `say hi`, `--model`, model, `--json`], {
    env: {
      ...env,
      PATH: `${path.join(nodeDir, `bin`)}${path.delimiter}/usr/bin:/bin`,
      OPENCLAW_NO_AUTO_UPDATE: `1`,
      OPENCLAW_SKIP_CHANNELS: `1`,
      OPENCLAW_DISABLE_BONJOUR: `1`,
    },
    cwd,
    timeoutMs: 150_000,
  });
}

describe(`real ${OPENCLAW} (Node ${NODE_24})`, () => {
  it(`sends the capped key from ~/.openclaw/.env as Bearer; doctor says it uses the capit key`, async ctx => {
    if (skipReason) ctx.skip();
    const {env} = agentSandbox(tempDir(`capit-openclaw-`), emulator);
    pointAtEmulator(env.HOME!);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `openclaw`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/warning/i);
    expect(installed.stderr).toContain(`openclaw gateway restart`);
    const key = issuedKey(emulator);

    const result = await openclaw(env, `openrouter/openai/gpt-4o-mini`);
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ok: true, final: `Hello from the capit emulator`, provider: `openrouter`});
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/api/v1/chat/completions`);
      expect(call.authorization).toBe(`Bearer ${key.key}`);
    }

    const doctor = await runCli([`doctor`, `openclaw`], {env});
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(doctor.stdout).toBe(`openclaw  uses capit key ${key.name} ($5.00 cap) from ~/.openclaw/.env (OPENROUTER_API_KEY)\n`);
  }, 200_000);

  it(`an exported OPENROUTER_API_KEY wins over the .env (OpenClaw's documented order): capit warns, doctor says SHADOWED, OpenClaw sends it`, async ctx => {
    if (skipReason) ctx.skip();
    // A key the emulator knows (so OpenClaw's request succeeds), but not the capped one.
    const shellKey = emulator.createKey({name: `shell`, limit: 1}).key;
    const {env} = agentSandbox(tempDir(`capit-openclaw-`), emulator, {OPENROUTER_API_KEY: shellKey});
    pointAtEmulator(env.HOME!);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `openclaw`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`warning: environment variable OPENROUTER_API_KEY is set and wins over what capit wrote`);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`openclaw-`))!;

    const doctor = await runCli([`doctor`, `openclaw`], {env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`SHADOWED by environment variable OPENROUTER_API_KEY`);
    expect(doctor.stdout).toContain(`the capped key ${key.name} is not used`);
    expect(doctor.stdout + doctor.stderr).not.toContain(shellKey);

    const result = await openclaw(env, `openrouter/openai/gpt-4o-mini`);
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${shellKey}`)).toBe(true);
  }, 200_000);

  it(`aihubmix: the custom provider capit writes into openclaw.json sends the capped AIHubMix key to AIHubMix`, async ctx => {
    if (skipReason) ctx.skip();
    const {env} = agentSandbox(tempDir(`capit-openclaw-`), emulator, {
      CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`,
    });
    const installed = await runCli([`aihubmix`, `5`, `--agent`, `openclaw`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const tokens = [...emulator.state.aihubmixTokens.values()];
    expect(tokens).toHaveLength(1);

    const result = await openclaw(env, `aihubmix/gpt-4o-mini`);
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ok: true, final: `Hello from the capit emulator`, provider: `aihubmix`});
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/v1/chat/completions`);
      expect(call.authorization).toBe(`Bearer sk-${tokens[0]!.key}`);
    }

    const doctor = await runCli([`doctor`, `openclaw`], {env});
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(/^openclaw {2}uses capit key openclaw-[0-9a-f]{8} \(\$5\.00 cap\) from ~\/\.openclaw\/\.env \(AIHUBMIX_API_KEY\)\n$/);
  }, 200_000);
});
