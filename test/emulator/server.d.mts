// Hand-written types for ./server.mjs (the loopback OpenRouter + AIHubMix emulator).

export declare const DEFAULT_MANAGEMENT_KEY: 'sk-or-v1-mgmt-fake-0000';
export declare const DEFAULT_REPLY_TEXT: string;
/** Keys per page of GET /api/v1/keys. */
export declare const PAGE_SIZE: 100;

export type LimitReset = 'daily' | 'weekly' | 'monthly';

/** The AIHubMix manage key accepted by default (`Authorization: <key>`, `Bearer ` tolerated). */
export declare const DEFAULT_AIHUBMIX_MANAGE_KEY: 'aihubmix-manage-fake-0000';
/** one-api's QuotaPerUnit: 500000 quota units per USD. */
export declare const AIHUBMIX_QUOTA_PER_USD: 500000;
/** Tokens per page of GET /api/token/ when neither `size` nor `num` is given (one-api's ItemsPerPage). Max 100. */
export declare const AIHUBMIX_DEFAULT_PAGE_SIZE: 10;

export interface EmulatorOptions {
  /** slice B1: GET /credits total_credits (default 1000) and the per-output-token price of the 402 pre-check (default 0 = off). */
  accountCreditsUsd?: number;
  outputTokenPriceUsd?: number;
  /** 0 (default) = a random free port. */
  port?: number;
  /** Default '127.0.0.1'. */
  host?: string;
  /** Default ['sk-or-v1-mgmt-fake-0000']. */
  managementKeys?: string[];
  /** USD charged per inference request. Default 0.5. */
  pricePerRequestUsd?: number;
  /** Delay before every /api answer. Default 0. */
  latencyMs?: number;
  /** No per-request log lines on stderr. Default true for startEmulator (the CLI logs unless --quiet). */
  quiet?: boolean;
  /** Assistant text of every completion. Default 'Hello from the capit emulator'. */
  replyText?: string;
  /** Keep at most this many entries in state.requests (oldest dropped). Default unbounded. */
  maxRequestLog?: number;
  /** workspace_id of created keys. Default a random UUID per emulator. */
  workspaceId?: string;
  /** creator_user_id of created keys. */
  creatorUserId?: string | null;
  /** Accepted AIHubMix manage keys. Default ['aihubmix-manage-fake-0000']. */
  aihubmixManageKeys?: string[];
  /** Start value of knobs.aihubmixFullKey (default true). */
  aihubmixFullKey?: boolean;
  /** Start value of knobs.aihubmixGetReveals (default true). */
  aihubmixGetReveals?: boolean;
  /** Start value of knobs.aihubmixAuthFailureStatus (default 200). */
  aihubmixAuthFailureStatus?: 200 | 401;
}

/**
 * An AIHubMix token as GET /api/token/{id} returns it (one-api `model.Token`). `key` is 48 characters without `sk-`
 * when revealed, `sk-abcd**********wxyz` when masked. Quotas are in units of 1/500000 USD.
 */
export interface AihubmixToken {
  id: number;
  user_id: number;
  key: string;
  /** 1 enabled, 2 disabled (one-api). */
  status: number;
  name: string;
  /** UNIX seconds. */
  created_time: number;
  accessed_time: number;
  /** UNIX seconds, -1 = never. */
  expired_time: number;
  remain_quota: number;
  unlimited_quota: boolean;
  used_quota: number;
  models: string | null;
  subnet: string;
}

/** The create answer's `data`: `key` masked, the plaintext (`sk-…`) in `full_key` unless knobs.aihubmixFullKey is off. */
export interface AihubmixCreatedToken extends AihubmixToken {
  full_key?: string;
}

export interface AihubmixTokenParams {
  name?: string;
  remain_quota?: number;
  unlimited_quota?: boolean;
  /** UNIX seconds, -1 (default) = never. */
  expired_time?: number;
  used_quota?: number;
  status?: number;
  created_time?: number;
  models?: string;
  subnet?: string;
}

