#!/usr/bin/env node
// Loopback OpenRouter emulator for capit's tests, demo and benchmarks.
// Plain JavaScript ESM with node built-ins only, so that bare `node` runs it without a build.
// Types: ./server.d.mts. Shapes follow /work/shared/research/apis.md §1 (management API) and §1.12 (cap refusal).
//
//   import {startEmulator} from './server.mjs';
//   const emu = await startEmulator({port: 0});
//   // emu.openrouterBaseUrl → 'http://127.0.0.1:PORT/api/v1'
//
//   node test/emulator/server.mjs [--port N] [--host H] [--price USD] [--latency MS] [--management-key K]… [--quiet]
//   → prints exactly one line `OPENROUTER_EMULATOR_URL=http://127.0.0.1:PORT/api/v1` on stdout, runs until SIGTERM/SIGINT.

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import process from 'node:process';
import {fileURLToPath} from 'node:url';

export const DEFAULT_MANAGEMENT_KEY = `sk-or-v1-mgmt-fake-0000`;
export const DEFAULT_REPLY_TEXT = `Hello from the capit emulator`;
export const PAGE_SIZE = 100;

const LIMIT_RESETS = new Set([`daily`, `weekly`, `monthly`]);
const ISO_UTC = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(?::\d{2}(?:\.\d{1,9})?)?Z$/;
const MANAGEMENT_PATH = /^\/api\/v1\/(?:keys(?:\/.*)?|key|auth\/key|credits)$/;
/** AIHubMix (one-api) management routes, served at the root next to OpenRouter's /api/v1. */
const AIHUBMIX_MANAGEMENT_PATH = /^\/api\/(?:token(?:\/.*)?|user\/self|user\/token)$/;
// /v1/responses: AIHubMix's Responses API (beta; docs.aihubmix.com/en/api/responses/Basic-Usage), what Codex calls.
const AIHUBMIX_INFERENCE_PATH = /^\/v1\/(?:chat\/completions|messages|responses)$/;

export const DEFAULT_AIHUBMIX_MANAGE_KEY = `aihubmix-manage-fake-0000`;
/** one-api's QuotaPerUnit: quota units per USD. */
export const AIHUBMIX_QUOTA_PER_USD = 500000;
/** one-api's ItemsPerPage: tokens per page of GET /api/token/ when neither `size` nor `num` is given. */
export const AIHUBMIX_DEFAULT_PAGE_SIZE = 10;
const AIHUBMIX_MAX_PAGE_SIZE = 100;
const AIHUBMIX_MAX_NAME = 30;
const AIHUBMIX_BAD_TOKEN = `无权进行此操作，access token 无效`;
const AIHUBMIX_NO_TOKEN = `无权进行此操作，未登录且未提供 access token`;

const MODELS = [
  {
    id: `openai/gpt-4o-mini`,
    canonical_slug: `openai/gpt-4o-mini`,
    name: `OpenAI: GPT-4o-mini`,
    created: 1721260800,
    description: `Emulated model.`,
    context_length: 128000,
    architecture: {modality: `text->text`, input_modalities: [`text`], output_modalities: [`text`], tokenizer: `GPT`},
    pricing: {prompt: `0.000001`, completion: `0.000002`, request: `0`, image: `0`},
    top_provider: {context_length: 128000, max_completion_tokens: 16384, is_moderated: false},
    supported_parameters: [`max_tokens`, `temperature`, `tools`, `tool_choice`, `stream`],
  },
  {
    id: `anthropic/claude-sonnet-4.5`,
    canonical_slug: `anthropic/claude-sonnet-4.5`,
    name: `Anthropic: Claude Sonnet 4.5`,
    created: 1759104000,
    description: `Emulated model.`,
    context_length: 1000000,
    architecture: {modality: `text+image->text`, input_modalities: [`text`, `image`], output_modalities: [`text`], tokenizer: `Claude`},
    pricing: {prompt: `0.000003`, completion: `0.000015`, request: `0`, image: `0`},
    top_provider: {context_length: 1000000, max_completion_tokens: 64000, is_moderated: false},
    supported_parameters: [`max_tokens`, `temperature`, `tools`, `tool_choice`, `stream`, `reasoning`],
  },
];
const MODELS_BODY = JSON.stringify({data: MODELS});

// ---------------------------------------------------------------------------------------------------------------
// small helpers

const nowIso = () => new Date().toISOString().replace(/\.\d{3}Z$/, `Z`);
const round = x => Math.round(x * 1e12) / 1e12;
const isPlainObject = v => v !== null && typeof v === `object` && !Array.isArray(v);
const own = (o, k) => Object.prototype.hasOwnProperty.call(o, k);
/** 'Hello from x' → ['Hello ', 'from ', 'x'] (streamed as separate deltas). */
const splitText = text => text.match(/\s*\S+\s*/g) ?? [text];

function errorBody(status, message, metadata) {
  const error = {code: status, message};
  if (metadata !== undefined) error.metadata = metadata;
  return {error};
}
const errorResponse = (status, message, metadata, headers) => ({status, json: errorBody(status, message, metadata), headers});
const badRequest = reason => errorResponse(400, `Invalid request parameters`, {reason});
const NOT_FOUND = () => errorResponse(404, `Resource not found`);
const NO_AUTH = () => errorResponse(401, `No auth credentials found`);
const USER_NOT_FOUND = () => errorResponse(401, `User not found.`);
const ONLY_MANAGEMENT = () => errorResponse(403, `Only management keys can perform this operation`);

function defaultMessage(status) {
  if (status === 429) return `Rate limit exceeded`;
  if (status === 500) return `Internal Server Error`;
  return http.STATUS_CODES[status] ?? `Error`;
}

/** Matches a knob's `match` ({method?, path?: string|RegExp}) against a request. */
function compileMatch(match, fallback) {
  if (match == null) return fallback;
  if (!isPlainObject(match)) throw new TypeError(`match must be an object {method?, path?}`);
  const method = match.method == null ? null : String(match.method).toUpperCase();
  let path = match.path ?? null;
  if (path == null && typeof match.pathRegex === `string`) path = new RegExp(match.pathRegex);
  if (path != null && typeof path !== `string` && !(path instanceof RegExp))
    throw new TypeError(`match.path must be a string or a RegExp`);
  return (m, p) => {
    if (method !== null && method !== m) return false;
    if (path === null) return fallback(m, p);
    return typeof path === `string` ? path === p : path.test(p);
  };
}
/** `{match: {...}}`, or method/path/pathRegex given inline next to other options. */
function inlineMatch(o) {
  if (o.match != null) return o.match;
  if (o.method != null || o.path != null || o.pathRegex != null) return {method: o.method, path: o.path, pathRegex: o.pathRegex};
  return undefined;
}
const matchAnyApi = () => true; // every request that is not /__emulator
const matchManagement = (_m, p) => MANAGEMENT_PATH.test(p) || AIHUBMIX_MANAGEMENT_PATH.test(p);
const describeMatch = match => {
  if (match == null) return null;
  return {method: match.method ?? null, path: match.path instanceof RegExp ? String(match.path) : match.path ?? match.pathRegex ?? null};
};

function bearer(req) {
  const h = req.headers.authorization;
  if (typeof h !== `string`) return null;
  const m = /^\s*Bearer\s+(\S+)\s*$/i.exec(h);
  return m ? m[1] : null;
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    req.on(`data`, c => chunks.push(c));
    req.on(`end`, () => resolve(chunks.length === 0 ? `` : chunks.length === 1 ? chunks[0].toString(`utf8`) : Buffer.concat(chunks).toString(`utf8`)));
    req.on(`error`, reject);
  });
}

/** `{ok:true, value}` for an empty body (value undefined) or valid JSON, else `{ok:false}`. */
function parseJson(text) {
  if (text.trim() === ``) return {ok: true, value: undefined};
  try {
    return {ok: true, value: JSON.parse(text)};
  } catch {
    return {ok: false};
  }
}

function parseQuery(search) {
  const out = Object.create(null);
  if (!search) return out;
  for (const [k, v] of new URLSearchParams(search)) out[k] = v;
  return out;
}

/** A pool of random hex so that seeding 10,000 keys doesn't call randomBytes 20,000 times. */
function makeHexSource() {
  let pool = ``;
  let at = 0;
  return chars => {
    if (at + chars > pool.length) {
      pool = crypto.randomBytes(Math.max(4096, chars)).toString(`hex`);
      at = 0;
    }
    const s = pool.slice(at, at + chars);
    at += chars;
    return s;
  };
}

// ---------------------------------------------------------------------------------------------------------------
// key store

/** Map<hash, KeyRecord> that bumps `version` on every structural change (so list caches stay valid). */
class KeyMap extends Map {
  constructor() {
    super();
    this.version = 0;
  }
  set(k, v) {
    this.version++;
    return super.set(k, v);
  }
  delete(k) {
    this.version++;
    return super.delete(k);
  }
  clear() {
    this.version++;
    super.clear();
  }
}

function windowUsage(rec) {
  // BYOK spend (requests through the user's own provider keys) counts against the limit only with include_byok_in_limit.
  const byok = rec.include_byok_in_limit ? rec : {byok_usage: 0, byok_usage_daily: 0, byok_usage_weekly: 0, byok_usage_monthly: 0};
  switch (rec.limit_reset) {
    case `daily`: return rec.usage_daily + byok.byok_usage_daily;
    case `weekly`: return rec.usage_weekly + byok.byok_usage_weekly;
    case `monthly`: return rec.usage_monthly + byok.byok_usage_monthly;
    default: return rec.usage + byok.byok_usage;
  }
}
const remainingOf = rec => (rec.limit == null ? null : Math.max(0, round(rec.limit - windowUsage(rec))));
const isExpired = (rec, now = Date.now()) => rec.expires_at != null && Date.parse(rec.expires_at) <= now;

