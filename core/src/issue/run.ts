// `capit run … -- <command…>`: a session key for one process. The key is minted with a cap and an expiry, recorded in
// the ledger as a session key before the child starts, handed to the child only through the variables the agent
// plugin declares in `sessionEnv` (no agent file is touched), and deleted when the child ends.
import {spawn}       from 'node:child_process';
import fs            from 'node:fs';
import os            from 'node:os';
import path          from 'node:path';

import type {CapitContext}  from '../context.js';
import {findAgent, findPlatform} from '../context.js';
import {CapitError, InputError, ProviderError} from '../errors.js';
import {withLock}           from '../files/lock.js';
import type {AgentDefinition, CreatedKey, PlatformContext, PlatformDefinition, ProviderKey, SessionEnv} from '../plugin.js';
import type {DiscoveredAgent} from '../plugins/discover.js';
import {loadPlugin}         from '../plugins/load.js';
import {callPlugin, displayName, managementBaseUrl} from '../platforms/context.js';
import {RUN_SESSION_ENV}    from '../platforms/context.js';
import {masterKeyEnvNames, openPlatformSession} from '../platforms/session.js';
import {readLedger, updateLedger} from '../state/ledger.js';
import type {LedgerEntry}   from '../state/ledger.js';
import {capitPaths}         from '../state/paths.js';
import {unknownAgent, unknownPlatform} from '../ui/suggest.js';
import {detectOnce}         from '../agents/detect.js';
import {checkHeadroom}    from './headroom.js';
import {crashPoint}         from './crash.js';
import {formatUsd, makeKeyName, parseAmount, parseExpiry, parseReset} from './inputs.js';
import {agentEnvironment}   from './issue.js';
import {newPlaceholder}     from './placeholder.js';
import {deleteByName, recoverInterruptedInstalls} from './recover.js';
import {redactText}         from './redact.js';
import {checkSources, describeRedirect, describeSelectorShadow, findRedirect, findSelectorShadow, inspectSources, isKeySource, platformHosts, platformOrigins} from './shadows.js';

export interface RunOptions {
  platform: string;
  /** Required; optional here so its absence gets capit's own message rather than the parser's. */
  cap?: string;
  ttl?: string;
  reset?: string;
  agent?: string;
  /** `--model`: the model the cap is checked against (default: the agent's configured one). */
  model?: string;
  allowLarge?: boolean;
  /** The command and its arguments, as given after `--`. */
  command: readonly string[];
}

export const DEFAULT_TTL = `8h`;
/** The longest `--ttl`: a session key a killed run leaves must not outlive it by more than a week. */
export const MAX_TTL_MS = 7 * 24 * 60 * 60 * 1000;

// Signals a user or a process manager sends to capit that the child must see too.
const FORWARDED: readonly NodeJS.Signals[] = [`SIGINT`, `SIGTERM`, `SIGHUP`];

interface RunPlan {
  platformDef: PlatformDefinition;
  platformName: string;
  platformPlugin: NonNullable<ReturnType<typeof findPlatform>>;
  agentDef: AgentDefinition;
  agentId: string;
  capUsd: number;
  reset: ReturnType<typeof parseReset>;
  expiresAt: Date;
  keyName: string;
  executable: string;
  /** The session env built for `secret`, checked once with a placeholder before any key exists. */
  sessionEnv(secret: string): Promise<SessionEnv>;
}

/** The agent a command starts: `--agent`, else the one whose id or detected binary is the command's basename. */
export function inferAgent(command: string, agents: readonly DiscoveredAgent[]): DiscoveredAgent | undefined {
  const base = path.basename(command).replace(/\.(exe|cmd|bat|js|mjs)$/i, ``);
  return agents.find(a => a.manifest.id === base)
    ?? agents.find(a => (a.manifest as {detect?: {bin?: string}}).detect?.bin === base);
}

