import {randomBytes, timingSafeEqual} from 'node:crypto';
import fs                            from 'node:fs';
import http                          from 'node:http';
import {createRequire}               from 'node:module';
import type {AddressInfo}            from 'node:net';
import {networkInterfaces}           from 'node:os';
import path                          from 'node:path';

import {Cli}                         from 'clipanion';

import type {CapitContext}           from '../context.js';
import {discover}                    from '../plugins/sources.js';
import type {Env}                    from '../state/paths.js';
import {errorBody, handleApi, HttpError, newApiState} from './api.js';
import {ASSETS}                      from './assets.js';

export interface ServeOptions {
  /** Interface to bind; default 127.0.0.1. */
  host?: string;
  /** 0 (default) = a random free port. */
  port?: number;
  env?: Env;
  cwd?: string;
  /** Where core functions write diagnostics (they never prompt: the server context is not interactive). */
  stdout?: NodeJS.WritableStream;
  stderr?: NodeJS.WritableStream;
  /** A fixed token (tests); default 32 random bytes, new for every launch. */
  token?: string;
  /** A ready context instead of discovering plugins from env/cwd. */
  context?: CapitContext;
}

export interface RunningServer {
  /** The URL to open, with `#token=` (a fragment: browsers never send it to any server). */
  url: string;
  /** The URL without the token. */
  origin: string;
  token: string;
  host: string;
  port: number;
  close(): Promise<void>;
}

const LOOPBACK = new Set([`127.0.0.1`, `localhost`, `::1`, `[::1]`]);
const WILDCARD = new Set([`0.0.0.0`, `::`, `[::]`, ``]);

export function isLoopback(host: string): boolean {
  return LOOPBACK.has(host) || /^127\.\d+\.\d+\.\d+$/.test(host);
}

/** The context core functions get: the same shape `capit` builds in main.ts, never interactive. */
export function serverContext(opts: {env?: Env; cwd?: string; stdout?: NodeJS.WritableStream; stderr?: NodeJS.WritableStream}): CapitContext {
  const env = opts.env ?? process.env;
  const cwd = opts.cwd ?? process.cwd();
  const plugins = discover(env, cwd);
  return {
    ...Cli.defaultContext,
    stdout: (opts.stdout ?? process.stdout) as NodeJS.WriteStream,
    stderr: (opts.stderr ?? process.stderr) as NodeJS.WriteStream,
    colorDepth: 1,
    env,
    cwd,
    plugins,
    interactive: false,
  };
}

function hostForUrl(host: string): string {
  return host.includes(`:`) && !host.startsWith(`[`) ? `[${host}]` : host;
}

function sameSecret(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** The header the page sends the token in. Never a cookie: cookies ignore ports, so every other server on 127.0.0.1 would get it. */
export const TOKEN_HEADER = `x-capit-token`;

// Every answer: no caching, no framing, no sniffing, no referrer (the token must not leak), only our own scripts.
const SECURITY_HEADERS: Record<string, string> = {
  'cache-control': `no-store`,
  'x-content-type-options': `nosniff`,
  'x-frame-options': `DENY`,
  'referrer-policy': `no-referrer`,
  'cross-origin-opener-policy': `same-origin`,
  'cross-origin-resource-policy': `same-origin`,
  'content-security-policy': `default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'`,
};

function send(res: http.ServerResponse, status: number, body: string, type: string, extra: Record<string, string> = {}) {
  res.writeHead(status, {...SECURITY_HEADERS, 'content-type': type, 'content-length': Buffer.byteLength(body), ...extra});
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown) {
  send(res, status, `${JSON.stringify(value)}\n`, `application/json; charset=utf-8`);
}

/** Errors of the gate (Host, Origin, token): JSON for the API, a line of text for pages. */
function refuse(res: http.ServerResponse, api: boolean, status: number, message: string, hint: string | null = null) {
  if (api) sendJson(res, status, errorBody(message, status === 401 ? `CAPIT_UNAUTHORIZED` : `CAPIT_FORBIDDEN`, hint));
  else send(res, status, `capit serve: ${message}\n`, `text/plain; charset=utf-8`);
}

const MAX_BODY = 64 * 1024;

async function readBody(req: http.IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > MAX_BODY) throw new HttpError(413, `CAPIT_TOO_LARGE`, `request body over ${MAX_BODY} bytes`);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks).toString(`utf8`);
}

// ----- slice W3 (spend page): the chart library, served from capit's own dependencies (the CSP allows only 'self').
/** The path the page loads Chart.js from; the file comes from the installed `chart.js` package, never a CDN. */
export const CHART_LIBRARY_PATH = `/vendor/chart.umd.min.js`;
let chartLibrary: string | undefined;

/**
 * Chart.js's browser build (UMD, no eval, no injected styles). Found at run time beside whatever capit runs from
 * (dist/ in the repository, dist/bundle/ in a global install): its package "exports" do not list the UMD file, so
 * the package's main entry is resolved and the file taken from the same folder. Read once, then kept.
 */
export function chartLibraryBody(): string {
  if (chartLibrary === undefined) {
    const main = createRequire(import.meta.url).resolve(`chart.js`);
    const text = fs.readFileSync(path.join(path.dirname(main), `chart.umd.min.js`), `utf8`);
    // The source map is not shipped with the page; without the comment a browser's devtools do not ask for it.
    chartLibrary = text.replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, `\n`);
  }
  return chartLibrary;
}
// ----- end of slice W3

/**
 * Starts the GUI server. Safe by default: loopback only, Host and Origin checked, no CORS, and a random token required
 * on every API request in the `X-Capit-Token` header (or `Authorization: Bearer` for scripts). The page itself (three
 * constant files, no data) loads without it; it reads the token from the URL fragment once, keeps it in
 * sessionStorage (per origin, so per port) and drops it from the address bar. No cookie ever carries the token.
 */
