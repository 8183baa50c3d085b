// AIHubMix: keys ("tokens") with a provider-enforced USD quota, via the one-api token API (`/api/token/`).
// Wire facts: research/apis.md §2 (and §2.13 for the one-api behaviour AIHubMix inherits). Core owns HTTP, retries
// and error wording; this file only speaks AIHubMix.
//
// Decisions worth knowing:
// - Auth is `Authorization: <manage key>` with no `Bearer` (AIHubMix's CLI docs; one-api strips it anyway).
// - Errors arrive as non-2xx OR as HTTP 200 `{"success":false,"message":…}`: the platform's `succeeded` hook
//   makes `ctx.http.json` treat the latter as a failure, and `classifyError` reads the message for both.
// - Quotas never reset. A `reset` window is refused before any request, so no key is created with a silently
//   different (lifetime) cap.
// - Enable/disable uses one-api semantics: `PUT /api/token/?status_only=true` with status 1 (enabled) / 2 (disabled).
//   one-api applies `status` ONLY with `status_only` (a plain PUT ignores it), so without it a disable would silently
//   do nothing there; the whole object is still sent, so a server that ignores the query and replaces the token
//   keeps every other field. 2 rather than the docs' 0: any server that checks `status !== 1` (one-api's relay, the
//   AIHubMix docs' 0/1 enum) treats 2 as not enabled, and we read `status !== 1` as disabled.
// - `GET /api/user/token` is never called: in one-api it regenerates (and so revokes) the manage key.