/** The executable a command names: a path as given, else the first match on PATH. Undefined when there is none. */
export function findExecutable(command: string, env: Readonly<Record<string, string | undefined>>, cwd: string): string | undefined {
  const isFile = (file: string) => {
    try {
      fs.accessSync(file, fs.constants.X_OK);
      return fs.statSync(file).isFile();
    } catch {
      return false;
    }
  };
  if (command.includes(`/`) || command.includes(path.sep)) {
    const file = path.resolve(cwd, command);
    return isFile(file) ? file : undefined;
  }
  const exts = process.platform === `win32` ? (env.PATHEXT ?? `.EXE;.CMD;.BAT`).split(`;`) : [``];
  for (const dir of (env.PATH ?? ``).split(path.delimiter).filter(Boolean))
    for (const ext of exts) if (isFile(path.join(dir, command + ext))) return path.join(dir, command + ext);
  return undefined;
}

/** `--ttl 8h`: a duration only (a session lasts minutes to days; a calendar date is for `--expires`). */
function parseTtl(input: string | undefined, now: Date): Date {
  const text = input ?? DEFAULT_TTL;
  if (!/^\d+[mhdw]$/i.test(text)) throw new InputError(`Invalid --ttl ${JSON.stringify(text)}: expected a duration such as 30m, 8h, 2d or 1w`);
  const expiresAt = parseExpiry(text, now)!;
  if (expiresAt.getTime() - now.getTime() > MAX_TTL_MS)
    throw new InputError(`--ttl ${text} is too long: a capit run session lasts at most 7d (a key a killed run leaves lives until it expires)`);
  return expiresAt;
}

