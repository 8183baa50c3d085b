// The JSON API behind `capit serve`. Every operation calls the same core function as the CLI command.
import {randomBytes} from 'node:crypto';

import type {CapitContext}      from '../context.js';
import {findAgent}              from '../context.js';
import {CapitError, InputError, NetworkError, ProviderError} from '../errors.js';
import {listBackups}            from '../files/index.js';
import {describePlan, executeIssue, planIssue} from '../issue/issue.js';
import type {IssuePlan}         from '../issue/issue.js';
import {collectKeys, jsonKey}   from '../keys/list.js';
import {capitVersion}           from '../self.js';
import {restoreAgentConfig}     from '../issue/restore.js';
import {addMasterKey, listPlatformStatus, masterKeyFile, removeMasterKey} from '../platforms/master-keys.js';
import {doctor, listAgents}     from '../agents/index.js';
import {deleteKeys, resolveKeys, setKeysDisabled} from '../keys/admin.js';
import {requirePlatform, storedCredentials} from '../platforms/session.js';
import {displayName}            from '../platforms/context.js';
import {capitPaths}             from '../state/paths.js';
import {takeBackDueTopups}      from '../keys/due.js';
import {plainError, plainSentence} from './plain.js';
import {unknownAgent}           from '../ui/suggest.js';

export class HttpError extends Error {
  constructor(readonly status: number, readonly code: string, message: string) {
    super(message);
  }
}

export interface ApiRequest {
  method: string | undefined;
  path: string;
  query: URLSearchParams;
  body: Record<string, unknown> | undefined;
}

export interface ApiResponse {
  status: number;
  body: unknown;
}

export interface ApiState {
  /** Previewed plans waiting for "Create", by id; each is used once. */
  plans: Map<string, {plan: IssuePlan; expires: number}>;
}

const PLAN_TTL_MS = 10 * 60_000;

export function newApiState(): ApiState {
  return {plans: new Map()};
}

/** The error body every endpoint answers with: a plain sentence, the hint apart, a stable code. */
export function errorBody(message: string, code: string, hint: string | null = null, exitCode = 1) {
  return {error: {message: plainSentence(message), hint: hint === null ? null : plainSentence(hint), code, exitCode}};
}

/** A capit error as the page shows it (plain sentences, see plain.ts), plus an HTTP status. */
export function errorResponse(error: unknown): ApiResponse {
  if (error instanceof HttpError) return {status: error.status, body: errorBody(error.message, error.code, null, error.status === 401 || error.status === 403 ? 1 : 2)};
  let status = 500;
  if (error instanceof ProviderError || error instanceof NetworkError) status = 502;
  else if (error instanceof CapitError) status = error.exitCode === 2 ? 400 : 409;
  return {status, body: {error: plainError(error)}};
}

/** Agents with a capit backup that was not restored yet: the only ones a Restore button can do anything for. */
async function restorableAgents(ctx: CapitContext, agents: string[]): Promise<Set<string>> {
  const stateDir = capitPaths(ctx.env).state;
  const out = new Set<string>();
  await Promise.all(agents.map(async agent => {
    try {
      if ((await listBackups(stateDir, agent)).some(m => !m.restoredAt)) out.add(agent);
    } catch {
      // A damaged backup folder still deserves the button: restore then says what is wrong with it.
      out.add(agent);
    }
  }));
  return out;
}

/** Agents holding a key capit installed (slice B4): the only ones a Rotate button can do anything for. */
async function rotatableAgents(ctx: CapitContext): Promise<Set<string>> {
  try {
    const {heldKeys} = await import(`../issue/rotate.js`);
    const {readLedger} = await import(`../state/ledger.js`);
    return new Set(heldKeys(await readLedger(capitPaths(ctx.env).state)).keys());
  } catch {
    return new Set(); // an unreadable ledger is reported by the pages that need it
  }
}

/** The GUI previews only what it can then create: a platform without a master key is refused before the preview. */
async function requireMasterKey(platformId: string, ctx: CapitContext): Promise<void> {
  const plugin = requirePlatform(platformId, ctx);
  const status = (await listPlatformStatus(ctx)).find(p => p.id === plugin.manifest.id);
  if (!status || status.source !== `none`) return;
  const name = displayName(plugin);
  const envHint = status.envVar ? `, or set ${status.envVar} before starting capit serve` : ``;
  throw new CapitError(`CAPIT_NO_MASTER_KEY`, `No ${name} master key yet, so capit cannot create ${name} keys`, {
    exitCode: 2,
    hint: `Add one on the Platforms page (create it at ${status.setupUrl})${envHint}`,
  });
}

