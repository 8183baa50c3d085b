// The public plugin API: what a `capit-platform-*` or `capit-agent-*` entry default-exports.
// Plugins only declare; core owns HTTP, prompting and every file write.

/** The plugin API version this host implements. A manifest's `apiVersion` must be in {@link SUPPORTED_API_VERSIONS}. */
export const PLUGIN_API_VERSION = 1;
export const SUPPORTED_API_VERSIONS: readonly number[] = [1];

/** A spending window after which the provider resets the cap. `undefined` = lifetime cap. */
export type ResetWindow = 'daily' | 'weekly' | 'monthly';

/** How a platform treats BYOK spend (requests routed through the user's own provider keys): see PlatformDefinition.byok. */
export type ByokSupport = 'optional' | 'always' | 'none';

// ---------------------------------------------------------------------------------------------------------------
// HTTP, provided by core

/** A request made through core's HTTP client (proxy env, timeouts, retries of idempotent methods, redaction). */
export interface HttpRequest {
  method: 'GET' | 'POST' | 'PATCH' | 'PUT' | 'DELETE';
  /** Absolute URL, usually `${ctx.baseUrl}/…`. */
  url: string;
  headers?: Record<string, string>;
  /** Serialised as JSON when present. */
  body?: unknown;
}

/** Response headers: a `Headers` works; core may pass a lighter object with the same `get`. */
export interface HttpHeaders {
  /** The header's value (several joined with `, `), or null. Case-insensitive. */
  get(name: string): string | null;
}

/** Any HTTP status comes back as a response; only transport failures throw. */
export interface HttpResponse<T = unknown> {
  status: number;
  headers: HttpHeaders;
  /** Parsed JSON body, or the raw text when the body is not JSON, or `undefined` when empty. */
  body: T;
}

/** What a provider error means, so core can word it the same way for every provider. */
export type ProviderFailureKind =
  | 'bad-master-key' // 401: the master key is wrong, revoked or missing
  | 'not-master-key' // 403: the key works but cannot manage keys
  | 'rate-limited' // 429
  | 'cap-reached' // the key's own spending cap refused the request
  | 'insufficient-credits' // the account (not the key) is out of money
  | 'not-found' // 404
  | 'bad-request' // 400 / validation
  | 'server' // 5xx
  | 'unknown';

export interface ProviderFailure {
  kind: ProviderFailureKind;
  /** The provider's own message, shown after capit's explanation. Never include a secret. */
  message: string;
  /** Seconds to wait, from `Retry-After`, when the provider said so. */
  retryAfterSeconds?: number;
}

export interface HttpClient {
  /** Sends one request. Non-2xx statuses are returned, not thrown; transport errors throw a capit error. */
  request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>>;
  /**
   * Sends one request and returns the response when it succeeded: a 2xx that the platform's
   * {@link PlatformDefinition.succeeded} hook (when it has one) accepts. Anything else throws core's provider error,
   * classified by the platform's `classifyError`. `action` says what was being done, e.g. `create key "opencode-1a2b"`.
   */
  json<T = unknown>(req: HttpRequest, action: string): Promise<HttpResponse<T>>;
  /**
   * Throws core's provider error for a failed response, using the platform's `classifyError`.
   * `action` says what was being done, e.g. `create key "opencode-1a2b3c4d"`.
   */
  fail(res: HttpResponse, action: string): never;
}

/** One page of a listing, as {@link PlatformContext.paginate} asks for it. */
export interface PageRequest {
  /** 0-based page number (or the number a previous page gave as {@link Page.next}). */
  page: number;
  /** Items before this page, counting every page as long as the first one: for offset-based APIs. */
  offset: number;
}

/** What a page fetcher returns to {@link PlatformContext.paginate}: the page's items, or them plus what the provider said. */
export interface Page<T> {
  items: readonly T[];
  /** The total number of items, when the provider reports it: listing stops once that many distinct ids were seen. */
  total?: number;
  /** The page number to ask for next, when the provider says (e.g. it numbers its pages from 1); default `page + 1`. */
  next?: number;
}

