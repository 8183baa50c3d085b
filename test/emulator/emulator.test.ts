import {spawn} from 'node:child_process';
import {once} from 'node:events';
import {createInterface} from 'node:readline';
import {fileURLToPath} from 'node:url';
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {DEFAULT_MANAGEMENT_KEY, startEmulator, type Emulator, type OpenRouterKey} from './server.mjs';

const MGMT = DEFAULT_MANAGEMENT_KEY;
const SERVER = fileURLToPath(new URL(`./server.mjs`, import.meta.url));
const KEY_FIELDS = [
  `hash`, `name`, `label`, `disabled`, `limit`, `limit_remaining`, `limit_reset`, `include_byok_in_limit`,
  `usage`, `usage_daily`, `usage_weekly`, `usage_monthly`,
  `byok_usage`, `byok_usage_daily`, `byok_usage_weekly`, `byok_usage_monthly`,
  `created_at`, `updated_at`, `expires_at`, `creator_user_id`, `workspace_id`,
].sort();
const LIMIT_EXCEEDED_TOTAL = {error: {code: 403, message: `Key limit exceeded (total limit). Manage it using https://openrouter.ai/settings/keys`}};

interface Reply {
  status: number;
  headers: Headers;
  text: string;
  json: any;
}

let emu: Emulator;

async function call(method: string, path: string, opts: {key?: string | null; body?: unknown; headers?: Record<string, string>; base?: string} = {}): Promise<Reply> {
  const headers: Record<string, string> = {...opts.headers};
  const key = opts.key === undefined ? MGMT : opts.key;
  if (key !== null) headers.authorization = `Bearer ${key}`;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers[`content-type`] = `application/json`;
    body = typeof opts.body === `string` ? opts.body : JSON.stringify(opts.body);
  }
  const res = await fetch(`${opts.base ?? emu.url}${path}`, {method, headers, body});
  const text = await res.text();
  let json: any = undefined;
  try {
    json = text === `` ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  return {status: res.status, headers: res.headers, text, json};
}

async function createKey(body: Record<string, unknown>): Promise<{data: OpenRouterKey; key: string}> {
  const r = await call(`POST`, `/api/v1/keys`, {body});
  expect(r.status).toBe(201);
  return r.json;
}

const chat = (key: string, extra: Record<string, unknown> = {}, path = `/api/v1/chat/completions`) =>
  call(`POST`, path, {key, body: {model: `openai/gpt-4o-mini`, messages: [{role: `user`, content: `hi`}], ...extra}});

function sseEvents(text: string): {event: string | null; data: string}[] {
  return text
    .split(/\n\n/)
    .filter(block => block.trim() !== ``)
    .map(block => {
      let event: string | null = null;
      const data: string[] = [];
      for (const line of block.split(`\n`)) {
        if (line.startsWith(`event: `)) event = line.slice(7);
        else if (line.startsWith(`data: `)) data.push(line.slice(6));
      }
      return {event, data: data.join(`\n`)};
    });
}

beforeEach(async () => {
  emu = await startEmulator({port: 0});
});
afterEach(async () => {
  await emu.close();
});

describe(`startEmulator`, () => {
  it(`listens on loopback and exposes the base URLs`, async () => {
    expect(emu.url).toBe(`http://127.0.0.1:${emu.port}`);
    expect(emu.openrouterBaseUrl).toBe(`${emu.url}/api/v1`);
    expect(emu.port).toBeGreaterThan(0);
    expect(emu.managementKeys).toEqual([MGMT]);
  });
});

