// The platform half of `capit/testing`: one vitest suite every platform plugin must pass against a fake provider.
// It drives the plugin exactly as core does (core's real HTTP client, the PlatformContext core builds) and checks
// what core relies on: create → list → update → delete, and that every failure becomes the right capit error code
// with no secret in it.
//
// vitest is imported statically: this module is only ever loaded by a test runner. Plugin authors add vitest
// (~4.1) to their own devDependencies; the CLI never imports `capit/testing`.

import {randomBytes}                                     from 'node:crypto';
import {createServer, type AddressInfo}                  from 'node:net';
import {afterEach, beforeEach, describe, expect, it}     from 'vitest';
import type {CoreHttpClient}                             from '../http/client.js';
import {createPlatformContext}                          from '../platforms/platform-context.js';
import type {CreatedKey, PlatformContext, PlatformDefinition, ProviderKey, ResetWindow} from '../plugin.js';

/**
 * A failure the fake must inject into the NEXT request the plugin sends to it (whatever its method and path), once.
 * - `{status, retryAfterSeconds?, message?}`: answer that HTTP status. Shape the body the way the real provider does
 *   (e.g. `{"error":{"code","message"}}` for OpenRouter, `{"success":false,"message"}` for one-api) and, when
 *   `message` is given, put it in the body verbatim (the kit uses it to plant secrets the plugin must not leak).
 *   With `retryAfterSeconds`, send it as the `Retry-After` header.
 * - `'network'`: drop the connection without answering (a reset socket, a nock `replyWithError({code:'ECONNRESET'})`).
 */
export type FakeFailure = {status: number; retryAfterSeconds?: number; message?: string} | 'network';

/** Options for {@link PlatformFakeSession.seed}. */
export interface FakeSeedOptions {
  /** Key names are `${prefix}-${i}` for i = 0…count−1. */
  prefix: string;
  /** Lifetime cap of every seeded key, in USD. */
  capUsd: number;
}

/**
 * A fresh, empty provider account for one test, as returned by {@link PlatformFake.start}. Everything it does happens
 * "behind the provider's back" (direct state changes in an emulator, or the in-memory store behind nock interceptors):
 * the plugin under test only ever sees it through HTTP. Methods may be sync or async.
 */
export interface PlatformFakeSession {
  /** The management base URL, as core would pass it in `ctx.baseUrl` (i.e. what the `baseUrl.env` override would hold). */
  baseUrl: string;
  /** A master key the fake accepts. */
  masterKey: string;
  /** A syntactically plausible master key the fake rejects the way the provider rejects a revoked/unknown key. */
  wrongMasterKey: string;
  /** Creates `count` keys (no spend, enabled, lifetime cap) directly in the fake. Used for paging past 100+ keys. */
  seed(count: number, options: FakeSeedOptions): void | Promise<void>;
  /** Records `usd` of spend on key `id` in the current window, as inference through that key would. */
  spend(id: string, usd: number): void | Promise<void>;
  /**
   * Optional: records `usd` spent in an EARLIER reset window of a key that has a reset window (it counts in the
   * key's lifetime usage but not in the current window). When present, the kit checks that listed spend is
   * window-correct. Omit it for providers without reset windows.
   */
  spendInEarlierWindow?(id: string, usd: number): void | Promise<void>;
  /** Makes the next request fail once, see {@link FakeFailure}. */
  failNext(failure: FakeFailure): void | Promise<void>;
}

/**
 * A fake provider for {@link describePlatformConformance}. `start` runs before each test and must return a fresh,
 * empty account; `stop` runs after each test and releases everything (close the server, `nock.cleanAll()`).
 *
 * Backed by the built-in loopback emulator for capit's own platforms; a third-party author can implement it with
 * nock (keep the keys in a Map inside the interceptors' reply functions, and make `failNext` set a flag the next
 * reply consults) or with their own HTTP server. The kit talks to it only through the plugin and core's HTTP client,
 * which uses the global `fetch` (so nock 14 intercepts it).
 */
export interface PlatformFake {
  start(): Promise<PlatformFakeSession>;
  stop(): Promise<void>;
}

