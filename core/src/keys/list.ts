import {setFlagsFromString} from 'node:v8';

import pc from 'picocolors';

import type {CapitContext}          from '../context.js';
import {CapitError}                 from '../errors.js';
import {redactText}                 from '../issue/redact.js';
import type {PlatformDefinition, ProviderKey} from '../plugin.js';
import {loadPlugin}                 from '../plugins/load.js';
import type {DiscoveredPlugin}      from '../plugins/discover.js';
import {callPlugin}                 from '../platforms/context.js';
import {pendingTakeBacks, readLedger} from '../state/ledger.js';
import type {LedgerEntry}           from '../state/ledger.js';
import {capitPaths}                 from '../state/paths.js';
import {withProgress}               from '../ui/progress.js';
import {expiryTime, expiryWarningDays, withinDays} from './expiry.js';
import type {ExpiryWarningDays}     from './expiry.js';
import {closeSessions, masterKeyEnvNames, masterKeyState, platformSession, requirePlatform, storedCredentialsOrWarn} from '../platforms/session.js';

export interface ListOptions {
  platform?: string;
  glob?: string;
  json: boolean;
  all: boolean;
}

export interface ListedKey extends ProviderKey {
  platform: string;
  agent: string | null;
  issuedByCapit: boolean;
  /** `pending`: a key a killed capit run left behind (its install was never finished; no agent holds it). */
  status: `active` | `disabled` | `expired` | `capped` | `pending`;
  /** 1, 3 or 7 when the key expires within that many days; null otherwise (or already expired). */
  expiryWarningDays?: ExpiryWarningDays | null;
  /** Timed raises (`capit topup --for`) not taken back yet, from capit's ledger. */
  takeBacks?: {amountUsd: number; until: string}[];
}

export function statusOf(key: ProviderKey, now: number): Exclude<ListedKey[`status`], `pending`> {
  if (key.disabled) return `disabled`;
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return `expired`;
  if (key.remainingUsd !== null && key.remainingUsd <= 0) return `capped`;
  return `active`;
}

export interface KeyListing {
  keys: ListedKey[];
  /** Platforms that failed, each with a one-line reason and its `CAPIT_*` code; the others still listed. */
  errors: {platform: string; message: string; exitCode: number; code: string}[];
  /** Platforms not listed because no master key is configured (only when no platform was named). */
  skipped: {platform: string; reason: string}[];
  /** Platforms whose keys were listed (possibly none). */
  listed: string[];
}

export interface CollectOptions extends Omit<ListOptions, `json`> {
  /** Show a spinner on a terminal while listing takes long (the CLI without --json; never the GUI). */
  progress?: boolean;
}

/** Finds the ledger record of a provider key: by id, else (records written before the id was known) by name. */
export function ledgerIndex(ledger: readonly LedgerEntry[]): (platform: string, key: {id: string; name: string}) => LedgerEntry | undefined {
  // One map per platform, looked up by the key's own strings: no string is built per listed key (10,000s of them).
  const byId = new Map<string, Map<string, LedgerEntry>>();
  const byName = new Map<string, Map<string, LedgerEntry>>();
  const mapOf = (maps: Map<string, Map<string, LedgerEntry>>, platform: string) => {
    let map = maps.get(platform);
    if (!map) maps.set(platform, map = new Map());
    return map;
  };
  for (const entry of ledger) {
    if (entry.id) mapOf(byId, entry.platform).set(entry.id, entry);
    else mapOf(byName, entry.platform).set(entry.name, entry);
  }
  return (platform, key) => byId.get(platform)?.get(key.id) ?? byName.get(platform)?.get(key.name);
}

// A collator made once: `String#localeCompare` builds one per call, which was measured at ~13 ms over 10,000 keys.
const byLocale = new Intl.Collator().compare;

/** capit's own keys first, then newest first (ISO timestamps compare as strings), then by name. */
export function compareListed(a: ListedKey, b: ListedKey): number {
  if (a.issuedByCapit !== b.issuedByCapit) return a.issuedByCapit ? -1 : 1;
  const aCreated = a.createdAt ?? ``;
  const bCreated = b.createdAt ?? ``;
  if (aCreated !== bCreated) return aCreated < bCreated ? 1 : -1;
  return byLocale(a.name, b.name);
}

