// The newest Claude Code (the native binary of @anthropic-ai/claude-code-linux-x64@2.1.332, fetched from npm at test
// time) after `capit … --agent claude`, one settings layer at a time: what the binary really sends (as the loopback
// emulator logs it: path, host, Authorization, x-api-key) and what `capit doctor claude --json` says must agree.
import fs   from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {DEFAULT_AIHUBMIX_MANAGE_KEY} from '../emulator/server.mjs';
import {emulatorPerFile} from '../support/emulator.js';
import {fetchPackage}    from '../support/npm-fetch.js';

import {runCli}         from '../support/cli.js';
import {tempDir}        from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectEmulatorHello, expectEveryInference} from './expect.js';

const SPEC = `@anthropic-ai/claude-code-linux-x64@2.1.332`;
const emulator = emulatorPerFile({port: 0});
// Another host (another port) for the layers that send the key elsewhere: it must see the capped key, the first none.
const elsewhere = emulatorPerFile({port: 0});

const HELPER_KEY = `sk-ant-helper-fake-1111111111111111`;

let claudeBin: string | undefined;
beforeAll(() => {
  if (process.platform !== `linux` || process.arch !== `x64`) {
    process.stderr.write(`test/agents/claude-native.test.ts: skipped: ${SPEC} runs on linux x64 only\n`);
    return;
  }
  const got = fetchPackage(SPEC);
  if (`reason` in got) {
    process.stderr.write(`test/agents/claude-native.test.ts: skipped: ${got.reason}\n`);
    return;
  }
  claudeBin = path.join(got.dir, `claude`);
}, 900_000);

/**
 * A sandbox whose PATH starts with a `claude` linked to the native binary, as the npm wrapper or the native installer
 * leaves it: capit's detect step reads the version from the package.json beside it.
 */
function sandbox(prefix: string, extra: Record<string, string> = {}) {
  const made = agentSandbox(tempDir(prefix), emulator, extra);
  const bin = path.join(made.home, `bin`);
  fs.mkdirSync(bin);
  fs.symlinkSync(claudeBin!, path.join(bin, `claude`));
  made.env.PATH = `${bin}${path.delimiter}${made.env.PATH}`;
  return made;
}

function claude(env: Record<string, string>, cwd: string, stopWhen?: () => boolean) {
  return run(path.join(env.HOME!, `bin`, `claude`), [`-p`, `say hi`, `--model`, `anthropic/claude-sonnet-4.5`], {
    env: {...env, CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: `1`, DISABLE_AUTOUPDATER: `1`},
    cwd,
    timeoutMs: 60_000,
    stopWhen,
  });
}

/** A helper script that prints a fake Anthropic key, as a user's `apiKeyHelper` would. */
function helperScript(home: string): string {
  const file = path.join(home, `anthropic-key.sh`);
  fs.writeFileSync(file, `#!/bin/sh\necho ${HELPER_KEY}\n`, {mode: 0o755});
  return file;
}

interface DoctorJson {
  status: string;
  sources: {label: string; present: boolean; installs: boolean; note: string | null}[];
}

async function doctor(env: Record<string, string>, cwd: string) {
  const result = await runCli([`doctor`, `claude`, `--json`], {env, cwd});
  const [report] = JSON.parse(result.stdout) as DoctorJson[];
  return {exitCode: result.exitCode, report: report!, text: result.stdout + result.stderr};
}

const present = (report: DoctorJson) => report.sources.filter(s => s.present).map(s => s.label.replace(/^.*\/(\.claude\/)/, `$1`));

