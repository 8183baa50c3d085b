// OpenRouter: keys with a provider-enforced USD limit, via the management API (`/api/v1/keys`).
// Wire facts: research/apis.md §1. Core owns HTTP, retries and error wording; this file only speaks OpenRouter.

import {definePlatform}      from 'capit/plugin';
import type {
  CreateKeyRequest,
  CreatedKey,
  HttpResponse,
  KeyPatch,
  PlatformContext,
  ProviderFailure,
  ProviderKey,
  ResetWindow,
} from 'capit/plugin';

const DEFAULT_BASE_URL = `https://openrouter.ai/api/v1`;
const SETUP_URL = `https://openrouter.ai/settings/management-keys`;

/** The key object of `GET/PATCH/POST /keys…` (`data`), as far as capit reads it. */
interface WireKey {
  hash?: unknown;
  name?: unknown;
  label?: unknown;
  disabled?: unknown;
  limit?: unknown;
  limit_remaining?: unknown;
  limit_reset?: unknown;
  usage?: unknown;
  usage_daily?: unknown;
  usage_weekly?: unknown;
  usage_monthly?: unknown;
  created_at?: unknown;
  expires_at?: unknown;
}

const NOT_MANAGEMENT_KEY = /only management keys|provisioning/i;
const CAP_REACHED = /key limit exceeded|budget limit exceeded|requires more credits|can only afford/i;
const NO_CREDITS = /insufficient credits/i;

function trimBase(url: string): string {
  return url.replace(/\/+$/, ``);
}

function auth(ctx: PlatformContext): Record<string, string> {
  return {authorization: `Bearer ${ctx.masterKey}`};
}

