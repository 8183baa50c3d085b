// Errors as the page shows them: plain sentences. The CLI's words are written for a terminal ("capit: " prefixes,
// commands in backticks, "run `capit platforms add …`"); a person in a browser needs the same facts and the same hint,
// said for the page they are on.
import {UsageError} from 'clipanion';

import {CapitError} from '../errors.js';

export interface PlainError {
  /** One sentence: what went wrong. */
  message: string;
  /** What to do about it, when capit knows; plain text too. */
  hint: string | null;
  code: string;
  /** The exit code the CLI would have used (2: bad input, 1: anything else). */
  exitCode: number;
}

// Terminal advice that has a place on the page. Checked before the generic backtick stripping.
const GUI_EQUIVALENTS: [RegExp, string][] = [
  [/\brun `?capit platforms add [\w.-]+`?/g, `add one on the Platforms page`],
  [/\(capit platforms add [\w.-]+\)/g, `(Platforms page)`],
  [/\bRun `capit restore ([\w.-]+)`/g, `Use "Restore configuration" for $1 on the Agents page`],
  [/\b(?:with )?`capit keys list --all`/g, `on the Keys page (with "Include keys capit did not issue")`],
];

/** One line of CLI text made into a plain sentence: no "capit:" prefix, no backticks, a capital and a full stop. */
export function plainSentence(text: string): string {
  let out = text.trim().replace(/^capit(?: serve)?:\s*/, ``);
  for (const [pattern, replacement] of GUI_EQUIVALENTS) out = out.replace(pattern, replacement);
  // `code` reads as the code itself; a lone backtick (not a pair) is dropped too.
  out = out.replace(/`([^`\n]*)`/g, `$1`).replace(/`/g, ``).replace(/ {2,}/g, ` `);
  if (out === ``) return out;
  out = out[0]!.toUpperCase() + out.slice(1);
  return /[.!?:…]$/.test(out) ? out : `${out}.`;
}

/** Any error a core function throws, as the page shows it. A bug keeps its first line (the stack goes to stderr). */
export function plainError(error: unknown): PlainError {
  if (error instanceof CapitError) {
    const [first = ``, ...rest] = error.message.split(`\n`);
    const hintText = [...rest, error.hint ?? ``].map(s => s.trim()).filter(Boolean).join(` `);
    return {message: plainSentence(first), hint: hintText ? plainSentence(hintText) : null, code: error.code, exitCode: error.exitCode};
  }
  if (error instanceof UsageError || (error as {clipanion?: unknown})?.clipanion) {
    const first = String((error as Error).message).split(`\n`)[0]!.replace(/^Usage Error: /, ``);
    return {message: plainSentence(first), hint: null, code: `CAPIT_BAD_INPUT`, exitCode: 2};
  }
  const detail = error instanceof Error ? error.message : String(error);
  return {
    message: plainSentence(`Internal error: ${detail.split(`\n`)[0]}`),
    hint: `This is a bug in capit; please report it with the server's terminal output.`,
    code: `CAPIT_INTERNAL`,
    exitCode: 1,
  };
}
