// The real OpenClaw (openclaw@2026.9.6 on Node 24, both fetched from npm at test time) after `capit … --agent
// openclaw`: its own one-shot turn (`openclaw agent exec`) must reach the loopback emulator with the capped key, and
// doctor's verdict must match the key the emulator really saw. Skipped, with the reason printed, when Node 24 or
// openclaw cannot be fetched. systemd cannot run here, so the gateway service (issue 12 case 3) is the real `openclaw
// gateway run` given the environment systemd would give it: the variables of gateway.systemd.env (its unit's
// EnvironmentFile=) plus a systemd marker (INVOCATION_ID), as OpenClaw's own supervisor detection reads them.
import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import net     from 'node:net';
import path    from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {runCli}                           from '../support/cli.js';
import {emulatorPerFile}                  from '../support/emulator.js';
import {fetchNode, installPackage, NODE_24} from '../support/npm-fetch.js';
import {tempDir}                          from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectEveryInference, installAihubmixToken} from './expect.js';

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
function pointAtEmulator(home: string, gatewayPort?: number) {
  const config = path.join(home, `.openclaw`, `openclaw.json`);
  fs.mkdirSync(path.dirname(config), {recursive: true, mode: 0o700});
  const gateway = gatewayPort === undefined ? {} : {gateway: {mode: `local`, port: gatewayPort, bind: `loopback`, auth: {mode: `token`}}};
  fs.writeFileSync(config, `${JSON.stringify({...gateway, models: {providers: {openrouter: {baseUrl: emulator.openrouterBaseUrl, models: []}}}}, null, 2)}\n`, {mode: 0o600});
}

/** One turn of the real OpenClaw, Node 24 first on PATH, in the sandbox HOME, without updates, channels or Bonjour. */
function openclawEnv(env: Record<string, string>): Record<string, string> {
  return {
    ...env,
    PATH: `${path.join(nodeDir, `bin`)}${path.delimiter}/usr/bin:/bin`,
    OPENCLAW_NO_AUTO_UPDATE: `1`,
    OPENCLAW_SKIP_CHANNELS: `1`,
    OPENCLAW_DISABLE_BONJOUR: `1`,
    // The gateway repairs plugins with `npm view …` at start: a dead loopback registry keeps that off the internet.
    npm_config_registry: `http://127.0.0.1:9/`,
    npm_config_offline: `true`,
  };
}

function workDir(env: Record<string, string>): string {
  const cwd = path.join(env.HOME!, `work`);
  fs.mkdirSync(cwd, {recursive: true});
  return cwd;
}

function openclaw(env: Record<string, string>, model: string) {
  return run(path.join(nodeDir, `bin`, `node`), [openclawEntry, `agent`, `exec`, `say hi`, `--model`, model, `--json`], {
    env: openclawEnv(env), cwd: workDir(env), timeoutMs: 150_000,
  });
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer().listen(0, `127.0.0.1`, () => {
      const {port} = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
    server.on(`error`, reject);
  });
}

/** `KEY=value` lines of a systemd EnvironmentFile (what OpenClaw writes there: no quoting needed for these keys). */
function environmentFile(file: string): Record<string, string> {
  return Object.fromEntries(fs.readFileSync(file, `utf8`).split(`\n`).filter(l => /^[A-Za-z_]\w*=/.test(l)).map(l => [l.slice(0, l.indexOf(`=`)), l.slice(l.indexOf(`=`) + 1)]));
}

/**
 * The gateway as its systemd unit would start it: the unit's environment (`serviceEnv`), not the shell's, and
 * INVOCATION_ID, which systemd sets and OpenClaw reads as "supervised by systemd". Then one turn through it.
 */
