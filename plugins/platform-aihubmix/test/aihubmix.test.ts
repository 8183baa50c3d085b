import nock                                        from 'nock';
import {afterEach, describe, expect, it}           from 'vitest';
import {wireReaders}                               from '../../../core/src/http/wire.js';
import {createPlatformContext}                     from '../../../core/src/platforms/platform-context.js';
import {NetworkError, ProviderError}               from '../../../core/src/errors.js';
import type {PlatformContext, ProviderKey}         from '../../../core/src/plugin.js';
import aihubmix, {classifyError, normaliseToken, toQuota, usableSecret} from '../src/index.js';

// Obviously fake keys; long enough that any leak of their middle would be visible.
const MASTER = `aihubmix-manage-fake-${`0123456789abcdef`.repeat(2)}`;
const PLAIN = `fedcba9876543210`.repeat(3); // 48 chars, like one-api's keys (no sk- prefix)
const ISSUED = `sk-${PLAIN}`;
const MASKED = `sk-fedc**********3210`;
const ORIGIN = `https://aihubmix.com`;
const BAD_TOKEN = {success: false, message: `无权进行此操作，access token 无效`};

function makeCtx(baseUrl = ORIGIN): PlatformContext {
  return createPlatformContext(aihubmix, {masterKey: MASTER, baseUrl, displayName: `AIHubMix`, http: {version: `9.9.9-test`, retry: {maxRetries: 0}}});
}

/** The name and quota the createKey tests below ask for (`x-00000000`, $1): a create answer describes that key. */
const ASKED = {name: `x-00000000`, remain_quota: 500_000};

function wireToken(id: number, extra: Record<string, unknown> = {}) {
  return {
    id,
    user_id: 152534,
    key: `sk-tok${String(id).padStart(2, `0`)}**********abcd`,
    status: 1,
    name: `capit-test-${id}`,
    created_time: 1778417169,
    accessed_time: 1778417169,
    expired_time: -1,
    remain_quota: 2_500_000,
    unlimited_quota: false,
    used_quota: 0,
    models: null,
    subnet: ``,
    ...extra,
  };
}

async function rejection(promise: Promise<unknown>): Promise<ProviderError & NetworkError> {
  try {
    await promise;
  } catch (err) {
    return err as ProviderError & NetworkError;
  }
  throw new Error(`expected a rejection`);
}

function expectNoSecret(err: {message: string; hint?: string}) {
  for (const text of [err.message, err.hint ?? ``]) {
    expect(text).not.toContain(MASTER);
    expect(text).not.toContain(`0123456789abcdef`);
    expect(text).not.toContain(PLAIN);
    expect(text).not.toContain(`fedcba9876543210`);
  }
}

