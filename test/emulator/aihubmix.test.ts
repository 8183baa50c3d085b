// The emulator's AIHubMix (one-api token API) mode: same server as OpenRouter, routes at the root.
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {AIHUBMIX_QUOTA_PER_USD, DEFAULT_AIHUBMIX_MANAGE_KEY, DEFAULT_MANAGEMENT_KEY, startEmulator, type Emulator} from './server.mjs';

const MANAGE = DEFAULT_AIHUBMIX_MANAGE_KEY;
const BAD_TOKEN = {success: false, message: `无权进行此操作，access token 无效`};

let emu: Emulator;

interface Reply {
  status: number;
  headers: Headers;
  json: any;
}

/** Management calls send the raw manage key (no Bearer) unless `auth` says otherwise. */
async function call(method: string, path: string, opts: {auth?: string | null; body?: unknown} = {}): Promise<Reply> {
  const headers: Record<string, string> = {};
  const auth = opts.auth === undefined ? MANAGE : opts.auth;
  if (auth !== null) headers.authorization = auth;
  let body: string | undefined;
  if (opts.body !== undefined) {
    headers[`content-type`] = `application/json`;
    body = JSON.stringify(opts.body);
  }
  const res = await fetch(`${emu.aihubmixBaseUrl}${path}`, {method, headers, body});
  const text = await res.text();
  return {status: res.status, headers: res.headers, json: text === `` ? undefined : JSON.parse(text)};
}

const create = (body: Record<string, unknown>) =>
  call(`POST`, `/api/token/`, {body: {expired_time: -1, unlimited_quota: false, models: ``, subnet: ``, ...body}});

const chat = (secret: string, path = `/v1/chat/completions`) =>
  call(`POST`, path, {auth: `Bearer ${secret}`, body: {model: `gpt-4o-mini`, messages: [{role: `user`, content: `hi`}]}});

beforeEach(async () => {
  emu = await startEmulator({port: 0});
});
afterEach(async () => {
  await emu.close();
});