/** Checks the input and the agent before any key exists: nothing is created for a command capit would refuse. */
async function planRun(opts: RunOptions, ctx: CapitContext): Promise<RunPlan> {
  const [command] = opts.command;
  if (command === undefined || command === ``) throw new InputError(`A command is needed after "--", e.g. capit run --cap 3 -- opencode`);
  const platformPlugin = findPlatform(ctx.plugins, opts.platform);
  if (!platformPlugin) throw new InputError(unknownPlatform(opts.platform, ctx.plugins.platforms.map(p => p.manifest.id), {suggestPlugin: true}));
  if (opts.cap === undefined) throw new InputError(`capit run needs --cap <usd>, the session's hard cap, e.g. capit run --cap 3 -- ${command}`);
  const amount = parseAmount(opts.cap, {allowLarge: opts.allowLarge});
  const reset = parseReset(opts.reset);
  const expiresAt = parseTtl(opts.ttl, new Date());
  let agentPlugin: DiscoveredAgent | undefined;
  if (opts.agent !== undefined) {
    agentPlugin = findAgent(ctx.plugins, opts.agent);
    if (!agentPlugin) throw new InputError(unknownAgent(opts.agent, ctx.plugins.agents.map(a => a.manifest.id)));
  } else {
    agentPlugin = inferAgent(command, ctx.plugins.agents);
    if (!agentPlugin)
      throw new InputError(`capit cannot tell which agent "${path.basename(command)}" is: pass --agent <id> (\`capit agents\` lists them)`);
  }
  const executable = findExecutable(command, ctx.env, ctx.cwd);
  if (!executable) throw new InputError(`Command not found: ${command}; nothing was created`);

  const platformDef = await loadPlugin(platformPlugin) as PlatformDefinition;
  const platformName = displayName(platformPlugin);
  if (reset && platformDef.resetWindows && !platformDef.resetWindows.includes(reset))
    throw new InputError(`${platformName} cannot reset a cap ${reset}; drop --reset for a lifetime cap`);
  const agentDef = await loadPlugin(agentPlugin) as AgentDefinition;
  const supported = await callPlugin(agentDef.id, `supports`, () => agentDef.supports(platformDef.id));
  if (supported !== true) throw new InputError(`${agentDef.id} cannot use ${platformDef.id} keys: ${supported}`);
  const sessionEnvOf = agentDef.sessionEnv;
  if (typeof sessionEnvOf !== `function`)
    throw new InputError(`Cannot run ${agentDef.id} with a session key: its plugin declares no sessionEnv (no variable known to win over its files)`);
  const envInfo = agentEnvironment(ctx);
  const detected = await detectOnce(agentDef, envInfo);
  const baseUrls = await callPlugin(platformDef.id, `inferenceBaseUrls`, () => platformDef.inferenceBaseUrls(managementBaseUrl(platformDef, ctx.env)));
  const sessionEnv = async (secret: string): Promise<SessionEnv> => {
    const answer = await callPlugin(agentDef.id, `sessionEnv`, () => sessionEnvOf.call(agentDef, {platform: platformDef.id, secret, baseUrls}, envInfo, detected));
    if (typeof answer === `string`) throw new InputError(`Cannot run ${agentDef.id} with a session key: ${answer}`);
    return answer;
  };

  // Everything that would beat the session's variables, read before a key exists.
  const planned = await sessionEnv(newPlaceholder());
  checkSources(agentDef.id, `sessionEnv().beatenBy`, planned.beatenBy ?? []);
  const beating = await inspectSources(planned.beatenBy ?? [], envInfo);
  const winners = beating.filter(s => isKeySource(s.source) && (s.present || s.unreadable));
  // A base URL among them refuses only when it sends the requests away from the platform (the first one set decides).
  const redirect = findRedirect(beating, platformOrigins(baseUrls));
  // A selector among them refuses when it is set and picks another provider than the one the session's variables feed
  // (none set leaves the session's own choice in place: `capit run` writes no selector).
  const selectorShadow = findSelectorShadow(beating);
  const selector = selectorShadow?.how === `other` ? selectorShadow : null;
  if (winners.length > 0 || redirect || selector) {
    const why = [
      ...winners.map(s => `${s.label} ${s.unreadable ? `could not be read` : `is set`}${s.source.note ? ` (${s.source.note})` : ``}`),
      ...(selector ? [describeSelectorShadow(selector)] : []),
      ...(redirect ? [describeRedirect(redirect, platformHosts(baseUrls))] : []),
    ].join(`; `);
    const outcome = winners.length > 0 || selector ? `${agentDef.id} would not use the session key` : `${agentDef.id}'s requests would not go to ${platformHosts(baseUrls)}`;
    throw new InputError(`Cannot run ${agentDef.id} with a session key: ${why}, so ${outcome}; nothing was created`,
      [...winners, ...(selector ? [selector.state] : []), ...(redirect ? [redirect.state] : [])].some(s => s.source.kind === `file`) ? `Remove that setting (\`capit restore ${agentDef.id}\` if capit installed it) or run without capit run.` : undefined);
  }
  // The same headroom preflight as an install: a session cap below one worst-case request of the agent's model is
  // refused by the provider's affordability check before the agent gets anything done.
  const headroom = await checkHeadroom({plugin: platformPlugin, def: platformDef, budgetUsd: amount.usd, model: opts.model, agent: {def: agentDef, envInfo, detected}}, ctx);
  if (headroom.warning) ctx.stderr.write(`warning: ${headroom.warning}\n`);
  if (headroom.note) ctx.stderr.write(`note: ${headroom.note}\n`);
  return {
    platformDef, platformName, platformPlugin, agentDef, agentId: agentDef.id, capUsd: amount.usd, reset, expiresAt,
    keyName: makeKeyName(`${agentDef.id}-run`, platformDef.maxNameLength), executable, sessionEnv,
  };
}

