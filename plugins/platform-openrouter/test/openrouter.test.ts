import nock                                        from 'nock';
import {describe, expect, it}                      from 'vitest';
import {wireReaders}                               from '../../../core/src/http/wire.js';
import {createPlatformContext}                     from '../../../core/src/platforms/platform-context.js';
import {NetworkError, ProviderError}               from '../../../core/src/errors.js';
import type {PlatformContext, ProviderKey}         from '../../../core/src/plugin.js';
import openrouter, {classifyError, formatExpiry}   from '../src/index.js';

// Obviously fake keys; the management key is long enough that any leak of its middle would be visible.
const MASTER = `sk-or-v1-mgmt-fake-${`0123456789abcdef`.repeat(3)}`;
const ISSUED = `sk-or-v1-issued-fake-${`fedcba9876543210`.repeat(3)}`;
const ORIGIN = `https://openrouter.ai`;
const API = `/api/v1`;

function makeCtx(baseUrl = `${ORIGIN}${API}`): PlatformContext {
  return createPlatformContext(openrouter, {masterKey: MASTER, baseUrl, displayName: `OpenRouter`, http: {version: `9.9.9-test`}});
}

function wireKey(i: number, extra: Record<string, unknown> = {}) {
  return {
    hash: `hash${String(i).padStart(4, `0`)}`,
    name: `capit-test-${i}`,
    label: `sk-or-v1-abc...${String(i).padStart(4, `0`)}`,
    disabled: false,
    limit: 5,
    limit_remaining: 5,
    limit_reset: null,
    include_byok_in_limit: false,
    usage: 0,
    usage_daily: 0,
    usage_weekly: 0,
    usage_monthly: 0,
    created_at: `2026-01-01T00:00:00Z`,
    updated_at: null,
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
    expect(text).not.toContain(ISSUED);
    expect(text).not.toContain(`fedcba9876543210`);
  }
}

async function collect(iterable: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const out: ProviderKey[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

describe(`createKey`, () => {
  it(`sends exactly one POST with {name, limit} for a plain cap and returns the secret from top-level key`, async () => {
    const bodies: unknown[] = [];
    const headers: Record<string, string | string[] | undefined>[] = [];
    nock(ORIGIN)
      .post(`${API}/keys`)
      .times(3)
      .reply(function (_uri, body) {
        bodies.push(body);
        headers.push(this.req.headers);
        return [201, {data: wireKey(1, {hash: `newhash`, name: `opencode-1a2b3c4d`, limit: 5, limit_remaining: 5}), key: ISSUED}];
      });

    const created = await openrouter.createKey(makeCtx(), {name: `opencode-1a2b3c4d`, capUsd: 5});

    expect(bodies).toEqual([{name: `opencode-1a2b3c4d`, limit: 5}]);
    expect(headers[0]?.authorization).toBe(`Bearer ${MASTER}`);
    expect(headers[0]?.[`content-type`]).toBe(`application/json`);
    expect(headers[0]?.[`user-agent`]).toBe(`capit/9.9.9-test`);
    expect(created).toMatchObject({id: `newhash`, name: `opencode-1a2b3c4d`, secret: ISSUED, capUsd: 5, remainingUsd: 5, spentUsd: 0, reset: null, disabled: false});
  });

  it(`adds limit_reset and a UTC expires_at without milliseconds only when given`, async () => {
    let body: unknown;
    nock(ORIGIN)
      .post(`${API}/keys`, b => {
        body = b;
        return true;
      })
      .reply(201, {data: wireKey(2, {hash: `h2`, name: `claude-00000000`, limit: 12.5, limit_reset: `monthly`}), key: ISSUED});

    const expiresAt = new Date(`2027-03-04T05:06:07.890+02:00`);
    const created = await openrouter.createKey(makeCtx(), {name: `claude-00000000`, capUsd: 12.5, reset: `monthly`, expiresAt});

    expect(body).toEqual({name: `claude-00000000`, limit: 12.5, limit_reset: `monthly`, expires_at: `2027-03-04T03:06:07Z`});
    expect(created.reset).toBe(`monthly`);
  });

  it(`accepts 200 and falls back to data.key for the secret`, async () => {
    nock(ORIGIN).post(`${API}/keys`).reply(200, {data: {...wireKey(3, {hash: `h3`, name: `x-00000000`, limit: 1}), key: ISSUED}});
    const created = await openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1});
    expect(created.secret).toBe(ISSUED);
    expect(created.id).toBe(`h3`);
  });

  it(`deletes the key it just created when no usable secret comes back, and says so`, async () => {
    let deleted = 0;
    nock(ORIGIN)
      .post(`${API}/keys`).reply(201, {data: wireKey(4, {hash: `orphan`, name: `x-00000000`, limit: 1}), key: `sk-or-v1-abc...1c96`})
      .delete(`${API}/keys/orphan`).reply(() => {
        deleted++;
        return [200, {deleted: true}];
      });

    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));

    expect(deleted).toBe(1);
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(`unknown`);
    expect(err.code).toBe(`CAPIT_PROVIDER_ERROR`);
    expect(err.message).toMatch(/no usable key secret; the new key was deleted again/);
    expect(err.message).toContain(`create key "x-00000000"`);
    expectNoSecret(err);
  });

  it(`names the key id when the cleanup delete fails too`, async () => {
    nock(ORIGIN)
      .post(`${API}/keys`).reply(201, {data: wireKey(5, {hash: `stuck`, name: `x-00000000`, limit: 1})})
      .delete(`${API}/keys/stuck`).reply(500, {error: {code: 500, message: `Internal Server Error`}});

    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/delete key stuck by hand/);
  });

  it(`never retries a failed POST`, async () => {
    let hits = 0;
    nock(ORIGIN).post(`${API}/keys`).times(5).reply(() => {
      hits++;
      return [503, {error: {code: 503, message: `Service Unavailable`}}];
    });
    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(hits).toBe(1);
    expect(err.kind).toBe(`server`);
  });
});