async function collect(iterable: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const out: ProviderKey[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

// Any call nock was not told about (e.g. GET /api/user/token) fails the request, and pending mocks fail the test.
afterEach(() => {
  const pending = nock.pendingMocks();
  nock.cleanAll();
  expect(pending).toEqual([]);
});

describe(`createKey`, () => {
  it(`POSTs the one-api body with the raw manage key and installs data.full_key, never the masked data.key`, async () => {
    const bodies: unknown[] = [];
    const headers: Record<string, string | string[] | undefined>[] = [];
    nock(ORIGIN).post(`/api/token/`).reply(function (_uri, body) {
      bodies.push(body);
      headers.push(this.req.headers);
      return [200, {success: true, message: ``, data: {...wireToken(271585, {name: `opencode-1a2b3c4d`, remain_quota: 145000}), key: MASKED, full_key: ISSUED}}];
    });

    const created = await aihubmix.createKey(makeCtx(), {name: `opencode-1a2b3c4d`, capUsd: 0.29});

    expect(bodies).toEqual([{name: `opencode-1a2b3c4d`, remain_quota: 145000, unlimited_quota: false, expired_time: -1, models: ``, subnet: ``}]);
    expect(headers[0]?.authorization).toBe(MASTER); // no "Bearer "
    expect(headers[0]?.[`content-type`]).toBe(`application/json`);
    expect(created).toMatchObject({id: `271585`, name: `opencode-1a2b3c4d`, secret: ISSUED, capUsd: 0.29, remainingUsd: 0.29, spentUsd: 0, reset: null, disabled: false});
    expect(created.secret).not.toContain(`*`);
  });

  it(`rounds the quota to whole units and sends expired_time as UNIX seconds`, async () => {
    let body: Record<string, unknown> | undefined;
    nock(ORIGIN).post(`/api/token/`, b => {
      body = b as Record<string, unknown>;
      return true;
    }).reply(200, {success: true, message: ``, data: {...wireToken(2, {name: `claude-00000000`, remain_quota: 6172840}), key: ISSUED}});

    const expiresAt = new Date(`2027-03-04T05:06:07.890Z`);
    await aihubmix.createKey(makeCtx(), {name: `claude-00000000`, capUsd: 12.345679, expiresAt});

    expect(body?.remain_quota).toBe(6172840); // 12.345679 × 500000 = 6172839.5 → 6172840
    expect(body?.expired_time).toBe(Math.floor(expiresAt.getTime() / 1000));
    expect(toQuota(0.29)).toBe(145000);
    expect(toQuota(0.1 + 0.2)).toBe(150000);
  });

  it(`accepts an unmasked data.key and adds the sk- prefix one-api leaves off`, async () => {
    nock(ORIGIN).post(`/api/token/`).reply(200, {success: true, message: ``, data: {...wireToken(3, ASKED), key: PLAIN}});
    const created = await aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1});
    expect(created.secret).toBe(ISSUED);
  });

  it(`reads the key by id when the create response only has a masked key`, async () => {
    nock(ORIGIN)
      .post(`/api/token/`).reply(200, {success: true, message: ``, data: {...wireToken(4, ASKED), key: MASKED}})
      .get(`/api/token/4`).matchHeader(`authorization`, MASTER).reply(200, {success: true, message: ``, data: {...wireToken(4, ASKED), key: PLAIN}});
    const created = await aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1});
    expect(created.secret).toBe(ISSUED);
    expect(created.id).toBe(`4`);
  });

  it(`deletes the token and fails when even GET by id is masked; the masked value is never returned`, async () => {
    let deleted = 0;
    nock(ORIGIN)
      .post(`/api/token/`).reply(200, {success: true, message: ``, data: {...wireToken(5, ASKED), key: MASKED}})
      .get(`/api/token/5`).reply(200, {success: true, message: ``, data: {...wireToken(5, ASKED), key: MASKED}})
      .delete(`/api/token/5`).reply(() => {
        deleted++;
        return [200, {success: true, message: ``, data: {}}];
      });

    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));

    expect(deleted).toBe(1);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(`unknown`);
    expect(err.message).toMatch(/no usable \(unmasked\) key secret; the new key was deleted again/);
    expect(err.message).toContain(`create key "x-00000000"`);
    expectNoSecret(err);
  });

  it(`deletes the token when GET by id fails, and names it when that delete fails too`, async () => {
    nock(ORIGIN)
      .post(`/api/token/`).reply(200, {success: true, message: ``, data: {...wireToken(6, ASKED), key: MASKED}})
      .get(`/api/token/6`).reply(200, BAD_TOKEN)
      .delete(`/api/token/6`).reply(200, {success: false, message: `数据库错误`});
    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(err.message).toMatch(/delete key 6 by hand/);
  });

  it(`refuses a reset window before sending anything`, async () => {
    // No interceptor: any request would fail with a nock "no match" network error instead.
    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1, reset: `monthly`}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(`bad-request`);
    expect(err.message).toMatch(/quotas never reset/);
    expect(err.message).toMatch(/monthly/);
  });

  it(`never retries a failed POST`, async () => {
    let hits = 0;
    nock(ORIGIN).post(`/api/token/`).times(5).reply(() => {
      hits++;
      return [503, `<html><body>503 Service Unavailable</body></html>`];
    });
    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(hits).toBe(1);
    expect(err.kind).toBe(`server`);
    nock.cleanAll();
  });
});

