// The secret slot of an install. The agent's `plan()` runs once, before any key exists, with a unique placeholder
// token as its secret; once the provider has created the key, core puts the real secret exactly where the token is.
// So the plan the user previewed is the plan installed, and no plugin code runs while a live key is in memory.
import {randomBytes} from 'node:crypto';
import {PluginError} from '../errors.js';
import type {AgentFile, AgentPlan, FileEdit} from '../plugin.js';

/**
 * A fresh token per plan. Letters, digits and dashes only, like a real key, so every file format writes it the way it
 * writes a key (unquoted in dotenv and YAML, a plain JSON string); random, so it cannot already be in a user's file.
 */
export function newPlaceholder(): string {
  return `capit-placeholder-${randomBytes(16).toString(`hex`)}`;
}

/** What the user sees instead of the token in a diff. */
export function placeholderFor(platformId: string): string {
  return `<new ${platformId} key>`;
}

/**
 * Refuses a plan whose edits would not receive the secret exactly once substituted: the token must be in at least one
 * `set` value (verbatim: a plugin that reshaped the secret would install a broken key), and only inside string values
 * of files marked `secret` (written 0600) — never in a file id, a path, an object key, a non-secret file or a note.
 */
export function checkPlaceholderUse(pluginId: string, plan: AgentPlan, files: readonly AgentFile[], token: string): void {
  const refuse = (where: string) => {
    throw new PluginError(pluginId, `plan() put the key ${where}; capit refuses to install it (nothing was created or changed)`);
  };
  for (const note of plan.notes ?? []) if (note.includes(token)) refuse(`into a note, which is printed`);
  let placed = false;
  for (const edit of plan.edits) {
    if (edit.file.includes(token)) refuse(`into a file id`);
    if (edit.path.some(seg => String(seg).includes(token))) refuse(`into the path of an edit in "${edit.file}"`);
    if (edit.op !== `set`) continue;
    const inValue = holdsToken(edit.value, token, () => refuse(`into an object key in "${edit.file}"`));
    if (!inValue) continue;
    // An edit naming an unknown file is refused by computeChanges with its own message.
    if (files.find(f => f.id === edit.file)?.secret === false) refuse(`into "${edit.file}", a file not marked secret (it would not be written 0600)`);
    placed = true;
  }
  if (!placed) refuse(`nowhere: no edit value holds the secret exactly as given`);
}

function holdsToken(value: unknown, token: string, onKey: () => void): boolean {
  if (typeof value === `string`) return value.includes(token);
  if (value === null || typeof value !== `object`) return false;
  let found = false;
  for (const [key, child] of Object.entries(value)) {
    if (key.includes(token)) onKey();
    if (holdsToken(child, token, onKey)) found = true;
  }
  return found;
}

/** The edits with every occurrence of `token` in a string value replaced by `secret`, byte for byte. */
export function withSecret(edits: readonly FileEdit[], token: string, secret: string): FileEdit[] {
  return edits.map(edit => (edit.op === `set` ? {...edit, value: substitute(edit.value, token, secret)} : edit));
}

function substitute(value: unknown, token: string, secret: string): unknown {
  // split/join, not replace(): a `$` in a secret must not be read as a replacement pattern.
  if (typeof value === `string`) return value.includes(token) ? value.split(token).join(secret) : value;
  if (Array.isArray(value)) return value.map(v => substitute(v, token, secret));
  if (!isPlainObject(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, substitute(v, token, secret)]));
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== `object`) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}
