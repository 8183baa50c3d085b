// `capit why [agent]`: why an agent holding a capit key may have stopped. For each such agent: doctor's verdict (is
// the capped key even what it uses?), the key probed with its own secret (read from the file capit wrote, never
// printed), and the account's credits; then exactly one class and one fix line.
import type {CapitContext}        from '../context.js';
import {findPlatform}             from '../context.js';
import {CapitError, InputError}   from '../errors.js';
import {openDocument}             from '../files/document.js';
import {readAgentText}            from '../files/read.js';
import {checkHeadroom}            from '../issue/headroom.js';
import {formatUsd}                from '../issue/inputs.js';
import type {AccountCredits, AgentDefinition, KeyProbe, PlatformDefinition} from '../plugin.js';
import {loadPlugin}               from '../plugins/load.js';
import {callPlugin}               from '../platforms/context.js';
import {platformSession}          from '../platforms/session.js';
import {loadCapitSettings}        from '../state/config.js';
import {detectOnce}               from './detect.js';
import {doctor}                   from './doctor.js';
import type {DoctorReport, DoctorStatus} from './doctor.js';
import {environmentFor}           from './install.js';

export type WhyClass =
  | `window-cap` //     the key's daily/weekly/monthly cap is used up; it resets by itself
  | `lifetime-cap` //   the key's lifetime cap is used up
  | `disabled` //       the key is turned off
  | `expired` //        the key is past its expiry
  | `deleted` //        the provider no longer has the key
  | `no-credits` //     the account (not the key) is out of credits
  | `affordability` //  what remains is below one worst-case request: the provider's pre-check refuses it
  | `shadowed` //       a higher-precedence source wins over the capped key (doctor)
  | `redirected` //     the agent's config no longer holds the capped key (doctor: changed)
  | `other-host` //     a base URL sends the agent's requests to another host than the platform's (doctor: redirected)
  | `fine` //           nothing found that stops the agent
  | `unknown`; //       capit could not check (no probe for the platform, key file unreadable, provider error)

export interface WhyReport {
  agent: string;
  platform: string;
  keyName: string;
  keyId: string | null;
  class: WhyClass;
  /** One line saying what capit verified. */
  summary: string;
  /** One line saying what to do, or null when fine. */
  fix: string | null;
  capUsd: number | null;
  remainingUsd: number | null;
  /** ISO time of the next window reset (window-cap only). */
  resetsAt: string | null;
  creditsRemainingUsd: number | null;
  doctor: DoctorStatus;
}

/**
 * One worst-case request when capit knows neither the model's price nor the agent's max output: 16,000 output tokens
 * at $15 per million ≈ $0.24, rounded up. Below this, OpenRouter's pre-check ("can only afford N") may refuse requests
 * that send no `max_tokens` even though budget remains.
 */
export const DEFAULT_WORST_CASE_REQUEST_USD = 0.25;

/** The next reset of an OpenRouter-style window: midnight UTC; weeks start on Monday; months on the 1st. */
export function nextReset(window: `daily` | `weekly` | `monthly`, now: Date): Date {
  const d = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
  if (window === `weekly`) while (d.getUTCDay() !== 1) d.setUTCDate(d.getUTCDate() + 1);
  if (window === `monthly`) return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() + 1, 1));
  return d;
}

/**
 * The user's local time, e.g. `Mon 01:00 CET`, with the date when it is not today (`Mon 7 Dec 00:00 UTC`): a weekday
 * alone reads as today even when it means next week.
 */
export function localTime(date: Date, env: CapitContext[`env`], now: Date = new Date()): string {
  const timeZone = env.TZ?.trim() || undefined;
  const format = (opts: Intl.DateTimeFormatOptions, when: Date) => {
    try {
      return new Intl.DateTimeFormat(`en-GB`, {...opts, timeZone}).format(when);
    } catch {
      return new Intl.DateTimeFormat(`en-GB`, opts).format(when);
    }
  };
  const day: Intl.DateTimeFormatOptions = {year: `numeric`, month: `2-digit`, day: `2-digit`};
  const today = format(day, date) === format(day, now);
  const opts: Intl.DateTimeFormatOptions = {weekday: `short`, ...(today ? {} : {day: `numeric`, month: `short`}), hour: `2-digit`, minute: `2-digit`, hourCycle: `h23`, timeZoneName: `short`};
  return format(opts, date).replace(/,/g, ``);
}

