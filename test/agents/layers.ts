// Config-layer scenarios shared by the real opencode and Kilo tests (Kilo is an opencode fork with the same loader
// under its own names): for each layer, what the agent's own binary sends to the loopback emulator and what
// `capit doctor <agent> --json` says must agree.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import path           from 'node:path';

import {expect, it} from 'vitest';

import {startEmulator} from '../emulator/server.mjs';
import type {Emulator} from '../emulator/server.mjs';
import {runCli}        from '../support/cli.js';
import {tempDir}       from '../support/tmp.js';
import {agentSandbox, inferenceRequests, run} from './support.js';

/** What differs between opencode and Kilo. */
export interface LoaderFamily {
  /** capit's agent id, also the binary's data directory name. */
  agent: `opencode` | `kilo`;
  /** Prefix of the binary's variables: OPENCODE_CONFIG_CONTENT, KILO_CONFIG_CONTENT, … */
  envPrefix: `OPENCODE` | `KILO`;
  /** A project config file name both read. */
  projectFile: string;
}

interface DoctorJson {
  status: string;
  effective: string | null;
  shadowedBy: string[];
  redirectedTo?: string | null;
  sources: {label: string; present: boolean; installs: boolean}[];
}

export async function doctorJson(agent: string, env: Record<string, string>, cwd?: string): Promise<{exitCode: number | null; report: DoctorJson}> {
  const result = await runCli([`doctor`, agent, `--json`], {env, ...(cwd ? {cwd} : {})});
  const parsed = JSON.parse(result.stdout) as unknown;
  const list = (Array.isArray(parsed) ? parsed : (parsed as {agents?: unknown[]}).agents ?? [parsed]) as (DoctorJson & {agent: string})[];
  const report = list.find(r => r.agent === agent);
  if (!report) throw new Error(`doctor --json has no report for ${agent}: ${result.stdout}`);
  return {exitCode: result.exitCode, report};
}

/** Environment that keeps opencode/Kilo offline, quiet and quick, pointed at the emulator through the inline config. */
function agentEnv(family: LoaderFamily, env: Record<string, string>, inline: unknown): Record<string, string> {
  const p = family.envPrefix;
  return {
    ...env,
    XDG_CACHE_HOME: `${env.HOME}/.cache`,
    [`${p}_DISABLE_MODELS_FETCH`]: `1`,
    [`${p}_DISABLE_AUTOUPDATE`]: `1`,
    [`${p}_DISABLE_DEFAULT_PLUGINS`]: `1`,
    [`${p}_DISABLE_LSP_DOWNLOAD`]: `1`,
    [`${p}_DISABLE_SHARE`]: `1`,
    [`${p}_DISABLE_CLAUDE_CODE`]: `1`,
    [`${p}_DISABLE_EXTERNAL_SKILLS`]: `1`,
    KILO_TELEMETRY_DISABLED: `1`,
    [`${p}_CONFIG_CONTENT`]: JSON.stringify(inline),
  };
}

function providerOptions(options: Record<string, string>) {
  return {provider: {openrouter: {options}}};
}

function writeJson(file: string, value: unknown) {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, `${JSON.stringify(value, null, 2)}\n`);
}

/**
 * Runs the agent once (`run -m openrouter/openai/gpt-4o-mini hi`) until its first inference request reached one of
 * the emulators, then stops it: the observation is the request, not the agent's answer.
 */
function runAgent(bin: () => string, family: LoaderFamily, env: Record<string, string>, cwd: string, inline: unknown, emulators: Emulator[]) {
  return run(bin(), [`run`, `-m`, `openrouter/openai/gpt-4o-mini`, `hi`], {
    env: agentEnv(family, env, inline), cwd, timeoutMs: 90_000,
    stopWhen: () => emulators.some(e => inferenceRequests(e).length > 0),
  });
}

async function installCapped(family: LoaderFamily, emulator: Emulator, extra: Record<string, string> = {}) {
  const {env, home} = agentSandbox(tempDir(`capit-${family.agent}-layers-`), emulator, extra);
  const installed = await runCli([`openrouter`, `5`, `--agent`, family.agent, `--yes`], {env});
  expect(installed.exitCode, installed.stderr).toBe(0);
  const key = [...emulator.state.keys.values()].find(k => k.name.startsWith(`${family.agent}-`))!;
  return {env, home, key, installed};
}

/**
 * The layer scenarios of issue 12 (cases 1 and 2) and the parent-directory walk, as `it` blocks. `bin()` is the
 * binary, or undefined when it could not be fetched (the tests then skip; the caller printed why).
 */
