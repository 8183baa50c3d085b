// `capit serve`: the gate (token, Host, Origin, content type, no CORS) and every JSON endpoint, against the
// loopback emulator with a temp HOME. The server runs in this process; the CLI is spawned (async) to compare wording.
import fs   from 'node:fs';
import path from 'node:path';

import nock from 'nock';
import {afterAll, beforeAll, beforeEach, describe, expect, it, onTestFinished} from 'vitest';

import {startEmulator}  from '../emulator/server.mjs';
import type {Emulator}  from '../emulator/server.mjs';
import {runCli}         from '../support/cli.js';
import {MASTER, post, raw, setupHome, startGui} from './helpers.js';

let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({port: 0});
});
afterAll(async () => {
  await emulator.close();
});
beforeEach(() => {
  emulator.reset();
});

const managementRequests = () => emulator.state.requests.filter(r => !r.path.startsWith(`/__`));
const onlyKey = () => {
  const keys = [...emulator.state.keys.values()];
  expect(keys).toHaveLength(1);
  return keys[0]!;
};

/** A CLI line and a page sentence say the same thing: the page drops "capit: " and backticks, adds a capital and a full stop. */
function sameFacts(cliLine: string): string {
  const text = cliLine.trim().replace(/^capit: /, ``).replace(/`/g, ``).replace(/\.$/, ``);
  return text[0]!.toUpperCase() + text.slice(1);
}

/** Plain sentences: no CLI prefix, no markdown backticks. */
function expectPlain(error: {message: string; hint: string | null}) {
  for (const text of [error.message, error.hint ?? ``]) {
    expect(text).not.toMatch(/^capit:/);
    expect(text).not.toContain(`\``);
  }
  expect(error.message).toMatch(/^[A-Z"].*[.!?]$/s);
}

async function issue(server: Awaited<ReturnType<typeof startGui>>, body: Record<string, unknown>) {
  const plan = await post(server, `/api/issue/plan`, body);
  expect(plan.status, plan.text).toBe(200);
  const done = await post(server, `/api/issue`, {planId: plan.json.planId});
  expect(done.status, done.text).toBe(200);
  return done.json;
}

describe(`the gate`, () => {
  it(`binds 127.0.0.1 on a random port and prints a URL with a fresh token`, async () => {
    const {env} = setupHome(emulator);
    const a = await startGui(env);
    const b = await startGui(env);
    expect(a.host).toBe(`127.0.0.1`);
    // In the fragment: a browser never sends it to any server, not even this one.
    expect(a.url).toBe(`http://127.0.0.1:${a.port}/#token=${a.token}`);
    expect(a.port).not.toBe(b.port);
    expect(a.token).not.toBe(b.token);
    expect(a.token.length).toBeGreaterThanOrEqual(32);
  });

  it(`answers 401 to every API endpoint without the token in its header, to a wrong one, and to one in a cookie`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    for (const p of [`/api/meta`, `/api/keys`, `/api/platforms`, `/api/agents`, `/api/nope`]) {
      const res = await raw(server, p, {auth: `none`});
      expect(res.status, p).toBe(401);
      expect(res.json.error).toMatchObject({code: `CAPIT_UNAUTHORIZED`, message: `This page has no access token.`});
      expect(res.json.error.hint).toMatch(/^Open the full address capit serve printed \(it ends in #token=…\)/);
    }
    expect((await raw(server, `/api/meta?token=${server.token}`, {auth: `none`})).status).toBe(401);
    expect((await raw(server, `/api/meta`, {headers: {authorization: `Bearer ${server.token}x`}})).status).toBe(401);
    const wrong = await raw(server, `/api/meta`, {auth: `none`, headers: {'x-capit-token': `${server.token}x`}});
    expect(wrong.status).toBe(401);
    expect(wrong.json.error.message).toBe(`The access token is not valid.`);
    // The old cookie is no credential any more, even holding the right token.
    expect((await raw(server, `/api/meta`, {auth: `none`, headers: {cookie: `capit_token_${server.port}=${server.token}`}})).status).toBe(401);
    const refused = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`}, {authorization: `Bearer x`});
    expect(refused.status).toBe(401);
    expect(managementRequests()).toEqual([]);
  });

  it(`serves the page's constant files without the token, never sets a cookie, and takes the token in X-Capit-Token`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    // The page holds no data: it reads the token from the address itself (and after a reload from sessionStorage).
    const first = await raw(server, `/?token=${server.token}`, {auth: `none`});
    expect(first.status).toBe(200);
    const page = await raw(server, `/`, {auth: `none`});
    expect(page.text).toBe(first.text);
    expect(page.text).not.toContain(server.token);
    expect(page.status).toBe(200);
    expect(page.headers[`content-type`]).toBe(`text/html; charset=utf-8`);
    expect(page.text).toContain(`<script src="/app.js" defer></script>`);
    expect(page.headers[`content-security-policy`]).toContain(`script-src 'self'`);
    expect(page.headers[`x-frame-options`]).toBe(`DENY`);
    expect(page.headers[`referrer-policy`]).toBe(`no-referrer`);
    expect(page.headers[`cache-control`]).toBe(`no-store`);
    const js = await raw(server, `/app.js`, {auth: `none`});
    expect(js.status).toBe(200);
    expect(js.headers[`content-type`]).toBe(`text/javascript; charset=utf-8`);
    expect(js.text).toContain(`'x-capit-token': token`);
    expect((await raw(server, `/app.css`, {auth: `none`})).status).toBe(200);
    expect((await raw(server, `/nope`, {auth: `none`})).status).toBe(404);

    const meta = await raw(server, `/api/meta`, {auth: `header`});
    expect(meta.status).toBe(200);
    const plan = await raw(server, `/api/issue/plan`, {auth: `header`, method: `POST`, body: {platform: `openrouter`, amount: `5`}});
    expect(plan.status).toBe(200);
    for (const res of [first, page, js, meta, plan]) expect(res.headers[`set-cookie`]).toBeUndefined();
  });

  it(`refuses a foreign Host header (DNS rebinding) even with the token`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    for (const host of [`evil.example:${server.port}`, `evil.example`, `127.0.0.1:${server.port + 1}`, `127.0.0.1`, `[::1]`]) {
      const res = await raw(server, `/api/meta`, {headers: {host}});
      expect(res.status, host).toBe(403);
      expect(res.json.error.message).toMatch(/^Refused: unexpected Host header/);
      expect((await raw(server, `/`, {headers: {host}, auth: `none`})).status, host).toBe(403);
      expect((await raw(server, `/?token=${server.token}`, {headers: {host}, auth: `none`})).status, host).toBe(403);
    }
    for (const host of [`127.0.0.1:${server.port}`, `localhost:${server.port}`, `LOCALHOST:${server.port}`])
      expect((await raw(server, `/api/meta`, {headers: {host}})).status, host).toBe(200);
  });

  it(`refuses a cross-origin Origin (CSRF) and sends no CORS headers`, async () => {
    const {env, authFile} = setupHome(emulator);
    const server = await startGui(env);
    for (const origin of [`http://evil.example`, `null`, `http://127.0.0.1:${server.port + 1}`, `https://127.0.0.1:${server.port}`]) {
      const res = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`, agent: `opencode`}, {origin});
      expect(res.status, origin).toBe(403);
      expect(res.json.error.message).toMatch(/^Refused: cross-origin request/);
      expect((await raw(server, `/api/keys`, {headers: {origin}})).status, origin).toBe(403);
    }
    const same = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`}, {origin: `http://127.0.0.1:${server.port}`});
    expect(same.status).toBe(200);
    expect((await raw(server, `/api/meta`, {headers: {origin: `http://localhost:${server.port}`}})).status).toBe(200);

    const preflight = await raw(server, `/api/issue`, {method: `OPTIONS`, headers: {origin: `http://127.0.0.1:${server.port}`, 'access-control-request-method': `POST`}});
    expect(preflight.status).toBe(405);
    for (const res of [preflight, same, await raw(server, `/`), await raw(server, `/api/meta`, {auth: `none`})])
      expect(Object.keys(res.headers).filter(h => h.startsWith(`access-control-`))).toEqual([]);
    expect(fs.existsSync(authFile)).toBe(false);
  });

  it(`takes only application/json POSTs, valid JSON objects, known routes and methods`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const form = await raw(server, `/api/issue/plan`, {method: `POST`, body: `platform=openrouter&amount=5`, contentType: `application/x-www-form-urlencoded`});
    expect(form.status).toBe(415);
    const text = await raw(server, `/api/issue/plan`, {method: `POST`, body: `{"platform":"openrouter","amount":"5"}`, contentType: `text/plain`});
    expect(text.status).toBe(415);
    expect((await raw(server, `/api/issue/plan`, {method: `POST`, body: `{nope`})).status).toBe(400);
    expect((await raw(server, `/api/issue/plan`, {method: `POST`, body: `[1]`})).status).toBe(400);
    expect((await raw(server, `/api/issue/plan`)).status).toBe(405);
    expect((await raw(server, `/api/keys`, {method: `DELETE`})).status).toBe(405);
    expect((await post(server, `/api/keys`, {})).status).toBe(405);
    expect((await raw(server, `/api/nope`)).status).toBe(404);
    expect((await raw(server, `/secret.txt`)).status).toBe(404);
    expect((await raw(server, `/api/issue/plan`, {method: `POST`, body: `x`.repeat(70_000)})).status).toBe(413);
    expect(managementRequests()).toEqual([]);
  });

  it(`serves on the --host given, with that name allowed as Host, still behind the token`, async () => {
    const {env} = setupHome(emulator);
    // The setup allows only 127.0.0.1/localhost/[::1]; node names the IPv6 loopback "::1" to nock.
    nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\]|::1)(:\d+)?$/);
    onTestFinished(() => void nock.enableNetConnect(/^(127\.0\.0\.1|localhost|\[::1\])(:\d+)?$/));
    const server = await startGui(env, {host: `::1`});
    expect(server.url).toBe(`http://[::1]:${server.port}/#token=${server.token}`);
    const host = {host: `[::1]:${server.port}`};
    expect((await raw(server, `/api/meta`, {headers: host, auth: `none`}, `::1`)).status).toBe(401);
    expect((await raw(server, `/api/meta`, {headers: host}, `::1`)).status).toBe(200);
    expect((await raw(server, `/api/meta`, {headers: {host: `evil.example:${server.port}`}}, `::1`)).status).toBe(403);
  });
});