/**
 * Every key on every configured platform (in parallel), or on the named one; capit's own keys first, newest first.
 * With no platform named, a platform without a master key is skipped (reported in `skipped`), never prompted for.
 */
export async function collectKeys(opts: CollectOptions, ctx: CapitContext): Promise<KeyListing> {
  // picomatch (35 KiB) is loaded only when there is a glob to match.
  let matches = (_name: string) => true;
  if (opts.glob !== undefined) {
    const {checkPattern, nameMatcher} = await import(`./match.js`);
    checkPattern(opts.glob);
    matches = nameMatcher(opts.glob);
  }
  const named = opts.platform !== undefined;
  const platforms: DiscoveredPlugin[] = named ? [requirePlatform(opts.platform!, ctx)] : ctx.plugins.platforms;
  const entries = await readLedger(capitPaths(ctx.env).state);
  const ledger = ledgerIndex(entries);
  // Read once, before any request, and only when some platform needs it; a corrupt or exposed store is a warning, so
  // keys reachable through an environment master key are still listed (and can be killed).
  let stored: Awaited<ReturnType<typeof storedCredentialsOrWarn>> | undefined;
  const storedOnce = async () => (stored ??= await storedCredentialsOrWarn(ctx, platforms));
  const now = Date.now();
  const skipped: KeyListing[`skipped`] = [];

  for (const plugin of platforms) {
    const envNames = masterKeyEnvNames(plugin);
    if (envNames.length === 0 || !envNames.some(n => ctx.env[n]?.trim())) await storedOnce();
  }

  // First every session (a named platform without a master key may prompt for one), then the listing, which is the
  // slow part and the only one with a spinner: a spinner must never draw over a prompt.
  const sessions = await Promise.allSettled(platforms.map(async plugin => {
    if (!named) {
      let def: PlatformDefinition | undefined;
      try {
        def = await loadPlugin(plugin) as PlatformDefinition;
      } catch (error) {
        // A plugin that cannot load only matters if the user set it up.
        if (masterKeyState(masterKeyEnvNames(plugin), plugin.manifest.id, ctx.env, stored ?? {}).source === `none`) {
          skipped.push({platform: plugin.manifest.id, reason: `no master key`});
          return undefined;
        }
        throw error;
      }
      if (masterKeyState(masterKeyEnvNames(plugin, def), def.id, ctx.env, await storedOnce()).source === `none`) {
        skipped.push({platform: plugin.manifest.id, reason: `no master key`});
        return undefined;
      }
    }
    return platformSession(plugin, ctx);
  }));

  let seen = 0;
  const results = await withProgress(ctx, `Listing keys…`, progress => Promise.allSettled(sessions.map(async session => {
    if (session.status === `rejected`) throw session.reason;
    if (session.value === undefined) return undefined;
    const {def, pctx} = session.value;
    const keys: ListedKey[] = [];
    await callPlugin(def.id, `listKeys`, async () => {
      // Per key only what the listing needs: the spinner's count is redrawn every 100 keys, not rebuilt per key.
      for await (const key of def.listKeys(pctx)) {
        if (++seen % 100 === 0) progress.update(`Listing keys… ${seen}`);
        const record = ledger(def.id, key);
        if (!record && !opts.all) continue;
        if (!matches(key.name)) continue;
        // A pending record is an install a killed run left: its key is not any agent's active key (recovery settles it).
        const pending = record?.status === `pending`;
        const takeBacks = record ? pendingTakeBacks(record, entries) : [];
        keys.push({...key, platform: def.id, agent: record && !record.restoredAt && !pending ? record.agent : null, issuedByCapit: record !== undefined,
          status: pending ? `pending` : statusOf(key, now), // A `capit run` session key is meant to expire soon: no warning for it.
          expiryWarningDays: record?.session ? null : expiryWarningDays(key.expiresAt, now), ...(takeBacks.length > 0 ? {takeBacks} : {})});
      }
    });
    return keys;
  })), {enabled: opts.progress ?? false});

  const keys: ListedKey[] = [];
  const errors: KeyListing[`errors`] = [];
  const listed: string[] = [];
  results.forEach((result, i) => {
    if (result.status === `fulfilled`) {
      if (result.value === undefined) return;
      keys.push(...result.value);
      listed.push(platforms[i]!.manifest.id);
    } else errors.push({
      platform: platforms[i]!.manifest.id,
      message: oneLine(redactText(result.reason instanceof Error ? result.reason.message : String(result.reason))),
      exitCode: result.reason instanceof CapitError ? result.reason.exitCode : 1,
      code: result.reason instanceof CapitError ? result.reason.code : `CAPIT_ERROR`,
    });
  });
  keys.sort(compareListed);
  skipped.sort((a, b) => a.platform.localeCompare(b.platform));
  return {keys, errors, skipped, listed};
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ` `).trim();
}