describe(`listKeys`, () => {
  it(`pages by offset over 250 keys, a few pages at a time, and stops after the short page`, async () => {
    const all = Array.from({length: 250}, (_, i) => wireKey(i));
    const offsets: string[] = [];
    nock(ORIGIN)
      .get(`${API}/keys`)
      .query(true)
      .times(10)
      .reply(uri => {
        const url = new URL(uri, ORIGIN);
        expect(url.searchParams.get(`include_disabled`)).toBe(`true`);
        const offset = Number(url.searchParams.get(`offset`));
        offsets.push(String(offset));
        return [200, {data: all.slice(offset, offset + 100)}];
      });

    const keys = await collect(openrouter.listKeys(makeCtx()));

    // Offsets step by the first page's size; pages past the short one may already be in flight, but no more.
    expect(offsets.map(Number).sort((a, b) => a - b)).toEqual([0, 100, 200, 300, 400, 500, 600]);
    expect(keys).toHaveLength(250);
    expect(new Set(keys.map(k => k.id)).size).toBe(250);
    expect(keys[249]?.id).toBe(`hash0249`);
  });

  it(`sends one request when the first page has fewer than 100 keys`, async () => {
    let calls = 0;
    nock(ORIGIN).get(`${API}/keys`).query(true).times(10).reply(() => {
      calls++;
      return [200, {data: [wireKey(1), wireKey(2)]}];
    });
    const keys = await collect(openrouter.listKeys(makeCtx()));
    expect(keys.map(k => k.id)).toEqual([`hash0001`, `hash0002`]);
    expect(calls).toBe(1);
  });

  it(`stops when a page only repeats keys already seen (server ignoring offset)`, async () => {
    let calls = 0;
    nock(ORIGIN).get(`${API}/keys`).query(true).times(10).reply(() => {
      calls++;
      return [200, {data: Array.from({length: 100}, (_, i) => wireKey(i))}];
    });
    const keys = await collect(openrouter.listKeys(makeCtx()));
    expect(keys).toHaveLength(100);
    // The first page plus what was prefetched before the repeat was seen: bounded, not endless.
    expect(calls).toBe(6);
  });

  it(`reports window-correct spend, not lifetime usage`, async () => {
    nock(ORIGIN).get(`${API}/keys`).query({include_disabled: `true`, offset: `0`}).reply(200, {data: [
      wireKey(1, {limit: 10, limit_remaining: 7, limit_reset: null, usage: 50}),
      wireKey(2, {limit: null, limit_remaining: null, limit_reset: `weekly`, usage: 50, usage_weekly: 4.25}),
      wireKey(3, {limit: null, limit_remaining: null, limit_reset: null, usage: 50}),
      wireKey(4, {limit: 10, limit_remaining: 7.3, usage: 2.7, disabled: true, expires_at: `2027-01-01T00:00:00Z`}),
    ]});
    nock(ORIGIN).get(`${API}/keys`).query({include_disabled: `true`, offset: `4`}).reply(200, {data: []});

    const keys = await collect(openrouter.listKeys(makeCtx()));

    expect(keys[0]).toEqual({
      id: `hash0001`, name: `capit-test-1`, spentUsd: 3, capUsd: 10, remainingUsd: 7, reset: null, disabled: false,
      createdAt: `2026-01-01T00:00:00Z`, byokCounted: false, spentTodayUsd: 0,
    });
    expect(keys[1]).toMatchObject({spentUsd: 4.25, capUsd: null, remainingUsd: null, reset: `weekly`});
    expect(keys[2]).toMatchObject({spentUsd: 50, capUsd: null, reset: null});
    expect(keys[3]).toMatchObject({spentUsd: 2.7, disabled: true, expiresAt: `2027-01-01T00:00:00Z`});
  });

  it(`throws the provider error for a failed page`, async () => {
    nock(ORIGIN).get(`${API}/keys`).query(true).reply(401, {error: {code: 401, message: `User not found.`}});
    const err = await rejection(collect(openrouter.listKeys(makeCtx())));
    expect(err.kind).toBe(`bad-master-key`);
    expect(err.message).toBe(`OpenRouter rejected the master key while trying to list keys (401: User not found.)`);
  });

  it(`refuses a listing it cannot read: no data array, or an entry without a hash`, async () => {
    nock(ORIGIN).get(`${API}/keys`).query(true).reply(200, `<html>login</html>`);
    const noArray = await rejection(collect(openrouter.listKeys(makeCtx())));
    expect(noArray).toMatchObject({kind: `unknown`, code: `CAPIT_PROVIDER_ERROR`});
    expect(noArray.message).toBe(`OpenRouter returned an unexpected response while trying to list keys (the key list had no data array but a non-JSON body)`);

    nock(ORIGIN).get(`${API}/keys`).query(true).reply(200, {data: [wireKey(1), {name: `no-hash`}]});
    const noHash = await rejection(collect(openrouter.listKeys(makeCtx())));
    expect(noHash.message).toMatch(/the key list had an entry without a key id \(hash\)/);
  });
});

