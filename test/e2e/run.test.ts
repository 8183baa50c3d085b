// `capit run`: a session key minted for one child process, handed over through the agent's sessionEnv, recorded as a
// session key before the child starts, deleted when the child ends; signals forwarded; a killed capit leaves a key that
// expires by itself and that a later `capit run` removes once expired.
import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import path    from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';
import {CLI, runCli}     from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

const emulator = emulatorPerFile({port: 0});

const MASTER = `sk-or-v1-mgmt-fake-0000`;

// The child: an "openclaw" stand-in (openclaw reads OPENROUTER_API_KEY from the process environment, which beats its
// files) that calls the emulator's chat endpoint until it is refused, reports what it saw, and exits with EXIT_CODE.
// With WAIT it writes its pid to READY_FILE and waits for a signal instead, reporting the signal it got.
const CHILD = `
const fs = require('node:fs');
const key = process.env.OPENROUTER_API_KEY;
const report = extra => fs.writeFileSync(process.env.REPORT_FILE, JSON.stringify({key, masterKeyVisible: 'OPENROUTER_MANAGEMENT_KEY' in process.env, ...extra}));
if (process.env.SELF_SIGNAL) {
  process.kill(process.pid, process.env.SELF_SIGNAL);
} else if (process.env.WAIT) {
  for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => { report({signal}); process.exit(Number(process.env.EXIT_CODE)); });
  fs.writeFileSync(process.env.READY_FILE, String(process.pid));
  setInterval(() => {}, 1000);
} else {
  (async () => {
    const own = await (await fetch(process.env.API_URL + '/key', {headers: {authorization: 'Bearer ' + key}})).json();
    const statuses = [];
    for (let i = 0; i < 20; i++) {
      const res = await fetch(process.env.API_URL + '/chat/completions', {method: 'POST', headers: {authorization: 'Bearer ' + key, 'content-type': 'application/json'},
        body: JSON.stringify({model: 'openai/gpt-4o-mini', messages: [{role: 'user', content: 'hi'}]})});
      statuses.push(res.status);
      if (res.status !== 200) break;
    }
    report({statuses, limit: own.data.limit, expiresAt: own.data.expires_at});
    process.exit(Number(process.env.EXIT_CODE));
  })();
}
`;

function setup(extra: Record<string, string> = {}) {
  const root = tempDir(`capit-run-`);
  const bin = path.join(root, `bin`);
  fs.mkdirSync(bin);
  const script = path.join(bin, `openclaw`);
  fs.writeFileSync(script, `#!${process.execPath}\n${CHILD}`, {mode: 0o755});
  const env = sandboxEnv(root, {
    CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
    OPENROUTER_MANAGEMENT_KEY: MASTER,
    API_URL: emulator.openrouterBaseUrl,
    REPORT_FILE: path.join(root, `report.json`),
    READY_FILE: path.join(root, `ready`),
    EXIT_CODE: `0`,
    ...extra,
  });
  env.PATH = `${bin}${path.delimiter}${env.PATH}`;
  const ledger = () => {
    const file = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
    return fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, `utf8`)) as {keys: Record<string, unknown>[]}).keys : [];
  };
  const report = () => JSON.parse(fs.readFileSync(env.REPORT_FILE!, `utf8`)) as {key: string; masterKeyVisible: boolean; statuses?: number[]; signal?: string; limit?: number; expiresAt?: string};
  return {root, env, ledger, report};
}

function spawnCapit(args: string[], env: Record<string, string>) {
  const child = spawn(process.execPath, [CLI, ...args], {env, cwd: env.HOME, stdio: [`pipe`, `pipe`, `pipe`]});
  let stderr = ``;
  child.stderr.on(`data`, chunk => (stderr += chunk));
  child.stdin.end();
  // `exit`, not `close`: a child that outlives a killed capit keeps the inherited pipes open.
  const exited = new Promise<number | null>(resolve => child.on(`exit`, code => resolve(code)));
  return {child, exited, stderr: () => stderr};
}

async function waitFor(check: () => boolean, what: string) {
  for (let i = 0; i < 200; i++) {
    if (check()) return;
    await new Promise(resolve => setTimeout(resolve, 50));
  }
  throw new Error(`timed out waiting for ${what}`);
}

