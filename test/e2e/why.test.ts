// `capit why [agent]`: one class per agent holding a capit key, each state produced through the emulator and the real
// CLI. Never prints a key.
import fs   from 'node:fs';
import path from 'node:path';

import {afterEach, describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}               from '../support/cli.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

interface Why {agent: string; platform: string; keyName: string; class: string; summary: string; fix: string | null; resetsAt: string | null; doctor: string}

afterEach(() => emulator.setAccount({creditsUsd: 1000, outputTokenPriceUsd: 0}));

/** A sandbox with opencode holding a fresh capit key; returns the emulator's record of that key. */
async function installed(args: string[] = []) {
  const env = sandboxEnv(tempDir(`capit-why-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, TZ: `UTC`});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  env.PATH = `/usr/bin${path.delimiter}/bin`;
  const before = new Set(emulator.state.keys.keys());
  const issued = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`, ...args], {env});
  expect(issued.exitCode).toBe(0);
  const rec = [...emulator.state.keys.values()].find(k => !before.has(k.hash))!;
  return {env, rec, authFile: path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`)};
}

async function why(env: Record<string, string>, extra: Record<string, string> = {}) {
  const result = await runCli([`why`, `opencode`, `--json`], {env: {...env, ...extra}});
  expect(result.stdout + result.stderr).not.toMatch(/sk-or-v1-[0-9a-f]{64}/);
  return {result, report: (JSON.parse(result.stdout) as Why[])[0]!};
}

describe(`capit why`, () => {
  it(`fine: exit 0, text output names the key and what is left`, async () => {
    const {env, rec} = await installed();
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(0);
    expect(report).toMatchObject({agent: `opencode`, platform: `openrouter`, keyName: rec.name, class: `fine`, fix: null, doctor: `capit`});
    const text = await runCli([`why`], {env});
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toBe(`opencode  fine: key ${rec.name} works ($5.00 left)\n`);
    // The probe went to GET /key with the installed key itself, not the master key.
    const probes = emulator.state.requests.filter(r => r.path === `/api/v1/key` && r.authorization === `Bearer ${rec.key}`);
    expect(probes.length).toBeGreaterThan(0);
  });

  it(`lifetime cap reached`, async () => {
    const {env, rec} = await installed();
    emulator.charge(rec.hash, 5);
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({class: `lifetime-cap`, fix: `capit topup opencode 5`});
  });

  it(`the fix line suggests no more than the configured top-up ceiling allows, and that top-up is accepted`, async () => {
    const {env, rec} = await installed();
    const configFile = path.join(env.XDG_CONFIG_HOME!, `capit`, `config.json`);
    fs.mkdirSync(path.dirname(configFile), {recursive: true});
    fs.writeFileSync(configFile, JSON.stringify({topup: {maxUsd: 1}}));
    emulator.charge(rec.hash, 5);
    const {report} = await why(env);
    expect(report).toMatchObject({class: `lifetime-cap`, fix: `capit topup opencode 1`});
    const followed = await runCli([...report.fix!.split(` `).slice(1), `--yes`], {env});
    expect(followed.exitCode, followed.stderr).toBe(0);
  });

  it(`window cap reached: the reset time in local time, and the window resets when the emulator clock passes midnight`, async () => {
    const {env, rec} = await installed([`--reset`, `daily`]);
    emulator.charge(rec.hash, 5);
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report.class).toBe(`window-cap`);
    // A daily reset is never today: the date is said with the weekday (a weekday alone reads as today).
    const resetsAt = new Date(report.resetsAt!);
    const date = `${resetsAt.toLocaleDateString(`en-GB`, {weekday: `short`, timeZone: `UTC`})} ${resetsAt.getUTCDate()} ${resetsAt.toLocaleDateString(`en-GB`, {month: `short`, timeZone: `UTC`})}`;
    expect(report.summary).toBe(`the daily cap of $5.00 is used up; it resets at ${date} 00:00 UTC`);
    expect(report.fix).toMatch(/^capit topup opencode 5 --for 2h \(or wait: resets at \w{3} \d{1,2} \w{3} 00:00 UTC\)$/);
    expect(resetsAt.getUTCHours()).toBe(0);
    emulator.advanceClock(24 * 3600_000);
    expect((await why(env)).report.class).toBe(`fine`);
  });

  it(`disabled`, async () => {
    const {env, rec} = await installed();
    expect((await runCli([`keys`, `disable`, rec.name, `--yes`], {env})).exitCode).toBe(0);
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({class: `disabled`, fix: `capit keys enable ${rec.name}`});
  });

  it(`deleted at the provider`, async () => {
    const {env, rec} = await installed();
    emulator.removeKey(rec.hash);
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({class: `deleted`, fix: `capit openrouter 5 --agent opencode`});
  });

  it(`expired`, async () => {
    const {env, rec} = await installed([`--expires`, `1h`]);
    // The key's expiry moved into the past (the emulator then refuses it on /key and inference, like OpenRouter).
    rec.expires_at = new Date(Date.now() - 60_000).toISOString();
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({class: `expired`, fix: `capit openrouter 5 --agent opencode`});
  });

  it(`account out of credits (the key's cap is not the problem)`, async () => {
    const {env} = await installed();
    emulator.setAccount({creditsUsd: 0});
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({class: `no-credits`, fix: `top up credits at https://openrouter.ai/settings/credits`});
  });

  it(`affordability pre-check: what remains is below one worst-case request, and the emulator refuses such a request with 402`, async () => {
    const {env, rec} = await installed();
    emulator.charge(rec.hash, 4.9);
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report.class).toBe(`affordability`);
    expect(report.fix).toBe(`set a smaller max output (max_tokens) for opencode, or capit topup opencode 5`);
    emulator.setAccount({outputTokenPriceUsd: 0.000015});
    const res = await fetch(`${emulator.openrouterBaseUrl}/chat/completions`, {
      method: `POST`, headers: {authorization: `Bearer ${rec.key}`, 'content-type': `application/json`},
      body: JSON.stringify({model: `openai/gpt-4o-mini`, max_tokens: 16000, messages: [{role: `user`, content: `hi`}]}),
    });
    expect(res.status).toBe(402);
    expect(((await res.json()) as {error: {message: string}}).error.message).toMatch(/You requested up to 16000 tokens, but can only afford 6666\b/);
  });

  it(`affordability uses the agent's model: $0.50 left is below one claude-sonnet-4.5 request ($0.96), though above the $0.25 default`, async () => {
    const {env, rec} = await installed();
    // opencode's global config names the model; the emulator's /models prices it at $15/M output, 64,000 at most.
    fs.mkdirSync(path.join(env.XDG_CONFIG_HOME!, `opencode`), {recursive: true});
    fs.writeFileSync(path.join(env.XDG_CONFIG_HOME!, `opencode`, `opencode.json`), JSON.stringify({model: `openrouter/anthropic/claude-sonnet-4.5`}));
    emulator.charge(rec.hash, 4.5);
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report.class).toBe(`affordability`);
    expect(report.summary).toBe(`only $0.50 remains, below one worst-case request on anthropic/claude-sonnet-4.5 ($0.96): openrouter refuses requests it cannot afford in full ("can only afford …")`);
    // With $1.00 left the same model's worst case fits: fine.
    rec.usage = 4;
    expect((await why(env)).report.class).toBe(`fine`);
  });

  it(`affordability with a model capit cannot price: the stated $0.25 default`, async () => {
    const {env, rec} = await installed();
    fs.mkdirSync(path.join(env.XDG_CONFIG_HOME!, `opencode`), {recursive: true});
    fs.writeFileSync(path.join(env.XDG_CONFIG_HOME!, `opencode`, `opencode.json`), JSON.stringify({model: `openrouter/no-such/model`}));
    emulator.charge(rec.hash, 4.5);
    expect((await why(env)).report.class).toBe(`fine`);
    emulator.charge(rec.hash, 0.4);
    const {report} = await why(env);
    expect(report.class).toBe(`affordability`);
    expect(report.summary).toContain(`(~$0.25)`);
  });

  it(`shadowed by opencode's inline OPENCODE_CONFIG_CONTENT or its project .opencode/opencode.json apiKey`, async () => {
    const {env} = await installed();
    const inline = await why(env, {OPENCODE_CONFIG_CONTENT: JSON.stringify({provider: {openrouter: {options: {apiKey: `sk-or-v1-fake-inline-1111`}}}})});
    expect(inline.report.class).toBe(`shadowed`);
    expect(inline.report.fix).toBe(`unset or remove environment variable OPENCODE_CONFIG_CONTENT (provider.openrouter.options.apiKey)`);
    // An inline config that only sets a base URL (the tests' own setup) leaves the capped key in use.
    const baseOnly = await why(env, {OPENCODE_CONFIG_CONTENT: JSON.stringify({provider: {openrouter: {options: {baseURL: emulator.openrouterBaseUrl}}}})});
    expect(baseOnly.report.class).toBe(`fine`);
    const project = tempDir(`capit-why-project-`);
    fs.mkdirSync(path.join(project, `.opencode`));
    fs.writeFileSync(path.join(project, `.opencode`, `opencode.json`), JSON.stringify({provider: {openrouter: {options: {apiKey: `sk-or-v1-fake-project-2222`}}}}));
    const inProject = await runCli([`why`, `opencode`, `--json`], {env, cwd: project});
    expect(inProject.exitCode).toBe(1);
    const report = (JSON.parse(inProject.stdout) as Why[])[0]!;
    expect(report.class).toBe(`shadowed`);
    expect(report.summary).toContain(path.join(`.opencode`, `opencode.json`));
  });

  it(`shadowed (doctor): a higher-precedence source wins`, async () => {
    const {env} = await installed();
    const {result, report} = await why(env, {OPENCODE_AUTH_CONTENT: `{"openrouter":{"type":"api","key":"sk-or-v1-fake-shadow-5555"}}`});
    expect(result.exitCode).toBe(1);
    expect(report.class).toBe(`shadowed`);
    expect(report.fix).toMatch(/^unset or remove environment variable OPENCODE_AUTH_CONTENT$/);
  });

  it(`redirected (doctor): the config no longer holds the capped key`, async () => {
    const {env, authFile} = await installed();
    const auth = JSON.parse(fs.readFileSync(authFile, `utf8`));
    auth.openrouter.key = `sk-or-v1-fake-other-7777`;
    fs.writeFileSync(authFile, JSON.stringify(auth));
    const {result, report} = await why(env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({class: `redirected`, fix: `capit restore opencode`});
  });

  it(`refuses a named agent without a capit key: exit 2, one line`, async () => {
    const env = sandboxEnv(tempDir(`capit-why-none-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
    const result = await runCli([`why`, `opencode`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr.trim().split(`\n`)).toHaveLength(1);
  });

  it(`AIHubMix: the same classes from its token fields (read with the manage key), for Claude Code`, async () => {
    const env = sandboxEnv(tempDir(`capit-why-ahm-`), {CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`, TZ: `UTC`});
    delete (env as Record<string, string | undefined>).CAPIT_HOME;
    env.PATH = `/usr/bin${path.delimiter}/bin`;
    expect((await runCli([`aihubmix`, `5`, `--agent`, `claude`, `--yes`], {env})).exitCode).toBe(0);
    const token = [...emulator.state.aihubmixTokens.values()].at(-1)!;
    const whyClaude = async () => {
      const result = await runCli([`why`, `claude`, `--json`], {env});
      expect(result.stdout + result.stderr).not.toContain(token.key);
      return {exitCode: result.exitCode, report: (JSON.parse(result.stdout) as Why[])[0]!};
    };
    expect(await whyClaude()).toMatchObject({exitCode: 0, report: {agent: `claude`, platform: `aihubmix`, class: `fine`}});
    emulator.chargeAihubmix(token.id, 4.95);
    expect((await whyClaude()).report.class).toBe(`affordability`);
    emulator.chargeAihubmix(token.id, 0.05);
    expect(await whyClaude()).toMatchObject({exitCode: 1, report: {class: `lifetime-cap`, fix: `capit topup claude 5`}});
    token.status = 2;
    expect((await whyClaude()).report.class).toBe(`disabled`);
    emulator.removeAihubmixToken(token.id);
    expect((await whyClaude()).report).toMatchObject({class: `deleted`, fix: `capit aihubmix 5 --agent claude`});
    // `GET /api/user/token` (which would replace the manage key) was never called.
    expect(emulator.state.requests.filter(r => r.path === `/api/user/token`)).toHaveLength(0);
  });
});
