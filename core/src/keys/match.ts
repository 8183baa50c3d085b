import picomatch from 'picomatch';

import {InputError} from '../errors.js';

/** Refuses an empty or whitespace-only name/glob (exit 2, before any request). */
export function checkPattern(pattern: string, what = `key name or glob`): string {
  if (pattern.trim() === ``) throw new InputError(`Empty ${what}: give a key name or a glob such as "opencode-*"`);
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