describe(`updateKey / deleteKey`, () => {
  it(`PATCHes only the given fields and returns the normalised key`, async () => {
    const bodies: unknown[] = [];
    nock(ORIGIN).patch(`${API}/keys/abc`).times(3).reply((_uri, body) => {
      bodies.push(body);
      // The answer shows the change, so no read-back is needed.
      return [200, {data: wireKey(9, {hash: `abc`, limit: 20, limit_remaining: 18, disabled: true, ...(body as object)})}];
    });
    const ctx = makeCtx();

    const updated = await openrouter.updateKey(ctx, `abc`, {capUsd: 20});
    await openrouter.updateKey(ctx, `abc`, {disabled: true});
    await openrouter.updateKey(ctx, `abc`, {capUsd: null, reset: null});

    expect(bodies).toEqual([{limit: 20}, {disabled: true}, {limit: null, limit_reset: null}]);
    expect(updated).toMatchObject({id: `abc`, capUsd: 20, remainingUsd: 18, spentUsd: 2, disabled: true});
  });

  it(`reads the key instead of sending an empty PATCH`, async () => {
    nock(ORIGIN).get(`${API}/keys/abc`).reply(200, {data: wireKey(9, {hash: `abc`})});
    const key = await openrouter.updateKey(makeCtx(), `abc`, {});
    expect(key.id).toBe(`abc`);
  });

  it(`DELETEs /keys/{hash}`, async () => {
    const scope = nock(ORIGIN).delete(`${API}/keys/abc`).matchHeader(`authorization`, `Bearer ${MASTER}`).reply(200, {deleted: true});
    await openrouter.deleteKey(makeCtx(), `abc`);
    expect(scope.isDone()).toBe(true);
  });

  it(`throws not-found for a key that is already gone`, async () => {
    nock(ORIGIN).delete(`${API}/keys/gone`).reply(404, {error: {code: 404, message: `Resource not found`}});
    const err = await rejection(openrouter.deleteKey(makeCtx(), `gone`));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(`not-found`);
    expect(err.code).toBe(`CAPIT_NOT_FOUND`);
    expect(err.message).toBe(`OpenRouter could not delete key gone: not found (404: Resource not found)`);
  });
});

