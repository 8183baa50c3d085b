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
  include_byok_in_limit?: unknown;
  byok_usage?: unknown;
  byok_usage_daily?: unknown;
  byok_usage_weekly?: unknown;
  byok_usage_monthly?: unknown;
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
  // BYOK spend is reported apart from `usage`, per window like it.
  const byok = reset !== null ? num(wire[`byok_usage_${reset}`]) ?? num(wire.byok_usage) : num(wire.byok_usage);
  if (byok !== null) key.byokSpentUsd = Math.max(0, roundUsd(byok));
  if (typeof wire.include_byok_in_limit === `boolean`) key.byokCounted = wire.include_byok_in_limit;
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

/** What in a create response differs from the key asked for, or undefined. Fields the response omits are not judged. */
function createMismatch(data: WireKey, asked: {name: string; capUsd: number; reset?: ResetWindow; countByok?: boolean}): string | undefined {
  const name = typeof data.name === `string` ? data.name : undefined;
  if (name !== undefined && name !== asked.name) return `name ${JSON.stringify(name)}`;
  const limit = num(data.limit);
  if (data.limit !== undefined && (limit === null || Math.abs(limit - asked.capUsd) > 1e-9)) return `limit ${JSON.stringify(data.limit)}`;
  if (data.limit_reset !== undefined && (data.limit_reset ?? undefined) !== asked.reset) return `limit_reset ${JSON.stringify(data.limit_reset)}`;
  if (asked.countByok !== undefined && typeof data.include_byok_in_limit === `boolean` && data.include_byok_in_limit !== asked.countByok)
    return `include_byok_in_limit ${String(data.include_byok_in_limit)}`;
  return undefined;
}

/** The fields of a PATCH body that `data` (a key object) does not show applied. */
function unappliedFields(data: Record<string, unknown>, patch: Record<string, unknown>): string[] {
  const wrong: string[] = [];
  for (const [field, wanted] of Object.entries(patch)) {
    const got = data[field];
    const same = field === `limit` && wanted !== null && got !== null ? num(got) !== null && Math.abs(num(got)! - (wanted as number)) < 1e-9 : (got ?? null) === wanted;
    if (!same) wrong.push(field);
  }
  return wrong;
}

/**
 * DELETE /keys/{hash}, counted as done only on proof: the documented `{"deleted":true}`, or a GET answering 404.
 * A 2xx with any other body (HTML from a proxy, `{}`, junk) could come from anything in between, so the key is read
 * back; if it is still there, the caller hears so instead of a false "deleted". A 404 is thrown (kind `not-found`),
 * not swallowed: callers decide whether "already gone" is fine.
 */
async function deleteVerified(ctx: PlatformContext, id: string): Promise<void> {
  const url = `${trimBase(ctx.baseUrl)}/keys/${encodeURIComponent(id)}`;
  const action = `delete key ${id}`;
  const res = await ctx.http.request({method: `DELETE`, url, headers: auth(ctx)});
  if (!isOk(res)) ctx.http.fail(res, action);
  if (asRecord(res.body)?.deleted === true) return;
  const check = await ctx.http.request({method: `GET`, url, headers: auth(ctx)});
  if (check.status === 404) return;
  if (!isOk(check)) ctx.http.fail(check, `check that ${action} took effect`);
  ctx.http.fail(syntheticFailure(res, res.status,
    `the provider answered HTTP ${res.status} with ${describeBody(res.body)}, but the key still exists`), action);
}

function describeBody(body: unknown): string {
  if (body === undefined || body === ``) return `an empty body`;
  if (typeof body === `string`) return `a non-JSON body`;
  return `an unexpected body`;
}

// Pages of `GET /keys` requested at once while listing.
const PREFETCH = 4;

export default definePlatform({
  id: `openrouter`,
  baseUrl: {default: DEFAULT_BASE_URL, env: `CAPIT_OPENROUTER_BASE_URL`},
  maxNameLength: 100,
  // Per key: `include_byok_in_limit` (apis.md §1.5). Core asks for it unless --exclude-byok.
  byok: `optional`,

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

  async createKey(ctx: PlatformContext, {name, capUsd, reset, expiresAt, countByok}: CreateKeyRequest): Promise<CreatedKey> {
    const base = trimBase(ctx.baseUrl);
    const action = `create key "${name}"`;
    // `include_byok_in_limit` defaults to false at OpenRouter: without it, spend through the user's own provider keys
    // would never stop at the cap. Sent whenever core says either way.
    const body: Record<string, unknown> = {name, limit: capUsd};
    if (countByok !== undefined) body.include_byok_in_limit = countByok;
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
    // A key unlike the one asked for (another name, cap or BYOK rule) is not ours to install: core settles it by name.
    const mismatch = createMismatch(data as WireKey, {name, capUsd, reset, countByok});
    if (mismatch !== undefined)
      ctx.http.fail(syntheticFailure(res, res.status, `the response describes a different key (${mismatch}); check https://openrouter.ai/settings/keys for a key named "${name}"`), action);
    if (secret === undefined) {
      let cleanup = `the new key was deleted again`;
      try {
        await deleteVerified(ctx, hash);
      } catch (error) {
        cleanup = `deleting the new key failed too (${(error as Error).message}); delete key ${hash} by hand`;
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

    const action = `update key ${id}`;
    const res = Object.keys(body).length === 0
      ? await ctx.http.request({method: `GET`, url, headers: auth(ctx)})
      : await ctx.http.request({method: `PATCH`, url, headers: auth(ctx), body});
    if (!isOk(res)) ctx.http.fail(res, action);
    let data = asRecord(asRecord(res.body)?.data);
    if (!data || unappliedFields(data, body).length > 0) {
      // A 2xx that does not show the change (junk, an empty body, old values) proves nothing: read the key back.
      const check = await ctx.http.request({method: `GET`, url, headers: auth(ctx)});
      if (!isOk(check)) ctx.http.fail(check, `check that ${action} took effect`);
      data = asRecord(asRecord(check.body)?.data);
      if (!data) ctx.http.fail(syntheticFailure(check, check.status, `the key could not be read back to check the change`), action);
      const unapplied = unappliedFields(data, body);
      if (unapplied.length > 0)
        ctx.http.fail(syntheticFailure(res, res.status, `the provider answered HTTP ${res.status} but the key still has its old ${unapplied.join(`, `)}`), action);
    }
    return {...normaliseKey(data as WireKey), id: typeof data.hash === `string` && data.hash ? data.hash : id};
  },

  // A 404 is thrown (kind `not-found`), not swallowed: callers decide whether "already gone" is fine.
  async deleteKey(ctx: PlatformContext, id: string) {
    await deleteVerified(ctx, id);
  },
});
