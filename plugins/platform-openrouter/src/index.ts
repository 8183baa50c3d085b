// OpenRouter: keys with a provider-enforced USD limit, via the management API (`/api/v1/keys`).
// Wire facts: research/apis.md §1. Core owns HTTP, retries and error wording; this file only speaks OpenRouter.
//
// Why not `@openrouter/sdk` (measured for issue 11): its zod validation of the create response rejects OpenRouter's own
// documented 201 example (it requires `external_user` and every usage field) — after the key exists server-side — and
// every call retries 5xx by default, POST /keys included (duplicate keys). Bundled it adds 15-19 ms CPU to an install,
// unbundled 600 ms. So this client stays hand-written, and every response it reads is shape-checked with a clear error:
// /key (data object), create (data.hash, the asked-for fields, a usable secret), list (data array, each entry a hash),
// get/patch (a key object with a hash), delete (`deleted: true` or a GET proving the key is gone).

// Only *type* imports from capit: this file must not import capit at run time (see plugins/README.md); everything it
// needs from core (HTTP, failures, paging, wire readers) comes through `ctx`.
import type {
  AccountCredits,
  ActivityRequest,
  ActivityRow,
  CreateKeyRequest,
  CreatedKey,
  HttpResponse,
  KeyPatch,
  KeyProbe,
  ModelPrice,
  PlatformContext,
  PlatformDefinition,
  ProviderFailure,
  ProbeTarget,
  ProviderKey,
  ResetWindow,
  WireReaders,
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
  [field: string]: unknown;
}

const NOT_MANAGEMENT_KEY = /only management keys|provisioning/i;
const CAP_REACHED = /key limit exceeded|budget limit exceeded|requires more credits|can only afford/i;
const NO_CREDITS = /insufficient credits/i;

function auth(ctx: PlatformContext): Record<string, string> {
  return {authorization: `Bearer ${ctx.masterKey}`};
}

function keyUrl(ctx: PlatformContext, id: string): string {
  return `${ctx.baseUrl}/keys/${encodeURIComponent(id)}`;
}

function resetWindow(value: unknown): ResetWindow | null {
  return value === `daily` || value === `weekly` || value === `monthly` ? value : null;
}

/** `YYYY-MM-DDTHH:MM:SSZ`: OpenRouter rejects non-UTC timestamps; milliseconds are dropped. */
export function formatExpiry(date: Date): string {
  if (Number.isNaN(date.getTime())) throw new Error(`Invalid expiry date`);
  return date.toISOString().replace(/\.\d{3}Z$/, `Z`);
}

/** Normalises a wire key. Spend is window-correct: `usage` is lifetime, so it is the last resort. */
export function normaliseKey(wire: WireKey, read: WireReaders): ProviderKey {
  const {number: num, usd} = read;
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
    spentUsd: Math.max(0, usd(spent)),
    capUsd: limit,
    remainingUsd: remaining,
    reset,
    disabled: wire.disabled === true,
  };
  // BYOK spend is reported apart from `usage`, per window like it.
  const byok = reset !== null ? num(wire[`byok_usage_${reset}`]) ?? num(wire.byok_usage) : num(wire.byok_usage);
  if (byok !== null) key.byokSpentUsd = Math.max(0, usd(byok));
  if (typeof wire.include_byok_in_limit === `boolean`) key.byokCounted = wire.include_byok_in_limit;
  // slice W2 (report): today's partial day, whatever the key's window.
  const today = num(wire.usage_daily);
  if (today !== null) key.spentTodayUsd = Math.max(0, usd(today));
  if (typeof wire.created_at === `string`) key.createdAt = wire.created_at;
  if (typeof wire.expires_at === `string` || wire.expires_at === null) key.expiresAt = wire.expires_at;
  return key;
}

/** A key object with the one field capit cannot do without (its id, `hash`), else undefined. */
function wireKey(value: unknown, read: WireReaders): WireKey & {hash: string} | undefined {
  const data = read.record(value);
  return typeof data?.hash === `string` && data.hash !== `` ? data as WireKey & {hash: string} : undefined;
}

