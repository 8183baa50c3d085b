// `capit topup <agent|key name> <usd> [--for <duration>]`: raise a capit key's cap at the provider, read the new cap
// back, and (with --for) record when to take the raise back. `applyDueTakeBacks` runs at the start of every capit
// command (commands/base.ts) and lowers the cap again, never below what the key has already spent.
import pc from 'picocolors';

import type {CapitContext}        from '../context.js';
import {findAgent, findPlatform}  from '../context.js';
import {CapitError, InputError, ProviderError} from '../errors.js';
import {withLock}                 from '../files/lock.js';
import {activeInstall}            from '../agents/install.js';
import {durationMs, formatUsd, parseAmount} from '../issue/inputs.js';
import {redactText}               from '../issue/redact.js';
import type {PlatformDefinition, ProviderKey} from '../plugin.js';
import {loadPlugin}               from '../plugins/load.js';
import {callPlugin}               from '../platforms/context.js';
import type {PlatformSession}     from '../platforms/session.js';
import {closeSessions, masterKeyEnvNames, masterKeyState, platformSession, requirePlatform, storedCredentials} from '../platforms/session.js';
import {appendAudit}              from '../state/audit.js';
import {loadCapitSettings}        from '../state/config.js';
import {clock, dueTopups, readLedger, rotationHeir, rotationLineage, updateLedger} from '../state/ledger.js';
import type {LedgerEntry, TopupRecord} from '../state/ledger.js';
import {capitPaths}               from '../state/paths.js';
import {confirm}                  from '../ui/prompt.js';
import {localTime}                from './list.js';

const DAY_MS = 86_400_000;
/** A timed raise longer than this is almost certainly a typo for a permanent one. */
const MAX_FOR_MS = 90 * DAY_MS;

/** `--for 30s|90m|2h|1d|1w`, up to 90 days. */
export function parseTopupDuration(input: string): number {
  const ms = durationMs(input, [`s`, `m`, `h`, `d`, `w`]);
  if (ms === undefined) throw new InputError(`Invalid --for ${JSON.stringify(input)}: expected a duration such as 30m, 2h or 1d`);
  if (ms === 0) throw new InputError(`Invalid --for ${JSON.stringify(input)}: the duration must be more than zero`);
  if (ms > MAX_FOR_MS) throw new InputError(`Invalid --for ${JSON.stringify(input)}: at most 90d; leave --for out for a permanent raise`);
  return ms;
}

const cents = (usd: number) => Math.round(usd * 100);
const fromCents = (c: number) => c / 100;
/** Spend rounded up to the cent: the floor a take-back never goes under. */
const spentFloorCents = (spentUsd: number) => Math.ceil(Math.round(spentUsd * 1e6) / 1e4);

function sameEntry(a: LedgerEntry, b: LedgerEntry): boolean {
  return a.platform === b.platform && (a.id !== undefined && b.id !== undefined ? a.id === b.id : a.name === b.name);
}

function oneLine(error: unknown): string {
  return redactText(error instanceof Error ? error.message : String(error)).replace(/\s+/g, ` `).trim();
}

/** The agent's active capit key (from its newest install), or the capit key with exactly that name. */
export async function resolveTopupTarget(target: string, ctx: CapitContext): Promise<LedgerEntry> {
  const stateDir = capitPaths(ctx.env).state;
  const ledger = await readLedger(stateDir);
  let entry: LedgerEntry | undefined;
  if (findAgent(ctx.plugins, target)) {
    const install = await activeInstall(stateDir, target, ledger);
    if (!install) throw new InputError(`${target} holds no capit key; install one first, e.g. capit openrouter 5 --agent ${target}`);
    entry = ledger.find(k => k.platform === install.platform && (install.keyId ? k.id === install.keyId : k.name === install.keyName));
    if (!entry) throw new InputError(`${target}'s key ${install.keyName} is not in capit's ledger; capit can only top up keys it recorded`);
  } else {
    const named = ledger.filter(k => k.name === target && k.status !== `rolled-back` && k.status !== `pending`);
    if (named.length === 0)
      throw new InputError(`No agent or capit key is named "${target}"; see capit agents and capit keys list`);
    entry = named.at(-1)!;
  }
  if (entry.status !== `active` || !entry.id)
    throw new InputError(`Key ${entry.name} is ${entry.status === `active` ? `not issued yet` : entry.status}; only an active key can be topped up`);
  return entry;
}

