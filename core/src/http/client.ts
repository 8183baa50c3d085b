// Core's HTTP client: `node:http(s)` for direct connections and, when a proxy is configured, `fetch` with undici's
// `EnvHttpProxyAgent`; retries of idempotent methods on 429/5xx/dropped connections honouring `Retry-After` (and of any
// method on an explicit 429); a header and a body deadline per attempt. Statuses come back as responses; transport
// failures become one-line `NetworkError`s; `fail()` turns a provider's error response into a `ProviderError` worded
// the same for every platform.
//
// Why not always fetch with the undici dispatcher and its retry interceptor: importing undici from npm costs 65-90 ms
// here and Node's own fetch ~55 ms on first use (its bundled undici plus llhttp compiled to WebAssembly), against
// ~5 ms for node:http, whose parser is native — a quarter of an install. The retry loop above the transport also means
// nock-mocked responses (nock intercepts both) exercise the same retry code as production.

import {capitVersion} from '../self.js';
import {InputError, NetworkError, ProviderError}        from '../errors.js';
import type {HttpClient, HttpHeaders, HttpRequest, HttpResponse, PlatformDefinition} from '../plugin.js';
import type {ProviderFailure, ProviderFailureKind}      from '../plugin.js';
import {redactSecrets}                                  from './redact.js';
import {wireReaders}                                    from './wire.js';

type Undici = typeof import('undici');
type Dispatcher = import('undici').Dispatcher;
type FetchInit = RequestInit & {dispatcher?: Dispatcher};

export interface HttpPlatformInfo {
  id: string;
  displayName: string;
  setupUrl: string;
  masterKeyEnv: readonly string[];
}

export interface HttpTimeouts {
  /** TCP + TLS connect (default 10 s). */
  connectMs?: number;
  /** Time to the response headers (default 30 s). */
  headersMs?: number;
  /** Longest gap between body chunks (default 60 s). */
  bodyMs?: number;
}

export interface HttpRetryOptions {
  /** Retries after the first attempt (default 3). */
  maxRetries?: number;
  /** First backoff when there is no `Retry-After` (default 300 ms, doubled each time). */
  minTimeoutMs?: number;
  /** Longest single wait, also caps `Retry-After` (default 10 s). */
  maxTimeoutMs?: number;
}

export interface HttpClientOptions {
  platform: HttpPlatformInfo;
  classifyError: PlatformDefinition[`classifyError`];
  /** The platform's test for a 2xx that is really a failure (HTTP 200 `success:false`); default: every 2xx succeeded. */
  succeeded?: PlatformDefinition[`succeeded`];
  /** Values that must never appear in an error (the master key, issued keys). */
  secrets: string[];
  /** Proxy settings (`HTTP(S)_PROXY`, `NO_PROXY`, lower case first) are read from here. */
  env: Record<string, string | undefined>;
  timeouts?: HttpTimeouts;
  retry?: HttpRetryOptions;
  /** capit's version for the `user-agent` header; read from core's package.json when absent. */
  version?: string;
  /** DNS lookup override (tests resolve a made-up host to a failure without asking a real resolver). */
  lookup?: import('node:net').LookupFunction;
  /** Answers requests instead of the network (unit tests of a plugin); everything else (json, fail) stays core's. */
  send?: (req: HttpRequest) => Promise<HttpResponse>;
}

/** The client plus a way to release pooled sockets (tests, long-running processes). */
export interface CoreHttpClient extends HttpClient {
  close(): Promise<void>;
  /** Throws core's provider error for a failure the platform found itself (no response involved): `ctx.fail`. */
  failWith(kind: ProviderFailureKind, message: string, action: string): never;
  /** One more value never to appear in an error (e.g. an installed key `capit why` probes with). */
  addSecret(secret: string): void;
}

const DEFAULT_TIMEOUTS = {connectMs: 10_000, headersMs: 30_000, bodyMs: 60_000};
const IDEMPOTENT = new Set([`GET`, `HEAD`, `PUT`, `DELETE`, `OPTIONS`]);
const RETRY_STATUSES = new Set([429, 500, 502, 503, 504]);
// Connection-level failures worth one more try; DNS and routing failures mean "offline" and fail at once.
const TRANSIENT_CODES = new Set([`ECONNRESET`, `ECONNREFUSED`, `EPIPE`, `UND_ERR_SOCKET`, `UND_ERR_CLOSED`, `ETIMEDOUT`]);