/** `capit run`: returns the child's exit code (128 + the signal number when a signal ended it). */
export async function runSession(opts: RunOptions, ctx: CapitContext): Promise<number> {
  const plan = await planRun(opts, ctx);
  const {platformDef, keyName, agentId} = plan;
  const paths = capitPaths(ctx.env);
  const {pctx} = await openPlatformSession(plan.platformPlugin, ctx, platformDef);

  const created = await mintSessionKey(plan, pctx, ctx);
  crashPoint(`run-after-record`, ctx.env);
  const env = await plan.sessionEnv(created.secret).catch(async error => {
    await endSession(plan, pctx, created, ctx);
    throw error;
  });
  ctx.stderr.write(`capit: ${agentId} gets session key "${keyName}" (${formatUsd(plan.capUsd)} cap, expires ${plan.expiresAt.toISOString()}); it is deleted when the command ends\n`);

  let outcome: {code: number | null; signal: NodeJS.Signals | null};
  let recorded: Promise<void> = Promise.resolve();
  try {
    outcome = await runChild(plan.executable, opts.command.slice(1), {...childEnv(ctx, platformDef, keyName), ...env.env}, ctx, childPid => {
      recorded = recordChild(plan, childPid, ctx);
    });
  } catch (error) {
    await recorded;
    await endSession(plan, pctx, created, ctx);
    throw new CapitError(`CAPIT_RUN_FAILED`, `Could not start ${opts.command[0]}: ${redactText((error as Error).message, [created.secret])}`);
  }
  await recorded;
  await endSession(plan, pctx, created, ctx);
  if (outcome.signal) return 128 + (os.constants.signals[outcome.signal] ?? 0);
  return outcome.code ?? 1;
}

/**
 * Creates the key under the lock, with its ledger entry written (durably) before the create request and completed as
 * a session key before the child starts: a killed `capit run` leaves a recorded key that expires by itself.
 */
async function mintSessionKey(plan: RunPlan, pctx: PlatformContext, ctx: CapitContext): Promise<CreatedKey> {
  const {platformDef, keyName, capUsd, reset, expiresAt} = plan;
  const stateDir = capitPaths(ctx.env).state;
  return withLock(stateDir, async () => {
    await recoverInterruptedInstalls(stateDir, ctx, {def: platformDef, pctx});
    await sweepExpiredSessionKeys(stateDir, platformDef, pctx, ctx);
    const entry: LedgerEntry = {
      name: keyName, platform: platformDef.id, agent: plan.agentId, capUsd, reset: reset ?? null, expiresAt: expiresAt.toISOString(),
      createdAt: new Date().toISOString(), files: [], backupDir: null, status: `pending`, session: true,
      run: {host: os.hostname(), pid: process.pid},
    };
    const isMine = (k: LedgerEntry) => k.name === keyName && k.platform === platformDef.id;
    await updateLedger(stateDir, keys => [...keys, entry], {durable: true});
    let created: CreatedKey;
    try {
      created = await callPlugin(platformDef.id, `createKey`, () => platformDef.createKey(pctx, {
        name: keyName, capUsd, reset, expiresAt, ...(platformDef.byok === `optional` ? {countByok: true} : {}),
      }));
    } catch (error) {
      // The create may have landed (a timeout, a dropped connection): look the key up by its unique name.
      const byName = await deleteByName(platformDef, pctx, keyName);
      if (byName.state === `failed`) await updateLedger(stateDir, keys => keys.map(k => (isMine(k) ? {...k, pendingNote: byName.message} : k)));
      else await updateLedger(stateDir, keys => keys.filter(k => !isMine(k)));
      throw error;
    }
    // The expiry as the provider stored it (OpenRouter keeps whole seconds).
    const expiry = created.expiresAt ?? entry.expiresAt;
    await updateLedger(stateDir, keys => keys.map(k => (isMine(k) ? {...k, id: created.id, status: `active` as const, expiresAt: expiry} : k)), {durable: true});
    return created;
  }, {stderr: ctx.stderr});
}

