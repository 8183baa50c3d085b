// `capit keys delete|disable|enable <name|glob>`: resolve → show → confirm → act → one line per key.
import pc from 'picocolors';

import type {CapitContext}     from '../context.js';
import {InputError}            from '../errors.js';
import {confirm}               from '../ui/prompt.js';
import {withProgress}          from '../ui/progress.js';
import {deleteKeys, resolveKeys, setKeysDisabled} from './admin.js';
import type {KeyActionResult}  from './admin.js';
import {money, notConfiguredMessage} from './list.js';
import {checkPattern, isMatchAll} from './match.js';
import {closeSessions, requirePlatform} from '../platforms/session.js';

export type KeyVerb = `delete` | `disable` | `enable`;

export interface KeyActionCommandOptions {
  verb: KeyVerb;
  pattern: string;
  platform?: string;
  yes: boolean;
  json: boolean;
  all: boolean;
}

const PAST: Record<KeyVerb, string> = {delete: `deleted`, disable: `disabled`, enable: `enabled`};

/** Requests in flight per platform: `CAPIT_DELETE_CONCURRENCY` (1–64) overrides the default 8. */
export function concurrencyFrom(env: CapitContext[`env`]): number | undefined {
  const raw = env.CAPIT_DELETE_CONCURRENCY?.trim();
  if (!raw) return undefined;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1 || n > 64) throw new InputError(`CAPIT_DELETE_CONCURRENCY must be a whole number from 1 to 64 (got "${raw}")`);
  return n;
}

function plural(n: number, word = `key`): string {
  return `${n} ${word}${n === 1 ? `` : `s`}`;
}

export async function runKeyAction(opts: KeyActionCommandOptions, ctx: CapitContext): Promise<number> {
  try {
    return await keyAction(opts, ctx);
  } finally {
    await closeSessions(ctx);
  }
}