describe(`the JSON API`, () => {
  it(`GET /api/meta lists the installed platforms and agents`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const meta = (await raw(server, `/api/meta`)).json;
    expect(meta.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(meta.platforms).toContainEqual({id: `openrouter`, displayName: `OpenRouter`});
    expect(meta.agents.map((a: {id: string}) => a.id)).toContain(`opencode`);
  });

  it(`previews an issue without creating or writing anything, then creates exactly the previewed key once`, async () => {
    const {env, authFile} = setupHome(emulator);
    const server = await startGui(env);
    const plan = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`, agent: `opencode`, reset: `weekly`, expires: `7d`});
    expect(plan.status).toBe(200);
    expect(plan.json.planId).toMatch(/^[0-9a-f]{32}$/);
    expect(plan.json.plan).toMatchObject({dryRun: true, platform: `openrouter`, capUsd: 5, reset: `weekly`, agent: `opencode`, files: [{path: authFile, exists: false}]});
    expect(plan.json.plan.action).toMatch(/^Create OpenRouter key "opencode-[0-9a-f]{8}" with a \$5\.00 per week cap, expiring /);
    expect(plan.json.plan.diff).toContain(`<new openrouter key>`);
    expect(managementRequests()).toEqual([]);
    expect(fs.existsSync(authFile)).toBe(false);

    const done = await post(server, `/api/issue`, {planId: plan.json.planId});
    expect(done.status).toBe(200);
    const key = onlyKey();
    expect(key.name).toBe(plan.json.plan.name);
    expect(key.limit).toBe(5);
    expect(key.limit_reset).toBe(`weekly`);
    expect(done.json).toMatchObject({platform: `openrouter`, id: key.hash, name: key.name, capUsd: 5, agent: `opencode`, files: [authFile]});
    expect(done.json).not.toHaveProperty(`secret`);
    expect(done.text).not.toContain(key.key);
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({openrouter: {type: `api`, key: key.key}});

    const again = await post(server, `/api/issue`, {planId: plan.json.planId});
    expect(again.status).toBe(400);
    expect(again.json.error.message).toBe(`This preview has expired or was already used; preview the key again.`);
    expect(emulator.state.keys.size).toBe(1);

    // Nothing the page can read afterwards holds the secret.
    for (const p of [`/api/keys`, `/api/agents`, `/api/platforms`, `/api/meta`, `/api/doctor`])
      expect((await raw(server, p)).text, p).not.toContain(key.key);
  });

  it(`reveals the secret once when issuing without an agent`, async () => {
    const {env, authFile} = setupHome(emulator);
    const server = await startGui(env);
    const result = await issue(server, {platform: `openrouter`, amount: `2.50`});
    const key = onlyKey();
    expect(result).toMatchObject({agent: null, capUsd: 2.5, files: [], secret: key.key});
    expect(key.name).toMatch(/^capit-[0-9a-f]{8}$/);
    expect(fs.existsSync(authFile)).toBe(false);
    expect((await raw(server, `/api/keys`)).text).not.toContain(key.key);
  });

  it(`words input errors as the CLI does, in plain sentences, and sends nothing to the provider`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const cases: [Record<string, unknown>, string[]][] = [
      [{platform: `openrouter`, amount: `abc`, agent: `opencode`}, [`openrouter`, `abc`, `--agent`, `opencode`, `--dry-run`]],
      [{platform: `openrouter`, amount: `5`, agent: `nosuch`}, [`openrouter`, `5`, `--agent`, `nosuch`, `--dry-run`]],
      [{platform: `openrouter`, amount: `5`, reset: `hourly`}, [`openrouter`, `5`, `--reset`, `hourly`, `--dry-run`]],
      [{platform: `openrouter`, amount: `5`, expires: `soon`}, [`openrouter`, `5`, `--expires`, `soon`, `--dry-run`]],
    ];
    for (const [body, argv] of cases) {
      const res = await post(server, `/api/issue/plan`, body);
      const cli = await runCli(argv, {env});
      expect(cli.exitCode).toBe(2);
      expect(res.status).toBe(400);
      expect(res.json.error).toMatchObject({code: `CAPIT_BAD_INPUT`, exitCode: 2});
      expectPlain(res.json.error);
      expect(`${res.json.error.message.replace(/\.$/, ``)}`).toBe(sameFacts(cli.stderr.split(`\n`)[0]!));
    }
    const missing = await post(server, `/api/issue/plan`, {platform: `openrouter`});
    expect(missing.status).toBe(400);
    expect(missing.json.error.message).toBe(`Missing "amount".`);
    const unknown = await post(server, `/api/issue/plan`, {platform: `nosuch`, amount: `5`});
    expect(unknown.json.error.message).toMatch(/^Unknown platform "nosuch", installed: .*openrouter/);
    expectPlain(unknown.json.error);
    expect(managementRequests()).toEqual([]);
  });

  it(`words provider errors as the CLI does, as plain sentences with the hint apart (502)`, async () => {
    const {env} = setupHome(emulator, {master: `sk-or-v1-not-a-real-management-key`});
    const server = await startGui(env);
    const plan = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`});
    expect(plan.status).toBe(200);
    const res = await post(server, `/api/issue`, {planId: plan.json.planId});
    const cli = await runCli([`openrouter`, `5`], {env});
    expect(cli.exitCode).toBe(1);
    expect(res.status).toBe(502);
    expect(res.json.error.code).toBe(`CAPIT_BAD_MASTER_KEY`);
    // Same facts; only the random key name differs between the two runs.
    const sameName = (text: string) => text.replace(/capit-[0-9a-f]{8}/g, `capit-NAME`);
    const [cliLine, cliHint] = cli.stderr.split(`\n`);
    expect(sameName(res.json.error.message.replace(/\.$/, ``))).toBe(sameName(sameFacts(cliLine!)));
    expect(res.json.error.message).toMatch(/^OpenRouter rejected the master key while trying to create key "capit-[0-9a-f]{8}" \(401/);
    // The CLI's hint names a command; the page's names the page to use.
    expect(cliHint).toContain(`capit platforms add openrouter`);
    expect(res.json.error.hint).toMatch(/^Check OPENROUTER_MANAGEMENT_KEY or the stored key \(Platforms page\)/);
    expectPlain(res.json.error);
    expect(res.text).not.toContain(`sk-or-v1-not-a-real-management-key`);
    expect(emulator.state.keys.size).toBe(0);

    const listing = await raw(server, `/api/keys`);
    expect(listing.status).toBe(200);
    expect(listing.json.keys).toEqual([]);
    expect(listing.json.errors).toHaveLength(1);
    const cliList = await runCli([`keys`, `list`], {env});
    expect(cliList.stderr).toContain(sameFacts(listing.json.errors[0].message).slice(1));
    expect(listing.json.errors[0].message).not.toMatch(/^capit:|`/);
  });

  it(`lists keys with spend, filtered by platform and glob, and refuses an unknown platform`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const a = await issue(server, {platform: `openrouter`, amount: `5`, agent: `opencode`});
    const b = await issue(server, {platform: `openrouter`, amount: `3`, name: `ci`});
    emulator.charge(a.id, 1.25);
    emulator.createKey({name: `not-capit`, limit: 1});

    const all = (await raw(server, `/api/keys`)).json;
    expect(all.errors).toEqual([]);
    expect(all.keys.map((k: {name: string}) => k.name).sort()).toEqual([a.name, b.name].sort());
    expect(all.keys.find((k: {name: string}) => k.name === a.name)).toMatchObject({
      platform: `openrouter`, agent: `opencode`, issuedByCapit: true, status: `active`, spentUsd: 1.25, capUsd: 5, remainingUsd: 3.75,
    });
    expect((await raw(server, `/api/keys?glob=ci-*`)).json.keys.map((k: {name: string}) => k.name)).toEqual([b.name]);
    expect((await raw(server, `/api/keys?platform=openrouter&glob=opencode-*`)).json.keys.map((k: {name: string}) => k.name)).toEqual([a.name]);
    expect((await raw(server, `/api/keys?all=1`)).json.keys.map((k: {name: string}) => k.name)).toContain(`not-capit`);
    const bad = await raw(server, `/api/keys?platform=nosuch`);
    expect(bad.status).toBe(400);
    expect(bad.json.error.message).toMatch(/^Unknown platform "nosuch"/);
    // Platforms without a master key are reported as skipped, not failed.
    expect(all.skipped.map((s: {platform: string}) => s.platform)).toContain(`aihubmix`);
  });

  it(`disables, enables and deletes exactly the key named (the ledger follows)`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const a = await issue(server, {platform: `openrouter`, amount: `5`, agent: `opencode`});
    const b = await issue(server, {platform: `openrouter`, amount: `5`, name: `opencode`});
    const key = emulator.state.keys.get(a.id)!;

    const off = await post(server, `/api/keys/disable`, {platform: `openrouter`, id: a.id, name: a.name});
    expect(off.status, off.text).toBe(200);
    expect(off.json.results).toEqual([{platform: `openrouter`, id: a.id, name: a.name, ok: true, agent: `opencode`}]);
    expect(key.disabled).toBe(true);
    expect(emulator.state.keys.get(b.id)!.disabled).toBe(false);
    expect((await raw(server, `/api/keys`)).json.keys.find((k: {name: string}) => k.name === a.name).status).toBe(`disabled`);

    const on = await post(server, `/api/keys/enable`, {platform: `openrouter`, id: a.id, name: a.name});
    expect(on.status).toBe(200);
    expect(key.disabled).toBe(false);

    // A glob is never expanded: a row names one key.
    const glob = await post(server, `/api/keys/delete`, {platform: `openrouter`, name: `opencode-*`});
    expect(glob.status).toBe(400);
    expect(glob.json.error.message).toBe(`No key named "opencode-*" on openrouter.`);
    expect(emulator.state.keys.size).toBe(2);

    const del = await post(server, `/api/keys/delete`, {platform: `openrouter`, id: a.id, name: a.name});
    expect(del.status).toBe(200);
    expect(del.json.results[0]).toMatchObject({name: a.name, ok: true});
    expect(emulator.state.keys.has(a.id)).toBe(false);
    expect(emulator.state.keys.has(b.id)).toBe(true);
    expect((await raw(server, `/api/keys`)).json.keys.map((k: {name: string}) => k.name)).toEqual([b.name]);

    const gone = await post(server, `/api/keys/delete`, {platform: `openrouter`, id: a.id, name: a.name});
    expect(gone.status).toBe(400);
    expect(gone.json.error.message).toBe(`No key named "${a.name}" on openrouter.`);
    expect((await post(server, `/api/keys/delete`, {platform: `openrouter`})).json.error.message).toBe(`Missing "name".`);
  });

  it(`reports a provider failure of a key action in the CLI's words`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const a = await issue(server, {platform: `openrouter`, amount: `5`});
    emulator.knobs.failNext(5, {status: 500, method: `DELETE`});
    const res = await post(server, `/api/keys/delete`, {platform: `openrouter`, id: a.id, name: a.name});
    expect(res.status).toBe(502);
    expect(res.json.results[0]).toMatchObject({name: a.name, ok: false});
    expect(res.json.error.message).toMatch(new RegExp(`^Could not delete ${a.name}: `));
    expectPlain(res.json.error);
    expect(emulator.state.keys.has(a.id)).toBe(true);
  });

  it(`restores an agent's config byte for byte, then says there is nothing left to restore`, async () => {
    const {env, authFile} = setupHome(emulator);
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const original = `{\n\t"anthropic": {"type": "oauth", "refresh": "fake-refresh-0000"}\n}\n`;
    fs.writeFileSync(authFile, original, {mode: 0o644});
    const server = await startGui(env);
    // The page shows a Restore button only where this says a backup is waiting.
    const restorable = async () => Object.fromEntries((await raw(server, `/api/agents`)).json.agents.map((x: {id: string; restorable: boolean}) => [x.id, x.restorable]));
    expect(await restorable()).toMatchObject({opencode: false, claude: false});
    const a = await issue(server, {platform: `openrouter`, amount: `5`, agent: `opencode`});
    expect(a.backupDir).toBeTruthy();
    expect(fs.readFileSync(authFile, `utf8`)).not.toBe(original);
    expect(await restorable()).toMatchObject({opencode: true, claude: false});

    const res = await post(server, `/api/agents/restore`, {agent: `opencode`});
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({agent: `opencode`, backupDir: a.backupDir, keyName: a.name, platform: `openrouter`, files: [{path: authFile, action: `restored`}]});
    expect(fs.readFileSync(authFile, `utf8`)).toBe(original);
    expect(await restorable()).toMatchObject({opencode: false, claude: false});

    const again = await post(server, `/api/agents/restore`, {agent: `opencode`});
    expect(again.status).toBe(400);
    expect(again.json.error.code).toBe(`CAPIT_NO_BACKUP`);
    const cli = await runCli([`restore`, `opencode`, `--yes`], {env});
    // A user's mistake: one line (the reason in it), exit 2 — the browser gets the same sentence and no hint.
    expect(cli.exitCode).toBe(2);
    const [cliLine, cliRest] = cli.stderr.split(`\n`);
    expect(cliRest).toBe(``);
    expect(again.json.error.message).toBe(`${sameFacts(cliLine!)}.`);
    expect(again.json.error.hint).toBeNull();
    expectPlain(again.json.error);

    const traversal = await post(server, `/api/agents/restore`, {agent: `../../etc`});
    expect(traversal.status).toBe(400);
    expect(traversal.json.error.message).toMatch(/^Unknown agent "\.\.\/\.\.\/etc"/);
  });

  it(`lists agents with detection, config paths and shadowing from doctor`, async () => {
    const {env, authFile} = setupHome(emulator, {extra: {OPENCODE_AUTH_CONTENT: `{}`}});
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const server = await startGui(env);
    await issue(server, {platform: `openrouter`, amount: `5`, agent: `opencode`});
    const res = await raw(server, `/api/agents`);
    expect(res.status).toBe(200);
    const opencode = res.json.agents.find((a: {id: string}) => a.id === `opencode`);
    expect(opencode).toMatchObject({detected: true, configPaths: [authFile]});
    expect(opencode.installed).toMatchObject({platform: `openrouter`});
    const report = res.json.doctor.find((r: {agent: string}) => r.agent === `opencode`);
    expect(report.status).toBe(`shadowed`);
    expect(report.shadowedBy.join(` `)).toContain(`OPENCODE_AUTH_CONTENT`);
    expect(res.json.doctorError).toBeNull();
    const one = await raw(server, `/api/doctor?agent=opencode`);
    expect(one.json.reports).toHaveLength(1);
    expect((await raw(server, `/api/doctor?agent=nosuch`)).json.error.message).toMatch(/^Unknown agent "nosuch"/);
  });

  it(`why (slice B1): the class and fix line per agent, the same as capit why, never the key`, async () => {
    const {env, authFile} = setupHome(emulator);
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    const server = await startGui(env);
    await issue(server, {platform: `openrouter`, amount: `5`, agent: `opencode`});
    const key = onlyKey();
    const fine = await raw(server, `/api/why?agent=opencode`);
    expect(fine.status).toBe(200);
    expect(fine.json.reports).toMatchObject([{agent: `opencode`, class: `fine`, fix: null}]);
    expect(fine.text).not.toContain(key.key);
    emulator.charge(key.hash, 5);
    const capped = await raw(server, `/api/why?agent=opencode`);
    expect(capped.json.reports).toMatchObject([{agent: `opencode`, class: `lifetime-cap`, fix: `capit topup opencode 5`}]);
    const cli = await runCli([`why`, `opencode`, `--json`], {env});
    expect(JSON.parse(cli.stdout)).toEqual(capped.json.reports);
    expect(capped.text).not.toContain(key.key);
    const none = await raw(server, `/api/why?agent=hermes`);
    expect(none.status).toBe(400);
    expect(none.json.error.message).toMatch(/^Hermes holds no capit key/);
  });

  it(`manages master keys write-only: add (validated), status, remove`, async () => {
    const {env} = setupHome(emulator, {master: null});
    const server = await startGui(env);
    const status = async () => (await raw(server, `/api/platforms`)).json.platforms.find((p: {id: string}) => p.id === `openrouter`);
    expect(await status()).toMatchObject({id: `openrouter`, displayName: `OpenRouter`, source: `none`, stored: false, envVar: `OPENROUTER_MANAGEMENT_KEY`});

    // Without a master key the preview itself is refused (a preview that Create cannot follow would mislead), and
    // the answer says what to do on the page.
    const noKey = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`});
    expect(noKey.status).toBe(400);
    expect(noKey.json.error).toMatchObject({code: `CAPIT_NO_MASTER_KEY`, message: `No OpenRouter master key yet, so capit cannot create OpenRouter keys.`});
    expect(noKey.json.error.hint).toMatch(/^Add one on the Platforms page \(create it at https:\/\/.*\), or set OPENROUTER_MANAGEMENT_KEY before starting capit serve\.$/);
    expect(managementRequests()).toEqual([]);

    const wrong = await post(server, `/api/platforms/add`, {platform: `openrouter`, key: `sk-or-v1-wrong-0000`});
    expect(wrong.status).toBe(502);
    expectPlain(wrong.json.error);
    expect(wrong.text).not.toContain(`sk-or-v1-wrong-0000`);
    expect((await status()).source).toBe(`none`);

    const added = await post(server, `/api/platforms/add`, {platform: `openrouter`, key: MASTER});
    expect(added.status, added.text).toBe(200);
    expect(added.json.message).toMatch(/^The OpenRouter master key works and is stored in .*credentials\.json \(readable only by you\)\.$/);
    expect(added.text).not.toContain(MASTER);
    expect(await status()).toMatchObject({source: `stored`, stored: true});
    const credentials = path.join(env.XDG_CONFIG_HOME!, `capit`, `credentials.json`);
    expect(fs.readFileSync(credentials, `utf8`)).toContain(MASTER);
    expect(fs.statSync(credentials).mode & 0o777).toBe(0o600);
    for (const p of [`/api/platforms`, `/api/meta`, `/api/keys`, `/api/agents`]) expect((await raw(server, p)).text, p).not.toContain(MASTER);

    // The stored key now works for the other endpoints.
    await issue(server, {platform: `openrouter`, amount: `1`});
    expect(emulator.state.keys.size).toBe(1);

    const removed = await post(server, `/api/platforms/remove`, {platform: `openrouter`});
    expect(removed.json).toMatchObject({platform: `openrouter`, removed: true});
    expect(await status()).toMatchObject({source: `none`, stored: false});
    const twice = await post(server, `/api/platforms/remove`, {platform: `openrouter`});
    expect(twice.json).toMatchObject({removed: false, message: `No stored OpenRouter master key; nothing to remove.`});
    const unknown = await post(server, `/api/platforms/add`, {platform: `nosuch`, key: `x`});
    expect(unknown.status).toBe(400);
    expect(unknown.json.error.message).toMatch(/^Unknown platform "nosuch"/);
  });

  it(`shows an env master key as configured via env, never its value`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const res = await raw(server, `/api/platforms`);
    expect(res.json.platforms.find((p: {id: string}) => p.id === `openrouter`)).toEqual({
      id: `openrouter`, displayName: `OpenRouter`, setupUrl: expect.any(String), envVar: `OPENROUTER_MANAGEMENT_KEY`, source: `env`, stored: false,
    });
    expect(res.text).not.toContain(MASTER);
  });
});

// ----- slice B4: rotate -----
describe(`the JSON API: rotate`, () => {
  it(`rotates the key of an agent holding one (same cap and reset), and refuses an agent holding none`, async () => {
    const {env, authFile} = setupHome(emulator);
    const server = await startGui(env);
    const rotatable = async () => Object.fromEntries((await raw(server, `/api/agents`)).json.agents.map((x: {id: string; rotatable: boolean}) => [x.id, x.rotatable]));
    expect(await rotatable()).toMatchObject({opencode: false});
    const a = await issue(server, {platform: `openrouter`, amount: `4`, agent: `opencode`, reset: `daily`});
    expect(await rotatable()).toMatchObject({opencode: true, claude: false});

    const res = await post(server, `/api/agents/rotate`, {agent: `opencode`});
    expect(res.status, res.text).toBe(200);
    expect(res.json).toMatchObject({agent: `opencode`, oldKey: a.name, status: `rotated`});
    const key = onlyKey();
    expect([key.name, key.limit, key.limit_reset]).toEqual([res.json.newKey, 4, `daily`]);
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`)).openrouter.key).toBe(key.key);
    expect(res.text).not.toContain(key.key);

    const none = await post(server, `/api/agents/rotate`, {agent: `claude`});
    expect(none.status).toBe(400);
    expectPlain(none.json.error);
  });

  it(`a failed rotation answers 409 with the reason and leaves the agent its key`, async () => {
    const {env, authFile} = setupHome(emulator);
    const server = await startGui(env);
    await issue(server, {platform: `openrouter`, amount: `4`, agent: `opencode`});
    const before = fs.readFileSync(authFile, `utf8`);
    emulator.faults.add({method: `POST`, path: `/api/v1/keys`, when: `before`, kind: `status`, status: 402});
    const res = await post(server, `/api/agents/rotate`, {agent: `opencode`});
    expect(res.status).toBe(409);
    expect(res.json.error.code).toBe(`CAPIT_ROTATE_FAILED`);
    expect(res.json.error.message).toContain(`opencode's files still hold its previous key`);
    expect(fs.readFileSync(authFile, `utf8`)).toBe(before);
    onlyKey();
  });
});
// ----- end of slice B4 -----