export interface AihubmixSeedOptions extends Omit<AihubmixTokenParams, 'name'> {
  /** Names are `${prefix}-${i}`. Default 'seed'. */
  prefix?: string;
  /** Sets remain_quota = round(capUsd × 500000). Default 5. */
  capUsd?: number;
}

/** The key object exactly as OpenRouter returns it (apis.md §1.3). */
export interface OpenRouterKey {
  hash: string;
  name: string;
  label: string;
  disabled: boolean;
  limit: number | null;
  limit_remaining: number | null;
  limit_reset: LimitReset | null;
  include_byok_in_limit: boolean;
  usage: number;
  usage_daily: number;
  usage_weekly: number;
  usage_monthly: number;
  byok_usage: number;
  byok_usage_daily: number;
  byok_usage_weekly: number;
  byok_usage_monthly: number;
  created_at: string;
  updated_at: string | null;
  expires_at: string | null;
  creator_user_id: string | null;
  workspace_id: string;
}

/** What the emulator stores: the public key object plus the plaintext key (`sk-or-v1-<64 hex>`). */
export interface KeyRecord extends OpenRouterKey {
  key: string;
}

export interface RequestLogEntry {
  method: string;
  /** Path without the query string. */
  path: string;
  /** Path with the query string, as received. */
  url: string;
  authorization: string | null;
  xApiKey: string | null;
  /** `model` of an inference body, else null. */
  model: string | null;
  /** ISO time of arrival. */
  time: string;
  /** Status answered (0 while pending or when dropped before handling). */
  status: number;
  outcome: 'pending' | 'handled' | 'injected' | 'dropped' | 'handled-then-dropped' | 'faulted';
  /** Set when a fault-table rule struck this request (outcome 'faulted'). */
  fault?: {kind: FaultKind; when: FaultWhen; junk?: FaultJunk; status?: number};
  /** Hash of the issued key the request used or addressed, when known. */
  keyHash?: string;
  /** USD charged by this inference request. */
  chargedUsd?: number;
  /** Id of the AIHubMix token the request used or addressed, when known. */
  tokenId?: number;
}

/**
 * Which requests a knob applies to. `path` is compared with the path without the query string:
 * a string must be equal, a RegExp must match. `pathRegex` is the JSON-friendly form for the control API.
 */
export interface RequestMatch {
  method?: string;
  path?: string | RegExp;
  pathRegex?: string;
}

export interface FailOptions extends RequestMatch {
  /** Default 500. */
  status?: number;
  /** Sent as the Retry-After header when given. */
  retryAfter?: number | string;
  /**
   * Default `{"error":{"code":status,"message":"Rate limit exceeded"|"Internal Server Error"|…}}`; on AIHubMix
   * management paths `{"success":false,"message":…}`, on AIHubMix inference `{"error":{"message","type":"one_api_error"}}`.
   * A string is sent as-is.
   */
  body?: unknown;
  match?: RequestMatch;
}

export interface DropOptions extends RequestMatch {
  /** Handle the request fully (e.g. CREATE the key) and only then destroy the socket: a "lost response". */
  afterHandling?: boolean;
  match?: RequestMatch;
}

export interface Knobs {
  /** Delay before answering every /api request (settable). */
  latencyMs: number;
  /** USD charged per inference request (settable). */
  pricePerRequestUsd: number;
  /** Answer the next n matching requests (default: any /api request) with an error. Queued rules are used in order. */
  failNext(n: number, options?: FailOptions): void;
  /**
   * Destroy the socket of the next n matching requests without answering. The second argument is either a
   * RequestMatch or DropOptions (`{afterHandling: true, method: 'POST', path: '/api/v1/keys'}`).
   */
  dropNext(n: number, matchOrOptions?: RequestMatch | DropOptions): void;
  /**
   * Every n-th matching request answers 429 with `Retry-After: 0`. Default match: the management endpoints
   * (/api/v1/keys*, /api/v1/key, /api/v1/credits, and AIHubMix's /api/token*, /api/user/self). n = 0 turns it off.
   */
  every429(n: number, match?: RequestMatch): void;
  /**
   * AIHubMix: POST /api/token/ answers the plaintext in `data.full_key` (next to the masked `data.key`).
   * false = no `full_key`, so a client must read the key with GET /api/token/{id}. Settable.
   */
  aihubmixFullKey: boolean;
  /** AIHubMix: GET /api/token/{id} answers the plaintext `key` (48 chars, no `sk-`). false = masked there too. Settable. */
  aihubmixGetReveals: boolean;
  /** AIHubMix: HTTP status of a bad-manage-key answer (`{"success":false,"message":"无权进行此操作，access token 无效"}`): 200 (one-api) or 401. */
  aihubmixAuthFailureStatus: 200 | 401;
  /** Back to the start options: no latency, no injected failures or drops, no every429, the start price and AIHubMix quirks. */
  reset(): void;
  /** JSON-friendly view of the current knobs. */
  describe(): KnobsDescription;
}