describe(`management API: create / get`, () => {
  it(`creates a key (201) with the plaintext key at top level and every documented field`, async () => {
    const r = await call(`POST`, `/api/v1/keys`, {body: {name: `capit-claude-1`, limit: 5, limit_reset: null, include_byok_in_limit: false, expires_at: `2099-12-31T23:59:59Z`}});
    expect(r.status).toBe(201);
    expect(Object.keys(r.json).sort()).toEqual([`data`, `key`]);
    const {data, key} = r.json;
    expect(key).toMatch(/^sk-or-v1-[0-9a-f]{64}$/);
    expect(data.hash).toMatch(/^[0-9a-f]{64}$/);
    expect(key).not.toContain(data.hash);
    expect(Object.keys(data).sort()).toEqual(KEY_FIELDS);
    expect(data).toMatchObject({
      name: `capit-claude-1`, disabled: false, limit: 5, limit_remaining: 5, limit_reset: null, include_byok_in_limit: false,
      usage: 0, usage_daily: 0, usage_weekly: 0, usage_monthly: 0, byok_usage: 0, updated_at: null, expires_at: `2099-12-31T23:59:59Z`,
    });
    expect(data.label).toBe(`${key.slice(0, 12)}...${key.slice(-4)}`);
    expect(Number.isNaN(Date.parse(data.created_at))).toBe(false);
    expect(emu.state.keys.get(data.hash)?.key).toBe(key);

    const got = await call(`GET`, `/api/v1/keys/${data.hash}`);
    expect(got.status).toBe(200);
    expect(got.json).toEqual({data});
  });

  it(`two creates give distinct keys and hashes; a key without limit has limit_remaining null`, async () => {
    const a = await createKey({name: `same`});
    const b = await createKey({name: `same`});
    expect(a.key).not.toBe(b.key);
    expect(a.data.hash).not.toBe(b.data.hash);
    expect(a.data.limit).toBeNull();
    expect(a.data.limit_remaining).toBeNull();
  });

  it.each([
    [`no name`, {limit: 1}],
    [`empty name`, {name: ``}],
    [`numeric name`, {name: 5}],
    [`negative limit`, {name: `x`, limit: -1}],
    [`string limit`, {name: `x`, limit: `5`}],
    [`unknown limit_reset`, {name: `x`, limit_reset: `yearly`}],
    [`non-UTC expires_at`, {name: `x`, expires_at: `2099-12-31T23:59:59+02:00`}],
    [`date-only expires_at`, {name: `x`, expires_at: `2099-12-31`}],
    [`garbage expires_at`, {name: `x`, expires_at: `soon Z`}],
    [`non-boolean include_byok_in_limit`, {name: `x`, include_byok_in_limit: `yes`}],
    [`an array body`, [1, 2]],
  ])(`rejects %s with 400 Invalid request parameters`, async (_label, body) => {
    const r = await call(`POST`, `/api/v1/keys`, {body});
    expect(r.status).toBe(400);
    expect(r.json.error).toMatchObject({code: 400, message: `Invalid request parameters`});
    expect(emu.state.keys.size).toBe(0);
  });

  it(`rejects a body that is not JSON`, async () => {
    const r = await call(`POST`, `/api/v1/keys`, {body: `{nope`});
    expect(r.status).toBe(400);
    expect(emu.state.keys.size).toBe(0);
  });

  it(`GET of an unknown hash is 404 Resource not found`, async () => {
    const r = await call(`GET`, `/api/v1/keys/${`0`.repeat(64)}`);
    expect(r.status).toBe(404);
    expect(r.json).toEqual({error: {code: 404, message: `Resource not found`}});
  });
});

describe(`management API: list`, () => {
  it(`pages 250 seeded keys as 100 + 100 + 50, most recent first, then an empty page`, async () => {
    const seeded = emu.seedKeys(250, {prefix: `bench`});
    expect(seeded).toHaveLength(250);
    const pages: OpenRouterKey[][] = [];
    for (let offset = 0; ; offset += 100) {
      const r = await call(`GET`, `/api/v1/keys?offset=${offset}&include_disabled=true`);
      expect(r.status).toBe(200);
      expect(Object.keys(r.json)).toEqual([`data`]);
      pages.push(r.json.data);
      if (r.json.data.length === 0) break;
    }
    expect(pages.map(p => p.length)).toEqual([100, 100, 50, 0]);
    const all = pages.flat();
    expect(all[0]!.name).toBe(`bench-249`);
    expect(all[249]!.name).toBe(`bench-0`);
    expect(new Set(all.map(k => k.hash)).size).toBe(250);
    expect(all.every(k => !(`key` in k))).toBe(true);
    expect(all[0]).toMatchObject({limit: 5, limit_remaining: 5, usage: 0});
    expect(Object.keys(all[0]!).sort()).toEqual(KEY_FIELDS);
  });

  it(`hides disabled keys unless include_disabled=true, and offsets count visible keys`, async () => {
    const a = await createKey({name: `a`});
    const b = await createKey({name: `b`});
    const c = await createKey({name: `c`});
    expect((await call(`PATCH`, `/api/v1/keys/${b.data.hash}`, {body: {disabled: true}})).status).toBe(200);

    const names = async (q: string) => ((await call(`GET`, `/api/v1/keys${q}`)).json.data as OpenRouterKey[]).map(k => k.name);
    expect(await names(``)).toEqual([`c`, `a`]);
    expect(await names(`?include_disabled=false`)).toEqual([`c`, `a`]);
    expect(await names(`?include_disabled=true`)).toEqual([`c`, `b`, `a`]);
    expect(await names(`?offset=1`)).toEqual([`a`]);
    expect(await names(`?offset=1&include_disabled=true`)).toEqual([`b`, `a`]);
    expect(await names(`?offset=3&include_disabled=true`)).toEqual([]);
    expect(a.data.hash).not.toBe(c.data.hash);
  });

  it(`rejects a bad offset or include_disabled`, async () => {
    expect((await call(`GET`, `/api/v1/keys?offset=-1`)).status).toBe(400);
    expect((await call(`GET`, `/api/v1/keys?offset=abc`)).status).toBe(400);
    expect((await call(`GET`, `/api/v1/keys?include_disabled=yes`)).status).toBe(400);
  });
});

