// AIHubMix: keys ("tokens") with a provider-enforced USD quota, via the one-api token API (`/api/token/`).
// Wire facts: research/apis.md §2 (and §2.13 for the one-api behaviour AIHubMix inherits). Core owns HTTP, retries
// and error wording; this file only speaks AIHubMix.
//
// Decisions worth knowing:
// - Auth is `Authorization: <manage key>` with no `Bearer` (AIHubMix's CLI docs; one-api strips it anyway).
// - Errors arrive as non-2xx OR as HTTP 200 `{"success":false,"message":…}`: every call goes through `succeeded()`,
//   and `classifyError` reads the message for both.
// - Quotas never reset. A `reset` window is refused before any request, so no key is created with a silently
//   different (lifetime) cap.
// - Enable/disable uses one-api semantics: `PUT /api/token/?status_only=true` with status 1 (enabled) / 2 (disabled).
//   one-api applies `status` ONLY with `status_only` (a plain PUT ignores it), so without it a disable would silently
//   do nothing there; the whole object is still sent, so a server that ignores the query and replaces the token
//   keeps every other field. 2 rather than the docs' 0: any server that checks `status !== 1` (one-api's relay, the
//   AIHubMix docs' 0/1 enum) treats 2 as not enabled, and we read `status !== 1` as disabled.
// - `GET /api/user/token` is never called: in one-api it regenerates (and so revokes) the manage key.

import {definePlatform}      from 'capit/plugin';
import type {
  CreateKeyRequest,
  CreatedKey,
  HttpResponse,
  KeyPatch,
  PlatformContext,
  ProviderFailure,
  ProviderKey,
} from 'capit/plugin';

const DEFAULT_BASE_URL = `https://aihubmix.com`;
const SETUP_URL = `https://console.aihubmix.com/setting`;

/** one-api's `QuotaPerUnit`: 500,000 quota units per USD. */
export const QUOTA_PER_USD = 500_000;
/** Tokens asked for per page (AIHubMix documents `num`, one-api-style servers read `size`; both are sent). */
export const PAGE_SIZE = 100;
/** one-api status values. */
const STATUS_ENABLED = 1;
const STATUS_DISABLED = 2;

/** The token object of `/api/token/…` (`data`), as far as capit reads it. */
export interface WireToken {
  id?: unknown;
  name?: unknown;
  key?: unknown;
  full_key?: unknown;
  status?: unknown;
  created_time?: unknown;
  expired_time?: unknown;
  remain_quota?: unknown;
  unlimited_quota?: unknown;
  used_quota?: unknown;
  [field: string]: unknown;
}

const BAD_KEY = /access token 无效|未提供 access token|未登录|access token is invalid|invalid access token|access token (?:is )?(?:invalid|expired)|no access token|unauthori[sz]ed/i;
const NOT_ALLOWED = /权限不足|permission denied|insufficient permission|not allowed to manage/i;
const RATE_LIMITED = /rate limit|too many requests|请求过于频繁|频率过高|请求频率/i;
const CAP_REACHED = /令牌额度已用尽|令牌额度不足|令牌可用额度已用尽|token quota (?:is )?(?:exhausted|used up)|pre_consume_token_quota_failed/i;
const NO_CREDITS = /insufficient_user_quota|余额不足|用户额度不足|balance is insufficient|insufficient balance/i;
const NOT_FOUND = /record not found|not found|不存在/i;
const BAD_REQUEST = /参数错误|令牌名称过长|名称过长|不能为空|无效的参数|invalid (?:param|request|argument)|name (?:is )?too long|bad request|must be/i;

function trimBase(url: string): string {
  return url.replace(/\/+$/, ``);
}

function auth(ctx: PlatformContext): Record<string, string> {
  return {authorization: ctx.masterKey};
}

