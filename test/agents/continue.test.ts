// The real Continue CLI (`cn`, @continuedev/cli pinned 1.5.47, on this Node 20) after `capit … --agent continue`: its
// own request must reach the loopback emulator with the capped key, for OpenRouter and AIHubMix. cn asks
// api.continue.dev for its latest version at every start (src/version.ts, no switch): the loopback-only preload
// refuses that connection, and telemetry is off.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}          from '../support/cli.js';
import {emulatorPerFile} from '../support/emulator.js';
import {tempDir}         from '../support/tmp.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {expectDoctorSays, expectEmulatorHello, expectEveryInference, expectEveryInferenceWithAihubmixToken, installAihubmixToken, installWithoutWarning} from './expect.js';
import {npmAgentCli} from './npm-agent.js';

const VERSION = `1.5.47`;
const GUARD = path.join(import.meta.dirname, `loopback-only.mjs`);
const AIHUBMIX_MASTER = `aihubmix-manage-fake-0000`;
const emulator = emulatorPerFile({port: 0});
// Another host (another port) for a base URL that sends cn's requests away from the platform.
const elsewhere = emulatorPerFile({port: 0});

const agent = npmAgentCli(`test/agents/continue.test.ts`, `@continuedev/cli@${VERSION}`, `node_modules/@continuedev/cli/dist/cn.js`);

/** One headless cn turn (`-p`) with the local config.yaml; no telemetry, anything off loopback refused. */
function cn(env: Record<string, string>, cwd: string, stopWhen?: () => boolean) {
  return run(process.execPath, [agent.cli!, `-p`, `hi`], {
    env: {...env, CONTINUE_CLI_ENABLE_TELEMETRY: `0`, CONTINUE_METRICS_ENABLED: `0`, NODE_OPTIONS: `--import=${GUARD}`, CAPIT_TEST_BLOCKED_LOG: path.join(cwd, `blocked-hosts.log`)},
    cwd, timeoutMs: 90_000, stopWhen,
  });
}

interface DoctorReport {status: string; shadowedBy: string[]; redirectedBy: string | null; redirectedTo: string | null; sources: {label: string; role: string; present: boolean; origin: string | null}[]}

async function doctorJson(env: Record<string, string>) {
  const result = await runCli([`doctor`, `continue`, `--json`], {env});
  return {exitCode: result.exitCode, report: (JSON.parse(result.stdout) as DoctorReport[])[0]!, text: result.stdout + result.stderr};
}

// A user's own model listed first: cn's first chat model, so the one it uses unless another is selected.
const USERS_KEY = `sk-fake-users-own-3333333333333333`;
const usersModelFirst = (apiBase: string) =>
  `name: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: mine\n    provider: openai\n    model: gpt-4o-mini\n    apiBase: ${apiBase}\n    apiKey: ${USERS_KEY}\n`;