/*
 * `capit keys list --json` — a stable shape (fields are only ever added):
 *
 * {
 *   "keys": [{
 *     "platform":       "openrouter",            // platform id
 *     "id":             "…",                     // the provider's key id (OpenRouter: hash)
 *     "name":           "opencode-1a2b3c4d",
 *     "agent":          "opencode" | null,       // the agent capit installed this key into (from capit's ledger)
 *     "issuedByCapit":  true,                    // false only with --all
 *     "status":         "active" | "disabled" | "expired" | "capped" | "pending",  // pending: left by a killed run
 *     "disabled":       false,
 *     "spentUsd":       1.25,                    // spend in the current reset window (lifetime without one)
 *     "capUsd":         5 | null,                // null = no cap
 *     "remainingUsd":   3.75 | null,
 *     "reset":          "daily" | "weekly" | "monthly" | null,   // null = lifetime cap
 *     "createdAt":      "2026-11-28T20:41:07Z" | null,
 *     "expiresAt":      "2026-12-05T00:00:00Z" | null,
 *     "byokSpentUsd":   0.5 | null,              // BYOK spend in the same window, where the platform reports it
 *     "byokCounted":    true | null,             // whether BYOK spend counts against the cap, where reported
 *     "expiryWarningDays": 1 | 3 | 7 | null      // the key expires within that many days (null: later, never, or expired)
 *     "takeBacks":      [{"amountUsd": 5, "until": "2026-11-30T03:00:00.000Z"}]  // only when timed top-ups are still raised
 *   }],
 *   "errors":  [{"platform": "aihubmix",                          // platforms that could not be listed
 *                "message": "could not reach … (connection refused); nothing was sent",
 *                "code": "CAPIT_OFFLINE"}],                        // CAPIT_OFFLINE: the platform could not be reached
 *   "skipped": [{"platform": "aihubmix", "reason": "no master key"}],  // not configured (only when none was named)
 *   "listed":  ["openrouter"]                                      // platforms whose keys are all in "keys"
 * }
 *
 * Keys are sorted capit's own first, then newest first. Exit code: 0, or 1 when any platform could not be listed
 * (the keys of the others are still printed), 2 for bad input, e.g. an unknown platform.
 */
export interface JsonKey {
  platform: string;
  id: string;
  name: string;
  agent: string | null;
  issuedByCapit: boolean;
  status: ListedKey[`status`];
  disabled: boolean;
  spentUsd: number;
  capUsd: number | null;
  remainingUsd: number | null;
  reset: ListedKey[`reset`];
  createdAt: string | null;
  expiresAt: string | null;
  byokSpentUsd: number | null;
  byokCounted: boolean | null;
  expiryWarningDays: ExpiryWarningDays | null;
  /** Present only when the key has timed top-ups not taken back yet. */
  takeBacks?: {amountUsd: number; until: string}[];
}

export function jsonKey(k: ListedKey): JsonKey {
  return {
    platform: k.platform, id: k.id, name: k.name, agent: k.agent, issuedByCapit: k.issuedByCapit, status: k.status,
    disabled: k.disabled, spentUsd: k.spentUsd, capUsd: k.capUsd, remainingUsd: k.remainingUsd, reset: k.reset,
    createdAt: k.createdAt ?? null, expiresAt: k.expiresAt ?? null,
    byokSpentUsd: k.byokSpentUsd ?? null, byokCounted: k.byokCounted ?? null, expiryWarningDays: k.expiryWarningDays ?? null,
    ...(k.takeBacks ? {takeBacks: k.takeBacks} : {}),
  };
}

