// The real Kilo CLI (@kilocode/cli-linux-x64@7.7.9, the newest whose platform package is on npm; fetched at test time)
// after `capit openrouter 5 --agent kilo`: its own request reaches the loopback emulator with the capped key, and for
// each config layer (issue 12 case 2: KILO_CONFIG_CONTENT; parent directories; the managed directory) what it sends
// and what `capit doctor kilo --json` says agree.
import fs   from 'node:fs';
import path from 'node:path';

import {beforeAll, describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {fetchPackage}    from '../support/npm-fetch.js';
import {tempDir}         from '../support/tmp.js';
import {doctorJson, layerScenarios, precedenceScenario} from './layers.js';
import {agentSandbox, inferenceRequests, issuedKey, run} from './support.js';
import {installWithoutWarning} from './expect.js';

const emulator = emulatorPerFile({port: 0});
const KILO_VERSION = `7.7.9`;
let kiloBin: string | undefined;

function kilo(env: Record<string, string>, cwd: string) {
  return run(kiloBin!, [`run`, `-m`, `openrouter/openai/gpt-4o-mini`, `hi`], {
    env: {
      ...env,
      XDG_CACHE_HOME: `${env.HOME}/.cache`,
      KILO_DISABLE_MODELS_FETCH: `1`,
      KILO_DISABLE_AUTOUPDATE: `1`,
      KILO_DISABLE_DEFAULT_PLUGINS: `1`,
      KILO_DISABLE_LSP_DOWNLOAD: `1`,
      KILO_DISABLE_SHARE: `1`,
      KILO_DISABLE_CLAUDE_CODE: `1`,
      KILO_DISABLE_EXTERNAL_SKILLS: `1`,
      KILO_TELEMETRY_DISABLED: `1`,
      KILO_CONFIG_CONTENT: JSON.stringify({provider: {openrouter: {options: {baseURL: emulator.openrouterBaseUrl}}}}),
    },
    cwd,
    timeoutMs: 90_000,
    stopWhen: () => inferenceRequests(emulator).length > 0,
  });
}

describe.skipIf(process.platform !== `linux` || process.arch !== `x64`)(`real Kilo CLI ${KILO_VERSION}`, () => {
  beforeAll(() => {
    const fetched = fetchPackage(`@kilocode/cli-linux-x64@${KILO_VERSION}`);
    if (`reason` in fetched) process.stderr.write(`test/agents/kilo.test.ts: skipped: ${fetched.reason}\n`);
    else kiloBin = path.join(fetched.dir, `bin`, `kilo`);
  }, 900_000);

  it(`sends the capped key from auth.json as Bearer, also with OPENROUTER_API_KEY in the shell; doctor agrees`, async ctx => {
    if (!kiloBin) ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-kilo-`), emulator, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-3333333333333333`});
    const key = await installWithoutWarning(emulator, [`openrouter`, `5`, `--agent`, `kilo`, `--yes`], {env});

    await kilo(env, home);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);

    const doctor = await doctorJson(`kilo`, env);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.report.status).toBe(`capit`);
  }, 180_000);

  it(`an apiKey in a project .opencode/opencode.json is not read by Kilo (unlike opencode): the capped key is sent, doctor agrees`, async ctx => {
    if (!kiloBin) ctx.skip();
    const {env, home} = agentSandbox(tempDir(`capit-kilo-`), emulator);
    expect((await runCli([`openrouter`, `5`, `--agent`, `kilo`, `--yes`], {env})).exitCode).toBe(0);
    const key = issuedKey(emulator);
    const project = path.join(home, `project`);
    fs.mkdirSync(path.join(project, `.opencode`), {recursive: true});
    fs.writeFileSync(path.join(project, `.opencode`, `opencode.json`), JSON.stringify({provider: {openrouter: {options: {apiKey: `sk-or-v1-fake-dot-opencode-0000`}}}}));

    await kilo(env, project);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);

    const doctor = await doctorJson(`kilo`, env, project);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.report.status).toBe(`capit`);
  }, 180_000);

  const family = {agent: `kilo`, envPrefix: `KILO`, projectFile: `kilo.json`} as const;
  layerScenarios(family, () => kiloBin, emulator);
  precedenceScenario(family, () => kiloBin, emulator, `a project's opencode.json beats its kilo.json: Kilo and doctor agree`, {
    files: [`proj/kilo.json`, `proj/opencode.json`], winner: `proj/opencode.json`, cwd: `proj`,
  });
  precedenceScenario(family, () => kiloBin, emulator, `a .kilo directory's kilo.json beats the project's opencode.json: Kilo and doctor agree`, {
    files: [`proj/opencode.json`, `proj/.kilo/kilo.json`], winner: `proj/.kilo/kilo.json`, cwd: `proj`,
  });
});