async function gatewayTurn(env: Record<string, string>, serviceEnv: Record<string, string>, port: number) {
  const token = `gw-test-token-0000`;
  const gatewayEnv = {...openclawEnv(env), ...serviceEnv, INVOCATION_ID: `capit-test`, OPENCLAW_GATEWAY_TOKEN: token};
  // Its own process group, so the gateway's helper processes end with it.
  const gateway = spawn(path.join(nodeDir, `bin`, `node`), [openclawEntry, `gateway`, `run`, `--port`, String(port)], {env: gatewayEnv, cwd: workDir(env), detached: true, stdio: [`ignore`, `pipe`, `pipe`]});
  let log = ``;
  gateway.stdout.on(`data`, chunk => (log += chunk));
  gateway.stderr.on(`data`, chunk => (log += chunk));
  try {
    for (let waited = 0; !/\[gateway\] ready/.test(log); waited += 500) {
      if (waited > 150_000 || gateway.exitCode !== null) throw new Error(`the OpenClaw gateway did not start:\n${log.slice(-3000)}`);
      await new Promise(resolve => setTimeout(resolve, 500));
    }
    return await run(path.join(nodeDir, `bin`, `node`), [openclawEntry, `agent`, `--agent`, `main`, `--message`, `say hi`, `--model`, `openrouter/openai/gpt-4o-mini`, `--json`], {
      env: {...openclawEnv(env), OPENCLAW_GATEWAY_TOKEN: token}, cwd: workDir(env), timeoutMs: 150_000,
    });
  } finally {
    try {
      process.kill(-gateway.pid!, `SIGKILL`);
    } catch {}
  }
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
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

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
    expect(installed.stderr).toContain(`warning: openclaw CLI: environment variable OPENROUTER_API_KEY is set and wins over what capit wrote`);
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
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `openclaw`, `--yes`], {env});

    const result = await openclaw(env, `aihubmix/gpt-4o-mini`);
    expect(result.exitCode, result.stderr.slice(-2000)).toBe(0);
    expect(JSON.parse(result.stdout)).toMatchObject({ok: true, final: `Hello from the capit emulator`, provider: `aihubmix`});
    expectEveryInference(emulator, {path: `/v1/chat/completions`, authorization: `Bearer sk-${token.key}`});

    const doctor = await runCli([`doctor`, `openclaw`], {env});
    expect(doctor.exitCode, doctor.stdout).toBe(0);
    expect(doctor.stdout).toMatch(/^openclaw {2}uses capit key openclaw-[0-9a-f]{8} \(\$5\.00 cap\) from ~\/\.openclaw\/\.env \(AIHUBMIX_API_KEY\)\n$/);
  }, 200_000);

  // Issue 12 case 3, with the real gateway: a key of its own in gateway.systemd.env beats capit's .env there.
  it(`gateway service: a stale OPENROUTER_API_KEY in gateway.systemd.env is sent (doctor SHADOWED); once the unit marks it managed, .env wins (doctor: uses capit key)`, async ctx => {
    if (skipReason) ctx.skip();
    const staleKey = emulator.createKey({name: `stale`, limit: 2}).key;
    const {env, home} = agentSandbox(tempDir(`capit-openclaw-`), emulator);
    const port = await freePort();
    pointAtEmulator(home, port);
    const serviceEnvFile = path.join(home, `.openclaw`, `gateway.systemd.env`);
    fs.writeFileSync(serviceEnvFile, `OPENROUTER_API_KEY=${staleKey}\n`, {mode: 0o600});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `openclaw`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`warning: gateway service: ${serviceEnvFile} (OPENROUTER_API_KEY) is set and wins over what capit wrote`);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`openclaw-`))!;

    const doctor = await runCli([`doctor`, `openclaw`], {env});
    expect(doctor.exitCode).toBe(1);
    // Judged per flavour: the one-shot CLI reads .env, the gateway service the stale key.
    expect(doctor.stdout).not.toMatch(/gateway service: uses capit key/);
    expect(doctor.stdout).toContain(`gateway service: SHADOWED by ~/.openclaw/gateway.systemd.env (OPENROUTER_API_KEY)`);

    const stale = await gatewayTurn(env, environmentFile(serviceEnvFile), port);
    expect(stale.exitCode, stale.stderr.slice(-2000)).toBe(0);
    expect(stale.stdout).toContain(`Hello from the capit emulator`);
    const first = inferenceRequests(emulator);
    expect(first.length).toBeGreaterThan(0);
    expect(first.every(c => c.authorization === `Bearer ${staleKey}`)).toBe(true);

    // What `openclaw gateway install` writes for a key it copied from .env: the unit lists it as managed, and the
    // gateway re-reads .env over it at start.
    const unit = path.join(home, `.config`, `systemd`, `user`, `openclaw-gateway.service`);
    fs.mkdirSync(path.dirname(unit), {recursive: true});
    fs.writeFileSync(unit, `[Service]\nEnvironment=OPENCLAW_SERVICE_MANAGED_ENV_KEYS=OPENROUTER_API_KEY\nEnvironmentFile=-${serviceEnvFile}\n`);
    const after = await runCli([`doctor`, `openclaw`], {env});
    expect(after.exitCode, after.stdout).toBe(0);
    expect(after.stdout).toContain(`uses capit key ${key.name}`);

    const mark = inferenceRequests(emulator).length;
    const managed = await gatewayTurn(env, {...environmentFile(serviceEnvFile), OPENCLAW_SERVICE_MANAGED_ENV_KEYS: `OPENROUTER_API_KEY`}, port);
    expect(managed.exitCode, managed.stderr.slice(-2000)).toBe(0);
    const second = inferenceRequests(emulator).slice(mark);
    expect(second.length).toBeGreaterThan(0);
    expect(second.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);
  }, 600_000);
});