describe(`real Continue CLI ${VERSION}`, () => {
  it(`sends the capped key written into config.yaml, also with a stale OPENROUTER_API_KEY in the shell`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-2222222222222222`});
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `continue`, `--yes`], {env});

    const result = await cn(env, home);
    expectEmulatorHello(result);
    expectEveryInference(emulator, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

    await expectDoctorSays(`continue`, `uses capit key ${key.name} ($5.00 cap) from ~/.continue/config.yaml (models.0.apiKey)`, {env});
    // The apiBase capit wrote names the platform's own origin: set, read, and not a redirect.
    const {exitCode, report} = await doctorJson(env);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({status: `capit`, redirectedBy: null, redirectedTo: null});
    expect(report.sources.find(s => s.label.endsWith(`config.yaml (models.0.apiBase)`))).toMatchObject({role: `baseUrl`, present: true, origin: new URL(emulator.url).origin});
  }, 120_000);

  it(`an apiBase on the model capit keyed changed to another host: cn sends the capped key THERE, doctor says REDIRECTED`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator);
    // The user's own OpenRouter model, which capit keys in place (apiKey and apiBase set one by one).
    const file = path.join(home, `.continue`, `config.yaml`);
    fs.mkdirSync(path.dirname(file), {recursive: true});
    fs.writeFileSync(file, `name: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: my router\n    provider: openrouter\n    model: openai/gpt-4o-mini\n`);
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `continue`, `--yes`], {env});
    const away = new URL(elsewhere.url).origin;
    const written = fs.readFileSync(file, `utf8`);
    expect(written).toContain(`apiBase: ${emulator.openrouterBaseUrl}`);
    fs.writeFileSync(file, written.replace(`apiBase: ${emulator.openrouterBaseUrl}`, `apiBase: ${elsewhere.url}/api/v1`));

    await cn(env, home, () => inferenceRequests(elsewhere).length > 0);
    expect(inferenceRequests(emulator)).toEqual([]);
    expectEveryInference(elsewhere, {path: `/api/v1/chat/completions`, authorization: `Bearer ${key.key}`});

    const {exitCode, report, text} = await doctorJson(env);
    expect(exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedBy: `~/.continue/config.yaml (models.0.apiBase)`, redirectedTo: away, shadowedBy: []});
    expect(text).not.toContain(key.key);
  }, 120_000);

  it(`a user's model listed before capit's wins: the install warns, cn sends the user's key to its base, doctor says REDIRECTED and SHADOWED`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator);
    const away = new URL(elsewhere.url).origin;
    const platformHost = new URL(emulator.openrouterBaseUrl).host;
    const file = path.join(home, `.continue`, `config.yaml`);
    fs.mkdirSync(path.dirname(file), {recursive: true});
    fs.writeFileSync(file, usersModelFirst(`${elsewhere.url}/api/v1`));

    const installed = await runCli([`openrouter`, `5`, `--agent`, `continue`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const note = `cn uses model #1 instead of capit's; select "capit openrouter" with /model in cn`;
    expect(installed.stderr).toContain(`warning: ${file} (models.0.apiBase) (${note}) → requests go to ${away}, not ${platformHost} — continue sends its requests there, where the cap does not apply\n`);
    expect(installed.stderr).toContain(`warning: ${file} (models.0.apiKey) is set and wins over what capit wrote (${note}) — continue may not use the capped key\n`);
    expect(installed.stdout + installed.stderr).not.toContain(USERS_KEY);
    const key = issuedKey(emulator);

    await cn(env, home, () => inferenceRequests(elsewhere).length > 0);
    expect(inferenceRequests(emulator)).toEqual([]);
    expectEveryInference(elsewhere, {authorization: `Bearer ${USERS_KEY}`});

    const {exitCode, report, text} = await doctorJson(env);
    expect(exitCode).toBe(1);
    expect(report).toMatchObject({
      status: `redirected`, redirectedBy: `~/.continue/config.yaml (models.0.apiBase)`, redirectedTo: away,
      shadowedBy: [`~/.continue/config.yaml (models.0.apiKey)`, `~/.continue/config.yaml (models.0.provider)`],
    });
    expect(text).not.toContain(USERS_KEY);
    expect(text).not.toContain(key.key);
  }, 120_000);

  it(`capit's model selected in cn (/model) wins over the user's first model: cn sends the capped key to the platform, doctor agrees`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator);
    const file = path.join(home, `.continue`, `config.yaml`);
    fs.mkdirSync(path.join(home, `.continue`, `index`), {recursive: true});
    fs.writeFileSync(file, usersModelFirst(`${elsewhere.url}/api/v1`));
    // What cn 1.5.47 persists when "capit openrouter" is picked with /model (src/util/modelPersistence.ts).
    fs.writeFileSync(path.join(home, `.continue`, `index`, `globalContext.json`), JSON.stringify({cliSelectedModel: `capit openrouter`}));

    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `continue`, `--yes`], {env});

    const result = await cn(env, home);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(inferenceRequests(elsewhere)).toEqual([]);
    expectEveryInference(emulator, {authorization: `Bearer ${key.key}`});

    const {exitCode, report} = await doctorJson(env);
    expect(exitCode).toBe(0);
    expect(report).toMatchObject({status: `capit`, redirectedBy: null, shadowedBy: []});
  }, 120_000);

  it(`a user's first model on another provider, without an apiBase, wins too: cn goes to that provider's host, doctor says SHADOWED by that model`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator);
    const file = path.join(home, `.continue`, `config.yaml`);
    fs.mkdirSync(path.dirname(file), {recursive: true});
    fs.writeFileSync(file, `name: Local Config\nversion: 1.0.0\nschema: v1\nmodels:\n  - name: mine\n    provider: openai\n    model: gpt-4o-mini\n    apiKey: ${USERS_KEY}\n`);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `continue`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stderr).toContain(`warning: ${file} (models.0.provider) is set and wins over what capit wrote (cn uses model #1 instead of capit's; select "capit openrouter" with /model in cn) — continue may not use the capped key\n`);

    // The loopback-only guard refuses (and logs) the connection to OpenAI's own host: that is where cn sent it.
    const blocked = path.join(home, `blocked-hosts.log`);
    const tried = () => fs.existsSync(blocked) && fs.readFileSync(blocked, `utf8`).includes(`api.openai.com`);
    await cn(env, home, tried);
    expect(tried()).toBe(true);
    expect(inferenceRequests(emulator)).toEqual([]);

    const {exitCode, report} = await doctorJson(env);
    expect(exitCode).toBe(1);
    // Another provider's model is another key and another host: the capped key is not used (SHADOWED by that model).
    expect(report).toMatchObject({status: `shadowed`, shadowedBy: [`~/.continue/config.yaml (models.0.apiKey)`, `~/.continue/config.yaml (models.0.provider)`]});
  }, 120_000);

  it(`sends the capped AIHubMix key to the AIHubMix base capit wrote`, async ctx => {
    if (!agent.cli) return ctx.skip(agent.skipReason);
    const {env, home} = agentSandbox(tempDir(`capit-cn-`), emulator, {
      CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: AIHUBMIX_MASTER,
    });
    const token = await installAihubmixToken(emulator, [`aihubmix`, `5`, `--agent`, `continue`, `--yes`], {env});
    expect(fs.readFileSync(path.join(home, `.continue`, `config.yaml`), `utf8`)).toContain(`apiBase: ${emulator.aihubmixBaseUrl}/v1`);

    const result = await cn(env, home);
    expectEmulatorHello(result);
    expectEveryInferenceWithAihubmixToken(emulator, `/v1/chat/completions`, token.key);
  }, 120_000);
});