/** The value of the key source capit writes, when it is a file and holds a string. Never leaves this module's caller. */
async function installedSecret(def: AgentDefinition, ctx: CapitContext, platform: string): Promise<string | null> {
  const envInfo = environmentFor(ctx);
  const detected = await detectOnce(def, envInfo);
  const source = def.keySources?.(envInfo, platform, detected).find(s => s.installs && (s.role === undefined || s.role === `key`));
  if (!source) return null;
  if (source.kind === `env`) return envInfo.env[source.name]?.trim() || null;
  try {
    const value = openDocument(source.format, await readAgentText(source.path), source.path).read(source.at);
    return typeof value === `string` && value.trim() ? value.trim() : null;
  } catch {
    return null;
  }
}

interface Facts {
  probe: KeyProbe | null;
  credits: AccountCredits | null;
  problem: string | null;
  /** One worst-case request of the agent's configured model, when its model and price are known. */
  worstCase: {model: string; usd: number} | null;
}

function classify(report: DoctorReport, facts: Facts, ctx: CapitContext): Omit<WhyReport, `agent` | `platform` | `keyName` | `keyId` | `doctor`> {
  const {agent} = report;
  const installed = report.installed!;
  const base = {capUsd: facts.probe?.capUsd ?? installed.capUsd, remainingUsd: facts.probe?.remainingUsd ?? null, resetsAt: null, creditsRemainingUsd: facts.credits?.remainingUsd ?? null};
  const reissue = `capit ${installed.platform} ${installed.capUsd ?? 5} --agent ${agent}`;
  // Checked first: whichever key wins, requests that go to another host are not capped by this platform at all.
  if (report.status === `redirected`) {
    const where = report.redirectedTo ? `to ${report.redirectedTo}` : `somewhere capit cannot read`;
    return {...base, class: `other-host`, summary: `${report.redirectedBy} sends ${agent}'s requests ${where}, not to ${installed.platform}: the capped key does not cap them`,
      fix: `unset or remove ${report.redirectedBy}`};
  }
  if (report.status === `shadowed` && report.deselectedBy) {
    // A selector that picks another provider (or none): unsetting it would not bring capit's entry back.
    const keys = report.shadowedBy.filter(label => label !== report.deselectedBy);
    return {...base, class: `shadowed`,
      summary: `the capped key is not used: ${report.deselectedBy} no longer selects capit's provider entry${keys.length > 0 ? `, and ${keys.join(`, `)} ${keys.length > 1 ? `win` : `wins`} over it` : ``}`,
      fix: `${keys.length > 0 ? `unset or remove ${keys.join(`, `)}; ` : ``}make ${report.deselectedBy} select capit's entry again, or install anew: ${reissue}`};
  }
  if (report.status === `shadowed`)
    return {...base, class: `shadowed`, summary: `the capped key is not used: ${report.shadowedBy.join(`, `)} wins over it`, fix: `unset or remove ${report.shadowedBy.join(`, `)}`};
  if (report.status === `changed`)
    return {...base, class: `redirected`, summary: report.message, fix: `capit restore ${agent}`};
  // doctor cannot show the capped key in use (a layer that does not parse, other files read): never "fine".
  if (report.status === `unknown`)
    return {...base, class: `unknown`, summary: report.message, fix: report.fixes[0] ?? null};
  const {probe, credits} = facts;
  if (!probe) return {...base, class: `unknown`, summary: facts.problem ?? `capit could not check the key`, fix: null};
  if (probe.state === `deleted`) return {...base, class: `deleted`, summary: `${installed.platform} no longer has key ${installed.keyName}`, fix: reissue};
  if (probe.state === `expired`)
    return {...base, class: `expired`, summary: `key ${installed.keyName} expired${probe.expiresAt ? ` at ${localTime(new Date(probe.expiresAt), ctx.env)}` : ``}`, fix: reissue};
  if (probe.state === `disabled`) return {...base, class: `disabled`, summary: `key ${installed.keyName} is disabled`, fix: `capit keys enable ${installed.keyName}`};
  if (probe.state === `rejected`)
    return {...base, class: `unknown`, summary: `${installed.platform} refuses the key in ${agent}'s config and capit cannot tell why (is it still ${installed.keyName}?)`, fix: `capit doctor ${agent}`};
  if (credits && credits.remainingUsd <= 0)
    return {...base, class: `no-credits`, summary: `the ${installed.platform} account is out of credits (total ${formatUsd(credits.totalUsd)}, used ${formatUsd(credits.usedUsd)}); the key's cap is not the problem`,
      fix: credits.topUpUrl ? `top up credits at ${credits.topUpUrl}` : `top up your ${installed.platform} account's credits`};
  const remaining = probe.remainingUsd;
  if (remaining !== null && remaining <= 0) {
    if (probe.reset) {
      const at = nextReset(probe.reset, new Date());
      const local = localTime(at, ctx.env);
      return {...base, resetsAt: at.toISOString(), class: `window-cap`, summary: `the ${probe.reset} cap of ${formatUsd(probe.capUsd ?? 0)} is used up; it resets at ${local}`,
        fix: `capit topup ${agent} ${suggestedTopup(ctx)} --for 2h (or wait: resets at ${local})`};
    }
    return {...base, class: `lifetime-cap`, summary: `the lifetime cap of ${formatUsd(probe.capUsd ?? 0)} is used up`, fix: `capit topup ${agent} ${suggestedTopup(ctx)}`};
  }
  // The agent's model's worst case when capit knows it (the same figure as the install's headroom check), else the default.
  const worstCaseUsd = facts.worstCase?.usd ?? DEFAULT_WORST_CASE_REQUEST_USD;
  if (remaining !== null && remaining < worstCaseUsd - 1e-8)
    return {...base, class: `affordability`,
      summary: facts.worstCase
        ? `only ${formatUsd(remaining)} remains, below one worst-case request on ${facts.worstCase.model} (${formatUsd(facts.worstCase.usd)}): ${installed.platform} refuses requests it cannot afford in full ("can only afford …")`
        : `only ${formatUsd(remaining)} remains, below one worst-case request (~${formatUsd(DEFAULT_WORST_CASE_REQUEST_USD)}): the provider may refuse requests ("can only afford …")`,
      fix: `set a smaller max output (max_tokens) for ${agent}, or capit topup ${agent} ${suggestedTopup(ctx)}`};
  return {...base, class: `fine`, summary: `key ${installed.keyName} works${remaining !== null ? ` (${formatUsd(remaining)} left)` : ``}`, fix: null};
}