export interface TopupRequest {
  target: string;
  /** As typed: `5`, `$5`, `0.50`. */
  amount: string;
  /** As typed: `2h`; undefined = a permanent raise. */
  for?: string;
}

export interface TopupPlan {
  entry: LedgerEntry;
  amountCents: number;
  forMs: number | undefined;
  /** The ceilings in force (capit's config) and the files they came from. */
  maxUsd: number | undefined;
  maxPerDayUsd: number | undefined;
  configFiles: string[];
}

/** Every check that needs no request: amounts, the duration, the key, the configured ceiling. Throws InputError. */
export async function planTopup(req: TopupRequest, ctx: CapitContext): Promise<TopupPlan> {
  const amount = parseAmount(req.amount);
  const forMs = req.for === undefined ? undefined : parseTopupDuration(req.for);
  const entry = await resolveTopupTarget(req.target, ctx);
  const {topup: limits, files} = loadCapitSettings(ctx.env, ctx.cwd);
  const plan: TopupPlan = {entry, amountCents: amount.cents, forMs, maxUsd: limits.maxUsd, maxPerDayUsd: limits.maxPerDayUsd ?? limits.maxUsd, configFiles: files};
  if (limits.maxUsd !== undefined && amount.cents > cents(limits.maxUsd))
    throw new InputError(`A raise of ${formatUsd(amount.usd)} is over the configured ceiling topup.maxUsd = ${formatUsd(limits.maxUsd)}${where(plan)}; nothing was sent`);
  checkDailyCeiling(plan, entry, await readLedger(capitPaths(ctx.env).state), clock(ctx.env));
  return plan;
}

function where(plan: TopupPlan): string {
  return plan.configFiles.length > 0 ? ` (${plan.configFiles.join(`, `)})` : ``;
}

/**
 * Every raise in the last 24 hours counts, taken back or not: repeated short raises must not add up past the ceiling.
 * So do the raises of the keys this one replaced (`capit rotate`): a rotation must not reset the ceiling.
 */
function checkDailyCeiling(plan: TopupPlan, entry: LedgerEntry, ledger: readonly LedgerEntry[], now: number): void {
  if (plan.maxPerDayUsd === undefined) return;
  const recent = rotationLineage(ledger, entry).flatMap(k => k.topups ?? []).filter(t => Date.parse(t.at) > now - DAY_MS).reduce((sum, t) => sum + cents(t.amountUsd), 0);
  if (recent + plan.amountCents > cents(plan.maxPerDayUsd))
    throw new InputError(`${entry.name} was raised by ${formatUsd(fromCents(recent))} in the last 24 hours; another ${formatUsd(fromCents(plan.amountCents))} would pass the configured daily ceiling of ${formatUsd(plan.maxPerDayUsd)}${where(plan)}; nothing was sent`);
}

export interface TopupResult {
  platform: string;
  keyId: string;
  keyName: string;
  agent: string | null;
  amountUsd: number;
  oldCapUsd: number;
  newCapUsd: number;
  spentUsd: number;
  /** When the raise will be taken back (ISO), or null for a permanent raise. */
  until: string | null;
}

async function findKey(session: PlatformSession, id: string): Promise<ProviderKey | undefined> {
  const {def, pctx} = session;
  return callPlugin(def.id, `listKeys`, async () => {
    for await (const key of def.listKeys(pctx)) if (key.id === id) return key;
    return undefined;
  });
}

/**
 * Raises the cap and reads it back, holding capit's lock from the read of the current cap to the ledger record, so two
 * raises (or a raise and a take-back) never work from the same old cap. The ledger records the raise before the
 * request, so a killed run keeps its timer.
 */