export interface KnobsDescription {
  latencyMs: number;
  pricePerRequestUsd: number;
  failNext: {remaining: number; status: number; retryAfter: number | string | null; match: {method: string | null; path: string | null} | null}[];
  dropNext: {remaining: number; afterHandling: boolean; match: {method: string | null; path: string | null} | null}[];
  every429: {every: number; count: number; match: {method: string | null; path: string | null} | null} | null;
  aihubmixFullKey: boolean;
  aihubmixGetReveals: boolean;
  aihubmixAuthFailureStatus: 200 | 401;
}

// ----- fault table (test/fault harness) -----

export type FaultKind = 'reset' | 'hang' | 'junk' | 'status';
export type FaultWhen = 'before' | 'after';
/** text: an HTML page; truncated: the first half of the real JSON answer; empty: no body; shape: `{"ok":true,…}`; null: `null`. */
export type FaultJunk = 'text' | 'truncated' | 'empty' | 'shape' | 'null';

/**
 * One rule of the fault table (`emu.faults.add(…)`, or `POST /__emulator/faults` with a JSON array, `{faults, replace?}`
 * or one rule; `GET` lists, `DELETE` clears). Rules are checked in order before the older knobs; a rule is used
 * `count` times (default 1, -1 = every matching request).
 * `when: 'before'`: the provider does not act. `when: 'after'`: the request is fully handled (the key created, patched or
 * deleted) and only then is the answer reset, held, replaced by junk or by an error status.
 */
export interface FaultRule extends RequestMatch {
  kind: FaultKind;
  /** Default 'before'. */
  when?: FaultWhen;
  count?: number;
  /** junk: default 200; status: default 500. */
  status?: number;
  /** status: sent as the Retry-After header. */
  retryAfter?: number | string;
  /** junk: default 'text'. */
  junk?: FaultJunk;
  /** hang after acting: answer the real response after this many ms (a late answer). Without it the answer never comes. */
  delayMs?: number;
  /** hang without an answer: the socket is destroyed after this many ms (default 10000), so clients do not leak. */
  holdMs?: number;
  /** JS API only: called when the rule strikes, as the request arrives (the fault harness times its kills from it). */
  onHit?: (method: string, path: string) => void;
}

export interface FaultDescription {
  kind: FaultKind;
  when: FaultWhen;
  junk: FaultJunk;
  status: number;
  count: number;
  retryAfter: number | string | null;
  delayMs: number | null;
  holdMs: number;
  match: {method: string | null; path: string | null} | null;
  /** Requests struck so far. */
  hits: number;
}

export interface Faults {
  add(rules: FaultRule | FaultRule[]): void;
  clear(): void;
  describe(): FaultDescription[];
}

export interface CreateKeyParams {
  name: string;
  limit?: number | null;
  limit_reset?: LimitReset | null;
  include_byok_in_limit?: boolean;
  /** ISO 8601 in UTC, ending in Z. */
  expires_at?: string | null;
  workspace_id?: string;
  creator_user_id?: string | null;
}

export interface SeedOptions {
  /** Names are `${prefix}-${i}`, i = 0…count-1. Default 'seed'. */
  prefix?: string;
  /** Default 5. */
  limit?: number | null;
  /** Default 0 (also sets usage_daily/weekly/monthly). */
  usage?: number;
  limit_reset?: LimitReset | null;
  disabled?: boolean;
  include_byok_in_limit?: boolean;
  /** BYOK spend already on the key (also sets byok_usage_daily/weekly/monthly). Default 0. */
  byok_usage?: number;
  expires_at?: string | null;
  created_at?: string;
  workspace_id?: string;
  creator_user_id?: string | null;
}

