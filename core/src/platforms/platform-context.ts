// Builds the `ctx` a platform plugin gets: core's HTTP client bound to the platform's error classification, plus
// `fail`, `paginate` and the wire readers. Core, the conformance kit and plugin unit tests all build it here, so a
// plugin is tested against the context it runs with.
import {createHttpClient}                   from '../http/client.js';
import type {CoreHttpClient, HttpClientOptions} from '../http/client.js';
import {wireReaders}                        from '../http/wire.js';
import type {PlatformContext, PlatformDefinition} from '../plugin.js';
import {paginate}                           from './paginate.js';

export interface PlatformContextOptions {
  masterKey: string;
  /** The management base URL; a trailing slash is dropped. */
  baseUrl: string;
  env?: Readonly<Record<string, string | undefined>>;
  /** How errors name the platform (default: its id). */
  displayName?: string;
  /** More values that must never appear in an error (the master key always is one). */
  secrets?: string[];
  /** Core's HTTP client settings: timeouts, retries, version, DNS lookup, or a test transport (`send`). */
  http?: Partial<Omit<HttpClientOptions, `platform` | `classifyError` | `succeeded` | `secrets` | `env`>>;
}

export interface CorePlatformContext extends PlatformContext {
  http: CoreHttpClient;
}

export function createPlatformContext(def: PlatformDefinition, opts: PlatformContextOptions): CorePlatformContext {
  const env = opts.env ?? {};
  const http = createHttpClient({
    ...opts.http,
    platform: {id: def.id, displayName: opts.displayName ?? def.id, setupUrl: def.masterKey.setupUrl, masterKeyEnv: def.masterKey.env},
    classifyError: (res, wire) => def.classifyError(res, wire),
    ...(def.succeeded ? {succeeded: (res, wire) => def.succeeded!(res, wire)} : {}),
    secrets: [opts.masterKey, ...opts.secrets ?? []],
    env: {...env},
  });
  return {
    http,
    masterKey: opts.masterKey,
    baseUrl: opts.baseUrl.replace(/\/+$/, ``),
    env,
    fail: (kind, message, action) => http.failWith(kind, message, action),
    paginate,
    wire: wireReaders,
  };
}