export async function startServer(options: ServeOptions = {}): Promise<RunningServer> {
  const bindHost = options.host ?? `127.0.0.1`;
  const token = options.token ?? randomBytes(32).toString(`base64url`);
  const ctx = options.context ?? serverContext(options);
  const state = newApiState();

  let port = 0;
  let allowedHosts = new Set<string>();

  const server = http.createServer((req, res) => {
    void handle(req, res).catch(error => {
      if (res.headersSent) {
        res.destroy();
        return;
      }
      if (error instanceof HttpError) sendJson(res, error.status, errorBody(error.message, error.code, null, 2));
      else {
        ctx.stderr.write(`capit serve: internal error\n${(error as Error)?.stack ?? String(error)}\n`);
        sendJson(res, 500, errorBody(`Internal error: ${(error as Error)?.message ?? String(error)}`, `CAPIT_INTERNAL`, `This is a bug in capit; please report it with the server's terminal output.`));
      }
    });
  });

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const url = new URL(req.url ?? `/`, `http://localhost`);
    const api = url.pathname.startsWith(`/api/`);

    // DNS rebinding: a page on evil.example resolving to 127.0.0.1 still sends `Host: evil.example:PORT`.
    const host = (req.headers.host ?? ``).toLowerCase();
    if (!allowedHosts.has(host)) return refuse(res, api, 403, `refused: unexpected Host header ${JSON.stringify(req.headers.host ?? ``)}`);
    // CSRF: browsers send Origin on cross-origin requests and on every POST; it must be this server.
    const origin = req.headers.origin;
    if (origin !== undefined && !(origin.toLowerCase().startsWith(`http://`) && allowedHosts.has(origin.toLowerCase().slice(7))))
      return refuse(res, api, 403, `refused: cross-origin request from ${JSON.stringify(origin)}`);

    if (!api) {
      // The page's own files are the same for everyone and hold no data: they load without the token (a reload has
      // no token in the address bar; the page keeps it in sessionStorage). Everything with data is under /api/.
      // slice W3 (spend page): the chart library is a file of a dependency, not one of the page's string modules.
      const asset = url.pathname === CHART_LIBRARY_PATH
        ? {type: `text/javascript; charset=utf-8`, body: chartLibraryBody()}
        : ASSETS[url.pathname === `/` ? `/index.html` : url.pathname];
      if (!asset) return send(res, 404, `Not found\n`, `text/plain; charset=utf-8`);
      if (req.method !== `GET` && req.method !== `HEAD`) return send(res, 405, `Method not allowed\n`, `text/plain; charset=utf-8`, {allow: `GET, HEAD`});
      return send(res, 200, asset.body, asset.type);
    }

    const header = req.headers[TOKEN_HEADER];
    const given = typeof header === `string` ? header.trim() : undefined;
    const auth = req.headers.authorization;
    const bearer = auth?.startsWith(`Bearer `) ? auth.slice(7).trim() : undefined;
    if (!sameSecret(given, token) && !sameSecret(bearer, token)) {
      return refuse(res, true, 401, given === undefined && bearer === undefined ? `This page has no access token` : `The access token is not valid`,
        `Open the full address capit serve printed (it ends in #token=…); the token changes every time capit serve starts`);
    }

    let body: unknown;
    if (req.method === `POST`) {
      // Only JSON: an HTML form or a "simple" cross-site request cannot send application/json.
      const type = (req.headers[`content-type`] ?? ``).split(`;`)[0]!.trim().toLowerCase();
      if (type !== `application/json`) throw new HttpError(415, `CAPIT_BAD_CONTENT_TYPE`, `API requests must be application/json`);
      const text = await readBody(req);
      try {
        body = text === `` ? {} : JSON.parse(text);
      } catch {
        throw new HttpError(400, `CAPIT_BAD_JSON`, `the request body is not valid JSON`);
      }
      if (typeof body !== `object` || body === null || Array.isArray(body)) throw new HttpError(400, `CAPIT_BAD_JSON`, `the request body must be a JSON object`);
    } else if (req.method !== `GET`) {
      throw new HttpError(405, `CAPIT_BAD_METHOD`, `method ${req.method} not allowed`);
    }
    const result = await handleApi({method: req.method, path: url.pathname, query: url.searchParams, body: body as Record<string, unknown> | undefined}, ctx, state);
    sendJson(res, result.status, result.body);
  }

  await new Promise<void>((resolve, reject) => {
    server.once(`error`, reject);
    server.listen(options.port ?? 0, bindHost, () => {
      server.off(`error`, reject);
      resolve();
    });
  });
  port = (server.address() as AddressInfo).port;
  // The names a browser may use for this server. Bound to every interface, the machine's own addresses too.
  const names = new Set([`127.0.0.1`, `localhost`, `[::1]`]);
  if (WILDCARD.has(bindHost)) {
    for (const list of Object.values(networkInterfaces()))
      for (const addr of list ?? []) names.add(hostForUrl(addr.address.toLowerCase()));
  } else {
    names.add(hostForUrl(bindHost.toLowerCase()));
  }
  allowedHosts = new Set([...names].map(n => `${n}:${port}`));

  const shownHost = WILDCARD.has(bindHost) ? `127.0.0.1` : hostForUrl(bindHost);
  const origin = `http://${shownHost}:${port}`;
  return {
    url: `${origin}/#token=${token}`,
    origin,
    token,
    host: bindHost,
    port,
    close: () => new Promise<void>(resolve => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
