import {spawn}  from 'node:child_process';
import fs       from 'node:fs';
import http     from 'node:http';
import type {AddressInfo} from 'node:net';
import path     from 'node:path';

import {describe, expect, it, onTestFinished} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {CLI, runCli}     from '../support/cli.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});
const DAY = 86_400_000;

function setup() {
  const root = tempDir(`capit-watch-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const stateDir = path.join(env.XDG_STATE_HOME!, `capit`);
  return {root, env, stateDir, configFile: path.join(env.XDG_CONFIG_HOME!, `capit`, `config.json`)};
}

async function install(env: Record<string, string>, usd: string, ...extra: string[]) {
  const installed = await runCli([`openrouter`, usd, `--agent`, `opencode`, `--yes`, ...extra], {env});
  expect(installed.exitCode, installed.stderr).toBe(0);
  const [record] = [...emulator.state.keys.values()];
  return record!;
}

/** The env of a later `capit` run: its clock reads `ms` from now (CAPIT_TEST_NOW). */
const at = (env: Record<string, string>, ms: number) => ({...env, CAPIT_TEST_NOW: new Date(Date.now() + ms).toISOString()});

const listings = () => emulator.state.requests.filter(r => r.method === `GET` && r.path === `/api/v1/keys`);

/** Waits for a condition; the bound only keeps a broken run from hanging (nothing is asserted about time). */
async function until(check: () => boolean, what: string, boundMs = 20_000): Promise<void> {
  const start = Date.now();
  while (!check()) {
    if (Date.now() - start > boundMs) throw new Error(`gave up waiting for ${what}`);
    await new Promise(resolve => setTimeout(resolve, 20));
  }
}

function spawnWatch(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, `watch`, ...args], {env, cwd: env.HOME, stdio: [`ignore`, `pipe`, `pipe`]});
  let stderr = ``;
  let stdout = ``;
  child.stderr.on(`data`, chunk => (stderr += chunk));
  child.stdout.on(`data`, chunk => (stdout += chunk));
  const exited = new Promise<number | null>(resolve => child.on(`close`, code => resolve(code)));
  onTestFinished(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill(`SIGKILL`);
  });
  return {child, exited, stderr: () => stderr, stdout: () => stdout};
}

/** A loopback HTTP server that records every request body. */
async function recorder() {
  const received: {path: string; headers: http.IncomingHttpHeaders; body: string}[] = [];
  const server = http.createServer((req, res) => {
    let body = ``;
    req.on(`data`, chunk => (body += chunk));
    req.on(`end`, () => {
      received.push({path: req.url ?? ``, headers: req.headers, body});
      res.writeHead(200).end(`ok`);
    });
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  onTestFinished(() => new Promise<void>(resolve => server.close(() => resolve())));
  return {received, url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`};
}

const audit = (stateDir: string) => {
  const file = path.join(stateDir, `audit.jsonl`);
  return fs.existsSync(file) ? fs.readFileSync(file, `utf8`).trim().split(`\n`).map(l => JSON.parse(l) as Record<string, unknown>) : [];
};

