// The real Codex CLI (@openai/codex 0.171.0, native binary from its platform package `@openai/codex@0.171.0-linux-x64`)
// after `capit openrouter 5 --agent codex --yes`: its own request must reach the loopback emulator's Responses API
// with the capped key, whatever OPENROUTER_API_KEY / OPENAI_API_KEY the shell holds; restore gives config.toml back.
import fs   from 'node:fs';
import net  from 'node:net';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {runCli}          from '../support/cli.js';
import {DEFAULT_AIHUBMIX_MANAGE_KEY} from '../emulator/server.mjs';
import {emulatorPerFile} from '../support/emulator.js';
import {fetchPackage}    from '../support/npm-fetch.js';
import {tempDir}         from '../support/tmp.js';
import {agentSandbox, issuedKey, run} from './support.js';

const CODEX_SPEC = `@openai/codex@0.171.0-linux-x64`;
const emulator = emulatorPerFile({port: 0});

let codexBin: string | undefined;
/** A loopback port nothing listens on: every request Codex would send to the internet goes there and fails at once. */
let deadProxy = ``;

beforeAll(async () => {
  if (process.platform !== `linux` || process.arch !== `x64`) {
    process.stderr.write(`codex.test.ts: skipped: the pinned Codex binary is linux-x64 only\n`);
    return;
  }
  const fetched = fetchPackage(CODEX_SPEC, {timeoutMs: 900_000});
  if (`reason` in fetched) {
    process.stderr.write(`codex.test.ts: skipped: ${fetched.reason}\n`);
    return;
  }
  codexBin = path.join(fetched.dir, `vendor/x86_64-unknown-linux-musl/bin/codex`);
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  deadProxy = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  await new Promise<void>(resolve => server.close(() => resolve()));
}, 900_000);

function codex(env: Record<string, string>, cwd: string) {
  return run(codexBin!, [`exec`, `--skip-git-repo-check`, `-c`, `check_for_update_on_startup=false`, `say hi`], {
    env: {
      ...env,
      // Offline: anything not bound for the emulator goes to a closed loopback port.
      HTTPS_PROXY: deadProxy, HTTP_PROXY: deadProxy, https_proxy: deadProxy, http_proxy: deadProxy,
      NO_PROXY: `127.0.0.1,localhost`, no_proxy: `127.0.0.1,localhost`,
      CODEX_DISABLE_UPDATE_CHECK: `1`,
      RUST_LOG: `error`,
    },
    cwd,
    timeoutMs: 90_000,
    stopWhen: () => responsesCalls().some(r => r.status === 200),
  });
}

const responsesCalls = () => emulator.state.requests.filter(r => r.method === `POST` && r.path.endsWith(`/responses`));

/** A sandbox for AIHubMix: its management base and manage key (the emulator's defaults). */
function aihubmixSandbox(extra: Record<string, string> = {}) {
  return agentSandbox(tempDir(`capit-codex-ahm-`), emulator, {
    CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: DEFAULT_AIHUBMIX_MANAGE_KEY, ...extra,
  });
}

const USER_CONFIG = `# my Codex settings
model = "openai/gpt-4o-mini"   # an OpenRouter id
approval_policy = "never"

[profiles.fast]
model = "openai/gpt-4o-mini"

[model_providers.mine]
name = "Mine"
base_url = "https://example.invalid/v1"
env_key = "MINE_API_KEY"
`;