/**
 * Session keys of this platform that a killed `capit run` left: expired ones, and those whose run and child are both
 * gone (see {@link sessionRunEnded}). Delete them at the provider (already gone is fine) and drop their entries. Other
 * unexpired ones may belong to a live run.
 */
async function sweepExpiredSessionKeys(stateDir: string, def: PlatformDefinition, pctx: PlatformContext, ctx: CapitContext): Promise<void> {
  const now = Date.now();
  const expired = (await readLedger(stateDir)).filter(k => k.session && k.platform === def.id && k.id && k.status !== `pending`
    && ((k.expiresAt !== null && Date.parse(k.expiresAt) <= now) || sessionRunEnded(k)));
  for (const entry of expired) {
    try {
      await callPlugin(def.id, `deleteKey`, () => def.deleteKey(pctx, entry.id!));
    } catch (error) {
      if (!(error instanceof ProviderError && error.kind === `not-found`)) {
        ctx.stderr.write(`warning: could not delete the session key "${entry.name}" that an interrupted capit run left (${(error as Error).message}); capit will try again\n`);
        continue;
      }
    }
    await updateLedger(stateDir, keys => keys.filter(k => !(k.name === entry.name && k.platform === entry.platform)));
    const expired = entry.expiresAt !== null && Date.parse(entry.expiresAt) <= now;
    ctx.stderr.write(`note: deleted the ${expired ? `expired ` : ``}session key "${entry.name}" that an interrupted capit run left\n`);
  }
}

/**
 * Adds the child's pid to the session's entry: while the child lives (even after capit itself was killed) its key is
 * in use, so gc leaves it. A failure only loses that protection until expiry; the run goes on.
 */
async function recordChild(plan: RunPlan, childPid: number, ctx: CapitContext): Promise<void> {
  const stateDir = capitPaths(ctx.env).state;
  const isMine = (k: LedgerEntry) => k.name === plan.keyName && k.platform === plan.platformDef.id && k.session === true;
  await withLock(stateDir, () => updateLedger(stateDir, keys => keys.map(k => (isMine(k) && k.run ? {...k, run: {...k.run, childPid}} : k))), {stderr: ctx.stderr})
    .catch(error => ctx.stderr.write(`warning: could not record the child's pid in the ledger (${(error as Error).message})\n`));
}

/**
 * Whether the `capit run` that minted a session key and the child it started are both gone (checked on this host
 * only; an entry without them, or from another host, cannot be told apart from a live run).
 */
export function sessionRunEnded(entry: LedgerEntry): boolean {
  const run = entry.run;
  if (!entry.session || !run || typeof run.pid !== `number` || run.host !== os.hostname()) return false;
  return !processAlive(run.pid) && (typeof run.childPid !== `number` || !processAlive(run.childPid));
}

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === `EPERM`;
  }
}

/** Starts the child with inherited stdio and forwards capit's signals to it until it exits. */
function runChild(executable: string, args: readonly string[], env: Record<string, string>, ctx: CapitContext,
  onSpawn: (pid: number) => void): Promise<{code: number | null; signal: NodeJS.Signals | null}> {
  return new Promise((resolve, reject) => {
    const child = spawn(executable, args, {stdio: `inherit`, env, cwd: ctx.cwd});
    child.once(`spawn`, () => {
      if (child.pid !== undefined) onSpawn(child.pid);
    });
    // On a terminal, Ctrl-C already reaches the child (same foreground process group); sending it again would count
    // as a second Ctrl-C, which makes some agents quit at once. A SIGINT sent to capit alone (no terminal) is passed on.
    const terminal = Boolean(process.stdin.isTTY);
    const forward = (signal: NodeJS.Signals) => {
      if (signal === `SIGINT` && terminal) return;
      child.kill(signal);
    };
    for (const signal of FORWARDED) process.on(signal, forward);
    const stop = () => {
      for (const signal of FORWARDED) process.off(signal, forward);
    };
    child.once(`error`, error => {
      stop();
      reject(error);
    });
    child.once(`exit`, (code, signal) => {
      stop();
      resolve({code, signal});
    });
  });
}

