// The real opencode after `capit … --agent opencode`: its own request must reach the loopback emulator with the capped
// key. The pinned opencode-linux-x64@1.18.33 (node_modules) and the newest, 1.18.34 (fetched from npm at test time);
// the config-layer scenarios of issue 12 (test/agents/layers.ts) run against the newest.
import fs from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {DEFAULT_AIHUBMIX_MANAGE_KEY} from '../emulator/server.mjs';
import {emulatorPerFile}             from '../support/emulator.js';
import {runCli}                      from '../support/cli.js';
import {fetchPackage}                from '../support/npm-fetch.js';
import {snapshotTree, tempDir}       from '../support/tmp.js';
import {layerScenarios, precedenceScenario} from './layers.js';
import {OPENCODE_BIN, agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectEmulatorHello, expectEveryInference} from './expect.js';

const emulator = emulatorPerFile({port: 0});

const NEWEST = `1.18.34`;
let newestBin: string | undefined;

const onLinuxX64 = process.platform === `linux` && process.arch === `x64`;

function opencode(env: Record<string, string>, cwd: string, bin = OPENCODE_BIN) {
  return run(bin, [`run`, `-m`, `openrouter/openai/gpt-4o-mini`, `hi`], {
    env: {
      ...env,
      XDG_CACHE_HOME: `${env.HOME}/.cache`,
      OPENCODE_DISABLE_MODELS_FETCH: `1`,
      OPENCODE_DISABLE_AUTOUPDATE: `1`,
      // Keep the run offline and quick: no default plugins, LSP downloads, sharing or ~/.claude skills.
      OPENCODE_DISABLE_DEFAULT_PLUGINS: `1`,
      OPENCODE_DISABLE_LSP_DOWNLOAD: `1`,
      OPENCODE_DISABLE_SHARE: `1`,
      OPENCODE_DISABLE_CLAUDE_CODE: `1`,
      OPENCODE_DISABLE_EXTERNAL_SKILLS: `1`,
      // The base URL for the emulator; the key comes only from what capit wrote.
      OPENCODE_CONFIG_CONTENT: JSON.stringify({provider: {openrouter: {options: {baseURL: emulator.openrouterBaseUrl}}}}),
    },
    cwd,
    timeoutMs: 90_000,
  });
}

