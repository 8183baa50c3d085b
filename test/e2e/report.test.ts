// `capit report` (issue 15, slice W2) against the emulator's GET /api/v1/activity: charges made on several keys, agents,
// models and (emulator-clock) days come back as the report's rows and totals, in JSON, CSV and the table.
import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {runCli}          from '../support/cli.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';
import {raw, startGui}   from '../serve/helpers.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const DAY = 86_400_000;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  return sandboxEnv(tempDir(`capit-report-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
}

async function install(env: Record<string, string>, agent: string) {
  const before = new Set(emulator.state.keys.keys());
  const result = await runCli([`openrouter`, `5`, `--agent`, agent, `--yes`], {env});
  expect(result.exitCode, result.stderr).toBe(0);
  return [...emulator.state.keys.values()].find(k => !before.has(k.hash))!;
}

/** Moves the emulator's clock on and returns an env whose capit clock reads the same time. */
function advance(env: Record<string, string>, ms: number) {
  emulator.advanceClock(ms);
  return {...env, CAPIT_TEST_NOW: setClock()};
}
const setClock = () => emulator.setAccount({}).now;
const isoDay = (iso: string, daysBack = 0) => new Date(Date.parse(iso) - daysBack * DAY).toISOString().slice(0, 10);
const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));

/** RFC 4180 as capit writes it (no field here holds a quote or a line break): rows of fields. */
function parseCsv(text: string): string[][] {
  expect(text.endsWith(`\r\n`)).toBe(true);
  return text.slice(0, -2).split(`\r\n`).map(line => line.split(`,`));
}
const cents = (usd: number) => Math.round(usd * 100);

/**
 * Three days of spend: two days ago and yesterday (completed, from /activity) and today (partial, from the listing).
 * opencode spends on two models, claude on one; one request goes through the inference API (requests and tokens).
 */
async function spendOverThreeDays() {
  let env = setup();
  const opencode = await install(env, `opencode`);
  const claude = await install(env, `claude`);
  emulator.charge(opencode.hash, 0.5, {model: `openai/gpt-5`});
  emulator.charge(opencode.hash, 0.25, {model: `anthropic/claude-sonnet-4.5`});
  emulator.charge(claude.hash, 1.0, {model: `anthropic/claude-sonnet-4.5`});
  env = advance(env, DAY);
  emulator.charge(opencode.hash, 0.125, {model: `openai/gpt-5`});
  emulator.charge(claude.hash, 2.0, {model: `anthropic/claude-opus-4`});
  const res = await fetch(`${emulator.openrouterBaseUrl}/chat/completions`, {
    method: `POST`, headers: {authorization: `Bearer ${claude.key}`, 'content-type': `application/json`},
    body: JSON.stringify({model: `anthropic/claude-opus-4`, messages: [{role: `user`, content: `hello`}]}),
  });
  expect(res.status).toBe(200);
  const requestUsd = emulator.knobs.pricePerRequestUsd as number;
  env = advance(env, DAY);
  emulator.charge(opencode.hash, 0.375, {model: `openai/gpt-5`});
  const now = env.CAPIT_TEST_NOW!;
  return {env, opencode, claude, now, requestUsd, total: 0.5 + 0.25 + 1 + 0.125 + 2 + requestUsd + 0.375};
}