describe(`AIHubMix management`, () => {
  it(`serves at the emulator root next to OpenRouter`, async () => {
    expect(emu.aihubmixBaseUrl).toBe(emu.url);
    const self = await call(`GET`, `/api/user/self`);
    expect(self.status).toBe(200);
    expect(self.json).toMatchObject({success: true, data: {username: `capit-emulator`}});
    const or = await fetch(`${emu.openrouterBaseUrl}/key`, {headers: {authorization: `Bearer ${DEFAULT_MANAGEMENT_KEY}`}});
    expect((await or.json()).data.is_management_key).toBe(true);
  });

  it(`creates a token: data.key masked, plaintext sk-… in data.full_key, quota and expiry stored`, async () => {
    const r = await create({name: `opencode-1a2b3c4d`, remain_quota: 145000, expired_time: 1798761600});
    expect(r.status).toBe(200);
    expect(r.json.success).toBe(true);
    const data = r.json.data;
    expect(data.key).toMatch(/^sk-[0-9a-f]{4}\*{10}[0-9a-f]{4}$/);
    expect(data.full_key).toMatch(/^sk-[0-9a-f]{48}$/);
    expect(data.full_key.slice(3, 7)).toBe(data.key.slice(3, 7));
    expect(data).toMatchObject({name: `opencode-1a2b3c4d`, status: 1, remain_quota: 145000, used_quota: 0, unlimited_quota: false, expired_time: 1798761600});
    expect(emu.state.aihubmixTokens.get(data.id)?.key).toBe(data.full_key.slice(3));
  });

  it(`aihubmixFullKey=false omits full_key; GET by id reveals the key unless aihubmixGetReveals=false`, async () => {
    emu.knobs.aihubmixFullKey = false;
    const r = await create({name: `a`, remain_quota: 1});
    expect(r.json.data.full_key).toBeUndefined();
    const id = r.json.data.id;
    const got = await call(`GET`, `/api/token/${id}`);
    expect(got.json.data.key).toMatch(/^[0-9a-f]{48}$/); // one-api: no sk- prefix
    emu.knobs.aihubmixGetReveals = false;
    const masked = await call(`GET`, `/api/token/${id}`);
    expect(masked.json.data.key).toContain(`*`);
    emu.knobs.reset();
    expect(emu.knobs.aihubmixFullKey).toBe(true);
    expect(emu.knobs.aihubmixGetReveals).toBe(true);
  });

  it(`refuses a name over 30 bytes with 200 令牌名称过长`, async () => {
    const r = await create({name: `x`.repeat(31), remain_quota: 1});
    expect(r.status).toBe(200);
    expect(r.json).toEqual({success: false, message: `令牌名称过长`});
    expect(emu.state.aihubmixTokens.size).toBe(0);
  });

  it(`answers a bad manage key with HTTP 200 success:false, a missing one with 401, and 401 when the knob says so`, async () => {
    const bad = await call(`GET`, `/api/token/`, {auth: `not-the-key`});
    expect(bad.status).toBe(200);
    expect(bad.json).toEqual(BAD_TOKEN);
    const none = await call(`GET`, `/api/user/self`, {auth: null});
    expect(none.status).toBe(401);
    expect(none.json.message).toMatch(/未提供 access token/);
    emu.knobs.aihubmixAuthFailureStatus = 401;
    const real = await call(`POST`, `/api/token/`, {auth: `not-the-key`, body: {name: `x`}});
    expect(real.status).toBe(401);
    expect(real.json).toEqual(BAD_TOKEN);
    expect(emu.state.aihubmixTokens.size).toBe(0);
  });

  it(`tolerates Bearer on the manage key and accepts added manage keys`, async () => {
    expect((await call(`GET`, `/api/user/self`, {auth: `Bearer ${MANAGE}`})).json.success).toBe(true);
    expect((await call(`GET`, `/api/user/self`, {auth: `second-key`})).json.success).toBe(false);
    emu.addAihubmixManageKey(`second-key`);
    expect((await call(`GET`, `/api/user/self`, {auth: `second-key`})).json.success).toBe(true);
  });

  it(`pages with 0-based p and size/num (default 10), newest first, short page at the end`, async () => {
    emu.seedAihubmixTokens(25);
    const ids = (r: Reply) => r.json.data.map((t: {id: number}) => t.id);
    expect(ids(await call(`GET`, `/api/token/`))).toEqual([25, 24, 23, 22, 21, 20, 19, 18, 17, 16]);
    expect(ids(await call(`GET`, `/api/token/?p=2`))).toEqual([5, 4, 3, 2, 1]);
    expect(ids(await call(`GET`, `/api/token/?p=0&size=20`))).toHaveLength(20);
    expect(ids(await call(`GET`, `/api/token/?p=1&num=20`))).toEqual([5, 4, 3, 2, 1]);
    expect(ids(await call(`GET`, `/api/token/?p=3`))).toEqual([]);
    const listed = (await call(`GET`, `/api/token/`)).json.data[0];
    expect(listed.key).toContain(`*`);
  });

  it(`PUT replaces the whole token (omitted fields become zero values) and ignores status without status_only`, async () => {
    const {data} = (await create({name: `full`, remain_quota: 1000, expired_time: 1798761600})).json;
    const partial = await call(`PUT`, `/api/token/`, {body: {id: data.id, remain_quota: 5000, status: 2}});
    expect(partial.json.success).toBe(true);
    expect(partial.json.data).toMatchObject({name: ``, expired_time: 0, remain_quota: 5000, status: 1});

    const off = await call(`PUT`, `/api/token/?status_only=true`, {body: {...partial.json.data, status: 2}});
    expect(off.json.data.status).toBe(2);
    const onAgain = await call(`PUT`, `/api/token/?status_only=true`, {body: {id: data.id, status: 1}});
    // expired_time 0 is in the past: one-api refuses to enable it
    expect(onAgain.json).toEqual({success: false, message: `令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期`});
  });

  it(`GET and DELETE of an unknown id answer 200 record not found`, async () => {
    expect(await call(`GET`, `/api/token/99`)).toMatchObject({status: 200, json: {success: false, message: `record not found`}});
    expect(await call(`DELETE`, `/api/token/99`)).toMatchObject({status: 200, json: {success: false, message: `record not found`}});
    const {data} = (await create({name: `gone`, remain_quota: 1})).json;
    expect((await call(`DELETE`, `/api/token/${data.id}`)).json).toEqual({success: true, message: ``});
    expect(emu.state.aihubmixTokens.size).toBe(0);
  });

  it(`GET /api/user/token regenerates the manage key, so the old one stops working`, async () => {
    const r = await call(`GET`, `/api/user/token`);
    expect(r.json.success).toBe(true);
    expect(r.json.data).not.toBe(MANAGE);
    expect((await call(`GET`, `/api/user/self`)).json).toEqual(BAD_TOKEN);
    expect((await call(`GET`, `/api/user/self`, {auth: r.json.data})).json.success).toBe(true);
  });
});