function isTransient(err: unknown): boolean {
  const code = (err as {cause?: {code?: unknown}})?.cause?.code ?? (err as {code?: unknown})?.code;
  return typeof code === `string` && TRANSIENT_CODES.has(code);
}

function sleep(ms: number): Promise<void> {
  return new Promise(resolve => setTimeout(resolve, ms));
}

function proxyConfigured(env: Readonly<Record<string, string | undefined>>): boolean {
  return Boolean(env.https_proxy || env.HTTPS_PROXY || env.http_proxy || env.HTTP_PROXY);
}

const DEFAULT_RETRY = {maxRetries: 3, minTimeoutMs: 300, maxTimeoutMs: 10_000};
const MAX_PROVIDER_MESSAGE = 300;

// undici from npm is loaded only when a proxy is configured (see the top of this file).
let undiciPromise: Promise<Undici> | undefined;
function loadUndici(): Promise<Undici> {
  undiciPromise ??= import(`undici`);
  return undiciPromise;
}



export function createHttpClient(opts: HttpClientOptions): CoreHttpClient {
  const {platform} = opts;
  const timeouts = {...DEFAULT_TIMEOUTS, ...definedOnly(opts.timeouts)};
  const retry = {...DEFAULT_RETRY, ...definedOnly(opts.retry)};
  const redact = (text: string) => redactSecrets(text, opts.secrets);

  let dispatcherPromise: Promise<{dispatcher: Dispatcher; close: () => Promise<void>}> | undefined;
  function getProxyDispatcher() {
    dispatcherPromise ??= loadUndici().then(async ({EnvHttpProxyAgent}) => {
      // fetch parses HTTP with llhttp compiled to WebAssembly, and V8 then re-compiles it with TurboFan on a
      // background thread that the process waits for at exit (~50 ms here). Baseline (Liftoff) code is plenty for a
      // CLI's few requests; this runs before the first fetch.
      const {setFlagsFromString} = await import(`node:v8`);
      setFlagsFromString(`--liftoff-only`);
      const env = opts.env;
      // Passing the values (even empty) makes `opts.env` authoritative instead of undici peeking at process.env.
      const agent = new EnvHttpProxyAgent({
        httpProxy: env.http_proxy ?? env.HTTP_PROXY ?? ``,
        httpsProxy: env.https_proxy ?? env.HTTPS_PROXY ?? ``,
        noProxy: env.no_proxy ?? env.NO_PROXY ?? ``,
        connect: {timeout: timeouts.connectMs, ...(opts.lookup ? {lookup: opts.lookup} : {})},
        headersTimeout: timeouts.headersMs,
        bodyTimeout: timeouts.bodyMs,
      });
      return {dispatcher: agent, close: () => agent.close()};
    });
    return dispatcherPromise;
  }

  async function request<T = unknown>(req: HttpRequest): Promise<HttpResponse<T>> {
    let url: URL;
    try {
      url = new URL(req.url);
    } catch {
      throw new InputError(`Invalid ${platform.displayName} URL: ${redact(req.url)}`, `Check the base URL override, if any.`);
    }
    const host = url.host;

    const headers: Record<string, string> = {
      accept: `application/json`,
      'user-agent': `capit/${opts.version ?? capitVersion()}`,
    };
    for (const [name, value] of Object.entries(req.headers ?? {})) headers[name.toLowerCase()] = value;
    let body: string | undefined;
    if (req.body !== undefined) {
      body = JSON.stringify(req.body);
      headers[`content-type`] ??= `application/json`;
    }
    const dispatcher = proxyConfigured(opts.env) ? (await getProxyDispatcher()).dispatcher : undefined;
    const idempotent = IDEMPOTENT.has(req.method);

    for (let attempt = 0; ; attempt++) {
      const canRetry = attempt < retry.maxRetries;
      const backoffMs = Math.min(retry.minTimeoutMs * 2 ** attempt, retry.maxTimeoutMs);
      let res: Sent;
      try {
        res = dispatcher ? await sendWithFetch(url, req.method, headers, body, dispatcher, timeouts) : await sendWithNode(url, req.method, headers, body, timeouts, opts.lookup);
      } catch (err) {
        // Only idempotent requests are replayed after a dropped connection: a POST may have been processed.
        if (idempotent && canRetry && isTransient(err)) {
          await sleep(backoffMs);
          continue;
        }
        throw transportFailure(host, err);
      }
      // A 429 is an explicit refusal before any work was done, so replaying it is safe for every method; a 5xx on a
      // POST is not (the key may exist), so only idempotent methods are replayed after one.
      const retryable = canRetry && (res.status === 429 || (idempotent && RETRY_STATUSES.has(res.status)));
      const waitMs = retryable ? retryAfterMs(res.headers.get(`retry-after`), backoffMs) : undefined;
      if (waitMs === undefined || waitMs > retry.maxTimeoutMs)
        return {status: res.status, headers: res.headers, body: parseBody(res.text) as T};
      await sleep(waitMs);
    }
  }

  function fail(res: HttpResponse, action: string): never {
    let failure: ProviderFailure;
    try {
      failure = opts.classifyError(res, wireReaders);
    } catch {
      failure = {kind: `unknown`, message: ``};
    }
    // Every provider says how long to wait the same way; platforms need not parse it.
    if (failure.kind === `rate-limited` && failure.retryAfterSeconds === undefined) {
      const header = res.headers?.get(`retry-after`) ?? null;
      const ms = header === null ? undefined : retryAfterMs(header, Number.NaN);
      if (ms !== undefined && Number.isFinite(ms)) failure = {...failure, retryAfterSeconds: Math.ceil(ms / 1000)};
    }
    throw providerError(failure, res.status, action);
  }

  function failWith(kind: ProviderFailureKind, message: string, action: string): never {
    throw providerError({kind, message}, undefined, action);
  }

  function providerError(failure: ProviderFailure, status: number | undefined, action: string): ProviderError {
    const {message, hint} = wordFailure(platform, failure, status, action);
    const wait = failure.kind === `rate-limited` && failure.retryAfterSeconds !== undefined && Number.isFinite(failure.retryAfterSeconds) && failure.retryAfterSeconds >= 0
      ? {retryAfterSeconds: Math.ceil(failure.retryAfterSeconds)} : {};
    return new ProviderError(platform.id, failure.kind, redact(message), status, hint === undefined ? undefined : redact(hint), wait);
  }

  function succeeded(res: HttpResponse): boolean {
    if (res.status < 200 || res.status >= 300) return false;
    return opts.succeeded ? opts.succeeded(res, wireReaders) : true;
  }

  async function json<T = unknown>(req: HttpRequest, action: string): Promise<HttpResponse<T>> {
    const res = await send<T>(req);
    if (!succeeded(res)) fail(res, action);
    return res;
  }

  async function close() {
    if (!dispatcherPromise) return;
    const {close: closeAgent} = await dispatcherPromise;
    dispatcherPromise = undefined;
    await closeAgent();
  }

  // A test's own transport replaces the network; the rest of the client is the same.
  const send = opts.send ? <T>(req: HttpRequest) => opts.send!(req) as Promise<HttpResponse<T>> : request;

  // `opts.secrets` is read on every redaction, so a value added later is covered from then on.
  const addSecret = (secret: string) => {
    if (secret && !opts.secrets.includes(secret)) opts.secrets.push(secret);
  };
  return {request: send, json, fail, failWith, close, addSecret};
}