describe(`management API: patch / delete`, () => {
  it(`patches name, limit, limit_reset, include_byok_in_limit and disabled; null clears the cap`, async () => {
    const {data} = await createKey({name: `p`, limit: 1});
    const r = await call(`PATCH`, `/api/v1/keys/${data.hash}`, {body: {name: `p2`, limit: 10, limit_reset: `monthly`, include_byok_in_limit: true}});
    expect(r.status).toBe(200);
    expect(r.json.data).toMatchObject({hash: data.hash, name: `p2`, limit: 10, limit_remaining: 10, limit_reset: `monthly`, include_byok_in_limit: true, disabled: false});
    expect(r.json.data.updated_at).not.toBeNull();
    expect(Object.keys(r.json.data).sort()).toEqual(KEY_FIELDS);

    const cleared = await call(`PATCH`, `/api/v1/keys/${data.hash}`, {body: {limit: null}});
    expect(cleared.json.data).toMatchObject({limit: null, limit_remaining: null, name: `p2`, limit_reset: `monthly`});

    const off = await call(`PATCH`, `/api/v1/keys/${data.hash}`, {body: {disabled: true}});
    expect(off.json.data.disabled).toBe(true);
    expect((await call(`GET`, `/api/v1/keys/${data.hash}`)).json.data.disabled).toBe(true);
  });

  it.each([
    [`expires_at`, {expires_at: `2099-01-01T00:00:00Z`}],
    [`workspace_id`, {workspace_id: `0df9e665-d932-5740-b2c7-b52af166bc11`}],
    [`a negative limit`, {limit: -5}],
    [`a bad limit_reset`, {limit_reset: `hourly`}],
    [`a non-boolean disabled`, {disabled: `true`}],
  ])(`rejects a patch with %s (400) and leaves the key unchanged`, async (_label, body) => {
    const {data} = await createKey({name: `q`, limit: 3});
    const r = await call(`PATCH`, `/api/v1/keys/${data.hash}`, {body});
    expect(r.status).toBe(400);
    expect(r.json.error.message).toBe(`Invalid request parameters`);
    expect((await call(`GET`, `/api/v1/keys/${data.hash}`)).json.data).toEqual(data);
  });

  it(`PATCH of an unknown hash is 404`, async () => {
    expect((await call(`PATCH`, `/api/v1/keys/nope`, {body: {name: `x`}})).status).toBe(404);
  });

  it(`deletes a key: {"deleted":true}, then 404, and the key no longer authenticates`, async () => {
    const {data, key} = await createKey({name: `d`, limit: 5});
    const r = await call(`DELETE`, `/api/v1/keys/${data.hash}`);
    expect(r.status).toBe(200);
    expect(r.json).toEqual({deleted: true});
    expect((await call(`GET`, `/api/v1/keys/${data.hash}`)).status).toBe(404);
    expect((await call(`DELETE`, `/api/v1/keys/${data.hash}`)).status).toBe(404);
    expect(emu.state.keys.has(data.hash)).toBe(false);
    const inf = await chat(key);
    expect(inf.status).toBe(401);
    expect(inf.json).toEqual({error: {code: 401, message: `User not found.`}});
  });
});

describe(`auth`, () => {
  it(`missing header → 401 No auth credentials found; unknown key → 401 User not found.`, async () => {
    const none = await call(`GET`, `/api/v1/keys`, {key: null});
    expect(none.status).toBe(401);
    expect(none.json).toEqual({error: {code: 401, message: `No auth credentials found`}});
    const unknown = await call(`GET`, `/api/v1/keys`, {key: `sk-or-v1-${`a`.repeat(64)}`});
    expect(unknown.status).toBe(401);
    expect(unknown.json).toEqual({error: {code: 401, message: `User not found.`}});
    expect((await call(`POST`, `/api/v1/keys`, {key: null, body: {name: `x`}})).status).toBe(401);
    expect(emu.state.keys.size).toBe(0);
  });

  it(`an issued key on a management endpoint → 403 Only management keys…`, async () => {
    const {data, key} = await createKey({name: `inference`});
    const expected = {error: {code: 403, message: `Only management keys can perform this operation`}};
    for (const [method, path] of [[`GET`, `/api/v1/keys`], [`POST`, `/api/v1/keys`], [`GET`, `/api/v1/keys/${data.hash}`], [`DELETE`, `/api/v1/keys/${data.hash}`]] as const) {
      const r = await call(method, path, {key, body: method === `POST` ? {name: `x`} : undefined});
      expect(r.status, `${method} ${path}`).toBe(403);
      expect(r.json).toEqual(expected);
    }
    expect(emu.state.keys.size).toBe(1);
  });

  it(`GET /key tells a management key from an issued key`, async () => {
    const m = await call(`GET`, `/api/v1/key`);
    expect(m.status).toBe(200);
    expect(m.json.data).toMatchObject({limit: null, limit_remaining: null, usage: 0, is_free_tier: false, is_management_key: true, is_provisioning_key: true});
    expect(m.json.data).not.toHaveProperty(`hash`);

    const {key} = await createKey({name: `k`, limit: 2, limit_reset: `weekly`});
    const k = await call(`GET`, `/api/v1/key`, {key});
    expect(k.status).toBe(200);
    expect(k.json.data).toMatchObject({limit: 2, limit_remaining: 2, limit_reset: `weekly`, usage: 0, is_management_key: false, is_provisioning_key: false});

    expect((await call(`GET`, `/api/v1/key`, {key: `sk-or-v1-nope`})).status).toBe(401);
    expect((await call(`GET`, `/api/v1/key`, {key: null})).json.error.message).toBe(`No auth credentials found`);
  });

  it(`addManagementKey adds a second management key`, async () => {
    const other = `sk-or-v1-mgmt-other`;
    expect((await call(`GET`, `/api/v1/keys`, {key: other})).status).toBe(401);
    emu.addManagementKey(other);
    expect((await call(`GET`, `/api/v1/keys`, {key: other})).status).toBe(200);
    expect(emu.managementKeys).toContain(other);
  });

  it(`accepts managementKeys from the options and refuses the default then`, async () => {
    const custom = await startEmulator({port: 0, managementKeys: [`sk-or-v1-custom`]});
    try {
      expect((await call(`GET`, `/api/v1/keys`, {base: custom.url, key: `sk-or-v1-custom`})).status).toBe(200);
      expect((await call(`GET`, `/api/v1/keys`, {base: custom.url, key: MGMT})).status).toBe(401);
    } finally {
      await custom.close();
    }
  });
});

