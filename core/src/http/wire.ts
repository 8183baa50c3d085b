// Lenient readers for provider JSON, handed to platforms as `ctx.wire` (and to `classifyError`), so every platform
// reads the wire the same way without copying helpers (a plugin cannot import capit at run time).
import type {WireReaders} from '../plugin.js';

function record(value: unknown): Record<string, unknown> | undefined {
  return value !== null && typeof value === `object` && !Array.isArray(value) ? value as Record<string, unknown> : undefined;
}

function number(value: unknown): number | null {
  if (typeof value === `number` && Number.isFinite(value)) return value;
  if (typeof value === `string` && value.trim() !== `` && Number.isFinite(Number(value))) return Number(value);
  return null;
}

function usd(value: number): number {
  return Math.round(value * 1e6) / 1e6;
}

// A proxy's HTML error page says more than "unexpected response" once its tags are gone; 200 characters is plenty.
function text(body: unknown): string {
  return typeof body === `string` ? body.replace(/<[^>]*>/g, ` `).replace(/\s+/g, ` `).trim().slice(0, 200) : ``;
}

function describe(body: unknown): string {
  if (body === undefined || body === ``) return `an empty body`;
  if (typeof body === `string`) return `a non-JSON body`;
  return `an unexpected body`;
}

export const wireReaders: WireReaders = Object.freeze({record, number, usd, text, describe});