async function keyAction(opts: KeyActionCommandOptions, ctx: CapitContext): Promise<number> {
  const {verb} = opts;
  // Every input check comes before the first request.
  checkPattern(opts.pattern);
  if (opts.platform !== undefined) {
    checkPattern(opts.platform, `platform`);
    requirePlatform(opts.platform, ctx);
  }
  const concurrency = concurrencyFrom(ctx.env);
  if (isMatchAll(opts.pattern) && !opts.yes)
    throw new InputError(`"${opts.pattern}" matches every key: pass --yes to ${verb} them all`);
  if (!opts.yes && !ctx.interactive)
    throw new InputError(`Refusing to ${verb} keys without confirmation: pass --yes (no terminal to ask on)`);

  const c = pc.createColors(ctx.colorDepth > 1);
  const {keys, errors, listed, skipped, namedFailureExitCode} = await resolveKeys(opts.pattern, {platform: opts.platform, all: opts.all, progress: !opts.json}, ctx);
  for (const e of errors) ctx.stderr.write(`capit: ${e.platform}: ${e.message}\n`);

  // The kill switch with no master key anywhere: nothing was looked at, so "no key matches" would not be true.
  if (keys.length === 0 && listed.length === 0 && errors.length === 0 && skipped.length > 0)
    throw new InputError(`${notConfiguredMessage(skipped.map(s => s.platform))} Nothing was ${PAST[verb]}.`);

  if (keys.length === 0 && listed.length === 0) {
    // Every platform failed (reported above): nothing could be matched, let alone changed. A named platform's own
    // failure (e.g. no master key: exit 2) says it all.
    if (opts.json) writeJson(ctx, verb, [], errors);
    else if (namedFailureExitCode === undefined) ctx.stderr.write(`capit: no platform could be listed; nothing was ${PAST[verb]}\n`);
    return namedFailureExitCode ?? 1;
  }

  if (keys.length === 0) {
    const where = opts.platform ?? (errors.length > 0 ? listed.join(`, `) : `any configured platform`);
    const scope = opts.all ? `key` : `capit key`;
    if (opts.json) writeJson(ctx, verb, [], errors);
    else ctx.stderr.write(`capit: no ${scope} matches "${opts.pattern}" on ${where}${opts.all ? `` : ` (--all includes keys capit did not issue)`}\n`);
    return 1;
  }

  if (!opts.json || !opts.yes) {
    const out = opts.json ? ctx.stderr : ctx.stdout;
    out.write(`${verb[0]!.toUpperCase()}${verb.slice(1)} ${plural(keys.length)}:\n`);
    const shown = keys.length > 50 ? keys.slice(0, 50) : keys;
    for (const k of shown)
      out.write(`  ${k.name}  ${c.dim(`${k.platform}, ${money(k.spentUsd)}/${k.capUsd === null ? `no cap` : money(k.capUsd)}${k.agent ? `, in ${k.agent}` : ``}`)}\n`);
    if (shown.length < keys.length) out.write(`  … and ${keys.length - shown.length} more\n`);
  }
  if (!opts.yes && !await confirm(`${verb[0]!.toUpperCase()}${verb.slice(1)} ${plural(keys.length)}?`, ctx)) {
    ctx.stderr.write(`Cancelled; nothing was changed.\n`);
    return 1;
  }

  const onResult = opts.json ? undefined : (r: KeyActionResult) => {
    const where = c.dim(`(${r.platform})`);
    if (r.ok && r.note) ctx.stdout.write(`${c.dim(`unchanged`)}  ${r.name} ${where} ${c.dim(`— ${r.note}`)}\n`);
    else if (r.ok) ctx.stdout.write(`${c.green(PAST[verb])}  ${r.name} ${where}\n`);
    else ctx.stdout.write(`${c.red(`failed`)}  ${r.name} ${where}: ${r.error}\n`);
  };
  const Verbing = {delete: `Deleting`, disable: `Disabling`, enable: `Enabling`}[verb];
  const results = await withProgress(ctx, `${Verbing} keys… 0/${keys.length}`, progress => {
    let finished = 0;
    const onEach = (r: KeyActionResult) => {
      onResult?.(r);
      progress.update(`${Verbing} keys… ${++finished}/${keys.length}`);
    };
    return verb === `delete`
      ? deleteKeys(keys, ctx, {concurrency, onResult: onEach})
      : setKeysDisabled(keys, verb === `disable`, ctx, {concurrency, onResult: onEach});
  }, {enabled: !opts.json});
  const failed = results.filter(r => !r.ok);

  if (opts.json) {
    writeJson(ctx, verb, results, errors);
  } else {
    const ok = results.length - failed.length;
    const unchanged = results.filter(r => r.ok && r.note).length;
    const Past = `${PAST[verb][0]!.toUpperCase()}${PAST[verb].slice(1)}`;
    const extra = unchanged > 0 ? ` (${unchanged} ${unchanged === 1 ? `was` : `were`} already ${PAST[verb]})` : ``;
    // A platform that could not be listed was not acted on: the summary must not read like a complete kill switch.
    const unlisted = errors.length > 0 ? `; not ${PAST[verb]}: the keys of ${errors.map(e => e.platform).join(`, `)} (could not be listed)` : ``;
    ctx.stdout.write(failed.length === 0
      ? `${Past} ${plural(ok)}${extra}${unlisted}.\n`
      : `${Past} ${ok} of ${plural(results.length)}${extra}; ${failed.length} failed${unlisted}.\n`);
  }
  for (const line of agentNotes(verb, results)) ctx.stderr.write(`${line}\n`);
  return failed.length > 0 || errors.length > 0 ? 1 : 0;
}

/** Agents whose config now holds a dead (deleted or disabled) key, and what to do about it. */
export function agentNotes(verb: KeyVerb, results: KeyActionResult[]): string[] {
  if (verb === `enable`) return [];
  const agents = new Map<string, number>();
  for (const r of results) if (r.ok && r.agent) agents.set(r.agent, (agents.get(r.agent) ?? 0) + 1);
  return [...agents].map(([agent, n]) => verb === `delete`
    ? `${agent} now holds ${n === 1 ? `a deleted key` : `${n} deleted keys`}; run capit restore ${agent}`
    : `${agent} now holds ${n === 1 ? `a disabled key` : `${n} disabled keys`}; capit keys enable brings ${n === 1 ? `it` : `them`} back`);
}

/*
 * `capit keys delete|disable|enable … --json` — a stable shape:
 * {
 *   "action":  "delete" | "disable" | "enable",
 *   "results": [{"platform", "id", "name", "ok": true|false, "error"?: "one line", "agent": "opencode"|null,
 *                "note"?: "already deleted" | "already disabled" | "already enabled"}],
 *   "errors":  [{"platform", "message"}]     // platforms whose keys could not be listed
 * }
 * Exit code 0 when every key succeeded, 1 when any failed or nothing matched, 2 for bad input.
 */
function writeJson(ctx: CapitContext, verb: KeyVerb, results: KeyActionResult[], errors: {platform: string; message: string}[]) {
  ctx.stdout.write(`${JSON.stringify({action: verb, results, errors}, null, 2)}\n`);
}
