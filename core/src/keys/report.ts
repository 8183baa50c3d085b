// `capit report [--days 30] [--by day|model|agent] [--agent <id>] [--csv|--json]`: where the money went, per day, model
// and agent. Completed days come from the platform's own metering (`activity`, OpenRouter `GET /activity`), one call
// per capit key because the provider's rows name no key; each key's rows are joined with capit's ledger to name the
// agent. Today is not in that history: its partial spend comes from the key listing (`spentTodayUsd`), marked partial.
// A platform without such a history (AIHubMix) is said to be "not available", never estimated.
import pc from 'picocolors';

import type {CapitContext}     from '../context.js';
import {findAgent}             from '../context.js';
import {CapitError, InputError} from '../errors.js';
import {redactText}            from '../issue/redact.js';
import type {ActivityRow, PlatformDefinition} from '../plugin.js';
import {loadPlugin}            from '../plugins/load.js';
import type {DiscoveredPlugin} from '../plugins/discover.js';
import {callPlugin, displayName} from '../platforms/context.js';
import type {PlatformSession}  from '../platforms/session.js';
import {closeSessions, masterKeyEnvNames, masterKeyState, platformSession, storedCredentialsOrWarn} from '../platforms/session.js';
import {clock, readLedger}     from '../state/ledger.js';
import type {LedgerEntry}      from '../state/ledger.js';
import {capitPaths}            from '../state/paths.js';

const DAY_MS = 86_400_000;
/** OpenRouter keeps 30 completed days; more cannot be asked for. */
export const MAX_REPORT_DAYS = 30;
/** Activity calls in flight at once (one per capit key). */
const CONCURRENCY = 4;

export type ReportGrouping = `day` | `model` | `agent`;

export interface ReportOptions {
  /** As typed; default 30. */
  days?: string;
  by?: string;
  agent?: string;
}

/** One day, key and model. `partial`: today's spend so far, from the key listing (no model, requests or tokens). */
export interface ReportRow {
  date: string;
  platform: string;
  /** The agent capit installed the key into (ledger), or null for a key no agent held (e.g. a `capit run` session key). */
  agent: string | null;
  keyName: string;
  /** null for today's partial row: the listing reports spend per key, not per model. */
  model: string | null;
  usd: number;
  byokUsd: number;
  requests: number | null;
  promptTokens: number | null;
  completionTokens: number | null;
  partial: boolean;
}

export interface ReportTotals {
  usd: number;
  byokUsd: number;
  /** Over the rows that report them (today's partial rows do not). */
  requests: number;
  promptTokens: number;
  completionTokens: number;
}

export interface ReportGroup extends ReportTotals {
  /** The date, model or agent (`(none)` for keys no agent held; `(today, by key)` for the partial rows' model). */
  key: string;
  /** True when the group includes today's partial spend. */
  partial: boolean;
}

export interface Report {
  /** The first and last day covered (UTC, `YYYY-MM-DD`); `to` is today, partial. */
  from: string;
  to: string;
  /** Every day covered, oldest first. */
  days: string[];
  by: ReportGrouping | null;
  agent: string | null;
  rows: ReportRow[];
  /** The rows grouped by `by` (only with `by`), in the order of `days`, by spend, or by agent. */
  groups: ReportGroup[] | null;
  total: ReportTotals;
  /** Platforms whose usage history was read (even if it held nothing). */
  reported: string[];
  /** Platforms configured but without a usage history, with the reason. */
  unavailable: {platform: string; reason: string}[];
  /** Platforms (or keys) whose history could not be read; the others are still reported. */
  errors: {platform: string; message: string; code: string; exitCode: number}[];
}

/** `--days`: a whole number of days, 1 to 30. */
export function parseReportDays(input: string | undefined): number {
  if (input === undefined) return MAX_REPORT_DAYS;
  if (!/^\d+$/.test(input.trim())) throw new InputError(`Invalid --days ${JSON.stringify(input)}: expected a whole number of days from 1 to ${MAX_REPORT_DAYS}`);
  const days = Number(input.trim());
  if (days < 1 || days > MAX_REPORT_DAYS)
    throw new InputError(`Invalid --days ${input}: from 1 to ${MAX_REPORT_DAYS} (the provider keeps the last ${MAX_REPORT_DAYS} completed days)`);
  return days;
}