describe(`capit run`, () => {
  it(`gives the child a capped session key that the provider refuses once spent, then deletes it and reports the spend`, async () => {
    const {env, ledger, report} = setup({EXIT_CODE: `3`});
    const homeBefore = snapshotTree(env.HOME!);
    // The emulator charges $0.50 a request: a $1.00 cap allows two.
    const result = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(result.exitCode).toBe(3);
    const seen = report();
    expect(seen.key).toMatch(/^sk-or-v1-/);
    expect(seen.statuses).toEqual([200, 200, 403]);
    // The master key capit used is not handed to the child: with it, the agent could mint itself an uncapped key.
    expect(seen.masterKeyVisible).toBe(false);
    // The key was made with the cap and an expiry, named after the agent, then deleted.
    expect(seen.limit).toBe(1);
    expect(Date.parse(seen.expiresAt!)).toBeGreaterThan(Date.now());
    expect(result.stderr).toMatch(/^capit: openclaw gets session key "openclaw-run-[0-9a-f]{8}" \(\$1\.00 cap, expires /m);
    const requests = emulator.state.requests;
    expect(emulator.state.keys.size).toBe(0);
    expect(requests.some(r => r.method === `DELETE`)).toBe(true);
    expect(result.stderr).toContain(`capit: this session spent $1.00 of $1.00\n`);
    // The secret never appears in capit's output; no agent file was written; the ledger forgets the deleted key.
    expect(result.stdout + result.stderr).not.toContain(seen.key);
    const homeAfter = snapshotTree(env.HOME!);
    expect(Object.keys(homeAfter).filter(f => !f.startsWith(`..`) && !(f in homeBefore))).toEqual([]);
    expect(ledger()).toEqual([]);
  }, 40_000);

  it(`warns before minting when the session cap is below one worst-case request of the agent's model`, async () => {
    const {env} = setup();
    // openclaw's model from its config: anthropic/claude-sonnet-4.5 ($15 per million output tokens, at most 64,000).
    const config = path.join(env.HOME!, `.openclaw`, `openclaw.json`);
    fs.mkdirSync(path.dirname(config), {recursive: true});
    fs.writeFileSync(config, JSON.stringify({agents: {defaults: {model: {primary: `openrouter/anthropic/claude-sonnet-4.5`}}}}));
    const result = await runCli([`run`, `--cap`, `0.5`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(result.stderr).toContain(`warning: a $0.50 cap is below one worst-case request on anthropic/claude-sonnet-4.5`);
    // A warning, not a refusal: the session still runs and its key is deleted afterwards.
    expect(result.exitCode).toBe(0);
    expect(emulator.state.keys.size).toBe(0);
  }, 40_000);

  it(`forwards SIGINT to the child, deletes the key and exits with the child's code`, async () => {
    const {env, ledger, report} = setup({WAIT: `1`, EXIT_CODE: `130`});
    const run = spawnCapit([`run`, `--cap`, `2`, `--ttl`, `1h`, `--`, `openclaw`], env);
    await waitFor(() => fs.existsSync(env.READY_FILE!), `the child to start`);
    // While the child runs, its key is recorded as a session key with its expiry.
    const [entry] = ledger();
    expect(entry).toMatchObject({status: `active`, session: true, agent: `openclaw`, platform: `openrouter`, capUsd: 2});
    expect(Date.parse(entry!.expiresAt as string)).toBe(Date.parse([...emulator.state.keys.values()][0]!.expires_at!));
    run.child.kill(`SIGINT`);
    expect(await run.exited).toBe(130);
    expect(report().signal).toBe(`SIGINT`);
    expect(emulator.state.keys.size).toBe(0);
    expect(run.stderr()).toContain(`capit: this session spent $0.00 of $2.00\n`);
    expect(ledger()).toEqual([]);
  }, 40_000);

  it(`exits with 128 + the signal number when a signal ends the child, and still deletes the key`, async () => {
    const {env, ledger} = setup({SELF_SIGNAL: `SIGTERM`});
    const result = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(result.exitCode).toBe(143);
    expect(emulator.state.keys.size).toBe(0);
    expect(result.stderr).toContain(`capit: this session spent $0.00 of $1.00\n`);
    expect(ledger()).toEqual([]);
  }, 40_000);

  it(`killed with SIGKILL, leaves a recorded session key with an expiry; once expired, the next capit run deletes it`, async () => {
    const {env, ledger} = setup({WAIT: `1`});
    const run = spawnCapit([`run`, `--cap`, `2`, `--`, `openclaw`], env);
    await waitFor(() => fs.existsSync(env.READY_FILE!), `the child to start`);
    run.child.kill(`SIGKILL`);
    await run.exited;
    process.kill(Number(fs.readFileSync(env.READY_FILE!, `utf8`)), `SIGKILL`);
    const [left] = [...emulator.state.keys.values()];
    expect(left?.expires_at).toBeTruthy();
    const [entry] = ledger();
    expect(entry).toMatchObject({name: left!.name, status: `active`, session: true, id: left!.hash});
    expect(Date.parse(entry!.expiresAt as string)).toBe(Date.parse(left!.expires_at!));

    // Not yet expired: a later run leaves it alone (it may belong to a live session).
    env.WAIT = ``;
    const again = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(again.exitCode).toBe(0);
    expect(emulator.state.keys.has(left!.hash)).toBe(true);

    // Time passes (both the provider's and capit's record say so): the next run deletes the expired key.
    const past = new Date(Date.now() - 60_000).toISOString();
    left!.expires_at = past;
    const file = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
    const stored = JSON.parse(fs.readFileSync(file, `utf8`)) as {keys: Record<string, unknown>[]};
    for (const k of stored.keys) if (k.name === left!.name) k.expiresAt = past;
    fs.writeFileSync(file, JSON.stringify(stored));
    const third = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(third.exitCode).toBe(0);
    expect(third.stderr).toContain(`note: deleted the expired session key "${left!.name}"`);
    expect(emulator.state.keys.size).toBe(0);
    expect(ledger()).toEqual([]);
  }, 60_000);

  it(`refuses before creating anything: an unknown command, an agent it cannot tell, an IDE agent, a file that would beat the variables`, async () => {
    const {env, ledger} = setup();
    const cases: [string[], RegExp][] = [
      [[`run`, `--cap`, `1`, `--`, `no-such-agent-binary`], /cannot tell which agent "no-such-agent-binary" is: pass --agent/],
      [[`run`, `--cap`, `1`, `--agent`, `opencode`, `--`, `no-such-binary`], /^capit: Command not found: no-such-binary; nothing was created/m],
      [[`run`, `--cap`, `1`, `--agent`, `cursor`, `--`, `openclaw`], /^capit: Cannot run cursor with a session key: Cursor keeps its key in an encrypted internal store/m],
      [[`run`, `--cap`, `0`, `--`, `openclaw`], /Invalid amount "0"/],
      [[`run`, `--`, `openclaw`], /^capit: capit run needs --cap <usd>, the session's hard cap, e\.g\. capit run --cap 3 -- openclaw$/m],
      [[`run`, `--cap`, `1`, `--ttl`, `2027-01-01`, `--`, `openclaw`], /Invalid --ttl "2027-01-01"/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, {env});
      expect(result.stderr, args.join(` `)).toMatch(message);
      expect(result.exitCode, args.join(` `)).toBe(2);
    }
    // Claude Code applies settings.json env over the process environment: a token there would win.
    fs.mkdirSync(path.join(env.HOME!, `.claude`));
    fs.writeFileSync(path.join(env.HOME!, `.claude`, `settings.json`), JSON.stringify({env: {ANTHROPIC_AUTH_TOKEN: `sk-or-v1-fake-installed`}}));
    const claude = await runCli([`run`, `--cap`, `1`, `--agent`, `claude`, `--`, `openclaw`], {env});
    expect(claude.stderr).toContain(`Cannot run claude with a session key: ${path.join(env.HOME!, `.claude`, `settings.json`)} (env.ANTHROPIC_AUTH_TOKEN) is set (Claude Code applies settings.json env over the process environment)`);
    expect(claude.exitCode).toBe(2);
    expect(emulator.state.requests.filter(r => r.method === `POST`)).toEqual([]);
    expect(ledger()).toEqual([]);
  }, 60_000);
});