export interface PaginateOptions {
  /** Pages requested ahead while the current one is consumed (default 0: one request at a time). */
  prefetch?: number;
  /**
   * The provider's fixed page size, when it has one: a page shorter than this is the last one, so a short first page
   * ends the listing without another request (and without the pages prefetch would send ahead).
   */
  pageSize?: number;
}

/** Small readers for provider JSON, so every platform reads the wire the same lenient way. */
export interface WireReaders {
  /** The value when it is a plain object (not null, not an array), else undefined. */
  record(value: unknown): Record<string, unknown> | undefined;
  /** A finite number, or a numeric string as a number, else null. */
  number(value: unknown): number | null;
  /** A dollar amount rounded to 6 places: wire floats make `10 - 7.3` 2.6999999999999993, not 2.7. */
  usd(value: number): number;
  /** A non-JSON body (text, an HTML page from a proxy) as one short line without markup; `''` for anything else. */
  text(body: unknown): string;
  /** `an empty body`, `a non-JSON body` or `an unexpected body`: for messages about a 2xx that proves nothing. */
  describe(body: unknown): string;
}

// ---------------------------------------------------------------------------------------------------------------
// Platforms

export interface PlatformContext {
  http: HttpClient;
  /** The management (master) key, already resolved by core from env, credentials file or prompt. */
  masterKey: string;
  /**
   * The management API base URL, after the platform's env override (e.g. `CAPIT_OPENROUTER_BASE_URL`), without a
   * trailing slash.
   */
  baseUrl: string;
  env: Readonly<Record<string, string | undefined>>;
  /**
   * Throws core's provider error for a failure the platform found itself: a 2xx whose body is unusable, a change the
   * provider did not apply, a request capit refuses to send. Worded like any provider error; no response is invented.
   */
  fail(kind: ProviderFailureKind, message: string, action: string): never;
  /**
   * Every item of a paged listing, each id once. Calls `fetchPage` for page 0, 1, 2… (or the page a page names as
   * `next`) and stops after an empty page, a page shorter than the longest one seen (the last page), a page with
   * nothing new (a server that ignores the page parameter, or items shifting between requests), or once `total`
   * distinct items were seen. With `prefetch`, that many further pages are requested while one is consumed.
   */
  paginate<T extends {id: string}>(fetchPage: (at: PageRequest) => Promise<Page<T> | readonly T[]>, options?: PaginateOptions): AsyncIterable<T>;
  /** Lenient readers for the provider's JSON. */
  wire: WireReaders;
}

export interface CreateKeyRequest {
  /** `<prefix>-<8 hex>`, already within `maxNameLength`. */
  name: string;
  capUsd: number;
  reset?: ResetWindow;
  /** Absolute expiry; the platform converts it to its own format (UTC for OpenRouter). */
  expiresAt?: Date;
  /**
   * Whether spend routed through the user's own provider keys (BYOK) counts against `capUsd`. Set by core only for a
   * platform whose {@link PlatformDefinition.byok} is `'optional'`: true unless the user passed `--exclude-byok`. The
   * platform must send it (OpenRouter: `include_byok_in_limit`) and throw if the provider reports otherwise.
   */
  countByok?: boolean;
}

/** A key as the provider reports it, normalised. Never carries the secret. */
export interface ProviderKey {
  id: string;
  name: string;
  /** Spend in the current window (or lifetime when there is no reset window). */
  spentUsd: number;
  /** `null` = no cap. */
  capUsd: number | null;
  remainingUsd: number | null;
  reset: ResetWindow | null;
  disabled: boolean;
  createdAt?: string;
  expiresAt?: string | null;
  /** BYOK spend in the same window as `spentUsd`, where the provider reports it (not included in `spentUsd`). */
  byokSpentUsd?: number;
  /** Whether BYOK spend counts against the cap, where the provider reports it. */
  byokCounted?: boolean;
  /** Spend since 00:00 UTC today whatever the key's reset window, where the provider reports it (OpenRouter `usage_daily`). */
  spentTodayUsd?: number;
}