/** The public key object (apis.md §1.3): every field of the record except the plaintext `key`. */
function publicKey(rec) {
  return {
    hash: rec.hash,
    name: rec.name,
    label: rec.label,
    disabled: rec.disabled,
    limit: rec.limit,
    limit_remaining: remainingOf(rec),
    limit_reset: rec.limit_reset,
    include_byok_in_limit: rec.include_byok_in_limit,
    usage: rec.usage,
    usage_daily: rec.usage_daily,
    usage_weekly: rec.usage_weekly,
    usage_monthly: rec.usage_monthly,
    byok_usage: rec.byok_usage,
    byok_usage_daily: rec.byok_usage_daily,
    byok_usage_weekly: rec.byok_usage_weekly,
    byok_usage_monthly: rec.byok_usage_monthly,
    created_at: rec.created_at,
    updated_at: rec.updated_at,
    expires_at: rec.expires_at,
    creator_user_id: rec.creator_user_id,
    workspace_id: rec.workspace_id,
  };
}

const labelOf = key => `${key.slice(0, 12)}...${key.slice(-4)}`;

/** Validates a POST /keys body. Returns an error string or null. */
function validateCreate(body) {
  if (!isPlainObject(body)) return `body must be a JSON object`;
  if (typeof body.name !== `string` || body.name.length === 0) return `name must be a non-empty string`;
  return validateCommon(body) ?? validateCreateOnly(body);
}
function validateCommon(body) {
  if (own(body, `limit`) && body.limit !== null && !(typeof body.limit === `number` && Number.isFinite(body.limit) && body.limit >= 0))
    return `limit must be a number >= 0 or null`;
  if (own(body, `limit_reset`) && body.limit_reset !== null && !LIMIT_RESETS.has(body.limit_reset))
    return `limit_reset must be one of daily, weekly, monthly or null`;
  if (own(body, `include_byok_in_limit`) && typeof body.include_byok_in_limit !== `boolean`)
    return `include_byok_in_limit must be a boolean`;
  return null;
}
function validateCreateOnly(body) {
  if (own(body, `expires_at`) && body.expires_at !== null) {
    if (typeof body.expires_at !== `string` || !ISO_UTC.test(body.expires_at) || Number.isNaN(Date.parse(body.expires_at)))
      return `expires_at must be an ISO 8601 date-time in UTC (ending in Z); other timezones are rejected`;
  }
  if (own(body, `workspace_id`) && typeof body.workspace_id !== `string`) return `workspace_id must be a string`;
  if (own(body, `creator_user_id`) && body.creator_user_id !== null && typeof body.creator_user_id !== `string`)
    return `creator_user_id must be a string or null`;
  return null;
}
function validatePatch(body) {
  if (!isPlainObject(body)) return `body must be a JSON object`;
  for (const k of [`expires_at`, `workspace_id`, `creator_user_id`])
    if (own(body, k)) return `${k} cannot be changed after creation`;
  if (own(body, `name`) && (typeof body.name !== `string` || body.name.length === 0)) return `name must be a non-empty string`;
  if (own(body, `disabled`) && typeof body.disabled !== `boolean`) return `disabled must be a boolean`;
  return validateCommon(body);
}

// ---------------------------------------------------------------------------------------------------------------
// the emulator

/**
 * Starts the emulator on loopback.
 * @param {import('./server.d.mts').EmulatorOptions} [options]
 * @returns {Promise<import('./server.d.mts').Emulator>}
 */
