// Masks anything secret-looking in text shown to the user (diffs of existing config files can hold other keys).
const SECRET_PROPERTY = /("(?:[^"]*(?:key|token|secret|password|access|refresh)[^"]*)"\s*:\s*")([^"]{8,})(")/gi;
const SECRET_ASSIGNMENT = /^(\s*(?:export\s+)?[A-Z0-9_]*(?:KEY|TOKEN|SECRET|PASSWORD)[A-Z0-9_]*\s*[=:]\s*["']?)([^"'\s#]{8,})/gim;
const KEY_LIKE = /\bsk-[A-Za-z0-9_-]{12,}/g;

export function mask(value: string): string {
  if (value.length < 12) return `****`;
  const dash = value.lastIndexOf(`-`, Math.min(value.length - 5, 12));
  const head = dash > 0 ? value.slice(0, dash + 1) : value.slice(0, 3);
  return `${head}…${value.slice(-4)}`;
}

export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 4) out = out.split(secret).join(mask(secret));
  return out
    .replace(SECRET_PROPERTY, (_, a: string, value: string, c: string) => `${a}${value.startsWith(`<`) ? value : mask(value)}${c}`)
    .replace(SECRET_ASSIGNMENT, (_, a: string, value: string) => `${a}${value.startsWith(`<`) ? value : mask(value)}`)
    .replace(KEY_LIKE, match => (match.includes(`…`) ? match : mask(match)));
}