export async function applyTopup(plan: TopupPlan, ctx: CapitContext, reason: string): Promise<TopupResult> {
  const stateDir = capitPaths(ctx.env).state;
  const session = await platformSession(requirePlatform(plan.entry.platform, ctx), ctx);
  return withLock(stateDir, async () => {
    // Re-read under the lock: another run may have raised this key since the plan was made.
    const ledger = await readLedger(stateDir);
    const entry = ledger.find(k => sameEntry(k, plan.entry));
    if (!entry || entry.status !== `active`) throw new InputError(`Key ${plan.entry.name} is no longer active in capit's ledger; nothing was raised`);
    const now = clock(ctx.env);
    checkDailyCeiling(plan, entry, ledger, now);
    const key = await findKey(session, entry.id!);
    if (!key) throw new CapitError(`CAPIT_NOT_FOUND`, `${entry.platform} no longer has key ${entry.name}; nothing was raised`, {hint: `Issue a new key, e.g. capit ${entry.platform} 5${entry.agent ? ` --agent ${entry.agent}` : ``}`});
    if (key.capUsd === null) throw new InputError(`Key ${entry.name} has no cap at ${entry.platform}; there is nothing to raise`);
    const oldCents = cents(key.capUsd);
    const newCents = oldCents + plan.amountCents;
    const record: TopupRecord = {
      at: new Date(now).toISOString(), amountUsd: fromCents(plan.amountCents), fromCapUsd: fromCents(oldCents), toCapUsd: fromCents(newCents),
      until: plan.forMs === undefined ? null : new Date(now + plan.forMs).toISOString(), state: `applying`,
    };
    const durable = record.until !== null;
    await updateLedger(stateDir, keys => keys.map(k => (sameEntry(k, entry) ? {...k, topups: [...(k.topups ?? []), record]} : k)), {durable});
    // Left `applying` on failure: if the request did reach the provider, a timed raise still gets taken back (never
    // below the cap before it), and the raise still counts towards the daily ceiling.
    const setCap = () => callPlugin(entry.platform, `updateKey`, () => session.def.updateKey(session.pctx, entry.id!, {capUsd: fromCents(newCents)}));
    let updated = await setCap();
    // A platform that sets "what remains" rather than the cap (AIHubMix: remain_quota, computed from the spend it read
    // just before) gives back any spend that landed in between: the cap reads back higher than asked. Set it again
    // from the spend now, so a $1 raise stays a $1 raise; a few tries, then refuse rather than leave it over.
    for (let retry = 0; retry < 3 && updated.capUsd !== null && cents(updated.capUsd) > newCents; retry++) updated = await setCap();
    if (updated.capUsd === null || cents(updated.capUsd) !== newCents) {
      const higher = updated.capUsd === null || cents(updated.capUsd) > newCents;
      throw new CapitError(`CAPIT_NOT_APPLIED`, `${entry.platform} reports the cap of ${entry.name} as ${updated.capUsd === null ? `none` : formatUsd(updated.capUsd)}, not ${formatUsd(fromCents(newCents))}${higher ? ` — HIGHER than asked (spend kept landing while capit set it)` : ``}`, {
        hint: higher ? `Lower it with your ${entry.platform} dashboard, or check it with capit keys list ${entry.name}` : `Check it with capit keys list ${entry.name}`,
      });
    }
    await updateLedger(stateDir, keys => keys.map(k => (sameEntry(k, entry)
      ? {...k, capUsd: fromCents(newCents), topups: (k.topups ?? []).map(t => (t.at === record.at && t.state === `applying` ? {...t, state: `applied` as const} : t))}
      : k)), {durable});
    await appendAudit(stateDir, {
      time: record.at, action: `topup`, platform: entry.platform, keyName: entry.name, keyId: entry.id!, agent: entry.agent,
      oldCapUsd: fromCents(oldCents), newCapUsd: fromCents(newCents), reason, until: record.until,
    });
    return {
      platform: entry.platform, keyId: entry.id!, keyName: entry.name, agent: entry.agent, amountUsd: record.amountUsd,
      oldCapUsd: record.fromCapUsd, newCapUsd: fromCents(newCents), spentUsd: updated.spentUsd, until: record.until,
    };
  }, {stderr: ctx.stderr});
}

export interface TopupCommandOptions extends TopupRequest {
  yes: boolean;
  json: boolean;
}

