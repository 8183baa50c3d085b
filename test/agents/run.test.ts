// `capit run` with the real agents (pinned Claude Code 2.1.112 and opencode 1.18.33): the agent's own request must reach
// the loopback emulator with the session key, while its config holds another key, and the key is gone afterwards.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {CLI, runCli}     from '../support/cli.js';
import {tempDir}         from '../support/tmp.js';
import {CLAUDE_CLI, OPENCODE_BIN, agentSandbox, inferenceRequests, run} from './support.js';
import {expectEveryInferenceWithSessionKey} from './expect.js';

const emulator = emulatorPerFile({port: 0});

const FAKE_ANTHROPIC = `sk-ant-api03-fake-0000000000000000`;

describe.skipIf(!fs.existsSync(CLAUDE_CLI))(`capit run with the real Claude Code 2.1.112`, () => {
  const claudeArgs = [CLAUDE_CLI, `-p`, `say hi`, `--model`, `anthropic/claude-sonnet-4.5`];
  const quiet = {CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: `1`, DISABLE_AUTOUPDATER: `1`};

  it(`sends the session key as Bearer to the platform's Anthropic base, not the shell's Anthropic key; deletes it after`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-run-claude-`), emulator, {...quiet, ANTHROPIC_API_KEY: FAKE_ANTHROPIC});
    // The user's own settings (no key in them) stay as they are.
    fs.mkdirSync(env.CLAUDE_CONFIG_DIR!, {recursive: true});
    const settingsFile = path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`);
    fs.writeFileSync(settingsFile, `{"permissions": {"allow": []}}\n`);

    const result = await run(process.execPath, [CLI, `run`, `--cap`, `2`, `--agent`, `claude`, `--`, process.execPath, ...claudeArgs], {env, cwd: home, timeoutMs: 90_000});
    expect(result.stdout).toContain(`Hello from the capit emulator`);
    expect(result.exitCode).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    const created = emulator.state.requests.find(r => r.method === `POST` && r.path === `/api/v1/keys`);
    expect(created).toBeDefined();
    for (const call of calls) {
      expect(call.path).toBe(`/api/v1/messages`);
      expect(call.authorization).toMatch(/^Bearer sk-or-v1-/);
      expect(call.keyHash).toBe(created!.keyHash);
      expect(call.xApiKey).toBeNull();
    }
    expect(emulator.state.keys.size).toBe(0);
    expect(result.stderr).toMatch(/capit: this session spent \$\d+\.\d\d of \$2\.00\n/);
    expect(fs.readFileSync(settingsFile, `utf8`)).toBe(`{"permissions": {"allow": []}}\n`);
  }, 120_000);

  it(`refuses while settings.json holds a token, because Claude applies it over the process environment (shown by running Claude)`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-run-claude-`), emulator, quiet);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    const installedKey = [...emulator.state.keys.values()][0]!;

    const refused = await runCli([`run`, `--cap`, `2`, `--agent`, `claude`, `--`, process.execPath, ...claudeArgs], {env});
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toContain(`Cannot run claude with a session key: ${path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`)} (env.ANTHROPIC_AUTH_TOKEN) is set (Claude Code applies settings.json env over the process environment)`);
    expect(emulator.state.keys.size).toBe(1);

    // Why: the same variables capit run would set, given to Claude directly, lose to settings.json.
    const other = emulator.createKey({name: `process-env`, limit: 1});
    const before = emulator.state.requests.length;
    const direct = await run(process.execPath, claudeArgs, {
      env: {...env, ANTHROPIC_AUTH_TOKEN: other.key, ANTHROPIC_BASE_URL: `${emulator.url}/api`, ANTHROPIC_API_KEY: ``}, cwd: home, timeoutMs: 90_000,
    });
    expect(direct.exitCode).toBe(0);
    const calls = inferenceRequests(emulator).filter(r => emulator.state.requests.indexOf(r) >= before);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) expect(call.authorization).toBe(`Bearer ${installedKey.key}`);
  }, 180_000);
});

describe.skipIf(!fs.existsSync(OPENCODE_BIN) || process.platform !== `linux` || process.arch !== `x64`)(`capit run with the real opencode 1.18.33`, () => {
  it(`uses the session key although auth.json holds another key, and writes nothing`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-run-opencode-`), emulator, {
      XDG_CACHE_HOME: path.join(tempDir(`capit-run-opencode-cache-`), `cache`),
      OPENCODE_DISABLE_MODELS_FETCH: `1`,
      OPENCODE_DISABLE_AUTOUPDATE: `1`,
      OPENCODE_DISABLE_DEFAULT_PLUGINS: `1`,
      OPENCODE_DISABLE_LSP_DOWNLOAD: `1`,
      OPENCODE_DISABLE_SHARE: `1`,
      OPENCODE_DISABLE_CLAUDE_CODE: `1`,
      OPENCODE_DISABLE_EXTERNAL_SKILLS: `1`,
      // The base URL for the emulator only; the key comes from capit run.
      OPENCODE_CONFIG_CONTENT: JSON.stringify({provider: {openrouter: {options: {baseURL: emulator.openrouterBaseUrl}}}}),
    });
    // auth.json holds a working key that is not the session's.
    const installed = emulator.createKey({name: `installed-before`, limit: 5});
    const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const authText = `${JSON.stringify({openrouter: {type: `api`, key: installed.key}})}\n`;
    fs.writeFileSync(authFile, authText, {mode: 0o600});

    const result = await run(process.execPath, [CLI, `run`, `--cap`, `1`, `--`, OPENCODE_BIN, `run`, `-m`, `openrouter/openai/gpt-4o-mini`, `hi`], {env, cwd: home, timeoutMs: 120_000});
    expect(result.stdout).toContain(`Hello from the capit emulator`);
    expect(result.exitCode).toBe(0);
    expectEveryInferenceWithSessionKey(emulator, installed.key);
    // The session key is gone, the installed one untouched, auth.json byte for byte as it was.
    expect([...emulator.state.keys.values()].map(k => k.name)).toEqual([`installed-before`]);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(authText);
    expect(result.stderr).toMatch(/capit: this session spent \$\d+\.\d\d of \$1\.00\n/);
  }, 150_000);
});