function str(body: Record<string, unknown> | undefined, name: string, required: true): string;
function str(body: Record<string, unknown> | undefined, name: string, required?: false): string | undefined;
function str(body: Record<string, unknown> | undefined, name: string, required = false): string | undefined {
  const value = body?.[name];
  if (value === undefined || value === null || value === ``) {
    if (required) throw new InputError(`Missing "${name}"`);
    return undefined;
  }
  if (typeof value === `number` && name === `amount`) return String(value);
  if (typeof value !== `string`) throw new InputError(`"${name}" must be a string`);
  return value;
}

function bool(body: Record<string, unknown> | undefined, name: string): boolean {
  const value = body?.[name];
  if (value === undefined || value === null) return false;
  if (typeof value !== `boolean`) throw new InputError(`"${name}" must be true or false`);
  return value;
}

type Handler = (req: ApiRequest, ctx: CapitContext, state: ApiState) => Promise<ApiResponse>;

const ok = (body: unknown): ApiResponse => ({status: 200, body});

const routes: Record<string, Handler> = {
  'GET /api/meta': async (_req, ctx) => ok({
    version: capitVersion(),
    platforms: ctx.plugins.platforms.map(p => ({id: p.manifest.id, displayName: p.manifest.displayName ?? p.manifest.id})),
    agents: ctx.plugins.agents.map(a => ({
      id: a.manifest.id, displayName: a.manifest.displayName ?? a.manifest.id,
      platforms: a.manifest.platforms ?? null,
    })),
  }),

  // `capit keys list --json`, with each failed platform worded as the CLI prints it on stderr.
  'GET /api/keys': async (req, ctx) => {
    const listing = await collectKeys({
      platform: req.query.get(`platform`) || undefined,
      glob: req.query.get(`glob`) || undefined,
      all: req.query.get(`all`) === `1` || req.query.get(`all`) === `true`,
    }, ctx);
    return ok({
      keys: listing.keys.map(jsonKey),
      errors: listing.errors.map(e => ({platform: e.platform, message: plainSentence(e.message)})),
      skipped: listing.skipped,
    });
  },

  'POST /api/keys/disable': (req, ctx) => keyAction(req, ctx, `disable`),
  'POST /api/keys/enable': (req, ctx) => keyAction(req, ctx, `enable`),
  'POST /api/keys/delete': (req, ctx) => keyAction(req, ctx, `delete`),

  // `capit <platform> <usd> --dry-run --json`: nothing is created or written; the plan is kept for the confirmation.
  'POST /api/issue/plan': async (req, ctx, state) => {
    const {body} = req;
    await requireMasterKey(str(body, `platform`, true), ctx);
    const plan = await planIssue({
      platform: str(body, `platform`, true), amount: str(body, `amount`, true), agent: str(body, `agent`),
      reset: str(body, `reset`), expires: str(body, `expires`), name: str(body, `name`),
      dryRun: true, yes: false, json: true, allowLarge: bool(body, `allowLarge`), model: str(body, `model`),
    }, ctx);
    const now = Date.now();
    for (const [id, entry] of state.plans) if (entry.expires < now) state.plans.delete(id);
    const planId = randomBytes(16).toString(`hex`);
    state.plans.set(planId, {plan, expires: now + PLAN_TTL_MS});
    return ok({planId, plan: describePlan(plan)});
  },

  'POST /api/issue': async (req, ctx, state) => {
    const planId = str(req.body, `planId`, true);
    const entry = state.plans.get(planId);
    if (!entry || entry.expires < Date.now())
      throw new InputError(`This preview has expired or was already used; preview the key again`);
    // The confirmed plan is exactly the one previewed (same key name, same diff), and it is used once.
    state.plans.delete(planId);
    const {secret, ...result} = await executeIssue(entry.plan, ctx);
    // The secret leaves the server only when there is no agent to install it into: the one-time reveal.
    return ok(entry.plan.stage || secret === undefined ? result : {...result, secret});
  },

  // `capit agents --json` plus `capit doctor --json` (which key each detected agent really uses: shadowing).
  'GET /api/agents': async (_req, ctx) => {
    const agents = await listAgents(ctx);
    let reports: Awaited<ReturnType<typeof doctor>> = [];
    let doctorError: ReturnType<typeof plainError> | null = null;
    try {
      reports = await doctor(undefined, ctx);
    } catch (error) {
      doctorError = plainError(error);
    }
    const restorable = await restorableAgents(ctx, agents.map(a => a.id));
    const rotatable = await rotatableAgents(ctx);
    return ok({agents: agents.map(a => ({...a, restorable: restorable.has(a.id), rotatable: rotatable.has(a.id)})), doctor: reports, doctorError});
  },

  'GET /api/doctor': async (req, ctx) => ok({reports: await doctor(req.query.get(`agent`) || undefined, ctx)}),

  // `capit why [agent] --json` (slice B1): the class and fix line per agent holding a capit key.
  'GET /api/why': async (req, ctx) => {
    const {why} = await import(`../agents/why.js`);
    return ok({reports: await why(req.query.get(`agent`) || undefined, ctx)});
  },

  // `capit restore <agent> [--force]` (the page asked for the confirmation).
  'POST /api/agents/restore': async (req, ctx) => {
    const agent = str(req.body, `agent`, true);
    // Names a folder under backups/: an agent id, never a path.
    if (!findAgent(ctx.plugins, agent) && !/^[a-z][a-z0-9-]{1,31}$/.test(agent)) {
      throw new InputError(unknownAgent(agent, ctx.plugins.agents.map(a => a.manifest.id)));
    }
    const {report, keyName, platform} = await restoreAgentConfig(agent, {force: bool(req.body, `force`)}, ctx);
    return ok({agent, backupDir: report.backupDir, files: report.files, keyName: keyName ?? null, platform: platform ?? null});
  },

  // ----- slice B4: `capit rotate <agent> --yes` (the page asked for the confirmation) -----
  'POST /api/agents/rotate': async (req, ctx) => {
    const agent = str(req.body, `agent`, true);
    const {heldKeys, rotateAgentKey} = await import(`../issue/rotate.js`);
    const {readLedger} = await import(`../state/ledger.js`);
    const held = heldKeys(await readLedger(capitPaths(ctx.env).state)).get(agent);
    if (!held) throw new InputError(`${agent} holds no key capit installed; issue one first`);
    const outcome = await rotateAgentKey(held, ctx);
    // Failed: nothing changed for the agent (its files still hold its previous key); the message says which step failed.
    if (outcome.status === `failed`) throw new CapitError(`CAPIT_ROTATE_FAILED`, outcome.message);
    return ok(outcome);
  },
  // ----- end of slice B4 -----
  // ----- slice B3 (topup): `capit topup <agent|key> <usd> [--for <duration>] --yes` (the page asked for the confirmation).
  'POST /api/topup': async (req, ctx) => {
    const {applyTopup, planTopup} = await import(`../keys/topup.js`);
    const request = {target: str(req.body, `target`, true), amount: str(req.body, `amount`, true), for: str(req.body, `for`)};
    const plan = await planTopup(request, ctx);
    const reason = [`capit serve: topup`, request.target, request.amount, ...(request.for ? [`--for`, request.for] : [])].join(` `);
    return ok(await applyTopup(plan, ctx, reason));
  },

  // ----- issue 15, slice W2 (report): the data behind the spend page -----
  /**
   * `GET /api/spend[?days=30]` → {@link import('../keys/report.js').SpendSeries}:
   * `{days: ["2026-10-31", …, today], agents: ["claude", …], series: [{agent, model, date, usd}],
   *   burn: [{agent, spentTodayUsd, usdPerHour, sinceUtc}], unavailable: [{platform, reason}], errors: [{platform, message, code}]}`.
   * Completed days are the provider's per-day per-model metering (`capit report`); today's cells have model
   * `(today, by key)` and `burn` is today's average since 00:00 UTC. `days` 1–30, else 400.
   */
  'GET /api/spend': async (req, ctx) => {
    const {parseReportDays, spendSeries} = await import(`../keys/report.js`);
    const days = parseReportDays(req.query.get(`days`) || undefined);
    const spend = await spendSeries(ctx, {days});
    return ok({...spend, errors: spend.errors.map(e => ({...e, message: plainSentence(e.message)}))});
  },
  // ----- end of slice W2 -----

  // Where each master key comes from; the key itself never leaves the server.
  'GET /api/platforms': async (_req, ctx) => {
    const [statuses, stored] = await Promise.all([listPlatformStatus(ctx), storedCredentials(ctx)]);
    return ok({platforms: statuses.map(p => ({
      id: p.id, displayName: p.displayName, setupUrl: p.setupUrl, envVar: p.envVar, source: p.source, stored: Boolean(stored[p.id]?.key),
    }))});
  },

  // `capit platforms add <p>`: validated against the provider, then stored 0600.
  'POST /api/platforms/add': async (req, ctx) => {
    const plugin = requirePlatform(str(req.body, `platform`, true), ctx);
    const key = str(req.body, `key`, true);
    if (key.trim() === ``) throw new InputError(`No master key given`);
    await addMasterKey(plugin.manifest.id, key, ctx);
    const status = (await listPlatformStatus(ctx)).find(p => p.id === plugin.manifest.id);
    const name = displayName(plugin);
    const lines = [`The ${name} master key works and is stored in ${masterKeyFile(ctx)} (readable only by you).`];
    if (status?.source === `env`) lines.push(`Note: ${status.envVar} is set and takes precedence over the stored key.`);
    return ok({platform: plugin.manifest.id, stored: true, message: lines.join(`\n`)});
  },

  // `capit platforms remove <p> --yes` (the page asked for the confirmation).
  'POST /api/platforms/remove': async (req, ctx) => {
    const plugin = requirePlatform(str(req.body, `platform`, true), ctx);
    const name = displayName(plugin);
    const removed = await removeMasterKey(plugin.manifest.id, ctx);
    const status = (await listPlatformStatus(ctx)).find(p => p.id === plugin.manifest.id);
    const envNote = status?.source === `env` ? ` (${status.envVar} is set and still provides one)` : ``;
    return ok({platform: plugin.manifest.id, removed, message: removed
      ? `Removed the stored ${name} master key from ${masterKeyFile(ctx)}${envNote}.`
      : `No stored ${name} master key; nothing to remove${envNote}.`});
  },
};

