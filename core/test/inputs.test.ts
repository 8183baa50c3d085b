import {describe, expect, it} from 'vitest';

import {InputError}                                          from '../src/errors.js';
import {findNegativeAmount, makeKeyName, parseAmount, parseExpiry, parseNamePrefix, parseReset} from '../src/issue/inputs.js';
import {checkPattern} from '../src/keys/match.js';

describe(`parseAmount`, () => {
  it.each([
    [`5`, 500], [`5.00`, 500], [`$5`, 500], [`0.5`, 50], [`.5`, 50], [`$0.01`, 1], [`10000`, 1_000_000], [`7.25`, 725],
  ])(`accepts %j as %d cents`, (input, cents) => {
    expect(parseAmount(input).cents).toBe(cents);
  });

  it.each([
    [`0`, /more than \$0\.00/], [`0.00`, /more than/], [`-5`, /positive/], [`$-5`, /positive/], [`abc`, /expected a dollar amount/],
    [`NaN`, /expected/], [`Infinity`, /expected/], [`5.001`, /at most 2 decimals/], [`1e3`, /expected/], [``, /expected/],
    [`10000.01`, /--allow-large/], [`5,00`, /expected/], [`0x10`, /expected/],
  ])(`refuses %j`, (input, message) => {
    let error: unknown;
    try {
      parseAmount(input);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as Error).message).toMatch(message);
    expect((error as Error).message).not.toContain(`\n`);
  });

  it(`allows large amounts only when asked`, () => {
    expect(parseAmount(`25000`, {allowLarge: true}).usd).toBe(25000);
  });

  it(`keeps cents exact`, () => {
    expect(parseAmount(`0.29`).usd).toBe(0.29);
    expect(parseAmount(`1.10`).cents).toBe(110);
  });
});

describe(`parseReset / parseExpiry / names`, () => {
  it(`accepts only the provider's windows`, () => {
    expect(parseReset(`monthly`)).toBe(`monthly`);
    expect(parseReset(undefined)).toBeUndefined();
    expect(() => parseReset(`yearly`)).toThrow(/daily, weekly or monthly/);
  });

  it(`parses durations and dates relative to now`, () => {
    const now = new Date(`2026-11-28T12:00:00Z`);
    expect(parseExpiry(`7d`, now)?.toISOString()).toBe(`2026-12-05T12:00:00.000Z`);
    expect(parseExpiry(`12h`, now)?.toISOString()).toBe(`2026-11-29T00:00:00.000Z`);
    expect(parseExpiry(`2w`, now)?.toISOString()).toBe(`2026-12-12T12:00:00.000Z`);
    expect(parseExpiry(`2027-01-31`, now)?.toISOString()).toBe(`2027-01-31T23:59:59.000Z`);
    expect(parseExpiry(`2027-01-31T10:00:00+02:00`, now)?.toISOString()).toBe(`2027-01-31T08:00:00.000Z`);
    expect(() => parseExpiry(`2020-01-01`, now)).toThrow(/past/);
    expect(() => parseExpiry(`0d`, now)).toThrow(/more than zero/);
    expect(() => parseExpiry(`soon`, now)).toThrow(InputError);
  });

  it(`builds <prefix>-<8 hex> names`, () => {
    expect(makeKeyName(`opencode`)).toMatch(/^opencode-[0-9a-f]{8}$/);
    expect(makeKeyName(`x`.repeat(40), 30)).toHaveLength(30);
    expect(parseNamePrefix(undefined, `capit`)).toBe(`capit`);
    expect(parseNamePrefix(`team-a-`, `capit`)).toBe(`team-a`);
    expect(() => parseNamePrefix(`bad name`, `capit`)).toThrow(InputError);
    expect(() => parseNamePrefix(``, `capit`)).toThrow(InputError);
  });
});

describe(`strict inputs (issue 10, case 11)`, () => {
  const now = new Date(`2026-11-28T12:00:00Z`);

  it.each([` 5`, `5 `, `\t5`, `5\n`, `+5`, `5.`, `$ 5`])(`refuses the amount %j`, input => {
    expect(() => parseAmount(input)).toThrow(InputError);
  });

  it.each([`2027-02-30`, `2027-02-29`, `2027-13-01`, `2027-00-10`, `2027-04-31`, `2027-02-30T10:00:00Z`, `2027-01-01T24:00:00Z`, `2027-01-01T10:60Z`])(
    `refuses the impossible date %j instead of rolling it over`, input => {
      expect(() => parseExpiry(input, now)).toThrow(/not a real/);
    });

  it(`accepts a real leap day and the last day of a month`, () => {
    expect(parseExpiry(`2028-02-29`, now)?.toISOString()).toBe(`2028-02-29T23:59:59.000Z`);
    expect(parseExpiry(`2027-04-30`, now)?.toISOString()).toBe(`2027-04-30T23:59:59.000Z`);
  });

  it(`refuses past expiries and negative durations, blaming the expiry`, () => {
    expect(() => parseExpiry(`2026-11-28T11:59:00Z`, now)).toThrow(/--expires .*in the past/);
    expect(() => parseExpiry(`-1d`, now)).toThrow(/Invalid --expires "-1d": a negative duration/);
    expect(() => parseExpiry(` 7d`, now)).toThrow(InputError);
  });

  it(`finds a negative positional amount, never an option's value`, () => {
    expect(findNegativeAmount([`-5`])).toBe(`-5`);
    expect(findNegativeAmount([`--agent`, `opencode`, `-$5`])).toBe(`-$5`);
    expect(findNegativeAmount([`5`, `--expires`, `-1d`])).toBeUndefined();
    expect(findNegativeAmount([`--expires`, `-1d`, `5`])).toBeUndefined();
    expect(findNegativeAmount([`--yes`, `-.5`])).toBe(`-.5`);
    expect(findNegativeAmount([`5`, `-5`])).toBeUndefined();
  });
});

describe(`checkPattern`, () => {
  it.each([`[`, `a]`, `{a,b`, `(x`, `opencode-[`, `[z-a]`])(`refuses the broken glob %j with exit 2`, pattern => {
    let error: unknown;
    try {
      checkPattern(pattern);
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(InputError);
    expect((error as InputError).exitCode).toBe(2);
    expect((error as Error).message).toContain(JSON.stringify(pattern));
  });

  it.each([`opencode-*`, `*`, `capit-1a2b3c4d`, `opencode-[0-9]*`, `{a,b}-*`, `My key (old)`])(`accepts %j`, pattern => {
    expect(checkPattern(pattern)).toBe(pattern);
  });
});
