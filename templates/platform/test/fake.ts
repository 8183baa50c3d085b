// A fake __DISPLAY_NAME__ for capit's platform conformance kit: an in-memory provider behind a loopback HTTP server,
// speaking the same (example) wire format as src/index.ts. When you change the wire format, change it here too —
// copy request/response shapes from the provider's API docs.
import {randomBytes}                   from 'node:crypto';
import {createServer}                  from 'node:http';
import type {AddressInfo, Server}      from 'node:net';
import type {FakeFailure, PlatformFake, PlatformFakeSession} from 'capit/testing';

interface StoredKey {
  id: string; name: string; key: string; limit_usd: number | null; spent_usd: number;
  reset: string | null; disabled: boolean; created_at: string; expires_at: string | null;
}

const PAGE_SIZE = 100;

export function createFake(): PlatformFake {
  let server: Server | undefined;
  return {
    async start(): Promise<PlatformFakeSession> {
      const keys = new Map<string, StoredKey>();
      const masterKey = `mk-${randomBytes(12).toString(`hex`)}`;
      let failure: FakeFailure | undefined;
      let counter = 0;
      const wire = ({key: _secret, ...rest}: StoredKey) => rest;

      server = createServer((req, res) => {
        let raw = ``;
        req.on(`data`, chunk => (raw += chunk));
        req.on(`end`, () => {
          const send = (status: number, body?: unknown, headers: Record<string, string> = {}) => {
            res.writeHead(status, {'content-type': `application/json`, ...headers});
            res.end(body === undefined ? `` : JSON.stringify(body));
          };
          if (failure) {
            const f = failure;
            failure = undefined;
            if (f === `network`) return req.socket.destroy();
            return send(f.status, {error: {message: f.message ?? `injected failure`}},
              f.retryAfterSeconds === undefined ? {} : {'retry-after': String(f.retryAfterSeconds)});
          }
          const token = (req.headers.authorization ?? ``).replace(/^Bearer /, ``);
          if ([...keys.values()].some(k => k.key === token)) return send(403, {error: {message: `only management keys can manage keys`}});
          if (token !== masterKey) return send(401, {error: {message: `invalid API key`}});

          const url = new URL(req.url ?? `/`, `http://fake`);
          const body = raw ? JSON.parse(raw) as Record<string, unknown> : {};
          const id = /^\/v1\/keys\/([^/]+)$/.exec(url.pathname)?.[1];
          if (req.method === `GET` && url.pathname === `/v1/me`) return send(200, {data: {management: true}});
          if (req.method === `POST` && url.pathname === `/v1/keys`) {
            if (typeof body.name !== `string` || typeof body.limit_usd !== `number`) return send(400, {error: {message: `name and limit_usd are required`}});
            const key: StoredKey = {
              id: `key_${++counter}`, name: body.name, key: `sk-fake-${randomBytes(16).toString(`hex`)}`,
              limit_usd: body.limit_usd, spent_usd: 0, reset: typeof body.reset === `string` ? body.reset : null,
              disabled: false, created_at: new Date().toISOString(), expires_at: typeof body.expires_at === `string` ? body.expires_at : null,
            };
            keys.set(key.id, key);
            return send(201, {data: {...wire(key), key: key.key}});
          }
          if (req.method === `GET` && url.pathname === `/v1/keys`) {
            const start = Number(url.searchParams.get(`offset`) ?? 0);
            return send(200, {data: [...keys.values()].slice(start, start + PAGE_SIZE).map(wire)});
          }
          const key = id ? keys.get(decodeURIComponent(id)) : undefined;
          if (id && !key) return send(404, {error: {message: `no such key`}});
          if (req.method === `PATCH` && key) {
            if (typeof body.disabled === `boolean`) key.disabled = body.disabled;
            if (body.limit_usd !== undefined) key.limit_usd = body.limit_usd as number | null;
            if (body.reset !== undefined) key.reset = body.reset as string | null;
            return send(200, {data: wire(key)});
          }
          if (req.method === `DELETE` && key) {
            keys.delete(key.id);
            return send(204);
          }
          return send(404, {error: {message: `no route ${req.method} ${url.pathname}`}});
        });
      });
      await new Promise<void>(resolve => server!.listen(0, `127.0.0.1`, resolve));
      const {port} = server.address() as AddressInfo;
      return {
        baseUrl: `http://127.0.0.1:${port}/v1`,
        masterKey,
        wrongMasterKey: `mk-${`0`.repeat(24)}`,
        seed(count, {prefix, capUsd}) {
          for (let i = 0; i < count; i++) {
            const key: StoredKey = {id: `key_${++counter}`, name: `${prefix}-${i}`, key: `sk-fake-seed-${counter}`, limit_usd: capUsd,
              spent_usd: 0, reset: null, disabled: false, created_at: new Date().toISOString(), expires_at: null};
            keys.set(key.id, key);
          }
        },
        spend(id, usd) {
          const key = keys.get(id);
          if (!key) throw new Error(`fake: no key ${id}`);
          key.spent_usd += usd;
        },
        failNext(f) {
          failure = f;
        },
      };
    },
    async stop() {
      await new Promise<void>(resolve => (server ? server.close(() => resolve()) : resolve()));
      server = undefined;
    },
  };
}