describe(`destructive calls are verified, not taken on a 2xx alone`, () => {
  it.each([
    [`a non-JSON body`, `OK`],
    [`an empty object`, {}],
    [`an unexpected body`, {deleted: false}],
  ])(`DELETE answered 200 with %s and the key still there: a clear error, not success`, async (_what, body) => {
    nock(ORIGIN)
      .delete(`${API}/keys/abc`).reply(200, body as never)
      .get(`${API}/keys/abc`).reply(200, {data: wireKey(9, {hash: `abc`})});
    const err = await rejection(openrouter.deleteKey(makeCtx(), `abc`));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).not.toBe(`not-found`);
    expect(err.message).toMatch(/delete key abc/);
    expect(err.message).toMatch(/but the key still exists/);
  });

  it(`DELETE answered 200 with junk counts as done when a read-back finds no key`, async () => {
    const scope = nock(ORIGIN)
      .delete(`${API}/keys/abc`).reply(200, `<html>ok</html>`)
      .get(`${API}/keys/abc`).reply(404, {error: {code: 404, message: `Resource not found`}});
    await expect(openrouter.deleteKey(makeCtx(), `abc`)).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it(`DELETE answered {"deleted":true} needs no read-back`, async () => {
    const scope = nock(ORIGIN).delete(`${API}/keys/abc`).reply(200, {deleted: true});
    await openrouter.deleteKey(makeCtx(), `abc`);
    expect(scope.isDone()).toBe(true);
  });

  it(`PATCH answered 200 with junk: the key is read back and an unapplied change is an error`, async () => {
    nock(ORIGIN)
      .patch(`${API}/keys/abc`).reply(200, `junk`)
      .get(`${API}/keys/abc`).reply(200, {data: wireKey(9, {hash: `abc`, disabled: false})});
    const err = await rejection(openrouter.updateKey(makeCtx(), `abc`, {disabled: true}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/but the key still has its old value of disabled/);
  });

  it(`PATCH answered 200 with junk: a read-back showing the change is success`, async () => {
    nock(ORIGIN)
      .patch(`${API}/keys/abc`).reply(200, ``)
      .get(`${API}/keys/abc`).reply(200, {data: wireKey(9, {hash: `abc`, disabled: true})});
    const key = await openrouter.updateKey(makeCtx(), `abc`, {disabled: true});
    expect(key.disabled).toBe(true);
  });

  it.each([
    [`another name`, {name: `someone-else`}],
    [`another limit`, {limit: 500}],
    [`BYOK not counted though asked`, {include_byok_in_limit: false}],
  ])(`a create answer describing %s throws (core then settles the key by name)`, async (_what, extra) => {
    nock(ORIGIN).post(`${API}/keys`).reply(201, {data: wireKey(1, {hash: `h1`, name: `x-00000000`, limit: 1, ...extra}), key: ISSUED});
    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1, countByok: true}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/describes a different key/);
    expectNoSecret(err);
  });

  it(`a create answer that is not JSON throws`, async () => {
    nock(ORIGIN).post(`${API}/keys`).reply(201, `<html>created</html>`);
    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.message).toMatch(/no key id/);
    // Core looks the key up by name and says what it found; the plugin gives no advice that could contradict it.
    expect(err.message).not.toMatch(/check https|delete it/);
  });
});