describe(`listKeys`, () => {
  it(`pages ?p=0,1,2 with size/num 100, dedupes by id and stops on the short page`, async () => {
    const all = Array.from({length: 230}, (_, i) => wireToken(i + 1));
    const seen: string[] = [];
    nock(ORIGIN).get(`/api/token/`).query(true).times(3).reply(uri => {
      const url = new URL(uri, ORIGIN);
      expect(url.searchParams.get(`size`)).toBe(`100`);
      expect(url.searchParams.get(`num`)).toBe(`100`);
      const p = Number(url.searchParams.get(`p`));
      seen.push(String(p));
      // A key created between two pages shifts the list: page 1 repeats the last key of page 0.
      const start = p === 0 ? 0 : p * 100 - 1;
      return [200, {success: true, message: ``, data: all.slice(start, start + 100)}];
    });

    const keys = await collect(aihubmix.listKeys(makeCtx()));

    expect(seen).toEqual([`0`, `1`, `2`]);
    expect(keys).toHaveLength(230);
    expect(new Set(keys.map(k => k.id)).size).toBe(230);
  });

  it(`keeps paging when the server ignores size and answers pages of 10, until an empty page`, async () => {
    const all = Array.from({length: 20}, (_, i) => wireToken(i + 1));
    nock(ORIGIN).get(`/api/token/`).query(true).times(3).reply(uri => {
      const p = Number(new URL(uri, ORIGIN).searchParams.get(`p`));
      return [200, {success: true, message: ``, data: all.slice(p * 10, p * 10 + 10)}];
    });
    const keys = await collect(aihubmix.listKeys(makeCtx()));
    expect(keys).toHaveLength(20);
  });

  it(`accepts data.items and data.data and stops when a page only repeats keys (server ignoring p)`, async () => {
    nock(ORIGIN)
      .get(`/api/token/`).query({p: `0`, size: `100`, num: `100`}).reply(200, {success: true, message: ``, data: {items: [wireToken(1), wireToken(2)]}})
      .get(`/api/token/`).query({p: `1`, size: `100`, num: `100`}).reply(200, {success: true, message: ``, data: {data: [wireToken(1), wireToken(2)]}});
    const keys = await collect(aihubmix.listKeys(makeCtx()));
    expect(keys.map(k => k.id)).toEqual([`1`, `2`]);
  });

  it(`follows a new-api envelope's own (1-based) page number and stops at its total`, async () => {
    const asked: string[] = [];
    nock(ORIGIN).get(`/api/token/`).query(true).times(2).reply(uri => {
      const p = new URL(uri, ORIGIN).searchParams.get(`p`)!;
      asked.push(p);
      const page = Math.max(1, Number(p));
      return [200, {success: true, message: ``, data: {items: [wireToken(page * 2 - 1), wireToken(page * 2)], page, total: 4}}];
    });
    const keys = await collect(aihubmix.listKeys(makeCtx()));
    expect(asked).toEqual([`0`, `2`]);
    expect(keys.map(k => k.id)).toEqual([`1`, `2`, `3`, `4`]);
  });

  it(`normalises quota units, status, timestamps and unlimited tokens`, async () => {
    nock(ORIGIN)
      .get(`/api/token/`).query(true).reply(200, {success: true, message: ``, data: [
        wireToken(1, {used_quota: 1_250_000, remain_quota: 3_750_000, created_time: 1767225600, expired_time: 1798761600}),
        wireToken(2, {status: 2}),
        wireToken(3, {status: 0, unlimited_quota: true, remain_quota: -1, used_quota: 500}),
        wireToken(4, {used_quota: `250000`, remain_quota: `250000`, expired_time: `-1`}),
      ]})
      .get(`/api/token/`).query(true).reply(200, {success: true, message: ``, data: []});

    const keys = await collect(aihubmix.listKeys(makeCtx()));

    expect(keys[0]).toEqual({
      id: `1`, name: `capit-test-1`, spentUsd: 2.5, capUsd: 10, remainingUsd: 7.5, reset: null, disabled: false,
      createdAt: `2026-01-01T00:00:00.000Z`, expiresAt: `2027-01-01T00:00:00.000Z`,
    });
    expect(keys[1]).toMatchObject({disabled: true});
    expect(keys[2]).toMatchObject({disabled: true, capUsd: null, remainingUsd: null, spentUsd: 0.001});
    expect(keys[3]).toMatchObject({spentUsd: 0.5, capUsd: 1, remainingUsd: 0.5, expiresAt: null});
  });

  it(`throws the provider error for a 200 success:false page`, async () => {
    nock(ORIGIN).get(`/api/token/`).query(true).reply(200, BAD_TOKEN);
    const err = await rejection(collect(aihubmix.listKeys(makeCtx())));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(`bad-master-key`);
    expect(err.code).toBe(`CAPIT_BAD_MASTER_KEY`);
    expect(err.message).toBe(`AIHubMix rejected the master key while trying to list keys (无权进行此操作，access token 无效)`);
    expect(err.hint).toContain(`AIHUBMIX_MANAGE_KEY`);
    expect(err.hint).toContain(`https://console.aihubmix.com/setting`);
  });
});

