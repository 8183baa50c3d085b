import {describe, expect, it}        from 'vitest';
import type {HttpClient, HttpRequest, HttpResponse, PlatformContext} from 'capit/plugin';
import {describePlatformConformance} from 'capit/testing';

import platform, {classifyError} from '../src/index.js';
import {createFake}                  from './fake.js';

// The same suite capit's built-in platforms pass, against the fake provider in ./fake.ts (real HTTP on loopback,
// core's own HTTP client): create → list (paging) → update → delete, and every failure mapped to the right error.
describePlatformConformance(platform, createFake());

/** A fake HTTP client: answers from a table and records every request, like capit's own plugin tests do. */
function fakeContext(routes: Record<string, (req: HttpRequest) => {status: number; body?: unknown}>) {
  const requests: HttpRequest[] = [];
  const http: HttpClient = {
    async request<T>(req: HttpRequest): Promise<HttpResponse<T>> {
      requests.push(req);
      const route = routes[`${req.method} ${req.url}`];
      const {status, body} = route ? route(req) : {status: 404, body: {error: {message: `no route`}}};
      return {status, headers: new Headers(), body: body as T};
    },
    fail(res: HttpResponse, action: string): never {
      const failure = classifyError(res);
      throw new Error(`${action}: ${failure.kind} ${failure.message}`);
    },
  };
  const ctx: PlatformContext = {http, masterKey: `mk-test-0123456789`, baseUrl: platform.baseUrl.default, env: {}};
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
    const {ctx} = fakeContext({
      [`GET ${BASE}/keys`]: () => ({status: 200, body: {data: [{id: `a`, name: `a`, limit_usd: 10, spent_usd: 7.3}], next_cursor: `p2`}}),
      [`GET ${BASE}/keys?cursor=p2`]: () => ({status: 200, body: {data: [{id: `b`, name: `b`, limit_usd: null, disabled: true}]}}),
    });
    const keys = [];
    for await (const key of platform.listKeys(ctx)) keys.push(key);
    expect(keys.map(k => [k.id, k.remainingUsd, k.disabled])).toEqual([[`a`, 2.7, false], [`b`, null, true]]);
  });

  it(`classifies provider errors`, () => {
    const res = (status: number) => ({status, headers: new Headers(), body: {error: {message: `m`}}});
    expect(classifyError(res(401)).kind).toBe(`bad-master-key`);
    expect(classifyError(res(429)).kind).toBe(`rate-limited`);
    expect(classifyError(res(503)).kind).toBe(`server`);
  });

  it(`reports a bad master key through ctx.http.fail`, async () => {
    const {ctx} = fakeContext({[`GET ${BASE}/me`]: () => ({status: 401, body: {error: {message: `invalid key`}}})});
    await expect(platform.masterKey.validate(ctx)).rejects.toThrow(/bad-master-key invalid key/);
  });
});