export function layerScenarios(family: LoaderFamily, bin: () => string | undefined, emulator: Emulator) {
  const P = family.envPrefix;
  const need = (skip: () => void) => {
    const b = bin();
    if (!b) skip();
    return () => b!;
  };

  it(`${P}_CONFIG_CONTENT with another apiKey: the agent sends that key, doctor says shadowed and exits 1`, async ctx => {
    const binary = need(() => ctx.skip());
    const otherKey = emulator.createKey({name: `inline-other`, limit: 1}).key;
    const {env, home, key} = await installCapped(family, emulator);
    const inline = providerOptions({baseURL: emulator.openrouterBaseUrl, apiKey: otherKey});

    await runAgent(binary, family, env, home, inline, [emulator]);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${otherKey}`)).toBe(true);

    const doctor = await doctorJson(family.agent, {...env, [`${P}_CONFIG_CONTENT`]: JSON.stringify(inline)});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.report.status).toBe(`shadowed`);
    expect(doctor.report.shadowedBy.join(`\n`)).toContain(`${P}_CONFIG_CONTENT`);
    expect(JSON.stringify(doctor.report)).not.toContain(otherKey);
    expect(JSON.stringify(doctor.report)).not.toContain(key.key);
  }, 180_000);

  it(`the project config ${family.projectFile} with another apiKey in a parent directory (inside the git repository): the agent sends it, doctor says shadowed`, async ctx => {
    const binary = need(() => ctx.skip());
    const otherKey = emulator.createKey({name: `parent-other`, limit: 1}).key;
    const {env, home, key} = await installCapped(family, emulator);
    const repo = path.join(home, `repo`);
    const cwd = path.join(repo, `packages`, `app`);
    fs.mkdirSync(cwd, {recursive: true});
    execFileSync(`git`, [`init`, `-q`, repo]);
    writeJson(path.join(repo, family.projectFile), providerOptions({apiKey: otherKey}));
    const inline = providerOptions({baseURL: emulator.openrouterBaseUrl});

    await runAgent(binary, family, env, cwd, inline, [emulator]);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${otherKey}`)).toBe(true);

    const doctor = await doctorJson(family.agent, env, cwd);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.report.status).toBe(`shadowed`);
    expect(doctor.report.shadowedBy.join(`\n`)).toContain(`repo/${family.projectFile}`);
    expect(JSON.stringify(doctor.report)).not.toContain(key.key);
  }, 180_000);

  it(`the project config ${family.projectFile} with another apiKey ABOVE the git root is not read: the agent sends the capped key, doctor agrees`, async ctx => {
    const binary = need(() => ctx.skip());
    const {env, home, key} = await installCapped(family, emulator);
    const repo = path.join(home, `outer`, `repo`);
    fs.mkdirSync(repo, {recursive: true});
    execFileSync(`git`, [`init`, `-q`, repo]);
    writeJson(path.join(home, `outer`, family.projectFile), providerOptions({apiKey: `sk-or-v1-fake-above-git-0000`}));
    const inline = providerOptions({baseURL: emulator.openrouterBaseUrl});

    await runAgent(binary, family, env, repo, inline, [emulator]);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);

    const doctor = await doctorJson(family.agent, env, repo);
    expect(doctor.exitCode).toBe(0);
    expect(doctor.report.status).toBe(`capit`);
    expect(doctor.report.sources.find(s => s.label.includes(`outer/${family.projectFile}`))).toBeUndefined();
  }, 180_000);

  it(`a managed-config baseURL pointing elsewhere beats ${P}_CONFIG_CONTENT: the capped key goes to the other host, doctor says REDIRECTED`, async ctx => {
    const binary = need(() => ctx.skip());
    const elsewhere = await startEmulator({port: 0});
    try {
      const managed = tempDir(`capit-${family.agent}-managed-`);
      // The binaries' own test hook for the managed directory (/etc/<agent> otherwise), which capit honours too.
      const {env, home, key} = await installCapped(family, emulator, {[`${P}_TEST_MANAGED_CONFIG_DIR`]: managed});
      const managedFile = path.join(managed, `${family.agent === `kilo` ? `kilo` : `opencode`}.json`);
      writeJson(managedFile, providerOptions({baseURL: elsewhere.openrouterBaseUrl}));
      const inline = providerOptions({baseURL: emulator.openrouterBaseUrl});

      await runAgent(binary, family, env, home, inline, [emulator, elsewhere]);
      expect(inferenceRequests(emulator)).toEqual([]);
      const calls = inferenceRequests(elsewhere);
      expect(calls.length).toBeGreaterThan(0);
      expect(calls.every(c => c.authorization === `Bearer ${key.key}`)).toBe(true);

      const doctor = await doctorJson(family.agent, env);
      const source = doctor.report.sources.find(s => s.label === `${managedFile} (provider.openrouter.options.baseURL)`);
      expect(source?.present).toBe(true);
      expect(doctor.exitCode).toBe(1);
      expect(doctor.report).toMatchObject({status: `redirected`, redirectedTo: new URL(elsewhere.openrouterBaseUrl).origin});
    } finally {
      await elsewhere.close();
    }
  }, 180_000);
}

/**
 * Two or more config files with different apiKeys (paths relative to the sandbox HOME; `cwd` too): the agent must send
 * the key of `winner`, and doctor must name that same file first among the sources that shadow the capped key.
 */
export function precedenceScenario(family: LoaderFamily, bin: () => string | undefined, emulator: Emulator, title: string,
  setup: {files: string[]; winner: string; cwd: string; env?: (home: string) => Record<string, string>}) {
  it(title, async ctx => {
    const binary = bin();
    if (!binary) ctx.skip();
    const keys = new Map(setup.files.map((file, i) => [file, emulator.createKey({name: `layer-${i}`, limit: 1}).key]));
    const root = tempDir(`capit-${family.agent}-order-`);
    const {env, home} = agentSandbox(root, emulator, setup.env?.(path.join(root, `home`)) ?? {});
    const installed = await runCli([`openrouter`, `5`, `--agent`, family.agent, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    for (const [file, key] of keys) writeJson(path.join(home, file), providerOptions({apiKey: key}));
    const cwd = path.join(home, setup.cwd);
    fs.mkdirSync(cwd, {recursive: true});

    await runAgent(() => binary!, family, env, cwd, providerOptions({baseURL: emulator.openrouterBaseUrl}), [emulator]);
    const calls = inferenceRequests(emulator);
    expect(calls.length).toBeGreaterThan(0);
    expect(calls.every(c => c.authorization === `Bearer ${keys.get(setup.winner)}`)).toBe(true);

    const doctor = await doctorJson(family.agent, env, cwd);
    expect(doctor.exitCode).toBe(1);
    expect(doctor.report.status).toBe(`shadowed`);
    expect(doctor.report.shadowedBy[0]).toContain(`~/${setup.winner} `);
  }, 180_000);
}