describe(`real Claude Code 2.1.332 (native)`, () => {
  it(`sends the capped key as Bearer to the emulator, nothing else; doctor agrees`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.stderr).not.toMatch(/warning|error/i);
    expect(installed.exitCode).toBe(0);
    const key = issuedKey(emulator);

    const result = await claude(env, home);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/messages`, authorization: `Bearer ${key.key}`, xApiKey: null});
    expect(inferenceRequests(elsewhere)).toEqual([]);

    const {exitCode, report, text} = await doctor(env, home);
    expect(exitCode).toBe(0);
    expect(report.status).toBe(`capit`);
    expect(text).not.toContain(key.key);
  }, 120_000);

  it(`case 5: an apiKeyHelper in ~/.claude/settings.json is sent as x-api-key beside the Bearer key; the install removes it and restore puts it back`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`);
    const settingsFile = path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`);
    fs.mkdirSync(env.CLAUDE_CONFIG_DIR!, {recursive: true});
    const original = `{\n  "apiKeyHelper": "${helperScript(home)}",\n  "theme": "dark"\n}\n`;
    fs.writeFileSync(settingsFile, original);

    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    expect(installed.stdout + installed.stderr).toMatch(/apiKeyHelper was removed from settings\.json/);
    const key = issuedKey(emulator);
    const written = fs.readFileSync(settingsFile, `utf8`);
    const settings = JSON.parse(written);
    expect(settings.apiKeyHelper).toBeUndefined();
    expect(settings.theme).toBe(`dark`);

    await claude(env, home);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`, xApiKey: null});
    expect((await doctor(env, home)).report.status).toBe(`capit`);

    // Control, the case as reported: the helper back in the file capit wrote. The binary sends its output beside the
    // capped key, and doctor now says so (exit 1) instead of "uses capit key".
    fs.writeFileSync(settingsFile, JSON.stringify({...settings, apiKeyHelper: helperScript(home)}, null, 2));
    emulator.state.requests.length = 0; // the log only: the capped key must stay valid
    await claude(env, home);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`, xApiKey: HELPER_KEY});
    const shadowed = await doctor(env, home);
    expect(shadowed.exitCode).toBe(1);
    expect(shadowed.report.status).toBe(`shadowed`);
    expect(present(shadowed.report)).toContain(`.claude/settings.json (apiKeyHelper)`);
    expect(shadowed.report.sources.find(s => s.label.endsWith(`(apiKeyHelper)`))!.note).toMatch(/Claude 2\.1\.332 sends the helper's output to the gateway as x-api-key/);
    expect(shadowed.text).not.toContain(HELPER_KEY);

    // restore (of the file as capit left it): the user's file exactly as it was, helper included.
    fs.writeFileSync(settingsFile, written);
    const restored = await runCli([`restore`, `claude`, `--yes`], {env});
    expect(restored.exitCode).toBe(0);
    expect(fs.readFileSync(settingsFile, `utf8`)).toBe(original);
  }, 180_000);

  it(`an apiKeyHelper in the project's .claude/settings.json: install warns, doctor exits 1, and the binary sends it`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`);
    const project = path.join(home, `work`, `app`);
    fs.mkdirSync(path.join(project, `.claude`), {recursive: true});
    fs.writeFileSync(path.join(project, `.claude`, `settings.json`), JSON.stringify({apiKeyHelper: helperScript(home)}));

    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env, cwd: project});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toMatch(/warning: .*work\/app\/\.claude\/settings\.json \(apiKeyHelper\).*wins over what capit wrote/);
    const key = issuedKey(emulator);
    expect(fs.readFileSync(path.join(project, `.claude`, `settings.json`), `utf8`)).toContain(`apiKeyHelper`); // not capit's file

    await claude(env, project);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`, xApiKey: HELPER_KEY});
    const {exitCode, report} = await doctor(env, project);
    expect(exitCode).toBe(1);
    expect(report.status).toBe(`shadowed`);
    expect(present(report)).toContain(`.claude/settings.json (apiKeyHelper)`);
  }, 120_000);

  it(`a project ANTHROPIC_BASE_URL sends the capped key to that host; doctor lists it and exits 1`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`);
    const project = path.join(home, `work`, `app`);
    fs.mkdirSync(path.join(project, `.claude`), {recursive: true});
    fs.writeFileSync(path.join(project, `.claude`, `settings.json`), JSON.stringify({env: {ANTHROPIC_BASE_URL: `${elsewhere.url}/api`}}));

    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env, cwd: project});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toMatch(/warning: .*work\/app\/\.claude\/settings\.json \(env\.ANTHROPIC_BASE_URL\)/);
    const key = issuedKey(emulator);

    // The other host does not know the key and answers 401: stop once the request is seen, not after Claude's retries.
    await claude(env, project, () => inferenceRequests(elsewhere).length > 0);
    expect(inferenceRequests(emulator)).toEqual([]);
    const away = inferenceRequests(elsewhere);
    expect(away.map(r => r.path)).toContain(`/api/v1/messages`);
    expect(away.length).toBeGreaterThan(0);
    for (const call of away) expect(call.authorization).toBe(`Bearer ${key.key}`);

    const {exitCode, report} = await doctor(env, project);
    expect(exitCode).toBe(1);
    expect(report.status).toBe(`redirected`);
    expect((report as unknown as {redirectedTo: string}).redirectedTo).toBe(new URL(elsewhere.url).origin);
    expect(present(report)).toContain(`.claude/settings.json (env.ANTHROPIC_BASE_URL)`);
  }, 120_000);

  it(`settings.local.json beats settings.json beats the user file: the local token is sent; doctor names it first`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`);
    const project = path.join(home, `work`, `app`);
    fs.mkdirSync(path.join(project, `.claude`), {recursive: true});
    const localToken = emulator.createKey({name: `local-token`, limit: 1}).key;
    const projectToken = emulator.createKey({name: `project-token`, limit: 1}).key;
    fs.writeFileSync(path.join(project, `.claude`, `settings.local.json`), JSON.stringify({env: {ANTHROPIC_AUTH_TOKEN: localToken}}));
    fs.writeFileSync(path.join(project, `.claude`, `settings.json`), JSON.stringify({env: {ANTHROPIC_AUTH_TOKEN: projectToken}}));

    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env, cwd: project});
    expect(installed.exitCode).toBe(0);
    const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`claude-`))!;

    await claude(env, project);
    expectEveryInference(emulator, {authorization: `Bearer ${localToken}`});

    const {exitCode, report, text} = await doctor(env, project);
    expect(exitCode).toBe(1);
    expect(report.status).toBe(`shadowed`);
    expect(present(report).slice(0, 2)).toEqual([`.claude/settings.local.json (env.ANTHROPIC_AUTH_TOKEN)`, `.claude/settings.json (env.ANTHROPIC_AUTH_TOKEN)`]);
    for (const secret of [key.key, localToken, projectToken]) expect(text).not.toContain(secret);
  }, 120_000);

  it(`ANTHROPIC_AUTH_TOKEN, ANTHROPIC_API_KEY and ANTHROPIC_BASE_URL in the shell lose to settings.json; doctor says uses capit key`, async ({skip}) => {
    if (!claudeBin) return skip();
    const shellToken = `sk-or-v1-shell-fake-3333333333333333`;
    const {env, home} = sandbox(`capit-claude-native-`, {
      ANTHROPIC_AUTH_TOKEN: shellToken, ANTHROPIC_API_KEY: `sk-ant-api03-fake-shell-0000`, ANTHROPIC_BASE_URL: `${elsewhere.url}/api`,
    });
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).not.toMatch(/warning/i);
    const key = issuedKey(emulator);

    await claude(env, home);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`, xApiKey: null});
    expect(inferenceRequests(elsewhere)).toEqual([]);

    const {exitCode, report} = await doctor(env, home);
    expect(exitCode).toBe(0);
    expect(report.status).toBe(`capit`);
    expect(present(report)).toEqual(expect.arrayContaining([`environment variable ANTHROPIC_AUTH_TOKEN`, `environment variable ANTHROPIC_BASE_URL`]));
  }, 120_000);

  it(`CLAUDE_CODE_USE_BEDROCK=0 is off: the binary still sends the capped key and doctor says capit (exit 0); a truthy switch is SHADOWED`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`, {CLAUDE_CODE_USE_BEDROCK: `0`, CLAUDE_CODE_USE_VERTEX: `false`});
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).not.toMatch(/warning/i);
    const key = issuedKey(emulator);

    const result = await claude(env, home);
    expect(result.stdout).toContain(`Hello from the capit emulator`);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`});

    const off = await doctor(env, home);
    expect(off.exitCode).toBe(0);
    expect(off.report.status).toBe(`capit`);

    // The binary is not run with a switch on: it would call the cloud provider. Doctor reads its own declaration.
    for (const on of [{CLAUDE_CODE_USE_MANTLE: `1`}, {CLAUDE_CODE_USE_ANTHROPIC_AWS: `true`}]) {
      const shadowed = await doctor({...env, ...on}, home);
      expect(shadowed.exitCode).toBe(1);
      expect(shadowed.report.status).toBe(`shadowed`);
      expect(present(shadowed.report)).toContain(`environment variable ${Object.keys(on)[0]}`);
    }
    // A switch in the user settings' env block (Claude applies it over the environment) counts the same way: "0" there
    // is off too (the binary still sends the capped key), "1" is on.
    const settingsFile = path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`);
    const settings = JSON.parse(fs.readFileSync(settingsFile, `utf8`));
    fs.writeFileSync(settingsFile, JSON.stringify({...settings, env: {...settings.env, CLAUDE_CODE_USE_FOUNDRY: `0`}}, null, 2));
    const before = inferenceRequests(emulator).length;
    expect((await claude(env, home)).stdout).toContain(`Hello from the capit emulator`);
    const later = inferenceRequests(emulator).slice(before);
    expect(later.length).toBeGreaterThan(0);
    for (const call of later) expect(call.authorization).toBe(`Bearer ${key.key}`);
    const offInSettings = await doctor(env, home);
    expect(offInSettings.exitCode).toBe(0);
    expect(offInSettings.report.status).toBe(`capit`);
    fs.writeFileSync(settingsFile, JSON.stringify({...settings, env: {...settings.env, CLAUDE_CODE_USE_FOUNDRY: `1`}}, null, 2));
    const fromSettings = await doctor(env, home);
    expect(fromSettings.exitCode).toBe(1);
    expect(fromSettings.report.status).toBe(`shadowed`);
    expect(fromSettings.text).not.toContain(key.key);
  }, 120_000);

  it(`AIHubMix: sends the installed token as Bearer to the emulator's /v1/messages; doctor agrees`, async ({skip}) => {
    if (!claudeBin) return skip();
    const {env, home} = sandbox(`capit-claude-native-`, {CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: DEFAULT_AIHUBMIX_MANAGE_KEY});
    const installed = await runCli([`aihubmix`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.stderr).not.toMatch(/warning|error/i);
    expect(installed.exitCode).toBe(0);
    const tokens = [...emulator.state.aihubmixTokens.values()];
    expect(tokens).toHaveLength(1);
    const settings = JSON.parse(fs.readFileSync(path.join(env.CLAUDE_CONFIG_DIR!, `settings.json`), `utf8`));
    expect(settings.env.ANTHROPIC_BASE_URL).toBe(emulator.aihubmixBaseUrl);

    const result = await claude(env, home);
    expectEmulatorHello(result);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    for (const call of calls) {
      expect(call.path).toBe(`/v1/messages`);
      expect(call.authorization).toBe(`Bearer ${settings.env.ANTHROPIC_AUTH_TOKEN}`);
      expect(call.authorization!.endsWith(tokens[0]!.key)).toBe(true);
      expect(call.xApiKey).toBeNull();
    }

    const {exitCode, report} = await doctor(env, home);
    expect(exitCode).toBe(0);
    expect(report.status).toBe(`capit`);
  }, 120_000);
});