/** The raise a fix line suggests: $5, or less when the configured top-up ceiling would refuse $5. */
function suggestedTopup(ctx: CapitContext): string {
  let ceiling = Infinity;
  try {
    const {topup} = loadCapitSettings(ctx.env, ctx.cwd);
    ceiling = Math.min(topup.maxUsd ?? Infinity, topup.maxPerDayUsd ?? Infinity);
  } catch {
    // A config that does not load: topup itself says so when it is run; the suggestion stays the default.
  }
  return String(Math.round(Math.min(5, ceiling) * 100) / 100);
}

function describe(error: unknown): string {
  return error instanceof CapitError ? error.message : (error as Error)?.message ?? String(error);
}

/**
 * Why each agent holding a capit key (or the one named) may have stopped. InputError for an unknown agent or a named
 * one without a capit key.
 */
export async function why(agentId: string | undefined, ctx: CapitContext): Promise<WhyReport[]> {
  const reports = (await doctor(agentId, ctx)).filter(r => r.installed !== null);
  if (agentId !== undefined && reports.length === 0)
    throw new InputError(`${agentId} holds no capit key (install one with: capit <platform> <usd> --agent ${agentId})`);
  const creditsByPlatform = new Map<string, Promise<AccountCredits | null>>();
  return Promise.all(reports.map(async report => {
    const installed = report.installed!;
    const facts: Facts = {probe: null, credits: null, problem: null, worstCase: null};
    if (report.status !== `shadowed` && report.status !== `redirected` && report.status !== `changed` && report.status !== `unknown`) {
      try {
        const platformPlugin = findPlatform(ctx.plugins, installed.platform);
        const agentPlugin = ctx.plugins.agents.find(a => a.manifest.id === report.agent);
        if (!platformPlugin || !agentPlugin) throw new Error(`the ${platformPlugin ? report.agent : installed.platform} plugin is not installed`);
        const session = await platformSession(platformPlugin, ctx);
        const def: PlatformDefinition = session.def;
        if (typeof def.probeKey !== `function`) throw new Error(`the ${installed.platform} plugin cannot probe keys`);
        const agentDef = await loadPlugin(agentPlugin) as AgentDefinition;
        const secret = await installedSecret(agentDef, ctx, installed.platform);
        if (!secret) throw new Error(`capit could not read the installed key from ${report.agent}'s config`);
        (session.pctx.http as {addSecret?: (s: string) => void}).addSecret?.(secret);
        facts.probe = await callPlugin(installed.platform, `probeKey`, () => def.probeKey!(session.pctx, {id: installed.keyId, name: installed.keyName, secret}), {env: ctx.env});
        if (typeof def.credits === `function`) {
          let credits = creditsByPlatform.get(installed.platform);
          if (!credits) creditsByPlatform.set(installed.platform, credits = callPlugin(installed.platform, `credits`, () => def.credits!(session.pctx), {env: ctx.env}).catch(() => null));
          facts.credits = await credits;
        }
        const remaining = facts.probe.remainingUsd;
        if (facts.probe.state === `ok` && remaining !== null && remaining > 0) {
          // A failed model or price lookup leaves the stated default in place (checkHeadroom never throws for it).
          const envInfo = environmentFor(ctx);
          const headroom = await checkHeadroom({plugin: platformPlugin, def, budgetUsd: remaining, budgetKind: `remaining`,
            agent: {def: agentDef, envInfo, detected: await detectOnce(agentDef, envInfo)}}, ctx);
          if (headroom.model !== null && headroom.worstCaseUsd !== null) facts.worstCase = {model: headroom.model, usd: headroom.worstCaseUsd};
        }
      } catch (error) {
        facts.problem = `capit could not check the key: ${describe(error)}`;
      }
    }
    const verdict = classify(report, facts, ctx);
    // Fixed field order, so `--json` reads the same every time: who, the verdict, then the numbers behind it.
    return {
      agent: report.agent, platform: installed.platform, keyName: installed.keyName, keyId: installed.keyId,
      class: verdict.class, summary: verdict.summary, fix: verdict.fix, capUsd: verdict.capUsd, remainingUsd: verdict.remainingUsd,
      resetsAt: verdict.resetsAt, creditsRemainingUsd: verdict.creditsRemainingUsd, doctor: report.status,
    };
  }));
}

export async function runWhy(opts: {agent?: string; json: boolean}, ctx: CapitContext): Promise<number> {
  const reports = await why(opts.agent, ctx);
  const failed = reports.some(r => r.class !== `fine`);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify(reports, null, 2)}\n`);
    return failed ? 1 : 0;
  }
  if (reports.length === 0) {
    ctx.stdout.write(`No agent holds a capit key. Install one with: capit <platform> <usd> --agent <agent>\n`);
    return 0;
  }
  const width = Math.max(...reports.map(r => r.agent.length));
  for (const report of reports) {
    ctx.stdout.write(`${report.agent.padEnd(width)}  ${report.class}: ${report.summary}\n`);
    if (report.fix) ctx.stdout.write(`${` `.repeat(width + 2)}fix: ${report.fix}\n`);
  }
  return failed ? 1 : 0;
}
