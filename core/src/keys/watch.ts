// `capit watch`: polls the spend of every capit key through the provider's own metering (the key listing), keeps a
// short history per key in watch.json, and alerts once per key, threshold and reset window — optionally disabling a
// key whose spend spikes, at the provider.
//
// Detection rule (per key, each pass):
// - threshold: spent ≥ t % of the cap, for each t in `watch.thresholds` (default 50, 80, 100).
// - spike: the pace over the last poll interval (USD per minute) would spend `watch.spikeSharePercent` of the cap
//   (default 25 %) within `watch.spikeMinutes` (default 10), or is `watch.spikeFactor` (default 5) times the key's
//   own median pace (the median over its earlier intervals that spent anything; at least 3 of them).
// Each alert fires once per key and window (the provider's daily/weekly/monthly reset, or the key's lifetime); the
// alert state is in watch.json, so a restarted watch does not repeat it, and a new window (or spend going down) clears it.
import fs   from 'node:fs/promises';
import path from 'node:path';

import type {CapitContext}     from '../context.js';
import {InputError}            from '../errors.js';
import {ensureDir, writeFileAtomic} from '../files/atomic.js';
import {durationMs}            from '../issue/inputs.js';
import {redactText}            from '../issue/redact.js';
import type {ResetWindow}      from '../plugin.js';
import {closeSessions}         from '../platforms/session.js';
import {appendAudit}           from '../state/audit.js';
import {loadCapitSettings}     from '../state/config.js';
import type {WatchSettings}    from '../state/config.js';
import {clock, readLedger} from '../state/ledger.js';
import {takeBackDueTopups}     from './due.js';
import {capitPaths}            from '../state/paths.js';
import {createNotifier, parseNotifyTarget} from '../ui/notify.js';
import type {Notifier}         from '../ui/notify.js';
import {setKeysDisabled}       from './admin.js';
import {collectKeys, money, notConfiguredMessage} from './list.js';
import type {ListedKey}        from './list.js';

/** Samples kept per key: at a 30 s interval, an hour; at 1 s, two minutes. Bounds memory and watch.json over days. */
export const MAX_SAMPLES = 120;
/** A key not seen for this long (deleted, or its platform no longer configured) is dropped from watch.json. */
const FORGET_AFTER_MS = 7 * 86_400_000;
const MIN_INTERVAL_MS = 1_000;
const MAX_INTERVAL_MS = 86_400_000;

export interface WatchOptions {
  /** As typed: `30s`, `2m`, `1h`. */
  interval: string;
  once: boolean;
  disableOnSpike: boolean;
  /** As typed: `desktop`, `webhook=<url>`, `ntfy=<topic>`. */
  notify: string[];
}

/** `1s`…`24h`. */
export function parseInterval(input: string): number {
  const ms = durationMs(input, [`ms`, `s`, `m`, `h`]);
  if (ms === undefined || ms < MIN_INTERVAL_MS || ms > MAX_INTERVAL_MS)
    throw new InputError(`Invalid --interval ${JSON.stringify(input)}: expected a duration from 1s to 24h, such as 30s, 5m or 1h`);
  return ms;
}

// ----- state (watch.json) -----------------------------------------------------------------------------------------

interface KeyHistory {
  name: string;
  /** [time ms, spent USD], oldest first, at most MAX_SAMPLES. */
  samples: [number, number][];
  /** The reset window the samples and alerts belong to, e.g. `daily:2026-11-30`. */
  window: string;
  /** Alerts already given in this window: `50`, `80`, `100`, `spike`. */
  alerted: string[];
  lastSeen: number;
}

interface WatchState {
  version: 1;
  keys: Record<string, KeyHistory>;
}

export function watchStatePath(stateDir: string): string {
  return path.join(stateDir, `watch.json`);
}

async function readState(stateDir: string): Promise<WatchState> {
  let text: string;
  try {
    text = await fs.readFile(watchStatePath(stateDir), `utf8`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === `ENOENT`) return {version: 1, keys: {}};
    throw error;
  }
  try {
    const parsed = JSON.parse(text) as WatchState;
    if (parsed && parsed.version === 1 && parsed.keys && typeof parsed.keys === `object`) return parsed;
  } catch {
    // fall through
  }
  // Only capit's own bookkeeping: starting over costs at most a repeated alert, never a user's data.
  return {version: 1, keys: {}};
}

