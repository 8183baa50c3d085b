// The __DISPLAY_NAME__ platform plugin for capit: issue, list, update and delete keys with a hard USD cap.
// capit imports this file only when `capit __ID__ …` runs. Core owns HTTP (proxy, timeouts, retries), prompting and
// error wording; this file only speaks __DISPLAY_NAME__'s management API. Replace the wire format below with the
// provider's real one (its API reference: create key, list keys, update key, delete key, "who am I").
//
// Only *type* imports from capit: the built file must not import capit at runtime (see the README). Everything the
// plugin needs from core comes through `ctx`: `ctx.http.json` (send, and throw core's error unless it succeeded),
// `ctx.fail` (a failure you found in a 2xx answer), `ctx.paginate` (the paging loop) and `ctx.wire` (JSON readers).
import type {
  CreateKeyRequest, CreatedKey, HttpResponse, KeyPatch, PlatformContext, PlatformDefinition, ProviderFailure, ProviderKey, WireReaders,
} from 'capit/plugin';

const DEFAULT_BASE_URL = `https://api.__ID__.example.com/v1`;
const SETUP_URL = `https://__ID__.example.com/settings/keys`;

/** A key as the management API returns it (example wire format). */
interface WireKey {
  id?: unknown;
  name?: unknown;
  key?: unknown;
  limit_usd?: unknown;
  spent_usd?: unknown;
  reset?: unknown;
  disabled?: unknown;
  created_at?: unknown;
  expires_at?: unknown;
  [field: string]: unknown;
}

function auth(ctx: PlatformContext): Record<string, string> {
  return {authorization: `Bearer ${ctx.masterKey}`};
}

/** The key object under `data`, when it has an id; `ctx.fail` otherwise (the answer cannot be used). */
function keyOf(ctx: PlatformContext, res: HttpResponse, action: string): WireKey & {id: string} {
  const data = ctx.wire.record(ctx.wire.record(res.body)?.data);
  if (typeof data?.id !== `string` || data.id === ``) return ctx.fail(`unknown`, `the response had no key object (data.id)`, action);
  return data as WireKey & {id: string};
}

export function normaliseKey(wire: WireKey, read: WireReaders): ProviderKey {
  const cap = read.number(wire.limit_usd);
  const spent = read.number(wire.spent_usd) ?? 0;
  const reset = wire.reset === `daily` || wire.reset === `weekly` || wire.reset === `monthly` ? wire.reset : null;
  return {
    id: String(wire.id ?? ``),
    name: typeof wire.name === `string` ? wire.name : ``,
    spentUsd: spent,
    capUsd: cap,
    remainingUsd: cap === null ? null : Math.max(0, read.usd(cap - spent)),
    reset,
    disabled: wire.disabled === true,
    ...(typeof wire.created_at === `string` ? {createdAt: wire.created_at} : {}),
    ...(typeof wire.expires_at === `string` || wire.expires_at === null ? {expiresAt: wire.expires_at} : {}),
  };
}

/** Maps a failed response to the kind core words for the user. Core reads `Retry-After` itself for a 429. */
export function classifyError(res: HttpResponse, read: WireReaders): ProviderFailure {
  const error = read.record(read.record(res.body)?.error);
  const message = typeof error?.message === `string` ? error.message : read.text(res.body);
  if (res.status === 401) return {kind: `bad-master-key`, message};
  if (res.status === 403) return {kind: `not-master-key`, message};
  if (res.status === 402) return {kind: `insufficient-credits`, message};
  if (res.status === 429) return {kind: `rate-limited`, message};
  if (res.status === 404) return {kind: `not-found`, message};
  if (res.status === 400 || res.status === 422) return {kind: `bad-request`, message};
  if (res.status >= 500) return {kind: `server`, message};
  return {kind: `unknown`, message};
}

const platform = {
  apiVersion: 1,
  kind: `platform`,
  id: `__ID__`,
  baseUrl: {default: DEFAULT_BASE_URL, env: `CAPIT___ID_UPPER___BASE_URL`},
  maxNameLength: 64,

  masterKey: {
    env: [`__ID_UPPER___MANAGEMENT_KEY`],
    setupUrl: SETUP_URL,
    instructions: `capit needs a __DISPLAY_NAME__ management key to create capped keys. Create one at ${SETUP_URL}.`,
    checkShape: (value: string) => (/\s/.test(value) ? `it contains whitespace` : undefined),
    async validate(ctx: PlatformContext) {
      await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/me`, headers: auth(ctx)}, `check the master key`);
    },
  },

  inferenceBaseUrls: (managementBaseUrl: string) => ({openai: managementBaseUrl.replace(/\/+$/, ``)}),

  classifyError,
  // A provider that reports failures inside an HTTP 200 (e.g. `{"success": false}`) adds
  // `succeeded: (res, read) => read.record(res.body)?.success !== false`, and `ctx.http.json` throws for those too.

  // Exactly one create request: never retry it (a lost response may still mean a key exists).
  async createKey(ctx: PlatformContext, {name, capUsd, reset, expiresAt}: CreateKeyRequest): Promise<CreatedKey> {
    const action = `create key "${name}"`;
    const body: Record<string, unknown> = {name, limit_usd: capUsd};
    if (reset) body.reset = reset;
    if (expiresAt) body.expires_at = expiresAt.toISOString();
    const res = await ctx.http.json({method: `POST`, url: `${ctx.baseUrl}/keys`, headers: auth(ctx), body}, action);
    const wire = keyOf(ctx, res, action);
    if (typeof wire.key !== `string` || wire.key === ``) return ctx.fail(`unknown`, `the response had no key secret`, action);
    return {...normaliseKey(wire, ctx.wire), secret: wire.key};
  },

  listKeys(ctx: PlatformContext) {
    // `ctx.paginate` asks for page 0, 1, 2… (with `offset` = items before it), drops repeated ids and stops after a
    // short or empty page. Return `{items, total, next}` when the provider reports a total or numbers pages itself.
    return ctx.paginate(async ({offset}) => {
      const res = await ctx.http.json({method: `GET`, url: `${ctx.baseUrl}/keys?offset=${offset}`, headers: auth(ctx)}, `list keys`);
      const data = ctx.wire.record(res.body)?.data;
      if (!Array.isArray(data)) return ctx.fail(`unknown`, `the key list had no data array`, `list keys`);
      return data.map(item => normaliseKey(ctx.wire.record(item) ?? {}, ctx.wire));
    });
  },

  async updateKey(ctx: PlatformContext, id: string, patch: KeyPatch) {
    const action = `update key ${id}`;
    const body: Record<string, unknown> = {};
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    if (patch.capUsd !== undefined) body.limit_usd = patch.capUsd;
    if (patch.reset !== undefined) body.reset = patch.reset;
    const res = await ctx.http.json({method: `PATCH`, url: `${ctx.baseUrl}/keys/${encodeURIComponent(id)}`, headers: auth(ctx), body}, action);
    return normaliseKey(keyOf(ctx, res, action), ctx.wire);
  },

  async deleteKey(ctx: PlatformContext, id: string) {
    // A 404 is reported (not-found), never ignored: core decides whether "already gone" is fine.
    await ctx.http.json({method: `DELETE`, url: `${ctx.baseUrl}/keys/${encodeURIComponent(id)}`, headers: auth(ctx)}, `delete key ${id}`);
  },
} satisfies PlatformDefinition;

export default platform;