export function parseGrouping(input: string | undefined): ReportGrouping | null {
  if (input === undefined) return null;
  if (input === `day` || input === `model` || input === `agent`) return input;
  throw new InputError(`Invalid --by ${JSON.stringify(input)}: expected day, model or agent`);
}

const isoDay = (ms: number) => new Date(ms).toISOString().slice(0, 10);
const round6 = (usd: number) => Math.round(usd * 1e6) / 1e6;

/** The days covered: the last `days` completed UTC days and today, oldest first. */
export function reportDays(now: number, days: number): string[] {
  const today = Math.floor(now / DAY_MS);
  return Array.from({length: days + 1}, (_, i) => isoDay((today - days + i) * DAY_MS));
}

/** A key may have spent in the window: issued before its end and not deleted before its start. */
function inWindow(entry: LedgerEntry, firstDay: string): boolean {
  if (!entry.id || entry.status === `rolled-back`) return false;
  const gone = entry.deletedAt ?? null;
  return gone === null || gone.slice(0, 10) >= firstDay;
}

async function inBatches<T, R>(items: readonly T[], size: number, fn: (item: T) => Promise<R>): Promise<PromiseSettledResult<R>[]> {
  const out: PromiseSettledResult<R>[] = [];
  for (let i = 0; i < items.length; i += size) out.push(...await Promise.allSettled(items.slice(i, i + size).map(fn)));
  return out;
}

function failure(platform: string, error: unknown): Report[`errors`][number] {
  return {
    platform,
    message: redactText(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ` `).trim(),
    code: error instanceof CapitError ? error.code : `CAPIT_ERROR`,
    exitCode: error instanceof CapitError ? error.exitCode : 1,
  };
}

/** Configured platforms (a master key in the env or capit's store), each with its session; never prompts. */
async function configuredSessions(ctx: CapitContext): Promise<{sessions: PlatformSession[]; errors: Report[`errors`]}> {
  const platforms: DiscoveredPlugin[] = ctx.plugins.platforms;
  const stored = await storedCredentialsOrWarn(ctx, platforms);
  const sessions: PlatformSession[] = [];
  const errors: Report[`errors`] = [];
  for (const plugin of platforms) {
    try {
      const def = await loadPlugin(plugin) as PlatformDefinition;
      if (masterKeyState(masterKeyEnvNames(plugin, def), def.id, ctx.env, stored).source === `none`) continue;
      sessions.push(await platformSession(plugin, ctx));
    } catch (error) {
      errors.push(failure(plugin.manifest.id, error));
    }
  }
  return {sessions, errors};
}

/** The report's rows, before grouping: what the platforms metered, joined with capit's ledger. */
export async function collectReport(opts: {days: number; agent?: string | null}, ctx: CapitContext): Promise<Omit<Report, `by` | `groups`>> {
  const now = clock(ctx.env);
  const days = reportDays(now, opts.days);
  const firstDay = days[0]!;
  const today = days.at(-1)!;
  const ledger = await readLedger(capitPaths(ctx.env).state);
  const agent = opts.agent ?? null;
  const {sessions, errors} = await configuredSessions(ctx);
  const rows: ReportRow[] = [];
  const unavailable: Report[`unavailable`] = [];
  const reported: string[] = [];

  for (const session of sessions) {
    const {def, pctx, plugin} = session;
    const keys = ledger.filter(e => e.platform === def.id && inWindow(e, firstDay) && (agent === null || e.agent === agent));
    if (!def.activity) {
      unavailable.push({platform: def.id, reason: `not available for ${displayName(plugin)}: its API reports no per-day usage history`});
      continue;
    }
    const failedBefore = errors.length;
    if (keys.length === 0) {
      reported.push(def.id);
      continue;
    }
    const activity = def.activity.bind(def);
    const results = await inBatches(keys, CONCURRENCY, entry =>
      callPlugin(def.id, `activity`, () => activity(pctx, {days: opts.days, keyId: entry.id!})));
    results.forEach((result, i) => {
      const entry = keys[i]!;
      if (result.status === `rejected`) {
        // Once per cause: an unreachable provider fails every key's call the same way.
        const error = failure(def.id, result.reason);
        if (!errors.some(e => e.platform === error.platform && e.message === error.message)) errors.push(error);
        return;
      }
      for (const row of result.value as ActivityRow[]) {
        // The provider answers its whole history (30 days): keep the days asked for, never today (not complete there).
        if (row.date < firstDay || row.date >= today) continue;
        rows.push({date: row.date, platform: def.id, agent: entry.agent, keyName: entry.name, model: row.model,
          usd: round6(row.usageUsd), byokUsd: round6(row.byokUsageUsd), requests: row.requests,
          promptTokens: row.promptTokens, completionTokens: row.completionTokens, partial: false});
      }
    });
    // Today so far, from the listing's daily usage where the platform reports it.
    try {
      const byId = new Map(keys.map(e => [e.id!, e]));
      await callPlugin(def.id, `listKeys`, async () => {
        for await (const key of def.listKeys(pctx)) {
          const entry = byId.get(key.id);
          if (!entry || key.spentTodayUsd === undefined || key.spentTodayUsd <= 0) continue;
          rows.push({date: today, platform: def.id, agent: entry.agent, keyName: entry.name, model: null,
            usd: round6(key.spentTodayUsd), byokUsd: 0, requests: null, promptTokens: null, completionTokens: null, partial: true});
        }
      });
    } catch (error) {
      errors.push(failure(def.id, error));
    }
    if (errors.length === failedBefore) reported.push(def.id);
  }
  rows.sort((a, b) => a.date.localeCompare(b.date) || (a.agent ?? ``).localeCompare(b.agent ?? ``) || (a.model ?? `~`).localeCompare(b.model ?? `~`) || a.keyName.localeCompare(b.keyName));
  return {from: firstDay, to: today, days, agent, rows, total: totals(rows), reported, unavailable, errors};
}