describe(`inference charges the key and refuses over the cap`, () => {
  it(`cap 1 at 0.5 per request: two answers, then 403 Key limit exceeded (total limit)`, async () => {
    const {data, key} = await createKey({name: `capped`, limit: 1});
    const first = await chat(key);
    expect(first.status).toBe(200);
    expect(first.json).toMatchObject({
      object: `chat.completion`, model: `openai/gpt-4o-mini`,
      choices: [{index: 0, message: {role: `assistant`, content: `Hello from the capit emulator`}, finish_reason: `stop`}],
    });
    expect(first.json.id).toEqual(expect.any(String));
    expect(first.json.usage).toMatchObject({prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), cost: 0.5});
    expect(first.json.usage.total_tokens).toBe(first.json.usage.prompt_tokens + first.json.usage.completion_tokens);

    const afterOne = (await call(`GET`, `/api/v1/keys/${data.hash}`)).json.data;
    expect(afterOne).toMatchObject({usage: 0.5, usage_daily: 0.5, usage_weekly: 0.5, usage_monthly: 0.5, limit_remaining: 0.5});

    expect((await chat(key)).status).toBe(200);
    const third = await chat(key);
    expect(third.status).toBe(403);
    expect(third.json).toEqual(LIMIT_EXCEEDED_TOTAL);

    const after = (await call(`GET`, `/api/v1/keys/${data.hash}`)).json.data;
    expect(after).toMatchObject({usage: 1, limit_remaining: 0});
    const own = await call(`GET`, `/api/v1/key`, {key});
    expect(own.json.data).toMatchObject({usage: 1, limit_remaining: 0});

    const log = emu.state.requests.filter(r => r.path === `/api/v1/chat/completions`);
    expect(log.map(r => r.status)).toEqual([200, 200, 403]);
    expect(log.every(r => r.authorization === `Bearer ${key}` && r.model === `openai/gpt-4o-mini` && r.keyHash === data.hash)).toBe(true);
  });

  it(`names the window of a resetting limit, and a raised cap lets the key work again`, async () => {
    const {data, key} = await createKey({name: `daily`, limit: 0.5, limit_reset: `daily`});
    expect((await chat(key)).status).toBe(200);
    const refused = await chat(key);
    expect(refused.status).toBe(403);
    expect(refused.json.error.message).toBe(`Key limit exceeded (daily limit). Manage it using https://openrouter.ai/settings/keys`);
    await call(`PATCH`, `/api/v1/keys/${data.hash}`, {body: {limit: 1}});
    expect((await chat(key)).status).toBe(200);
    expect((await chat(key)).status).toBe(403);
  });

  it(`a key with no limit is never refused; a zero limit is refused at once`, async () => {
    const free = await createKey({name: `free`});
    for (let i = 0; i < 5; i++) expect((await chat(free.key)).status).toBe(200);
    expect(emu.state.keys.get(free.data.hash)!.usage).toBe(2.5);
    const zero = await createKey({name: `zero`, limit: 0});
    expect((await chat(zero.key)).json).toEqual(LIMIT_EXCEEDED_TOTAL);
    expect(emu.state.keys.get(zero.data.hash)!.usage).toBe(0);
  });

  it(`refuses unknown, disabled and expired keys with 401 and no header with 401`, async () => {
    expect((await chat(`sk-or-v1-${`b`.repeat(64)}`)).json).toEqual({error: {code: 401, message: `User not found.`}});
    const dis = await createKey({name: `dis`, limit: 5});
    await call(`PATCH`, `/api/v1/keys/${dis.data.hash}`, {body: {disabled: true}});
    expect((await chat(dis.key)).status).toBe(401);
    const expired = await createKey({name: `old`, limit: 5, expires_at: `2000-01-01T00:00:00Z`});
    expect((await chat(expired.key)).status).toBe(401);
    const none = await call(`POST`, `/api/v1/chat/completions`, {key: null, body: {model: `x`, messages: []}});
    expect(none.status).toBe(401);
    expect(none.json.error.message).toBe(`No auth credentials found`);
    expect(emu.state.keys.get(dis.data.hash)!.usage).toBe(0);
    expect(emu.state.keys.get(expired.data.hash)!.usage).toBe(0);
  });

  it(`sees records added to or deleted from state.keys directly`, async () => {
    const [rec] = emu.seedKeys(1, {prefix: `direct`, limit: 1});
    const copy = {...rec!, hash: `f`.repeat(64), key: `sk-or-v1-${`c`.repeat(64)}`, name: `hand-made`};
    emu.state.keys.set(copy.hash, copy);
    expect((await chat(copy.key)).status).toBe(200);
    expect(emu.state.keys.get(copy.hash)!.usage).toBe(0.5);
    emu.state.keys.delete(copy.hash);
    expect((await chat(copy.key)).status).toBe(401);
    expect((await chat(rec!.key)).status).toBe(200);
  });

  it(`a management key cannot run completions`, async () => {
    const r = await chat(MGMT);
    expect(r.status).toBe(403);
  });

  it(`honours pricePerRequestUsd and the settable knob`, async () => {
    const cheap = await startEmulator({port: 0, pricePerRequestUsd: 0.25});
    try {
      const {key, hash} = cheap.createKey({name: `c`, limit: 1});
      for (let i = 0; i < 4; i++) expect((await call(`POST`, `/api/v1/chat/completions`, {base: cheap.url, key, body: {model: `m`}})).status).toBe(200);
      expect((await call(`POST`, `/api/v1/chat/completions`, {base: cheap.url, key, body: {model: `m`}})).status).toBe(403);
      expect(cheap.state.keys.get(hash)!.usage).toBe(1);
      cheap.knobs.pricePerRequestUsd = 2;
      const {key: k2, hash: h2} = cheap.createKey({name: `c2`, limit: 3});
      expect((await call(`POST`, `/api/v1/chat/completions`, {base: cheap.url, key: k2, body: {model: `m`}})).status).toBe(200);
      expect(cheap.state.keys.get(h2)!.usage).toBe(2);
    } finally {
      await cheap.close();
    }
  });

  it(`streams an OpenAI chat completion as SSE`, async () => {
    const {key} = await createKey({name: `s`, limit: 5});
    const r = await chat(key, {stream: true, model: `anthropic/claude-sonnet-4.5`});
    expect(r.status).toBe(200);
    expect(r.headers.get(`content-type`)).toMatch(/^text\/event-stream/);
    const events = sseEvents(r.text);
    expect(events.at(-1)!.data).toBe(`[DONE]`);
    const chunks = events.slice(0, -1).map(e => JSON.parse(e.data));
    expect(chunks.length).toBeGreaterThan(2);
    for (const c of chunks) expect(c).toMatchObject({object: `chat.completion.chunk`, model: `anthropic/claude-sonnet-4.5`});
    expect(chunks.map(c => c.choices[0].delta.content ?? ``).join(``)).toBe(`Hello from the capit emulator`);
    const last = chunks.at(-1);
    expect(last.choices[0].finish_reason).toBe(`stop`);
    expect(last.usage).toMatchObject({prompt_tokens: expect.any(Number), completion_tokens: expect.any(Number), cost: 0.5});
    expect(chunks.slice(0, -1).every(c => c.choices[0].finish_reason === null)).toBe(true);
  });

  it(`a refused streaming request is a plain JSON 403, not SSE`, async () => {
    const {key} = await createKey({name: `s0`, limit: 0});
    const r = await chat(key, {stream: true});
    expect(r.status).toBe(403);
    expect(r.headers.get(`content-type`)).toMatch(/^application\/json/);
    expect(r.json).toEqual(LIMIT_EXCEEDED_TOTAL);
  });
});