function isOk(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === `object` && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function num(value: unknown): number | null {
  if (typeof value === `number` && Number.isFinite(value)) return value;
  if (typeof value === `string` && value.trim() !== `` && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function resetWindow(value: unknown): ResetWindow | null {
  return value === `daily` || value === `weekly` || value === `monthly` ? value : null;
}

// Dollar amounts are floats on the wire: `10 - 7.3` must print as 2.7, not 2.6999999999999993.
function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** `YYYY-MM-DDTHH:MM:SSZ`: OpenRouter rejects non-UTC timestamps; milliseconds are dropped. */
export function formatExpiry(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error(`Invalid expiry date`);
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

/** Normalises a wire key. Spend is window-correct: `usage` is lifetime, so it is the last resort. */
export function normaliseKey(wire: WireKey): ProviderKey {
  const limit = num(wire.limit);
  const remaining = num(wire.limit_remaining);
  const reset = resetWindow(wire.limit_reset);

  let spent: number;
  if (limit !== null && remaining !== null) spent = limit - remaining;
  else if (reset !== null) spent = num(wire[`usage_${reset}`]) ?? num(wire.usage) ?? 0;
  else spent = num(wire.usage) ?? 0;

  const key: ProviderKey = {
    id: String(wire.hash ?? ``),
    name: typeof wire.name === `string` ? wire.name : typeof wire.label === `string` ? wire.label : ``,
    spentUsd: Math.max(0, roundUsd(spent)),
    capUsd: limit,
    remainingUsd: remaining,
    reset,
    disabled: wire.disabled === true,
  };
  if (typeof wire.created_at === `string`) key.createdAt = wire.created_at;
  if (typeof wire.expires_at === `string` || wire.expires_at === null) key.expiresAt = wire.expires_at;
  return key;
}

/** A response capit builds itself so core words the failure like any provider error. */
function syntheticFailure(res: HttpResponse, status: number, message: string): HttpResponse {
  return {status, headers: res.headers, body: {error: {code: status, message}}};
}

/** `{"error":{"code","message"}}`, read leniently: `code` may be a string, the body may be HTML from a proxy. */
function providerMessage(body: unknown): string {
  const error = asRecord(asRecord(body)?.error);
  if (error) {
    if (typeof error.message === `string` && error.message.trim()) return error.message.trim();
    if (typeof error.code === `string` && error.code.trim()) return error.code.trim();
  }
  const top = asRecord(body);
  if (top && typeof top.message === `string`) return top.message.trim();
  if (typeof body === `string`) return body.replace(/<[^>]*>/g, ` `).replace(/\s+/g, ` `).trim().slice(0, 200);
  return ``;
}

export function classifyError(res: HttpResponse): ProviderFailure {
  const message = providerMessage(res.body);
  const {status} = res;

  if (status === 401) return {kind: `bad-master-key`, message};
  if (status === 403 && NOT_MANAGEMENT_KEY.test(message)) return {kind: `not-master-key`, message};
  if ((status === 402 || status === 403) && CAP_REACHED.test(message)) return {kind: `cap-reached`, message};
  // 402 = Payment Required: without the cap wording it is the account balance.
  if (status === 402 || (NO_CREDITS.test(message) && status === 403)) return {kind: `insufficient-credits`, message};
  if (status === 429) {
    // Core reads `Retry-After` itself when wording the failure.
    return {kind: `rate-limited`, message};
  }
  if (status === 404) return {kind: `not-found`, message};
  if (status === 400 || status === 422) return {kind: `bad-request`, message};
  if (status >= 500) return {kind: `server`, message};
  return {kind: `unknown`, message};
}

/** A plaintext key we can install: `sk-` then key characters only, so masked forms (`sk-or-v1-0e6...1c96`, `***`) fail. */
function usableSecret(value: unknown): value is string {
  return typeof value === `string` && /^sk-[A-Za-z0-9_-]{16,}$/.test(value);
}

// Pages of `GET /keys` requested at once while listing.
const PREFETCH = 4;

export default definePlatform({
  id: `openrouter`,
  baseUrl: {default: DEFAULT_BASE_URL, env: `CAPIT_OPENROUTER_BASE_URL`},
  maxNameLength: 100,

  masterKey: {
    env: [`OPENROUTER_MANAGEMENT_KEY`],
    setupUrl: SETUP_URL,
    instructions:
      `capit needs an OpenRouter management key to create capped keys. ` +
      `Create one at ${SETUP_URL} (it can manage keys but cannot call models).`,
    checkShape(value) {
      if (/\s/.test(value)) return `it contains whitespace`;
      if (!value.startsWith(`sk-or-`)) return `OpenRouter keys start with "sk-or-"`;
      return undefined;
    },
    async validate(ctx: PlatformContext) {
      const action = `check the master key`;
      const res = await ctx.http.request({method: `GET`, url: `${trimBase(ctx.baseUrl)}/key`, headers: auth(ctx)});
      if (!isOk(res)) ctx.http.fail(res, action);
      const data = asRecord(asRecord(res.body)?.data);
      // `is_provisioning_key` is the deprecated name of the same flag.
      const management = data?.is_management_key === true || (data?.is_management_key === undefined && data?.is_provisioning_key === true);
      if (!management) {
        ctx.http.fail(syntheticFailure(res, 403,
          `Only management keys can manage keys; this one reports is_management_key: ${String(data?.is_management_key ?? `missing`)}`), action);
      }
    },
  },

  inferenceBaseUrls(managementBaseUrl) {
    const base = trimBase(managementBaseUrl);
    // Claude Code appends `/v1/messages` itself, so its base is the OpenAI one without `/v1`.
    return {openai: base, anthropic: base.replace(/\/v1$/, ``)};
  },

  classifyError,

  async createKey(ctx: PlatformContext, {name, capUsd, reset, expiresAt}: CreateKeyRequest): Promise<CreatedKey> {
    const base = trimBase(ctx.baseUrl);
    const action = `create key "${name}"`;
    const body: Record<string, unknown> = {name, limit: capUsd};
    if (reset !== undefined) body.limit_reset = reset;
    if (expiresAt !== undefined) body.expires_at = formatExpiry(expiresAt);

    // Exactly one POST: core's client never retries POST, and neither do we (a lost response may still mean a key).
    const res = await ctx.http.request({method: `POST`, url: `${base}/keys`, headers: auth(ctx), body});
    if (!isOk(res)) ctx.http.fail(res, action);

    const top = asRecord(res.body);
    const data = asRecord(top?.data);
    const hash = typeof data?.hash === `string` && data.hash ? data.hash : undefined;
    // The spec puts the plaintext at top level; older docs show `data.key`.
    const secret = usableSecret(top?.key) ? top.key : usableSecret(data?.key) ? data.key : undefined;

    if (hash === undefined) {
      ctx.http.fail(syntheticFailure(res, res.status,
        `the response had no key id (data.hash); check https://openrouter.ai/settings/keys for a key named "${name}" and delete it`), action);
    }
    if (secret === undefined) {
      let cleanup = `the new key was deleted again`;
      try {
        const del = await ctx.http.request({method: `DELETE`, url: `${base}/keys/${encodeURIComponent(hash)}`, headers: auth(ctx)});
        if (!isOk(del) && del.status !== 404) cleanup = `deleting the new key failed too (HTTP ${del.status}); delete key ${hash} by hand`;
      } catch {
        cleanup = `deleting the new key failed too; delete key ${hash} by hand`;
      }
      ctx.http.fail(syntheticFailure(res, res.status, `the response had no usable key secret; ${cleanup}`), action);
    }

    return {...normaliseKey(data as WireKey), id: hash, secret};
  },

  async *listKeys(ctx: PlatformContext) {
    const base = trimBase(ctx.baseUrl);
    const fetchPage = async (offset: number): Promise<unknown[]> => {
      const res = await ctx.http.request({
        method: `GET`,
        url: `${base}/keys?include_disabled=true&offset=${offset}`,
        headers: auth(ctx),
      });
      if (!isOk(res)) ctx.http.fail(res, `list keys`);
      const page = asRecord(res.body)?.data;
      if (!Array.isArray(page)) ctx.http.fail(syntheticFailure(res, res.status, `the key list had no data array`), `list keys`);
      return page;
    };
    const seen = new Set<string>();
    // The first page tells the page size (100 today; the API has no size parameter and no total). After each full
    // page the next PREFETCH pages are in flight at multiples of it, so 10,000 keys take ~25 round trips, not 100.
    const first = await fetchPage(0);
    const pageSize = first.length;
    const pages: Promise<unknown[]>[] = [Promise.resolve(first)];
    for (let index = 0; ; index++) {
      const page = await pages[index]!;
      let fresh = 0;
      for (const item of page) {
        const key = normaliseKey((asRecord(item) ?? {}) as WireKey);
        if (seen.has(key.id)) continue;
        seen.add(key.id);
        fresh++;
        yield key;
      }
      // A short page is the last one; a page of nothing new means the server ignores `offset` (or keys shifted).
      if (page.length < pageSize || pageSize === 0 || fresh === 0) {
        // Let prefetched requests finish (their results are not needed) so none outlives the listing.
        await Promise.allSettled(pages.slice(index + 1));
        return;
      }
      while (pages.length < index + 2 + PREFETCH) {
        const pending = fetchPage(pages.length * pageSize);
        // Marked handled now: if listing stops early (an earlier page failed, the caller broke off), a prefetched
        // page's failure must not surface as an unhandled rejection. Awaiting it below still sees the error.
        pending.catch(() => {});
        pages.push(pending);
      }
    }
  },

  async updateKey(ctx: PlatformContext, id: string, patch: KeyPatch) {
    const url = `${trimBase(ctx.baseUrl)}/keys/${encodeURIComponent(id)}`;
    const body: Record<string, unknown> = {};
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    // `null` is sent as-is: it clears the cap / the reset window.
    if (patch.capUsd !== undefined) body.limit = patch.capUsd;
    if (patch.reset !== undefined) body.limit_reset = patch.reset;

    const res = Object.keys(body).length === 0
      ? await ctx.http.request({method: `GET`, url, headers: auth(ctx)})
      : await ctx.http.request({method: `PATCH`, url, headers: auth(ctx), body});
    if (!isOk(res)) ctx.http.fail(res, `update key ${id}`);
    const data = asRecord(asRecord(res.body)?.data) ?? {};
    return {...normaliseKey(data as WireKey), id: typeof data.hash === `string` && data.hash ? data.hash : id};
  },

  // A 404 is thrown (kind `not-found`), not swallowed: callers decide whether "already gone" is fine.
  async deleteKey(ctx: PlatformContext, id: string) {
    const res = await ctx.http.request({
      method: `DELETE`,
      url: `${trimBase(ctx.baseUrl)}/keys/${encodeURIComponent(id)}`,
      headers: auth(ctx),
    });
    if (!isOk(res)) ctx.http.fail(res, `delete key ${id}`);
  },
});