export interface CreatedKey extends ProviderKey {
  /** The plaintext key. Core shows it once or installs it; it is never logged or stored by core. */
  secret: string;
}

export interface KeyPatch {
  disabled?: boolean;
  capUsd?: number | null;
  reset?: ResetWindow | null;
}

/** Base URLs an agent needs to call the provider with an issued key. */
export interface InferenceBaseUrls {
  /** OpenAI-compatible base, e.g. `https://openrouter.ai/api/v1`. */
  openai: string;
  /** Anthropic-Messages-compatible base, e.g. `https://openrouter.ai/api` (Claude Code appends `/v1/messages`). */
  anthropic?: string;
}

/** What a platform charges for one model, for the headroom preflight (see {@link PlatformDefinition.modelPrice}). */
export interface ModelPrice {
  /** USD per prompt (input) token. */
  promptUsdPerToken: number;
  /** USD per completion (output) token. */
  completionUsdPerToken: number;
  /** The most output tokens one request may ask for (OpenRouter: `top_provider.max_completion_tokens`), when known. */
  maxCompletionTokens?: number;
}

/** The key a {@link PlatformDefinition.probeKey} call asks about: what capit's ledger and the agent's file hold. */
export interface ProbeTarget {
  /** Provider id from the ledger, when known. */
  id: string | null;
  name: string;
  /**
   * The key's own secret, read from the agent's config: OpenRouter's `GET /key` is sent WITH IT (not the master key),
   * so the answer is what the agent itself meets. Core has already registered it for redaction; never print it.
   */
  secret: string;
}

/** A key's state as the provider reports it to the key itself (or, where the API has no such call, to the master key). */
export interface KeyProbe {
  /**
   * `ok`: the provider accepted the key; `deleted`: the provider no longer has it; `disabled` / `expired`: it exists
   * but is turned off / past its expiry; `rejected`: the provider refuses the secret and capit cannot tell why (e.g.
   * the file holds another key than the ledger names).
   */
  state: 'ok' | 'deleted' | 'disabled' | 'expired' | 'rejected';
  /** `null` = no cap. */
  capUsd: number | null;
  remainingUsd: number | null;
  reset: ResetWindow | null;
  /** Spend per window, where reported (USD). */
  usage: {lifetime: number | null; daily?: number | null; weekly?: number | null; monthly?: number | null};
  expiresAt: string | null;
}

/** The account's balance (what every key draws on), as the master key sees it. */
export interface AccountCredits {
  /** Credits bought (or the balance granted), USD. */
  totalUsd: number;
  /** Credits used, USD. */
  usedUsd: number;
  /** `totalUsd - usedUsd`, never below 0. */
  remainingUsd: number;
  /** Where the user adds credits. */
  topUpUrl?: string;
}

