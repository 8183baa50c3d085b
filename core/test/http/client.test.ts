// Retry, timeout and proxy behaviour needs a real socket: nock-mocked requests bypass the undici dispatcher entirely.
import {execFile}                                    from 'node:child_process';
import http                                          from 'node:http';
import net                                           from 'node:net';
import {fileURLToPath}                               from 'node:url';
import {promisify}                                   from 'node:util';
import {afterEach, describe, expect, it}             from 'vitest';
import {createHttpClient, type CoreHttpClient, type HttpClientOptions} from '../../src/http/client.js';
import {InputError, NetworkError, ProviderError}     from '../../src/errors.js';
import type {HttpResponse, ProviderFailure}          from '../../src/plugin.js';

const MASTER = `sk-or-v1-mgmt-fake-${`0123456789abcdef`.repeat(3)}`;

type Handler = (req: http.IncomingMessage, res: http.ServerResponse, body: string) => void;

interface TestServer {
  url: string;
  hits: {method: string; url: string; headers: http.IncomingHttpHeaders; body: string}[];
  close(): Promise<void>;
}

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

/** A loopback server answering the n-th request with `handlers[n]` (the last one repeats). */
async function serve(...handlers: Handler[]): Promise<TestServer> {
  const hits: TestServer['hits'] = [];
  const server = http.createServer((req, res) => {
    let body = ``;
    req.on(`data`, chunk => body += chunk);
    req.on(`end`, () => {
      hits.push({method: req.method ?? ``, url: req.url ?? ``, headers: req.headers, body});
      const handler = handlers[Math.min(hits.length, handlers.length) - 1]!;
      handler(req, res, body);
    });
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as net.AddressInfo;
  const close = async () => {
    server.closeAllConnections();
    await new Promise<void>(resolve => server.close(() => resolve()));
  };
  cleanups.push(close);
  return {url: `http://127.0.0.1:${port}`, hits, close};
}

function status(code: number, body: unknown = {error: {code, message: `status ${code}`}}, headers: Record<string, string> = {}): Handler {
  return (_req, res) => {
    res.writeHead(code, {'content-type': `application/json`, ...headers});
    res.end(JSON.stringify(body));
  };
}

const classifyByStatus = (res: HttpResponse): ProviderFailure => ({kind: res.status >= 500 ? `server` : `unknown`, message: ``});

function client(overrides: Partial<HttpClientOptions> = {}): CoreHttpClient {
  const c = createHttpClient({
    platform: {id: `openrouter`, displayName: `OpenRouter`, setupUrl: `https://openrouter.ai/settings/management-keys`, masterKeyEnv: [`OPENROUTER_MANAGEMENT_KEY`]},
    classifyError: classifyByStatus,
    secrets: [MASTER],
    env: {},
    retry: {minTimeoutMs: 10, maxTimeoutMs: 2_000},
    ...overrides,
  });
  cleanups.push(() => c.close());
  return c;
}

async function rejection(promise: Promise<unknown>): Promise<NetworkError & ProviderError> {
  try {
    await promise;
  } catch (err) {
    return err as NetworkError & ProviderError;
  }
  throw new Error(`expected a rejection`);
}

async function closedPort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  const {port} = server.address() as net.AddressInfo;
  await new Promise<void>(resolve => server.close(() => resolve()));
  return port;
}

describe(`request`, () => {
  it(`sends JSON with content-type, accept and a capit user-agent, and parses JSON back`, async () => {
    const srv = await serve(status(201, {data: {ok: true}}));
    const res = await client({version: `1.2.3`}).request({
      method: `POST`, url: `${srv.url}/keys`, body: {name: `n`, limit: 5}, headers: {Authorization: `Bearer ${MASTER}`},
    });

    expect(res.status).toBe(201);
    expect(res.body).toEqual({data: {ok: true}});
    expect(res.headers.get(`content-type`)).toBe(`application/json`);
    const [hit] = srv.hits;
    expect(hit?.method).toBe(`POST`);
    expect(JSON.parse(hit!.body)).toEqual({name: `n`, limit: 5});
    expect(hit?.headers[`content-type`]).toBe(`application/json`);
    expect(hit?.headers.accept).toBe(`application/json`);
    expect(hit?.headers[`user-agent`]).toBe(`capit/1.2.3`);
    expect(hit?.headers.authorization).toBe(`Bearer ${MASTER}`);
  });

  it(`reads its version from core's package.json when none is given`, async () => {
    const srv = await serve(status(200, {}));
    await client().request({method: `GET`, url: srv.url});
    expect(srv.hits[0]?.headers[`user-agent`]).toMatch(/^capit\/\d+\.\d+\.\d+/);
  });

  it(`returns text bodies as text and empty bodies as undefined`, async () => {
    const srv = await serve(
      (_req, res) => res.writeHead(502, {'content-type': `text/html`}).end(`<h1>Bad Gateway</h1>`),
      (_req, res) => res.writeHead(204).end(),
    );
    const c = client({retry: {maxRetries: 0}});
    const text = await c.request({method: `POST`, url: srv.url});
    expect(text).toMatchObject({status: 502, body: `<h1>Bad Gateway</h1>`});
    const empty = await c.request({method: `DELETE`, url: srv.url});
    expect(empty.status).toBe(204);
    expect(empty.body).toBeUndefined();
  });

  it(`refuses a malformed URL as bad input`, async () => {
    const err = await rejection(client().request({method: `GET`, url: `not a url/${MASTER}`}));
    expect(err).toBeInstanceOf(InputError);
    expect(err.message).not.toContain(MASTER);
  });
});

describe(`retries`, () => {
  it(`retries a GET on 503 and returns the 200 after 3 hits`, async () => {
    const srv = await serve(status(503), status(503), status(200, {data: []}));
    const res = await client().request({method: `GET`, url: `${srv.url}/keys`});
    expect(res.status).toBe(200);
    expect(res.body).toEqual({data: []});
    expect(srv.hits).toHaveLength(3);
  });

  it(`waits for Retry-After on 429 before retrying`, async () => {
    const srv = await serve(status(429, {error: {code: 429, message: `Rate limit exceeded`}}, {'retry-after': `1`}), status(200, {ok: 1}));
    const started = performance.now();
    const res = await client({retry: {minTimeoutMs: 10}}).request({method: `GET`, url: srv.url});
    const waited = performance.now() - started;
    expect(res.status).toBe(200);
    expect(srv.hits).toHaveLength(2);
    // minTimeout is 10 ms, so a wait near a second can only come from Retry-After.
    expect(waited).toBeGreaterThanOrEqual(900);
  });

  it(`gives up after maxRetries and hands back the last 503 response`, async () => {
    const srv = await serve(status(503));
    const res = await client({retry: {maxRetries: 2, minTimeoutMs: 5}}).request({method: `DELETE`, url: srv.url});
    expect(res.status).toBe(503);
    expect(srv.hits).toHaveLength(3);
  });

  it.each([`POST`, `PATCH`] as const)(`never retries a %s: one hit, 503 returned`, async method => {
    const srv = await serve(status(503), status(200));
    const res = await client().request({method, url: `${srv.url}/keys`, body: {name: `n`}});
    expect(res.status).toBe(503);
    expect(srv.hits).toHaveLength(1);
  });

  it(`does not retry a 4xx`, async () => {
    const srv = await serve(status(404), status(200));
    const res = await client().request({method: `GET`, url: srv.url});
    expect(res.status).toBe(404);
    expect(srv.hits).toHaveLength(1);
  });
});

describe(`transport errors`, () => {
  // A made-up host resolved by a lookup that fails as a resolver does offline: no real DNS query is ever made.
  const offlineLookup = ((hostname: string, _options: unknown, callback: (err: NodeJS.ErrnoException) => void) => {
    process.nextTick(() => callback(Object.assign(new Error(`getaddrinfo ENOTFOUND ${hostname}`), {code: `ENOTFOUND`, hostname})));
  }) as unknown as net.LookupFunction;

  it(`headers timeout → NetworkError "timed out waiting for a response", the request may have been sent`, async () => {
    const srv = await serve(() => { /* never answers */ });
    const host = new URL(srv.url).host;
    const err = await rejection(client({timeouts: {headersMs: 200}}).request({method: `GET`, url: srv.url}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.code).toBe(`CAPIT_OFFLINE`);
    expect(err.message).toBe(`no answer from ${host} (timed out waiting for a response); the request may have reached it`);
    expect(err.requestSent).toBe(true);
    expect(err.hint).toMatch(/proxy/);
  });

  it(`body timeout → NetworkError "timed out waiting for a response"`, async () => {
    const srv = await serve((_req, res) => {
      res.writeHead(200, {'content-type': `application/json`, 'content-length': `100`});
      res.write(`{"data":`);
    });
    const err = await rejection(client({timeouts: {bodyMs: 200}}).request({method: `GET`, url: srv.url}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toMatch(/\(timed out waiting for a response\); the request may have reached it$/);
    expect(err.requestSent).toBe(true);
  });

  it(`server closing the socket → NetworkError "connection dropped" (a GET is retried first)`, async () => {
    const srv = await serve(req => req.socket.destroy());
    const host = new URL(srv.url).host;
    const err = await rejection(client({retry: {maxRetries: 2, minTimeoutMs: 5}}).request({method: `GET`, url: srv.url}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toBe(`no answer from ${host} (connection dropped); the request may have reached it`);
    expect(err.requestSent).toBe(true);
    expect(srv.hits).toHaveLength(3);
  });

  it(`server closing the socket on a POST → one attempt only, and it may have been processed`, async () => {
    const srv = await serve(req => req.socket.destroy());
    const err = await rejection(client().request({method: `POST`, url: srv.url, body: {}}));
    expect(err.message).toMatch(/\(connection dropped\); the request may have reached it$/);
    expect(err.requestSent).toBe(true);
    expect(srv.hits).toHaveLength(1);
  });

  it(`connection refused → "could not reach …; nothing was sent", requestSent false, the cause once`, async () => {
    const port = await closedPort();
    const err = await rejection(client({retry: {maxRetries: 1, minTimeoutMs: 5}}).request({method: `GET`, url: `http://127.0.0.1:${port}/keys`}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toBe(`could not reach 127.0.0.1:${port} (connection refused); nothing was sent`);
    expect(err.requestSent).toBe(false);
    expect(err.message).not.toMatch(/\n/);
  });

  it(`connection refused on a POST → requestSent false`, async () => {
    const port = await closedPort();
    const err = await rejection(client().request({method: `POST`, url: `http://127.0.0.1:${port}/keys`, body: {name: `n`}}));
    expect(err.message).toBe(`could not reach 127.0.0.1:${port} (connection refused); nothing was sent`);
    expect(err.requestSent).toBe(false);
  });

  it(`DNS failure → "could not reach <host> (DNS lookup failed …); nothing was sent", not retried`, async () => {
    // setup.ts lets only loopback names through nock; the lookup answers as an offline resolver would.
    let lookups = 0;
    const lookup = ((...args: unknown[]) => {
      lookups++;
      return (offlineLookup as (...a: unknown[]) => void)(...args);
    }) as unknown as net.LookupFunction;
    const err = await rejection(client({lookup}).request({method: `GET`, url: `http://localhost:8080/keys`}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toBe(`could not reach localhost:8080 (DNS lookup failed — are you offline?); nothing was sent`);
    expect(err.requestSent).toBe(false);
    expect(lookups).toBe(1);
  });

  it(`connect timeout (the socket never connected) → requestSent false`, async () => {
    // A lookup that never answers keeps the socket from ever connecting, as a resolver or a firewall that drops packets.
    const hanging = (() => {}) as unknown as net.LookupFunction;
    const err = await rejection(client({timeouts: {connectMs: 150, headersMs: 5_000}, retry: {maxRetries: 0}, lookup: hanging})
      .request({method: `POST`, url: `http://localhost:8080/keys`, body: {}}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.message).toBe(`could not reach localhost:8080 (timed out connecting); nothing was sent`);
    expect(err.requestSent).toBe(false);
  });
});

describe(`transport errors through a proxy`, () => {
  it(`proxy refusing the connection → requestSent false, the cause once`, async () => {
    const proxyPort = await closedPort();
    const err = await rejection(client({env: {HTTP_PROXY: `http://127.0.0.1:${proxyPort}`}, retry: {maxRetries: 0}})
      .request({method: `POST`, url: `http://localhost:8080/keys`, body: {}}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.requestSent).toBe(false);
    expect(err.message).toBe(`could not reach localhost:8080 (connection refused); nothing was sent`);
  });

  it(`target dropping the connection behind a working proxy → requestSent true`, async () => {
    const srv = await serve(req => req.socket.destroy());
    const proxy = http.createServer();
    proxy.on(`connect`, (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      const [host, port] = (req.url ?? ``).split(`:`);
      const upstream = net.connect(Number(port), host, () => {
        socket.write(`HTTP/1.1 200 Connection Established\r\n\r\n`);
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on(`error`, () => socket.destroy());
      socket.on(`error`, () => upstream.destroy());
    });
    await new Promise<void>(resolve => proxy.listen(0, `127.0.0.1`, resolve));
    cleanups.push(async () => {
      proxy.closeAllConnections();
      await new Promise<void>(resolve => proxy.close(() => resolve()));
    });
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`;
    const err = await rejection(client({env: {HTTP_PROXY: proxyUrl}}).request({method: `POST`, url: `${srv.url}/keys`, body: {}}));
    expect(err).toBeInstanceOf(NetworkError);
    expect(err.requestSent).toBe(true);
    expect(srv.hits).toHaveLength(1);
  });
});

describe(`proxy env`, () => {
  async function connectProxy() {
    const tunnels: string[] = [];
    const proxy = http.createServer((_req, res) => res.writeHead(502).end());
    proxy.on(`connect`, (req: http.IncomingMessage, socket: net.Socket, head: Buffer) => {
      tunnels.push(req.url ?? ``);
      const [host, port] = (req.url ?? ``).split(`:`);
      const upstream = net.connect(Number(port), host, () => {
        socket.write(`HTTP/1.1 200 Connection Established\r\n\r\n`);
        upstream.write(head);
        upstream.pipe(socket);
        socket.pipe(upstream);
      });
      upstream.on(`error`, () => socket.destroy());
      socket.on(`error`, () => upstream.destroy());
    });
    await new Promise<void>(resolve => proxy.listen(0, `127.0.0.1`, resolve));
    cleanups.push(async () => {
      proxy.closeAllConnections();
      await new Promise<void>(resolve => proxy.close(() => resolve()));
    });
    return {url: `http://127.0.0.1:${(proxy.address() as net.AddressInfo).port}`, tunnels};
  }

  it(`goes through HTTP_PROXY from opts.env, and direct when NO_PROXY matches`, async () => {
    const srv = await serve(status(200, {ok: true}));
    const proxy = await connectProxy();
    const target = new URL(srv.url);

    const viaProxy = await client({env: {HTTP_PROXY: proxy.url}}).request({method: `GET`, url: srv.url});
    expect(viaProxy.status).toBe(200);
    expect(proxy.tunnels).toEqual([target.host]);

    const direct = await client({env: {HTTP_PROXY: proxy.url, NO_PROXY: `127.0.0.1`}}).request({method: `GET`, url: srv.url});
    expect(direct.status).toBe(200);
    expect(proxy.tunnels).toHaveLength(1);
    expect(srv.hits).toHaveLength(2);
  });
});

describe(`fail`, () => {
  const res = (status: number, headers: Record<string, string> = {}): HttpResponse => ({status, headers: new Headers(headers), body: undefined});

  it(`words every failure kind on one line and redacts secrets`, () => {
    const cases: [ProviderFailure, number, string, string | undefined][] = [
      [{kind: `bad-master-key`, message: `User not found.`}, 401,
        `OpenRouter rejected the master key while trying to list keys (401: User not found.)`,
        `Check OPENROUTER_MANAGEMENT_KEY or the stored key (capit platforms add openrouter); create a management key at https://openrouter.ai/settings/management-keys`],
      [{kind: `not-master-key`, message: `Only management keys can perform this operation`}, 403,
        `The key given for OpenRouter is not a management key (403: Only management keys can perform this operation)`,
        `Create a management key at https://openrouter.ai/settings/management-keys, then set OPENROUTER_MANAGEMENT_KEY or run capit platforms add openrouter`],
      [{kind: `rate-limited`, message: `Rate limit exceeded`, retryAfterSeconds: 7}, 429,
        `OpenRouter is rate limiting requests (429) — retry after 7s`, `Wait a little, then run the command again.`],
      [{kind: `rate-limited`, message: ``}, 429, `OpenRouter is rate limiting requests (429)`, `Wait a little, then run the command again.`],
      [{kind: `cap-reached`, message: `Key limit exceeded (total limit).`}, 403,
        `OpenRouter refused to list keys: the key's spending cap is used up (403: Key limit exceeded (total limit).)`, `Raise the key's cap or issue a new key.`],
      [{kind: `insufficient-credits`, message: `Insufficient credits.`}, 402,
        `OpenRouter refused to list keys: the account is out of credits (402: Insufficient credits.)`, `Add credits to your OpenRouter account, then run the command again.`],
      [{kind: `not-found`, message: `Resource not found`}, 404, `OpenRouter could not list keys: not found (404: Resource not found)`, `The key may have been deleted already.`],
      [{kind: `bad-request`, message: `Invalid\nrequest   parameters`}, 400, `OpenRouter rejected the request to list keys (400: Invalid request parameters)`, undefined],
      [{kind: `server`, message: `Service Unavailable`}, 503, `OpenRouter is having problems (HTTP 503: Service Unavailable); try again later`, undefined],
      [{kind: `unknown`, message: ``}, 418, `OpenRouter returned an unexpected response while trying to list keys (HTTP 418)`, undefined],
    ];
    for (const [failure, code, message, hint] of cases) {
      const c = client({classifyError: () => failure});
      let err: ProviderError | undefined;
      try {
        c.fail(res(code), `list keys`);
      } catch (e) {
        err = e as ProviderError;
      }
      expect(err).toBeInstanceOf(ProviderError);
      expect(err).toMatchObject({platform: `openrouter`, kind: failure.kind, status: code, message, hint});
      expect(err!.stack).toBeDefined();
    }
  });

  it(`never shows a secret the provider echoes, known or not`, () => {
    const other = `sk-or-v1-${`ab`.repeat(32)}`;
    const c = client({classifyError: () => ({kind: `bad-master-key`, message: `bad key ${MASTER}; also ${other}; Bearer abcdefghijklmnop`})});
    let err: ProviderError | undefined;
    try {
      c.fail(res(401), `create key "x"`);
    } catch (e) {
      err = e as ProviderError;
    }
    expect(err!.message).toBe(`OpenRouter rejected the master key while trying to create key "x" (401: bad key sk-or-v1-…cdef; also sk-or-v1-…abab; Bearer ****)`);
    expect(err!.message).not.toContain(`0123456789abcdef`);
  });

  it(`survives a classifyError that throws`, () => {
    const c = client({classifyError: () => { throw new Error(`plugin bug`); }});
    expect(() => c.fail(res(500), `list keys`)).toThrow(ProviderError);
  });

  it(`truncates a very long provider message`, () => {
    const c = client({classifyError: () => ({kind: `bad-request`, message: `x`.repeat(5_000)})});
    try {
      c.fail(res(400), `list keys`);
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(400);
      expect((e as Error).message).toContain(`…`);
    }
    expect.assertions(2);
  });
});

describe(`lazy undici`, () => {
  it.each([
    [`no proxy: undici is never loaded`, `{}`, {before: false, after: false}],
    [`a proxy configured: the first request loads undici`, `{HTTP_PROXY: 'http://127.0.0.1:9'}`, {before: false, after: true}],
  ])(`%s`, async (_, env, expected) => {
    const clientPath = fileURLToPath(new URL(`../../src/http/client.ts`, import.meta.url));
    const port = await closedPort();
    const script = `
      import {createRequire} from 'node:module';
      const require = createRequire(import.meta.url);
      const loaded = () => Object.keys(require.cache).some(k => /[\\\\/]node_modules[\\\\/]undici[\\\\/]/.test(k));
      const {createHttpClient} = await import(${JSON.stringify(clientPath)});
      const c = createHttpClient({platform: {id: 'p', displayName: 'P', setupUrl: 'u', masterKeyEnv: []}, classifyError: () => ({kind: 'unknown', message: ''}), secrets: [], env: ${env}, retry: {maxRetries: 0}});
      const before = loaded();
      await c.request({method: 'GET', url: 'http://127.0.0.1:${port}/'}).catch(() => {});
      console.log(JSON.stringify({before, after: loaded()}));
      await c.close();
    `;
    const {stdout} = await promisify(execFile)(process.execPath, [`--import`, `tsx`, `--input-type=module`, `-e`, script], {
      cwd: fileURLToPath(new URL(`../..`, import.meta.url)),
    });
    expect(JSON.parse(stdout.trim())).toEqual(expected);
  });
});

describe(`json, failWith and retryAfterSeconds`, () => {
  it(`json returns a 2xx and throws the classified provider error for anything else`, async () => {
    const srv = await serve(status(200, {data: 1}), status(404, {error: {message: `no such key`}}));
    const c = client({classifyError: res => ({kind: res.status === 404 ? `not-found` : `unknown`, message: `no such key`})});
    expect((await c.json({method: `GET`, url: srv.url}, `read key k1`)).body).toEqual({data: 1});
    const err = await rejection(c.json({method: `GET`, url: srv.url}, `read key k1`));
    expect(err).toBeInstanceOf(ProviderError);
    expect(err).toMatchObject({kind: `not-found`, status: 404, message: `OpenRouter could not read key k1: not found (404: no such key)`});
  });

  it(`json asks the platform's succeeded hook about a 2xx (HTTP 200 success:false is a failure)`, async () => {
    const srv = await serve(status(200, {success: false, message: `access token 无效`}), status(200, {success: true}));
    const c = client({
      succeeded: (res, read) => read.record(res.body)?.success !== false,
      classifyError: (res, read) => ({kind: `bad-master-key`, message: String(read.record(res.body)?.message)}),
    });
    const err = await rejection(c.json({method: `GET`, url: srv.url}, `list keys`));
    expect(err).toMatchObject({kind: `bad-master-key`, status: 200, message: `OpenRouter rejected the master key while trying to list keys (access token 无效)`});
    expect((await c.json({method: `GET`, url: srv.url}, `list keys`)).body).toEqual({success: true});
  });

  it(`failWith words a failure the platform found itself, with no status and no invented response`, () => {
    const c = client({classifyError: () => { throw new Error(`must not be asked`); }});
    let err: ProviderError | undefined;
    try {
      c.failWith(`unknown`, `the response had no key id (data.hash); key ${MASTER}`, `create key "x-1"`);
    } catch (e) {
      err = e as ProviderError;
    }
    expect(err).toBeInstanceOf(ProviderError);
    expect(err!.status).toBeUndefined();
    expect(err!.code).toBe(`CAPIT_PROVIDER_ERROR`);
    expect(err!.message).toMatch(/^OpenRouter returned an unexpected response while trying to create key "x-1" \(the response had no key id \(data\.hash\); key sk-or-v1-…cdef\)$/);
    expect(err!.message).not.toContain(`0123456789abcdef`);
  });

  it(`puts the wait on the error object, from Retry-After or from the platform`, () => {
    const fromHeader = client({classifyError: () => ({kind: `rate-limited`, message: ``}), retry: {maxRetries: 0}});
    const fromPlatform = client({classifyError: () => ({kind: `rate-limited`, message: ``, retryAfterSeconds: 2.2})});
    const caught = (fn: () => never) => {
      try {
        fn();
      } catch (e) {
        return e as ProviderError;
      }
      throw new Error(`expected a throw`);
    };
    expect(caught(() => fromHeader.fail({status: 429, headers: new Headers({'retry-after': `7`}), body: undefined}, `list keys`)).retryAfterSeconds).toBe(7);
    expect(caught(() => fromPlatform.fail({status: 429, headers: new Headers(), body: undefined}, `list keys`)).retryAfterSeconds).toBe(3);
    expect(caught(() => fromHeader.fail({status: 429, headers: new Headers(), body: undefined}, `list keys`)).retryAfterSeconds).toBeUndefined();
  });

  it(`a test transport (send) replaces the network and keeps json's checks`, async () => {
    const sent: string[] = [];
    const c = client({
      send: async req => {
        sent.push(`${req.method} ${req.url}`);
        return {status: 503, headers: new Headers(), body: `down`};
      },
    });
    const err = await rejection(c.json({method: `GET`, url: `http://capit.invalid/keys`}, `list keys`));
    expect(err).toMatchObject({kind: `server`, status: 503});
    expect(sent).toEqual([`GET http://capit.invalid/keys`]);
  });
});
