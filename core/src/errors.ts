import type {ProviderFailureKind} from './plugin.js';

/** A known failure: printed as one line (plus an optional hint), no stack. Exit code 1 unless `exitCode` says 2. */
export class CapitError extends Error {
  readonly code: string;
  readonly hint?: string;
  readonly exitCode: number;

  constructor(code: string, message: string, opts: {hint?: string; exitCode?: number; cause?: unknown} = {}) {
    super(message, opts.cause === undefined ? undefined : {cause: opts.cause});
    this.name = `CapitError`;
    this.code = code;
    this.hint = opts.hint;
    this.exitCode = opts.exitCode ?? 1;
  }
}

/** Bad input from the user: exit 2, nothing written. */
export class InputError extends CapitError {
  constructor(message: string, hint?: string) {
    super(`CAPIT_BAD_INPUT`, message, {hint, exitCode: 2});
  }
}

/** A config file that does not parse: refused, never overwritten, in one line (README) that says what to do. */
export class UnparseableFileError extends CapitError {
  constructor(readonly path: string, detail: string) {
    super(`CAPIT_UNPARSEABLE_FILE`, `${path} is not valid (${detail}); capit will not overwrite it — fix or move it and run the command again (nothing was changed)`);
  }
}

const PROVIDER_CODES: Record<ProviderFailureKind, string> = {
  'bad-master-key': `CAPIT_BAD_MASTER_KEY`,
  'not-master-key': `CAPIT_NOT_MASTER_KEY`,
  'rate-limited': `CAPIT_RATE_LIMITED`,
  'cap-reached': `CAPIT_CAP_REACHED`,
  'insufficient-credits': `CAPIT_NO_CREDITS`,
  'not-found': `CAPIT_NOT_FOUND`,
  'bad-request': `CAPIT_PROVIDER_REJECTED`,
  server: `CAPIT_PROVIDER_DOWN`,
  unknown: `CAPIT_PROVIDER_ERROR`,
};

/** The provider answered with an error. `kind` is the classification every platform maps to. */
export class ProviderError extends CapitError {
  /** For `rate-limited`: the seconds the provider asked to wait (its `Retry-After`, or the platform's reading), if said. */
  readonly retryAfterSeconds?: number;

  constructor(
    readonly platform: string,
    readonly kind: ProviderFailureKind,
    message: string,
    /** The HTTP status of the response that failed; undefined when the platform reported the failure itself. */
    readonly status?: number,
    hint?: string,
    opts: {retryAfterSeconds?: number} = {},
  ) {
    super(PROVIDER_CODES[kind], message, {hint});
    if (opts.retryAfterSeconds !== undefined) this.retryAfterSeconds = opts.retryAfterSeconds;
  }
}

/** The provider could not be reached (offline, DNS, refused, timeout, dropped connection). */
export class NetworkError extends CapitError {
  /**
   * False only when the connection never opened (DNS failure, refused, no route, connect timeout): the provider cannot
   * have acted on the request. True (the safe default) when it may have reached the provider.
   */
  readonly requestSent: boolean;

  constructor(message: string, cause?: unknown, opts: {requestSent?: boolean} = {}) {
    super(`CAPIT_OFFLINE`, message, {cause, hint: `Check your network connection or proxy settings (HTTPS_PROXY, NO_PROXY).`});
    this.requestSent = opts.requestSent ?? true;
  }
}

/** Code inside a plugin failed; the message is prefixed `[plugin:<id>]`. */
export class PluginError extends CapitError {
  constructor(readonly pluginId: string, message: string, cause?: unknown) {
    super(`CAPIT_PLUGIN_FAILED`, `[plugin:${pluginId}] ${message}`, {cause});
  }
}