async function keyAction(req: ApiRequest, ctx: CapitContext, verb: `disable` | `enable` | `delete`): Promise<ApiResponse> {
  const platform = str(req.body, `platform`, true);
  const name = str(req.body, `name`, true);
  const id = str(req.body, `id`);
  // The row the user clicked: that name on that platform (and that id when given), never every key a glob matches.
  const {keys: found, errors} = await resolveKeys(name, {platform, all: true}, ctx);
  const keys = found.filter(k => k.name === name && (id === undefined || k.id === id));
  if (keys.length === 0) {
    if (errors.length > 0) return {status: 502, body: errorBody(errors.map(e => plainSentence(e.message)).join(` `), `CAPIT_PROVIDER_ERROR`)};
    throw new InputError(`No key named "${name}" on ${platform}`);
  }
  const results = verb === `delete` ? await deleteKeys(keys, ctx) : await setKeysDisabled(keys, verb === `disable`, ctx);
  const failed = results.filter(r => !r.ok);
  return {status: failed.length > 0 ? 502 : 200, body: {
    results,
    ...(failed.length > 0 ? errorBody(failed.map(r => `Could not ${verb} ${r.name}: ${plainSentence(r.error ?? `failed`)}`).join(` `), `CAPIT_KEY_ACTION_FAILED`) : {}),
  }};
}

