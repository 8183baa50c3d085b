// Runs `capit/testing`'s platform conformance kit against both built-in platforms, each backed by the loopback
// emulator, and proves the kit fails plugins that break the rules it checks.
import {afterEach, beforeEach, describe, expect, it} from 'vitest';
import {
  describePlatformConformance,
  platformConformanceChecks,
  type PlatformCheck,
  type PlatformFake,
  type PlatformFakeSession,
} from '../../src/testing/index.js';
import type {PlatformContext, PlatformDefinition, ProviderKey} from '../../src/plugin.js';
import aihubmix                from '../../../plugins/platform-aihubmix/src/index.js';
import openrouter              from '../../../plugins/platform-openrouter/src/index.js';
import {
  DEFAULT_AIHUBMIX_MANAGE_KEY,
  DEFAULT_MANAGEMENT_KEY,
  startEmulator,
  type Emulator,
} from '../../../test/emulator/server.mjs';

/** The emulator as an OpenRouter account. */
function openrouterFake(): PlatformFake & {emulator(): Emulator} {
  let emu: Emulator | undefined;
  return {
    emulator: () => emu!,
    async start(): Promise<PlatformFakeSession> {
      const e = emu = await startEmulator({port: 0});
      return {
        baseUrl: e.openrouterBaseUrl,
        masterKey: DEFAULT_MANAGEMENT_KEY,
        wrongMasterKey: `sk-or-v1-${`0badbad0`.repeat(8)}`,
        seed: (count, {prefix, capUsd}) => void e.seedKeys(count, {prefix, limit: capUsd}),
        spend: (id, usd) => void e.charge(id, usd),
        spendInEarlierWindow(id, usd) {
          // Lifetime usage only: the current day/week/month windows are untouched.
          const rec = e.state.keys.get(id);
          if (!rec) throw new Error(`unknown key ${id}`);
          rec.usage += usd;
        },
        failNext(failure) {
          if (failure === `network`) e.knobs.dropNext(1);
          else e.knobs.failNext(1, {
            status: failure.status,
            ...(failure.retryAfterSeconds === undefined ? {} : {retryAfter: failure.retryAfterSeconds}),
            ...(failure.message === undefined ? {} : {body: {error: {code: failure.status, message: failure.message}}}),
          });
        },
      };
    },
    async stop() {
      await emu?.close();
      emu = undefined;
    },
  };
}

/** The emulator as an AIHubMix account (one-api quirks on: masked key + full_key, HTTP 200 errors). */
function aihubmixFake(): PlatformFake & {emulator(): Emulator} {
  let emu: Emulator | undefined;
  return {
    emulator: () => emu!,
    async start(): Promise<PlatformFakeSession> {
      const e = emu = await startEmulator({port: 0});
      return {
        baseUrl: e.aihubmixBaseUrl,
        masterKey: DEFAULT_AIHUBMIX_MANAGE_KEY,
        wrongMasterKey: `0badbad0`.repeat(4),
        seed: (count, {prefix, capUsd}) => void e.seedAihubmixTokens(count, {prefix, capUsd}),
        spend: (id, usd) => void e.chargeAihubmix(Number(id), usd),
        failNext(failure) {
          if (failure === `network`) e.knobs.dropNext(1);
          else e.knobs.failNext(1, {
            status: failure.status,
            ...(failure.retryAfterSeconds === undefined ? {} : {retryAfter: failure.retryAfterSeconds}),
            ...(failure.message === undefined ? {} : {body: {success: false, message: failure.message}}),
          });
        },
      };
    },
    async stop() {
      await emu?.close();
      emu = undefined;
    },
  };
}

describePlatformConformance(openrouter, openrouterFake());
describePlatformConformance(aihubmix, aihubmixFake(), {issuedKeyAsMasterKey: `bad-master-key`});

// The AIHubMix quirks the plugin must survive: no full_key (GET by id), a real 401 for a bad manage key.
describePlatformConformance(aihubmix, {
  ...(() => {
    const inner = aihubmixFake();
    return {
      async start() {
        const session = await inner.start();
        inner.emulator().knobs.aihubmixFullKey = false;
        inner.emulator().knobs.aihubmixAuthFailureStatus = 401;
        return session;
      },
      stop: () => inner.stop(),
    };
  })(),
}, {title: `platform "aihubmix" conformance (no full_key, real 401s)`, issuedKeyAsMasterKey: `bad-master-key`, pagingKeyCount: 120});