/** The key object of a `GET/PATCH /keys/{hash}` answer, or a clear failure naming what was missing. */
function keyOf(ctx: PlatformContext, res: HttpResponse, action: string): WireKey & {hash: string} {
  const data = wireKey(ctx.wire.record(res.body)?.data, ctx.wire);
  return data ?? ctx.fail(`unknown`, `the response had no key object (data.hash) but ${ctx.wire.describe(res.body)}`, action);
}

/** `{"error":{"code","message"}}`, read leniently: `code` may be a string, the body may be HTML from a proxy. */
function providerMessage(body: unknown, read: WireReaders): string {
  const error = read.record(read.record(body)?.error);
  if (error) {
    if (typeof error.message === `string` && error.message.trim()) return error.message.trim();
    if (typeof error.code === `string` && error.code.trim()) return error.code.trim();
  }
  const top = read.record(body);
  if (top && typeof top.message === `string`) return top.message.trim();
  return read.text(body);
}

export function classifyError(res: HttpResponse, read: WireReaders): ProviderFailure {
  const message = providerMessage(res.body, read);
  const {status} = res;

  if (status === 401) return {kind: `bad-master-key`, message};
  if (status === 403 && NOT_MANAGEMENT_KEY.test(message)) return {kind: `not-master-key`, message};
  if ((status === 402 || status === 403) && CAP_REACHED.test(message)) return {kind: `cap-reached`, message};
  // 402 = Payment Required: without the cap wording it is the account balance.
  if (status === 402 || (NO_CREDITS.test(message) && status === 403)) return {kind: `insufficient-credits`, message};
  // Core reads `Retry-After` itself when wording the failure.
  if (status === 429) return {kind: `rate-limited`, message};
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
function createMismatch(data: WireKey, asked: {name: string; capUsd: number; reset?: ResetWindow; countByok?: boolean}, read: WireReaders): string | undefined {
  const name = typeof data.name === `string` ? data.name : undefined;
  if (name !== undefined && name !== asked.name) return `name ${JSON.stringify(name)}`;
  const limit = read.number(data.limit);
  if (data.limit !== undefined && (limit === null || Math.abs(limit - asked.capUsd) > 1e-9)) return `limit ${JSON.stringify(data.limit)}`;
  if (data.limit_reset !== undefined && (data.limit_reset ?? undefined) !== asked.reset) return `limit_reset ${JSON.stringify(data.limit_reset)}`;
  if (asked.countByok !== undefined && typeof data.include_byok_in_limit === `boolean` && data.include_byok_in_limit !== asked.countByok)
    return `include_byok_in_limit ${String(data.include_byok_in_limit)}`;
  return undefined;
}

/** The fields of a PATCH body that `data` (a key object) does not show applied. */
function unappliedFields(data: Record<string, unknown>, patch: Record<string, unknown>, read: WireReaders): string[] {
  const wrong: string[] = [];
  for (const [field, wanted] of Object.entries(patch)) {
    const got = data[field];
    const gotNumber = read.number(got);
    const same = field === `limit` && wanted !== null && got !== null ? gotNumber !== null && Math.abs(gotNumber - (wanted as number)) < 1e-9 : (got ?? null) === wanted;
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
  const url = keyUrl(ctx, id);
  const action = `delete key ${id}`;
  const res = await ctx.http.json({method: `DELETE`, url, headers: auth(ctx)}, action);
  if (ctx.wire.record(res.body)?.deleted === true) return;
  const check = await ctx.http.request({method: `GET`, url, headers: auth(ctx)});
  if (check.status === 404) return;
  if (check.status < 200 || check.status >= 300) ctx.http.fail(check, `check that ${action} took effect`);
  ctx.fail(`unknown`, `the provider answered HTTP ${res.status} with ${ctx.wire.describe(res.body)}, but the key still exists`, action);
}

/**
 * One model's price from the public `GET /models` listing (no key needed): `pricing.prompt` / `pricing.completion` are
 * USD per token as strings, `top_provider.max_completion_tokens` the most output one request may ask for.
 */
async function modelPrice(ctx: PlatformContext, modelId: string): Promise<ModelPrice | undefined> {
  const action = `look up the price of ${modelId}`;
  const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/models`}, action);
  const list = ctx.wire.record(res.body)?.data;
  if (!Array.isArray(list)) ctx.fail(`unknown`, `the model list had no data array but ${ctx.wire.describe(res.body)}`, action);
  const wanted = modelId.toLowerCase();
  const found = list.map(m => ctx.wire.record(m)).find(m => typeof m?.id === `string` && (m.id.toLowerCase() === wanted || (typeof m.canonical_slug === `string` && m.canonical_slug.toLowerCase() === wanted)));
  if (!found) return undefined;
  const pricing = ctx.wire.record(found.pricing);
  const prompt = ctx.wire.number(pricing?.prompt);
  const completion = ctx.wire.number(pricing?.completion);
  // A negative price is OpenRouter's marker for a variable-priced router (`openrouter/auto`): no fixed worst case.
  if (prompt === null || completion === null || prompt < 0 || completion < 0) return undefined;
  const maxTokens = ctx.wire.number(ctx.wire.record(found.top_provider)?.max_completion_tokens);
  return {promptUsdPerToken: prompt, completionUsdPerToken: completion, ...(maxTokens !== null && maxTokens > 0 ? {maxCompletionTokens: maxTokens} : {})};
}

// ----- issue 15, slice W2 (`capit report`) -----
/**
 * `GET /activity` (research/spend-control.md §1): rows per day, model and endpoint for the last 30 completed UTC days,
 * `{data: [{date, model, usage, byok_usage_inference, requests, prompt_tokens, completion_tokens, …}]}`. Rows carry no
 * key, so core asks once per capit key with `api_key_hash`; the endpoints of one model and day are summed here.
 */
async function activity(ctx: PlatformContext, req: ActivityRequest): Promise<ActivityRow[]> {
  const {number: num, usd} = ctx.wire;
  const query = req.keyId === undefined ? `` : `?api_key_hash=${encodeURIComponent(req.keyId)}`;
  // The same words for every key: a failure that hits every key's call is then said once.
  const action = `read the usage history (activity)`;
  const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/activity${query}`, headers: auth(ctx)}, action);
  const data = ctx.wire.record(res.body)?.data;
  if (!Array.isArray(data)) ctx.fail(`unknown`, `the activity had no data array but ${ctx.wire.describe(res.body)}`, action);
  const rows = new Map<string, ActivityRow>();
  for (const item of data) {
    const wire = ctx.wire.record(item);
    const date = typeof wire?.date === `string` ? wire.date.slice(0, 10) : ``;
    if (!wire || !/^\d{4}-\d{2}-\d{2}$/.test(date) || typeof wire.model !== `string`)
      ctx.fail(`unknown`, `the activity had a row without a date or model`, action);
    const id = `${date}\u0000${wire.model}`;
    const row = rows.get(id) ?? {date, model: wire.model, ...(req.keyId === undefined ? {} : {keyId: req.keyId}),
      usageUsd: 0, byokUsageUsd: 0, requests: 0, promptTokens: 0, completionTokens: 0};
    row.usageUsd = usd(row.usageUsd + (num(wire.usage) ?? 0));
    row.byokUsageUsd = usd(row.byokUsageUsd + (num(wire.byok_usage_inference) ?? 0));
    row.requests += num(wire.requests) ?? 0;
    row.promptTokens += num(wire.prompt_tokens) ?? 0;
    row.completionTokens += num(wire.completion_tokens) ?? 0;
    rows.set(id, row);
  }
  return [...rows.values()];
}
// ----- end of slice W2 -----