export function listingJson(listing: KeyListing) {
  return {
    keys: listing.keys.map(jsonKey),
    errors: listing.errors.map(({platform, message, code}) => ({platform, message, code})),
    skipped: listing.skipped,
    listed: listing.listed,
  };
}

/**
 * Exactly `JSON.stringify(listingJson(listing), null, 2)` and a newline, written a slice of keys at a time: with 10,000s
 * of keys, the whole document as one string beside every key's JSON object was ~8 MiB of the peak memory.
 */
export function writeListingJson(listing: KeyListing, write: (text: string) => void): void {
  const {keys, ...rest} = listingJson({...listing, keys: []});
  if (listing.keys.length === 0) {
    write(`${JSON.stringify({keys, ...rest}, null, 2)}\n`);
    return;
  }
  const HEAD = `{\n  "keys": [\n`;
  const TAIL = `\n  ]\n}`;
  const SLICE = 1000;
  for (let start = 0; start < listing.keys.length; start += SLICE) {
    // A slice laid out as the whole document would lay it out: inside {"keys": […]}, without that wrapper.
    const text = JSON.stringify({keys: listing.keys.slice(start, start + SLICE).map(jsonKey)}, null, 2);
    const last = start + SLICE >= listing.keys.length;
    write(`${start === 0 ? HEAD : ``}${text.slice(HEAD.length, -TAIL.length)}${last ? `\n` : `,\n`}`);
  }
  // The other top-level fields, as JSON.stringify lays them out after "keys".
  write(`  ],\n${JSON.stringify(rest, null, 2).slice(2)}\n`);
}

/**
 * The listing keeps every key alive until it is printed, so each time V8 doubles its young generation it only copies
 * more survivors and holds more memory: over 10,000 keys the young generation kept at its first size cut the peak RSS
 * by ~20 MiB with no CPU cost measurable on a loaded machine (test/bench). Set for this short-lived process only, and only on the Node
 * versions where the flag was checked to exist (20–24): V8 prints an error for a flag it does not know.
 */
function keepYoungGenerationSmall(): void {
  const major = Number(process.versions.node.split(`.`)[0]);
  if (major >= 20 && major <= 24) setFlagsFromString(`--semi-space-growth-factor=1`);
}

export async function listKeys(opts: ListOptions, ctx: CapitContext): Promise<number> {
  keepYoungGenerationSmall();
  let listing: KeyListing;
  try {
    listing = await collectKeys({...opts, progress: !opts.json}, ctx);
  } finally {
    await closeSessions(ctx);
  }
  const colors = ctx.colorDepth > 1;
  const {errors: failures} = listing;
  // The failures first, so an empty listing below never reads as "there are no keys" on its own.
  for (const failure of failures) ctx.stderr.write(`capit: ${failure.platform}: ${failure.message}\n`);
  if (opts.json) {
    writeListingJson(listing, text => ctx.stdout.write(text));
  } else {
    ctx.stdout.write(renderListing(listing, {colors, filtered: opts.glob !== undefined}));
    for (const line of expiryWarnings(listing.keys)) ctx.stderr.write(`${line}\n`);
    // Platforms the user never set up stay quiet; when none is set up, say how to start.
    if (listing.listed.length === 0 && failures.length === 0 && listing.skipped.length > 0)
      ctx.stderr.write(`${notConfiguredMessage(listing.skipped.map(s => s.platform))}\n`);
  }
  if (failures.length === 1 && listing.keys.length === 0 && opts.platform !== undefined) return failures[0]!.exitCode;
  return failures.length > 0 ? 1 : 0;
}

/** One `warning:` line per key that expires within 7, 3 or 1 days. */
export function expiryWarnings(keys: readonly ListedKey[]): string[] {
  return keys.filter(k => k.expiryWarningDays && k.expiresAt).map(k =>
    `warning: key ${k.name} (${k.platform}${k.agent ? `, ${k.agent}` : ``}) expires ${withinDays(k.expiryWarningDays!)}, at ${expiryTime(k.expiresAt!)}`);
}

