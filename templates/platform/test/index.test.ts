import {describe, expect, it}        from 'vitest';
import type {HttpRequest, HttpResponse} from 'capit/plugin';
import {createPlatformContext, describePlatformConformance} from 'capit/testing';

import platform, {classifyError} from '../src/index.js';
import {createFake}                  from './fake.js';

// The same suite capit's built-in platforms pass, against the fake provider in ./fake.ts (real HTTP on loopback,
// core's own HTTP client): create → list (paging) → update → delete, and every failure mapped to the right error.
describePlatformConformance(platform, createFake());

/** The context core gives the plugin, answering from a table and recording every request instead of the network. */
function fakeContext(routes: Record<string, (req: HttpRequest) => {status: number; body?: unknown}>) {
  const requests: HttpRequest[] = [];
  const ctx = createPlatformContext(platform, {
    masterKey: `mk-test-0123456789`,
    baseUrl: platform.baseUrl.default,
    http: {
      async send(req: HttpRequest): Promise<HttpResponse> {
        requests.push(req);
        const route = routes[`${req.method} ${req.url}`];
        const {status, body} = route ? route(req) : {status: 404, body: {error: {message: `no route`}}};
        return {status, headers: new Headers(), body};
      },
    },
  });
  return {ctx, requests};
}

const BASE = platform.baseUrl.default;

describe(`__ID__ platform`, () => {
  it(`matches its manifest`, async () => {
    const {default: pkg} = await import(`../package.json`, {with: {type: `json`}});
    expect(platform.kind).toBe(pkg.capit.kind);
    expect(platform.id).toBe(pkg.capit.id);
    expect(platform.apiVersion).toBe(pkg.capit.apiVersion);
  });

  it(`creates a capped key with exactly one request`, async () => {
    const {ctx, requests} = fakeContext({
      [`POST ${BASE}/keys`]: req => ({status: 201, body: {data: {id: `k1`, name: (req.body as {name: string}).name, key: `sk-new-secret`, limit_usd: 5, spent_usd: 0}}}),
    });
    const key = await platform.createKey(ctx, {name: `opencode-0a1b2c3d`, capUsd: 5});
    expect(key).toMatchObject({id: `k1`, secret: `sk-new-secret`, capUsd: 5, remainingUsd: 5, spentUsd: 0});
    expect(requests).toHaveLength(1);
    expect(requests[0]!.body).toEqual({name: `opencode-0a1b2c3d`, limit_usd: 5});
  });

  it(`lists keys across pages, normalised`, async () => {
    const {ctx, requests} = fakeContext({
      [`GET ${BASE}/keys?offset=0`]: () => ({status: 200, body: {data: [{id: `a`, name: `a`, limit_usd: 10, spent_usd: 7.3}, {id: `b`, name: `b`, limit_usd: null, disabled: true}]}}),
      [`GET ${BASE}/keys?offset=2`]: () => ({status: 200, body: {data: [{id: `c`, name: `c`, limit_usd: 1}]}}),
    });
    const keys = [];
    for await (const key of platform.listKeys(ctx)) keys.push(key);
    expect(keys.map(k => [k.id, k.remainingUsd, k.disabled])).toEqual([[`a`, 2.7, false], [`b`, null, true], [`c`, 1, false]]);
    expect(requests.map(r => r.url)).toEqual([`${BASE}/keys?offset=0`, `${BASE}/keys?offset=2`]);
  });

  it(`classifies provider errors`, () => {
    const res = (status: number) => ({status, headers: new Headers(), body: {error: {message: `m`}}});
    const {ctx} = fakeContext({});
    expect(classifyError(res(401), ctx.wire).kind).toBe(`bad-master-key`);
    expect(classifyError(res(429), ctx.wire).kind).toBe(`rate-limited`);
    expect(classifyError(res(503), ctx.wire).kind).toBe(`server`);
  });

  it(`reports a bad master key as core's error`, async () => {
    const {ctx} = fakeContext({[`GET ${BASE}/me`]: () => ({status: 401, body: {error: {message: `invalid key`}}})});
    await expect(platform.masterKey.validate(ctx)).rejects.toMatchObject({code: `CAPIT_BAD_MASTER_KEY`, message: expect.stringContaining(`invalid key`)});
  });

  it(`refuses a create answer without a secret`, async () => {
    const {ctx} = fakeContext({[`POST ${BASE}/keys`]: () => ({status: 201, body: {data: {id: `k1`, name: `x`}}})});
    await expect(platform.createKey(ctx, {name: `x`, capUsd: 1})).rejects.toMatchObject({code: `CAPIT_PROVIDER_ERROR`, message: expect.stringContaining(`no key secret`)});
  });
});