interface Sent {
  status: number;
  headers: HttpHeaders;
  text: string;
}

// Codes that can only mean the connection (to the provider or to the proxy) never opened, so nothing was sent. Anything
// else keeps the safe assumption that the request may have arrived; ETIMEDOUT is left out as it can also end an open
// connection.
const NOT_SENT_CODES = new Set([`ENOTFOUND`, `EAI_AGAIN`, `EAI_FAIL`, `EAI_NONAME`, `ECONNREFUSED`, `EHOSTUNREACH`, `EHOSTDOWN`, `ENETUNREACH`, `ENETDOWN`, `UND_ERR_CONNECT_TIMEOUT`]);

function wasNotSent(err: unknown): boolean {
  return [...errorChain(err)].some(e => typeof e.code === `string` && NOT_SENT_CODES.has(e.code));
}

/** The one-line `NetworkError` for a request that did not complete; says whether it can have reached the provider. */
function transportFailure(host: string, err: unknown): NetworkError {
  const cause = describeTransportError(err);
  if (wasNotSent(err)) return new NetworkError(`could not reach ${host} (${cause}); nothing was sent`, err, {requestSent: false});
  return new NetworkError(`no answer from ${host} (${cause}); the request may have reached it`, err, {requestSent: true});
}

function timeoutError(): Error {
  return new DOMException(`timed out`, `TimeoutError`);
}

