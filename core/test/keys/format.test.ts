import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {renderPlatforms}   from '../../src/platforms/print.js';
import {InputError}        from '../../src/errors.js';
import {agentNotes, concurrencyFrom} from '../../src/keys/actions.js';
import {jsonKey, ledgerIndex, listingJson, renderListing, renderTable, spendLevel, statusOf} from '../../src/keys/list.js';
import type {ListedKey}    from '../../src/keys/list.js';
import {checkPattern, isMatchAll, nameMatcher} from '../../src/keys/match.js';
import {readCredentials, updateCredentials} from '../../src/platforms/credentials.js';

function key(over: Partial<ListedKey> = {}): ListedKey {
  return {
    id: `h1`, name: `opencode-1a2b3c4d`, spentUsd: 1, capUsd: 5, remainingUsd: 4, reset: null, disabled: false,
    createdAt: `2026-11-28T20:41:07Z`, expiresAt: null, platform: `openrouter`, agent: `opencode`, issuedByCapit: true,
    status: `active`, ...over,
  };
}

describe(`renderTable`, () => {
  it(`aligns the columns and prints no escape codes without colours`, () => {
    const out = renderTable([key(), key({name: `ci-0000aaaa`, agent: null, capUsd: null, remainingUsd: null, spentUsd: 12.5})], {colors: false});
    expect(out).toBe([
      `NAME               PLATFORM    AGENT     SPENT/CAP      RESET     REMAINING  STATUS  CREATED`,
      `opencode-1a2b3c4d  openrouter  opencode  $1.00/$5.00    lifetime  $4.00      active  2026-11-28`,
      `ci-0000aaaa        openrouter  —         $12.50/no cap  —         —          active  2026-11-28`,
      ``,
    ].join(`\n`));
  });

  it(`colours spend yellow from 50 % and red from 90 % of the cap, only with colours`, () => {
    const rows = [key({spentUsd: 2}), key({spentUsd: 2.5}), key({spentUsd: 4.5}), key({spentUsd: 5, status: `capped`})];
    const coloured = renderTable(rows, {colors: true}).split(`\n`).slice(1);
    expect(coloured[0]).not.toContain(`\x1b[`);
    expect(coloured[1]).toContain(`\x1b[33m$2.50/$5.00`);
    expect(coloured[2]).toContain(`\x1b[31m$4.50/$5.00`);
    expect(coloured[3]).toContain(`\x1b[31m$5.00/$5.00`);
    expect(renderTable(rows, {colors: false})).not.toContain(`\x1b[`);
    expect([spendLevel({spentUsd: 0, capUsd: null}), spendLevel({spentUsd: 0.49, capUsd: 1}), spendLevel({spentUsd: 0.5, capUsd: 1}), spendLevel({spentUsd: 0.9, capUsd: 1})])
      .toEqual([`ok`, `ok`, `warn`, `high`]);
  });

  it(`says when nothing is listed`, () => {
    expect(renderTable([], {colors: false})).toBe(`No keys.\n`);
    expect(renderTable([], {colors: false, filtered: true})).toBe(`No keys match.\n`);
  });
});

describe(`JSON shapes`, () => {
  it(`a key has exactly the documented fields, nulls instead of absent values`, () => {
    const {createdAt: _c, expiresAt: _e, ...bare} = key();
    expect(jsonKey(bare as ListedKey)).toEqual({
      platform: `openrouter`, id: `h1`, name: `opencode-1a2b3c4d`, agent: `opencode`, issuedByCapit: true, status: `active`,
      disabled: false, spentUsd: 1, capUsd: 5, remainingUsd: 4, reset: null, createdAt: null, expiresAt: null,
      byokSpentUsd: null, byokCounted: null, expiryWarningDays: null,
    });
  });

  it(`a listing is {keys, errors, skipped, listed} and errors carry their code but no exit code`, () => {
    const json = listingJson({keys: [key()], errors: [{platform: `aihubmix`, message: `down`, exitCode: 1, code: `CAPIT_OFFLINE`}],
      skipped: [{platform: `x`, reason: `no master key`}], listed: [`openrouter`]});
    expect(Object.keys(json)).toEqual([`keys`, `errors`, `skipped`, `listed`]);
    expect(json.errors).toEqual([{platform: `aihubmix`, message: `down`, code: `CAPIT_OFFLINE`}]);
    expect(json.listed).toEqual([`openrouter`]);
  });

  it(`an empty listing says which platforms were listed and which could not be, never a bare "No keys."`, () => {
    const down = {platform: `aihubmix`, message: `down`, exitCode: 1, code: `CAPIT_OFFLINE`};
    expect(renderListing({keys: [], errors: [down], listed: [`openrouter`]}, {colors: false})).toBe(`No keys on openrouter; aihubmix could not be listed.\n`);
    expect(renderListing({keys: [], errors: [down], listed: [`openrouter`]}, {colors: false, filtered: true})).toBe(`No keys match on openrouter; aihubmix could not be listed.\n`);
    expect(renderListing({keys: [], errors: [down], listed: []}, {colors: false})).toBe(``);
    expect(renderListing({keys: [], errors: [], listed: [`openrouter`]}, {colors: false})).toBe(`No keys.\n`);
    expect(renderListing({keys: [key()], errors: [down], listed: [`openrouter`]}, {colors: false})).toMatch(/^NAME/);
  });

  it(`status: disabled, then expired, then capped`, () => {
    const now = Date.parse(`2026-06-01T00:00:00Z`);
    expect(statusOf(key({disabled: true, remainingUsd: 0}), now)).toBe(`disabled`);
    expect(statusOf(key({expiresAt: `2026-05-01T00:00:00Z`, remainingUsd: 0}), now)).toBe(`expired`);
    expect(statusOf(key({remainingUsd: 0}), now)).toBe(`capped`);
    expect(statusOf(key({expiresAt: `2027-01-01T00:00:00Z`}), now)).toBe(`active`);
  });

  it(`ledger lookup by id, and by name for records without one`, () => {
    const find = ledgerIndex([
      {id: `h1`, name: `a`, platform: `openrouter`, agent: `opencode`, capUsd: 1, reset: null, expiresAt: null, createdAt: ``, status: `active`, files: [], backupDir: null},
      {name: `b`, platform: `openrouter`, agent: null, capUsd: 1, reset: null, expiresAt: null, createdAt: ``, status: `pending`, files: [], backupDir: null},
    ]);
    expect(find(`openrouter`, {id: `h1`, name: `renamed`})?.agent).toBe(`opencode`);
    expect(find(`openrouter`, {id: `h2`, name: `b`})?.status).toBe(`pending`);
    expect(find(`aihubmix`, {id: `h1`, name: `a`})).toBeUndefined();
  });
});