describe(`capit serve (the command)`, () => {
  it(`prints the URL, warns for a non-loopback host, serves until stopped`, async () => {
    const {spawn} = await import(`node:child_process`);
    const {CLI} = await import(`../support/cli.js`);
    const {env} = setupHome(emulator);
    const child = spawn(process.execPath, [CLI, `serve`, `--no-open`, `--host`, `0.0.0.0`], {env: {...env, DISPLAY: ``}, stdio: [`ignore`, `pipe`, `pipe`]});
    try {
      let stdout = ``;
      let stderr = ``;
      child.stderr.on(`data`, chunk => (stderr += chunk));
      const url = await new Promise<string>((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no URL; stderr: ${stderr}`)), 10_000);
        child.stdout.on(`data`, chunk => {
          stdout += chunk;
          const m = /capit GUI: (http:\/\/127\.0\.0\.1:\d+\/#token=[\w-]+)\n/.exec(stdout);
          if (m) {
            clearTimeout(timer);
            resolve(m[1]!);
          }
        });
      });
      expect(stderr).toContain(`capit: warning: listening on 0.0.0.0: other machines can reach this server`);
      const res = await fetch(url, {redirect: `manual`});
      expect(res.status).toBe(200);
      expect(res.headers.get(`set-cookie`)).toBeNull();
      const origin = url.replace(/\/#token=.*/, ``);
      const token = url.replace(/.*#token=/, ``);
      expect((await fetch(`${origin}/api/meta`)).status).toBe(401);
      expect((await fetch(`${origin}/api/meta`, {headers: {'x-capit-token': token}})).status).toBe(200);
    } finally {
      child.kill(`SIGTERM`);
      await new Promise(resolve => child.once(`close`, resolve));
    }
    expect(child.exitCode).toBe(0);
  });

  it(`refuses a bad --port as a usage error`, async () => {
    const {env} = setupHome(emulator);
    const res = await runCli([`serve`, `--port`, `nope`, `--no-open`], {env});
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/^capit: /);
  });
});

// Issue 14, slice B5: the headroom preflight reaches the GUI preview through the same planIssue.
describe(`headroom in the preview`, () => {
  it(`warns in the plan when the cap is below one worst-case request of the agent's model`, async () => {
    const {env, home} = setupHome(emulator);
    fs.mkdirSync(path.join(home, `.claude`), {recursive: true});
    fs.writeFileSync(path.join(home, `.claude`, `settings.json`), JSON.stringify({model: `anthropic/claude-sonnet-4.5`}));
    const server = await startGui(env);
    const low = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `0.50`, agent: `claude`});
    expect(low.status, low.text).toBe(200);
    expect(low.json.plan.headroom).toMatchObject({model: `anthropic/claude-sonnet-4.5`, outputTokens: 64000, worstCaseUsd: 0.96});
    expect(low.json.plan.headroom.warning).toContain(`Use a cap of at least $0.96`);
    const named = await post(server, `/api/issue/plan`, {platform: `openrouter`, amount: `5`, model: `openai/gpt-4o-mini`});
    expect(named.json.plan.headroom).toMatchObject({model: `openai/gpt-4o-mini`, warning: null});
    expect(emulator.state.keys.size).toBe(0);
  });
});