async function writeState(stateDir: string, state: WatchState): Promise<void> {
  await ensureDir(stateDir, 0o700);
  await writeFileAtomic(watchStatePath(stateDir), `${JSON.stringify(state)}\n`, {mode: 0o600, durable: false});
}

// ----- windows, rates, runway ---------------------------------------------------------------------------------------

/** The provider's reset windows are UTC: days, weeks from Monday, calendar months. */
export function windowOf(reset: ResetWindow | null, now: number): {id: string; endsAt: number | null} {
  const d = new Date(now);
  const y = d.getUTCFullYear();
  const m = d.getUTCMonth();
  const day = d.getUTCDate();
  if (reset === `daily`) return {id: `daily:${new Date(Date.UTC(y, m, day)).toISOString().slice(0, 10)}`, endsAt: Date.UTC(y, m, day + 1)};
  if (reset === `weekly`) {
    const monday = day - ((d.getUTCDay() + 6) % 7);
    return {id: `weekly:${new Date(Date.UTC(y, m, monday)).toISOString().slice(0, 10)}`, endsAt: Date.UTC(y, m, monday + 7)};
  }
  if (reset === `monthly`) return {id: `monthly:${y}-${String(m + 1).padStart(2, `0`)}`, endsAt: Date.UTC(y, m + 1, 1)};
  return {id: `lifetime`, endsAt: null};
}

