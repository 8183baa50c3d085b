import {randomBytes} from 'node:crypto';

import {InputError}      from '../errors.js';
import type {ResetWindow} from '../plugin.js';

export const LARGE_AMOUNT_CENTS = 10_000_00;

/** A dollar amount in whole cents, so `$0.10 + $0.20` never becomes 0.30000000000000004. */
export interface Amount {
  cents: number;
  usd: number;
}

export function formatUsd(usd: number): string {
  return `$${usd.toFixed(2)}`;
}

/** Parses `5`, `5.00`, `$5`, `0.5`; refuses zero, negatives, words, NaN/Infinity, sub-cent precision and absurd sizes. */
export function parseAmount(input: string, opts: {allowLarge?: boolean} = {}): Amount {
  const text = input.trim();
  const match = /^\$?(\d+)(?:\.(\d{1,2}))?$/.exec(text) ?? /^\$?()\.(\d{1,2})$/.exec(text);
  if (!match) {
    if (/^-?\$?-?\d*\.?\d+$/.test(text) && text.includes(`-`))
      throw new InputError(`Invalid amount "${input}": the cap must be a positive dollar amount, e.g. 5 or 0.50`);
    if (/^\$?\d+\.\d{3,}$/.test(text))
      throw new InputError(`Invalid amount "${input}": use at most 2 decimals (whole cents), e.g. 5.25`);
    throw new InputError(`Invalid amount "${input}": expected a dollar amount such as 5, 5.00, $5 or 0.5`);
  }
  const whole = match[1] ? Number(match[1]) : 0;
  const fraction = Number((match[2] ?? ``).padEnd(2, `0`) || 0);
  const cents = whole * 100 + fraction;
  if (!Number.isSafeInteger(cents))
    throw new InputError(`Invalid amount "${input}": too large`);
  if (cents === 0)
    throw new InputError(`Invalid amount "${input}": the cap must be more than $0.00`);
  if (cents > LARGE_AMOUNT_CENTS && !opts.allowLarge)
    throw new InputError(`Amount ${formatUsd(cents / 100)} is over ${formatUsd(LARGE_AMOUNT_CENTS / 100)}; pass --allow-large if you really mean it`);
  return {cents, usd: cents / 100};
}

const RESETS: readonly ResetWindow[] = [`daily`, `weekly`, `monthly`];

export function parseReset(input: string | undefined): ResetWindow | undefined {
  if (input === undefined) return undefined;
  if ((RESETS as readonly string[]).includes(input)) return input as ResetWindow;
  throw new InputError(`Invalid --reset "${input}": expected daily, weekly or monthly`);
}

const UNIT_MS: Record<string, number> = {m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000};

/** `--expires 7d|12h|30m|2w`, a date `2027-01-31` (end of that day, UTC) or an ISO date-time with a zone. */
export function parseExpiry(input: string | undefined, now: Date = new Date()): Date | undefined {
  if (input === undefined) return undefined;
  const text = input.trim();
  const duration = /^(\d+)\s*([mhdw])$/i.exec(text);
  let date: Date | undefined;
  if (duration) {
    const n = Number(duration[1]);
    if (n === 0) throw new InputError(`Invalid --expires "${input}": the duration must be more than zero`);
    date = new Date(now.getTime() + n * UNIT_MS[duration[2]!.toLowerCase()]!);
  } else if (/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    date = new Date(`${text}T23:59:59Z`);
  } else if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(text)) {
    date = new Date(text);
  }
  if (!date || Number.isNaN(date.getTime()))
    throw new InputError(`Invalid --expires "${input}": expected a duration (30m, 12h, 7d, 2w) or a date (2027-01-31)`);
  if (date.getTime() <= now.getTime())
    throw new InputError(`Invalid --expires "${input}": that is in the past`);
  return date;
}

export function parseNamePrefix(input: string | undefined, fallback: string): string {
  if (input === undefined) return fallback;
  const prefix = input.replace(/-+$/, ``);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(prefix))
    throw new InputError(`Invalid --name "${input}": use 1-40 letters, digits, ".", "_" or "-"`);
  return prefix;
}

/** `<prefix>-<8 hex>`, trimmed so it fits the provider's limit. */
export function makeKeyName(prefix: string, maxLength = 100): string {
  const suffix = randomBytes(4).toString(`hex`);
  return `${prefix.slice(0, Math.max(1, maxLength - 9))}-${suffix}`;
}