/** The CLI: plan (all input checks, no request) → confirm → raise → one line (or JSON). */
export async function runTopup(opts: TopupCommandOptions, ctx: CapitContext): Promise<number> {
  try {
    const plan = await planTopup(opts, ctx);
    const {entry} = plan;
    const what = `${formatUsd(fromCents(plan.amountCents))} on ${entry.name}${entry.agent ? ` (${entry.agent})` : ``}${opts.for ? ` for ${opts.for}` : ``}`;
    if (!opts.yes) {
      if (!ctx.interactive) throw new InputError(`Refusing to raise a cap without confirmation: pass --yes (no terminal to ask on)`);
      if (!await confirm(`Raise the cap by ${what}?`, ctx)) {
        ctx.stderr.write(`Cancelled; nothing was changed.\n`);
        return 1;
      }
    }
    const reason = [`capit topup`, opts.target, opts.amount, ...(opts.for ? [`--for`, opts.for] : [])].join(` `);
    const result = await applyTopup(plan, ctx, reason);
    if (opts.json) ctx.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
    else {
      const c = pc.createColors(ctx.colorDepth > 1);
      ctx.stdout.write(`${c.green(`raised`)}  ${result.keyName}${result.agent ? ` (${result.agent})` : ``}: cap ${formatUsd(result.oldCapUsd)} → ${formatUsd(result.newCapUsd)}, verified at ${result.platform}; spent ${formatUsd(result.spentUsd)}\n`);
      if (result.until) ctx.stdout.write(`Taken back at ${localTime(result.until)} by the first capit command after it (never below what is spent by then).\n`);
    }
    return 0;
  } finally {
    await closeSessions(ctx);
  }
}

// ----- take-backs -------------------------------------------------------------------------------------------------

/**
 * Takes back every due raise whose platform's master key is available without prompting (env or capit's store).
 * Never throws: the user's command goes on; a failure is one line on stderr and the raise stays due for the next
 * command. A raise whose platform has no master key here is left due, and said so once.
 */
export async function applyDueTakeBacks(ctx: CapitContext): Promise<void> {
  const stateDir = capitPaths(ctx.env).state;
  try {
    // A short wait only: a running install holds the lock, and the next command will do this just as well.
    await withLock(stateDir, () => takeBackUnderLock(ctx, stateDir), {maxWaitMs: 2_000, stderr: ctx.stderr});
  } catch (error) {
    if (error instanceof CapitError && error.code === `CAPIT_LOCKED`) return;
    ctx.stderr.write(`capit: could not take back a timed top-up: ${oneLine(error)}; the next capit command tries again\n`);
  } finally {
    await closeSessions(ctx);
  }
}