/** What to do when no platform has a master key: one sentence naming the installed platforms. */
export function notConfiguredMessage(platforms: readonly string[]): string {
  const example = platforms.includes(`openrouter`) ? `openrouter` : platforms[0] ?? `<platform>`;
  return `No platform is configured: capit has no master key in the environment or its store. Add one with capit platforms add ${example} (installed: ${platforms.join(`, `) || `none`}).`;
}

/** The table; with no keys, a line that says only what capit saw: which platforms it listed, which it could not. */
export function renderListing(listing: Pick<KeyListing, `keys` | `errors` | `listed`>, opts: {colors: boolean; filtered?: boolean}): string {
  if (listing.keys.length > 0 || listing.errors.length === 0) {
    if (listing.keys.length === 0 && listing.listed.length === 0) return ``;
    return renderTable(listing.keys, opts);
  }
  if (listing.listed.length === 0) return ``;
  const none = opts.filtered ? `No keys match` : `No keys`;
  return `${none} on ${listing.listed.join(`, `)}; ${listing.errors.map(e => e.platform).join(`, `)} could not be listed.\n`;
}

/** `2026-11-30 14:05:09` in the user's time zone. */
export function localTime(iso: string): string {
  const d = new Date(iso);
  const pad = (n: number) => String(n).padStart(2, `0`);
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}

export function money(usd: number | null): string {
  return usd === null ? `—` : `$${usd.toFixed(2)}`;
}

/** Share of the cap spent: ≥ 90 % red, ≥ 50 % yellow. */
export function spendLevel(key: Pick<ProviderKey, `spentUsd` | `capUsd`>): `ok` | `warn` | `high` {
  if (key.capUsd === null) return `ok`;
  const share = key.capUsd > 0 ? key.spentUsd / key.capUsd : key.spentUsd > 0 ? Infinity : 1;
  return share >= 0.9 ? `high` : share >= 0.5 ? `warn` : `ok`;
}

export function renderTable(keys: ListedKey[], opts: {colors: boolean; filtered?: boolean}): string {
  if (keys.length === 0) return opts.filtered ? `No keys match.\n` : `No keys.\n`;
  const c = pc.createColors(opts.colors);
  const header = [`NAME`, `PLATFORM`, `AGENT`, `SPENT/CAP`, `RESET`, `REMAINING`, `STATUS`, `CREATED`];
  const rows = keys.map(k => [
    k.name, k.platform, k.agent ?? `—`,
    `${money(k.spentUsd)}/${k.capUsd === null ? `no cap` : money(k.capUsd)}${k.byokSpentUsd ? ` (BYOK ${money(k.byokSpentUsd)}${k.byokCounted === false ? `, uncapped` : ``})` : ``}`,
    k.capUsd === null ? `—` : k.reset ?? `lifetime`, money(k.remainingUsd), k.status === `pending` ? `pending (interrupted run)` : k.status, (k.createdAt ?? ``).slice(0, 10),
  ]);
  const widths = header.map((_, col) => Math.max(header[col]!.length, ...rows.map(r => r[col]!.length)));
  const pad = (cell: string, col: number) => cell.padEnd(widths[col]!);
  const out = [header.map(pad).join(`  `).trimEnd()];
  rows.forEach((row, i) => {
    const key = keys[i]!;
    const level = spendLevel(key);
    const cells = row.map((cell, col) => {
      const padded = col === row.length - 1 ? cell : pad(cell, col);
      // Colour after padding so escape codes never skew the columns.
      if (col === 3 && level !== `ok`) return level === `high` ? c.red(padded) : c.yellow(padded);
      if (col === 6 && key.status !== `active`) return c.dim(padded);
      return padded;
    });
    out.push(cells.join(`  `).trimEnd());
  });
  for (const key of keys)
    for (const t of key.takeBacks ?? [])
      out.push(`${key.name}: ${money(t.amountUsd)} top-up to be taken back at ${localTime(t.until)}${Date.parse(t.until) <= Date.now() ? ` (due: the next capit command with the master key does it)` : ``}`);
  return `${out.join(`\n`)}\n`;
}