/** USD per minute between two samples (0 when no time passed). */
function rateBetween(a: [number, number], b: [number, number]): number {
  const minutes = (b[0] - a[0]) / 60_000;
  return minutes > 0 ? Math.max(0, b[1] - a[1]) / minutes : 0;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = sorted.length >> 1;
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** `16:40` today, else `Tue 16:40`, in the user's time zone. */
export function clockTime(ms: number, now: number): string {
  const d = new Date(ms);
  const hm = `${String(d.getHours()).padStart(2, `0`)}:${String(d.getMinutes()).padStart(2, `0`)}`;
  return new Date(now).toDateString() === d.toDateString() ? hm : `${d.toLocaleDateString(`en-US`, {weekday: `short`})} ${hm}`;
}

/** `$0.59/min`, or per hour when slower than a cent a minute (`$0.15/h`). */
export function pace(usdPerMinute: number): string {
  if (usdPerMinute >= 0.01) return `${money(usdPerMinute)}/min`;
  const perHour = usdPerMinute * 60;
  return perHour >= 0.01 ? `${money(perHour)}/h` : `under $0.01/h`;
}

function capLabel(key: ListedKey): string {
  return `${money(key.capUsd)} ${key.reset ?? `lifetime`} cap`;
}

/** "at this pace claude's $10.00 daily cap runs out at 16:40" — never past the window's reset. */
export function runwayLine(key: ListedKey, rateUsdPerMin: number, now: number, windowEndsAt: number | null): {text: string; runsOutAt: number | null} {
  const whose = `${key.agent ?? key.name}'s ${capLabel(key)}`;
  if (key.capUsd === null) return {text: `${key.agent ?? key.name}'s key has no cap`, runsOutAt: null};
  const remaining = key.capUsd - key.spentUsd;
  if (remaining <= 0) return {text: `${whose} is used up`, runsOutAt: now};
  if (rateUsdPerMin <= 0) return {text: `no spend since the last poll; ${money(remaining)} of ${whose} left`, runsOutAt: null};
  const runsOutAt = now + (remaining / rateUsdPerMin) * 60_000;
  if (windowEndsAt !== null && runsOutAt >= windowEndsAt)
    return {text: `at this pace ${whose} lasts until it resets at ${clockTime(windowEndsAt, now)}`, runsOutAt: null};
  return {text: `at this pace ${whose} runs out at ${clockTime(runsOutAt, now)}`, runsOutAt};
}

// ----- one pass -----------------------------------------------------------------------------------------------------

export interface WatchAlert {
  kind: `threshold` | `spike`;
  /** For a threshold alert: the percentage of the cap crossed. */
  thresholdPercent: number | null;
  platform: string;
  keyName: string;
  keyId: string;
  agent: string | null;
  spentUsd: number;
  capUsd: number | null;
  reset: ResetWindow | null;
  /** USD per minute over the last poll interval. */
  rateUsdPerMinute: number;
  /** When the cap runs out at this pace (ISO), or null when it lasts until the window resets (or there is no pace). */
  runsOutAt: string | null;
  windowResetsAt: string | null;
  /** Why it is a spike, e.g. `25 % of the cap in 10 min`. */
  reason: string;
  runway: string;
  /** --disable-on-spike: `disabled` (verified at the provider), `failed: …`, or null when not asked to. */
  disabled: string | null;
  message: string;
}

export interface PassResult {
  alerts: WatchAlert[];
  /** Platforms that could not be listed, one line each. */
  errors: string[];
  watched: number;
  /** Set when no platform has a master key: what to do about it. */
  notConfigured: string | null;
}

interface Evaluation {
  alerts: Omit<WatchAlert, `disabled` | `message`>[];
}

function evaluate(key: ListedKey, history: KeyHistory, settings: WatchSettings, now: number, windowEndsAt: number | null): Evaluation {
  const alerts: Evaluation[`alerts`] = [];
  const samples = history.samples;
  const last = samples.at(-1)!;
  const rate = samples.length >= 2 ? rateBetween(samples.at(-2)!, last) : 0;
  const {text: runway, runsOutAt} = runwayLine(key, rate, now, windowEndsAt);
  const base = {
    platform: key.platform, keyName: key.name, keyId: key.id, agent: key.agent, spentUsd: key.spentUsd, capUsd: key.capUsd, reset: key.reset,
    rateUsdPerMinute: Math.round(rate * 1e6) / 1e6, runsOutAt: runsOutAt === null ? null : new Date(runsOutAt).toISOString(),
    windowResetsAt: windowEndsAt === null ? null : new Date(windowEndsAt).toISOString(), runway,
  };

  if (key.capUsd !== null && key.capUsd > 0) {
    const share = (key.spentUsd / key.capUsd) * 100;
    const crossed = settings.thresholds.filter(t => share >= t - 1e-9 && !history.alerted.includes(String(t)));
    if (crossed.length > 0) {
      // One alert for the highest threshold crossed since the last pass; the lower ones count as said.
      const top = crossed.at(-1)!;
      alerts.push({...base, kind: `threshold`, thresholdPercent: top, reason: `${Math.floor(share)} % of the ${capLabel(key)} spent`});
      history.alerted.push(...crossed.map(String));
    }
  }

  if (rate > 0 && !history.alerted.includes(`spike`)) {
    let reason: string | undefined;
    if (key.capUsd !== null && key.capUsd > 0 && rate * settings.spikeMinutes >= (settings.spikeSharePercent / 100) * key.capUsd)
      reason = `a pace of ${settings.spikeSharePercent} % of the ${capLabel(key)} in ${settings.spikeMinutes} min or faster`;
    else {
      const earlier: number[] = [];
      for (let i = 1; i < samples.length - 1; i++) {
        const r = rateBetween(samples[i - 1]!, samples[i]!);
        if (r > 0) earlier.push(r);
      }
      if (earlier.length >= 3) {
        const usual = median(earlier);
        if (rate >= settings.spikeFactor * usual) reason = `${(rate / usual).toFixed(1)}× the key's median pace of ${pace(usual)}`;
      }
    }
    if (reason) {
      alerts.push({...base, kind: `spike`, thresholdPercent: null, reason});
      history.alerted.push(`spike`);
    }
  }
  return {alerts};
}

function alertMessage(a: Omit<WatchAlert, `message`>): string {
  const who = `${a.agent ?? `no agent`}, ${a.platform} key ${a.keyName}`;
  const speed = pace(a.rateUsdPerMinute);
  const head = a.kind === `spike`
    ? `SPIKE ${who}: ${speed}, ${a.reason}; spent ${money(a.spentUsd)}`
    : `${a.thresholdPercent} % of the cap: ${who}: ${a.reason} (${money(a.spentUsd)}); ${speed}`;
  const disabled = a.disabled === null ? `` : a.disabled === `disabled`
    ? `; disabled at ${a.platform} (verified): capit keys enable ${a.keyName} reverses it`
    : `; could not disable it: ${a.disabled}`;
  return `${head}; ${a.runway}${disabled}`;
}

/** One pass: take-backs, listing, history, alerts, (optionally) disabling. Writes watch.json before returning. */
export async function watchPass(ctx: CapitContext, opts: {settings: WatchSettings; disableOnSpike: boolean}): Promise<PassResult> {
  const stateDir = capitPaths(ctx.env).state;
  await takeBackDueTopups(ctx);
  const listing = await collectKeys({all: false, progress: false}, ctx);
  const errors = listing.errors.map(e => `${e.platform}: ${e.message}`);
  const now = clock(ctx.env);
  const state = await readState(stateDir);
  const found: {key: ListedKey; alerts: Evaluation[`alerts`]}[] = [];
  let watched = 0;

  for (const key of listing.keys) {
    if (!key.issuedByCapit || key.status === `pending`) continue;
    const id = `${key.platform}/${key.id}`;
    const window = windowOf(key.reset, now);
    let history = state.keys[id];
    const lastSpent = history?.samples.at(-1)?.[1];
    // A new window, or spend that went down (the provider reset it): start over, alerts included.
    if (!history || history.window !== window.id || (lastSpent !== undefined && key.spentUsd < lastSpent - 1e-9))
      history = {name: key.name, samples: [], window: window.id, alerted: [], lastSeen: now};
    history.name = key.name;
    history.lastSeen = now;
    history.samples.push([now, key.spentUsd]);
    if (history.samples.length > MAX_SAMPLES) history.samples.splice(0, history.samples.length - MAX_SAMPLES);
    state.keys[id] = history;
    // A disabled key spends nothing more; its history is kept so enabling it again does not re-alert this window.
    if (key.disabled) continue;
    watched++;
    const {alerts} = evaluate(key, history, opts.settings, now, window.endsAt);
    if (alerts.length > 0) found.push({key, alerts});
  }
  for (const [id, history] of Object.entries(state.keys))
    if (now - history.lastSeen > FORGET_AFTER_MS) delete state.keys[id];

  const alerts: WatchAlert[] = [];
  for (const {key, alerts: raw} of found) {
    let disabled: string | null = null;
    if (opts.disableOnSpike && raw.some(a => a.kind === `spike`)) disabled = await disableKey(key, ctx, stateDir, raw.find(a => a.kind === `spike`)!);
    for (const a of raw) {
      const withDisabled = {...a, disabled: a.kind === `spike` ? disabled : null};
      alerts.push({...withDisabled, message: alertMessage(withDisabled)});
    }
  }
  await writeState(stateDir, state);
  await closeSessions(ctx);
  const notConfigured = listing.listed.length === 0 && listing.errors.length === 0 && listing.skipped.length > 0
    ? notConfiguredMessage(listing.skipped.map(p => p.platform)) : null;
  return {alerts, errors, watched, notConfigured};
}

/** Disables the key at the provider; setKeysDisabled reads the state back and records it in the ledger. */
async function disableKey(key: ListedKey, ctx: CapitContext, stateDir: string, spike: Omit<WatchAlert, `disabled` | `message`>): Promise<string> {
  const [result] = await setKeysDisabled([key], true, ctx);
  if (!result || !result.ok) return result?.error ?? `no result`;
  await appendAudit(stateDir, {
    action: `disable`, platform: key.platform, keyName: key.name, keyId: key.id, agent: key.agent,
    oldCapUsd: key.capUsd, newCapUsd: key.capUsd,
    reason: `capit watch --disable-on-spike: ${pace(spike.rateUsdPerMinute)}, ${spike.reason}`,
  });
  return `disabled`;
}

// ----- the command --------------------------------------------------------------------------------------------------

export async function runWatch(opts: WatchOptions, ctx: CapitContext): Promise<number> {
  // Every input check before the first request.
  const intervalMs = parseInterval(opts.interval);
  const targets = opts.notify.map(parseNotifyTarget);
  const {watch: settings} = loadCapitSettings(ctx.env, ctx.cwd);
  const notifier = createNotifier(targets, ctx.env, ctx.stderr);

  let stopping = false;
  let wake: (() => void) | undefined;
  const onSignal = (signal: NodeJS.Signals) => {
    if (stopping) {
      // A second signal: abandon the pass. watch.json is written atomically, so the last complete pass stays.
      ctx.stderr.write(`capit watch: ${signal} again; stopping now\n`);
      process.exit(0);
    }
    stopping = true;
    ctx.stderr.write(`capit watch: ${signal}; stopping after this pass\n`);
    wake?.();
  };
  process.on(`SIGINT`, onSignal);
  process.on(`SIGTERM`, onSignal);
  let alerted = false;
  let failedPass = false;
  const said = {errors: ``};
  try {
    if (!opts.once) ctx.stderr.write(`capit watch: polling every ${opts.interval}${opts.disableOnSpike ? `; a key that spikes is disabled` : ``} (Ctrl-C stops)\n`);
    while (!stopping) {
      const result = await onePass(ctx, settings, opts, notifier, said);
      alerted ||= result.alerts.length > 0;
      failedPass ||= result.failed;
      if (opts.once) break;
      if (stopping) break;
      await new Promise<void>(resolve => {
        const timer = setTimeout(resolve, intervalMs);
        wake = () => {
          clearTimeout(timer);
          resolve();
        };
      });
      wake = undefined;
    }
  } finally {
    process.off(`SIGINT`, onSignal);
    process.off(`SIGTERM`, onSignal);
  }
  if (opts.once) return alerted || failedPass ? 1 : 0;
  ctx.stderr.write(`capit watch: stopped\n`);
  return 0;
}

async function onePass(ctx: CapitContext, settings: WatchSettings, opts: WatchOptions, notifier: Notifier, said: {errors: string}): Promise<{alerts: WatchAlert[]; failed: boolean}> {
  let result: PassResult;
  try {
    result = await watchPass(ctx, {settings, disableOnSpike: opts.disableOnSpike});
  } catch (error) {
    // In a long watch a failed pass is one line and the next pass tries again; --once reports it through exit 1.
    if (error instanceof InputError && opts.once) throw error;
    ctx.stderr.write(`capit watch: this pass failed: ${redactText(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ` `).trim()}\n`);
    await closeSessions(ctx).catch(() => undefined);
    return {alerts: [], failed: true};
  }
  // A platform that stays unreachable is said once, not every interval; and said again when it is back.
  const errors = [...result.errors, ...(result.notConfigured ? [result.notConfigured] : [])].join(`\n`);
  if (errors !== said.errors) {
    for (const line of result.errors) ctx.stderr.write(`capit watch: ${line}\n`);
    if (result.notConfigured) ctx.stderr.write(`capit watch: ${result.notConfigured}\n`);
    if (errors === `` && !opts.once) ctx.stderr.write(`capit watch: every platform is listed again\n`);
    said.errors = errors;
  }
  const time = new Date(clock(ctx.env)).toLocaleTimeString(`en-GB`, {hour12: false});
  for (const alert of result.alerts) {
    ctx.stderr.write(`capit watch ${time}: ${alert.message}\n`);
    await notifier.send({
      title: alert.kind === `spike` ? `capit: ${alert.agent ?? alert.keyName} is spending fast` : `capit: ${alert.agent ?? alert.keyName} at ${alert.thresholdPercent} % of its cap`,
      message: alert.message,
      payload: {type: `capit.watch.alert`, time: new Date(clock(ctx.env)).toISOString(), ...alert},
    });
  }
  if (opts.once && result.alerts.length === 0 && result.errors.length === 0)
    ctx.stderr.write(`capit watch: ${result.watched} key${result.watched === 1 ? `` : `s`} watched, no alert\n`);
  return {alerts: result.alerts, failed: result.errors.length > 0};
}
