// The JSON API behind `capit serve`. Every operation calls the same core function as the CLI command.
import {randomBytes} from 'node:crypto';

import type {CapitContext}      from '../context.js';
import {findAgent}              from '../context.js';
import {CapitError, InputError, NetworkError, ProviderError} from '../errors.js';
import {describePlan, executeIssue, planIssue} from '../issue/issue.js';
import type {IssuePlan}         from '../issue/issue.js';
import {collectKeys, jsonKey}   from '../keys/list.js';
import {capitVersion}           from '../main.js';
import {formatError}            from '../report.js';
import {restoreAgentConfig}     from '../restore.js';
import {addMasterKey, listPlatformStatus, masterKeyFile, removeMasterKey} from '../admin/platforms.js';
import {doctor, listAgents}     from '../agents/index.js';
import {deleteKeys, resolveKeys, setKeysDisabled} from '../keys/admin.js';
import {requirePlatform, storedCredentials} from '../keys/session.js';
import {displayName}            from '../platforms.js';

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

/** A capit error as the page shows it: the CLI's own wording (`formatError`), plus an HTTP status. */
export function errorResponse(error: unknown): ApiResponse {
  if (error instanceof HttpError) return {status: error.status, body: {error: {message: `capit: ${error.message}`, code: error.code}}};
  const {text, exitCode} = formatError(error);
  let status = 500;
  if (error instanceof ProviderError || error instanceof NetworkError) status = 502;
  else if (error instanceof CapitError) status = error.exitCode === 2 ? 400 : 409;
  const code = error instanceof CapitError ? error.code : `CAPIT_INTERNAL`;
  return {status, body: {error: {message: text.trimEnd(), code, exitCode}}};
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
      platforms: a.manifest.kind === `agent` ? a.manifest.platforms ?? null : null,
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
      errors: listing.errors.map(e => ({platform: e.platform, message: `capit: ${e.platform}: ${e.message}`})),
      skipped: listing.skipped,
    });
  },

  'POST /api/keys/disable': (req, ctx) => keyAction(req, ctx, `disable`),
  'POST /api/keys/enable': (req, ctx) => keyAction(req, ctx, `enable`),
  'POST /api/keys/delete': (req, ctx) => keyAction(req, ctx, `delete`),

  // `capit <platform> <usd> --dry-run --json`: nothing is created or written; the plan is kept for the confirmation.
  'POST /api/issue/plan': async (req, ctx, state) => {
    const {body} = req;
    const plan = await planIssue({
      platform: str(body, `platform`, true), amount: str(body, `amount`, true), agent: str(body, `agent`),
      reset: str(body, `reset`), expires: str(body, `expires`), name: str(body, `name`),
      dryRun: true, yes: false, json: true, allowLarge: bool(body, `allowLarge`),
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
    let doctorError: string | null = null;
    try {
      reports = await doctor(undefined, ctx);
    } catch (error) {
      doctorError = formatError(error).text.trimEnd();
    }
    return ok({agents, doctor: reports, doctorError});
  },

  'GET /api/doctor': async (req, ctx) => ok({reports: await doctor(req.query.get(`agent`) || undefined, ctx)}),

  // `capit restore <agent> [--force]` (the page asked for the confirmation).
  'POST /api/agents/restore': async (req, ctx) => {
    const agent = str(req.body, `agent`, true);
    // Names a folder under backups/: an agent id, never a path.
    if (!findAgent(ctx.plugins, agent) && !/^[a-z][a-z0-9-]{1,31}$/.test(agent)) {
      const installed = ctx.plugins.agents.map(a => a.manifest.id).join(`, `) || `none`;
      throw new InputError(`Unknown agent "${agent}"; installed agents: ${installed}`);
    }
    const {report, keyName, platform} = await restoreAgentConfig(agent, {force: bool(req.body, `force`)}, ctx);
    return ok({agent, backupDir: report.backupDir, files: report.files, keyName: keyName ?? null, platform: platform ?? null});
  },

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
    if (errors.length > 0) return {status: 502, body: {error: {message: errors.map(e => `capit: ${e.platform}: ${e.message}`).join(`\n`), code: `CAPIT_PROVIDER_ERROR`}}};
    throw new InputError(`No key named "${name}" on ${platform}`);
  }
  const results = verb === `delete` ? await deleteKeys(keys, ctx) : await setKeysDisabled(keys, verb === `disable`, ctx);
  const failed = results.filter(r => !r.ok);
  return {status: failed.length > 0 ? 502 : 200, body: {
    results,
    ...(failed.length > 0 ? {error: {message: failed.map(r => `capit: ${r.name}: ${r.error ?? `failed`}`).join(`\n`), code: `CAPIT_KEY_ACTION_FAILED`}} : {}),
  }};
}

export async function handleApi(req: ApiRequest, baseCtx: CapitContext, state: ApiState): Promise<ApiResponse> {
  const route = routes[`${req.method} ${req.path}`];
  if (!route) {
    const exists = Object.keys(routes).some(r => r.endsWith(` ${req.path}`));
    return exists
      ? {status: 405, body: {error: {message: `capit: method ${req.method} not allowed on ${req.path}`, code: `CAPIT_BAD_METHOD`}}}
      : {status: 404, body: {error: {message: `capit: no such endpoint ${req.path}`, code: `CAPIT_NOT_FOUND`}}};
  }
  // A fresh context per request, as if each were one `capit` command (platform sessions are cached per context).
  const ctx: CapitContext = {...baseCtx};
  try {
    return await route(req, ctx, state);
  } catch (error) {
    return errorResponse(error);
  }
}