/** Reads what the key spent, deletes it (disables it when delete fails), settles its entry and says what happened. */
async function endSession(plan: RunPlan, pctx: PlatformContext, created: CreatedKey, ctx: CapitContext): Promise<void> {
  const {platformDef, keyName, capUsd} = plan;
  const stateDir = capitPaths(ctx.env).state;
  // Signals that arrive while cleaning up must not kill capit before the key is gone.
  const ignore = () => {};
  for (const signal of FORWARDED) process.on(signal, ignore);
  try {
    const usage = await sessionUsage(platformDef, pctx, created.id);
    let removed: `deleted` | `disabled` | `kept`;
    let problem = ``;
    try {
      await callPlugin(platformDef.id, `deleteKey`, () => platformDef.deleteKey(pctx, created.id));
      removed = `deleted`;
    } catch (error) {
      if (error instanceof ProviderError && error.kind === `not-found`) removed = `deleted`;
      else {
        problem = (error as Error).message;
        try {
          await callPlugin(platformDef.id, `updateKey`, () => platformDef.updateKey(pctx, created.id, {disabled: true}));
          removed = `disabled`;
        } catch {
          removed = `kept`;
        }
      }
    }
    const isMine = (k: LedgerEntry) => k.name === keyName && k.platform === platformDef.id;
    await withLock(stateDir, () => updateLedger(stateDir, keys => removed === `deleted` ? keys.filter(k => !isMine(k))
      : removed === `disabled` ? keys.map(k => (isMine(k) ? {...k, status: `disabled` as const, disabledAt: new Date().toISOString()} : k))
      : keys), {stderr: ctx.stderr});
    const spent = typeof usage === `number` ? `this session spent ${formatUsd(usage)} of ${formatUsd(capUsd)}` : `capit could not read what this session spent (${usage.error})`;
    ctx.stderr.write(`capit: ${spent}\n`);
    if (removed === `disabled`) ctx.stderr.write(`warning: the session key "${keyName}" could not be deleted (${problem}); it was disabled instead. Delete it with: capit keys delete ${keyName}\n`);
    if (removed === `kept`) ctx.stderr.write(`warning: the session key "${keyName}" could not be deleted or disabled (${problem}); it expires at ${plan.expiresAt.toISOString()}. Delete it with: capit keys delete ${keyName}\n`);
  } finally {
    for (const signal of FORWARDED) process.off(signal, ignore);
  }
}

/** The key's spend as the provider reports it, or why it could not be read. */
async function sessionUsage(def: PlatformDefinition, pctx: PlatformContext, id: string): Promise<number | {error: string}> {
  try {
    let found: ProviderKey | undefined;
    await callPlugin(def.id, `listKeys`, async () => {
      for await (const key of def.listKeys(pctx)) if (key.id === id) {
        found = key;
        break;
      }
    });
    if (!found) return {error: `the provider no longer lists the key`};
    return found.spentUsd + (found.byokCounted && found.byokSpentUsd ? found.byokSpentUsd : 0);
  } catch (error) {
    return {error: (error as Error).message};
  }
}

/**
 * capit's environment without any platform's master key: a management key in the agent's process (or in a shell
 * command the agent runs) could mint uncapped keys, which would make the session's cap meaningless.
 */
function childEnv(ctx: CapitContext, def: PlatformDefinition, keyName: string): Record<string, string> {
  const masterKeys = new Set([...def.masterKey.env, ...ctx.plugins.platforms.flatMap(p => masterKeyEnvNames(p))]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.env)) if (value !== undefined && !masterKeys.has(name)) out[name] = value;
  // A capit started inside the session then refuses to use the stored master key (platforms/context.ts).
  out[RUN_SESSION_ENV] = keyName;
  return out;
}