describe(`BYOK`, () => {
  it(`declares per-key BYOK and sends include_byok_in_limit as core asks`, async () => {
    expect(openrouter.byok).toBe(`optional`);
    const bodies: unknown[] = [];
    nock(ORIGIN).post(`${API}/keys`).times(2).reply((_uri, body) => {
      bodies.push(body);
      const b = body as {include_byok_in_limit: boolean};
      return [201, {data: wireKey(1, {hash: `h1`, name: `x-00000000`, limit: 1, include_byok_in_limit: b.include_byok_in_limit}), key: ISSUED}];
    });
    const counted = await openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1, countByok: true});
    await openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1, countByok: false});
    expect(bodies).toEqual([{name: `x-00000000`, limit: 1, include_byok_in_limit: true}, {name: `x-00000000`, limit: 1, include_byok_in_limit: false}]);
    expect(counted.byokCounted).toBe(true);
  });

  it(`reports BYOK spend in the key's window`, async () => {
    const page = [
      wireKey(1, {byok_usage: 9, byok_usage_monthly: 1.5, limit_reset: `monthly`, include_byok_in_limit: true}),
      wireKey(2, {byok_usage: 2.25}),
    ];
    nock(ORIGIN).get(`${API}/keys`).query(true).times(10)
      .reply(uri => [200, {data: new URL(uri, ORIGIN).searchParams.get(`offset`) === `0` ? page : []}]);
    const keys = await collect(openrouter.listKeys(makeCtx()));
    expect(keys[0]).toMatchObject({byokSpentUsd: 1.5, byokCounted: true});
    expect(keys[1]).toMatchObject({byokSpentUsd: 2.25, byokCounted: false});
  });
});

describe(`master key`, () => {
  it(`validates a management key with GET /key`, async () => {
    const scope = nock(ORIGIN).get(`${API}/key`).matchHeader(`authorization`, `Bearer ${MASTER}`)
      .reply(200, {data: {label: `sk-or-v1-mgm...0000`, is_management_key: true, limit: null}});
    await expect(openrouter.masterKey.validate(makeCtx())).resolves.toBeUndefined();
    expect(scope.isDone()).toBe(true);
  });

  it(`rejects an inference key as not-master-key`, async () => {
    nock(ORIGIN).get(`${API}/key`).reply(200, {data: {label: `sk-or-v1-inf...0000`, is_management_key: false}});
    const err = await rejection(openrouter.masterKey.validate(makeCtx()));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(`not-master-key`);
    expect(err.code).toBe(`CAPIT_NOT_MASTER_KEY`);
    expect(err.message).toMatch(/^The key given for OpenRouter is not a management key \(Only management keys can manage keys; this one reports is_management_key: false\)$/);
    expect(err.hint).toContain(`https://openrouter.ai/settings/management-keys`);
    expectNoSecret(err);
  });

  it(`refuses a /key answer without a key object`, async () => {
    nock(ORIGIN).get(`${API}/key`).reply(200, {});
    const err = await rejection(openrouter.masterKey.validate(makeCtx()));
    expect(err).toMatchObject({kind: `unknown`, status: undefined});
    expect(err.message).toBe(`OpenRouter returned an unexpected response while trying to check the master key (the response had no key object (data) but an unexpected body)`);
  });

  it(`refuses an update whose read-back has no key object`, async () => {
    nock(ORIGIN).patch(`${API}/keys/abc`).reply(200, ``).get(`${API}/keys/abc`).reply(200, {data: null});
    const err = await rejection(openrouter.updateKey(makeCtx(), `abc`, {disabled: true}));
    expect(err.message).toMatch(/update key abc \(the response had no key object \(data\.hash\) but an unexpected body\)$/);
  });

  it(`rejects a revoked key as bad-master-key`, async () => {
    nock(ORIGIN).get(`${API}/key`).reply(401, {error: {code: 401, message: `User not found.`}});
    const err = await rejection(openrouter.masterKey.validate(makeCtx()));
    expect(err.kind).toBe(`bad-master-key`);
  });

  it(`checks the shape without echoing the value`, () => {
    const {checkShape} = openrouter.masterKey;
    expect(checkShape?.(MASTER)).toBeUndefined();
    expect(checkShape?.(`sk-ant-fake-000000000000`)).toMatch(/sk-or-/);
    expect(checkShape?.(`sk-or-v1-fake 000`)).toMatch(/whitespace/);
    expect(checkShape?.(`${MASTER}\n`)).toMatch(/whitespace/);
    expect(checkShape?.(`sk-ant-fake-000000000000`)).not.toContain(`sk-ant`);
  });
});