describe.skipIf(!fs.existsSync(OPENCODE_BIN) || !onLinuxX64)(`real opencode 1.18.33`, () => {
  it(`sends the capped key as Bearer, also with OPENROUTER_API_KEY in the shell (auth.json wins over it)`, async () => {
    const shellKey = `sk-or-v1-shell-fake-2222222222222222`;
    const {env, home} = agentSandbox(tempDir(`capit-opencode-`), emulator, {OPENROUTER_API_KEY: shellKey});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    // OPENROUTER_API_KEY ranks below auth.json for opencode: no warning.
    expect(installed.stderr).not.toMatch(/warning/i);
    const key = issuedKey(emulator);

    const result = await opencode(env, home);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

    const doctor = await runCli([`doctor`, `opencode`], {env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toBe(`opencode  uses capit key ${key.name} ($5.00 cap) from ~/.local/share/opencode/auth.json (openrouter.key)\n`);
  }, 120_000);

  it(`OPENCODE_AUTH_CONTENT shadows the capped key: capit warns, doctor names it and exits 1, and opencode really uses it`, async () => {
    // A key the emulator knows (so opencode's request succeeds), but not the capped one.
    const shadowKey = emulator.createKey({name: `auth-content`, limit: 1}).key;
    const {env, home} = agentSandbox(tempDir(`capit-opencode-`), emulator, {
      OPENCODE_AUTH_CONTENT: JSON.stringify({openrouter: {type: `api`, key: shadowKey}}),
    });
    const installed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toContain(`warning: environment variable OPENCODE_AUTH_CONTENT is set and wins over what capit wrote`);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`opencode-`))!;

    const doctor = await runCli([`doctor`], {env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toContain(`opencode  SHADOWED by environment variable OPENCODE_AUTH_CONTENT (it replaces auth.json entirely) — the capped key ${key.name} is not used`);
    expect(doctor.stderr).toContain(`the capped key is not used by: opencode`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);
    expect(doctor.stdout + doctor.stderr).not.toContain(shadowKey);

    const result = await opencode(env, home);
    expect(result.exitCode).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${shadowKey}`)).toBe(true);
  }, 120_000);
});

describe.skipIf(!onLinuxX64)(`real opencode ${NEWEST} (newest)`, () => {
  beforeAll(() => {
    const fetched = fetchPackage(`opencode-linux-x64@${NEWEST}`);
    if (`reason` in fetched) process.stderr.write(`test/agents/opencode.test.ts: skipped: ${fetched.reason}\n`);
    else newestBin = path.join(fetched.dir, `bin`, `opencode`);
  }, 900_000);

  it(`sends the capped key from auth.json as Bearer; doctor says it uses the capit key`, async ctx => {
    if (!newestBin) ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-opencode-`), emulator, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-2222222222222222`});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    const key = issuedKey(emulator);
    const result = await opencode(env, home, newestBin);
    expect(result.exitCode).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);
    const doctor = await runCli([`doctor`, `opencode`], {env});
    expect(doctor.exitCode).toBe(0);
  }, 180_000);

  const family = {agent: `opencode`, envPrefix: `OPENCODE`, projectFile: `opencode.json`} as const;
  layerScenarios(family, () => newestBin, emulator);
  precedenceScenario(family, () => newestBin, emulator, `a parent's .opencode/opencode.json beats cwd's .opencode, which beats the project's opencode.json: opencode and doctor agree`, {
    files: [`proj/app/opencode.json`, `proj/app/.opencode/opencode.json`, `proj/.opencode/opencode.json`], winner: `proj/.opencode/opencode.json`, cwd: `proj/app`,
  });
  precedenceScenario(family, () => newestBin, emulator, `$OPENCODE_CONFIG_DIR beats ~/.opencode, which beats the project's opencode.json: opencode and doctor agree`, {
    files: [`proj/opencode.json`, `.opencode/opencode.json`, `cfgdir/opencode.json`], winner: `cfgdir/opencode.json`, cwd: `proj`,
    env: home => ({OPENCODE_CONFIG_DIR: path.join(home, `cfgdir`)}),
  });
  precedenceScenario(family, () => newestBin, emulator, `~/.opencode beats the project's and the global opencode.json: opencode and doctor agree`, {
    files: [`proj/opencode.json`, `.config/opencode/opencode.json`, `.opencode/opencode.json`], winner: `.opencode/opencode.json`, cwd: `proj`,
  });
});

describe(`capit aihubmix … --agent opencode`, () => {
  // opencode 1.18.34 reaches AIHubMix only through @aihubmix/ai-sdk-provider (not bundled: downloaded from npm on first
  // use; its 2.1.0 sends to https://aihubmix.com/v1 whatever baseURL says — seen with the real binary against the
  // emulator: no request arrived), so capit refuses before creating anything.
  it(`refuses with the exact reason, exit 2, no key created and no file written`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-opencode-aihubmix-`), emulator, {
      AIHUBMIX_MANAGE_KEY: DEFAULT_AIHUBMIX_MANAGE_KEY, CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl,
    });
    const before = snapshotTree(home);
    const result = await runCli([`aihubmix`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toBe(`capit: opencode cannot use aihubmix keys: opencode reaches AIHubMix only through @aihubmix/ai-sdk-provider, which it downloads from npm on first use and which sends to https://aihubmix.com/v1 whatever base URL is configured (an OpenAI-compatible provider would serve only models listed one by one in opencode.json); capit could not verify that path, so it installs nothing\n`);
    expect(emulator.state.aihubmixTokens.size).toBe(0);
    expect(snapshotTree(home)).toEqual(before);
  });
});