export interface PlatformConformanceOptions {
  /** Suite title. Default `platform "<id>" conformance`. */
  title?: string;
  /**
   * What the provider answers when one of its own issued (inference) keys is used as the master key:
   * `'not-master-key'` (default; OpenRouter's 403 "Only management keys…"), `'bad-master-key'` for providers that
   * cannot tell it from a wrong key (one-api/AIHubMix), or `false` to skip that check.
   */
  issuedKeyAsMasterKey?: 'not-master-key' | 'bad-master-key' | false;
  /** Keys seeded for the paging check (default 230, i.e. past two pages of 100). */
  pagingKeyCount?: number;
}

/** One conformance check, runnable on its own (e.g. to prove a deliberately broken plugin fails it). */
export interface PlatformCheck {
  name: string;
  run(session: PlatformFakeSession): Promise<void>;
}

const USD = 6; // decimal places compared by toBeCloseTo

function randomName(prefix: string, maxLength: number | undefined): string {
  const name = `${prefix}-${randomBytes(4).toString(`hex`)}`;
  return maxLength !== undefined && name.length > maxLength ? name.slice(name.length - maxLength) : name;
}

/** `{code, message, hint}` of a rejection, or a failed assertion when the promise resolved. */
async function rejectionOf(promise: Promise<unknown>): Promise<{code?: unknown; message: string; hint?: unknown; name?: unknown}> {
  try {
    await promise;
  } catch (err) {
    return err as {code?: unknown; message: string; hint?: unknown};
  }
  expect.fail(`expected the call to fail, but it succeeded`);
}

/** A loopback port nothing listens on (it was free a moment ago). */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

async function collect(iterable: AsyncIterable<ProviderKey>): Promise<ProviderKey[]> {
  const out: ProviderKey[] = [];
  for await (const key of iterable) out.push(key);
  return out;
}