function totals(rows: readonly ReportRow[]): ReportTotals {
  const t: ReportTotals = {usd: 0, byokUsd: 0, requests: 0, promptTokens: 0, completionTokens: 0};
  for (const r of rows) {
    t.usd += r.usd;
    t.byokUsd += r.byokUsd;
    t.requests += r.requests ?? 0;
    t.promptTokens += r.promptTokens ?? 0;
    t.completionTokens += r.completionTokens ?? 0;
  }
  t.usd = round6(t.usd);
  t.byokUsd = round6(t.byokUsd);
  return t;
}

const NO_AGENT = `(none)`;
const TODAY_MODEL = `(today, by key)`;

export function groupRows(rows: readonly ReportRow[], by: ReportGrouping): ReportGroup[] {
  const groups = new Map<string, ReportRow[]>();
  for (const row of rows) {
    const key = by === `day` ? row.date : by === `model` ? row.model ?? TODAY_MODEL : row.agent ?? NO_AGENT;
    const list = groups.get(key) ?? [];
    list.push(row);
    groups.set(key, list);
  }
  const out = [...groups].map(([key, list]) => ({key, ...totals(list), partial: list.some(r => r.partial)}));
  // Days in order; models and agents by spend, the largest first.
  return by === `day` ? out.sort((a, b) => a.key.localeCompare(b.key)) : out.sort((a, b) => b.usd - a.usd || a.key.localeCompare(b.key));
}

/** Every check that needs no request (exit 2 on bad input), then the report. */
export async function buildReport(opts: ReportOptions, ctx: CapitContext): Promise<Report> {
  const days = parseReportDays(opts.days);
  const by = parseGrouping(opts.by);
  if (opts.agent !== undefined) await checkAgent(opts.agent, ctx);
  const report = await collectReport({days, agent: opts.agent ?? null}, ctx);
  return {...report, by, groups: by === null ? null : groupRows(report.rows, by)};
}

/** `--agent`: an installed agent plugin, or an agent named in capit's ledger (its plugin may be gone since). */
async function checkAgent(agent: string, ctx: CapitContext): Promise<void> {
  if (findAgent(ctx.plugins, agent)) return;
  const ledger = await readLedger(capitPaths(ctx.env).state);
  if (ledger.some(e => e.agent === agent)) return;
  const {unknownAgent} = await import(`../ui/suggest.js`);
  throw new InputError(unknownAgent(agent, ctx.plugins.agents.map(a => a.manifest.id)));
}

// ----- output -----

