import {describe, expect, it} from 'vitest';

import {InputError}                                          from '../src/errors.js';
import {makeKeyName, parseAmount, parseExpiry, parseNamePrefix, parseReset} from '../src/issue/inputs.js';

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