describe(`Anthropic Messages`, () => {
  it(`answers /api/v1/messages?beta=true with Bearer auth and charges the key`, async () => {
    const {data, key} = await createKey({name: `claude`, limit: 1});
    const body = {model: `anthropic/claude-sonnet-4.5`, max_tokens: 32000, messages: [{role: `user`, content: `say hi`}]};
    const r = await call(`POST`, `/api/v1/messages?beta=true`, {key, body});
    expect(r.status).toBe(200);
    expect(r.json).toMatchObject({
      type: `message`, role: `assistant`, model: `anthropic/claude-sonnet-4.5`,
      content: [{type: `text`, text: `Hello from the capit emulator`}], stop_reason: `end_turn`,
      usage: {input_tokens: expect.any(Number), output_tokens: expect.any(Number)},
    });
    expect(r.json.id).toEqual(expect.any(String));
    expect(emu.state.keys.get(data.hash)!.usage).toBe(0.5);
    const entry = emu.state.requests.at(-1)!;
    expect(entry).toMatchObject({method: `POST`, path: `/api/v1/messages`, url: `/api/v1/messages?beta=true`, authorization: `Bearer ${key}`, xApiKey: null, model: `anthropic/claude-sonnet-4.5`});
    expect((await call(`POST`, `/api/v1/messages`, {key, body})).status).toBe(200);
    const refused = await call(`POST`, `/api/v1/messages?beta=true`, {key, body});
    expect(refused.status).toBe(403);
    expect(refused.json).toEqual(LIMIT_EXCEEDED_TOTAL);
  });

  it(`accepts x-api-key auth`, async () => {
    const {data, key} = await createKey({name: `xkey`, limit: 5});
    const r = await call(`POST`, `/api/v1/messages`, {key: null, headers: {'x-api-key': key}, body: {model: `any/model`, max_tokens: 10, messages: []}});
    expect(r.status).toBe(200);
    expect(emu.state.requests.at(-1)!.xApiKey).toBe(key);
    expect(emu.state.keys.get(data.hash)!.usage).toBe(0.5);
  });

  it(`streams the Anthropic event sequence`, async () => {
    const {key} = await createKey({name: `claude-stream`, limit: 5});
    const r = await call(`POST`, `/api/v1/messages?beta=true`, {key, body: {model: `anthropic/claude-sonnet-4.5`, max_tokens: 100, stream: true, messages: [{role: `user`, content: `hi`}]}});
    expect(r.status).toBe(200);
    expect(r.headers.get(`content-type`)).toMatch(/^text\/event-stream/);
    const events = sseEvents(r.text);
    const names = events.map(e => e.event).filter(n => n !== `ping`);
    expect(names[0]).toBe(`message_start`);
    expect(names[1]).toBe(`content_block_start`);
    expect(names.slice(-3)).toEqual([`content_block_stop`, `message_delta`, `message_stop`]);
    expect(names.slice(2, -3).every(n => n === `content_block_delta`)).toBe(true);
    for (const e of events) expect(JSON.parse(e.data).type).toBe(e.event);
    const parsed = events.map(e => JSON.parse(e.data));
    expect(parsed[0].message).toMatchObject({type: `message`, role: `assistant`, model: `anthropic/claude-sonnet-4.5`, content: []});
    const text = parsed.filter(p => p.type === `content_block_delta`).map(p => {
      expect(p.delta.type).toBe(`text_delta`);
      return p.delta.text;
    }).join(``);
    expect(text).toBe(`Hello from the capit emulator`);
    const delta = parsed.find(p => p.type === `message_delta`);
    expect(delta.delta.stop_reason).toBe(`end_turn`);
    expect(delta.usage.output_tokens).toEqual(expect.any(Number));
  });

  it(`serves count_tokens, HEAD /api, HEAD /api/v1 and the models list`, async () => {
    const ct = await call(`POST`, `/api/v1/messages/count_tokens?beta=true`, {body: {model: `x`, messages: []}});
    expect(ct.status).toBe(200);
    expect(ct.json).toEqual({input_tokens: 10});
    for (const p of [`/api`, `/api/v1`]) {
      const h = await fetch(`${emu.url}${p}`, {method: `HEAD`});
      expect(h.status, p).toBe(200);
    }
    const models = await call(`GET`, `/api/v1/models`, {key: null});
    expect(models.status).toBe(200);
    const ids = (models.json.data as {id: string}[]).map(m => m.id);
    expect(ids).toEqual(expect.arrayContaining([`openai/gpt-4o-mini`, `anthropic/claude-sonnet-4.5`]));
    expect(models.json.data[0]).toMatchObject({context_length: 128000, pricing: {prompt: `0.000001`, completion: `0.000002`}});
    expect((await call(`GET`, `/api/v1/nope`)).status).toBe(404);
  });
});