describe(`capit report`, () => {
  it(`totals equal the emulator's charges in JSON and CSV, per day, model and agent, today marked partial`, async () => {
    const {env, opencode, claude, now, requestUsd, total} = await spendOverThreeDays();
    const [twoDaysAgo, yesterday, today] = [isoDay(now, 2), isoDay(now, 1), isoDay(now)];

    const json = await runCli([`report`, `--json`], {env});
    expect(json.exitCode, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report).toMatchObject({to: today, from: isoDay(now, 30), by: null, agent: null, reported: [`openrouter`], unavailable: [], errors: []});
    expect(report.days).toHaveLength(31);
    expect(cents(report.total.usd)).toBe(cents(total));
    expect(report.total.requests).toBe(6); // five booked charges and one inference request on completed days
    const row = (date: string, agent: string, model: string | null) => report.rows.find((r: any) => r.date === date && r.agent === agent && r.model === model);
    expect(row(twoDaysAgo, `opencode`, `openai/gpt-5`)).toMatchObject({usd: 0.5, requests: 1, keyName: opencode.name, platform: `openrouter`, partial: false});
    expect(row(twoDaysAgo, `opencode`, `anthropic/claude-sonnet-4.5`)).toMatchObject({usd: 0.25});
    expect(row(twoDaysAgo, `claude`, `anthropic/claude-sonnet-4.5`)).toMatchObject({usd: 1, keyName: claude.name});
    expect(row(yesterday, `claude`, `anthropic/claude-opus-4`)).toMatchObject({usd: 2 + requestUsd, requests: 2});
    expect(row(yesterday, `claude`, `anthropic/claude-opus-4`).promptTokens).toBeGreaterThan(0);
    expect(row(today, `opencode`, null)).toMatchObject({usd: 0.375, partial: true, requests: null});
    expect(report.rows).toHaveLength(6);
    expect(json.stdout).not.toContain(opencode.key);
    expect(json.stdout).not.toContain(claude.key);
    // One activity call per capit key, filtered by its hash.
    const activityCalls = managementRequests().filter(r => r.path === `/api/v1/activity`);
    expect(activityCalls.map(r => new URL(r.url, `http://emulator`).searchParams.get(`api_key_hash`)).sort()).toEqual([opencode.hash, claude.hash].sort());

    const csv = await runCli([`report`, `--csv`], {env});
    expect(csv.exitCode, csv.stderr).toBe(0);
    const [header, ...rows] = parseCsv(csv.stdout);
    expect(header).toEqual([`date`, `platform`, `agent`, `key`, `model`, `usd`, `byok_usd`, `requests`, `prompt_tokens`, `completion_tokens`, `partial`]);
    expect(rows).toHaveLength(6);
    expect(cents(rows.reduce((sum, r) => sum + Number(r[5]), 0))).toBe(cents(total));
    expect(rows.find(r => r[0] === today)).toEqual([today, `openrouter`, `opencode`, opencode.name, ``, `0.375`, `0`, ``, ``, ``, `true`]);

    const table = await runCli([`report`], {env});
    expect(table.exitCode, table.stderr).toBe(0);
    expect(table.stdout).toMatch(new RegExp(`TOTAL\\s+\\$${total.toFixed(2).replace(`.`, `\\.`)}`));
    expect(table.stdout).toContain(`* today so far`);
  });

  it(`--by day, model and agent total each group; --agent and --days narrow the rows`, async () => {
    const {env, now, requestUsd, total} = await spendOverThreeDays();
    const groups = async (...args: string[]) => {
      const result = await runCli([`report`, `--json`, ...args], {env});
      expect(result.exitCode, result.stderr).toBe(0);
      const report = JSON.parse(result.stdout);
      return {report, byKey: Object.fromEntries(report.groups.map((g: any) => [g.key, cents(g.usd)]))};
    };
    const byDay = await groups(`--by`, `day`);
    expect(byDay.byKey).toEqual({[isoDay(now, 2)]: 175, [isoDay(now, 1)]: cents(2.125 + requestUsd), [isoDay(now)]: 38});
    expect(byDay.report.groups.at(-1).partial).toBe(true);
    const byModel = await groups(`--by`, `model`);
    expect(byModel.byKey).toEqual({'openai/gpt-5': cents(0.625), 'anthropic/claude-sonnet-4.5': 125, 'anthropic/claude-opus-4': cents(2 + requestUsd), '(today, by key)': 38});
    const byAgent = await groups(`--by`, `agent`);
    expect(byAgent.byKey).toEqual({opencode: cents(1.25), claude: cents(3 + requestUsd)});
    expect(byAgent.report.groups[0].key).toBe(`claude`); // the largest spender first
    for (const g of [byDay, byModel, byAgent]) expect(cents(g.report.total.usd)).toBe(cents(total));

    const csv = await runCli([`report`, `--csv`, `--by`, `agent`], {env});
    const [header, ...rows] = parseCsv(csv.stdout);
    expect(header).toEqual([`agent`, `usd`, `byok_usd`, `requests`, `prompt_tokens`, `completion_tokens`, `partial`]);
    expect(Object.fromEntries(rows.map(r => [r[0], cents(Number(r[1]))]))).toEqual(byAgent.byKey);

    const onlyClaude = await groups(`--agent`, `claude`, `--by`, `model`);
    expect(onlyClaude.report.rows.every((r: any) => r.agent === `claude`)).toBe(true);
    expect(cents(onlyClaude.report.total.usd)).toBe(cents(3 + requestUsd));

    // --days 1: yesterday and today only.
    const lastDay = await groups(`--days`, `1`, `--by`, `day`);
    expect(lastDay.report.days).toEqual([isoDay(now, 1), isoDay(now)]);
    expect(lastDay.byKey).toEqual({[isoDay(now, 1)]: cents(2.125 + requestUsd), [isoDay(now)]: 38});
  });

  it(`AIHubMix has no usage history: the report says "not available" and shows no numbers for it`, async () => {
    const env = sandboxEnv(tempDir(`capit-report-ahm-`), {CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`});
    const installed = await runCli([`aihubmix`, `5`, `--agent`, `claude`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const token = [...emulator.state.aihubmixTokens.values()].at(-1)!;
    emulator.chargeAihubmix(token.id, 1.5);

    const json = await runCli([`report`, `--json`], {env});
    expect(json.exitCode, json.stderr).toBe(0);
    const report = JSON.parse(json.stdout);
    expect(report.unavailable).toEqual([{platform: `aihubmix`, reason: expect.stringMatching(/^not available for AIHubMix/)}]);
    expect(report.rows).toEqual([]);
    expect(report.reported).toEqual([]);
    expect(report.total.usd).toBe(0);
    expect(json.stderr).toMatch(/^capit: aihubmix: not available for AIHubMix: /m);

    const table = await runCli([`report`], {env});
    expect(table.exitCode).toBe(0);
    expect(table.stderr).toContain(`not available for AIHubMix`);
    expect(table.stdout).toBe(``); // nothing was read, so no "no spend" line either
  });

  it(`a provider failure: exit 1, said once with its cause; what could be read is still reported`, async () => {
    const {env} = await spendOverThreeDays();
    emulator.faults.add({kind: `status`, status: 400, method: `GET`, path: `/api/v1/activity`, count: -1});
    const result = await runCli([`report`, `--json`], {env});
    expect(result.exitCode).toBe(1);
    const lines = result.stderr.trim().split(`\n`);
    expect(lines).toHaveLength(1); // two keys failed the same way: one line
    expect(lines[0]).toMatch(/^capit: openrouter: .*activity.*400/);
    const report = JSON.parse(result.stdout);
    expect(report.errors).toEqual([expect.objectContaining({platform: `openrouter`, code: expect.stringMatching(/^CAPIT_/)})]);
    expect(report.reported).toEqual([]);
    expect(report.rows).toEqual([expect.objectContaining({partial: true, usd: 0.375})]);
  });

  it(`bad input: one line, exit 2, no request sent`, async () => {
    const env = setup();
    for (const args of [[`--days`, `0`], [`--days`, `31`], [`--days`, `1.5`], [`--by`, `week`], [`--agent`, `nosuch`], [`--csv`, `--json`]]) {
      const result = await runCli([`report`, ...args], {env});
      expect(result.exitCode, args.join(` `)).toBe(2);
      expect(result.stderr.trim().split(`\n`), args.join(` `)).toHaveLength(1);
      expect(result.stdout).toBe(``);
    }
    expect(managementRequests()).toEqual([]);
  });

  it(`the emulator's GET /activity: the real field names, completed days only, filtered by api_key_hash and date`, async () => {
    const a = emulator.createKey({name: `a`, limit: 10});
    const b = emulator.createKey({name: `b`, limit: 10});
    emulator.charge(a.hash, 1, {model: `m/one`});
    emulator.charge(b.hash, 2, {model: `m/two`});
    const get = async (query = ``) => {
      const res = await fetch(`${emulator.openrouterBaseUrl}/activity${query}`, {headers: {authorization: `Bearer ${MASTER}`}});
      expect(res.status).toBe(200);
      return ((await res.json()) as {data: Record<string, unknown>[]}).data;
    };
    expect(await get()).toEqual([]); // today is not complete yet
    emulator.advanceClock(DAY);
    const day = isoDay(setClock(), 1);
    const all = await get();
    expect(all).toHaveLength(2);
    expect(Object.keys(all[0]!).sort()).toEqual([`byok_usage_inference`, `completion_tokens`, `date`, `endpoint_id`, `model`, `model_permaslug`, `prompt_tokens`, `provider_name`, `reasoning_tokens`, `requests`, `usage`]);
    expect(await get(`?api_key_hash=${a.hash}`)).toEqual([expect.objectContaining({date: day, model: `m/one`, usage: 1, requests: 1})]);
    expect(await get(`?date=${day}&api_key_hash=${b.hash}`)).toEqual([expect.objectContaining({model: `m/two`, usage: 2})]);
    expect(await get(`?date=${isoDay(setClock(), 2)}`)).toEqual([]);
    emulator.advanceClock(31 * DAY);
    expect(await get()).toEqual([]); // older than 30 days
    const unauthorised = await fetch(`${emulator.openrouterBaseUrl}/activity`, {headers: {authorization: `Bearer ${a.key}`}});
    expect(unauthorised.status).toBeGreaterThanOrEqual(400);
  });

  it(`GET /api/spend serves the series per agent, model and day and today's burn, never a key`, async () => {
    const {env, claude, opencode, now, requestUsd} = await spendOverThreeDays();
    const server = await startGui(env);
    const res = await raw(server, `/api/spend`);
    expect(res.status, res.text).toBe(200);
    expect(res.json.days).toHaveLength(31);
    expect(res.json.agents).toEqual([`claude`, `opencode`]);
    expect(res.json.series).toContainEqual({agent: `claude`, model: `anthropic/claude-opus-4`, date: isoDay(now, 1), usd: 2 + requestUsd});
    expect(res.json.series).toContainEqual({agent: `opencode`, model: `(today, by key)`, date: isoDay(now), usd: 0.375});
    expect(res.json.burn).toEqual([expect.objectContaining({agent: `opencode`, spentTodayUsd: 0.375})]);
    expect(res.json.burn[0].usdPerHour).toBeGreaterThan(0);
    expect(res.text).not.toContain(claude.key);
    expect(res.text).not.toContain(opencode.key);
    expect((await raw(server, `/api/spend?days=99`)).status).toBe(400);
  });
});