export async function handleApi(req: ApiRequest, baseCtx: CapitContext, state: ApiState): Promise<ApiResponse> {
  const route = routes[`${req.method} ${req.path}`];
  if (!route) {
    const exists = Object.keys(routes).some(r => r.endsWith(` ${req.path}`));
    return exists
      ? {status: 405, body: errorBody(`Method ${req.method} is not allowed on ${req.path}`, `CAPIT_BAD_METHOD`, null, 2)}
      : {status: 404, body: errorBody(`No such endpoint ${req.path}`, `CAPIT_NOT_FOUND`, null, 2)};
  }
  // A fresh context per request, as if each were one `capit` command (platform sessions are cached per context).
  const ctx: CapitContext = {...baseCtx};
  try {
    // slice B3 (topup): the GUI runs for hours; a timed top-up whose time is up is taken back before the next request.
    await takeBackDueTopups(ctx);
    return await route(req, ctx, state);
  } catch (error) {
    // A bug shows one plain line on the page; its stack goes to the terminal that runs `capit serve`.
    if (!(error instanceof CapitError) && !(error instanceof HttpError) && !(error as {clipanion?: unknown})?.clipanion)
      ctx.stderr.write(`capit serve: internal error in ${req.method} ${req.path}\n${(error as Error)?.stack ?? String(error)}\n`);
    return errorResponse(error);
  }
}