describe(`the conformance kit catches broken platforms`, () => {
  const fake = aihubmixFake();
  const orFake = openrouterFake();
  let session: PlatformFakeSession;
  let orSession: PlatformFakeSession;
  beforeEach(async () => {
    session = await fake.start();
    orSession = await orFake.start();
  });
  afterEach(async () => {
    await fake.stop();
    await orFake.stop();
  });

  function checkNamed(def: PlatformDefinition, pattern: RegExp, options = {}): PlatformCheck {
    const found = platformConformanceChecks(def, options).find(c => pattern.test(c.name));
    if (!found) throw new Error(`no check matches ${pattern}`);
    return found;
  }

  it(`the unmodified plugins pass the checks used below`, async () => {
    await checkNamed(aihubmix, /across pages/).run(session);
    await checkNamed(openrouter, /reset window/).run(orSession);
  });

  it(`fails a listKeys that stops after the first page`, async () => {
    const broken: PlatformDefinition = {
      ...aihubmix,
      async *listKeys(ctx: PlatformContext) {
        let n = 0;
        for await (const key of aihubmix.listKeys(ctx)) {
          if (n++ >= 100) return;
          yield key;
        }
      },
    };
    await expect(checkNamed(broken, /across pages/).run(session)).rejects.toThrow();
  });

  it(`fails a createKey that silently drops the reset window`, async () => {
    const broken: PlatformDefinition = {...openrouter, createKey: (ctx, req) => openrouter.createKey(ctx, {...req, reset: undefined})};
    await expect(checkNamed(broken, /reset window/).run(orSession)).rejects.toThrow(/monthly|reset/);
  });

  it(`fails a platform that reports lifetime usage instead of the window's spend`, async () => {
    const lifetime = (key: ProviderKey & {id: string}, rec?: {usage: number}) => ({...key, spentUsd: rec?.usage ?? key.spentUsd});
    const broken: PlatformDefinition = {
      ...openrouter,
      async *listKeys(ctx: PlatformContext) {
        for await (const key of openrouter.listKeys(ctx)) yield lifetime(key, orFake.emulator().state.keys.get(key.id));
      },
    };
    await expect(checkNamed(broken, /current window/).run(orSession)).rejects.toThrow(/window/);
  });

  it(`fails a classifyError that does not recognise HTTP 200 success:false`, async () => {
    const broken: PlatformDefinition = {...aihubmix, classifyError: () => ({kind: `unknown`, message: ``})};
    await expect(checkNamed(broken, /wrong master key/).run(session)).rejects.toThrow(/CAPIT_BAD_MASTER_KEY/);
  });

  it(`fails an update that PUTs a partial token (one-api then blanks the name and expiry)`, async () => {
    const broken: PlatformDefinition = {
      ...aihubmix,
      async updateKey(ctx, id, patch) {
        if (patch.capUsd === undefined) return aihubmix.updateKey(ctx, id, patch);
        const {spentUsd} = await aihubmix.updateKey(ctx, id, {});
        const res = await ctx.http.request({
          method: `PUT`, url: `${ctx.baseUrl}/api/token/`, headers: {authorization: ctx.masterKey},
          body: {id: Number(id), remain_quota: Math.round(((patch.capUsd ?? 0) - spentUsd) * 500000)},
        });
        if (res.status !== 200) ctx.http.fail(res, `update`);
        return aihubmix.updateKey(ctx, id, {});
      },
    };
    await expect(checkNamed(broken, /changes the cap/).run(session)).rejects.toThrow(/conf-|expiry/);
  });

  it(`fails a plugin that throws its own error carrying the master key`, async () => {
    const broken: PlatformDefinition = {
      ...aihubmix,
      // eslint-disable-next-line require-yield
      async *listKeys(ctx: PlatformContext) {
        const res = await ctx.http.request({method: `GET`, url: `${ctx.baseUrl}/api/token/?p=0`, headers: {authorization: ctx.masterKey}});
        throw Object.assign(new Error(`list failed with key ${ctx.masterKey}: ${JSON.stringify(res.body)}`), {code: `CAPIT_PROVIDER_ERROR`});
      },
    };
    await expect(checkNamed(broken, /never puts a secret/).run(session)).rejects.toThrow(/secret/);
  });

  it(`fails a createKey that installs the masked key`, async () => {
    fake.emulator().knobs.aihubmixFullKey = false;
    fake.emulator().knobs.aihubmixGetReveals = false;
    const broken: PlatformDefinition = {
      ...aihubmix,
      async createKey(ctx, req) {
        const res = await ctx.http.request({
          method: `POST`, url: `${ctx.baseUrl}/api/token/`, headers: {authorization: ctx.masterKey},
          body: {name: req.name, remain_quota: Math.round(req.capUsd * 500000), unlimited_quota: false, expired_time: -1, models: ``, subnet: ``},
        });
        const data = (res.body as {data: {id: number; key: string}}).data;
        return {id: String(data.id), name: req.name, secret: data.key, spentUsd: 0, capUsd: req.capUsd, remainingUsd: req.capUsd, reset: null, disabled: false};
      },
    };
    await expect(checkNamed(broken, /creates a capped key/).run(session)).rejects.toThrow(/masked/);
    // The real plugin deletes the token instead and fails (only the broken plugin's token is left).
    const before = fake.emulator().state.aihubmixTokens.size;
    await expect(checkNamed(aihubmix, /creates a capped key/).run(session)).rejects.toThrow(/no usable \(unmasked\) key secret/);
    expect(fake.emulator().state.aihubmixTokens.size).toBe(before);
  });
});

describe(`capit/testing as published`, () => {
  it(`resolves through the package export map to the built kit`, async () => {
    const kit = await import(`capit/testing`);
    expect(typeof kit.describePlatformConformance).toBe(`function`);
    expect(typeof kit.platformConformanceChecks).toBe(`function`);
  });
});