/** Through a proxy: fetch with undici's `EnvHttpProxyAgent`. Two deadlines: until the headers, then the body. */
async function sendWithFetch(url: URL, method: string, headers: Record<string, string>, body: string | undefined, dispatcher: Dispatcher, timeouts: Required<HttpTimeouts>): Promise<Sent> {
  const deadline = new AbortController();
  let timer = setTimeout(() => deadline.abort(timeoutError()), timeouts.connectMs + timeouts.headersMs);
  try {
    const init: FetchInit = {method, headers, body, redirect: `follow`, signal: deadline.signal, dispatcher};
    const res = await fetch(url, init as RequestInit);
    clearTimeout(timer);
    timer = setTimeout(() => deadline.abort(timeoutError()), timeouts.bodyMs);
    return {status: res.status, headers: res.headers, text: await res.text()};
  } finally {
    clearTimeout(timer);
  }
}

type NodeHttp = typeof import('node:http');
const transports = new Map<string, Promise<{module: NodeHttp; agent: import('node:http').Agent}>>();

// Node's own HTTP client for direct connections. `fetch` would do, but its first use loads Node's bundled undici and
// compiles llhttp to WebAssembly (~55 ms, a quarter of an install); node:http's parser is native. Sockets are kept
// alive for the parallel requests of `keys delete`; idle ones do not hold the process open.
function transport(protocol: string) {
  let loaded = transports.get(protocol);
  if (!loaded) {
    loaded = (protocol === `https:` ? import(`node:https`) : import(`node:http`)).then(module => ({
      module: module as unknown as NodeHttp,
      agent: new (module as unknown as NodeHttp).Agent({keepAlive: true}),
    }));
    transports.set(protocol, loaded);
  }
  return loaded;
}

async function sendWithNode(url: URL, method: string, headers: Record<string, string>, body: string | undefined, timeouts: Required<HttpTimeouts>, lookup?: import('node:net').LookupFunction): Promise<Sent> {
  const {module, agent} = await transport(url.protocol);
  return new Promise<Sent>((resolve, reject) => {
    const requestHeaders = body === undefined ? headers : {...headers, 'content-length': String(Buffer.byteLength(body))};
    // The connect phase has its own deadline; its timeout is told apart (UND_ERR_CONNECT_TIMEOUT) because nothing can
    // have been sent before the socket connected.
    let connectTimer: NodeJS.Timeout | undefined;
    const fail = (error: unknown) => {
      clearTimeout(timer);
      clearTimeout(connectTimer);
      reject(error);
    };
    const request = module.request(url, {method, headers: requestHeaders, agent, ...(lookup ? {lookup} : {})}, response => {
      clearTimeout(timer);
      timer = setTimeout(() => request.destroy(timeoutError()), timeouts.bodyMs);
      const chunks: Buffer[] = [];
      response.on(`data`, (chunk: Buffer) => chunks.push(chunk));
      response.on(`error`, fail);
      response.on(`end`, () => {
        clearTimeout(timer);
        if (!response.complete) {
          reject(Object.assign(new Error(`terminated`), {code: `ECONNRESET`}));
          return;
        }
        resolve({status: response.statusCode ?? 0, headers: nodeHeaders(response.headers), text: Buffer.concat(chunks).toString(`utf8`)});
      });
    });
    let timer = setTimeout(() => request.destroy(timeoutError()), timeouts.connectMs + timeouts.headersMs);
    request.on(`socket`, socket => {
      const ready = url.protocol === `https:` ? `secureConnect` : `connect`;
      // A kept-alive socket is already connected; a new one may still be resolving or connecting.
      const onConnected = () => {
        clearTimeout(connectTimer);
        // From here the response has its own deadline.
        clearTimeout(timer);
        timer = setTimeout(() => request.destroy(timeoutError()), timeouts.headersMs);
      };
      if (!socket.connecting && !(socket as {pending?: boolean}).pending) {
        onConnected();
        return;
      }
      connectTimer = setTimeout(() => request.destroy(Object.assign(new Error(`connect timed out`), {code: `UND_ERR_CONNECT_TIMEOUT`})), timeouts.connectMs);
      socket.once(ready, onConnected);
    });
    request.on(`error`, fail);
    request.end(body);
  });
}