// Only *type* imports from capit: this file must not import capit at run time (see plugins/README.md); everything it
// needs from core (HTTP, failures, paging, wire readers) comes through `ctx`.
import type {
  AccountCredits,
  CreateKeyRequest,
  CreatedKey,
  HttpResponse,
  KeyPatch,
  KeyProbe,
  Page,
  PlatformContext,
  PlatformDefinition,
  ProbeTarget,
  ProviderFailure,
  ProviderKey,
  WireReaders,
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

function auth(ctx: PlatformContext): Record<string, string> {
  return {authorization: ctx.masterKey};
}

function is2xx(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300;
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

/**
 * The `succeeded` hook: a 2xx is a success only without `success:false` (one-api answers most errors with HTTP 200).
 * A bare body without the envelope is accepted; a body that is no JSON object at all is not.
 */
function succeeded(res: HttpResponse, read: WireReaders): boolean {
  const body = read.record(res.body);
  return body !== undefined && body.success !== false;
}

/** `{"success":false,"message"}` (management) or `{"error":{"message"}}` (gateway), or text/HTML from a proxy. */
function providerMessage(body: unknown, read: WireReaders): string {
  const top = read.record(body);
  if (top) {
    if (typeof top.message === `string` && top.message.trim()) return top.message.trim();
    const error = read.record(top.error);
    if (error && typeof error.message === `string` && error.message.trim()) return error.message.trim();
    if (typeof top.error === `string` && top.error.trim()) return top.error.trim();
    return ``;
  }
  return read.text(body);
}

export function classifyError(res: HttpResponse, read: WireReaders): ProviderFailure {
  const message = providerMessage(res.body, read);
  const {status} = res;

  // Core reads `Retry-After` itself when wording the failure.
  if (status === 429 || RATE_LIMITED.test(message)) return {kind: `rate-limited`, message};
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
export function normaliseToken(wire: WireToken, read: WireReaders): ProviderKey {
  const {number: num, usd} = read;
  const used = Math.max(0, num(wire.used_quota) ?? 0);
  const remain = Math.max(0, num(wire.remain_quota) ?? 0);
  const unlimited = wire.unlimited_quota === true;
  const key: ProviderKey = {
    id: wire.id === undefined || wire.id === null ? `` : String(wire.id),
    name: typeof wire.name === `string` ? wire.name : ``,
    spentUsd: usd(used / QUOTA_PER_USD),
    capUsd: unlimited ? null : usd((used + remain) / QUOTA_PER_USD),
    remainingUsd: unlimited ? null : usd(remain / QUOTA_PER_USD),
    reset: null,
    disabled: num(wire.status) !== STATUS_ENABLED,
  };
  const created = num(wire.created_time);
  if (created !== null && created > 0) key.createdAt = new Date(created * 1000).toISOString();
  const expired = num(wire.expired_time);
  if (expired === -1) key.expiresAt = null;
  else if (expired !== null && expired > 0) key.expiresAt = new Date(expired * 1000).toISOString();
  return key;
}

/** The id of a token object: a number or a non-empty string, else undefined. */
function tokenId(data: Record<string, unknown> | undefined): string | undefined {
  return data && (typeof data.id === `number` || (typeof data.id === `string` && data.id !== ``)) ? String(data.id) : undefined;
}

function noReset(ctx: PlatformContext, window: string, action: string): never {
  return ctx.fail(`bad-request`,
    `capit did not send it: AIHubMix key quotas never reset, so a ${window} cap cannot be honoured; issue a lifetime cap (no --reset) instead`, action);
}

function tokenUrl(ctx: PlatformContext, id?: string): string {
  const base = `${ctx.baseUrl}/api/token/`;
  return id === undefined ? base : `${base}${encodeURIComponent(id)}`;
}

async function getToken(ctx: PlatformContext, id: string, action: string): Promise<WireToken> {
  const res = await ctx.http.json({method: `GET`, url: tokenUrl(ctx, id), headers: auth(ctx)}, action);
  const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
  return data ?? ctx.fail(`unknown`, `the response had no token object but ${ctx.wire.describe(res.body)}`, action);
}

/** A 2xx whose body is not an envelope at all (HTML, text, empty): the call may or may not have been applied. */
function ambiguous(res: HttpResponse, read: WireReaders): boolean {
  return is2xx(res) && read.record(res.body) === undefined;
}

function sameField(got: unknown, wanted: unknown, read: WireReaders): boolean {
  const a = read.number(got);
  const b = read.number(wanted);
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
  const body = ctx.wire.record(res.body);
  if (is2xx(res) && body?.success === true) return;
  if (!ambiguous(res, ctx.wire) && !(is2xx(res) && body !== undefined && body.success === undefined)) ctx.http.fail(res, action);
  const check = await ctx.http.request({method: `GET`, url: tokenUrl(ctx, id), headers: auth(ctx)});
  const checkOk = is2xx(check) && succeeded(check, ctx.wire);
  if (check.status === 404 || (!checkOk && classifyError(check, ctx.wire).kind === `not-found`)) return;
  if (!checkOk) ctx.http.fail(check, `check that ${action} took effect`);
  if (ctx.wire.record(ctx.wire.record(check.body)?.data) === undefined) ctx.fail(`unknown`, `the key could not be read back to check the delete`, action);
  ctx.fail(`unknown`, `AIHubMix answered HTTP ${res.status} with ${ctx.wire.describe(res.body)}, but the key still exists`, action);
}

/** `data` as an array (one-api), or `data.items` / `data.data` (new-api style), plus the page number if reported. */
function pageOf(body: unknown, read: WireReaders): {items: unknown[]; page?: number; total?: number} | undefined {
  const data = read.record(body)?.data;
  if (Array.isArray(data)) return {items: data};
  const paged = read.record(data);
  const items = paged?.items ?? paged?.data;
  if (!Array.isArray(items)) return undefined;
  const out: {items: unknown[]; page?: number; total?: number} = {items};
  const page = read.number(paged?.page);
  const total = read.number(paged?.total);
  if (page !== null) out.page = page;
  if (total !== null) out.total = total;
  return out;
}

const aihubmix = {
  apiVersion: 1,
  kind: `platform`,
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
    checkShape(value: string) {
      if (/\s/.test(value)) return `it contains whitespace`;
      if (value.startsWith(`sk-`)) return `that looks like an AIHubMix API key (sk-…); capit needs the Manage Key (system access token) instead`;
      return undefined;
    },
    async validate(ctx: PlatformContext) {
      const action = `check the manage key`;
      const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/api/user/self`, headers: auth(ctx)}, action);
      if (ctx.wire.record(res.body)?.success !== true)
        ctx.fail(`unknown`, `the response did not confirm the key (no "success": true)`, action);
    },
  },

  inferenceBaseUrls(managementBaseUrl: string) {
    const base = managementBaseUrl.replace(/\/+$/, ``);
    // OpenAI-style clients append `/chat/completions`; Anthropic-style ones (Claude Code) append `/v1/messages`.
    return {openai: `${base}/v1`, anthropic: base};
  },

  classifyError,
  succeeded,

  async createKey(ctx: PlatformContext, {name, capUsd, reset, expiresAt}: CreateKeyRequest): Promise<CreatedKey> {
    const action = `create key "${name}"`;
    if (reset !== undefined) noReset(ctx, reset, action);
    const {number: num} = ctx.wire;

    const body = {
      name,
      remain_quota: toQuota(capUsd),
      unlimited_quota: false,
      expired_time: toExpiredTime(expiresAt),
      models: ``,
      subnet: ``,
    };
    // Exactly one POST: core's client never retries it, and neither do we (a lost response may still mean a key).
    const res = await ctx.http.json({method: `POST`, url: tokenUrl(ctx), headers: auth(ctx), body}, action);

    const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
    const id = tokenId(data);
    if (id === undefined) ctx.fail(`unknown`, `the response had no token id`, action);
    const wire = data as WireToken;
    // A token unlike the one asked for is not ours to install: core settles it by name. Omitted fields are not judged.
    const mismatch = typeof wire.name === `string` && wire.name !== name ? `name ${JSON.stringify(wire.name)}`
      : wire.unlimited_quota === true ? `unlimited quota`
        : num(wire.remain_quota) !== null && num(wire.remain_quota) !== toQuota(capUsd) ? `remain_quota ${String(wire.remain_quota)}` : undefined;
    if (mismatch !== undefined)
      ctx.fail(`unknown`, `the response describes a different key (${mismatch})`, action);

    // The create response may mask `key` (`sk-abcd**********wxyz`) and carry the plaintext in `full_key`;
    // a later GET may or may not return it. Never install anything masked.
    let secret = usableSecret(wire.full_key) ?? usableSecret(wire.key);
    if (secret === undefined) {
      try {
        secret = usableSecret((await getToken(ctx, id, action)).key);
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
      ctx.fail(`unknown`, `the response had no usable (unmasked) key secret; ${cleanup}`, action);
    }

    const key = normaliseToken(wire, ctx.wire);
    // A create response without quota fields still describes the key we asked for.
    if (num(wire.remain_quota) === null) {
      key.capUsd = capUsd;
      key.remainingUsd = capUsd;
    }
    if (num(wire.status) === null) key.disabled = false;
    return {...key, id, name: key.name || name, secret};
  },

  listKeys(ctx: PlatformContext) {
    const action = `list keys`;
    // Sequential pages: one-api ignores `size` and answers pages of its own ItemsPerPage (10 by default), so the page
    // size is only known from the answers; `paginate` stops on a page shorter than the longest seen.
    return ctx.paginate(async ({page: p}): Promise<Page<ProviderKey>> => {
      const res = await ctx.http.json({method: `GET`, url: `${tokenUrl(ctx)}?p=${p}&size=${PAGE_SIZE}&num=${PAGE_SIZE}`, headers: auth(ctx)}, action);
      const page = pageOf(res.body, ctx.wire);
      if (!page) ctx.fail(`unknown`, `the key list had no token array but ${ctx.wire.describe(res.body)}`, action);
      const items = page.items.map(item => normaliseToken((ctx.wire.record(item) ?? {}) as WireToken, ctx.wire));
      // new-api style envelopes report their (1-based) page: continue after it.
      return {items, ...(page.total === undefined ? {} : {total: page.total}), ...(page.page === undefined ? {} : {next: page.page + 1})};
    });
  },

  async updateKey(ctx: PlatformContext, id: string, patch: KeyPatch) {
    const action = `update key ${id}`;
    if (patch.reset !== undefined && patch.reset !== null) noReset(ctx, patch.reset, action);
    const {number: num} = ctx.wire;

    let wire = await getToken(ctx, id, action);

    // `fields` are the ones this PUT means to change; the answer must show them, or a read-back must.
    async function put(next: WireToken, query: string, fields: readonly string[]): Promise<WireToken> {
      const req = {method: `PUT`, url: `${tokenUrl(ctx)}${query}`, headers: auth(ctx), body: next} as const;
      const res = await ctx.http.request(req);
      if (ambiguous(res, ctx.wire)) {
        // 2xx but not the envelope (junk, HTML, empty): it proves nothing either way, so read the token back.
        const after = await getToken(ctx, id, `check that ${action} took effect`);
        const unapplied = fields.filter(f => !sameField(after[f], next[f], ctx.wire));
        if (unapplied.length > 0)
          ctx.fail(`unknown`, `AIHubMix answered HTTP ${res.status} with ${ctx.wire.describe(res.body)} but the key still has its old value of ${unapplied.join(`, `)}`, action);
        return after;
      }
      if (!is2xx(res) || !succeeded(res, ctx.wire)) ctx.http.fail(res, action);
      // one-api answers the updated token; some deployments answer `data: true`.
      const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
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
      if (got !== null && (got === STATUS_ENABLED) === patch.disabled)
        ctx.fail(`unknown`, `AIHubMix answered the status change but the key is still ${patch.disabled ? `enabled` : `disabled`} (status ${got})`, action);
    }

    return {...normaliseToken(wire, ctx.wire), id};
  },

  // A missing key is thrown (kind `not-found`), not swallowed: callers decide whether "already gone" is fine.
  // one-api has no "ask with the token itself" management call (and `GET /api/user/token` must never be called), so
  // the token is read with the manage key: by id, else by name (`/api/token/search`).
  async probeKey(ctx: PlatformContext, key: ProbeTarget): Promise<KeyProbe> {
    const {number: num, usd} = ctx.wire;
    const action = `check key ${key.name}`;
    let wire: WireToken | undefined;
    if (key.id !== null) {
      const res = await ctx.http.request({method: `GET`, url: tokenUrl(ctx, key.id), headers: auth(ctx)});
      const body = ctx.wire.record(res.body);
      if (is2xx(res) && body?.success !== false) wire = ctx.wire.record(body?.data) as WireToken | undefined;
      else if (classifyError(res, ctx.wire).kind !== `not-found`) ctx.http.fail(res, action);
    } else {
      const res = await ctx.http.json({method: `GET`, url: `${tokenUrl(ctx)}search?keyword=${encodeURIComponent(key.name)}`, headers: auth(ctx)}, action);
      const found = ctx.wire.record(res.body)?.data;
      wire = Array.isArray(found) ? found.map(t => ctx.wire.record(t) as WireToken | undefined).find(t => t?.name === key.name) : undefined;
    }
    if (!wire) return {state: `deleted`, capUsd: null, remainingUsd: null, reset: null, usage: {lifetime: null}, expiresAt: null};
    const token = normaliseToken(wire, ctx.wire);
    const status = num(wire.status);
    const expired = status === 3 || (token.expiresAt !== undefined && token.expiresAt !== null && Date.parse(token.expiresAt) <= Date.now());
    // one-api status 4 = quota exhausted: still the key, just out of quota (remaining 0 says so).
    const state = expired ? `expired` : status === STATUS_ENABLED || status === 4 ? `ok` : `disabled`;
    return {
      state, capUsd: token.capUsd, remainingUsd: token.remainingUsd, reset: null,
      usage: {lifetime: usd(Math.max(0, num(wire.used_quota) ?? 0) / QUOTA_PER_USD)}, expiresAt: token.expiresAt ?? null,
    };
  },

  // one-api's `quota` is what the account has left; `used_quota` what it spent.
  async credits(ctx: PlatformContext): Promise<AccountCredits> {
    const action = `read the account's balance`;
    const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/api/user/self`, headers: auth(ctx)}, action);
    const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
    const left = ctx.wire.number(data?.quota);
    const used = ctx.wire.number(data?.used_quota) ?? 0;
    if (left === null) ctx.fail(`unknown`, `the response had no quota but ${ctx.wire.describe(res.body)}`, action);
    const remainingUsd = ctx.wire.usd(Math.max(0, left) / QUOTA_PER_USD);
    const usedUsd = ctx.wire.usd(used / QUOTA_PER_USD);
    return {totalUsd: ctx.wire.usd(remainingUsd + usedUsd), usedUsd, remainingUsd};
  },

  async deleteKey(ctx: PlatformContext, id: string) {
    await deleteVerified(ctx, id);
  },
} satisfies PlatformDefinition;

export default aihubmix;
