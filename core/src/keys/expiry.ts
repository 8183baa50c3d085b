// Expiry warnings for `keys list` and `doctor`: a key that expires mid-session stops an agent with no warning
// (coder/ai.coder.com #3), so capit says so 7, 3 and 1 days ahead.

/** The warning steps, in days before expiry: the smallest one a key is within is reported. */
export const EXPIRY_WARNING_DAYS = [1, 3, 7] as const;
export type ExpiryWarningDays = (typeof EXPIRY_WARNING_DAYS)[number];

const DAY_MS = 86_400_000;

/** 1, 3 or 7 when the key expires within that many days (and has not expired yet), else null. */
export function expiryWarningDays(expiresAt: string | null | undefined, now: number): ExpiryWarningDays | null {
  if (!expiresAt) return null;
  const at = Date.parse(expiresAt);
  if (Number.isNaN(at) || at <= now) return null;
  return EXPIRY_WARNING_DAYS.find(days => at - now <= days * DAY_MS) ?? null;
}

/** "within 1 day" / "within 3 days". */
export function withinDays(days: ExpiryWarningDays): string {
  return `within ${days} day${days === 1 ? `` : `s`}`;
}

/** `2026-12-02 14:00 UTC`: unambiguous for a pasted report. */
export function expiryTime(expiresAt: string): string {
  return new Date(Date.parse(expiresAt)).toISOString().replace(`T`, ` `).replace(/:\d{2}\.\d{3}Z$/, ` UTC`);
}