describe(`knobs`, () => {
  it(`failNext answers the next n requests with the status, Retry-After and the default body`, async () => {
    emu.knobs.failNext(2, {status: 429, retryAfter: 7});
    for (let i = 0; i < 2; i++) {
      const r = await call(`GET`, `/api/v1/keys`);
      expect(r.status).toBe(429);
      expect(r.headers.get(`retry-after`)).toBe(`7`);
      expect(r.json).toEqual({error: {code: 429, message: `Rate limit exceeded`}});
    }
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);

    emu.knobs.failNext(1, {status: 500});
    const five = await call(`GET`, `/api/v1/keys`);
    expect(five.status).toBe(500);
    expect(five.headers.get(`retry-after`)).toBeNull();
    expect(five.json).toEqual({error: {code: 500, message: `Internal Server Error`}});

    emu.knobs.failNext(1, {status: 503, body: {error: {code: 503, message: `custom`}}});
    expect((await call(`GET`, `/api/v1/keys`)).json.error.message).toBe(`custom`);
  });

  it(`failNext with a match only hits matching requests, and an injected failure does not create a key`, async () => {
    emu.knobs.failNext(1, {status: 500, match: {method: `POST`, path: `/api/v1/keys`}});
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
    const failed = await call(`POST`, `/api/v1/keys`, {body: {name: `x`}});
    expect(failed.status).toBe(500);
    expect(emu.state.keys.size).toBe(0);
    expect((await call(`POST`, `/api/v1/keys`, {body: {name: `x`}})).status).toBe(201);

    emu.knobs.failNext(1, {status: 502, match: {path: /^\/api\/v1\/keys\/.+/}});
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
    expect((await call(`GET`, `/api/v1/keys/abc`)).status).toBe(502);
  });

  it(`failNext on inference does not charge the key`, async () => {
    const {data, key} = await createKey({name: `f`, limit: 5});
    emu.knobs.failNext(1, {status: 429, retryAfter: 1, match: {path: `/api/v1/chat/completions`}});
    expect((await chat(key)).status).toBe(429);
    expect(emu.state.keys.get(data.hash)!.usage).toBe(0);
  });

  it(`dropNext destroys the socket without answering: fetch rejects, the next request works`, async () => {
    emu.knobs.dropNext(1);
    await expect(call(`GET`, `/api/v1/keys`)).rejects.toThrow();
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
    expect(emu.state.requests[0]).toMatchObject({path: `/api/v1/keys`, outcome: `dropped`});
  });

  it(`dropNext before handling loses the create; afterHandling keeps the key (lost response)`, async () => {
    emu.knobs.dropNext(1, {method: `POST`, path: `/api/v1/keys`});
    await expect(call(`POST`, `/api/v1/keys`, {body: {name: `lost-before`}})).rejects.toThrow();
    expect(emu.state.keys.size).toBe(0);

    emu.knobs.dropNext(1, {afterHandling: true, match: {method: `POST`, path: `/api/v1/keys`}});
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200); // not matched
    await expect(call(`POST`, `/api/v1/keys`, {body: {name: `lost-after`, limit: 2}})).rejects.toThrow();
    expect(emu.state.keys.size).toBe(1);
    const list = (await call(`GET`, `/api/v1/keys?include_disabled=true`)).json.data as OpenRouterKey[];
    expect(list.map(k => k.name)).toEqual([`lost-after`]);
    expect(list[0]!.limit).toBe(2);
    expect(emu.state.requests.find(r => r.outcome === `handled-then-dropped`)).toMatchObject({status: 201, method: `POST`});
  });

  it(`dropNext afterHandling also accepts the inline form`, async () => {
    emu.knobs.dropNext(1, {method: `POST`, path: `/api/v1/keys`, afterHandling: true});
    await expect(call(`POST`, `/api/v1/keys`, {body: {name: `inline`}})).rejects.toThrow();
    expect([...emu.state.keys.values()].map(k => k.name)).toEqual([`inline`]);
  });

  it(`every429(n) answers every n-th management call 429 with Retry-After: 0`, async () => {
    emu.knobs.every429(3);
    const statuses: number[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await call(`GET`, `/api/v1/keys`);
      statuses.push(r.status);
      if (r.status === 429) {
        expect(r.headers.get(`retry-after`)).toBe(`0`);
        expect(r.json).toEqual({error: {code: 429, message: `Rate limit exceeded`}});
      }
    }
    expect(statuses).toEqual([200, 200, 429, 200, 200, 429, 200]);
    // inference is not a management call: not counted by default
    const {key} = emu.createKey({name: `inf`});
    for (let i = 0; i < 4; i++) expect((await chat(key)).status).toBe(200);
    emu.knobs.every429(0);
    for (let i = 0; i < 4; i++) expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
  });

  it(`every429 takes a match`, async () => {
    emu.knobs.every429(2, {method: `GET`, path: `/api/v1/models`});
    expect((await call(`GET`, `/api/v1/models`)).status).toBe(200);
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
    expect((await call(`GET`, `/api/v1/models`)).status).toBe(429);
  });

  it(`latencyMs delays answers (lower bound only)`, async () => {
    emu.knobs.latencyMs = 150;
    const t0 = performance.now();
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
    expect(performance.now() - t0).toBeGreaterThanOrEqual(140);
    expect(() => {
      emu.knobs.latencyMs = -1;
    }).toThrow();
  });

  it(`reset() clears every knob`, async () => {
    emu.knobs.latencyMs = 50;
    emu.knobs.failNext(5, {status: 500});
    emu.knobs.dropNext(5);
    emu.knobs.every429(1);
    emu.knobs.reset();
    expect(emu.knobs.describe()).toMatchObject({latencyMs: 0, failNext: [], dropNext: [], every429: null});
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
  });

  it(`close() with a request waiting on latency does not hang`, async () => {
    const slow = await startEmulator({port: 0, latencyMs: 10_000});
    const pending = call(`GET`, `/api/v1/keys`, {base: slow.url}).catch(e => e);
    await new Promise(r => setTimeout(r, 50));
    await slow.close();
    expect(await pending).toBeInstanceOf(Error);
  });
});

