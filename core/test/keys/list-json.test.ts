// `capit keys list --json` is written a slice of keys at a time (keys/list.ts writeListingJson) instead of one
// JSON.stringify of the whole document: the bytes must be exactly those of the one-shot rendering. The sort uses a
// shared collator and plain comparison of timestamps instead of localeCompare per pair (compareListed): the order must
// stay what it was, capit's keys first, newest first, then by name.
import {describe, expect, it} from 'vitest';

import {compareListed, listingJson, writeListingJson} from '../../src/keys/list.js';
import type {KeyListing, ListedKey}    from '../../src/keys/list.js';

function key(i: number, over: Partial<ListedKey> = {}): ListedKey {
  return {
    id: `h${i}`, name: `capit-${String(i).padStart(5, `0`)}`, spentUsd: i % 7, capUsd: i % 3 ? 10 : null,
    remainingUsd: i % 3 ? 10 - (i % 7) : null, reset: i % 2 ? `monthly` : null, disabled: i % 5 === 0,
    createdAt: i % 11 ? `2026-11-${String(1 + (i % 28)).padStart(2, `0`)}T10:00:00Z` : undefined, expiresAt: null,
    platform: `openrouter`, agent: i % 4 ? null : `opencode`, issuedByCapit: i % 9 !== 0, status: `active`,
    ...(i % 13 === 0 ? {byokSpentUsd: 0.5, byokCounted: false} : {}), ...over,
  };
}

function written(listing: KeyListing): string {
  let out = ``;
  writeListingJson(listing, text => (out += text));
  return out;
}

describe(`writeListingJson`, () => {
  const many = (n: number) => Array.from({length: n}, (_, i) => key(i));
  const cases: [string, KeyListing][] = [
    [`no keys, nothing listed`, {keys: [], errors: [], skipped: [], listed: []}],
    [`no keys, one error and one skipped`, {keys: [], errors: [{platform: `aihubmix`, message: `could not reach it`, exitCode: 1, code: `CAPIT_OFFLINE`}], skipped: [{platform: `x`, reason: `no master key`}], listed: [`openrouter`]}],
    [`one key`, {keys: [key(1)], errors: [], skipped: [], listed: [`openrouter`]}],
    [`1,000 keys (one slice exactly)`, {keys: many(1000), errors: [], skipped: [], listed: [`openrouter`]}],
    [`1,001 keys (a slice of one after a full one)`, {keys: many(1001), errors: [], skipped: [], listed: [`openrouter`]}],
    [`2,345 keys with a quote, a newline and non-ASCII in a name, and an error`, {
      keys: Array.from({length: 2345}, (_, i) => key(i, i === 7 ? {name: `a "b"\nc — é`} : {})),
      errors: [{platform: `aihubmix`, message: `m`, exitCode: 1, code: `CAPIT_ERROR`}], skipped: [], listed: [`openrouter`],
    }],
  ];
  for (const [name, listing] of cases) {
    it(`is byte for byte JSON.stringify(listingJson(…), null, 2): ${name}`, () => {
      expect(written(listing)).toBe(`${JSON.stringify(listingJson(listing), null, 2)}\n`);
    });
  }
});

describe(`compareListed`, () => {
  it(`orders capit's keys first, then newest first (no date last), then by name as localeCompare does`, () => {
    const keys = [
      key(1, {issuedByCapit: false, createdAt: `2026-12-01T00:00:00Z`, name: `z`}),
      key(2, {createdAt: undefined, name: `b`}),
      key(3, {createdAt: `2026-11-01T00:00:00Z`, name: `b`}),
      key(4, {createdAt: `2026-11-02T00:00:00Z`, name: `a`}),
      key(5, {createdAt: `2026-11-01T00:00:00Z`, name: `B`}),
      key(6, {createdAt: `2026-11-01T00:00:00Z`, name: `a`}),
      key(7, {createdAt: undefined, name: `a`}),
    ];
    const previous = [...keys].sort((a, b) => Number(b.issuedByCapit) - Number(a.issuedByCapit)
      || (b.createdAt ?? ``).localeCompare(a.createdAt ?? ``) || a.name.localeCompare(b.name));
    const sorted = [...keys].sort(compareListed);
    expect(sorted.map(k => k.id)).toEqual(previous.map(k => k.id));
    expect(sorted.map(k => k.id)).toEqual([`h4`, `h6`, `h3`, `h5`, `h7`, `h2`, `h1`]);
  });
});
