// The __DISPLAY_NAME__ platform plugin for capit: issue, list, update and delete keys with a hard USD cap.
// capit imports this file only when `capit __ID__ …` runs. Core owns HTTP (proxy, timeouts, retries), prompting and
// error wording; this file only speaks __DISPLAY_NAME__'s management API. Replace the wire format below with the
// provider's real one (its API reference: create key, list keys, update key, delete key, "who am I").
//
// Only *type* imports from capit: the built file must not import capit at runtime (see the README).
import type {
  CreateKeyRequest, CreatedKey, HttpResponse, KeyPatch, PlatformContext, PlatformDefinition, ProviderFailure, ProviderKey,
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
}

function auth(ctx: PlatformContext): Record<string, string> {
  return {authorization: `Bearer ${ctx.masterKey}`};
}

function ok(res: HttpResponse): boolean {
  return res.status >= 200 && res.status < 300;
}

function num(value: unknown): number | null {
  return typeof value === `number` && Number.isFinite(value) ? value : null;
}

export function normaliseKey(wire: WireKey): ProviderKey {
  const cap = num(wire.limit_usd);
  const spent = num(wire.spent_usd) ?? 0;
  const reset = wire.reset === `daily` || wire.reset === `weekly` || wire.reset === `monthly` ? wire.reset : null;
  return {
    id: String(wire.id ?? ``),
    name: typeof wire.name === `string` ? wire.name : ``,
    spentUsd: spent,
    capUsd: cap,
    remainingUsd: cap === null ? null : Math.max(0, Math.round((cap - spent) * 1e6) / 1e6),
    reset,
    disabled: wire.disabled === true,
    ...(typeof wire.created_at === `string` ? {createdAt: wire.created_at} : {}),
    ...(typeof wire.expires_at === `string` || wire.expires_at === null ? {expiresAt: wire.expires_at} : {}),
  };
}

export function classifyError(res: HttpResponse): ProviderFailure {
  const body = res.body as {error?: {message?: unknown}} | string | undefined;
  const message = typeof body === `string` ? body.slice(0, 200) : typeof body?.error?.message === `string` ? body.error.message : ``;
  if (res.status === 401) return {kind: `bad-master-key`, message};
  if (res.status === 403) return {kind: `not-master-key`, message};
  if (res.status === 402) return {kind: `insufficient-credits`, message};
  if (res.status === 429) {
    const wait = Number(res.headers?.get(`retry-after`));
    return Number.isFinite(wait) && wait > 0 ? {kind: `rate-limited`, message, retryAfterSeconds: wait} : {kind: `rate-limited`, message};
  }
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
    checkShape: value => (/\s/.test(value) ? `it contains whitespace` : undefined),
    async validate(ctx) {
      const res = await ctx.http.request({method: `GET`, url: `${ctx.baseUrl}/me`, headers: auth(ctx)});
      if (!ok(res)) ctx.http.fail(res, `check the master key`);
    },
  },

  inferenceBaseUrls: managementBaseUrl => ({openai: managementBaseUrl.replace(/\/+$/, ``)}),

  classifyError,

  // Exactly one create request: never retry it (a lost response may still mean a key exists).
  async createKey(ctx, {name, capUsd, reset, expiresAt}: CreateKeyRequest): Promise<CreatedKey> {
    const body: Record<string, unknown> = {name, limit_usd: capUsd};
    if (reset) body.reset = reset;
    if (expiresAt) body.expires_at = expiresAt.toISOString();
    const res = await ctx.http.request<{data?: WireKey}>({method: `POST`, url: `${ctx.baseUrl}/keys`, headers: auth(ctx), body});
    if (!ok(res)) ctx.http.fail(res, `create key "${name}"`);
    const wire = res.body.data ?? {};
    if (typeof wire.key !== `string`) ctx.http.fail({...res, status: 502, body: {error: {message: `the response had no key`}}}, `create key "${name}"`);
    return {...normaliseKey(wire), secret: wire.key as string};
  },

  async *listKeys(ctx) {
    // Follow the provider's pagination; here: `?cursor=` with `next_cursor` in the response.
    let cursor: string | undefined;
    do {
      const url = `${ctx.baseUrl}/keys${cursor ? `?cursor=${encodeURIComponent(cursor)}` : ``}`;
      const res = await ctx.http.request<{data?: WireKey[]; next_cursor?: string | null}>({method: `GET`, url, headers: auth(ctx)});
      if (!ok(res)) ctx.http.fail(res, `list keys`);
      for (const wire of res.body.data ?? []) yield normaliseKey(wire);
      cursor = res.body.next_cursor ?? undefined;
    } while (cursor);
  },

  async updateKey(ctx, id, patch: KeyPatch) {
    const body: Record<string, unknown> = {};
    if (patch.disabled !== undefined) body.disabled = patch.disabled;
    if (patch.capUsd !== undefined) body.limit_usd = patch.capUsd;
    if (patch.reset !== undefined) body.reset = patch.reset;
    const res = await ctx.http.request<{data?: WireKey}>({method: `PATCH`, url: `${ctx.baseUrl}/keys/${encodeURIComponent(id)}`, headers: auth(ctx), body});
    if (!ok(res)) ctx.http.fail(res, `update key ${id}`);
    return normaliseKey(res.body.data ?? {});
  },

  async deleteKey(ctx, id) {
    const res = await ctx.http.request({method: `DELETE`, url: `${ctx.baseUrl}/keys/${encodeURIComponent(id)}`, headers: auth(ctx)});
    if (!ok(res)) ctx.http.fail(res, `delete key ${id}`); // a 404 is reported (not-found), never ignored
  },
} satisfies PlatformDefinition;

export default platform;