async function takeBackUnderLock(ctx: CapitContext, stateDir: string): Promise<void> {
  const now = clock(ctx.env);
  const ledger = await readLedger(stateDir);
  const due = ledger.filter(entry => dueTopups(entry, now).length > 0);
  if (due.length === 0) return;
  let stored: Awaited<ReturnType<typeof storedCredentials>> | undefined;
  const updates = new Map<LedgerEntry, (entry: LedgerEntry) => LedgerEntry>();

  for (const platformId of new Set(due.map(e => e.platform))) {
    const entries = due.filter(e => e.platform === platformId);
    const plugin = findPlatform(ctx.plugins, platformId);
    let session: PlatformSession | undefined;
    let unavailable: string | undefined;
    try {
      if (!plugin) unavailable = `the ${platformId} plugin is not installed`;
      else {
        const def = await loadPlugin(plugin) as PlatformDefinition;
        const envNames = masterKeyEnvNames(plugin, def);
        stored ??= await storedCredentials(ctx).catch(() => ({}));
        const state = masterKeyState(envNames, platformId, ctx.env, stored);
        if (state.source === `none`) unavailable = `no ${platformId} master key is set (${envNames.join(` or `) || `env`}, or capit platforms add ${platformId})`;
        else session = await platformSession(plugin, ctx);
      }
    } catch (error) {
      ctx.stderr.write(`capit: could not take back timed top-ups on ${platformId}: ${oneLine(error)}; the next capit command tries again\n`);
      continue;
    }
    if (!session) {
      for (const entry of entries) {
        const unsaid = dueTopups(entry, now).filter(t => !t.dueNoticeShown);
        if (unsaid.length === 0) continue;
        const total = unsaid.reduce((sum, t) => sum + cents(t.amountUsd), 0);
        ctx.stderr.write(`capit: the ${formatUsd(fromCents(total))} top-up on ${entry.name}${entry.agent ? ` (${entry.agent})` : ``} is due to be taken back, but ${unavailable}; it stays raised until a capit command runs with that master key set\n`);
        const ats = new Set(unsaid.map(t => t.at));
        updates.set(entry, e => ({...e, topups: (e.topups ?? []).map(t => (ats.has(t.at) ? {...t, dueNoticeShown: true} : t))}));
      }
      continue;
    }
    // A rotated key's raises are taken back on the key that replaced it (the successor was issued with the raised cap).
    const heirs = new Set(entries.map(entry => rotationHeir(ledger, entry)));
    for (const heir of heirs) {
      try {
        for (const [owner, change] of await takeBack(heir, ledger, session, ctx, stateDir, now)) {
          const before = updates.get(owner);
          updates.set(owner, before ? e => change(before(e)) : change);
        }
      } catch (error) {
        ctx.stderr.write(`capit: could not take back the top-up on ${heir.name}: ${oneLine(error)}; the next capit command tries again\n`);
      }
    }
  }
  if (updates.size === 0) return;
  await updateLedger(stateDir, keys => keys.map(k => {
    for (const [entry, change] of updates) if (sameEntry(k, entry)) return change(k);
    return k;
  }));
}

/**
 * The cap a key is meant to have once its due raises are gone, from capit's records, never from "the cap now minus
 * the raise" (so a take-back retried after a kill, or after a dashboard change, never lowers twice): the cap the
 * provider reported before the newest raise (on this key or a key it replaced), plus that raise unless it is over,
 * minus the timed raises that were on then and are over now.
 */
function intendedCapCents(records: readonly TopupRecord[], due: ReadonlySet<TopupRecord>): number {
  const ordered = [...records].sort((a, b) => a.at.localeCompare(b.at));
  const newest = ordered.at(-1)!;
  let total = cents(newest.fromCapUsd);
  if (newest.until === null || (newest.state !== `taken-back` && !due.has(newest))) total += cents(newest.amountUsd);
  for (const t of ordered.slice(0, -1)) {
    const endedSince = due.has(t) || (t.state === `taken-back` && t.takenBackAt !== undefined && t.takenBackAt > newest.at);
    if (t.until !== null && endedSince) total -= cents(t.amountUsd);
  }
  return total;
}

/**
 * Lowers one key's cap to what it is meant to be without its due raises (those of the keys it replaced included),
 * never below what it spent; returns the ledger change for each entry whose records it settled.
 */