describe(`updateKey / deleteKey`, () => {
  it(`GETs the token, then PUTs the whole object with the new remain_quota (cap − used)`, async () => {
    const current = wireToken(7, {used_quota: 1_000_000, remain_quota: 1_500_000, expired_time: 1798761600, models: `gpt-4o`, subnet: `10.0.0.0/8`});
    const puts: {url: string; body: unknown}[] = [];
    nock(ORIGIN)
      .get(`/api/token/7`).reply(200, {success: true, message: ``, data: current})
      .put(/\/api\/token\/.*/).reply((uri, body) => {
        puts.push({url: uri, body});
        return [200, {success: true, message: ``, data: body}];
      });

    const updated = await aihubmix.updateKey(makeCtx(), `7`, {capUsd: 20});

    expect(puts).toEqual([{url: `/api/token/`, body: {...current, remain_quota: 9_000_000, unlimited_quota: false}}]);
    expect(updated).toMatchObject({id: `7`, capUsd: 20, remainingUsd: 18, spentUsd: 2, disabled: false});
  });

  it(`disables with ?status_only=true and status 2, enables with status 1, sending the whole object`, async () => {
    const current = wireToken(8);
    const puts: {url: string; body: any}[] = [];
    nock(ORIGIN)
      .get(`/api/token/8`).times(2).reply(200, {success: true, message: ``, data: current})
      .put(/\/api\/token\/.*/).times(2).reply((uri, body) => {
        puts.push({url: uri, body});
        return [200, {success: true, message: ``, data: body}];
      });
    const ctx = makeCtx();

    const off = await aihubmix.updateKey(ctx, `8`, {disabled: true});
    const on = await aihubmix.updateKey(ctx, `8`, {disabled: false});

    expect(puts.map(p => p.url)).toEqual([`/api/token/?status_only=true`, `/api/token/?status_only=true`]);
    expect(puts[0]?.body).toEqual({...current, status: 2});
    expect(puts[1]?.body).toEqual({...current, status: 1});
    expect(off.disabled).toBe(true);
    expect(on.disabled).toBe(false);
  });

  it(`fails when the answered token did not change status`, async () => {
    nock(ORIGIN)
      .get(`/api/token/9`).reply(200, {success: true, message: ``, data: wireToken(9)})
      .put(`/api/token/`).query({status_only: `true`}).reply(200, {success: true, message: ``, data: wireToken(9, {status: 1})});
    const err = await rejection(aihubmix.updateKey(makeCtx(), `9`, {disabled: true}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/still enabled/);
  });

  it(`maps a refused PUT (200 success:false) and never PUTs without reading first`, async () => {
    nock(ORIGIN)
      .get(`/api/token/10`).reply(200, {success: true, message: ``, data: wireToken(10, {remain_quota: 0})})
      .put(`/api/token/`).query(true).reply(200, {success: false, message: `令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度`});
    const err = await rejection(aihubmix.updateKey(makeCtx(), `10`, {disabled: false}));
    expect(err.kind).toBe(`cap-reached`);
  });

  it(`refuses a reset window without any request, and reads the key for an empty patch`, async () => {
    const err = await rejection(aihubmix.updateKey(makeCtx(), `11`, {reset: `weekly`}));
    expect(err.kind).toBe(`bad-request`);
    nock(ORIGIN).get(`/api/token/11`).reply(200, {success: true, message: ``, data: wireToken(11)});
    const key = await aihubmix.updateKey(makeCtx(), `11`, {reset: null});
    expect(key).toMatchObject({id: `11`, capUsd: 5});
  });

  it(`DELETEs /api/token/{id} with the raw manage key`, async () => {
    const scope = nock(ORIGIN).delete(`/api/token/12`).matchHeader(`authorization`, MASTER).reply(200, {success: true, message: ``, data: {}});
    await aihubmix.deleteKey(makeCtx(), `12`);
    expect(scope.isDone()).toBe(true);
  });

  it(`throws not-found for a token that is already gone (one-api: 200 record not found)`, async () => {
    nock(ORIGIN).delete(`/api/token/13`).reply(200, {success: false, message: `record not found`});
    const err = await rejection(aihubmix.deleteKey(makeCtx(), `13`));
    expect(err.kind).toBe(`not-found`);
    expect(err.code).toBe(`CAPIT_NOT_FOUND`);
  });
});

describe(`destructive calls are verified, not taken on a 2xx alone`, () => {
  it.each([
    [`a non-JSON body`, `OK`],
    [`a bare object`, {}],
  ])(`DELETE answered 200 with %s and the token still there: a clear error, not success`, async (_what, body) => {
    nock(ORIGIN)
      .delete(`/api/token/9`).reply(200, body as never)
      .get(`/api/token/9`).reply(200, {success: true, message: ``, data: wireToken(9)});
    const err = await rejection(aihubmix.deleteKey(makeCtx(), `9`));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).not.toBe(`not-found`);
    expect(err.message).toMatch(/but the key still exists/);
  });

  it(`DELETE answered 200 with junk counts as done when the read-back finds no token`, async () => {
    const scope = nock(ORIGIN)
      .delete(`/api/token/9`).reply(200, `<html>ok</html>`)
      .get(`/api/token/9`).reply(200, {success: false, message: `record not found`});
    await expect(aihubmix.deleteKey(makeCtx(), `9`)).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it(`DELETE answered {"success":false} is the provider's refusal, no read-back`, async () => {
    nock(ORIGIN).delete(`/api/token/9`).reply(200, BAD_TOKEN);
    const err = await rejection(aihubmix.deleteKey(makeCtx(), `9`));
    expect(err.kind).toBe(`bad-master-key`);
  });

  it(`a status PUT answered 200 with junk is read back; a token still enabled is an error`, async () => {
    nock(ORIGIN)
      .get(`/api/token/9`).reply(200, {success: true, message: ``, data: wireToken(9, {status: 1})})
      .put(`/api/token/`).query({status_only: `true`}).reply(200, `junk`)
      .get(`/api/token/9`).reply(200, {success: true, message: ``, data: wireToken(9, {status: 1})});
    const err = await rejection(aihubmix.updateKey(makeCtx(), `9`, {disabled: true}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/but the key still has its old value of status/);
  });

  it(`a quota PUT answered 200 with junk is success when the read-back shows the new quota`, async () => {
    nock(ORIGIN)
      .get(`/api/token/9`).reply(200, {success: true, message: ``, data: wireToken(9)})
      .put(`/api/token/`).reply(200, ``)
      .get(`/api/token/9`).reply(200, {success: true, message: ``, data: wireToken(9, {remain_quota: 5_000_000})});
    const key = await aihubmix.updateKey(makeCtx(), `9`, {capUsd: 10});
    expect(key.capUsd).toBe(10);
  });

  it(`a create answer describing another key throws`, async () => {
    nock(ORIGIN).post(`/api/token/`).reply(200, {success: true, message: ``, data: {...wireToken(3, {name: `x-00000000`, remain_quota: 99}), key: PLAIN}});
    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(err.message).toMatch(/describes a different key \(remain_quota 99\)/);
    expectNoSecret(err);
  });

  it(`declares no BYOK`, () => {
    expect(aihubmix.byok).toBe(`none`);
  });
});

describe(`master key`, () => {
  it(`validates with GET /api/user/self (never /api/user/token)`, async () => {
    const scope = nock(ORIGIN).get(`/api/user/self`).matchHeader(`authorization`, MASTER)
      .reply(200, {success: true, message: ``, data: {username: `u`, quota: 29071257, used_quota: 0}});
    await expect(aihubmix.masterKey.validate(makeCtx())).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it(`rejects a bad manage key answered as HTTP 200 success:false`, async () => {
    nock(ORIGIN).get(`/api/user/self`).reply(200, BAD_TOKEN);
    const err = await rejection(aihubmix.masterKey.validate(makeCtx()));
    expect(err.kind).toBe(`bad-master-key`);
    expect(err.message).toMatch(/^AIHubMix rejected the master key while trying to check the manage key/);
    expectNoSecret(err);
  });

  it(`rejects a bad manage key answered as a real 401`, async () => {
    nock(ORIGIN).get(`/api/user/self`).reply(401, {success: false, message: `Unauthorized – access token is invalid or expired`});
    const err = await rejection(aihubmix.masterKey.validate(makeCtx()));
    expect(err.kind).toBe(`bad-master-key`);
    expect(err.status).toBe(401);
  });

  it(`checks the shape without echoing the value`, () => {
    const {checkShape} = aihubmix.masterKey;
    expect(checkShape?.(MASTER)).toBeUndefined();
    expect(checkShape?.(ISSUED)).toMatch(/Manage Key/);
    expect(checkShape?.(ISSUED)).not.toContain(PLAIN);
    expect(checkShape?.(`${MASTER}\n`)).toMatch(/whitespace/);
  });
});

describe(`platform facts`, () => {
  it(`derives inference bases from the origin`, () => {
    expect(aihubmix.inferenceBaseUrls(`https://aihubmix.com`)).toEqual({openai: `https://aihubmix.com/v1`, anthropic: `https://aihubmix.com`});
    expect(aihubmix.inferenceBaseUrls(`http://127.0.0.1:4321/`)).toEqual({openai: `http://127.0.0.1:4321/v1`, anthropic: `http://127.0.0.1:4321`});
  });

  it(`declares its base URL override, master key env and a 30-character name limit`, () => {
    expect(aihubmix.baseUrl).toEqual({default: `https://aihubmix.com`, env: `CAPIT_AIHUBMIX_BASE_URL`});
    expect(aihubmix.masterKey.env).toEqual([`AIHUBMIX_MANAGE_KEY`]);
    expect(aihubmix.masterKey.setupUrl).toBe(`https://console.aihubmix.com/setting`);
    expect(aihubmix.maxNameLength).toBe(30);
    expect(aihubmix.id).toBe(`aihubmix`);
    expect(aihubmix.kind).toBe(`platform`);
  });

  it(`uses the overridden base for every URL (trailing slash stripped)`, async () => {
    const scope = nock(`http://emulator.test:8080`).delete(`/api/token/1`).reply(200, {success: true, message: ``});
    await aihubmix.deleteKey(makeCtx(`http://emulator.test:8080/`), `1`);
    expect(scope.isDone()).toBe(true);
  });

  it(`recognises masked and plaintext secrets`, () => {
    expect(usableSecret(MASKED)).toBeUndefined();
    expect(usableSecret(`sk-abcd...wxyz`)).toBeUndefined();
    expect(usableSecret(``)).toBeUndefined();
    expect(usableSecret(42)).toBeUndefined();
    expect(usableSecret(PLAIN)).toBe(ISSUED);
    expect(usableSecret(ISSUED)).toBe(ISSUED);
  });

  it(`normalises a token without quota fields as uncapped-zero rather than crashing`, () => {
    expect(normaliseToken({id: 1}, wireReaders)).toMatchObject({id: `1`, spentUsd: 0, capUsd: 0, remainingUsd: 0, disabled: true});
  });
});

describe(`error mapping`, () => {
  const cases: {name: string; status: number; body: unknown; headers?: Record<string, string>; kind: string; code: string; message: string}[] = [
    {
      name: `200 access token 无效`, status: 200, body: BAD_TOKEN, kind: `bad-master-key`, code: `CAPIT_BAD_MASTER_KEY`,
      message: `AIHubMix rejected the master key while trying to create key "x-00000000" (无权进行此操作，access token 无效)`,
    },
    {
      name: `401 no access token`, status: 401, body: {success: false, message: `无权进行此操作，未登录且未提供 access token`},
      kind: `bad-master-key`, code: `CAPIT_BAD_MASTER_KEY`,
      message: `AIHubMix rejected the master key while trying to create key "x-00000000" (401: 无权进行此操作，未登录且未提供 access token)`,
    },
    {
      name: `200 权限不足`, status: 200, body: {success: false, message: `无权进行此操作，权限不足`},
      kind: `not-master-key`, code: `CAPIT_NOT_MASTER_KEY`,
      message: `The key given for AIHubMix is not a management key (无权进行此操作，权限不足)`,
    },
    {
      name: `200 令牌名称过长`, status: 200, body: {success: false, message: `参数错误：令牌名称过长`},
      kind: `bad-request`, code: `CAPIT_PROVIDER_REJECTED`,
      message: `AIHubMix rejected the request to create key "x-00000000" (参数错误：令牌名称过长)`,
    },
    {
      name: `429 with Retry-After and an empty body`, status: 429, body: ``, headers: {'Retry-After': `30`},
      kind: `rate-limited`, code: `CAPIT_RATE_LIMITED`,
      message: `AIHubMix is rate limiting requests (429) — retry after 30s`,
    },
    {
      name: `200 rate limit message`, status: 200, body: {success: false, message: `请求过于频繁，请稍后再试`},
      kind: `rate-limited`, code: `CAPIT_RATE_LIMITED`,
      message: `AIHubMix is rate limiting requests (200)`,
    },
    {
      name: `500`, status: 500, body: {success: false, message: `Internal Server Error`},
      kind: `server`, code: `CAPIT_PROVIDER_DOWN`,
      message: `AIHubMix is having problems (HTTP 500: Internal Server Error); try again later`,
    },
    {
      name: `502 HTML from a proxy`, status: 502, body: `<html><body><h1>502 Bad Gateway</h1>\n</body></html>`,
      kind: `server`, code: `CAPIT_PROVIDER_DOWN`,
      message: `AIHubMix is having problems (HTTP 502: 502 Bad Gateway); try again later`,
    },
    {
      name: `200 balance insufficient`, status: 200, body: {success: false, message: `insufficient_user_quota: Your account balance is insufficient`},
      kind: `insufficient-credits`, code: `CAPIT_NO_CREDITS`,
      message: `AIHubMix refused to create key "x-00000000": the account is out of credits (insufficient_user_quota: Your account balance is insufficient)`,
    },
    {
      name: `200 unknown business error`, status: 200, body: {success: false, message: `已达到最大令牌数量限制 (100)`},
      kind: `unknown`, code: `CAPIT_PROVIDER_ERROR`,
      message: `AIHubMix returned an unexpected response while trying to create key "x-00000000" (已达到最大令牌数量限制 (100))`,
    },
    {
      name: `200 HTML (not JSON)`, status: 200, body: `<html>maintenance</html>`,
      kind: `unknown`, code: `CAPIT_PROVIDER_ERROR`,
      message: `AIHubMix returned an unexpected response while trying to create key "x-00000000" (maintenance)`,
    },
  ];

  it.each(cases)(`$name → $kind`, async c => {
    nock(ORIGIN).post(`/api/token/`).reply(c.status, c.body as nock.Body, c.headers);
    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));

    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(c.kind);
    expect(err.code).toBe(c.code);
    expect(err.status).toBe(c.status);
    expect(err.message).toBe(c.message);
    expectNoSecret(err);
  });

  it(`every method checks success:false`, async () => {
    const ctx = makeCtx();
    nock(ORIGIN)
      .get(`/api/user/self`).reply(200, BAD_TOKEN)
      .post(`/api/token/`).reply(200, BAD_TOKEN)
      .get(`/api/token/`).query(true).reply(200, BAD_TOKEN)
      .get(`/api/token/1`).reply(200, BAD_TOKEN)
      .delete(`/api/token/1`).reply(200, BAD_TOKEN);
    const errors = await Promise.all([
      rejection(aihubmix.masterKey.validate(ctx)),
      rejection(aihubmix.createKey(ctx, {name: `x`, capUsd: 1})),
      rejection(collect(aihubmix.listKeys(ctx))),
      rejection(aihubmix.updateKey(ctx, `1`, {disabled: true})),
      rejection(aihubmix.deleteKey(ctx, `1`)),
    ]);
    for (const err of errors) expect(err.code).toBe(`CAPIT_BAD_MASTER_KEY`);
  });

  it(`redacts a manage key or issued key the provider echoes back`, async () => {
    nock(ORIGIN).get(`/api/user/self`).reply(200, {success: false, message: `access token 无效: ${MASTER} / ${ISSUED}`});
    const err = await rejection(aihubmix.masterKey.validate(makeCtx()));
    expect(err.kind).toBe(`bad-master-key`);
    expectNoSecret(err);
  });

  it(`turns a connection failure into a NetworkError`, async () => {
    nock(ORIGIN).post(`/api/token/`).replyWithError(Object.assign(new Error(`socket hang up`), {code: `ECONNRESET`}));
    const err = await rejection(aihubmix.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.code).toBe(`CAPIT_OFFLINE`);
    expect(err.message).toBe(`no answer from aihubmix.com (connection dropped); the request may have reached it`);
    expect(err.requestSent).toBe(true);
  });

  it(`classifies the gateway's exhausted-token answer as cap-reached`, () => {
    const failure = classifyError({status: 401, headers: new Headers(), body: {error: {message: `该令牌额度已用尽 (request id: 2026)`, type: `one_api_error`}}}, wireReaders);
    expect(failure.kind).toBe(`cap-reached`);
  });
});
