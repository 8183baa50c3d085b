import http     from 'node:http';
import path     from 'node:path';
import {Writable} from 'node:stream';

import {onTestFinished} from 'vitest';

import {startServer}   from '../../core/dist/serve/server.js';
import type {RunningServer} from '../../core/dist/serve/server.js';
import type {Emulator} from '../emulator/server.mjs';
import {sandboxEnv, tempDir} from '../support/tmp.js';

export const MASTER = `sk-or-v1-mgmt-fake-0000`;

/** A temp HOME pointed at the emulator; `master: null` leaves the master key unset. */
export function setupHome(emulator: Emulator, opts: {master?: string | null; extra?: Record<string, string>} = {}) {
  const root = tempDir(`capit-serve-`);
  const master = opts.master === undefined ? MASTER : opts.master;
  const env = sandboxEnv(root, {
    CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
    ...(master === null ? {} : {OPENROUTER_MANAGEMENT_KEY: master}),
    ...opts.extra,
  });
  // Like a real install: backups under XDG_STATE_HOME, not relocated by CAPIT_HOME.
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const authFile = path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`);
  return {root, env, home: env.HOME!, authFile};
}

export function sink(): Writable & {text: () => string} {
  let text = ``;
  const stream = new Writable({write(chunk, _enc, done) { text += String(chunk); done(); }});
  return Object.assign(stream, {text: () => text});
}

/** The GUI server in this process (so it and the emulator never block each other), closed when the test ends. */
export async function startGui(env: Record<string, string>, opts: {host?: string; port?: number} = {}): Promise<RunningServer & {stderr: ReturnType<typeof sink>}> {
  const stderr = sink();
  const server = await startServer({env, cwd: env.HOME, stdout: sink(), stderr, ...opts});
  onTestFinished(() => server.close());
  return Object.assign(server, {stderr});
}

export interface RawResponse {
  status: number;
  headers: http.IncomingHttpHeaders;
  text: string;
  json: any;
}

/**
 * A request with full control of Host, Origin, Cookie and Authorization (fetch would add or forbid some).
 * `auth`: 'bearer' (default) sends the token as `Authorization: Bearer`, 'header' as `X-Capit-Token` (what the page
 * does), 'none' sends nothing.
 */
export function raw(server: RunningServer, urlPath: string, opts: {
  method?: string; headers?: Record<string, string>; body?: unknown; auth?: `bearer` | `header` | `none`; contentType?: string;
} = {}, connectTo = `127.0.0.1`): Promise<RawResponse> {
  const headers: Record<string, string> = {host: `127.0.0.1:${server.port}`, ...opts.headers};
  if ((opts.auth ?? `bearer`) === `bearer` && !(`authorization` in headers)) headers.authorization = `Bearer ${server.token}`;
  if (opts.auth === `header`) headers[`x-capit-token`] = server.token;
  let payload: string | undefined;
  if (opts.body !== undefined) {
    payload = typeof opts.body === `string` ? opts.body : JSON.stringify(opts.body);
    headers[`content-type`] = opts.contentType ?? `application/json`;
  }
  return new Promise((resolve, reject) => {
    const req = http.request({host: connectTo, port: server.port, path: urlPath, method: opts.method ?? (payload === undefined ? `GET` : `POST`), headers}, res => {
      let text = ``;
      res.setEncoding(`utf8`);
      res.on(`data`, chunk => (text += chunk));
      res.on(`end`, () => {
        let json: unknown;
        try { json = JSON.parse(text); } catch {}
        resolve({status: res.statusCode ?? 0, headers: res.headers, text, json});
      });
    });
    req.on(`error`, reject);
    req.end(payload);
  });
}

export const post = (server: RunningServer, urlPath: string, body: unknown, headers: Record<string, string> = {}) =>
  raw(server, urlPath, {method: `POST`, body, headers});
