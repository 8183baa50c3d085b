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

/**
 * Parses exactly what README documents: digits with an optional leading `$` and at most 2 decimals (`5`, `5.00`, `$5`,
 * `0.5`, `.5`). No spaces, signs, commas or exponents: a typo is refused rather than read as some other amount.
 * Refuses zero, sub-cent precision and absurd sizes.
 */
export function parseAmount(input: string, opts: {allowLarge?: boolean} = {}): Amount {
  const text = input;
  const match = /^\$?(\d+)(?:\.(\d{1,2}))?$/.exec(text) ?? /^\$?()\.(\d{1,2})$/.exec(text);
  if (!match) {
    if (text.trim() !== text && text.trim() !== ``)
      throw new InputError(`Invalid amount ${JSON.stringify(input)}: remove the spaces, e.g. 5 or 0.50`);
    if (/^-?\$?-?\d*\.?\d+$/.test(text) && text.includes(`-`))
      throw new InputError(`Invalid amount "${input}": the cap must be a positive dollar amount, e.g. 5 or 0.50`);
    if (/^\$?\d*\.\d{3,}$/.test(text))
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

const UNIT_MS: Record<string, number> = {ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 7 * 86_400_000};

/**
 * A duration such as `30m` or `2h` in milliseconds, for the units a flag takes (`--expires`: m h d w; `topup --for`:
 * s m h d w; `watch --interval`: ms s m h); undefined when the text is no such duration. Each flag words its own error.
 */
export function durationMs(text: string, units: readonly string[]): number | undefined {
  const match = /^(\d+)(ms|[smhdw])$/i.exec(text); // strict: no surrounding spaces, as for amounts
  const unit = match?.[2]!.toLowerCase();
  return match && units.includes(unit!) ? Number(match[1]) * UNIT_MS[unit!]! : undefined;
}

const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATE_TIME = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})(?::(\d{2})(?:\.\d+)?)?(?:Z|[+-](\d{2}):?(\d{2}))$/;

// `Date` rolls an impossible day over (2027-02-30 becomes March 2): check every field against the real calendar.
function isRealDate(year: number, month: number, day: number): boolean {
  if (month < 1 || month > 12 || day < 1) return false;
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  return day <= daysInMonth;
}

/**
 * `--expires 7d|12h|30m|2w`, a date `2027-01-31` (end of that day, UTC) or an ISO date-time with a zone. Only real
 * calendar dates and times, only in the future; no surrounding spaces.
 */
export function parseExpiry(input: string | undefined, now: Date = new Date()): Date | undefined {
  if (input === undefined) return undefined;
  const text = input;
  const invalid = (why = `expected a duration (30m, 12h, 7d, 2w) or a date (2027-01-31)`) =>
    new InputError(`Invalid --expires ${JSON.stringify(input)}: ${why}`);
  const ms = durationMs(text, [`m`, `h`, `d`, `w`]);
  const dateOnly = DATE.exec(text);
  const dateTime = DATE_TIME.exec(text);
  let date: Date | undefined;
  if (ms !== undefined) {
    if (ms === 0) throw invalid(`the duration must be more than zero`);
    date = new Date(now.getTime() + ms);
  } else if (dateOnly) {
    const [, y, m, d] = dateOnly.map(Number) as [number, number, number, number];
    if (!isRealDate(y, m, d)) throw invalid(`${text} is not a real calendar date`);
    date = new Date(`${text}T23:59:59Z`);
  } else if (dateTime) {
    const [, y, m, d, hh, mm, ss, zh, zm] = dateTime.map(v => (v === undefined ? 0 : Number(v))) as number[];
    if (!isRealDate(y!, m!, d!)) throw invalid(`${text.slice(0, 10)} is not a real calendar date`);
    if (hh! > 23 || mm! > 59 || ss! > 59 || zh! > 23 || zm! > 59) throw invalid(`${text} is not a real time of day`);
    date = new Date(text);
  }
  if (!date && /^-\d+[mhdw]$/i.test(text)) throw invalid(`a negative duration is in the past; give one such as 7d`);
  if (!date || Number.isNaN(date.getTime())) throw invalid();
  if (date.getTime() <= now.getTime()) throw invalid(`that is in the past`);
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

// Options of the platform command that take a value: their value may itself start with `-` (`--expires -1d`).
const VALUE_OPTIONS: ReadonlySet<string> = new Set([`--agent`, `-a`, `--reset`, `--expires`, `--name`, `--prefix`, `-p`, `--model`]);

/**
 * The positional amount of `capit <platform> …` when it is negative (`-5`, `-$5`, `-.5`), else undefined. A negative
 * amount looks like an option to any argv parser, so main.ts names the real problem; an option's value such as
 * `--expires -1d` is left for that option's own check.
 */
export function findNegativeAmount(args: readonly string[]): string | undefined {
  for (let i = 0; i < args.length; i++) {
    const arg = args[i]!;
    if (arg === `--`) return undefined;
    if (VALUE_OPTIONS.has(arg)) {
      i++;
      continue;
    }
    if (/^-\$?\.?\d/.test(arg)) return arg;
    if (arg.startsWith(`-`)) continue;
    return undefined; // the positional amount, and it is not negative
  }
  return undefined;
}
