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

  it(`killed with SIGKILL, leaves a recorded session key; kept while its command runs, deleted by the next run (or gc) once the command is gone too`, async () => {
    const {env, ledger} = setup({WAIT: `1`});
    const run = spawnCapit([`run`, `--cap`, `2`, `--`, `openclaw`], env);
    await waitFor(() => fs.existsSync(env.READY_FILE!), `the child to start`);
    const childPid = Number(fs.readFileSync(env.READY_FILE!, `utf8`));
    run.child.kill(`SIGKILL`);
    await run.exited;
    const [left] = [...emulator.state.keys.values()];
    expect(left?.expires_at).toBeTruthy();
    const [entry] = ledger();
    // The entry names capit's process and the child's, on this host.
    expect(entry).toMatchObject({name: left!.name, status: `active`, session: true, id: left!.hash, run: {pid: run.child.pid, childPid}});
    expect(Date.parse(entry!.expiresAt as string)).toBe(Date.parse(left!.expires_at!));

    // The command still runs (capit alone was killed): a later run and gc leave its key alone.
    env.WAIT = ``;
    const again = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(again.exitCode).toBe(0);
    expect(emulator.state.keys.has(left!.hash)).toBe(true);
    const gcWhileRunning = await runCli([`gc`], {env});
    expect(gcWhileRunning.stdout).toBe(`Nothing to clean up.\n`);

    // The command ends too: gc lists the key, and the next run deletes it long before it expires.
    process.kill(childPid, `SIGKILL`);
    await waitFor(() => {
      try {
        process.kill(childPid, 0);
        return false;
      } catch {
        return true;
      }
    }, `the child to be gone`);
    const gcAfter = await runCli([`gc`], {env});
    expect(gcAfter.stdout).toContain(`delete the key and drop the entry: "${left!.name}" (openclaw): a capit run session key whose run has ended`);
    const third = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(third.exitCode).toBe(0);
    expect(third.stderr).toContain(`note: deleted the session key "${left!.name}" that an interrupted capit run left`);
    expect(emulator.state.keys.size).toBe(0);
    expect(ledger()).toEqual([]);
  }, 60_000);

  it(`a session key whose run cannot be checked (another host) stays until it expires; then the next run deletes it`, async () => {
    const {env, ledger} = setup({WAIT: `1`});
    const run = spawnCapit([`run`, `--cap`, `2`, `--`, `openclaw`], env);
    await waitFor(() => fs.existsSync(env.READY_FILE!), `the child to start`);
    run.child.kill(`SIGKILL`);
    await run.exited;
    process.kill(Number(fs.readFileSync(env.READY_FILE!, `utf8`)), `SIGKILL`);
    const [left] = [...emulator.state.keys.values()];
    const file = path.join(env.CAPIT_HOME!, `state`, `ledger.json`);
    const edit = (change: (k: Record<string, unknown>) => void) => {
      const stored = JSON.parse(fs.readFileSync(file, `utf8`)) as {keys: Record<string, unknown>[]};
      for (const k of stored.keys) if (k.name === left!.name) change(k);
      fs.writeFileSync(file, JSON.stringify(stored));
    };
    // A ledger shared with another machine: its pids say nothing here.
    edit(k => (k.run = {...(k.run as object), host: `another-host.invalid`}));
    env.WAIT = ``;
    const again = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(again.exitCode).toBe(0);
    expect(emulator.state.keys.has(left!.hash)).toBe(true);

    // Time passes (both the provider's and capit's record say so): the next run deletes the expired key.
    const past = new Date(Date.now() - 60_000).toISOString();
    left!.expires_at = past;
    edit(k => (k.expiresAt = past));
    const third = await runCli([`run`, `--cap`, `1`, `--`, `openclaw`], {env, timeoutMs: 30_000});
    expect(third.exitCode).toBe(0);
    expect(third.stderr).toContain(`note: deleted the expired session key "${left!.name}"`);
    expect(emulator.state.keys.size).toBe(0);
    expect(ledger()).toEqual([]);
  }, 60_000);

  it(`a capit started inside the session cannot use the stored master key to mint itself a larger key`, async () => {
    const {env, ledger} = setup();
    const stored = await runCli([`platforms`, `add`, `openrouter`, `--key-stdin`], {env, input: MASTER});
    expect(stored.exitCode).toBe(0);
    delete (env as Record<string, string | undefined>).OPENROUTER_MANAGEMENT_KEY;
    const result = await runCli([`run`, `--cap`, `1`, `--agent`, `openclaw`, `--`, process.execPath, CLI, `openrouter`, `500`, `--name`, `escape`, `--yes`], {env, timeoutMs: 30_000});
    expect(result.stderr).toMatch(/^capit: This process runs inside `capit run` \(session key "openclaw-run-[0-9a-f]{8}"\): a session may not mint keys with capit's stored master key$/m);
    // The child's capit exited 2 (bad input), and capit run passes its code on; only the session key was ever made.
    expect(result.exitCode).toBe(2);
    expect(emulator.state.requests.filter(r => r.method === `POST` && r.path === `/api/v1/keys`)).toHaveLength(1);
    expect(emulator.state.keys.size).toBe(0);
    expect(ledger()).toEqual([]);
    // Outside a session the stored key still works.
    const outside = await runCli([`keys`, `list`], {env});
    expect(outside.exitCode).toBe(0);
  }, 40_000);

  it(`refuses before creating anything: an unknown command, an agent it cannot tell, an IDE agent, a file that would beat the variables`, async () => {
    const {env, ledger} = setup();
    const cases: [string[], RegExp][] = [
      [[`run`, `--cap`, `1`, `--`, `no-such-agent-binary`], /cannot tell which agent "no-such-agent-binary" is: pass --agent/],
      [[`run`, `--cap`, `1`, `--agent`, `opencode`, `--`, `no-such-binary`], /^capit: Command not found: no-such-binary; nothing was created/m],
      [[`run`, `--cap`, `1`, `--agent`, `cursor`, `--`, `openclaw`], /^capit: Cannot run cursor with a session key: Cursor keeps its key in an encrypted internal store/m],
      [[`run`, `--cap`, `0`, `--`, `openclaw`], /Invalid amount "0"/],
      [[`run`, `--`, `openclaw`], /^capit: capit run needs --cap <usd>, the session's hard cap, e\.g\. capit run --cap 3 -- openclaw$/m],
      [[`run`, `--cap`, `1`, `--ttl`, `2027-01-01`, `--`, `openclaw`], /Invalid --ttl "2027-01-01"/],
      [[`run`, `--cap`, `1`, `--ttl`, `999999d`, `--`, `openclaw`], /^capit: --ttl 999999d is too long: a capit run session lasts at most 7d/m],
      [[`run`, `--cap`, `1`, `--ttl`, `8d`, `--`, `openclaw`], /--ttl 8d is too long/],
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
    // opencode's inline config (its highest-precedence layer) with an apiKey for the provider would win too.
    const inline = await runCli([`run`, `--cap`, `1`, `--agent`, `opencode`, `--`, `openclaw`],
      {env: {...env, OPENCODE_CONFIG_CONTENT: JSON.stringify({provider: {openrouter: {options: {apiKey: `sk-or-v1-fake-inline-1111`}}}})}});
    expect(inline.stderr).toContain(`Cannot run opencode with a session key: environment variable OPENCODE_CONFIG_CONTENT (provider.openrouter.options.apiKey) is set`);
    expect(inline.exitCode).toBe(2);
    // …and so would the project's .opencode/opencode.json.
    const project = path.join(env.HOME!, `project`);
    fs.mkdirSync(path.join(project, `.opencode`), {recursive: true});
    fs.writeFileSync(path.join(project, `.opencode`, `opencode.json`), JSON.stringify({provider: {openrouter: {options: {apiKey: `sk-or-v1-fake-project-2222`}}}}));
    const inProject = await runCli([`run`, `--cap`, `1`, `--agent`, `opencode`, `--`, `openclaw`], {env, cwd: project});
    expect(inProject.stderr).toContain(`${path.join(project, `.opencode`, `opencode.json`)} (provider.openrouter.options.apiKey) is set`);
    expect(inProject.exitCode).toBe(2);
    expect(emulator.state.requests.filter(r => r.method === `POST`)).toEqual([]);
    expect(ledger()).toEqual([]);
  }, 60_000);
});