describe(`patterns`, () => {
  it(`matches exactly without glob characters and by glob otherwise`, () => {
    expect(nameMatcher(`opencode-1`)(`opencode-1`)).toBe(true);
    expect(nameMatcher(`opencode-1`)(`opencode-10`)).toBe(false);
    expect(nameMatcher(`opencode-*`)(`opencode-10`)).toBe(true);
    expect(nameMatcher(`opencode-*`)(`claude-10`)).toBe(false);
    expect(nameMatcher(`*`)(`.hidden`)).toBe(true);
    expect(nameMatcher(`{a,b}-?`)(`b-1`)).toBe(true);
  });

  it(`knows a match-everything pattern and refuses an empty one`, () => {
    expect([`*`, `**`, ` * `, `*/*`].map(isMatchAll)).toEqual([true, true, true, true]);
    expect([`a*`, `*-1`, `?`].map(isMatchAll)).toEqual([false, false, false]);
    expect(() => checkPattern(`  `)).toThrow(InputError);
    expect(() => checkPattern(``)).toThrow(InputError);
    expect(checkPattern(`x`)).toBe(`x`);
  });

  it(`reads CAPIT_DELETE_CONCURRENCY strictly`, () => {
    expect(concurrencyFrom({})).toBeUndefined();
    expect(concurrencyFrom({CAPIT_DELETE_CONCURRENCY: `1`})).toBe(1);
    expect(() => concurrencyFrom({CAPIT_DELETE_CONCURRENCY: `0`})).toThrow(InputError);
    expect(() => concurrencyFrom({CAPIT_DELETE_CONCURRENCY: `many`})).toThrow(InputError);
  });
});

describe(`agentNotes`, () => {
  const r = (agent: string | null, ok = true) => ({platform: `openrouter`, id: `h`, name: `n`, ok, agent});
  it(`names each agent holding a dead key, once`, () => {
    expect(agentNotes(`delete`, [r(`opencode`), r(`opencode`), r(`claude`), r(null), r(`cursor`, false)])).toEqual([
      `opencode now holds 2 deleted keys; run capit restore opencode`,
      `claude now holds a deleted key; run capit restore claude`,
    ]);
    expect(agentNotes(`disable`, [r(`opencode`)])).toEqual([`opencode now holds a disabled key; capit keys enable brings it back`]);
    expect(agentNotes(`enable`, [r(`opencode`)])).toEqual([]);
  });
});

describe(`renderPlatforms`, () => {
  it(`never shows a key, only where it comes from`, () => {
    const out = renderPlatforms([
      {id: `openrouter`, displayName: `OpenRouter`, setupUrl: `https://o`, envVar: `OPENROUTER_MANAGEMENT_KEY`, source: `env`},
      {id: `aihubmix`, displayName: `AIHubMix`, setupUrl: `https://a`, envVar: `AIHUBMIX_MANAGE_KEY`, source: `none`},
    ], false);
    expect(out).toBe([
      `PLATFORM    NAME        MASTER KEY                       CREATE ONE AT`,
      `openrouter  OpenRouter  from $OPENROUTER_MANAGEMENT_KEY  https://o`,
      `aihubmix    AIHubMix    not set                          https://a`,
      ``,
      `Add a master key with: capit platforms add aihubmix`,
      ``,
    ].join(`\n`));
  });
});

describe(`credentials store`, () => {
  it(`writes 0600 in a 0700 dir, keeps other platforms, and refuses a corrupt or exposed file`, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `capit-cred-`));
    try {
      const config = path.join(dir, `config`, `capit`);
      await updateCredentials(config, p => ({...p, a: {key: `fake-a`, addedAt: `t`}}));
      await updateCredentials(config, p => ({...p, b: {key: `fake-b`, addedAt: `t`}}));
      expect(Object.keys(await readCredentials(config))).toEqual([`a`, `b`]);
      const file = path.join(config, `credentials.json`);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
      expect(fs.statSync(config).mode & 0o777).toBe(0o700);

      fs.chmodSync(file, 0o640);
      await expect(updateCredentials(config, p => p)).rejects.toThrow(`chmod 600 ${file}`);
      expect(fs.statSync(file).mode & 0o777).toBe(0o640);
      fs.chmodSync(file, 0o600);
      fs.writeFileSync(file, `{"version":1,"platforms":{"a":{}}}`);
      await expect(readCredentials(config)).rejects.toMatchObject({exitCode: 1, code: `CAPIT_CREDENTIALS_CORRUPT`});
      await expect(updateCredentials(config, p => p)).rejects.toThrow(/is corrupt/);
      expect(fs.readFileSync(file, `utf8`)).toBe(`{"version":1,"platforms":{"a":{}}}`);
    } finally {
      fs.rmSync(dir, {recursive: true, force: true});
    }
  });
});
