import picomatch from 'picomatch';

import {InputError} from '../errors.js';

/** Refuses an empty or whitespace-only name/glob, and a glob that cannot be compiled (exit 2, before any request). */
export function checkPattern(pattern: string, what = `key name or glob`): string {
  if (pattern.trim() === ``) throw new InputError(`Empty ${what}: give a key name or a glob such as "opencode-*"`);
  // Not only what picomatch calls a glob: a lone `[` is no glob to it, yet it is surely a typo, never a key name.
  if ((isGlob(pattern) || /[[\]{}()]/.test(pattern)) && !isMatchAll(pattern)) {
    // picomatch quietly turns an unclosed `[` or `(` into a literal, and a bad range into a pattern matching nothing;
    // either way the user meant something else, so say so before anything is listed or changed.
    let source: string;
    try {
      source = picomatch.makeRe(pattern, {dot: true, strictBrackets: true}).source;
    } catch (error) {
      throw new InputError(`Invalid ${what} ${JSON.stringify(pattern)}: ${(error as Error).message.replace(/\s+/g, ` `)}`);
    }
    if (source === `$^`) throw new InputError(`Invalid ${what} ${JSON.stringify(pattern)}: it is not a valid glob (check character ranges such as [a-z])`);
  }
  return pattern;
}

export function isGlob(pattern: string): boolean {
  return picomatch.scan(pattern).isGlob;
}

// `*`, `**`, `*/*` …: a pattern that matches every name.
export function isMatchAll(pattern: string): boolean {
  return /^[*/]+$/.test(pattern.trim());
}

/** A glob on key names (dot names included); a pattern without glob characters matches exactly that name. */
export function nameMatcher(pattern: string | undefined): (name: string) => boolean {
  if (pattern === undefined) return () => true;
  if (isMatchAll(pattern)) return () => true;
  if (!isGlob(pattern)) return name => name === pattern;
  return picomatch(pattern, {dot: true});
}