describe(`real Codex 0.171.0`, () => {
  it(`sends the capped key to /api/v1/responses, not the shell's OPENROUTER_API_KEY/OPENAI_API_KEY; restore is exact`, async ({skip}) => {
    if (!codexBin) return skip(`Codex binary not available`);
    const shellKey = `sk-or-v1-shell-fake-3333333333333333`;
    // The stale shell keys are keys the emulator knows, so if Codex sent one the request would succeed with it.
    const stale = emulator.createKey({name: `stale-shell`, limit: 1}).key;
    const {env, home} = agentSandbox(tempDir(`capit-codex-`), emulator, {OPENROUTER_API_KEY: stale, OPENAI_API_KEY: shellKey});
    const configPath = path.join(home, `.codex`, `config.toml`);
    fs.mkdirSync(path.dirname(configPath), {recursive: true});
    fs.writeFileSync(configPath, USER_CONFIG);

    const installed = await runCli([`openrouter`, `5`, `--agent`, `codex`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).not.toMatch(/warning/i);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`codex-`))!;
    const written = fs.readFileSync(configPath, `utf8`);
    // The user's lines are all still there, byte for byte and in order.
    const userLines = USER_CONFIG.split(`\n`).filter(line => line !== ``);
    expect(written.split(`\n`).filter(line => userLines.includes(line))).toEqual(userLines);
    expect(written).toContain(`model_provider = "capit-openrouter"`);
    expect(written).toContain(`[model_providers.capit-openrouter]`);
    expect(fs.statSync(configPath).mode & 0o777).toBe(0o600);

    const result = await codex(env, home);
    const calls = responsesCalls();
    expect(calls.length, result.stderr).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/api/v1/responses`);
      expect(call.authorization).toBe(`Bearer ${key.key}`);
      expect(call.model).toBe(`openai/gpt-4o-mini`);
    }
    expect(calls.some(c => c.status === 200)).toBe(true);
    expect(emulator.state.keys.get(key.hash)!.usage).toBeGreaterThan(0);
    expect([...emulator.state.keys.values()].find(k => k.name === `stale-shell`)!.usage).toBe(0);

    const doctor = await runCli([`doctor`, `codex`], {env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key ${key.name}`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);

    const restored = await runCli([`restore`, `codex`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(fs.readFileSync(configPath, `utf8`)).toBe(USER_CONFIG);
  }, 240_000);

  it(`a trusted project's .codex/config.toml cannot switch the provider (0.171.0 ignores model_provider there); the user's own switch makes doctor say SHADOWED`, async ({skip}) => {
    if (!codexBin) return skip(`Codex binary not available`);
    const {env, home} = agentSandbox(tempDir(`capit-codex-`), emulator);
    const project = path.join(home, `project`);
    fs.mkdirSync(path.join(project, `.codex`), {recursive: true});
    const configPath = path.join(home, `.codex`, `config.toml`);
    fs.mkdirSync(path.dirname(configPath), {recursive: true});
    fs.writeFileSync(configPath, `${USER_CONFIG}\n[projects."${project}"]\ntrust_level = "trusted"\n`);
    // The user's provider "mine" (example.invalid, unreachable offline), selected by the project.
    fs.writeFileSync(path.join(project, `.codex`, `config.toml`), `model_provider = "mine"\n`);

    const installed = await runCli([`openrouter`, `5`, `--agent`, `codex`, `--yes`], {env, cwd: project});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const key = issuedKey(emulator);
    const result = await codex({...env, MINE_API_KEY: `sk-mine-fake-5555`}, project);
    expect(result.stdout + result.stderr).toContain(`Ignored unsupported project-local config keys`);
    const calls = responsesCalls();
    expect(calls.length, result.stderr).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);
    const fine = await runCli([`doctor`, `codex`], {env, cwd: project});
    expect(fine.exitCode, fine.stdout).toBe(0);
    expect(fine.stdout).toContain(`uses capit key ${key.name}`);

    // The user (or `codex` itself) selects their own provider again: the capped key is no longer used.
    fs.writeFileSync(configPath, fs.readFileSync(configPath, `utf8`).replace(`model_provider = "capit-openrouter"`, `model_provider = "mine"`));
    const switched = await runCli([`doctor`, `codex`], {env, cwd: project});
    expect(switched.exitCode, switched.stdout).toBe(1);
    expect(switched.stdout).toContain(`SHADOWED`);
    expect(switched.stdout).not.toContain(`uses capit key`);
    expect(switched.stdout + switched.stderr).not.toContain(key.key);
  }, 240_000);

  it(`a legacy top-level profile: the install warns with the fix, and Codex 0.171.0 indeed refuses that config`, async ({skip}) => {
    if (!codexBin) return skip(`Codex binary not available`);
    const {env, home} = agentSandbox(tempDir(`capit-codex-`), emulator);
    const configPath = path.join(home, `.codex`, `config.toml`);
    fs.mkdirSync(path.dirname(configPath), {recursive: true});
    fs.writeFileSync(configPath, `profile = "fast"\n${USER_CONFIG}`);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `codex`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout + installed.stderr).toContain(`legacy profile = "fast"`);
    expect(installed.stdout + installed.stderr).toContain(`fast.config.toml`);
    const result = await codex(env, home);
    expect(result.stdout + result.stderr).toContain(`legacy \`profile = "fast"\` config is no longer supported`);
    expect(responsesCalls()).toEqual([]);
  }, 240_000);

  it(`with no config.toml yet, capit creates one Codex runs with, and restore removes it`, async ({skip}) => {
    if (!codexBin) return skip(`Codex binary not available`);
    const {env, home} = agentSandbox(tempDir(`capit-codex-`), emulator);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `codex`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    // Codex's own default model is not an OpenRouter id: capit says so instead of guessing one.
    expect(installed.stdout + installed.stderr).toContain(`is not an OpenRouter model id`);
    const key = issuedKey(emulator);
    const configPath = path.join(home, `.codex`, `config.toml`);
    const result = await codex({...env}, home);
    const calls = responsesCalls();
    expect(calls.length, result.stderr).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);
    const restored = await runCli([`restore`, `codex`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(fs.existsSync(configPath)).toBe(false);
  }, 240_000);

  it(`AIHubMix: Codex sends the capped token to /v1/responses and the token's quota pays; restore is exact`, async ({skip}) => {
    if (!codexBin) return skip(`Codex binary not available`);
    const {env, home} = aihubmixSandbox({OPENAI_API_KEY: `sk-shell-fake-4444`});
    const configPath = path.join(home, `.codex`, `config.toml`);
    fs.mkdirSync(path.dirname(configPath), {recursive: true});
    const userConfig = `# mine\nmodel = "gpt-4o-mini"\n`;
    fs.writeFileSync(configPath, userConfig);
    const installed = await runCli([`aihubmix`, `5`, `--agent`, `codex`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const token = [...emulator.state.aihubmixTokens.values()].at(-1)!;
    expect(fs.readFileSync(configPath, `utf8`)).toContain(`[model_providers.capit-aihubmix]`);

    const result = await codex(env, home);
    const calls = responsesCalls();
    expect(calls.length, result.stderr).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/v1/responses`);
      expect(call.authorization).toBe(`Bearer sk-${token.key}`);
      expect(call.model).toBe(`gpt-4o-mini`);
    }
    expect(emulator.state.aihubmixTokens.get(token.id)!.used_quota).toBeGreaterThan(0);

    const restored = await runCli([`restore`, `codex`, `--yes`], {env});
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(fs.readFileSync(configPath, `utf8`)).toBe(userConfig);
  }, 240_000);
});