describe(`AIHubMix inference`, () => {
  it(`charges pricePerRequestUsd from remain_quota and refuses the exhausted token with 401 该令牌额度已用尽`, async () => {
    emu.knobs.pricePerRequestUsd = 0.5;
    const {data} = (await create({name: `capped`, remain_quota: 1 * AIHUBMIX_QUOTA_PER_USD})).json;
    expect((await chat(data.full_key)).status).toBe(200);
    expect(emu.state.aihubmixTokens.get(data.id)).toMatchObject({remain_quota: 250000, used_quota: 250000});
    const second = await chat(data.full_key, `/v1/messages`);
    expect(second.status).toBe(200);
    expect(second.json.type).toBe(`message`);
    const refused = await chat(data.full_key);
    expect(refused.status).toBe(401);
    expect(refused.json.error.type).toBe(`one_api_error`);
    expect(refused.json.error.message).toMatch(/^该令牌额度已用尽 \(request id: \w+\)$/);
    expect(emu.state.aihubmixTokens.get(data.id)).toMatchObject({remain_quota: 0, used_quota: 500000});
    const listed = (await call(`GET`, `/api/token/`)).json.data[0];
    expect(listed).toMatchObject({remain_quota: 0, used_quota: 500000});
  });

  it(`accepts the key without sk- and via x-api-key; refuses disabled, unknown and missing keys`, async () => {
    const {data} = (await create({name: `k`, remain_quota: 10 * AIHUBMIX_QUOTA_PER_USD})).json;
    expect((await chat(data.full_key.slice(3))).status).toBe(200);
    const viaHeader = await fetch(`${emu.url}/v1/messages`, {
      method: `POST`, headers: {'x-api-key': data.full_key, 'content-type': `application/json`},
      body: JSON.stringify({model: `claude`, max_tokens: 10, messages: [{role: `user`, content: `hi`}]}),
    });
    expect(viaHeader.status).toBe(200);
    await call(`PUT`, `/api/token/?status_only=true`, {body: {id: data.id, status: 2}});
    expect((await chat(data.full_key)).json.error.message).toMatch(/该令牌状态不可用/);
    expect((await chat(`sk-${`0`.repeat(48)}`)).status).toBe(401);
    expect((await call(`POST`, `/v1/chat/completions`, {auth: null, body: {}})).status).toBe(401);
  });
});

describe(`knobs on AIHubMix routes`, () => {
  it(`failNext matches by path and answers the one-api envelope; every429 covers /api/token`, async () => {
    emu.knobs.failNext(1, {status: 500, path: `/api/token/`});
    const failed = await call(`GET`, `/api/token/`);
    expect(failed.status).toBe(500);
    expect(failed.json).toEqual({success: false, message: `Internal Server Error`});
    expect((await call(`GET`, `/api/token/`)).status).toBe(200);

    emu.knobs.failNext(1, {status: 429, retryAfter: 7, method: `POST`, path: `/api/token/`});
    const limited = await create({name: `x`, remain_quota: 1});
    expect(limited.status).toBe(429);
    expect(limited.headers.get(`retry-after`)).toBe(`7`);
    expect(emu.state.aihubmixTokens.size).toBe(0);

    emu.knobs.every429(2);
    expect((await call(`GET`, `/api/user/self`)).status).toBe(200);
    expect((await call(`GET`, `/api/user/self`)).status).toBe(429);
  });

  it(`dropNext destroys the socket; afterHandling keeps the created token (lost response)`, async () => {
    emu.knobs.dropNext(1, {method: `POST`, path: `/api/token/`, afterHandling: true});
    await expect(create({name: `lost`, remain_quota: 1})).rejects.toThrow();
    expect(emu.state.aihubmixTokens.size).toBe(1);
    emu.knobs.dropNext(1, {path: `/v1/chat/completions`});
    await expect(chat(`sk-whatever`)).rejects.toThrow();
  });

  it(`reset() clears tokens; the control API seeds, charges and reports tokens without plaintext keys`, async () => {
    const seeded = await (await fetch(`${emu.url}/__emulator/aihubmix/seed`, {method: `POST`, body: JSON.stringify({count: 3, capUsd: 2})})).json();
    expect(seeded).toEqual({created: 3, ids: [1, 2, 3]});
    const charged = await (await fetch(`${emu.url}/__emulator/aihubmix/charge`, {method: `POST`, body: JSON.stringify({id: 2, usd: 0.5})})).json();
    expect(charged.data).toMatchObject({id: 2, used_quota: 250000, remain_quota: 750000});
    const state = await (await fetch(`${emu.url}/__emulator/state`)).json();
    expect(state.aihubmixBaseUrl).toBe(emu.url);
    expect(state.aihubmixTokens).toHaveLength(3);
    for (const t of state.aihubmixTokens) expect(t.key).toContain(`*`);
    emu.reset();
    expect(emu.state.aihubmixTokens.size).toBe(0);
    expect(emu.aihubmixManageKeys).toEqual([MANAGE]);
  });
});