// Pages of `GET /keys` requested ahead while listing: 10,000 keys take ~25 round trips, not 100.
const PREFETCH = 4;
// `GET /keys` answers "the most recent 100 API keys" a page (research/apis.md): fewer than 100 is the last page, so the
// common case (a handful of keys) is one request, not one plus the prefetched ones.
const PAGE_SIZE = 100;

const openrouter = {
  apiVersion: 1,
  kind: `platform`,
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
    checkShape(value: string) {
      if (/\s/.test(value)) return `it contains whitespace`;
      if (!value.startsWith(`sk-or-`)) return `OpenRouter keys start with "sk-or-"`;
      return undefined;
    },
    async validate(ctx: PlatformContext) {
      const action = `check the master key`;
      const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/key`, headers: auth(ctx)}, action);
      const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
      if (!data) ctx.fail(`unknown`, `the response had no key object (data) but ${ctx.wire.describe(res.body)}`, action);
      // `is_provisioning_key` is the deprecated name of the same flag.
      const management = data.is_management_key === true || (data.is_management_key === undefined && data.is_provisioning_key === true);
      if (!management)
        ctx.fail(`not-master-key`, `Only management keys can manage keys; this one reports is_management_key: ${String(data.is_management_key ?? `missing`)}`, action);
    },
  },

  inferenceBaseUrls(managementBaseUrl: string) {
    const base = managementBaseUrl.replace(/\/+$/, ``);
    // Claude Code appends `/v1/messages` itself, so its base is the OpenAI one without `/v1`.
    return {openai: base, anthropic: base.replace(/\/v1$/, ``)};
  },

  classifyError,

  async createKey(ctx: PlatformContext, {name, capUsd, reset, expiresAt, countByok}: CreateKeyRequest): Promise<CreatedKey> {
    const action = `create key "${name}"`;
    // `include_byok_in_limit` defaults to false at OpenRouter: without it, spend through the user's own provider keys
    // would never stop at the cap. Sent whenever core says either way.
    const body: Record<string, unknown> = {name, limit: capUsd};
    if (countByok !== undefined) body.include_byok_in_limit = countByok;
    if (reset !== undefined) body.limit_reset = reset;
    if (expiresAt !== undefined) body.expires_at = formatExpiry(expiresAt);

    // Exactly one POST: core's client never retries POST, and neither do we (a lost response may still mean a key).
    const res = await ctx.http.json({method: `POST`, url: `${ctx.baseUrl}/keys`, headers: auth(ctx), body}, action);

    const top = ctx.wire.record(res.body);
    const data = wireKey(top?.data, ctx.wire);
    if (data === undefined)
      ctx.fail(`unknown`, `the response had no key id (data.hash)`, action);
    // A key unlike the one asked for (another name, cap or BYOK rule) is not ours to install: core settles it by name.
    const mismatch = createMismatch(data, {name, capUsd, reset, countByok}, ctx.wire);
    if (mismatch !== undefined)
      ctx.fail(`unknown`, `the response describes a different key (${mismatch})`, action);
    // The spec puts the plaintext at top level; older docs show `data.key`.
    const nested = (data as {key?: unknown}).key;
    const secret = usableSecret(top?.key) ? top.key : usableSecret(nested) ? nested : undefined;
    if (secret === undefined) {
      let cleanup = `the new key was deleted again`;
      try {
        await deleteVerified(ctx, data.hash);
      } catch (error) {
        cleanup = `deleting the new key failed too (${(error as Error).message}); delete key ${data.hash} by hand`;
      }
      ctx.fail(`unknown`, `the response had no usable key secret; ${cleanup}`, action);
    }

    return {...normaliseKey(data, ctx.wire), secret};
  },

  listKeys(ctx: PlatformContext) {
    const action = `list keys`;
    // The API has no page size parameter and no total (100 a page today): offsets follow the first page's length, and a
    // page shorter than 100 ends the listing.
    return ctx.paginate(async ({offset}) => {
      const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/keys?include_disabled=true&offset=${offset}`, headers: auth(ctx)}, action);
      const page = ctx.wire.record(res.body)?.data;
      if (!Array.isArray(page)) ctx.fail(`unknown`, `the key list had no data array but ${ctx.wire.describe(res.body)}`, action);
      return page.map(item => {
        const wire = wireKey(item, ctx.wire);
        return wire ? normaliseKey(wire, ctx.wire) : ctx.fail(`unknown`, `the key list had an entry without a key id (hash)`, action);
      });
    }, {prefetch: PREFETCH, pageSize: PAGE_SIZE});
  },

  async updateKey(ctx: PlatformContext, id: string, patch: KeyPatch) {
    const url = keyUrl(ctx, id);
    const body: Record<string, unknown> = {};
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    // `null` is sent as-is: it clears the cap / the reset window.
    if (patch.capUsd !== undefined) body.limit = patch.capUsd;
    if (patch.reset !== undefined) body.limit_reset = patch.reset;

    const action = `update key ${id}`;
    const res = Object.keys(body).length === 0
      ? await ctx.http.json({method: `GET`, url, headers: auth(ctx)}, action)
      : await ctx.http.json({method: `PATCH`, url, headers: auth(ctx), body}, action);
    let data = wireKey(ctx.wire.record(res.body)?.data, ctx.wire);
    if (!data || unappliedFields(data, body, ctx.wire).length > 0) {
      // A 2xx that does not show the change (junk, an empty body, old values) proves nothing: read the key back.
      const check = await ctx.http.json({method: `GET`, url, headers: auth(ctx)}, `check that ${action} took effect`);
      data = keyOf(ctx, check, action);
      const unapplied = unappliedFields(data, body, ctx.wire);
      if (unapplied.length > 0)
        ctx.fail(`unknown`, `the provider answered HTTP ${res.status} but the key still has its old value of ${unapplied.join(`, `)}`, action);
    }
    return normaliseKey(data, ctx.wire);
  },

  // `GET /key` with the key's own secret is what the agent meets. A 401 there (deleted, disabled, expired or a wrong
  // secret look alike) is told apart with the master key's `GET /keys/{hash}`.
  async probeKey(ctx: PlatformContext, key: ProbeTarget): Promise<KeyProbe> {
    const {number: num} = ctx.wire;
    const action = `check key ${key.name}`;
    const res = await ctx.http.request({method: `GET`, url: `${ctx.baseUrl}/key`, headers: {authorization: `Bearer ${key.secret}`}});
    if (res.status >= 200 && res.status < 300) {
      const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
      if (!data) ctx.fail(`unknown`, `the response had no key object (data) but ${ctx.wire.describe(res.body)}`, action);
      const expiresAt = typeof data.expires_at === `string` ? data.expires_at : null;
      return {
        state: data.disabled === true ? `disabled` : expiresAt !== null && Date.parse(expiresAt) <= Date.now() ? `expired` : `ok`,
        capUsd: num(data.limit), remainingUsd: num(data.limit_remaining), reset: resetWindow(data.limit_reset),
        usage: {lifetime: num(data.usage), daily: num(data.usage_daily), weekly: num(data.usage_weekly), monthly: num(data.usage_monthly)},
        expiresAt,
      };
    }
    if (res.status !== 401 && res.status !== 403) ctx.http.fail(res, action);
    const unknown: KeyProbe = {state: `rejected`, capUsd: null, remainingUsd: null, reset: null, usage: {lifetime: null}, expiresAt: null};
    if (key.id === null) return unknown;
    const check = await ctx.http.request({method: `GET`, url: keyUrl(ctx, key.id), headers: auth(ctx)});
    if (check.status === 404) return {...unknown, state: `deleted`};
    if (check.status < 200 || check.status >= 300) ctx.http.fail(check, action);
    const wire = keyOf(ctx, check, action);
    const normal = normaliseKey(wire, ctx.wire);
    const expiresAt = normal.expiresAt ?? null;
    const state = normal.disabled ? `disabled` : expiresAt !== null && Date.parse(expiresAt) <= Date.now() ? `expired` : `rejected`;
    return {
      state, capUsd: normal.capUsd, remainingUsd: normal.remainingUsd, reset: normal.reset,
      usage: {lifetime: num(wire.usage), daily: num(wire.usage_daily), weekly: num(wire.usage_weekly), monthly: num(wire.usage_monthly)},
      expiresAt,
    };
  },

  async credits(ctx: PlatformContext): Promise<AccountCredits> {
    const action = `read the account's credits`;
    const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/credits`, headers: auth(ctx)}, action);
    const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
    const total = ctx.wire.number(data?.total_credits);
    const used = ctx.wire.number(data?.total_usage);
    if (total === null || used === null) ctx.fail(`unknown`, `the response had no total_credits/total_usage but ${ctx.wire.describe(res.body)}`, action);
    return {totalUsd: total, usedUsd: used, remainingUsd: Math.max(0, ctx.wire.usd(total - used)), topUpUrl: `https://openrouter.ai/settings/credits`};
  },

  // A 404 is thrown (kind `not-found`), not swallowed: callers decide whether "already gone" is fine.
  async deleteKey(ctx: PlatformContext, id: string) {
    await deleteVerified(ctx, id);
  },

  modelPrice,
  activity,
} satisfies PlatformDefinition;

export default openrouter;