describe(`platform facts`, () => {
  it(`derives inference bases from the management base`, () => {
    expect(openrouter.inferenceBaseUrls(`https://openrouter.ai/api/v1`)).toEqual({openai: `https://openrouter.ai/api/v1`, anthropic: `https://openrouter.ai/api`});
    expect(openrouter.inferenceBaseUrls(`http://127.0.0.1:4321/api/v1/`)).toEqual({openai: `http://127.0.0.1:4321/api/v1`, anthropic: `http://127.0.0.1:4321/api`});
  });

  it(`declares its base URL override, master key env and limits`, () => {
    expect(openrouter.baseUrl).toEqual({default: `https://openrouter.ai/api/v1`, env: `CAPIT_OPENROUTER_BASE_URL`});
    expect(openrouter.masterKey.env).toEqual([`OPENROUTER_MANAGEMENT_KEY`]);
    expect(openrouter.id).toBe(`openrouter`);
    expect(openrouter.kind).toBe(`platform`);
    expect(openrouter.maxNameLength).toBeGreaterThanOrEqual(30);
  });

  it(`formats expiry as UTC without milliseconds`, () => {
    expect(formatExpiry(new Date(Date.UTC(2027, 11, 31, 23, 59, 59, 999)))).toBe(`2027-12-31T23:59:59Z`);
  });

  it(`uses CAPIT_OPENROUTER_BASE_URL-style bases for every URL (trailing slash stripped)`, async () => {
    const scope = nock(`http://emulator.test:8080`).delete(`/api/v1/keys/k1`).reply(200, {deleted: true});
    await openrouter.deleteKey(makeCtx(`http://emulator.test:8080/api/v1/`), `k1`);
    expect(scope.isDone()).toBe(true);
  });
});