export interface PlatformDefinition {
  apiVersion: number;
  kind: 'platform';
  id: string;
  /** Management API base URL and the env var that overrides it (tests, proxies, the emulator). */
  baseUrl: { default: string; env: string };
  masterKey: {
    /** Env vars checked in order, e.g. `['OPENROUTER_MANAGEMENT_KEY']`. */
    env: readonly string[];
    /** Where the user creates a master key. */
    setupUrl: string;
    /** One or two sentences shown before the hidden prompt. */
    instructions?: string;
    /** Cheap syntactic check; return a reason string when the value cannot be a master key. */
    checkShape?(value: string): string | undefined;
    /** Calls the provider; throws (via `ctx.http.json` or `ctx.fail`) when the key is not a working master key. */
    validate(ctx: PlatformContext): Promise<void>;
  };
  /** Longest key name the provider accepts. */
  maxNameLength?: number;
  /** Reset windows the provider can enforce; omitted = all. `[]` = lifetime caps only (`--reset` is refused up front). */
  resetWindows?: readonly ResetWindow[];
  /**
   * How the provider treats spend through the user's own provider keys (BYOK):
   * - `'optional'`: per key, BYOK spend may or may not count against the cap (OpenRouter's `include_byok_in_limit`).
   *   Core asks for it to count ({@link CreateKeyRequest.countByok} true) unless the user passes `--exclude-byok`.
   * - `'always'`: BYOK spend always counts; nothing to choose.
   * - `'none'` (or omitted): the platform has no BYOK, so the cap covers all spend; `--exclude-byok` is refused up front.
   */
  byok?: ByokSupport;
  /** Inference bases derived from the (possibly overridden) management base URL. */
  inferenceBaseUrls(managementBaseUrl: string): InferenceBaseUrls;
  /** Maps a failed response to a {@link ProviderFailure}. `wire` is the same as {@link PlatformContext.wire}. */
  classifyError(res: HttpResponse, wire: WireReaders): ProviderFailure;
  /**
   * Whether a 2xx response really succeeded, for providers that report failures inside an HTTP 200 (one-api's
   * `{"success": false, "message": …}`). Omitted: every 2xx succeeded. `ctx.http.json` throws, through
   * `classifyError`, for a 2xx this returns false for.
   */
  succeeded?(res: HttpResponse, wire: WireReaders): boolean;
  /** Creates a capped key. Must send exactly one create request; never retry it blindly. */
  createKey(ctx: PlatformContext, req: CreateKeyRequest): Promise<CreatedKey>;
  /** Every key, page by page (`ctx.paginate` does the paging). */
  listKeys(ctx: PlatformContext): AsyncIterable<ProviderKey>;
  updateKey(ctx: PlatformContext, id: string, patch: KeyPatch): Promise<ProviderKey>;
  deleteKey(ctx: PlatformContext, id: string): Promise<void>;
  /**
   * Optional (`capit why`). The state of an installed key as the provider enforces it. Call the provider with
   * `key.secret` where it has such an endpoint (OpenRouter `GET /key`); fall back to the master key (by `key.id`) only
   * to tell a refused key's cause apart (deleted, disabled, expired). Reads only; never changes the key.
   */
  probeKey?(ctx: PlatformContext, key: ProbeTarget): Promise<KeyProbe>;
  /** Optional (`capit why`). The account's credits, read with the master key. Reads only. */
  credits?(ctx: PlatformContext): Promise<AccountCredits>;
  /**
   * Optional: the price of one model by the id the platform's inference API takes (`anthropic/claude-sonnet-4.5`), or
   * `undefined` when the platform does not list that model. Used only to warn when a cap is below one worst-case
   * request (providers such as OpenRouter refuse a request they cannot afford in full). `ctx.masterKey` may be `''`:
   * use a public listing that needs no key. Throwing is fine; a failed lookup never blocks an install.
   */
  modelPrice?(ctx: PlatformContext, modelId: string): Promise<ModelPrice | undefined>;
  /**
   * Optional (`capit report`, slice W2): per-day per-model usage of the last `days` completed UTC days, read with the
   * master key (OpenRouter `GET /activity`). Omitted where the provider has no such history: the report then says
   * "not available" for the platform and never estimates. Reads only.
   */
  activity?(ctx: PlatformContext, req: ActivityRequest): Promise<ActivityRow[]>;
}

// ----- issue 15, slice W2 (`capit report`): usage history -----

/** What {@link PlatformDefinition.activity} is asked for. */
export interface ActivityRequest {
  /** The last this many completed UTC days (1–30); today is never included. A platform may answer more (core keeps these). */
  days: number;
  /** Only this key's rows (the provider's key id, e.g. OpenRouter's hash). Omitted: the whole account. */
  keyId?: string;
}