/** The one `Headers` method the plugin API promises, without loading the global `Headers` (Node's bundled undici). */
function nodeHeaders(raw: import('node:http').IncomingHttpHeaders): HttpHeaders {
  return {
    get(name: string) {
      const value = raw[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(`, `) : String(value);
    },
  };
}

/** `Retry-After` in seconds or as an HTTP date, else the backoff. */
function retryAfterMs(header: string | null, fallbackMs: number): number {
  if (header === null || header.trim() === ``) return fallbackMs;
  const seconds = Number(header);
  if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  const date = Date.parse(header);
  return Number.isNaN(date) ? fallbackMs : Math.max(0, date - Date.now());
}

function definedOnly<T extends object>(value: T | undefined): Partial<T> {
  return Object.fromEntries(Object.entries(value ?? {}).filter(([, v]) => v !== undefined)) as Partial<T>;
}

function parseBody(text: string): unknown {
  if (text.trim() === ``) return undefined;
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Wording

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ` `).trim();
  return flat.length > MAX_PROVIDER_MESSAGE ? `${flat.slice(0, MAX_PROVIDER_MESSAGE - 1)}…` : flat;
}

/** `401: User not found.`, or just `401` when the provider said nothing useful. */
function statusDetail(status: number | undefined, providerMessage: string, prefix = ``): string {
  const msg = oneLine(providerMessage);
  // A failure the platform found itself has no status of its own.
  if (status === undefined) return msg || `no details`;
  // one-api style providers report failures inside an HTTP 200; the status would only confuse.
  if (status >= 200 && status < 300) return msg || `${prefix}${status}`;
  return msg ? `${prefix}${status}: ${msg}` : `${prefix}${status}`;
}

function wordFailure(platform: HttpPlatformInfo, failure: ProviderFailure, status: number | undefined, action: string): {message: string; hint?: string} {
  const name = platform.displayName;
  const detail = statusDetail(status, failure.message);
  const httpDetail = statusDetail(status, failure.message, `HTTP `);
  const act = oneLine(action);
  const envNames = platform.masterKeyEnv.length > 0 ? platform.masterKeyEnv.join(` or `) : `the master key variable`;
  const kind: ProviderFailureKind = failure.kind;

  switch (kind) {
    case `bad-master-key`:
      return {
        message: `${name} rejected the master key while trying to ${act} (${detail})`,
        hint: `Check ${envNames} or the stored key (capit platforms add ${platform.id}); create a management key at ${platform.setupUrl}`,
      };
    case `not-master-key`:
      return {
        message: `The key given for ${name} is not a management key (${detail})`,
        hint: `Create a management key at ${platform.setupUrl}, then set ${envNames} or run capit platforms add ${platform.id}`,
      };
    case `rate-limited`: {
      const wait = failure.retryAfterSeconds;
      const after = wait !== undefined && Number.isFinite(wait) && wait >= 0 ? ` — retry after ${Math.ceil(wait)}s` : ``;
      return {
        message: `${name} is rate limiting requests${status === undefined ? `` : ` (${status})`}${after}`,
        hint: `Wait a little, then run the command again.`,
      };
    }
    case `cap-reached`:
      return {
        message: `${name} refused to ${act}: the key's spending cap is used up (${detail})`,
        hint: `Raise the key's cap or issue a new key.`,
      };
    case `insufficient-credits`:
      return {
        message: `${name} refused to ${act}: the account is out of credits (${detail})`,
        hint: `Add credits to your ${name} account, then run the command again.`,
      };
    case `not-found`:
      return {
        message: `${name} could not ${act}: not found (${detail})`,
        hint: `The key may have been deleted already.`,
      };
    case `bad-request`:
      return {
        message: `${name} rejected the request to ${act} (${detail})`,
      };
    case `server`:
      return {
        message: `${name} is having problems (${httpDetail}); try again later`,
      };
    case `unknown`:
    default:
      return {
        message: `${name} returned an unexpected response while trying to ${act} (${httpDetail})`,
      };
  }
}