/*
 * `capit report --json` — a stable shape (fields are only ever added):
 *
 * {
 *   "from": "2026-10-31", "to": "2026-11-30",       // UTC days; "to" is today (partial)
 *   "days": ["2026-10-31", …, "2026-11-30"],
 *   "by": "day" | "model" | "agent" | null,
 *   "agent": "claude" | null,                          // --agent
 *   "rows": [{"date": "2026-11-29", "platform": "openrouter", "agent": "claude" | null, "keyName": "claude-1a2b3c4d",
 *             "model": "anthropic/claude-sonnet-4.5" | null,   // null: today's partial row (per key, not per model)
 *             "usd": 1.25, "byokUsd": 0, "requests": 12 | null, "promptTokens": 3400 | null,
 *             "completionTokens": 900 | null, "partial": false}],
 *   "groups": [{"key": "2026-11-29", "usd": 1.25, "byokUsd": 0, "requests": 12, "promptTokens": 3400,
 *               "completionTokens": 900, "partial": false}] | null,          // only with --by
 *   "total": {"usd": 1.25, "byokUsd": 0, "requests": 12, "promptTokens": 3400, "completionTokens": 900},
 *   "reported": ["openrouter"],                        // platforms whose usage history was read in full
 *   "unavailable": [{"platform": "aihubmix", "reason": "not available for AIHubMix: …"}],
 *   "errors": [{"platform": "openrouter", "message": "…", "code": "CAPIT_OFFLINE"}]
 * }
 */
export function reportJson(report: Report) {
  return {
    from: report.from, to: report.to, days: report.days, by: report.by, agent: report.agent,
    rows: report.rows, groups: report.groups, total: report.total, reported: report.reported, unavailable: report.unavailable,
    errors: report.errors.map(({platform, message, code}) => ({platform, message, code})),
  };
}

/** One RFC 4180 field: quoted when it holds a comma, quote, CR or LF; quotes doubled. */
export function csvField(value: string | number | boolean | null): string {
  const text = value === null ? `` : String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, `""`)}"` : text;
}

/** RFC 4180: a header row, CRLF line ends. The rows, or the groups with --by; no totals row (a sum is one formula away). */
export function reportCsv(report: Report): string {
  const lines: (string | number | boolean | null)[][] = report.groups === null
    ? [[`date`, `platform`, `agent`, `key`, `model`, `usd`, `byok_usd`, `requests`, `prompt_tokens`, `completion_tokens`, `partial`],
      ...report.rows.map(r => [r.date, r.platform, r.agent, r.keyName, r.model, r.usd, r.byokUsd, r.requests, r.promptTokens, r.completionTokens, r.partial])]
    : [[report.by!, `usd`, `byok_usd`, `requests`, `prompt_tokens`, `completion_tokens`, `partial`],
      ...report.groups.map(g => [g.key, g.usd, g.byokUsd, g.requests, g.promptTokens, g.completionTokens, g.partial])];
  return lines.map(line => line.map(csvField).join(`,`)).join(`\r\n`) + `\r\n`;
}

const usdText = (usd: number) => `$${usd.toFixed(usd !== 0 && Math.abs(usd) < 0.01 ? 4 : 2)}`;

function table(header: string[], rows: string[][], rightAligned: ReadonlySet<number>): string[] {
  const widths = header.map((_, col) => Math.max(header[col]!.length, ...rows.map(r => r[col]!.length)));
  const line = (cells: string[]) => cells.map((cell, col) => (rightAligned.has(col) ? cell.padStart(widths[col]!) : cell.padEnd(widths[col]!))).join(`  `).trimEnd();
  return [line(header), ...rows.map(line)];
}

export function renderReport(report: Report, colors: boolean): string {
  const c = pc.createColors(colors);
  const out: string[] = [];
  const span = `${report.from} to ${report.to} (UTC; ${report.to} so far)`;
  const t = report.total;
  const totalRow = (first: string[]) => [...first, usdText(t.usd), t.requests ? String(t.requests) : `—`];
  if (report.rows.length === 0) {
    // Say only what was seen: nothing recorded on the platforms read, or nothing read at all (the reasons are on stderr).
    if (report.reported.length === 0) return ``;
    out.push(`No spend recorded on capit's keys${report.agent ? ` of ${report.agent}` : ``} on ${report.reported.join(`, `)} from ${span}.`);
  }
  else if (report.groups === null) {
    const rows = report.rows.map(r => [r.date, r.agent ?? NO_AGENT, r.model ?? TODAY_MODEL, usdText(r.usd) + (r.partial ? `*` : ``), r.requests === null ? `—` : String(r.requests)]);
    out.push(...table([`DATE`, `AGENT`, `MODEL`, `USD`, `REQUESTS`], [...rows, totalRow([`TOTAL`, ``, ``])], new Set([3, 4])));
  } else {
    const rows = report.groups.map(g => [g.key, usdText(g.usd) + (g.partial ? `*` : ``), g.requests ? String(g.requests) : `—`]);
    out.push(...table([report.by!.toUpperCase(), `USD`, `REQUESTS`], [...rows, totalRow([`TOTAL`])], new Set([1, 2])));
  }
  if (report.rows.length > 0) {
    const lines = out.splice(0);
    out.push(c.bold(lines[0]!), ...lines.slice(1, -1), c.bold(lines.at(-1)!));
    if (report.rows.some(r => r.partial)) out.push(c.dim(`* today so far, from the key listing (per key; no model, requests or tokens until the day is complete)`));
    out.push(c.dim(`${span}; completed days as the provider metered them`));
  }
  return `${out.join(`\n`)}\n`;
}