async function takeBack(entry: LedgerEntry, ledger: readonly LedgerEntry[], session: PlatformSession, ctx: CapitContext, stateDir: string, now: number): Promise<Map<LedgerEntry, (e: LedgerEntry) => LedgerEntry>> {
  const lineage = rotationLineage(ledger, entry);
  const owned = lineage.map(owner => ({owner, due: dueTopups(owner, now)})).filter(o => o.due.length > 0);
  const records = owned.flatMap(o => o.due).sort((a, b) => a.until!.localeCompare(b.until!));
  const dueSet = new Set(records);
  const amount = records.reduce((sum, t) => sum + cents(t.amountUsd), 0);
  const at = new Date(now).toISOString();
  const settled = owned.some(o => o.owner === entry) ? owned : [...owned, {owner: entry, due: []}];
  const changes = (toUsd: number | null) => new Map(settled.map(({owner, due}) => {
    const ats = new Set(due.map(t => t.at));
    return [owner, (e: LedgerEntry): LedgerEntry => ({
      ...e, ...(toUsd !== null && sameEntry(e, entry) ? {capUsd: toUsd} : {}),
      topups: (e.topups ?? []).map(t => (ats.has(t.at) ? {...t, state: `taken-back` as const, takenBackAt: at, takenBackToUsd: toUsd} : t)),
    })];
  }));
  const audit = (oldCapUsd: number | null, newCapUsd: number | null, reason: string) => appendAudit(stateDir, {
    time: at, action: `take-back`, platform: entry.platform, keyName: entry.name, keyId: entry.id ?? null, agent: entry.agent,
    oldCapUsd, newCapUsd, reason, until: records.at(-1)!.until,
  });

  const key = entry.status === `deleted` || !entry.id ? undefined : await findKey(session, entry.id);
  if (!key || key.capUsd === null) {
    await audit(key?.capUsd ?? null, key?.capUsd ?? null, key ? `timer expired; the key has no cap, nothing to lower` : `timer expired; the key no longer exists`);
    return changes(null);
  }
  const current = cents(key.capUsd);
  const intended = intendedCapCents(lineage.flatMap(k => k.topups ?? []), dueSet);
  const spentFloor = spentFloorCents(key.spentUsd);
  // A raise a killed run left `applying` may never have reached the provider: never go below the cap before it.
  const floorBefore = Math.max(0, ...records.filter(t => t.state === `applying`).map(t => cents(t.fromCapUsd)));
  // Never raise: a cap already at or under the aim (a raise that never reached the provider, a lower dashboard cap) stays.
  const target = Math.min(current, Math.max(intended, floorBefore, spentFloor));
  const label = `${formatUsd(fromCents(amount))} top-up on ${entry.name}${entry.agent ? ` (${entry.agent})` : ``}`;
  if (target === current) {
    const heldBySpend = current > intended && spentFloor >= current;
    await audit(fromCents(current), fromCents(current), heldBySpend ? `timer expired; cap kept (spent ${formatUsd(key.spentUsd)})` : `timer expired; the cap was not above what it is meant to be`);
    ctx.stderr.write(heldBySpend
      ? `capit: the ${label} is over; its cap stays ${formatUsd(fromCents(current))} because ${formatUsd(key.spentUsd)} is already spent\n`
      : `capit: the ${label} is over; its cap is ${formatUsd(fromCents(current))} already, so there was nothing to take back\n`);
    return changes(fromCents(current));
  }
  // The aim is recorded before the request (what a killed take-back was doing); a retry recomputes the same aim from
  // the records, so one cut off after the provider applied it is never lowered again.
  await updateLedger(stateDir, keys => keys.map(k => {
    const own = owned.find(o => sameEntry(o.owner, k));
    if (!own) return k;
    const ats = new Set(own.due.map(t => t.at));
    return {...k, topups: (k.topups ?? []).map(t => (ats.has(t.at) ? {...t, takingBackToUsd: fromCents(target)} : t))};
  }), {durable: true});
  let updated: ProviderKey;
  try {
    updated = await callPlugin(entry.platform, `updateKey`, () => session.def.updateKey(session.pctx, entry.id!, {capUsd: fromCents(target)}));
  } catch (error) {
    if (error instanceof ProviderError && error.kind === `not-found`) {
      await audit(fromCents(current), null, `timer expired; the key no longer exists`);
      return changes(null);
    }
    throw error;
  }
  if (updated.capUsd === null || cents(updated.capUsd) !== target)
    throw new CapitError(`CAPIT_NOT_APPLIED`, `${entry.platform} reports the cap as ${updated.capUsd === null ? `none` : formatUsd(updated.capUsd)}, not ${formatUsd(fromCents(target))}`);
  const heldBySpend = target > intended && target === spentFloor;
  const taken = current - target;
  await audit(fromCents(current), fromCents(target), heldBySpend ? `timer expired; kept at what was spent` : `timer expired`);
  ctx.stderr.write(heldBySpend
    ? `capit: took back ${formatUsd(fromCents(taken))} of the ${label}: cap ${formatUsd(fromCents(current))} → ${formatUsd(fromCents(target))} (not lower: already spent ${formatUsd(key.spentUsd)})\n`
    : `capit: took back the ${label}: cap ${formatUsd(fromCents(current))} → ${formatUsd(fromCents(target))}\n`);
  return changes(fromCents(target));
}
