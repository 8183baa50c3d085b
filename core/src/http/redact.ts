// Secrets never reach a message, hint or log line in full: everything user-visible that may echo a provider's words or
// a request goes through `redactSecrets` first.

const MASK = `****`;

// Shortest secret we replace verbatim: anything shorter would mangle ordinary words and is not a real key anyway.
const MIN_SECRET_LENGTH = 8;

// A recognisable key prefix: up to three short dash-terminated segments (`sk-`, `sk-or-v1-`, `sk-proj-`).
const PREFIX = /^(?:[A-Za-z0-9]{1,5}-){1,3}/;

// Key-looking tokens capit did not know about (e.g. a provider echoing a key back).
const KEY_LIKE = /sk-[A-Za-z0-9_-]{12,}/g;
const BEARER = /\b(Bearer\s+)[A-Za-z0-9._~+/=-]{8,}/gi;

/**
 * A short, recognisable stand-in for a secret: the provider prefix and the last four characters,
 * e.g. `sk-or-v1-…1c96`. Strings too short to hide anything come back as `****`.
 */
export function maskSecret(secret: string): string {
  const prefix = PREFIX.exec(secret)?.[0] ?? ``;
  // At least 8 characters must stay hidden, so the mask never reveals most of a short value.
  if (secret.length < prefix.length + 4 + 8) return MASK;
  return `${prefix}…${secret.slice(-4)}`;
}

/** Replaces every known secret, every `sk-…` key-like token and every bearer token in `text` with its mask. */
export function redactSecrets(text: string, secrets: readonly (string | undefined)[] = []): string {
  let out = text;
  const known = secrets
    .filter((s): s is string => typeof s === `string` && s.length >= MIN_SECRET_LENGTH)
    .sort((a, b) => b.length - a.length);
  for (const secret of known) out = out.split(secret).join(maskSecret(secret));
  out = out.replace(KEY_LIKE, match => maskSecret(match));
  out = out.replace(BEARER, (_, bearer: string) => `${bearer}${MASK}`);
  return out;
}