export interface EmulatorState {
  /** hash → record, insertion order (GET /keys lists it newest first). */
  keys: Map<string, KeyRecord>;
  requests: RequestLogEntry[];
  /** AIHubMix tokens by id, oldest first (GET /api/token/ lists newest first). `key` is the plaintext without `sk-`. */
  aihubmixTokens: Map<number, AihubmixToken>;
}

export interface Emulator {
  /** 'http://127.0.0.1:PORT' */
  url: string;
  /** url + '/api/v1' */
  openrouterBaseUrl: string;
  /**
   * = url. AIHubMix's routes hang off the root: /api/token/…, /api/user/self (management, `Authorization: <manage key>`),
   * /v1/chat/completions, /v1/messages and /v1/responses (inference with `Bearer sk-…` or `x-api-key`; each request charges
   * pricePerRequestUsd from remain_quota; an exhausted token gets 401 `该令牌额度已用尽 (request id: …)`).
   * GET /api/user/token regenerates (revokes) the manage key used, as one-api does.
   */
  aihubmixBaseUrl: string;
  port: number;
  host: string;
  close(): Promise<void>;
  state: EmulatorState;
  knobs: Knobs;
  /** Bulk-create keys (for list benchmarks). Returns the records, plaintext keys included. */
  seedKeys(count: number, options?: SeedOptions): KeyRecord[];
  /** Create one key without HTTP (validated like POST /keys; throws TypeError when invalid). */
  createKey(params: CreateKeyParams): KeyRecord;
  /**
   * Adds spend to a key; `byok: true` books it as BYOK spend (byok_usage*), which counts against the limit only with
   * include_byok_in_limit. Slice W2: also recorded for GET /api/v1/activity under the emulator clock's UTC day and
   * `model` (default `openrouter/auto`).
   */
  charge(hash: string, usd: number, opts?: {byok?: boolean; model?: string; promptTokens?: number; completionTokens?: number; /** YYYY-MM-DD: book the charge on a past day (lifetime usage and /activity only). */ date?: string}): KeyRecord;
  removeKey(hash: string): boolean;
  addManagementKey(key: string): void;
  /** Live list of accepted management keys. */
  managementKeys: string[];
  /** Bulk-create AIHubMix tokens. Returns the records (plaintext `key`, without `sk-`). */
  seedAihubmixTokens(count: number, options?: AihubmixSeedOptions): AihubmixToken[];
  /** Create one AIHubMix token without HTTP (validated like POST /api/token/; throws TypeError when invalid). */
  createAihubmixToken(params: AihubmixTokenParams): AihubmixToken;
  /** Spend USD on a token as an inference request would: used_quota up, remain_quota down (unless unlimited). */
  chargeAihubmix(id: number, usd: number): AihubmixToken;
  removeAihubmixToken(id: number): boolean;
  addAihubmixManageKey(key: string): void;
  /** Live list of accepted AIHubMix manage keys. */
  aihubmixManageKeys: string[];
  /** Knobs reset, and all keys, tokens and the request log cleared (management and manage keys stay). Clears the fault table too. */
  reset(): void;
  /** The fault table (see FaultRule). */
  faults: Faults;
  // slice B1 (`capit why`)
  /** Moves the emulator clock on (expiry; usage windows reset at the crossed UTC day / Monday week / month). Returns the new time. */
  advanceClock(ms: number): string;
  /** Account credits (GET /credits total_credits; inference 402 "Insufficient credits" once used up) and the USD price per output token for the 402 "can only afford" pre-check (0 = off). */
  setAccount(opts: {creditsUsd?: number; outputTokenPriceUsd?: number}): {creditsUsd: number; outputTokenPriceUsd: number; usageUsd: number; now: string};
}

export declare function startEmulator(options?: EmulatorOptions): Promise<Emulator>;
