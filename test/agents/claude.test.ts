// The real Claude Code (pinned @anthropic-ai/claude-code@2.1.112, cli.js on Node 20) after `capit … --agent claude`:
// its own request must reach the loopback emulator with the capped key, and nothing else.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}         from '../support/cli.js';
import {tempDir}        from '../support/tmp.js';
import {CLAUDE_CLI, agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectEmulatorHello, expectEveryInference} from './expect.js';

const emulator = emulatorPerFile({port: 0});

const FAKE_ANTHROPIC = `sk-ant-api03-fake-0000000000000000`;
const HELPER_KEY = `sk-ant-helper-fake-2222222222222222`;

/** A helper script that prints a fake Anthropic key, as a user's `apiKeyHelper` would. */
function helperScript(home: string): string {
  const file = path.join(home, `anthropic-key.sh`);
  fs.writeFileSync(file, `#!/bin/sh\necho ${HELPER_KEY}\n`, {mode: 0o755});
  return file;
}

/** PATH with a `claude` linked to the pinned cli.js first, as `npm i -g` leaves it: capit's detect reads 2.1.112. */
function withClaudeOnPath(env: Record<string, string>) {
  const bin = path.join(env.HOME!, `bin`);
  fs.mkdirSync(bin, {recursive: true});
  fs.symlinkSync(CLAUDE_CLI, path.join(bin, `claude`));
  env.PATH = `${bin}${path.delimiter}${env.PATH}`;
}

async function doctorJson(env: Record<string, string>, cwd: string) {
  const result = await runCli([`doctor`, `claude`, `--json`], {env, cwd});
  const [report] = JSON.parse(result.stdout) as {status: string; sources: {label: string; present: boolean; note: string | null}[]}[];
  return {exitCode: result.exitCode, report: report!};
}

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
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/messages`, authorization: `Bearer ${key.key}`, xApiKey: null});
  }, 90_000);

  it(`with ANTHROPIC_API_KEY in the shell sends no x-api-key (capit wrote ANTHROPIC_API_KEY=""), and would without it`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-claude-`), emulator, {ANTHROPIC_API_KEY: FAKE_ANTHROPIC});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    const key = issuedKey(emulator);

    const result = await claude(env, home);
    expect(result.exitCode).toBe(0);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`, xApiKey: null});

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

  // The issue saw 2.1.112 not send the helper's key. That holds only when Claude runs in $HOME itself: there
  // ~/.claude/settings.json is also the "project" settings, and 2.1.112 runs a project helper only in a trusted project.
  // In any other directory it sends it, as 2.1.332 does everywhere: so the install removes it for every version.
  it(`case 5 with 2.1.112: an apiKeyHelper in ~/.claude/settings.json is sent as x-api-key too (outside $HOME); the install removes it`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-claude-`), emulator);
    const work = path.join(home, `work`);
    fs.mkdirSync(work);
    const settingsFile = path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`);
    fs.mkdirSync(env.CLAUDE_CONFIG_DIR!, {recursive: true});
    fs.writeFileSync(settingsFile, JSON.stringify({apiKeyHelper: helperScript(home)}));
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    const key = issuedKey(emulator);

    await claude(env, work);
    let calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}` && c.xApiKey === null)).toBe(true);

    // Control: with the helper back beside capit's env block, 2.1.112 sends it as well (the issue said it did not).
    const settings = JSON.parse(fs.readFileSync(settingsFile, `utf8`));
    fs.writeFileSync(settingsFile, JSON.stringify({...settings, apiKeyHelper: helperScript(home)}));
    emulator.state.requests.length = 0;
    await claude(env, work);
    calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}` && c.xApiKey === HELPER_KEY)).toBe(true);
    const doctor = await doctorJson(env, home);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.report.status).toBe(`shadowed`);
  }, 120_000);

  it(`a project apiKeyHelper: 2.1.112 runs it only in a trusted project; doctor flags it and says so`, async () => {
    const {env, home} = agentSandbox(tempDir(`capit-claude-`), emulator);
    withClaudeOnPath(env);
    const project = path.join(home, `work`, `app`);
    fs.mkdirSync(path.join(project, `.claude`), {recursive: true});
    fs.writeFileSync(path.join(project, `.claude`, `settings.json`), JSON.stringify({apiKeyHelper: helperScript(home)}));
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env, cwd: project});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toMatch(/warning: .*work\/app\/\.claude\/settings\.json \(apiKeyHelper\).*once you have trusted this project/);
    const key = issuedKey(emulator);

    const doctor = await doctorJson(env, project);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.report.status).toBe(`shadowed`);
    const helper = doctor.report.sources.find(s => s.present && s.label.endsWith(`work/app/.claude/settings.json (apiKeyHelper)`));
    expect(helper?.note).toMatch(/Claude 2\.1\.112 sends .* once you have trusted this project/);

    // Untrusted (no trust dialog in -p): the helper is not run.
    await claude(env, project);
    let calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}` && c.xApiKey === null)).toBe(true);

    // Trusted, as after answering the trust dialog once: the helper's output goes to the gateway.
    const state = path.join(env.CLAUDE_CONFIG_DIR!, `.claude.json`);
    const global = fs.existsSync(state) ? JSON.parse(fs.readFileSync(state, `utf8`)) : {};
    global.projects = {...global.projects, [project]: {...global.projects?.[project], hasTrustDialogAccepted: true}};
    fs.writeFileSync(state, JSON.stringify(global));
    emulator.state.requests.length = 0;
    await claude(env, project);
    calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}` && c.xApiKey === HELPER_KEY)).toBe(true);
  }, 150_000);
});