describe(`control API /__emulator`, () => {
  it(`seeds keys, reports state without secrets, and sets knobs`, async () => {
    const seeded = await call(`POST`, `/__emulator/seed`, {key: null, body: {count: 120, prefix: `ctl`, limit: 3}});
    expect(seeded.status).toBe(200);
    expect(seeded.json.created).toBe(120);
    expect(emu.state.keys.size).toBe(120);

    const page = await call(`GET`, `/api/v1/keys`);
    expect(page.json.data).toHaveLength(100);
    expect(page.json.data[0]).toMatchObject({name: `ctl-119`, limit: 3});

    const state = await call(`GET`, `/__emulator/state`, {key: null});
    expect(state.status).toBe(200);
    expect(state.json.keys).toHaveLength(120);
    expect(state.text).not.toMatch(/"key":"sk-or-v1-[0-9a-f]{64}"/);
    expect(Object.keys(state.json.keys[0]).sort()).toEqual(KEY_FIELDS);
    expect(state.json.requests).toHaveLength(1);
    expect(state.json.requests[0]).toMatchObject({method: `GET`, path: `/api/v1/keys`, authorization: `Bearer ${MGMT}`});
    expect(state.json.openrouterBaseUrl).toBe(emu.openrouterBaseUrl);

    const k = await call(`POST`, `/__emulator/knobs`, {key: null, body: {latencyMs: 5, failNext: {n: 1, status: 429, retryAfter: 3, match: {method: `GET`, path: `/api/v1/keys`}}}});
    expect(k.status).toBe(200);
    expect(emu.knobs.latencyMs).toBe(5);
    const failed = await call(`GET`, `/api/v1/keys`);
    expect(failed.status).toBe(429);
    expect(failed.headers.get(`retry-after`)).toBe(`3`);

    await call(`POST`, `/__emulator/knobs`, {key: null, body: {dropNext: {n: 1, afterHandling: true, match: {method: `POST`, path: `/api/v1/keys`}}}});
    await expect(call(`POST`, `/api/v1/keys`, {body: {name: `ctl-lost`}})).rejects.toThrow();
    expect([...emu.state.keys.values()].some(r => r.name === `ctl-lost`)).toBe(true);

    await call(`POST`, `/__emulator/knobs`, {key: null, body: {dropNext: 1}});
    await expect(call(`GET`, `/api/v1/keys`)).rejects.toThrow();

    await call(`POST`, `/__emulator/knobs`, {key: null, body: {every429: {n: 1, pathRegex: `^/api/v1/keys`}}});
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(429);
    expect((await call(`GET`, `/api/v1/key`)).status).toBe(200);

    await call(`POST`, `/__emulator/knobs`, {key: null, body: {reset: true}});
    expect(emu.knobs.describe()).toMatchObject({latencyMs: 0, failNext: [], dropNext: [], every429: null});
    expect((await call(`GET`, `/api/v1/keys`)).status).toBe(200);
  });

  it(`creates a key, charges it, adds a management key and resets`, async () => {
    const created = await call(`POST`, `/__emulator/keys`, {key: null, body: {name: `direct`, limit: 1}});
    expect(created.status).toBe(201);
    expect(created.json.key).toMatch(/^sk-or-v1-[0-9a-f]{64}$/);
    const charged = await call(`POST`, `/__emulator/charge`, {key: null, body: {hash: created.json.data.hash, usd: 1}});
    expect(charged.json.data).toMatchObject({usage: 1, limit_remaining: 0});
    expect((await chat(created.json.key)).status).toBe(403);

    await call(`POST`, `/__emulator/management-keys`, {key: null, body: {key: `sk-or-v1-mgmt-2`}});
    expect((await call(`GET`, `/api/v1/keys`, {key: `sk-or-v1-mgmt-2`})).status).toBe(200);

    expect((await call(`POST`, `/__emulator/reset`, {key: null})).status).toBe(200);
    expect(emu.state.keys.size).toBe(0);
    expect(emu.state.requests).toHaveLength(0);
    expect((await call(`POST`, `/__emulator/knobs`, {key: null, body: {latencyMs: -3}})).status).toBe(400);
    expect((await call(`GET`, `/__emulator/nope`, {key: null})).status).toBe(404);
  });
});

