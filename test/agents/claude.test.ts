// The real Claude Code (pinned @anthropic-ai/claude-code@2.1.112, cli.js on Node 20) after `capit … --agent claude`:
// its own request must reach the loopback emulator with the capped key, and nothing else.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}         from '../support/cli.js';
import {tempDir}        from '../support/tmp.js';
import {CLAUDE_CLI, agentSandbox, inferenceRequests, issuedKey, run} from './support.js';

const emulator = emulatorPerFile({port: 0});

const FAKE_ANTHROPIC = `sk-ant-api03-fake-0000000000000000`;

function claude(env: Record<string, string>, cwd: string, stopWhen?: () => boolean) {
  return run(process.execPath, [CLAUDE_CLI, `-p`, `say hi`, `--model`, `anthropic/claude-sonnet-4.5`], {
    env: {...env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: `1`, DISABLE_AUTOUPDATER: `1`},
    cwd,
    timeoutMs: 60_000,
    stopWhen,
  });
}

describe.skipIf(!fs.existsSync(CLAUDE_CLI))(`real Claude Code 2.1.112`, () => {
  it(`sends the capped key as Bearer to the base URL capit derived from the platform`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-claude-`), emulator);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.stderr).not.toMatch(/warning|error/i);
    expect(installed.exitCode).toBe(0);
    const key = issuedKey(emulator);
    const settings = JSON.parse(fs.readFileSync(path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`), `utf8`));
    expect(settings.env.ANTHROPIC_BASE_URL).toBe(`${emulator.url}/api`);

    const result = await claude(env, home);
    expect(result.stderr).toBe(``);
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`Hello from the capit emulator`);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/api/v1/messages`);
      expect(call.authorization).toBe(`Bearer ${key.key}`);
      expect(call.xApiKey).toBeNull();
    }
  }, 90_000);

  it(`with ANTHROPIC_API_KEY in the shell sends no x-api-key (capit wrote ANTHROPIC_API_KEY=""), and would without it`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-claude-`), emulator, {ANTHROPIC_API_KEY: FAKE_ANTHROPIC});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    const key = issuedKey(emulator);

    const result = await claude(env, home);
    expect(result.exitCode).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.authorization).toBe(`Bearer ${key.key}`);
      expect(call.xApiKey).toBeNull();
    }

    // Control: the same run without capit's empty ANTHROPIC_API_KEY leaks the shell key. This shows the check above
    // can fail, i.e. that the empty value is what protects it.
    const file = path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`);
    const settings = JSON.parse(fs.readFileSync(file, `utf8`));
    delete settings.env.ANTHROPIC_API_KEY;
    fs.writeFileSync(file, JSON.stringify(settings));
    emulator.reset();
    const leaked = () => inferenceRequests(emulator).some(r => r.xApiKey === FAKE_ANTHROPIC);
    await claude(env, home, leaked);
    expect(leaked()).toBe(true);
  }, 120_000);

  it(`a project settings token shadows the capped key: capit warns, doctor names it and exits 1, and Claude really uses it`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-claude-`), emulator);
    const project = path.join(home, `work`, `app`);
    fs.mkdirSync(path.join(project, `.claude`), {recursive: true});
    // A key the emulator knows (so Claude's request succeeds rather than retrying a 401), but not the capped one.
    const projectToken = emulator.createKey({name: `project-token`, limit: 1}).key;
    fs.writeFileSync(path.join(project, `.claude`, `settings.json`), JSON.stringify({env: {ANTHROPIC_AUTH_TOKEN: projectToken}}));

    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env, cwd: project});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toMatch(/warning: .*work\/app\/\.claude\/settings\.json \(env\.ANTHROPIC_AUTH_TOKEN\).*wins over what capit wrote/);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`claude-`))!;

    const doctor = await runCli([`doctor`, `claude`], {env, cwd: project});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/^claude {2}SHADOWED by ~\/work\/app\/\.claude\/settings\.json \(env\.ANTHROPIC_AUTH_TOKEN\)/);
    expect(doctor.stdout).toContain(`the capped key ${key.name} is not used`);
    expect(doctor.stdout + doctor.stderr).not.toContain(key.key);
    expect(doctor.stdout + doctor.stderr).not.toContain(projectToken);

    // From $HOME the project file is not in play: doctor is happy.
    const fromHome = await runCli([`doctor`, `claude`], {env, cwd: home});
    expect(fromHome.exitCode).toBe(0);
    expect(fromHome.stdout).toMatch(new RegExp(`^claude {2}uses capit key ${key.name} \\(\\$5\\.00 cap\\)`));

    // And the shadow is real: Claude run in the project sends the project token, not the capped key.
    const result = await claude(env, project);
    expect(result.exitCode).toBe(0);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${projectToken}`)).toBe(true);
  }, 90_000);
});