/** One day's usage of one model (summed over the provider's endpoints), as the provider metered it. */
export interface ActivityRow {
  /** The UTC day, `YYYY-MM-DD`. */
  date: string;
  /** The model id as the inference API names it, e.g. `anthropic/claude-sonnet-4.5`. */
  model: string;
  /** The key the row belongs to, when the request filtered by one. */
  keyId?: string;
  /** USD billed by the platform (BYOK spend not included). */
  usageUsd: number;
  /** USD of spend through the user's own provider keys (BYOK), 0 where the platform has none. */
  byokUsageUsd: number;
  requests: number;
  promptTokens: number;
  completionTokens: number;
}
// ----- end of slice W2 -----

// ---------------------------------------------------------------------------------------------------------------
// Agents

/** `json5` is read only: a key source may name a JSON5 file (OpenClaw's openclaw.json); an `AgentFile` capit edits may not. */
export type FileFormat = 'json' | 'jsonc' | 'dotenv' | 'yaml' | 'toml' | 'json5';

export interface AgentEnvironment {
  env: Readonly<Record<string, string | undefined>>;
  home: string;
  /** The directory capit runs in (project-level configs live here). */
  cwd: string;
  platform: NodeJS.Platform;
}

/** A file the agent reads its key from. Core parses, backs up, edits, writes and restores it. */
export interface AgentFile {
  /** Stable id used by edits, e.g. `auth`. */
  id: string;
  /** Absolute path for this machine (env overrides already applied). */
  path: string;
  format: FileFormat;
  /** True when capit writes a secret here: the file is written 0600 and its parent created 0700. */
  secret: boolean;
  /** Text used when the file does not exist yet (default `{}` for JSON, empty otherwise). */
  initial?: string;
}

export type JsonPath = readonly (string | number)[];

export type FileEdit =
  | { file: string; op: 'set'; path: JsonPath; value: unknown }
  | { file: string; op: 'delete'; path: JsonPath };

export interface PlanInput {
  platform: { id: string; displayName: string; inferenceBaseUrls: InferenceBaseUrls };
  /**
   * Always a placeholder token, never a real key: plan() runs once, before the key exists, and core substitutes the
   * real key wherever the token is. Use it verbatim (inside a longer string is fine), only in values of files marked
   * `secret`; never in a path, an object key or a note (such a plan is refused).
   */
  secret: string;
  keyName: string;
  /** Reads the current value at `path` of a file (undefined when absent or the file does not exist). */
  read(file: string, path: JsonPath): unknown;
  /**
   * The time of this install, read once per run by core. A plan that records a time (e.g. an `updatedAt` the agent's
   * schema requires) takes it from here, never from the clock: plan() stays pure, so the plan previewed is the plan
   * installed and a second plan of the same run (files changed while queued) stamps the same time.
   */
  now: Date;
}

export interface AgentPlan {
  edits: FileEdit[];
  /** Lines printed after a successful install (e.g. "restart opencode to pick up the key"). */
  notes?: string[];
}

/**
 * A place the agent reads its key from. `keySources` lists them highest precedence first; core reads them
 * (never the plugin) to warn about shadowing after an install and for `capit doctor`.
 */