describe(`error mapping`, () => {
  const cases: {name: string; status: number; body: unknown; headers?: Record<string, string>; kind: string; code: string; message: string}[] = [
    {
      name: `401 User not found`, status: 401, body: {error: {code: 401, message: `User not found.`}},
      kind: `bad-master-key`, code: `CAPIT_BAD_MASTER_KEY`,
      message: `OpenRouter rejected the master key while trying to create key "x-00000000" (401: User not found.)`,
    },
    {
      name: `403 only management keys`, status: 403, body: {error: {code: 403, message: `Only management keys can perform this operation`}},
      kind: `not-master-key`, code: `CAPIT_NOT_MASTER_KEY`,
      message: `The key given for OpenRouter is not a management key (403: Only management keys can perform this operation)`,
    },
    {
      name: `429 with Retry-After`, status: 429, body: {error: {code: 429, message: `Rate limit exceeded`}}, headers: {'Retry-After': `30`},
      kind: `rate-limited`, code: `CAPIT_RATE_LIMITED`,
      message: `OpenRouter is rate limiting requests (429) — retry after 30s`,
    },
    {
      name: `500`, status: 500, body: {error: {code: 500, message: `Internal Server Error`}},
      kind: `server`, code: `CAPIT_PROVIDER_DOWN`,
      message: `OpenRouter is having problems (HTTP 500: Internal Server Error); try again later`,
    },
    {
      name: `502 HTML from a proxy`, status: 502, body: `<html><body><h1>502 Bad Gateway</h1>\n</body></html>`,
      kind: `server`, code: `CAPIT_PROVIDER_DOWN`,
      message: `OpenRouter is having problems (HTTP 502: 502 Bad Gateway); try again later`,
    },
    {
      name: `403 key limit exceeded`, status: 403,
      body: {error: {message: `Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys`, code: 403}},
      kind: `cap-reached`, code: `CAPIT_CAP_REACHED`,
      message: `OpenRouter refused to create key "x-00000000": the key's spending cap is used up (403: Key limit exceeded (monthly limit). Manage it using https://openrouter.ai/settings/keys)`,
    },
    {
      name: `402 can only afford`, status: 402,
      body: {error: {code: 402, message: `This request requires more credits, or fewer max_tokens. You requested up to 32000 tokens, but can only afford 0.`}},
      kind: `cap-reached`, code: `CAPIT_CAP_REACHED`,
      message: `OpenRouter refused to create key "x-00000000": the key's spending cap is used up (402: This request requires more credits, or fewer max_tokens. You requested up to 32000 tokens, but can only afford 0.)`,
    },
    {
      name: `402 insufficient credits`, status: 402, body: {error: {code: 402, message: `Insufficient credits. Add more using https://openrouter.ai/credits`}},
      kind: `insufficient-credits`, code: `CAPIT_NO_CREDITS`,
      message: `OpenRouter refused to create key "x-00000000": the account is out of credits (402: Insufficient credits. Add more using https://openrouter.ai/credits)`,
    },
    {
      name: `400 with a string code`, status: 400, body: {error: {code: `invalid_request`, message: `Invalid request parameters`}},
      kind: `bad-request`, code: `CAPIT_PROVIDER_REJECTED`,
      message: `OpenRouter rejected the request to create key "x-00000000" (400: Invalid request parameters)`,
    },
    {
      name: `418 unknown`, status: 418, body: ``,
      kind: `unknown`, code: `CAPIT_PROVIDER_ERROR`,
      message: `OpenRouter returned an unexpected response while trying to create key "x-00000000" (HTTP 418)`,
    },
  ];

  it.each(cases)(`$name → $kind`, async c => {
    nock(ORIGIN).post(`${API}/keys`).reply(c.status, c.body as nock.Body, c.headers);
    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));

    expect(err).toBeInstanceOf(ProviderError);
    expect(err.kind).toBe(c.kind);
    expect(err.code).toBe(c.code);
    expect(err.status).toBe(c.status);
    expect(err.message).toBe(c.message);
    expect(err.message).not.toMatch(/\n/);
    expectNoSecret(err);
  });

  it(`hints where to fix a bad master key without showing it`, async () => {
    nock(ORIGIN).get(`${API}/keys`).query(true).reply(401, {error: {code: 401, message: `No auth credentials found`}});
    const err = await rejection(collect(openrouter.listKeys(makeCtx())));
    expect(err.hint).toBe(
      `Check OPENROUTER_MANAGEMENT_KEY or the stored key (capit platforms add openrouter); create a management key at https://openrouter.ai/settings/management-keys`,
    );
  });

  it(`redacts a key the provider echoes back`, async () => {
    nock(ORIGIN).get(`${API}/key`).reply(401, {error: {code: 401, message: `Invalid key ${MASTER} (also saw ${ISSUED})`}});
    const err = await rejection(openrouter.masterKey.validate(makeCtx()));
    expect(err.message).toContain(`sk-or-v1-…cdef`);
    expect(err.message).toContain(`sk-or-v1-…3210`);
    expectNoSecret(err);
  });

  it(`turns a connection failure into a one-line NetworkError`, async () => {
    nock(ORIGIN).post(`${API}/keys`).replyWithError(Object.assign(new Error(`connect ECONNREFUSED 104.18.0.1:443`), {code: `ECONNREFUSED`}));
    const err = await rejection(openrouter.createKey(makeCtx(), {name: `x-00000000`, capUsd: 1}));

    expect(err).toBeInstanceOf(NetworkError);
    expect(err.code).toBe(`CAPIT_OFFLINE`);
    expect(err.message).toBe(`could not reach openrouter.ai (connection refused); nothing was sent`);
    expect(err.requestSent).toBe(false);
    expectNoSecret(err);
  });

  it(`words DNS failures`, async () => {
    nock(ORIGIN).get(`${API}/keys`).query(true).replyWithError(Object.assign(new Error(`getaddrinfo ENOTFOUND openrouter.ai`), {code: `ENOTFOUND`}));
    const err = await rejection(collect(openrouter.listKeys(makeCtx())));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toBe(`could not reach openrouter.ai (DNS lookup failed — are you offline?); nothing was sent`);
    expect(err.requestSent).toBe(false);
  });

  it(`a Retry-After given as an HTTP date is read by core when it words the 429`, () => {
    const when = new Date(Date.now() + 120_000).toUTCString();
    const res = {status: 429, headers: new Headers({'retry-after': when}), body: {error: {code: 429, message: `Rate limit exceeded`}}};
    expect(classifyError(res, wireReaders).kind).toBe(`rate-limited`);
    let error: unknown;
    try {
      makeCtx().http.fail(res, `list keys`);
    } catch (e) {
      error = e;
    }
    expect((error as Error).message).toMatch(/^OpenRouter is rate limiting requests \(429\) — retry after 1(1[5-9]|2[01])s$/);
  });
});