export interface ReportCommandOptions extends ReportOptions {
  csv: boolean;
  json: boolean;
}

export async function runReport(opts: ReportCommandOptions, ctx: CapitContext): Promise<number> {
  if (opts.csv && opts.json) throw new InputError(`Choose one of --csv and --json`);
  let report: Report;
  try {
    report = await buildReport(opts, ctx);
  } finally {
    await closeSessions(ctx);
  }
  for (const e of report.errors) ctx.stderr.write(`capit: ${e.platform}: ${e.message}\n`);
  // Said on stderr so CSV and JSON on stdout stay clean; JSON carries it too.
  for (const u of report.unavailable) ctx.stderr.write(`capit: ${u.platform}: ${u.reason}\n`);
  if (!opts.json && !opts.csv && report.reported.length + report.unavailable.length + report.errors.length === 0) {
    const {notConfiguredMessage} = await import(`./list.js`);
    ctx.stderr.write(`${notConfiguredMessage(ctx.plugins.platforms.map(p => p.manifest.id))}\n`);
  }
  if (opts.json) ctx.stdout.write(`${JSON.stringify(reportJson(report), null, 2)}\n`);
  else if (opts.csv) ctx.stdout.write(reportCsv(report));
  else ctx.stdout.write(renderReport(report, ctx.colorDepth > 1));
  return report.errors.length > 0 ? 1 : 0;
}

// ----- slice W2: the data behind the GUI's spend page (`GET /api/spend`) -----

export interface SpendSeries {
  /** Every day covered, oldest first; the last is today (partial). */
  days: string[];
  /** Agents with spend, the largest spender first (`(none)` for keys no agent held). */
  agents: string[];
  /** USD per agent, model and day; today's rows have model `(today, by key)` (the listing has no model split). */
  series: {agent: string; model: string; date: string; usd: number}[];
  /** Per agent, today's average burn since 00:00 UTC: the only rate the provider reports without polling over time. */
  burn: {agent: string; spentTodayUsd: number; usdPerHour: number; sinceUtc: string}[];
  unavailable: Report[`unavailable`];
  errors: {platform: string; message: string; code: string}[];
}

/** Per-agent per-day per-model USD for the GUI's spend page, and today's burn rate per agent. */
export async function spendSeries(ctx: CapitContext, opts: {days?: number} = {}): Promise<SpendSeries> {
  const report = await collectReport({days: opts.days ?? MAX_REPORT_DAYS}, ctx);
  const cells = new Map<string, {agent: string; model: string; date: string; usd: number}>();
  for (const r of report.rows) {
    const agent = r.agent ?? NO_AGENT;
    const model = r.model ?? TODAY_MODEL;
    const id = `${agent}\u0000${model}\u0000${r.date}`;
    const cell = cells.get(id) ?? {agent, model, date: r.date, usd: 0};
    cell.usd = round6(cell.usd + r.usd);
    cells.set(id, cell);
  }
  const byAgent = groupRows(report.rows, `agent`);
  const now = clock(ctx.env);
  const midnight = Math.floor(now / DAY_MS) * DAY_MS;
  const hours = Math.max((now - midnight) / 3_600_000, 1 / 60);
  const burn = groupRows(report.rows.filter(r => r.partial), `agent`).map(g => ({
    agent: g.key, spentTodayUsd: g.usd, usdPerHour: round6(g.usd / hours), sinceUtc: new Date(midnight).toISOString(),
  }));
  return {
    days: report.days, agents: byAgent.map(g => g.key), series: [...cells.values()], burn,
    unavailable: report.unavailable, errors: report.errors.map(({platform, message, code}) => ({platform, message, code})),
  };
}