export type KeySource = (
  /** `at`: the variable holds JSON (e.g. an inline config) and only a value at that path counts as a key. */
  | {kind: 'env'; name: string; at?: JsonPath}
  | {kind: 'file'; path: string; format: FileFormat; at: JsonPath}
) & {
  /** True for the source capit writes (the edits of `plan`). Sources listed before it shadow the capped key. */
  installs?: boolean;
  /** Why this source matters, e.g. "replaces auth.json entirely". */
  note?: string;
  /** For agents that configure several tools at once (an IDE's extensions): which tool this source belongs to. */
  group?: string;
  /**
   * What the source holds: `key` (default), a key the agent sends; or `baseUrl`, where the agent sends its requests
   * (with whichever key wins). Core reads base-URL sources like key sources, highest precedence first: the first one
   * set decides the host, and when that is not the platform's (the origin of its inference bases), `capit doctor`
   * says REDIRECTED (exit 1) and the install warns. Never put a base URL capit writes below one it does not.
   */
  role?: `key` | `baseUrl` | `selector`;
  /**
   * For a `selector` source (a setting that picks the provider or model entry the agent uses, such as Hermes'
   * `model.provider` or Codex's `model_provider`): the value that makes the agent use what capit installed. Selector
   * sources of the same {@link setting} (by default: with the same `selects`) are one setting's layers (a chain);
   * several settings are several chains, each judged on its own. Core reads a chain highest precedence first; the first one set decides, and any other value means the agent uses
   * another provider: `capit doctor` says SHADOWED (exit 1) and the install warns. When none is set and one of them is
   * the source capit writes (`installs`), the selection is gone: SHADOWED too. Values are compared, never printed.
   */
  selects?: string;
  /**
   * For a `selector` source: the setting it is a layer of, when two settings must hold the same value (Cline's Act-mode
   * and Plan-mode providers are both `openrouter`) and so would otherwise be judged as one.
   */
  setting?: string;
  /**
   * For an `env` source: it counts as set only when its value is truthy (`1`, `true`, `yes`, `on`, any case), as the
   * agent reads a switch such as `CLAUDE_CODE_USE_BEDROCK`.
   */
  truthy?: boolean;
  /**
   * For a `baseUrl` source: any value sends the requests away from the platform, even one naming the platform's host
   * (e.g. a variable that switches the agent to its own "custom" provider).
   */
  redirectsWhenSet?: boolean;
  /**
   * For an agent whose flavours read different files (Cline's CLI and its IDE extension): the flavour that reads this
   * source, as doctor names it (e.g. `Cline CLI`). Doctor judges each flavour on its own sources plus the unflavoured
   * ones, and says which flavour a verdict is about.
   */
  flavour?: string;
  /**
   * How this layer's place in the order is known, for the README's agent × layer table: the release whose own binary
   * was seen honouring it against the emulator (`binary: opencode 1.18.34`), or the code or docs read
   * (`source: hermes_cli/runtime_provider.py@004ad48`). Shown to users; never a claim that was not checked.
   */
  checked?: string;
};

/** What {@link AgentDefinition.sessionEnv} gets: the key of one `capit run` session. */
export interface SessionInput {
  /** The platform id, e.g. `openrouter`. */
  platform: string;
  /** The session key itself: put it only in values of `env`. */
  secret: string;
  /** Inference bases of the platform (after its base-URL override), as `plan()` gets them. */
  baseUrls: InferenceBaseUrls;
}

/** Variables that hand a session key to one process (`capit run`), and what would still beat them. */
export interface SessionEnv {
  /** Set in the child's environment only, over what capit's own environment holds. */
  env: Record<string, string>;
  /**
   * Sources that win over these variables in the agent (e.g. a config file it applies over the process environment).
   * Core reads them like {@link AgentDefinition.keySources} and refuses `capit run` when one holds a value, naming it:
   * the agent would use another key than the session's.
   */
  beatenBy?: KeySource[];
}

/**
 * An agent plugin's default export. Write it as a plain object checked with `satisfies AgentDefinition` (or
 * `AgentDefinition<YourDetection>`) and import only types from `capit/plugin`: an installed plugin cannot resolve
 * `capit` at run time.
 *
 * `Detected` is what the optional {@link AgentDefinition.detect} step returns (`undefined` without one).
 */