export async function startEmulator(options = {}) {
  const host = options.host ?? `127.0.0.1`;
  const quiet = options.quiet ?? true;
  const replyText = options.replyText ?? DEFAULT_REPLY_TEXT;
  const maxRequestLog = options.maxRequestLog ?? Infinity;
  const managementKeys = [...(options.managementKeys ?? [DEFAULT_MANAGEMENT_KEY])];
  const managementSet = new Set(managementKeys);
  const workspaceId = options.workspaceId ?? crypto.randomUUID();
  const creatorUserId = options.creatorUserId ?? `user_capitemulator000000000000`;
  const hex = makeHexSource();

  const keys = new KeyMap();
  /** plaintext key → record. Kept in step by insertKey/removeKey; when state.keys was changed directly (a test
   * adding or deleting records), findBySecret rebuilds it once per change. */
  const bySecret = new Map();
  let indexedVersion = keys.version;
  /** @type {any[]} */
  const requests = [];
  /** AIHubMix tokens: id → record (key stored without `sk-`, as one-api does). */
  const aihubmixTokens = new Map();
  const aihubmixManageKeys = [...(options.aihubmixManageKeys ?? [DEFAULT_AIHUBMIX_MANAGE_KEY])];
  let aihubmixNextId = 1;
  const aihubmixUserId = 152534;
  const state = {keys, requests, aihubmixTokens};
  let genCounter = 0;

  // ----- slice B1 (`capit why`): emulator clock, account credits, the 402 affordability pre-check -----
  /** Added to Date.now() for expiry and usage windows (advanceClock). */
  let clockOffsetMs = 0;
  const clock = () => Date.now() + clockOffsetMs;
  /** What GET /credits reports as total_credits; inference answers 402 "Insufficient credits" once usage reaches it. */
  let accountCreditsUsd = options.accountCreditsUsd ?? 1000;
  /** USD per output token for the 402 "can only afford" pre-check; 0 = no pre-check (the default). */
  let outputTokenPriceUsd = options.outputTokenPriceUsd ?? 0;
  const accountUsage = () => round(Array.from(keys.values()).reduce((sum, r) => sum + r.usage, 0));
  /** Moves the clock on; usage windows whose UTC day / Monday-week / month boundary was crossed reset to 0. */
  function advanceClock(ms) {
    if (!(typeof ms === `number` && ms >= 0)) throw new TypeError(`advanceMs must be a number >= 0`);
    const before = new Date(clock());
    clockOffsetMs += ms;
    const after = new Date(clock());
    const day = d => Math.floor(d.getTime() / 86_400_000);
    const week = d => Math.floor((day(d) + 3) / 7); // 1970-01-01 was a Thursday: weeks start on Monday
    const month = d => d.getUTCFullYear() * 12 + d.getUTCMonth();
    for (const rec of keys.values()) {
      if (day(after) !== day(before)) rec.usage_daily = rec.byok_usage_daily = 0;
      if (week(after) !== week(before)) rec.usage_weekly = rec.byok_usage_weekly = 0;
      if (month(after) !== month(before)) rec.usage_monthly = rec.byok_usage_monthly = 0;
      rec.limit_remaining = remainingOf(rec);
    }
    return after.toISOString();
  }
  function setAccount(opts = {}) {
    if (opts.creditsUsd !== undefined) {
      if (!(typeof opts.creditsUsd === `number` && opts.creditsUsd >= 0)) throw new TypeError(`creditsUsd must be a number >= 0`);
      accountCreditsUsd = opts.creditsUsd;
    }
    if (opts.outputTokenPriceUsd !== undefined) {
      if (!(typeof opts.outputTokenPriceUsd === `number` && opts.outputTokenPriceUsd >= 0)) throw new TypeError(`outputTokenPriceUsd must be a number >= 0`);
      outputTokenPriceUsd = opts.outputTokenPriceUsd;
    }
    return {creditsUsd: accountCreditsUsd, outputTokenPriceUsd, usageUsd: accountUsage(), now: new Date(clock()).toISOString()};
  }
  /** The account and affordability checks OpenRouter runs before a request: an error response, or null. */
  function preflight(rec, body) {
    if (accountUsage() >= accountCreditsUsd) return errorResponse(402, `Insufficient credits. Add more using https://openrouter.ai/settings/credits`);
    const remaining = remainingOf(rec);
    // The Responses API names the limit max_output_tokens.
    const asked = body.max_tokens ?? body.max_output_tokens;
    const maxTokens = Number.isInteger(asked) && asked > 0 ? asked : null;
    if (outputTokenPriceUsd > 0 && maxTokens !== null && remaining !== null && remaining > 0 && maxTokens * outputTokenPriceUsd > remaining)
      return errorResponse(402, `This request requires more credits, or fewer max_tokens. You requested up to ${maxTokens} tokens, but can only afford ${Math.floor(remaining / outputTokenPriceUsd)}. To increase, visit https://openrouter.ai/settings/keys and create a key with a higher total limit`);
    return null;
  }
  // ----- end of slice B1 block -----

  // ----- knobs -----
  let latencyMs = options.latencyMs ?? 0;
  let pricePerRequestUsd = options.pricePerRequestUsd ?? 0.5;
  /** @type {{remaining:number, status:number, retryAfter?:number|string, body?:unknown, test:Function, match:any}[]} */
  let failRules = [];
  /** @type {{remaining:number, afterHandling:boolean, test:Function, match:any}[]} */
  let dropRules = [];
  /** @type {{every:number, count:number, test:Function, match:any} | null} */
  let every429Rule = null;
  // AIHubMix quirks (see Knobs in server.d.mts)
  let aihubmixFullKey = options.aihubmixFullKey ?? true;
  let aihubmixGetReveals = options.aihubmixGetReveals ?? true;
  let aihubmixAuthFailureStatus = options.aihubmixAuthFailureStatus ?? 200;

  const knobs = {
    get latencyMs() {
      return latencyMs;
    },
    set latencyMs(ms) {
      if (!(typeof ms === `number` && ms >= 0)) throw new TypeError(`latencyMs must be a number >= 0`);
      latencyMs = ms;
    },
    get pricePerRequestUsd() {
      return pricePerRequestUsd;
    },
    set pricePerRequestUsd(usd) {
      if (!(typeof usd === `number` && usd >= 0)) throw new TypeError(`pricePerRequestUsd must be a number >= 0`);
      pricePerRequestUsd = usd;
    },
    get aihubmixFullKey() {
      return aihubmixFullKey;
    },
    set aihubmixFullKey(v) {
      if (typeof v !== `boolean`) throw new TypeError(`aihubmixFullKey must be a boolean`);
      aihubmixFullKey = v;
    },
    get aihubmixGetReveals() {
      return aihubmixGetReveals;
    },
    set aihubmixGetReveals(v) {
      if (typeof v !== `boolean`) throw new TypeError(`aihubmixGetReveals must be a boolean`);
      aihubmixGetReveals = v;
    },
    get aihubmixAuthFailureStatus() {
      return aihubmixAuthFailureStatus;
    },
    set aihubmixAuthFailureStatus(v) {
      if (v !== 200 && v !== 401) throw new TypeError(`aihubmixAuthFailureStatus must be 200 or 401`);
      aihubmixAuthFailureStatus = v;
    },
    failNext(n, opts = {}) {
      const status = opts.status ?? 500;
      if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`status must be an HTTP status`);
      if (n > 0)
        failRules.push({remaining: n, status, retryAfter: opts.retryAfter, body: opts.body, test: compileMatch(inlineMatch(opts), matchAnyApi), match: inlineMatch(opts)});
    },
    dropNext(n, matchOrOpts) {
      // dropNext(n, {method, path}) or dropNext(n, {match: {method, path}, afterHandling: true})
      // or dropNext(n, {method, path, afterHandling: true})
      const o = matchOrOpts ?? {};
      const match = inlineMatch(o);
      if (n > 0) dropRules.push({remaining: n, afterHandling: !!o.afterHandling, test: compileMatch(match, matchAnyApi), match});
    },
    every429(n, match) {
      every429Rule = n > 0 ? {every: n, count: 0, test: compileMatch(match, matchManagement), match} : null;
    },
    reset() {
      latencyMs = options.latencyMs ?? 0;
      pricePerRequestUsd = options.pricePerRequestUsd ?? 0.5;
      failRules = [];
      dropRules = [];
      every429Rule = null;
      aihubmixFullKey = options.aihubmixFullKey ?? true;
      aihubmixGetReveals = options.aihubmixGetReveals ?? true;
      aihubmixAuthFailureStatus = options.aihubmixAuthFailureStatus ?? 200;
    },
    describe() {
      return {
        latencyMs,
        pricePerRequestUsd,
        failNext: failRules.map(r => ({remaining: r.remaining, status: r.status, retryAfter: r.retryAfter ?? null, match: describeMatch(r.match)})),
        dropNext: dropRules.map(r => ({remaining: r.remaining, afterHandling: r.afterHandling, match: describeMatch(r.match)})),
        every429: every429Rule && {every: every429Rule.every, count: every429Rule.count, match: describeMatch(every429Rule.match)},
        aihubmixFullKey,
        aihubmixGetReveals,
        aihubmixAuthFailureStatus,
      };
    },
  };

  /** Decides synchronously (in arrival order) what a knob does to this request. */
  function decide(method, path) {
    for (let i = 0; i < dropRules.length; i++) {
      const r = dropRules[i];
      if (r.test(method, path)) {
        if (--r.remaining <= 0) dropRules.splice(i, 1);
        return {kind: r.afterHandling ? `drop-after` : `drop`};
      }
    }
    for (let i = 0; i < failRules.length; i++) {
      const r = failRules[i];
      if (r.test(method, path)) {
        if (--r.remaining <= 0) failRules.splice(i, 1);
        return {kind: `fail`, rule: r};
      }
    }
    if (every429Rule && every429Rule.test(method, path)) {
      if (++every429Rule.count % every429Rule.every === 0) return {kind: `fail`, rule: {status: 429, retryAfter: 0}};
    }
    return null;
  }

  function failResponse(rule, path = ``) {
    const headers = {};
    if (rule.retryAfter !== undefined && rule.retryAfter !== null) headers[`retry-after`] = String(rule.retryAfter);
    if (rule.body === undefined && AIHUBMIX_MANAGEMENT_PATH.test(path))
      return {status: rule.status, json: {success: false, message: defaultMessage(rule.status)}, headers};
    if (rule.body === undefined && AIHUBMIX_INFERENCE_PATH.test(path))
      return {status: rule.status, json: {error: {message: defaultMessage(rule.status), type: `one_api_error`}}, headers};
    if (rule.body === undefined) return {status: rule.status, json: errorBody(rule.status, defaultMessage(rule.status)), headers};
    if (typeof rule.body === `string`) return {status: rule.status, text: rule.body, headers};
    return {status: rule.status, json: rule.body, headers};
  }

  // ----- key operations -----
  function insertKey(params, secret, hash) {
    const at = params.created_at ?? nowIso();
    const usage = params.usage ?? 0;
    const rec = {
      hash,
      name: params.name,
      label: labelOf(secret),
      disabled: params.disabled ?? false,
      limit: params.limit ?? null,
      limit_remaining: null,
      limit_reset: params.limit_reset ?? null,
      include_byok_in_limit: params.include_byok_in_limit ?? false,
      usage,
      usage_daily: params.usage_daily ?? usage,
      usage_weekly: params.usage_weekly ?? usage,
      usage_monthly: params.usage_monthly ?? usage,
      byok_usage: params.byok_usage ?? 0,
      byok_usage_daily: params.byok_usage ?? 0,
      byok_usage_weekly: params.byok_usage ?? 0,
      byok_usage_monthly: params.byok_usage ?? 0,
      created_at: at,
      updated_at: null,
      expires_at: params.expires_at ?? null,
      creator_user_id: params.creator_user_id === undefined ? creatorUserId : params.creator_user_id,
      workspace_id: params.workspace_id ?? workspaceId,
      key: secret,
    };
    rec.limit_remaining = remainingOf(rec);
    const inStep = indexedVersion === keys.version;
    keys.set(hash, rec);
    bySecret.set(secret, rec);
    if (inStep) indexedVersion = keys.version;
    return rec;
  }

  function createKey(params) {
    const problem = validateCreate(params);
    if (problem) throw new TypeError(problem);
    return insertKey(params, `sk-or-v1-${hex(64)}`, hex(64));
  }

  function seedKeys(count, opts = {}) {
    const {prefix = `seed`, ...rest} = opts;
    const params = {limit: 5, usage: 0, ...rest};
    const problem = validateCommon(params) ?? validateCreateOnly(params);
    if (problem) throw new TypeError(problem);
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = insertKey({...params, name: `${prefix}-${i}`}, `sk-or-v1-${hex(64)}`, hex(64));
    return out;
  }

  function removeKey(hash) {
    const rec = keys.get(hash);
    if (!rec) return false;
    const inStep = indexedVersion === keys.version;
    keys.delete(hash);
    if (bySecret.get(rec.key) === rec) bySecret.delete(rec.key);
    if (inStep) indexedVersion = keys.version;
    return true;
  }

  // ----- issue 15, slice W2 (`capit report`): GET /api/v1/activity from the charges made -----
  /** `hash\0date\0model` → summed charges of that key, UTC day (of the emulator clock) and model: bounded by keys × days × models. */
  const activityBuckets = new Map();
  function recordActivity(hash, usd, opts) {
    // `opts.date` (YYYY-MM-DD) books a charge on a past day: for screenshots and tests of history.
    const date = typeof opts.date === `string` ? opts.date : new Date(clock()).toISOString().slice(0, 10);
    const model = typeof opts.model === `string` && opts.model !== `` ? opts.model : `openrouter/auto`;
    const id = `${hash}\u0000${date}\u0000${model}`;
    const b = activityBuckets.get(id) ?? {hash, date, model, usage: 0, byok_usage_inference: 0, requests: 0, prompt_tokens: 0, completion_tokens: 0};
    if (opts.byok) b.byok_usage_inference = round(b.byok_usage_inference + usd);
    else b.usage = round(b.usage + usd);
    b.requests += 1;
    b.prompt_tokens += opts.promptTokens ?? 0;
    b.completion_tokens += opts.completionTokens ?? 0;
    activityBuckets.set(id, b);
  }
  /** OpenRouter's rows: the last 30 completed UTC days (today excluded), filterable by `api_key_hash` and `date`. */
  function activity(query) {
    if (query.date !== undefined && !/^\d{4}-\d{2}-\d{2}$/.test(query.date)) return badRequest(`date must be YYYY-MM-DD`);
    const today = Math.floor(clock() / 86_400_000);
    const first = new Date((today - 30) * 86_400_000).toISOString().slice(0, 10);
    const todayIso = new Date(today * 86_400_000).toISOString().slice(0, 10);
    const rows = new Map();
    for (const b of activityBuckets.values()) {
      if (b.date < first || b.date >= todayIso) continue;
      if (query.api_key_hash !== undefined && b.hash !== query.api_key_hash) continue;
      if (query.date !== undefined && b.date !== query.date) continue;
      const id = `${b.date}\u0000${b.model}`;
      const row = rows.get(id) ?? {date: b.date, model: b.model, model_permaslug: b.model, endpoint_id: `emulator-${b.model}`, provider_name: `Emulator`,
        usage: 0, byok_usage_inference: 0, requests: 0, prompt_tokens: 0, completion_tokens: 0, reasoning_tokens: 0};
      row.usage = round(row.usage + b.usage);
      row.byok_usage_inference = round(row.byok_usage_inference + b.byok_usage_inference);
      row.requests += b.requests;
      row.prompt_tokens += b.prompt_tokens;
      row.completion_tokens += b.completion_tokens;
      rows.set(id, row);
    }
    const data = [...rows.values()].sort((a, b) => (a.date === b.date ? a.model.localeCompare(b.model) : a.date < b.date ? 1 : -1));
    return {status: 200, json: {data}};
  }
  // ----- end of slice W2 -----

  function charge(hash, usd, opts = {}) {
    const rec = keys.get(hash);
    if (!rec) throw new Error(`unknown key hash ${hash}`);
    recordActivity(hash, usd, opts); // slice W2
    // `byok: true`: spend through the user's own provider key, reported as byok_usage*.
    const field = opts.byok ? `byok_usage` : `usage`;
    rec[field] = round(rec[field] + usd);
    // A charge booked on a past day (`opts.date`) counts in the lifetime usage and /activity, not in today's windows.
    if (typeof opts.date === `string` && opts.date !== new Date(clock()).toISOString().slice(0, 10)) {
      rec.limit_remaining = remainingOf(rec);
      return rec;
    }
    rec[`${field}_daily`] = round(rec[`${field}_daily`] + usd);
    rec[`${field}_weekly`] = round(rec[`${field}_weekly`] + usd);
    rec[`${field}_monthly`] = round(rec[`${field}_monthly`] + usd);
    rec.limit_remaining = remainingOf(rec);
    return rec;
  }

  function findBySecret(secret) {
    if (indexedVersion !== keys.version) {
      bySecret.clear();
      for (const r of keys.values()) bySecret.set(r.key, r);
      indexedVersion = keys.version;
    }
    return bySecret.get(secret) ?? null;
  }

  // newest first; cached per KeyMap version
  let listCache = null;
  let listCacheVersion = -1;
  function newestFirst() {
    if (listCacheVersion !== keys.version || listCache === null) {
      listCache = Array.from(keys.values()).reverse();
      listCacheVersion = keys.version;
    }
    return listCache;
  }

  // ----- auth -----
  /** For management endpoints: null when allowed, else an error response. */
  function requireManagement(req) {
    if (typeof req.headers.authorization !== `string` || req.headers.authorization.trim() === ``) return NO_AUTH();
    const token = bearer(req);
    if (token === null) return NO_AUTH();
    if (managementSet.has(token)) return null;
    return findBySecret(token) ? ONLY_MANAGEMENT() : USER_NOT_FOUND();
  }

  function inferenceToken(req) {
    const b = bearer(req);
    if (b) return b;
    const x = req.headers[`x-api-key`];
    return typeof x === `string` && x.trim() !== `` ? x.trim() : null;
  }

  // ----- routes -----
  function route(method, path, query, req, body, entry) {
    if (AIHUBMIX_MANAGEMENT_PATH.test(path) || path === `/api/token`) return aihubmixManagement(method, path, query, req, body, entry);
    if (AIHUBMIX_INFERENCE_PATH.test(path) && method === `POST`)
      return aihubmixInference(path.endsWith(`/messages`) ? `anthropic` : path.endsWith(`/responses`) ? `responses` : `openai`, req, body, entry);
    // probes
    if ((path === `/api` || path === `/api/` || path === `/api/v1` || path === `/api/v1/`) && (method === `HEAD` || method === `GET`))
      return {status: 200, json: {ok: true}};
    if (path === `/api/v1/models` && method === `GET`) return {status: 200, raw: MODELS_BODY};

    if (path === `/api/v1/chat/completions` && method === `POST`) return inference(`openai`, req, body, entry);
    if (path === `/api/v1/messages` && method === `POST`) return inference(`anthropic`, req, body, entry);
    if (path === `/api/v1/responses` && method === `POST`) return inference(`responses`, req, body, entry);
    if (path === `/api/v1/messages/count_tokens` && method === `POST`) return {status: 200, json: {input_tokens: 10}};

    if (path === `/api/v1/key` || path === `/api/v1/auth/key`) {
      if (method !== `GET`) return errorResponse(405, `Method Not Allowed`);
      return currentKey(req);
    }

    if (path === `/api/v1/credits` && method === `GET`) {
      const denied = requireManagement(req);
      if (denied) return denied;
      return {status: 200, json: {data: {total_credits: accountCreditsUsd, total_usage: accountUsage()}}}; // slice B1: knob
    }

    if (path === `/api/v1/activity` && method === `GET`) { // slice W2
      const denied = requireManagement(req);
      if (denied) return denied;
      return activity(query);
    }

    if (path === `/api/v1/keys`) {
      if (method !== `GET` && method !== `POST`) return errorResponse(405, `Method Not Allowed`);
      const denied = requireManagement(req);
      if (denied) return denied;
      if (method === `GET`) return listKeys(query);
      const parsed = parseJson(body);
      if (!parsed.ok) return badRequest(`body is not valid JSON`);
      const problem = validateCreate(parsed.value);
      if (problem) return badRequest(problem);
      const rec = insertKey(parsed.value, `sk-or-v1-${hex(64)}`, hex(64));
      entry.keyHash = rec.hash;
      return {status: 201, json: {data: publicKey(rec), key: rec.key}};
    }

    if (path.startsWith(`/api/v1/keys/`)) {
      const hash = decodeURIComponent(path.slice(`/api/v1/keys/`.length));
      if (method !== `GET` && method !== `PATCH` && method !== `DELETE`) return errorResponse(405, `Method Not Allowed`);
      const denied = requireManagement(req);
      if (denied) return denied;
      const rec = keys.get(hash);
      if (!rec) return NOT_FOUND();
      entry.keyHash = rec.hash;
      if (method === `GET`) return {status: 200, json: {data: publicKey(rec)}};
      if (method === `DELETE`) {
        removeKey(hash);
        return {status: 200, json: {deleted: true}};
      }
      const parsed = parseJson(body);
      if (!parsed.ok) return badRequest(`body is not valid JSON`);
      const patch = parsed.value ?? {};
      const problem = validatePatch(patch);
      if (problem) return badRequest(problem);
      for (const k of [`name`, `disabled`, `limit`, `limit_reset`, `include_byok_in_limit`]) if (own(patch, k)) rec[k] = patch[k];
      rec.updated_at = nowIso();
      rec.limit_remaining = remainingOf(rec);
      return {status: 200, json: {data: publicKey(rec)}};
    }

    return errorResponse(404, `Not Found`);
  }

  function listKeys(query) {
    let offset = 0;
    if (query.offset !== undefined) {
      if (!/^\d+$/.test(query.offset)) return badRequest(`offset must be an integer >= 0`);
      offset = Number(query.offset);
    }
    let includeDisabled = false;
    if (query.include_disabled !== undefined) {
      if (query.include_disabled !== `true` && query.include_disabled !== `false`) return badRequest(`include_disabled must be "true" or "false"`);
      includeDisabled = query.include_disabled === `true`;
    }
    const all = newestFirst();
    const data = [];
    if (includeDisabled) {
      for (let i = offset; i < all.length && data.length < PAGE_SIZE; i++) data.push(publicKey(all[i]));
    } else {
      let seen = 0;
      for (let i = 0; i < all.length && data.length < PAGE_SIZE; i++) {
        const r = all[i];
        if (r.disabled) continue;
        if (seen++ >= offset) data.push(publicKey(r));
      }
    }
    return {status: 200, json: {data}};
  }

  function currentKey(req) {
    const token = bearer(req);
    if (token === null) return NO_AUTH();
    const common = {byok_usage: 0, byok_usage_daily: 0, byok_usage_weekly: 0, byok_usage_monthly: 0, is_free_tier: false};
    const rateLimit = {requests: -1, interval: `10s`, note: `This field is deprecated and safe to ignore.`};
    if (managementSet.has(token))
      return {
        status: 200,
        json: {
          data: {
            label: labelOf(token), limit: null, limit_remaining: null, limit_reset: null, include_byok_in_limit: false,
            usage: 0, usage_daily: 0, usage_weekly: 0, usage_monthly: 0, ...common,
            is_management_key: true, is_provisioning_key: true, creator_user_id: creatorUserId, rate_limit: rateLimit, expires_at: null,
          },
        },
      };
    const rec = findBySecret(token);
    if (!rec || rec.disabled || isExpired(rec, clock())) return USER_NOT_FOUND();
    return {
      status: 200,
      json: {
        data: {
          label: rec.label, limit: rec.limit, limit_remaining: remainingOf(rec), limit_reset: rec.limit_reset,
          include_byok_in_limit: rec.include_byok_in_limit, usage: rec.usage, usage_daily: rec.usage_daily,
          usage_weekly: rec.usage_weekly, usage_monthly: rec.usage_monthly, ...common,
          is_management_key: false, is_provisioning_key: false, creator_user_id: rec.creator_user_id, rate_limit: rateLimit,
          expires_at: rec.expires_at, disabled: rec.disabled,
        },
      },
    };
  }

  function inference(flavour, req, bodyText, entry) {
    const token = inferenceToken(req);
    if (token === null) return NO_AUTH();
    if (managementSet.has(token))
      return errorResponse(403, `Management keys cannot be used for completions. Create an API key at https://openrouter.ai/settings/keys`);
    const rec = findBySecret(token);
    if (!rec || rec.disabled || isExpired(rec, clock())) return USER_NOT_FOUND();
    entry.keyHash = rec.hash;
    const parsed = parseJson(bodyText);
    if (!parsed.ok || !isPlainObject(parsed.value)) return errorResponse(400, `Invalid request body: expected a JSON object`);
    const body = parsed.value;
    const model = typeof body.model === `string` && body.model !== `` ? body.model : `openrouter/auto`;
    entry.model = model;
    const remaining = remainingOf(rec);
    if (remaining !== null && remaining <= 0)
      return errorResponse(403, `Key limit exceeded (${rec.limit_reset ?? `total`} limit). Manage it using https://openrouter.ai/settings/keys`);
    const refused = preflight(rec, body); // slice B1
    if (refused) return refused;
    const price = pricePerRequestUsd;
    const promptSource = flavour === `openai` ? body.messages : flavour === `responses` ? [body.instructions, body.input] : [body.system, body.messages];
    const promptTokens = Math.max(1, Math.ceil((JSON.stringify(promptSource ?? ``)?.length ?? 0) / 4));
    const completionTokens = Math.max(1, Math.ceil(replyText.length / 4));
    charge(rec.hash, price, {model, promptTokens, completionTokens}); // slice W2: model and tokens for /activity
    entry.chargedUsd = price;
    const id = `gen-${Date.now()}-${++genCounter}`;
    const stream = body.stream === true;
    if (flavour === `responses`) return responsesAnswer(id, model, stream, promptTokens, completionTokens, price);
    return flavour === `openai`
      ? openaiAnswer(id, model, stream, promptTokens, completionTokens, price)
      : anthropicAnswer(id, model, stream, promptTokens, completionTokens, price);
  }

  /**
   * OpenAI Responses API answer (OpenRouter serves it at /api/v1/responses; Codex's only wire API): one assistant
   * message holding the reply. Streamed as the typed events Codex reads: response.created, output_item.added,
   * content_part.added, output_text.delta…, output_text.done, content_part.done, output_item.done, response.completed
   * (with usage).
   */
  function responsesAnswer(id, model, stream, inputTokens, outputTokens, cost) {
    const respId = `resp_${id}`;
    const msgId = `msg_${id}`;
    const createdAt = Math.floor(Date.now() / 1000);
    const usage = {input_tokens: inputTokens, input_tokens_details: {cached_tokens: 0}, output_tokens: outputTokens,
      output_tokens_details: {reasoning_tokens: 0}, total_tokens: inputTokens + outputTokens, cost};
    const part = text => ({type: `output_text`, text, annotations: []});
    const message = content => ({id: msgId, type: `message`, role: `assistant`, status: content ? `completed` : `in_progress`, content: content ? [part(content)] : []});
    const response = (status, output, withUsage) => ({
      id: respId, object: `response`, created_at: createdAt, status, model, output, error: null, incomplete_details: null,
      ...(withUsage ? {usage} : {usage: null}),
    });
    if (!stream) return {status: 200, json: response(`completed`, [message(replyText)], true)};
    let seq = 0;
    const ev = (type, data) => `event: ${type}\ndata: ${JSON.stringify({type, sequence_number: seq++, ...data})}\n\n`;
    const sse = [
      ev(`response.created`, {response: response(`in_progress`, [], false)}),
      ev(`response.in_progress`, {response: response(`in_progress`, [], false)}),
      ev(`response.output_item.added`, {output_index: 0, item: message(``)}),
      ev(`response.content_part.added`, {item_id: msgId, output_index: 0, content_index: 0, part: part(``)}),
    ];
    for (const piece of splitText(replyText))
      sse.push(ev(`response.output_text.delta`, {item_id: msgId, output_index: 0, content_index: 0, delta: piece}));
    sse.push(ev(`response.output_text.done`, {item_id: msgId, output_index: 0, content_index: 0, text: replyText}));
    sse.push(ev(`response.content_part.done`, {item_id: msgId, output_index: 0, content_index: 0, part: part(replyText)}));
    sse.push(ev(`response.output_item.done`, {output_index: 0, item: message(replyText)}));
    sse.push(ev(`response.completed`, {response: response(`completed`, [message(replyText)], true)}));
    return {status: 200, sse};
  }

  function openaiAnswer(id, model, stream, promptTokens, completionTokens, cost) {
    const created = Math.floor(Date.now() / 1000);
    const usage = {prompt_tokens: promptTokens, completion_tokens: completionTokens, total_tokens: promptTokens + completionTokens, cost};
    if (!stream)
      return {
        status: 200,
        json: {
          id, provider: `capit-emulator`, model, object: `chat.completion`, created,
          choices: [{index: 0, logprobs: null, finish_reason: `stop`, native_finish_reason: `stop`, message: {role: `assistant`, content: replyText, refusal: null}}],
          usage,
        },
      };
    const chunk = (delta, finish, extra) =>
      `data: ${JSON.stringify({id, provider: `capit-emulator`, model, object: `chat.completion.chunk`, created,
        choices: [{index: 0, delta, finish_reason: finish, native_finish_reason: finish, logprobs: null}], ...extra})}\n\n`;
    const sse = [chunk({role: `assistant`, content: ``}, null)];
    for (const piece of splitText(replyText)) sse.push(chunk({role: `assistant`, content: piece}, null));
    sse.push(chunk({role: `assistant`, content: ``}, `stop`, {usage}));
    sse.push(`data: [DONE]\n\n`);
    return {status: 200, sse};
  }

  function anthropicAnswer(id, model, stream, inputTokens, outputTokens, cost) {
    const msgId = `msg_${id}`;
    if (!stream)
      return {
        status: 200,
        json: {
          id: msgId, type: `message`, role: `assistant`, model, content: [{type: `text`, text: replyText}],
          stop_reason: `end_turn`, stop_sequence: null,
          usage: {input_tokens: inputTokens, output_tokens: outputTokens, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, cost},
        },
      };
    const ev = (name, data) => `event: ${name}\ndata: ${JSON.stringify({type: name, ...data})}\n\n`;
    const sse = [
      ev(`message_start`, {
        message: {id: msgId, type: `message`, role: `assistant`, model, content: [], stop_reason: null, stop_sequence: null,
          usage: {input_tokens: inputTokens, output_tokens: 1, cache_creation_input_tokens: 0, cache_read_input_tokens: 0}},
      }),
      ev(`content_block_start`, {index: 0, content_block: {type: `text`, text: ``}}),
      ev(`ping`, {}),
    ];
    for (const piece of splitText(replyText)) sse.push(ev(`content_block_delta`, {index: 0, delta: {type: `text_delta`, text: piece}}));
    sse.push(ev(`content_block_stop`, {index: 0}));
    sse.push(ev(`message_delta`, {delta: {stop_reason: `end_turn`, stop_sequence: null}, usage: {input_tokens: inputTokens, output_tokens: outputTokens, cost}}));
    sse.push(ev(`message_stop`, {}));
    return {status: 200, sse};
  }

  // ----- AIHubMix (one-api token API, apis.md §2) -----
  // Quirks on purpose: errors are HTTP 200 {"success":false,"message"} (knob: real 401 for a bad manage key); the
  // create answer masks `key` and carries the plaintext in `full_key` (knobs: omit it / mask GET by id too); list
  // pages with a 0-based `p` and a page size from `size`/`num` (default 10); PUT replaces the whole token (omitted
  // fields become zero values) and changes `status` only with `?status_only=true`; GET /api/user/token regenerates
  // (and so revokes) the manage key used, as one-api does.

  const aihubmixMask = key => `sk-${key.slice(0, 4)}**********${key.slice(-4)}`;
  const aihubmixOk = data => ({status: 200, json: data === undefined ? {success: true, message: ``} : {success: true, message: ``, data}});
  const aihubmixFail = message => ({status: 200, json: {success: false, message}});
  const aihubmixRequestId = () => `${new Date().toISOString().replace(/\D/g, ``).slice(0, 17)}${hex(8)}`;
  const aihubmixGatewayError = (status, message, type = `one_api_error`) =>
    ({status, json: {error: {message: `${message} (request id: ${aihubmixRequestId()})`, type, param: ``, code: null}}});
  const nowSeconds = () => Math.floor(Date.now() / 1000);
  const isInt = v => typeof v === `number` && Number.isInteger(v);

  function aihubmixPublic(rec, masked) {
    return {
      id: rec.id, user_id: rec.user_id, key: masked ? aihubmixMask(rec.key) : rec.key, status: rec.status, name: rec.name,
      created_time: rec.created_time, accessed_time: rec.accessed_time, expired_time: rec.expired_time,
      remain_quota: rec.remain_quota, unlimited_quota: rec.unlimited_quota, used_quota: rec.used_quota,
      models: rec.models, subnet: rec.subnet,
    };
  }

  /** Validates a create body (or token params). Returns a one-api style message or null. */
  function validateAihubmix(body) {
    if (!isPlainObject(body)) return `无效的参数`;
    if (own(body, `name`) && typeof body.name !== `string`) return `无效的参数`;
    if (typeof body.name === `string` && Buffer.byteLength(body.name) > AIHUBMIX_MAX_NAME) return `令牌名称过长`;
    for (const k of [`remain_quota`, `expired_time`, `used_quota`, `status`, `created_time`])
      if (own(body, k) && !isInt(body[k])) return `无效的参数`;
    if (own(body, `unlimited_quota`) && typeof body.unlimited_quota !== `boolean`) return `无效的参数`;
    for (const k of [`models`, `subnet`]) if (own(body, k) && body[k] !== null && typeof body[k] !== `string`) return `无效的参数`;
    return null;
  }

  function insertAihubmixToken(params) {
    const at = params.created_time ?? nowSeconds();
    const rec = {
      id: aihubmixNextId++,
      user_id: aihubmixUserId,
      key: hex(24) + hex(24), // 48 characters, no sk- (one-api)
      status: params.status ?? 1,
      name: params.name ?? ``,
      created_time: at,
      accessed_time: at,
      expired_time: params.expired_time ?? -1,
      remain_quota: params.remain_quota ?? 0,
      unlimited_quota: params.unlimited_quota ?? false,
      used_quota: params.used_quota ?? 0,
      models: params.models ?? ``,
      subnet: params.subnet ?? ``,
    };
    aihubmixTokens.set(rec.id, rec);
    return rec;
  }

  function createAihubmixToken(params) {
    const problem = validateAihubmix(params);
    if (problem) throw new TypeError(problem);
    return insertAihubmixToken(params);
  }

  function seedAihubmixTokens(count, opts = {}) {
    const {prefix = `seed`, capUsd, ...rest} = opts;
    const params = {remain_quota: Math.round((capUsd ?? 5) * AIHUBMIX_QUOTA_PER_USD), ...rest};
    const problem = validateAihubmix(params);
    if (problem) throw new TypeError(problem);
    const out = new Array(count);
    for (let i = 0; i < count; i++) out[i] = insertAihubmixToken({...params, name: `${prefix}-${i}`});
    return out;
  }

  function chargeAihubmix(id, usd) {
    const rec = aihubmixTokens.get(Number(id));
    if (!rec) throw new Error(`unknown AIHubMix token id ${id}`);
    const quota = Math.round(usd * AIHUBMIX_QUOTA_PER_USD);
    rec.used_quota += quota;
    if (!rec.unlimited_quota) rec.remain_quota -= quota;
    rec.accessed_time = nowSeconds();
    return rec;
  }

  const removeAihubmixToken = id => aihubmixTokens.delete(Number(id));

  function addAihubmixManageKey(key) {
    if (typeof key !== `string` || key === ``) throw new TypeError(`manage key must be a non-empty string`);
    if (!aihubmixManageKeys.includes(key)) aihubmixManageKeys.push(key);
  }

  /** null when the manage key is good, else the one-api answer. `Bearer ` is accepted and stripped, as one-api does. */
  function aihubmixAuth(req) {
    const raw = req.headers.authorization;
    if (typeof raw !== `string` || raw.trim() === ``) return {status: 401, json: {success: false, message: AIHUBMIX_NO_TOKEN}};
    const token = raw.trim().replace(/^Bearer\s+/i, ``);
    if (aihubmixManageKeys.includes(token)) return null;
    return {status: aihubmixAuthFailureStatus, json: {success: false, message: AIHUBMIX_BAD_TOKEN}};
  }

  function aihubmixManagement(method, path, query, req, bodyText, entry) {
    const denied = aihubmixAuth(req);
    if (denied) return denied;

    if (path === `/api/user/self`) {
      if (method !== `GET`) return errorResponse(405, `Method Not Allowed`);
      let used = 0;
      for (const r of aihubmixTokens.values()) used += r.used_quota;
      return aihubmixOk({
        id: aihubmixUserId, username: `capit-emulator`, display_name: `capit emulator`, role: 1, status: 1, email: ``,
        quota: 500000000, used_quota: used, request_count: 0, group: `default`, aff_code: `CAPT`, ext: ``,
      });
    }
    if (path === `/api/user/token`) {
      // one-api GenerateAccessToken: the caller's access token is replaced. Calling this is a client bug.
      const used = req.headers.authorization.trim().replace(/^Bearer\s+/i, ``);
      const fresh = crypto.randomUUID().replace(/-/g, ``);
      aihubmixManageKeys.splice(aihubmixManageKeys.indexOf(used), 1, fresh);
      return aihubmixOk(fresh);
    }

    if (path === `/api/token/` || path === `/api/token`) {
      if (method === `GET`) {
        const p = query.p === undefined ? 0 : Number(query.p);
        const sizeRaw = query.size ?? query.num;
        const size = sizeRaw === undefined ? AIHUBMIX_DEFAULT_PAGE_SIZE : Number(sizeRaw);
        if (!Number.isInteger(p) || !Number.isInteger(size)) return aihubmixFail(`无效的参数`);
        const pageSize = Math.min(AIHUBMIX_MAX_PAGE_SIZE, Math.max(1, size));
        const page = Math.max(0, p);
        const all = Array.from(aihubmixTokens.values()).reverse(); // one-api orders by id desc
        return aihubmixOk(all.slice(page * pageSize, page * pageSize + pageSize).map(r => aihubmixPublic(r, true)));
      }
      const parsed = parseJson(bodyText);
      if (!parsed.ok || !isPlainObject(parsed.value)) return aihubmixFail(`无效的参数`);
      const body = parsed.value;
      if (method === `POST`) {
        const problem = validateAihubmix(body);
        if (problem) return aihubmixFail(problem);
        const rec = insertAihubmixToken({
          name: body.name, expired_time: body.expired_time, remain_quota: body.remain_quota,
          unlimited_quota: body.unlimited_quota, models: body.models ?? ``, subnet: body.subnet ?? ``,
        });
        entry.tokenId = rec.id;
        const data = aihubmixPublic(rec, true);
        if (aihubmixFullKey) data.full_key = `sk-${rec.key}`;
        return aihubmixOk(data);
      }
      if (method === `PUT`) {
        const rec = aihubmixTokens.get(Number(body.id));
        if (!rec) return aihubmixFail(`record not found`);
        entry.tokenId = rec.id;
        const problem = validateAihubmix(body);
        if (problem) return aihubmixFail(problem);
        if (query.status_only !== undefined && query.status_only !== ``) {
          const status = body.status;
          if (status === 1) {
            if (rec.expired_time !== -1 && rec.expired_time < nowSeconds())
              return aihubmixFail(`令牌已过期，无法启用，请先修改令牌过期时间，或者设置为永不过期`);
            if (!rec.unlimited_quota && rec.remain_quota <= 0)
              return aihubmixFail(`令牌可用额度已用尽，无法启用，请先修改令牌剩余额度，或者设置为无限额度`);
          }
          if (status !== 1 && status !== 2) return aihubmixFail(`无效的参数`);
          rec.status = status;
        } else {
          // Full replace, one-api style: what is not sent becomes the zero value. `status` is ignored here.
          rec.name = body.name ?? ``;
          rec.expired_time = body.expired_time ?? 0;
          rec.remain_quota = body.remain_quota ?? 0;
          rec.unlimited_quota = body.unlimited_quota ?? false;
          rec.models = body.models ?? ``;
          rec.subnet = body.subnet ?? ``;
        }
        return aihubmixOk(aihubmixPublic(rec, true));
      }
      return errorResponse(405, `Method Not Allowed`);
    }

    if (path === `/api/token/search` && method === `GET`) {
      const keyword = String(query.keyword ?? ``);
      const found = Array.from(aihubmixTokens.values()).reverse().filter(r => r.name.startsWith(keyword));
      return aihubmixOk(found.map(r => aihubmixPublic(r, true)));
    }

    const idText = decodeURIComponent(path.slice(`/api/token/`.length));
    if (!/^\d+$/.test(idText)) return aihubmixFail(`无效的参数`);
    const rec = aihubmixTokens.get(Number(idText));
    if (method === `GET`) {
      if (!rec) return aihubmixFail(`record not found`);
      entry.tokenId = rec.id;
      return aihubmixOk(aihubmixPublic(rec, !aihubmixGetReveals));
    }
    if (method === `DELETE`) {
      if (!rec) return aihubmixFail(`record not found`);
      entry.tokenId = rec.id;
      aihubmixTokens.delete(rec.id);
      return aihubmixOk();
    }
    return errorResponse(405, `Method Not Allowed`);
  }

  function aihubmixInference(flavour, req, bodyText, entry) {
    let token = bearer(req);
    if (token === null) {
      const x = req.headers[`x-api-key`];
      token = typeof x === `string` && x.trim() !== `` ? x.trim() : null;
    }
    if (token === null) return aihubmixGatewayError(401, `未提供令牌`);
    const key = token.replace(/^sk-/, ``);
    let rec = null;
    for (const r of aihubmixTokens.values()) if (r.key === key) rec = r;
    if (!rec) return aihubmixGatewayError(401, `无效的令牌`);
    entry.tokenId = rec.id;
    if (rec.status !== 1) return aihubmixGatewayError(401, `该令牌状态不可用`);
    if (rec.expired_time !== -1 && rec.expired_time < nowSeconds()) return aihubmixGatewayError(401, `该令牌已过期`);
    if (!rec.unlimited_quota && rec.remain_quota <= 0) return aihubmixGatewayError(401, `该令牌额度已用尽`);
    const parsed = parseJson(bodyText);
    if (!parsed.ok || !isPlainObject(parsed.value)) return aihubmixGatewayError(400, `Invalid request body`, `invalid_request_error`);
    const body = parsed.value;
    const model = typeof body.model === `string` && body.model !== `` ? body.model : `gpt-4o-mini`;
    entry.model = model;
    const price = pricePerRequestUsd;
    chargeAihubmix(rec.id, price);
    entry.chargedUsd = price;
    const promptSource = flavour === `openai` ? body.messages : flavour === `responses` ? [body.instructions, body.input] : [body.system, body.messages];
    const promptTokens = Math.max(1, Math.ceil((JSON.stringify(promptSource ?? ``)?.length ?? 0) / 4));
    const completionTokens = Math.max(1, Math.ceil(replyText.length / 4));
    const id = `chatcmpl-${Date.now()}-${++genCounter}`;
    const stream = body.stream === true;
    if (flavour === `responses`) return responsesAnswer(id, model, stream, promptTokens, completionTokens, price);
    return flavour === `openai`
      ? openaiAnswer(id, model, stream, promptTokens, completionTokens, price)
      : anthropicAnswer(id, model, stream, promptTokens, completionTokens, price);
  }


  // ----- fault table (test/fault harness) -----
  // A small ordered table of injected faults, checked before the older failNext/dropNext knobs. Each rule says WHEN
  // it strikes: `before` the provider acts (nothing changes at the emulator) or `after` it acted (the key is created,
  // patched or deleted, and only then is the answer lost, late, junk or an error). That difference is what makes a
  // fault ambiguous for capit, so the harness needs both.
  //   {method?, path?: string|RegExp, pathRegex?: string, when: 'before'|'after', count?: n (default 1, -1 = every),
  //    kind: 'reset'            destroy the connection without an answer
  //        | 'hang'             hold the answer: with delayMs, answer (late) after it; else never (socket destroyed after holdMs)
  //        | 'junk'             answer `status` (default 200) with junk: 'text' | 'truncated' | 'empty' | 'shape' | 'null'
  //        | 'status',          answer `status` (default 500) with the provider's error body, `retryAfter` as a header
  //    status?, retryAfter?, junk?, delayMs?, holdMs? (default 10000)}
  const FAULT_KINDS = new Set([`reset`, `hang`, `junk`, `status`]);
  const JUNK_KINDS = new Set([`text`, `truncated`, `empty`, `shape`, `null`]);
  /** @type {any[]} */
  let faultRules = [];

  function compileFault(f) {
    if (!isPlainObject(f)) throw new TypeError(`a fault must be an object`);
    if (!FAULT_KINDS.has(f.kind)) throw new TypeError(`fault kind must be one of ${[...FAULT_KINDS].join(`, `)}`);
    const when = f.when ?? `before`;
    if (when !== `before` && when !== `after`) throw new TypeError(`fault when must be "before" or "after"`);
    const junk = f.junk ?? `text`;
    if (!JUNK_KINDS.has(junk)) throw new TypeError(`fault junk must be one of ${[...JUNK_KINDS].join(`, `)}`);
    const count = f.count ?? 1;
    if (!Number.isInteger(count) || count === 0 || count < -1) throw new TypeError(`fault count must be a positive integer or -1 (every)`);
    const status = f.status ?? (f.kind === `junk` ? 200 : 500);
    if (!Number.isInteger(status) || status < 100 || status > 599) throw new TypeError(`fault status must be an HTTP status`);
    const match = inlineMatch(f);
    return {
      kind: f.kind, when, junk, status, count, retryAfter: f.retryAfter ?? null, delayMs: f.delayMs ?? null, holdMs: f.holdMs ?? 10_000,
      match: describeMatch(match), test: compileMatch(match, matchAnyApi), hits: 0,
      onHit: typeof f.onHit === `function` ? f.onHit : null,
    };
  }

  const faults = {
    add(list) {
      for (const f of Array.isArray(list) ? list : [list]) faultRules.push(compileFault(f));
    },
    clear() {
      faultRules = [];
    },
    describe() {
      return faultRules.map(({test: _t, onHit: _o, ...rest}) => rest);
    },
  };

  /** The rule that strikes this request, if any (decided in arrival order). */
  function takeFault(method, path) {
    for (let i = 0; i < faultRules.length; i++) {
      const r = faultRules[i];
      if (!r.test(method, path)) continue;
      r.hits++;
      if (r.count !== -1 && r.hits >= r.count) faultRules.splice(i, 1);
      r.onHit?.(method, path);
      return r;
    }
    return null;
  }

  function junkResponse(rule, real) {
    const headers = {};
    switch (rule.junk) {
      case `text`: return {status: rule.status, text: `<html><body>upstream said something odd</body></html>`, headers: {...headers, 'content-type': `text/html`}};
      case `truncated`: {
        const full = JSON.stringify(real?.json ?? {data: {hash: `0`.repeat(64), name: `x`}, key: `sk-or-v1-${`0`.repeat(64)}`});
        return {status: rule.status, raw: full.slice(0, Math.max(1, Math.floor(full.length / 2)))};
      }
      case `empty`: return {status: rule.status, raw: ``};
      case `shape`: return {status: rule.status, json: {ok: true, result: `done`}};
      default: return {status: rule.status, raw: `null`};
    }
  }

  /** Plays a fault on this request. `act()` performs the real handling (changes the emulator's state). */
  async function playFault(rule, req, res, method, path, entry, act) {
    entry.fault = {kind: rule.kind, when: rule.when, ...(rule.kind === `junk` ? {junk: rule.junk} : {}), ...(rule.kind === `status` ? {status: rule.status} : {})};
    entry.outcome = `faulted`;
    const real = rule.when === `after` ? act() : null;
    if (real) entry.status = real.status;
    const log = what => {
      if (!quiet) process.stderr.write(`[emulator] ${method} ${path} → fault ${rule.when} ${what}\n`);
    };
    if (rule.kind === `reset`) {
      log(`reset`);
      req.socket.destroy();
      return;
    }
    if (rule.kind === `hang`) {
      if (real && rule.delayMs !== null) {
        log(`late answer after ${rule.delayMs} ms`);
        await sleep(rule.delayMs);
        send(res, method, real);
        return;
      }
      log(`hang`);
      await sleep(rule.holdMs);
      req.socket.destroy();
      return;
    }
    if (rule.kind === `junk`) {
      const r = junkResponse(rule, real);
      entry.status = r.status;
      log(`junk ${rule.junk}`);
      send(res, method, r);
      return;
    }
    const r = failResponse({status: rule.status, retryAfter: rule.retryAfter ?? undefined, body: undefined}, path);
    entry.status = r.status;
    log(`status ${rule.status}`);
    send(res, method, r);
  }

  function faultControl(method, body) {
    if (method === `GET`) return {status: 200, json: {faults: faults.describe()}};
    if (method === `DELETE`) {
      faults.clear();
      return {status: 200, json: {faults: []}};
    }
    if (method === `POST`) {
      const list = Array.isArray(body) ? body : body.faults ?? [body];
      if (!Array.isArray(body) && body.replace) faults.clear();
      faults.add(list);
      return {status: 200, json: {faults: faults.describe()}};
    }
    return {status: 405, json: {error: `use GET, POST or DELETE on /__emulator/faults`}};
  }
  // ----- end of fault table -----

  // ----- control API (/__emulator/…) -----
  function control(method, path, query, bodyText) {
    const parsed = parseJson(bodyText);
    if (!parsed.ok) return {status: 400, json: {error: `body is not valid JSON`}};
    const body = parsed.value ?? {};
    try {
      if (path === `/__emulator/health` && method === `GET`) return {status: 200, json: {ok: true}};
      if (path === `/__emulator/state` && method === `GET`) {
        const withRequests = query.requests !== `false`;
        return {
          status: 200,
          json: {
            url, openrouterBaseUrl: `${url}/api/v1`, aihubmixBaseUrl: url, managementKeys, aihubmixManageKeys, knobs: knobs.describe(),
            keys: Array.from(keys.values(), publicKey),
            aihubmixTokens: Array.from(aihubmixTokens.values(), r => aihubmixPublic(r, true)),
            ...(withRequests ? {requests} : {requestCount: requests.length}),
          },
        };
      }
      if (path === `/__emulator/knobs` && method === `GET`) return {status: 200, json: knobs.describe()};
      if (path === `/__emulator/knobs` && method === `POST`) {
        if (body.reset) knobs.reset();
        if (body.latencyMs !== undefined) knobs.latencyMs = body.latencyMs;
        if (body.pricePerRequestUsd !== undefined) knobs.pricePerRequestUsd = body.pricePerRequestUsd;
        if (body.aihubmixFullKey !== undefined) knobs.aihubmixFullKey = body.aihubmixFullKey;
        if (body.aihubmixGetReveals !== undefined) knobs.aihubmixGetReveals = body.aihubmixGetReveals;
        if (body.aihubmixAuthFailureStatus !== undefined) knobs.aihubmixAuthFailureStatus = body.aihubmixAuthFailureStatus;
        if (body.failNext !== undefined) {
          const f = typeof body.failNext === `number` ? {n: body.failNext} : body.failNext;
          knobs.failNext(f.n ?? 1, f);
        }
        if (body.dropNext !== undefined) {
          const d = typeof body.dropNext === `number` ? {n: body.dropNext} : body.dropNext;
          knobs.dropNext(d.n ?? 1, d);
        }
        if (body.every429 !== undefined) {
          const e = typeof body.every429 === `number` ? {n: body.every429} : body.every429 ?? {n: 0};
          knobs.every429(e.n ?? 0, inlineMatch(e));
        }
        return {status: 200, json: knobs.describe()};
      }
      if (path === `/__emulator/seed` && method === `POST`) {
        const {count = 0, ...rest} = body;
        const recs = seedKeys(count, rest);
        return {status: 200, json: {created: recs.length, hashes: recs.map(r => r.hash)}};
      }
      if (path === `/__emulator/keys` && method === `POST`) {
        // creates a key without going through the management API; the answer includes the plaintext key
        const rec = createKey(body);
        return {status: 201, json: {data: publicKey(rec), key: rec.key}};
      }
      if (path === `/__emulator/charge` && method === `POST`) {
        const rec = charge(body.hash, body.usd, {byok: body.byok === true, model: body.model}); // slice W2: model for /activity
        return {status: 200, json: {data: publicKey(rec)}};
      }
      if (path === `/__emulator/management-keys` && method === `POST`) {
        addManagementKey(body.key);
        return {status: 200, json: {managementKeys}};
      }
      if (path === `/__emulator/requests` && method === `DELETE`) {
        requests.length = 0;
        return {status: 200, json: {ok: true}};
      }
      if (path === `/__emulator/aihubmix/seed` && method === `POST`) {
        const {count = 0, ...rest} = body;
        const recs = seedAihubmixTokens(count, rest);
        return {status: 200, json: {created: recs.length, ids: recs.map(r => r.id)}};
      }
      if (path === `/__emulator/aihubmix/tokens` && method === `POST`) {
        const rec = createAihubmixToken(body);
        return {status: 201, json: {data: aihubmixPublic(rec, true), key: `sk-${rec.key}`}};
      }
      if (path === `/__emulator/aihubmix/charge` && method === `POST`) {
        const rec = chargeAihubmix(body.id, body.usd);
        return {status: 200, json: {data: aihubmixPublic(rec, true)}};
      }
      if (path === `/__emulator/aihubmix/manage-keys` && method === `POST`) {
        addAihubmixManageKey(body.key);
        return {status: 200, json: {aihubmixManageKeys}};
      }
      // slice B1: clock and account
      if (path === `/__emulator/clock` && method === `POST`) return {status: 200, json: {now: advanceClock(body.advanceMs ?? 0)}};
      if (path === `/__emulator/account` && method === `POST`) return {status: 200, json: setAccount(body)};
      if (path === `/__emulator/faults`) return faultControl(method, parsed.value ?? {}); // fault table
      if (path === `/__emulator/reset` && method === `POST`) {
        reset();
        return {status: 200, json: {ok: true}};
      }
      return {status: 404, json: {error: `unknown control endpoint ${method} ${path}`}};
    } catch (err) {
      return {status: 400, json: {error: String(err?.message ?? err)}};
    }
  }

  function addManagementKey(key) {
    if (typeof key !== `string` || key === ``) throw new TypeError(`management key must be a non-empty string`);
    if (!managementSet.has(key)) {
      managementSet.add(key);
      managementKeys.push(key);
    }
  }

  function reset() {
    knobs.reset();
    faults.clear(); // fault table
    aihubmixTokens.clear();
    aihubmixNextId = 1;
    keys.clear();
    activityBuckets.clear(); // slice W2
    bySecret.clear();
    indexedVersion = keys.version;
    requests.length = 0;
    // slice B1
    clockOffsetMs = 0;
    accountCreditsUsd = options.accountCreditsUsd ?? 1000;
    outputTokenPriceUsd = options.outputTokenPriceUsd ?? 0;
  }

  // ----- HTTP plumbing -----
  const timers = new Set();
  const sleep = ms =>
    new Promise(resolve => {
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  function send(res, method, r) {
    if (res.destroyed || res.writableEnded) return;
    const headers = {...r.headers};
    if (r.sse) {
      headers[`content-type`] = `text/event-stream; charset=utf-8`;
      headers[`cache-control`] = `no-cache`;
      res.writeHead(r.status, headers);
      for (const chunk of r.sse) res.write(chunk);
      res.end();
      return;
    }
    let payload;
    if (r.raw !== undefined) {
      payload = r.raw;
      headers[`content-type`] ??= `application/json`;
    } else if (r.text !== undefined) {
      payload = r.text;
      headers[`content-type`] ??= `text/plain; charset=utf-8`;
    } else {
      payload = JSON.stringify(r.json ?? null);
      headers[`content-type`] ??= `application/json`;
    }
    headers[`content-length`] = Buffer.byteLength(payload);
    res.writeHead(r.status, headers);
    res.end(method === `HEAD` ? undefined : payload);
  }

  async function onRequest(req, res) {
    const method = req.method ?? `GET`;
    const rawUrl = req.url ?? `/`;
    const q = rawUrl.indexOf(`?`);
    const path = q < 0 ? rawUrl : rawUrl.slice(0, q);
    const query = parseQuery(q < 0 ? `` : rawUrl.slice(q + 1));

    if (path.startsWith(`/__emulator`)) {
      const bodyText = await readBody(req);
      send(res, method, control(method, path, query, bodyText));
      return;
    }

    const entry = {
      method, path, url: rawUrl,
      authorization: req.headers.authorization ?? null,
      xApiKey: req.headers[`x-api-key`] ?? null,
      model: null, time: new Date().toISOString(), status: 0, outcome: `pending`,
    };
    requests.push(entry);
    if (requests.length > maxRequestLog) requests.splice(0, requests.length - maxRequestLog);

    const fault = takeFault(method, path); // fault table: wins over the older knobs
    const action = fault ? null : decide(method, path);
    const bodyText = await readBody(req);
    if (latencyMs > 0) await sleep(latencyMs);
    if (fault) return playFault(fault, req, res, method, path, entry, () => route(method, path, query, req, bodyText, entry));

    if (action?.kind === `drop`) {
      entry.outcome = `dropped`;
      if (!quiet) process.stderr.write(`[emulator] ${method} ${rawUrl} → dropped\n`);
      req.socket.destroy();
      return;
    }
    let r;
    if (action?.kind === `fail`) {
      r = failResponse(action.rule, path);
      entry.outcome = `injected`;
    } else {
      r = route(method, path, query, req, bodyText, entry);
      entry.outcome = `handled`;
    }
    entry.status = r.status;
    if (action?.kind === `drop-after`) {
      entry.outcome = `handled-then-dropped`;
      if (!quiet) process.stderr.write(`[emulator] ${method} ${rawUrl} → ${r.status}, response dropped\n`);
      req.socket.destroy();
      return;
    }
    if (!quiet) process.stderr.write(`[emulator] ${method} ${rawUrl} → ${r.status}${entry.model ? ` (${entry.model})` : ``}\n`);
    send(res, method, r);
  }

  const server = http.createServer({keepAliveTimeout: 30_000}, (req, res) => {
    onRequest(req, res).catch(err => {
      if (!quiet) process.stderr.write(`[emulator] internal error: ${err?.stack ?? err}\n`);
      if (!res.headersSent && !res.destroyed) send(res, req.method ?? `GET`, errorResponse(500, `Internal Server Error`));
      else res.destroy();
    });
  });
  server.on(`clientError`, (_err, socket) => socket.destroy());

  await new Promise((resolve, reject) => {
    server.once(`error`, reject);
    server.listen(options.port ?? 0, host, () => {
      server.off(`error`, reject);
      resolve();
    });
  });
  const address = server.address();
  const port = typeof address === `object` && address ? address.port : Number(options.port);
  const urlHost = host.includes(`:`) ? `[${host}]` : host;
  const url = `http://${urlHost}:${port}`;

  let closing = null;
  function close() {
    closing ??= new Promise(resolve => {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      server.close(() => resolve());
      server.closeAllConnections();
    });
    return closing;
  }

  return {
    url,
    openrouterBaseUrl: `${url}/api/v1`,
    aihubmixBaseUrl: url,
    port,
    host,
    close,
    state,
    knobs,
    seedKeys,
    createKey,
    charge,
    removeKey,
    addManagementKey,
    managementKeys,
    seedAihubmixTokens,
    createAihubmixToken,
    chargeAihubmix,
    removeAihubmixToken,
    addAihubmixManageKey,
    aihubmixManageKeys,
    reset,
    faults, // fault table
    advanceClock, // slice B1
    setAccount, // slice B1
  };
}

// ---------------------------------------------------------------------------------------------------------------
// CLI

function parseArgs(argv) {
  const opts = {quiet: false, managementKeys: []};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const [flag, inline] = a.includes(`=`) ? [a.slice(0, a.indexOf(`=`)), a.slice(a.indexOf(`=`) + 1)] : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new Error(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case `--port`: opts.port = Number(value()); break;
      case `--host`: opts.host = value(); break;
      case `--price`: opts.pricePerRequestUsd = Number(value()); break;
      case `--latency`: opts.latencyMs = Number(value()); break;
      case `--management-key`: opts.managementKeys.push(value()); break;
      case `--quiet`: opts.quiet = true; break;
      case `--help`: case `-h`:
        process.stderr.write(`usage: node server.mjs [--port N] [--host H] [--price USD] [--latency MS] [--management-key K]… [--quiet]\n`);
        process.exit(0);
        break;
      default: throw new Error(`unknown argument ${a}`);
    }
  }
  if (opts.managementKeys.length === 0) delete opts.managementKeys;
  if (opts.port !== undefined && !(Number.isInteger(opts.port) && opts.port >= 0 && opts.port < 65536)) throw new Error(`--port must be 0..65535`);
  return opts;
}

async function main() {
  let opts;
  try {
    opts = parseArgs(process.argv.slice(2));
  } catch (err) {
    process.stderr.write(`emulator: ${err.message}\n`);
    process.exit(2);
  }
  const emu = await startEmulator(opts);
  process.stdout.write(`OPENROUTER_EMULATOR_URL=${emu.openrouterBaseUrl}\n`);
  if (!opts.quiet) process.stderr.write(`[emulator] listening on ${emu.url}; management key(s): ${emu.managementKeys.join(`, `)}\n`);
  const stop = () => {
    emu.close().then(() => process.exit(0));
    setTimeout(() => process.exit(0), 2000).unref();
  };
  process.once(`SIGTERM`, stop);
  process.once(`SIGINT`, stop);
}

const invokedAsScript = (() => {
  try {
    return process.argv[1] !== undefined && fs.realpathSync(fileURLToPath(import.meta.url)) === fs.realpathSync(process.argv[1]);
  } catch {
    return false;
  }
})();
if (invokedAsScript) await main();