describe(`capit watch`, () => {
  it(`stops a runaway loop at the provider within one interval of the spike, with a runway line and a webhook`, async () => {
    const {env, stateDir} = setup();
    const key = await install(env, `10`, `--reset`, `daily`);
    // A cheap request in a fast loop: far under the cap in one interval, far over 25 % of the cap in 10 minutes.
    emulator.knobs.pricePerRequestUsd = 0.001;
    const hook = await recorder();

    const watch = spawnWatch([`--interval`, `1s`, `--disable-on-spike`, `--notify`, `webhook=${hook.url}/capit`], env);
    // Two quiet passes first: the key's history starts with no spend.
    await until(() => listings().length >= 2, `two quiet passes`);
    expect(watch.stderr()).not.toContain(`SPIKE`);

    // The runaway: one request after another, as a looping agent makes them, until the provider refuses one.
    const outcomes: number[] = [];
    for (let i = 0; i < 2_000; i++) {
      const res = await fetch(`${emulator.openrouterBaseUrl}/chat/completions`, {
        method: `POST`, headers: {authorization: `Bearer ${key.key}`, 'content-type': `application/json`},
        body: JSON.stringify({model: `openai/gpt-4o-mini`, messages: [{role: `user`, content: `again`}]}),
      });
      await res.arrayBuffer();
      outcomes.push(res.status);
      if (res.status !== 200) break;
      await new Promise(resolve => setTimeout(resolve, 10));
    }
    // Refused because the key is disabled (401), long before the cap would have stopped it.
    expect(outcomes.at(-1)).toBe(401);
    expect(emulator.state.keys.get(key.hash)!.usage).toBeLessThan(1);
    await until(() => hook.received.length > 0, `the webhook`);

    // The spike alert names the agent, the pace and the runway, and says how to undo the disable.
    const stderr = watch.stderr();
    expect(stderr).toMatch(new RegExp(`SPIKE opencode, openrouter key ${key.name}: \\$\\d+\\.\\d\\d/min`));
    expect(stderr).toMatch(/opencode's \$10\.00 daily cap (runs out|lasts until it resets) at (\w{3} )?\d\d:\d\d/);
    expect(stderr).toContain(`disabled at openrouter (verified): capit keys enable ${key.name} reverses it`);
    expect(stderr).not.toContain(key.key);

    // Disabled at the provider, in the ledger and in the audit log.
    expect(emulator.state.keys.get(key.hash)!.disabled).toBe(true);
    const ledger = JSON.parse(fs.readFileSync(path.join(stateDir, `ledger.json`), `utf8`)).keys as {id: string; status: string}[];
    expect(ledger.find(k => k.id === key.hash)!.status).toBe(`disabled`);
    expect(audit(stateDir)).toEqual([expect.objectContaining({action: `disable`, keyName: key.name, keyId: key.hash, agent: `opencode`,
      reason: expect.stringContaining(`capit watch --disable-on-spike`)})]);

    // Stopped within one interval: the loop's successful requests after the poll that saw the spike are no more than
    // it made in one interval before it, and none succeeds after the disable.
    const log = emulator.state.requests;
    const patch = log.findIndex(r => r.method === `PATCH`);
    expect(patch).toBeGreaterThan(0);
    const polls = log.map((r, i) => (r.method === `GET` && r.path === `/api/v1/keys` ? i : -1)).filter(i => i >= 0);
    const spikePoll = polls.filter(i => i < patch).at(-1)!;
    const inference = (from: number, to: number) => log.slice(from, to).filter(r => r.path === `/api/v1/chat/completions` && r.status === 200).length;
    const afterSpike = inference(spikePoll, log.length);
    const perInterval = Math.max(...polls.slice(1).filter(i => i <= spikePoll).map((p, n) => inference(polls[n]!, p)));
    expect(afterSpike).toBeLessThanOrEqual(perInterval);
    expect(inference(patch, log.length)).toBe(0);

    // The webhook got the alert as JSON.
    expect(hook.received[0]!.path).toBe(`/capit`);
    expect(JSON.parse(hook.received[0]!.body)).toMatchObject({type: `capit.watch.alert`, kind: `spike`, platform: `openrouter`,
      keyName: key.name, keyId: key.hash, agent: `opencode`, capUsd: 10, reset: `daily`, disabled: `disabled`});
    expect(hook.received.map(r => r.body).join(``)).not.toContain(key.key);

    watch.child.kill(`SIGTERM`);
    expect(await watch.exited).toBe(0);
    expect(watch.stderr()).toContain(`capit watch: stopped`);
  });

  it(`fires each threshold once across passes; --once exits 1 only when an alert fired`, async () => {
    const {env} = setup();
    const key = await install(env, `10`);
    const pass = async (days: number) => runCli([`watch`, `--once`], {env: at(env, days * DAY)});

    const quiet = await pass(0);
    expect(quiet.exitCode, quiet.stderr).toBe(0);
    expect(quiet.stderr).toContain(`1 key watched, no alert`);

    // Spend spread over a day each time: a slow pace, so only the thresholds speak.
    emulator.charge(key.hash, 5.2);
    const fifty = await pass(1);
    expect(fifty.exitCode).toBe(1);
    expect(fifty.stderr.match(/% of the cap/g)).toHaveLength(1);
    expect(fifty.stderr).toContain(`50 % of the cap: opencode, openrouter key ${key.name}: 52 % of the $10.00 lifetime cap spent ($5.20)`);
    expect(fifty.stderr).toMatch(/at this pace opencode's \$10\.00 lifetime cap runs out at/);
    expect(fifty.stderr).not.toContain(`SPIKE`);

    expect((await pass(2)).exitCode).toBe(0); // no new spend: nothing is said again

    emulator.charge(key.hash, 3);
    const eighty = await pass(3);
    expect(eighty.exitCode).toBe(1);
    expect(eighty.stderr.match(/% of the cap/g)).toHaveLength(1);
    expect(eighty.stderr).toContain(`80 % of the cap: opencode`);

    emulator.charge(key.hash, 0.1);
    expect((await pass(4)).exitCode).toBe(0); // still past 80 %, already said

    emulator.charge(key.hash, 2);
    const full = await pass(5);
    expect(full.exitCode).toBe(1);
    expect(full.stderr).toContain(`100 % of the cap: opencode`);
    expect(full.stderr).toContain(`opencode's $10.00 lifetime cap is used up`);
    expect((await pass(6)).exitCode).toBe(0);
  });

  it(`reads watch.thresholds and the spike settings from capit's config; a wrong value is refused`, async () => {
    const {env, configFile} = setup();
    const key = await install(env, `10`);
    fs.mkdirSync(path.dirname(configFile), {recursive: true});
    fs.writeFileSync(configFile, JSON.stringify({watch: {thresholds: [30], spikeSharePercent: 5, spikeMinutes: 60}}));
    expect((await runCli([`watch`, `--once`], {env})).exitCode).toBe(0);
    emulator.charge(key.hash, 3.5);
    // $3.50 in a day: 1.5 % of the cap per hour is under 5 %, no spike; but 35 % is past the only threshold, 30 %.
    const slow = await runCli([`watch`, `--once`], {env: at(env, DAY)});
    expect(slow.exitCode).toBe(1);
    expect(slow.stderr).toContain(`30 % of the cap: opencode`);
    expect(slow.stderr).not.toContain(`SPIKE`);
    emulator.charge(key.hash, 1.2);
    // $1.20 in an hour: 12 % of the cap per hour, over the configured 5 %.
    const fast = await runCli([`watch`, `--once`], {env: at(env, DAY + 3_600_000)});
    expect(fast.exitCode).toBe(1);
    expect(fast.stderr).toContain(`SPIKE opencode`);
    expect(fast.stderr).toContain(`SPIKE opencode, openrouter key ${key.name}: $0.02/min, a pace of 5 % of the $10.00 lifetime cap in 60 min or faster`);
    expect(emulator.state.keys.get(key.hash)!.disabled).toBe(false); // no --disable-on-spike

    fs.writeFileSync(configFile, JSON.stringify({watch: {thresholds: [`half`]}}));
    const before = emulator.state.requests.length;
    const bad = await runCli([`watch`, `--once`], {env});
    expect(bad.exitCode).toBe(2);
    expect(bad.stderr).toContain(`"watch.thresholds" must be a list of percentages`);
    expect(emulator.state.requests.length).toBe(before);
  });

  it(`refuses a bad --interval or --notify before any request (exit 2)`, async () => {
    const {env} = setup();
    for (const args of [[`--interval`, `0s`], [`--interval`, `soon`], [`--notify`, `pager`], [`--notify`, `webhook=ftp://x`], [`--notify`, `ntfy=a/b`]]) {
      const result = await runCli([`watch`, `--once`, ...args], {env});
      expect(result.exitCode, args.join(` `)).toBe(2);
      expect(result.stderr.trim().split(`\n`), args.join(` `)).toHaveLength(1);
    }
    expect(emulator.state.requests.filter(r => !r.path.startsWith(`/__`))).toHaveLength(0);

    // No master key anywhere: nothing to watch, and it says how to start.
    const {OPENROUTER_MANAGEMENT_KEY: _unused, ...bare} = env;
    const none = await runCli([`watch`, `--once`], {env: bare});
    expect(none.exitCode, none.stderr).toBe(0);
    expect(none.stderr).toContain(`No platform is configured`);
  });

  it(`posts to ntfy, reports a failed webhook and a missing desktop notifier once, and still alerts on the terminal`, async () => {
    const {env, root} = setup();
    const key = await install(env, `10`);
    const ntfy = await recorder();
    // A PATH without notify-send: the desktop notifier is missing here, whatever the machine has.
    const emptyBin = path.join(root, `bin`);
    fs.mkdirSync(emptyBin);
    const notifyEnv = {...env, PATH: emptyBin, CAPIT_NTFY_URL: ntfy.url};
    const closed = http.createServer();
    await new Promise<void>(resolve => closed.listen(0, `127.0.0.1`, resolve));
    const deadPort = (closed.address() as AddressInfo).port;
    await new Promise<void>(resolve => closed.close(() => resolve()));

    expect((await runCli([`watch`, `--once`], {env: notifyEnv})).exitCode).toBe(0);
    emulator.charge(key.hash, 8.5);
    const result = await runCli([`watch`, `--once`, `--notify`, `desktop`, `--notify`, `ntfy=capit-test`, `--notify`, `webhook=http://127.0.0.1:${deadPort}/secret-token`],
      {env: at(notifyEnv, DAY)});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`80 % of the cap: opencode`);
    expect(result.stderr.match(/desktop notifications unavailable/g)).toHaveLength(1);
    expect(result.stderr).toContain(`the webhook to http://127.0.0.1:${deadPort} failed`);
    expect(result.stderr).not.toContain(`secret-token`);
    expect(ntfy.received).toHaveLength(1);
    expect(ntfy.received[0]!.path).toBe(`/capit-test`);
    expect(ntfy.received[0]!.body).toContain(`80 % of the cap: opencode`);
  });

  it(`keeps a bounded history per key in watch.json and exits 0 on SIGTERM`, async () => {
    const {env, stateDir} = setup();
    const key = await install(env, `10`);
    // A history as a watch left it after days: far more samples than it keeps.
    fs.mkdirSync(stateDir, {recursive: true});
    const old = Array.from({length: 1_000}, (_, i) => [Date.now() - (1_000 - i) * 30_000, 0]);
    fs.writeFileSync(path.join(stateDir, `watch.json`), JSON.stringify({version: 1, keys: {[`openrouter/${key.hash}`]: {name: key.name, samples: old, window: `lifetime`, alerted: [], lastSeen: Date.now()}}}));

    const watch = spawnWatch([`--interval`, `1s`], env);
    await until(() => listings().length >= 2, `two passes`);
    watch.child.kill(`SIGTERM`);
    expect(await watch.exited).toBe(0);
    expect(watch.stderr()).toContain(`capit watch: stopped`);
    const state = JSON.parse(fs.readFileSync(path.join(stateDir, `watch.json`), `utf8`));
    const samples = state.keys[`openrouter/${key.hash}`].samples as [number, number][];
    expect(samples).toHaveLength(120);
    expect(samples.at(-1)![0]).toBeGreaterThan(old.at(-1)![0] as number);
    expect(fs.statSync(path.join(stateDir, `watch.json`)).mode & 0o777).toBe(0o600);
  });

  it(`AIHubMix: alerts on the token's used quota, with no agent`, async () => {
    const {env} = setup();
    const aihubmix = {...env, CAPIT_AIHUBMIX_BASE_URL: emulator.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`};
    const issued = await runCli([`aihubmix`, `4`, `--yes`], {env: aihubmix});
    expect(issued.exitCode, issued.stderr).toBe(0);
    const [token] = [...emulator.state.aihubmixTokens.values()];
    expect((await runCli([`watch`, `--once`], {env: aihubmix})).exitCode).toBe(0);
    emulator.chargeAihubmix(token!.id, 2.2);
    const result = await runCli([`watch`, `--once`], {env: at(aihubmix, DAY)});
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`50 % of the cap: no agent, aihubmix key ${token!.name}: 55 % of the $4.00 lifetime cap spent ($2.20)`);
    expect(result.stderr).toContain(`at this pace ${token!.name}'s $4.00 lifetime cap runs out at`);
  });

  it(`calls a spike at 5x the key's own median pace, even far under the share-of-cap rule`, async () => {
    const {env, configFile} = setup();
    const key = await install(env, `100`);
    fs.mkdirSync(path.dirname(configFile), {recursive: true});
    // The share-of-cap rule out of the way: only the key's own pace can call a spike here.
    fs.writeFileSync(configFile, JSON.stringify({watch: {thresholds: [90], spikeSharePercent: 1000}}));
    expect((await runCli([`watch`, `--once`], {env})).exitCode).toBe(0);
    // Its usual pace: $0.10 an hour, three hours running.
    for (let hour = 1; hour <= 3; hour++) {
      emulator.charge(key.hash, 0.1);
      const usual = await runCli([`watch`, `--once`], {env: at(env, hour * 3_600_000)});
      expect(usual.exitCode, usual.stderr).toBe(0);
    }
    // Four times as fast is not yet a spike; ten times is.
    emulator.charge(key.hash, 0.4);
    expect((await runCli([`watch`, `--once`], {env: at(env, 4 * 3_600_000)})).exitCode).toBe(0);
    emulator.charge(key.hash, 1);
    const spike = await runCli([`watch`, `--once`], {env: at(env, 5 * 3_600_000)});
    expect(spike.exitCode).toBe(1);
    expect(spike.stderr).toContain(`SPIKE opencode, openrouter key ${key.name}: $0.02/min, 10.0× the key's median pace of $0.10/h`);
  });
});