// ---------------------------------------------------------------------------------------------------------------
// Transport errors

const TRANSPORT_CAUSES: Record<string, string> = {
  ECONNREFUSED: `connection refused`,
  ENOTFOUND: `DNS lookup failed — are you offline?`,
  EAI_AGAIN: `DNS lookup failed — are you offline?`,
  ECONNRESET: `connection dropped`,
  EPIPE: `connection dropped`,
  UND_ERR_SOCKET: `connection dropped`,
  UND_ERR_CLOSED: `connection dropped`,
  ECONNABORTED: `connection dropped`,
  UND_ERR_CONNECT_TIMEOUT: `timed out connecting`,
  ETIMEDOUT: `timed out connecting`,
  UND_ERR_HEADERS_TIMEOUT: `timed out waiting for a response`,
  UND_ERR_BODY_TIMEOUT: `timed out waiting for a response`,
  ENETUNREACH: `network unreachable — are you offline?`,
  ENETDOWN: `network unreachable — are you offline?`,
  EHOSTUNREACH: `host unreachable`,
  EHOSTDOWN: `host unreachable`,
  UND_ERR_PRX_TLS: `proxy connection failed`,
  ERR_TLS_CERT_ALTNAME_INVALID: `TLS certificate does not match the host`,
  CERT_HAS_EXPIRED: `TLS certificate expired`,
  DEPTH_ZERO_SELF_SIGNED_CERT: `untrusted TLS certificate — a proxy in the way?`,
  SELF_SIGNED_CERT_IN_CHAIN: `untrusted TLS certificate — a proxy in the way?`,
  UNABLE_TO_VERIFY_LEAF_SIGNATURE: `untrusted TLS certificate — a proxy in the way?`,
  UNABLE_TO_GET_ISSUER_CERT_LOCALLY: `untrusted TLS certificate — a proxy in the way?`,
};

function* errorChain(err: unknown, depth = 0): Generator<{code?: unknown; name?: unknown; message?: unknown}> {
  if (depth > 8 || err === null || typeof err !== `object`) return;
  const e = err as {code?: unknown; name?: unknown; message?: unknown; cause?: unknown; errors?: unknown};
  yield e;
  if (Array.isArray(e.errors)) for (const inner of e.errors) yield* errorChain(inner, depth + 1);
  yield* errorChain(e.cause, depth + 1);
}

/** A short, secret-free description of why the request did not complete. */
export function describeTransportError(err: unknown): string {
  const chain = [...errorChain(err)];
  for (const e of chain) {
    if (typeof e.code === `string` && e.code in TRANSPORT_CAUSES) return TRANSPORT_CAUSES[e.code]!;
  }
  for (const e of chain) {
    if (e.name === `TimeoutError` || e.name === `AbortError`) return `timed out waiting for a response`;
  }
  // `terminated` = the body stream ended early, i.e. the server or a proxy closed the connection mid-response.
  if (chain.some(e => e.message === `terminated` || e.message === `other side closed`)) return `connection dropped`;
  const code = chain.find(e => typeof e.code === `string`)?.code;
  if (typeof code === `string`) return code;
  const deepest = chain.at(-1);
  return typeof deepest?.message === `string` && deepest.message ? oneLine(deepest.message).slice(0, 120) : `network error`;
}