/** The checks of {@link describePlatformConformance}, for running one by one. */
export function platformConformanceChecks(def: PlatformDefinition, options: PlatformConformanceOptions = {}): PlatformCheck[] {
  const pagingKeyCount = options.pagingKeyCount ?? 230;
  const issuedAsMaster = options.issuedKeyAsMasterKey ?? `not-master-key`;
  const maxName = def.maxNameLength;

  /** Builds what core would: its HTTP client (no retries, so injected failures surface), the master key redacted. */
  function harness(session: PlatformFakeSession) {
    const clients: CoreHttpClient[] = [];
    /** Every secret seen in this check: none may ever appear in an error. */
    const secrets = new Set<string>([session.masterKey, session.wrongMasterKey]);
    function ctx(overrides: {masterKey?: string; baseUrl?: string} = {}): PlatformContext {
      const masterKey = overrides.masterKey ?? session.masterKey;
      const pctx = createPlatformContext(def, {
        masterKey,
        baseUrl: overrides.baseUrl ?? session.baseUrl,
        http: {retry: {maxRetries: 0}, timeouts: {connectMs: 5_000, headersMs: 15_000, bodyMs: 15_000}, version: `0.0.0-conformance`},
      });
      clients.push(pctx.http);
      return pctx;
    }
    async function create(c: PlatformContext, req: Parameters<PlatformDefinition[`createKey`]>[1]): Promise<CreatedKey> {
      const created = await def.createKey(c, req);
      secrets.add(created.secret);
      return created;
    }
    async function find(c: PlatformContext, id: string): Promise<ProviderKey | undefined> {
      return (await collect(def.listKeys(c))).find(k => k.id === id);
    }
    /** The rejection must carry `code` and say nothing secret, in its message or its hint. */
    async function expectCode(promise: Promise<unknown>, code: string | RegExp, what: string) {
      const err = await rejectionOf(promise);
      const text = `${String(err.message)}\n${typeof err.hint === `string` ? err.hint : ``}`;
      if (typeof code === `string`) expect(err.code, `${what}: ${err.message}`).toBe(code);
      else expect(String(err.code), `${what}: ${err.message}`).toMatch(code);
      for (const secret of secrets) expect(text, `${what}: the error shows a secret`).not.toContain(secret);
      return err;
    }
    async function close() {
      await Promise.all(clients.map(c => c.close()));
    }
    return {ctx, create, find, expectCode, close, secrets};
  }

  function check(name: string, body: (h: ReturnType<typeof harness>, session: PlatformFakeSession) => Promise<void>): PlatformCheck {
    return {
      name,
      async run(session) {
        const h = harness(session);
        try {
          await body(h, session);
        } finally {
          await h.close();
        }
      },
    };
  }

  const checks: PlatformCheck[] = [
    check(`validates a working master key`, async h => {
      await expect(def.masterKey.validate(h.ctx())).resolves.toBeUndefined();
    }),

    check(`creates a capped key with the requested name and cap, and lists it without its secret`, async (h, session) => {
      const ctx = h.ctx();
      const name = randomName(`conf`, maxName);
      const created = await h.create(ctx, {name, capUsd: 1.25});

      expect(typeof created.secret).toBe(`string`);
      expect(created.secret.length).toBeGreaterThanOrEqual(16);
      expect(created.secret, `the secret looks masked`).not.toMatch(/[*…]|\.\.\.|\s/);
      expect(created.secret).not.toBe(session.masterKey);
      expect(created.id).toEqual(expect.any(String));
      expect(created.id).not.toBe(``);
      expect(created).toMatchObject({name, spentUsd: 0, disabled: false, reset: null});
      expect(created.capUsd).toBeCloseTo(1.25, USD);
      expect(created.remainingUsd).toBeCloseTo(1.25, USD);

      const all = await collect(def.listKeys(ctx));
      const listed = all.filter(k => k.id === created.id);
      expect(listed, `the new key is listed exactly once`).toHaveLength(1);
      expect(listed[0]).toMatchObject({name, spentUsd: 0, disabled: false, reset: null});
      expect(listed[0]?.capUsd).toBeCloseTo(1.25, USD);
      expect(listed[0]?.remainingUsd).toBeCloseTo(1.25, USD);
      expect(JSON.stringify(all), `a listed key carries the secret`).not.toContain(created.secret);
    }),

    ...(maxName === undefined ? [] : [
      check(`accepts a name of exactly maxNameLength (${maxName}) characters`, async h => {
        const ctx = h.ctx();
        const name = `conf-${`x`.repeat(Math.max(0, maxName - 14))}-${randomBytes(4).toString(`hex`)}`.slice(-maxName);
        expect(name).toHaveLength(maxName);
        const created = await h.create(ctx, {name, capUsd: 1});
        expect((await h.find(ctx, created.id))?.name).toBe(name);
      }),
    ]),

    check(`honours an expiry (to the second) and reports none as null`, async h => {
      const ctx = h.ctx();
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + 30 * 86_400) * 1000);
      const withExpiry = await h.create(ctx, {name: randomName(`conf-exp`, maxName), capUsd: 1, expiresAt});
      const without = await h.create(ctx, {name: randomName(`conf-noexp`, maxName), capUsd: 1});
      const listed = await h.find(ctx, withExpiry.id);
      expect(typeof listed?.expiresAt, `listed expiresAt`).toBe(`string`);
      expect(Math.abs(Date.parse(listed?.expiresAt ?? ``) - expiresAt.getTime())).toBeLessThanOrEqual(1000);
      expect((await h.find(ctx, without.id))?.expiresAt ?? null).toBeNull();
    }),

    check(`honours a reset window, or refuses it before creating any key`, async h => {
      const ctx = h.ctx();
      const name = randomName(`conf-reset`, maxName);
      const reset: ResetWindow = `monthly`;
      let created: CreatedKey | undefined;
      let refusal: unknown;
      try {
        created = await h.create(ctx, {name, capUsd: 3, reset});
      } catch (err) {
        refusal = err;
      }
      if (created) {
        expect(created.reset).toBe(reset);
        expect((await h.find(ctx, created.id))?.reset).toBe(reset);
      } else {
        await h.expectCode(Promise.reject(refusal), /^CAPIT_(?!OFFLINE)/, `refusing a reset window`);
        const all = await collect(def.listKeys(ctx));
        expect(all.filter(k => k.name === name), `a refused reset window still created a key`).toEqual([]);
      }
    }),

    check(`lists every key across pages, each exactly once`, async (h, session) => {
      const ctx = h.ctx();
      await session.seed(pagingKeyCount, {prefix: `page`, capUsd: 2});
      const created = await h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1});
      const all = await collect(def.listKeys(ctx));
      const ids = all.map(k => k.id);
      expect(new Set(ids).size, `duplicate ids in the listing`).toBe(ids.length);
      expect(ids).toHaveLength(pagingKeyCount + 1);
      expect(ids).toContain(created.id);
      const seeded = all.filter(k => k.name.startsWith(`page-`));
      expect(seeded).toHaveLength(pagingKeyCount);
      for (const key of seeded) expect(key.capUsd).toBeCloseTo(2, USD);
    }),

    check(`reports the spend of the current window, the cap and what remains`, async (h, session) => {
      const ctx = h.ctx();
      const created = await h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 10});
      await session.spend(created.id, 2.5);
      const listed = await h.find(ctx, created.id);
      expect(listed?.spentUsd).toBeCloseTo(2.5, USD);
      expect(listed?.capUsd).toBeCloseTo(10, USD);
      expect(listed?.remainingUsd).toBeCloseTo(7.5, USD);

      if (session.spendInEarlierWindow) {
        let windowed: CreatedKey | undefined;
        try {
          windowed = await h.create(ctx, {name: randomName(`conf-win`, maxName), capUsd: 10, reset: `monthly`});
        } catch {
          return; // the platform refuses reset windows (checked above)
        }
        await session.spendInEarlierWindow(windowed.id, 4);
        await session.spend(windowed.id, 1);
        const key = await h.find(ctx, windowed.id);
        expect(key?.spentUsd, `spend must be the current window's, not lifetime usage`).toBeCloseTo(1, USD);
        expect(key?.remainingUsd).toBeCloseTo(9, USD);
      }
    }),

    check(`disables and re-enables a key, keeping its name and cap`, async h => {
      const ctx = h.ctx();
      const name = randomName(`conf`, maxName);
      const created = await h.create(ctx, {name, capUsd: 4});
      const off = await def.updateKey(ctx, created.id, {disabled: true});
      expect(off).toMatchObject({id: created.id, disabled: true});
      expect(await h.find(ctx, created.id)).toMatchObject({name, disabled: true});
      const on = await def.updateKey(ctx, created.id, {disabled: false});
      expect(on).toMatchObject({id: created.id, disabled: false});
      const listed = await h.find(ctx, created.id);
      expect(listed).toMatchObject({name, disabled: false});
      expect(listed?.capUsd).toBeCloseTo(4, USD);
    }),

    check(`changes the cap, keeping spend, name and expiry`, async (h, session) => {
      const ctx = h.ctx();
      const name = randomName(`conf`, maxName);
      const expiresAt = new Date((Math.floor(Date.now() / 1000) + 7 * 86_400) * 1000);
      const created = await h.create(ctx, {name, capUsd: 5, expiresAt});
      await session.spend(created.id, 1);
      const updated = await def.updateKey(ctx, created.id, {capUsd: 20});
      expect(updated.id).toBe(created.id);
      expect(updated.capUsd).toBeCloseTo(20, USD);
      expect(updated.remainingUsd).toBeCloseTo(19, USD);
      expect(updated.spentUsd).toBeCloseTo(1, USD);
      const listed = await h.find(ctx, created.id);
      expect(listed).toMatchObject({name, disabled: false});
      expect(listed?.capUsd).toBeCloseTo(20, USD);
      expect(listed?.spentUsd).toBeCloseTo(1, USD);
      expect(Math.abs(Date.parse(listed?.expiresAt ?? ``) - expiresAt.getTime()), `the update lost the expiry`).toBeLessThanOrEqual(1000);
    }),

    check(`deletes a key; a deleted key is not-found for delete and update`, async h => {
      const ctx = h.ctx();
      const keep = await h.create(ctx, {name: randomName(`conf-keep`, maxName), capUsd: 1});
      const gone = await h.create(ctx, {name: randomName(`conf-gone`, maxName), capUsd: 1});
      await def.deleteKey(ctx, gone.id);
      const ids = (await collect(def.listKeys(ctx))).map(k => k.id);
      expect(ids).toContain(keep.id);
      expect(ids).not.toContain(gone.id);
      await h.expectCode(def.deleteKey(ctx, gone.id), `CAPIT_NOT_FOUND`, `deleting a deleted key`);
      await h.expectCode(def.updateKey(ctx, gone.id, {disabled: true}), `CAPIT_NOT_FOUND`, `updating a deleted key`);
    }),

    check(`a wrong master key is CAPIT_BAD_MASTER_KEY for every operation, and creates nothing`, async (h, session) => {
      const good = h.ctx();
      const existing = await h.create(good, {name: randomName(`conf`, maxName), capUsd: 1});
      const bad = h.ctx({masterKey: session.wrongMasterKey});
      const code = `CAPIT_BAD_MASTER_KEY`;
      await h.expectCode(def.masterKey.validate(bad), code, `validate`);
      await h.expectCode(h.create(bad, {name: randomName(`conf-bad`, maxName), capUsd: 1}), code, `createKey`);
      await h.expectCode(collect(def.listKeys(bad)), code, `listKeys`);
      await h.expectCode(def.updateKey(bad, existing.id, {disabled: true}), code, `updateKey`);
      await h.expectCode(def.deleteKey(bad, existing.id), code, `deleteKey`);
      const all = await collect(def.listKeys(good));
      expect(all.map(k => k.id)).toEqual([existing.id]);
      expect(all[0]?.disabled).toBe(false);
    }),

    ...(issuedAsMaster === false ? [] : [
      check(`an issued key used as the master key is refused (${issuedAsMaster})`, async h => {
        const created = await h.create(h.ctx(), {name: randomName(`conf`, maxName), capUsd: 1});
        const asMaster = h.ctx({masterKey: created.secret});
        const code = issuedAsMaster === `not-master-key` ? `CAPIT_NOT_MASTER_KEY` : `CAPIT_BAD_MASTER_KEY`;
        await h.expectCode(def.masterKey.validate(asMaster), code, `validate with an issued key`);
        await h.expectCode(collect(def.listKeys(asMaster)), code, `listKeys with an issued key`);
      }),
    ]),

    check(`rate limiting is CAPIT_RATE_LIMITED and passes Retry-After on`, async (h, session) => {
      const ctx = h.ctx();
      await session.failNext({status: 429, retryAfterSeconds: 7});
      const onCreate = await h.expectCode(h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1}), `CAPIT_RATE_LIMITED`, `createKey`);
      expect(onCreate.message).toMatch(/retry after 7s/);
      await session.failNext({status: 429});
      await h.expectCode(collect(def.listKeys(ctx)), `CAPIT_RATE_LIMITED`, `listKeys`);
      expect(await collect(def.listKeys(ctx)), `a rate-limited create made a key`).toEqual([]);
    }),

    check(`server errors are CAPIT_PROVIDER_DOWN for every operation`, async (h, session) => {
      const ctx = h.ctx();
      const existing = await h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1});
      const code = `CAPIT_PROVIDER_DOWN`;
      await session.failNext({status: 500});
      await h.expectCode(def.masterKey.validate(ctx), code, `validate`);
      await session.failNext({status: 502});
      await h.expectCode(h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1}), code, `createKey`);
      await session.failNext({status: 503});
      await h.expectCode(collect(def.listKeys(ctx)), code, `listKeys`);
      await session.failNext({status: 500});
      await h.expectCode(def.updateKey(ctx, existing.id, {capUsd: 2}), code, `updateKey`);
      await session.failNext({status: 500});
      await h.expectCode(def.deleteKey(ctx, existing.id), code, `deleteKey`);
      const all = await collect(def.listKeys(ctx));
      expect(all.map(k => k.id)).toEqual([existing.id]);
      expect(all[0]?.capUsd).toBeCloseTo(1, USD);
    }),

    check(`network failures are CAPIT_OFFLINE`, async (h, session) => {
      const ctx = h.ctx();
      await session.failNext(`network`);
      await h.expectCode(h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1}), `CAPIT_OFFLINE`, `createKey, connection dropped`);
      await session.failNext(`network`);
      await h.expectCode(collect(def.listKeys(ctx)), `CAPIT_OFFLINE`, `listKeys, connection dropped`);
      // A loopback port that was just free: connection refused.
      const port = await closedPort();
      const nowhere = h.ctx({baseUrl: session.baseUrl.replace(/^(https?:\/\/)[^/]+/, (_all, scheme: string) => `${scheme}127.0.0.1:${port}`)});
      await h.expectCode(def.masterKey.validate(nowhere), `CAPIT_OFFLINE`, `validate, connection refused`);
    }),

    check(`never puts a secret in an error, even when the provider echoes it`, async (h, session) => {
      const ctx = h.ctx();
      const issued = await h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1});
      const echo = `invalid request for ${session.masterKey} (key ${issued.secret})`;
      await session.failNext({status: 400, message: echo});
      await h.expectCode(h.create(ctx, {name: randomName(`conf`, maxName), capUsd: 1}), /^CAPIT_/, `createKey echoing secrets`);
      await session.failNext({status: 401, message: echo});
      await h.expectCode(collect(def.listKeys(ctx)), /^CAPIT_/, `listKeys echoing secrets`);
      await session.failNext({status: 500, message: echo});
      await h.expectCode(def.deleteKey(ctx, issued.id), /^CAPIT_/, `deleteKey echoing secrets`);
    }),

    // The optional price lookup (headroom preflight) runs without a master key; a provider failure is a capit error.
    ...(def.modelPrice ? [check(`modelPrice() needs no master key and turns a provider failure into a capit error`, async (h, session) => {
      await session.failNext({status: 500});
      await h.expectCode(def.modelPrice!(h.ctx({masterKey: ``}), `example/conformance-model`), /^CAPIT_/, `modelPrice on a 500`);
    })] : []),

    check(`derives inference base URLs from the management base URL`, async (_h, session) => {
      const urls = def.inferenceBaseUrls(session.baseUrl);
      expect(urls.openai).toMatch(/^https?:\/\/.*[^/]$/);
      if (urls.anthropic !== undefined) expect(urls.anthropic).toMatch(/^https?:\/\/.*[^/]$/);
      expect(def.inferenceBaseUrls(`${session.baseUrl}/`), `a trailing slash changes the bases`).toEqual(urls);
    }),
  ];

  // Optional members (`capit why`): checked only where the plugin has them.
  if (typeof def.probeKey === `function`)
    checks.push(check(`probeKey reads a key's cap and what remains, follows spend, and reports a deleted key as deleted`, async (h, session) => {
      const ctx = h.ctx();
      const created = await h.create(ctx, {name: randomName(`probe`, maxName), capUsd: 2});
      (ctx.http as CoreHttpClient).addSecret(created.secret);
      const target = {id: created.id, name: created.name, secret: created.secret};
      const fresh = await def.probeKey!(ctx, target);
      expect(fresh.state).toBe(`ok`);
      expect(fresh.capUsd).toBeCloseTo(2, USD);
      expect(fresh.remainingUsd).toBeCloseTo(2, USD);
      await session.spend(created.id, 0.5);
      expect((await def.probeKey!(ctx, target)).remainingUsd).toBeCloseTo(1.5, USD);
      await def.deleteKey(ctx, created.id);
      expect((await def.probeKey!(ctx, target)).state).toBe(`deleted`);
    }));
  if (typeof def.credits === `function`)
    checks.push(check(`credits reads the account's balance with the master key`, async (h, session) => {
      const credits = await def.credits!(h.ctx());
      expect(credits.totalUsd).toBeGreaterThanOrEqual(0);
      expect(credits.usedUsd).toBeGreaterThanOrEqual(0);
      expect(credits.remainingUsd).toBeCloseTo(Math.max(0, credits.totalUsd - credits.usedUsd), USD);
      await h.expectCode(def.credits!(h.ctx({masterKey: session.wrongMasterKey})), `CAPIT_BAD_MASTER_KEY`, `credits with a wrong master key`);
    }));
  return checks;
}