describe(`scale`, () => {
  it(`lists 10,000 seeded keys page by page`, async () => {
    emu.seedKeys(10_000);
    let total = 0;
    let offset = 0;
    const seen = new Set<string>();
    for (;;) {
      const r = await call(`GET`, `/api/v1/keys?include_disabled=true&offset=${offset}`);
      const data = r.json.data as OpenRouterKey[];
      if (data.length === 0) break;
      for (const k of data) seen.add(k.hash);
      total += data.length;
      offset += data.length;
    }
    expect(total).toBe(10_000);
    expect(seen.size).toBe(10_000);
  });
});

describe(`CLI`, () => {
  it(`prints exactly one URL line, serves requests, and exits on SIGTERM`, async () => {
    const child = spawn(process.execPath, [SERVER, `--port`, `0`, `--quiet`], {stdio: [`ignore`, `pipe`, `pipe`]});
    try {
      const lines = createInterface({input: child.stdout!});
      const [line] = (await once(lines, `line`)) as [string];
      expect(line).toMatch(/^OPENROUTER_EMULATOR_URL=http:\/\/127\.0\.0\.1:\d+\/api\/v1$/);
      const base = line.slice(`OPENROUTER_EMULATOR_URL=`.length);
      const origin = base.replace(/\/api\/v1$/, ``);

      const created = await call(`POST`, `/api/v1/keys`, {base: origin, body: {name: `cli`, limit: 0.5}});
      expect(created.status).toBe(201);
      expect((await call(`POST`, `/api/v1/chat/completions`, {base: origin, key: created.json.key, body: {model: `m`}})).status).toBe(200);
      expect((await call(`POST`, `/api/v1/chat/completions`, {base: origin, key: created.json.key, body: {model: `m`}})).json).toEqual(LIMIT_EXCEEDED_TOTAL);

      const exited = once(child, `exit`);
      child.kill(`SIGTERM`);
      const [code] = await exited;
      expect(code).toBe(0);
      lines.close();
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill(`SIGKILL`);
    }
  });

  it(`rejects an unknown argument with exit code 2`, async () => {
    const child = spawn(process.execPath, [SERVER, `--bogus`], {stdio: [`ignore`, `pipe`, `pipe`]});
    let stdout = ``;
    child.stdout!.on(`data`, d => (stdout += d));
    const [code] = await once(child, `exit`);
    expect(code).toBe(2);
    expect(stdout).toBe(``);
  });
});