// Issue 14, slice B5: model prices for the headroom preflight, from the public `GET /models`.
describe(`modelPrice`, () => {
  const models = {data: [
    {id: `anthropic/claude-sonnet-4.5`, canonical_slug: `anthropic/claude-4.5-sonnet-20250929`, pricing: {prompt: `0.000003`, completion: `0.000015`}, top_provider: {max_completion_tokens: 64000}},
    {id: `openrouter/auto`, pricing: {prompt: `-1`, completion: `-1`}, top_provider: {max_completion_tokens: null}},
    {id: `example/no-max`, pricing: {prompt: `0.000001`, completion: `0.000002`}, top_provider: {}},
  ]};

  it(`reads USD per token and the maximum output, by id or canonical slug, without sending the master key`, async () => {
    let auth: string | undefined;
    nock(ORIGIN).get(`${API}/models`).times(2).reply(function () {
      auth = this.req.headers.authorization as string | undefined;
      return [200, models];
    });
    const ctx = makeCtx();
    expect(await openrouter.modelPrice(ctx, `anthropic/claude-sonnet-4.5`)).toEqual({promptUsdPerToken: 0.000003, completionUsdPerToken: 0.000015, maxCompletionTokens: 64000});
    expect(await openrouter.modelPrice(ctx, `Anthropic/Claude-4.5-Sonnet-20250929`)).toMatchObject({completionUsdPerToken: 0.000015});
    expect(auth).toBeUndefined();
  });

  it(`answers undefined for an unlisted model and a variable-priced router; no maximum when none is listed`, async () => {
    nock(ORIGIN).get(`${API}/models`).times(3).reply(200, models);
    const ctx = makeCtx();
    expect(await openrouter.modelPrice(ctx, `example/unlisted`)).toBeUndefined();
    expect(await openrouter.modelPrice(ctx, `openrouter/auto`)).toBeUndefined();
    expect(await openrouter.modelPrice(ctx, `example/no-max`)).toEqual({promptUsdPerToken: 0.000001, completionUsdPerToken: 0.000002});
  });

  it(`fails clearly on a body without a data array`, async () => {
    nock(ORIGIN).get(`${API}/models`).reply(200, `<html>proxy</html>`);
    await expect(openrouter.modelPrice(makeCtx(), `anthropic/claude-sonnet-4.5`)).rejects.toThrow(/model list had no data array/);
  });
});

// slice W2 (`capit report`)
describe(`activity`, () => {
  it(`asks for one key's rows by api_key_hash and sums the endpoints of one day and model`, async () => {
    let auth: string | undefined;
    nock(ORIGIN).get(`${API}/activity`).query({api_key_hash: `hash0001`}).reply(function () {
      auth = this.req.headers.authorization as string | undefined;
      return [200, {data: [
        {date: `2026-11-28`, model: `openai/gpt-5`, endpoint_id: `e1`, usage: 0.1, byok_usage_inference: 0, requests: 2, prompt_tokens: 10, completion_tokens: 5, reasoning_tokens: 0},
        {date: `2026-11-28`, model: `openai/gpt-5`, endpoint_id: `e2`, usage: 0.2, byok_usage_inference: 0.05, requests: 1, prompt_tokens: 4, completion_tokens: 3, reasoning_tokens: 0},
        {date: `2026-11-29`, model: `openai/gpt-5`, endpoint_id: `e1`, usage: `0.5`, byok_usage_inference: 0, requests: 3, prompt_tokens: 1, completion_tokens: 1, reasoning_tokens: 0},
      ]}];
    });
    const rows = await openrouter.activity(makeCtx(), {days: 30, keyId: `hash0001`});
    expect(auth).toMatch(/^Bearer sk-or-/);
    expect(rows).toEqual([
      {date: `2026-11-28`, model: `openai/gpt-5`, keyId: `hash0001`, usageUsd: 0.3, byokUsageUsd: 0.05, requests: 3, promptTokens: 14, completionTokens: 8},
      {date: `2026-11-29`, model: `openai/gpt-5`, keyId: `hash0001`, usageUsd: 0.5, byokUsageUsd: 0, requests: 3, promptTokens: 1, completionTokens: 1},
    ]);
  });

  it(`fails clearly on a body without a data array or a row without a date`, async () => {
    nock(ORIGIN).get(`${API}/activity`).reply(200, `<html>proxy</html>`);
    await expect(openrouter.activity(makeCtx(), {days: 30})).rejects.toThrow(/activity had no data array/);
    nock(ORIGIN).get(`${API}/activity`).reply(200, {data: [{model: `x`, usage: 1}]});
    await expect(openrouter.activity(makeCtx(), {days: 30})).rejects.toThrow(/row without a date or model/);
  });
});