/**
 * Registers a vitest suite that runs `def` through everything core relies on, against `fake`:
 * create (cap, name up to `maxNameLength`, reset window or a clean refusal, expiry) → list (paging past 100+ keys,
 * each id once, window-correct spend) → update (disable/enable, new cap without losing other fields) → delete, and
 * every error class: wrong master key → `CAPIT_BAD_MASTER_KEY` on every operation, an issued key as master key →
 * `CAPIT_NOT_MASTER_KEY`, 429 → `CAPIT_RATE_LIMITED` (with Retry-After), 5xx → `CAPIT_PROVIDER_DOWN`, dropped or
 * refused connections → `CAPIT_OFFLINE`, and no secret in any error message or hint.
 *
 * The plugin gets a {@link PlatformContext} built with core's real HTTP client (retries off, so injected failures
 * surface), exactly as the CLI would build it. Call it at the top level of a test file:
 *
 * ```ts
 * import {describePlatformConformance} from 'capit/testing';
 * import platform from '../src/index.js';
 * describePlatformConformance(platform, myFake);
 * ```
 */
export function describePlatformConformance(def: PlatformDefinition, fake: PlatformFake, options: PlatformConformanceOptions = {}): void {
  describe(options.title ?? `platform "${def.id}" conformance`, () => {
    let session: PlatformFakeSession | undefined;
    beforeEach(async () => {
      session = await fake.start();
    });
    afterEach(async () => {
      session = undefined;
      await fake.stop();
    });
    for (const c of platformConformanceChecks(def, options)) {
      it(c.name, async () => {
        if (!session) throw new Error(`the fake did not start`);
        await c.run(session);
      });
    }
  });
}