function asRecord(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === `object` && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function num(value: unknown): number | null {
  if (typeof value === `number` && Number.isFinite(value)) return value;
  if (typeof value === `string` && value.trim() !== `` && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function roundUsd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

/** USD → quota units, rounded to the nearest unit (0.29 → 145000, not 144999.99999999997). */
export function toQuota(usd: number): number {
  return Math.round(usd * QUOTA_PER_USD);
}

/** An `expired_time`: UNIX seconds (rounded down, so the key never outlives the request), or -1 = never. */
export function toExpiredTime(date: Date | undefined): number {
  if (date === undefined) return -1;
  const ms = date.getTime();
  if (Number.isNaN(ms)) throw new Error(`Invalid expiry date`);
  return Math.floor(ms / 1000);
}

function unixToIso(value: unknown): string | undefined {
  const seconds = num(value);
  return seconds !== null && seconds > 0 ? new Date(seconds * 1000).toISOString() : undefined;
}

/** 2xx AND not `success:false` (one-api answers most errors with HTTP 200). A bare body without envelope is accepted. */
function succeeded(res: HttpResponse): boolean {
  if (res.status < 200 || res.status >= 300) return false;
  const body = asRecord(res.body);
  return body !== undefined && body.success !== false;
}

/** A response capit builds itself so core words the failure like any provider error. */
function syntheticFailure(res: HttpResponse | undefined, status: number, message: string): HttpResponse {
  return {status, headers: res?.headers ?? {get: () => null}, body: {success: false, message}};
}

/** `{"success":false,"message"}` (management) or `{"error":{"message"}}` (gateway), or text/HTML from a proxy. */
function providerMessage(body: unknown): string {
  const top = asRecord(body);
  if (top) {
    if (typeof top.message === `string` && top.message.trim()) return top.message.trim();
    const error = asRecord(top.error);
    if (error && typeof error.message === `string` && error.message.trim()) return error.message.trim();
    if (typeof top.error === `string` && top.error.trim()) return top.error.trim();
    return ``;
  }
  if (typeof body === `string`) return body.replace(/<[^>]*>/g, ` `).replace(/\s+/g, ` `).trim().slice(0, 200);
  return ``;
}

export function classifyError(res: HttpResponse): ProviderFailure {
  const message = providerMessage(res.body);
  const {status} = res;

  if (status === 429 || RATE_LIMITED.test(message)) {
    // Core reads `Retry-After` itself when wording the failure.
    return {kind: `rate-limited`, message};
  }
  if (status >= 500) return {kind: `server`, message};
  if (CAP_REACHED.test(message)) return {kind: `cap-reached`, message};
  if (NO_CREDITS.test(message)) return {kind: `insufficient-credits`, message};
  if (BAD_KEY.test(message)) return {kind: `bad-master-key`, message};
  if (NOT_ALLOWED.test(message)) return {kind: `not-master-key`, message};
  if (status === 401) return {kind: `bad-master-key`, message};
  if (status === 404 || NOT_FOUND.test(message)) return {kind: `not-found`, message};
  if (status === 400 || status === 422 || BAD_REQUEST.test(message)) return {kind: `bad-request`, message};
  return {kind: `unknown`, message};
}

/** A plaintext key: key characters only (so `sk-abcd**********wxyz` and `sk-ab...wxyz` fail), `sk-` added if missing. */
export function usableSecret(value: unknown): string | undefined {
  if (typeof value !== `string`) return undefined;
  const trimmed = value.trim();
  if (!/^(?:sk-)?[A-Za-z0-9_-]{16,}$/.test(trimmed)) return undefined;
  return trimmed.startsWith(`sk-`) ? trimmed : `sk-${trimmed}`;
}

/** Normalises a wire token. Quotas only go down as the key spends, so cap = used + remaining. */
export function normaliseToken(wire: WireToken): ProviderKey {
  const used = Math.max(0, num(wire.used_quota) ?? 0);
  const remain = Math.max(0, num(wire.remain_quota) ?? 0);
  const unlimited = wire.unlimited_quota === true;
  const key: ProviderKey = {
    id: wire.id === undefined || wire.id === null ? `` : String(wire.id),
    name: typeof wire.name === `string` ? wire.name : ``,
    spentUsd: roundUsd(used / QUOTA_PER_USD),
    capUsd: unlimited ? null : roundUsd((used + remain) / QUOTA_PER_USD),
    remainingUsd: unlimited ? null : roundUsd(remain / QUOTA_PER_USD),
    reset: null,
    disabled: num(wire.status) !== STATUS_ENABLED,
  };
  const createdAt = unixToIso(wire.created_time);
  if (createdAt !== undefined) key.createdAt = createdAt;
  const expired = num(wire.expired_time);
  if (expired === -1) key.expiresAt = null;
  else if (expired !== null && expired > 0) key.expiresAt = new Date(expired * 1000).toISOString();
  return key;
}

function noReset(res: HttpResponse | undefined, window: string): HttpResponse {
  return syntheticFailure(res, 400,
    `capit did not send it: AIHubMix key quotas never reset, so a ${window} cap cannot be honoured; issue a lifetime cap (no --reset) instead`);
}

function tokenUrl(ctx: PlatformContext, id?: string): string {
  const base = `${trimBase(ctx.baseUrl)}/api/token/`;
  return id === undefined ? base : `${base}${encodeURIComponent(id)}`;
}

async function getToken(ctx: PlatformContext, id: string, action: string): Promise<WireToken> {
  const res = await ctx.http.request({method: `GET`, url: tokenUrl(ctx, id), headers: auth(ctx)});
  if (!succeeded(res)) ctx.http.fail(res, action);
  const data = asRecord(asRecord(res.body)?.data);
  if (!data) ctx.http.fail(syntheticFailure(res, res.status, `the response had no token object`), action);
  return data as WireToken;
}

/** A 2xx whose body is not an envelope at all (HTML, text, empty): the call may or may not have been applied. */
function ambiguous(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300 && asRecord(res.body) === undefined;
}

function describeBody(body: unknown): string {
  if (body === undefined || body === ``) return `an empty body`;
  if (typeof body === `string`) return `a non-JSON body`;
  return `an unexpected body`;
}

function sameField(got: unknown, wanted: unknown): boolean {
  const a = num(got);
  const b = num(wanted);
  return a !== null && b !== null ? a === b : got === wanted;
}

/**
 * DELETE /api/token/{id}, counted as done only on proof: `{"success":true}`, or a read-back that no longer finds the
 * token. A 2xx with any other body (junk, HTML from a proxy, a bare `{}`) is checked with a GET; a token still there
 * is a clear failure, never a false "deleted". A missing token is thrown (kind `not-found`): callers decide.
 */
async function deleteVerified(ctx: PlatformContext, id: string): Promise<void> {
  const action = `delete key ${id}`;
  const res = await ctx.http.request({method: `DELETE`, url: tokenUrl(ctx, id), headers: auth(ctx)});
  const body = asRecord(res.body);
  if (res.status >= 200 && res.status < 300 && body?.success === true) return;
  if (!ambiguous(res) && !(res.status >= 200 && res.status < 300 && body !== undefined && body.success === undefined))
    ctx.http.fail(res, action);
  const check = await ctx.http.request({method: `GET`, url: tokenUrl(ctx, id), headers: auth(ctx)});
  if (check.status === 404 || (!succeeded(check) && classifyError(check).kind === `not-found`)) return;
  if (!succeeded(check)) ctx.http.fail(check, `check that ${action} took effect`);
  if (asRecord(asRecord(check.body)?.data) === undefined) ctx.http.fail(syntheticFailure(check, check.status, `the key could not be read back to check the delete`), action);
  ctx.http.fail(syntheticFailure(res, res.status, `AIHubMix answered HTTP ${res.status} with ${describeBody(res.body)}, but the key still exists`), action);
}

/** `data` as an array (one-api), or `data.items` / `data.data` (new-api style), plus the page number if reported. */
function pageItems(body: unknown): {items: unknown[]; page?: number; total?: number} | undefined {
  const data = asRecord(body)?.data;
  if (Array.isArray(data)) return {items: data};
  const paged = asRecord(data);
  const items = paged?.items ?? paged?.data;
  if (!Array.isArray(items)) return undefined;
  const out: {items: unknown[]; page?: number; total?: number} = {items};
  const page = num(paged?.page);
  const total = num(paged?.total);
  if (page !== null) out.page = page;
  if (total !== null) out.total = total;
  return out;
}

export default definePlatform({
  id: `aihubmix`,
  baseUrl: {default: DEFAULT_BASE_URL, env: `CAPIT_AIHUBMIX_BASE_URL`},
  // one-api refuses longer names with `令牌名称过长`.
  maxNameLength: 30,
  // one-api quotas are lifetime budgets: core refuses --reset up front (exit 2) instead of creating a key.
  resetWindows: [],
  // one-api tokens spend AIHubMix credit only: there is no bring-your-own-key routing, so the cap covers all spend.
  byok: `none`,

  masterKey: {
    env: [`AIHUBMIX_MANAGE_KEY`],
    setupUrl: SETUP_URL,
    instructions:
      `capit needs your AIHubMix Manage Key (the "system access token", not an sk- API key) to create capped keys. ` +
      `Generate it at ${SETUP_URL}.`,
    checkShape(value) {
      if (/\s/.test(value)) return `it contains whitespace`;
      if (value.startsWith(`sk-`)) return `that looks like an AIHubMix API key (sk-…); capit needs the Manage Key (system access token) instead`;
      return undefined;
    },
    async validate(ctx: PlatformContext) {
      const action = `check the manage key`;
      const res = await ctx.http.request({method: `GET`, url: `${trimBase(ctx.baseUrl)}/api/user/self`, headers: auth(ctx)});
      if (!succeeded(res)) ctx.http.fail(res, action);
      if (asRecord(res.body)?.success !== true)
        ctx.http.fail(syntheticFailure(res, res.status, `the response did not confirm the key (no "success": true)`), action);
    },
  },

  inferenceBaseUrls(managementBaseUrl) {
    const base = trimBase(managementBaseUrl);
    // OpenAI-style clients append `/chat/completions`; Anthropic-style ones (Claude Code) append `/v1/messages`.
    return {openai: `${base}/v1`, anthropic: base};
  },

  classifyError,

  async createKey(ctx: PlatformContext, {name, capUsd, reset, expiresAt}: CreateKeyRequest): Promise<CreatedKey> {
    const action = `create key "${name}"`;
    if (reset !== undefined) ctx.http.fail(noReset(undefined, reset), action);

    const body = {
      name,
      remain_quota: toQuota(capUsd),
      unlimited_quota: false,
      expired_time: toExpiredTime(expiresAt),
      models: ``,
      subnet: ``,
    };
    // Exactly one POST: core's client never retries it, and neither do we (a lost response may still mean a key).
    const res = await ctx.http.request({method: `POST`, url: tokenUrl(ctx), headers: auth(ctx), body});
    if (!succeeded(res)) ctx.http.fail(res, action);

    const data = asRecord(asRecord(res.body)?.data);
    const id = data && (typeof data.id === `number` || (typeof data.id === `string` && data.id !== ``)) ? String(data.id) : undefined;
    if (id === undefined) {
      ctx.http.fail(syntheticFailure(res, res.status,
        `the response had no token id; check ${SETUP_URL} for a key named "${name}" and delete it`), action);
    }
    const wire = data as WireToken;
    // A token unlike the one asked for is not ours to install: core settles it by name. Omitted fields are not judged.
    const mismatch = typeof wire.name === `string` && wire.name !== name ? `name ${JSON.stringify(wire.name)}`
      : wire.unlimited_quota === true ? `unlimited quota`
        : num(wire.remain_quota) !== null && num(wire.remain_quota) !== toQuota(capUsd) ? `remain_quota ${String(wire.remain_quota)}` : undefined;
    if (mismatch !== undefined)
      ctx.http.fail(syntheticFailure(res, res.status, `the response describes a different key (${mismatch}); check ${SETUP_URL} for a key named "${name}"`), action);

    // The create response may mask `key` (`sk-abcd**********wxyz`) and carry the plaintext in `full_key`;
    // a later GET may or may not return it. Never install anything masked.
    let secret = usableSecret(wire.full_key) ?? usableSecret(wire.key);
    if (secret === undefined) {
      try {
        const byId = await ctx.http.request({method: `GET`, url: tokenUrl(ctx, id), headers: auth(ctx)});
        if (succeeded(byId)) secret = usableSecret(asRecord(asRecord(byId.body)?.data)?.key);
      } catch {
        // Treated like a masked key below: the token is deleted again.
      }
    }
    if (secret === undefined) {
      let cleanup = `the new key was deleted again`;
      try {
        await deleteVerified(ctx, id);
      } catch (error) {
        cleanup = `deleting the new key failed too (${(error as Error).message}); delete key ${id} by hand at ${SETUP_URL}`;
      }
      ctx.http.fail(syntheticFailure(res, res.status, `the response had no usable (unmasked) key secret; ${cleanup}`), action);
    }

    const key = normaliseToken(wire);
    // A create response without quota fields still describes the key we asked for.
    if (num(wire.remain_quota) === null) {
      key.capUsd = capUsd;
      key.remainingUsd = capUsd;
    }
    if (num(wire.status) === null) key.disabled = false;
    return {...key, id, name: key.name || name, secret};
  },

  async *listKeys(ctx: PlatformContext) {
    const action = `list keys`;
    const seen = new Set<string>();
    let p = 0;
    let largestPage = 0;
    for (;;) {
      const res = await ctx.http.request({
        method: `GET`,
        url: `${tokenUrl(ctx)}?p=${p}&size=${PAGE_SIZE}&num=${PAGE_SIZE}`,
        headers: auth(ctx),
      });
      if (!succeeded(res)) ctx.http.fail(res, action);
      const page = pageItems(res.body);
      if (!page) ctx.http.fail(syntheticFailure(res, res.status, `the key list had no token array`), action);
      if (page.items.length === 0) return;

      let fresh = 0;
      for (const item of page.items) {
        const key = normaliseToken((asRecord(item) ?? {}) as WireToken);
        if (seen.has(key.id)) continue;
        seen.add(key.id);
        fresh++;
        yield key;
      }
      // A server that ignores `p` would otherwise page forever.
      if (fresh === 0) return;
      if (page.total !== undefined && seen.size >= page.total) return;
      // Short page = the last one. "Short" against the largest page seen, not against PAGE_SIZE: one-api ignores
      // `size` and answers pages of its own ItemsPerPage (10 by default).
      largestPage = Math.max(largestPage, page.items.length);
      if (page.items.length < largestPage) return;
      // new-api style envelopes report their (1-based) page: continue after it.
      p = page.page !== undefined ? page.page + 1 : p + 1;
    }
  },

  async updateKey(ctx: PlatformContext, id: string, patch: KeyPatch) {
    const action = `update key ${id}`;
    if (patch.reset !== undefined && patch.reset !== null) ctx.http.fail(noReset(undefined, patch.reset), action);

    let wire = await getToken(ctx, id, action);

    // `fields` are the ones this PUT means to change; the answer must show them, or a read-back must.
    async function put(next: WireToken, query: string, fields: readonly string[]): Promise<WireToken> {
      const res = await ctx.http.request({method: `PUT`, url: `${tokenUrl(ctx)}${query}`, headers: auth(ctx), body: next});
      if (ambiguous(res)) {
        // 2xx but not the envelope (junk, HTML, empty): it proves nothing either way, so read the token back.
        const after = await getToken(ctx, id, `check that ${action} took effect`);
        const unapplied = fields.filter(f => !sameField(after[f], next[f]));
        if (unapplied.length > 0)
          ctx.http.fail(syntheticFailure(res, res.status, `AIHubMix answered HTTP ${res.status} with ${describeBody(res.body)} but the key still has its old ${unapplied.join(`, `)}`), action);
        return after;
      }
      if (!succeeded(res)) ctx.http.fail(res, action);
      // one-api answers the updated token; some deployments answer `data: true`.
      const data = asRecord(asRecord(res.body)?.data);
      return data && data.id !== undefined ? data as WireToken : next;
    }

    if (patch.capUsd !== undefined) {
      // PUT replaces the whole token: send everything we read, changed only where asked.
      const next: WireToken = {...wire};
      if (patch.capUsd === null) {
        next.unlimited_quota = true;
      } else {
        next.unlimited_quota = false;
        next.remain_quota = Math.max(0, toQuota(patch.capUsd) - Math.max(0, num(wire.used_quota) ?? 0));
      }
      wire = await put(next, ``, [`remain_quota`, `unlimited_quota`]);
    }

    if (patch.disabled !== undefined) {
      const status = patch.disabled ? STATUS_DISABLED : STATUS_ENABLED;
      wire = await put({...wire, status}, `?status_only=true`, [`status`]);
      const got = num(wire.status);
      if (got !== null && (got === STATUS_ENABLED) === patch.disabled) {
        ctx.http.fail(syntheticFailure(undefined, 200,
          `AIHubMix answered the status change but the key is still ${patch.disabled ? `enabled` : `disabled`} (status ${got})`), action);
      }
    }

    return {...normaliseToken(wire), id};
  },

  // A missing key is thrown (kind `not-found`), not swallowed: callers decide whether "already gone" is fine.
  async deleteKey(ctx: PlatformContext, id: string) {
    await deleteVerified(ctx, id);
  },
});