export interface AgentDefinition<Detected = unknown> {
  apiVersion: number;
  kind: 'agent';
  id: string;
  /**
   * Optional, read-only look at this machine that the other members depend on (e.g. which IDE extensions are
   * installed). Core calls it at most once per run and agent, before `files`, and passes its result unchanged to
   * `files`, `plan`, `keySources` and `status`, so the preview and the real edits agree even if the disk changes in
   * between, and `plan` stays pure. Config files are read through `read` (core's safe reads: a missing, unparseable,
   * oversized or non-regular file — a FIFO never blocks — reads as `undefined`), never opened by the plugin; beyond
   * that it may only check that paths exist (under `envInfo.home`/`envInfo.env`, and the project markers the agent
   * itself looks for from `envInfo.cwd` upwards, such as the git root). It never writes, prompts or uses the network;
   * the result must be plain data (the conformance kit compares two calls).
   */
  detect?(envInfo: AgentEnvironment, read: ConfigReader): Detected | Promise<Detected>;
  /** The files this agent's key lives in, resolved for this machine. */
  files(envInfo: AgentEnvironment, detected: Detected): AgentFile[];
  /** `true`, or the reason this platform cannot be used by this agent. Must be `true` exactly for the manifest's `platforms`, when it lists them. */
  supports(platformId: string): true | string;
  /** Pure: the edits that make the agent use `secret`. Core applies them. */
  plan(input: PlanInput, envInfo: AgentEnvironment, detected: Detected): AgentPlan;
  /**
   * Where the agent looks for its `platformId` key, highest precedence first, including the one capit writes
   * (marked `installs`). Anything present above it shadows the capped key.
   */
  keySources?(envInfo: AgentEnvironment, platformId: string, detected: Detected): KeySource[];
  /**
   * Optional, pure: how to give one process (`capit run -- <agent command>`) a session key without touching any file:
   * environment or content variables chosen so they win over the agent's own files, plus the sources that would
   * still beat them. A string is the reason no variable can hand this agent a key (an IDE extension reading only its
   * own store, a file always applied over the environment); `capit run` then refuses with it. Omitted: `capit run`
   * refuses for this agent.
   */
  sessionEnv?(input: SessionInput, envInfo: AgentEnvironment, detected: Detected): SessionEnv | string;
  /** One line for `capit agents`, e.g. "Cascade: no OpenRouter BYOK; extensions: kilo". Cheap and read-only. */
  status?(envInfo: AgentEnvironment, detected: Detected): string;
  /**
   * Optional: the model the agent is configured to use with `platformId` keys, as that platform's inference API names
   * it (a provider prefix such as `openrouter/` removed), and the agent's own output-token limit when its config sets
   * one. `undefined` when the config names no model, or one for another provider. Core reads the files through `read`
   * (a missing or unparseable file reads as `undefined`); the plugin never touches the disk here. Used for the headroom
   * preflight when issuing a key.
   */
  model?(envInfo: AgentEnvironment, detected: Detected, read: ConfigReader, platformId: string): AgentModel | undefined | Promise<AgentModel | undefined>;
}

/** Reads the value at `at` of a config file, or `undefined` when the file or the value is absent or cannot be parsed. */
export type ConfigReader = (file: {path: string; format: FileFormat}, at: JsonPath) => Promise<unknown>;

/** An agent's configured model, from {@link AgentDefinition.model}. */
export interface AgentModel {
  /** The model id as the platform's inference API takes it, e.g. `anthropic/claude-sonnet-4.5`. */
  model: string;
  /** The agent's configured limit on output tokens per request, when its config sets one. */
  maxOutputTokens?: number;
  /** How a user limits this agent's output tokens, e.g. `CLAUDE_CODE_MAX_OUTPUT_TOKENS in ~/.claude/settings.json "env"`. */
  outputTokensSetting?: string;
  /** Where the model was read, e.g. `~/.config/opencode/opencode.json`. */
  source?: string;
}

export type PluginDefinition = PlatformDefinition | AgentDefinition;

// No define*() helpers: a plugin exports a plain object with `satisfies PlatformDefinition` / `satisfies
// AgentDefinition` and imports only types from `capit/plugin` (an installed plugin cannot resolve `capit` at run time).
