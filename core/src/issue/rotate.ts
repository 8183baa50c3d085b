// `capit rotate`: replace the key an agent holds with a successor of the same cap, reset, expiry and BYOK setting.
//
// THE ORDER, and why each failure leaves the agent with a working key and no key capit has lost track of:
//  1. Mark the old entry `rotatedTo: <successor name>` (durable). It says "delete me once the successor is active";
//     until then nothing deletes the old key.
//  2. Create the successor through the install transaction (issue.ts executeIssue): pending entry first, so a create
//     that fails or is cut off is settled by name. Failure: no agent file was touched, the old key still works.
//  3. Verify the successor BEFORE any file is written (a hook of executeIssue): the key must be listed at the provider,
//     enabled, with the id create returned. Failure: the successor is deleted (or recorded pending for the next run)
//     and no file is touched: the old key still works.
//  4. Install it into the agent's files (same transaction, backup of the files holding the old key; the backup names
//     the key it replaced, so `capit restore` goes back past the rotation). Failure: the files are put back, the
//     successor deleted: the old key still works. A kill here is settled by the next run's recovery (all-new or
//     all-old), and `capit gc` deletes whichever key no agent file holds.
//  5. Delete the old key at the provider and mark its entry `deleted`. Failure: the agent already holds the working
//     successor; the old key keeps its `rotatedTo` mark and `capit gc --yes` (or `capit keys delete`) removes it.
// After steps 1-4 fail, the `rotatedTo` mark is removed again.
import type {CapitContext}    from '../context.js';
import {findAgent, findPlatform} from '../context.js';
import {CapitError, InputError, ProviderError} from '../errors.js';
import {withLock}             from '../files/lock.js';
import type {CreatedKey, PlatformContext, PlatformDefinition} from '../plugin.js';
import {callPlugin}           from '../platforms/context.js';
import {openPlatformSession, platformSession} from '../platforms/session.js';
import {doctor}               from '../agents/doctor.js';
import {formatUsd}            from './inputs.js';
import {unknownAgent}         from '../ui/suggest.js';
import {pendingTakeBacks, readLedger, updateLedger} from '../state/ledger.js';
import type {LedgerEntry}     from '../state/ledger.js';
import {capitPaths}           from '../state/paths.js';
import {confirm}              from '../ui/prompt.js';
import {appendAudit}          from '../state/audit.js';
import {executeIssue, planIssue} from './issue.js';

export interface RotateOptions {
  agent?: string;
  all: boolean;
  yes: boolean;
  json: boolean;
  /** Rotate a windowed key that has spent in its current window (the successor's window starts at $0). */
  force?: boolean;
}

export interface RotateOutcome {
  agent: string;
  platform: string;
  oldKey: string;
  newKey: string | null;
  /** `rotated`: successor installed, old key deleted; `old-key-kept`: successor installed, the old key could not be
   * deleted yet; `failed`: nothing changed for this agent, it keeps its old key. */
  status: `rotated` | `old-key-kept` | `failed`;
  message: string;
}

/** The key each agent holds now: its newest active, not restored ledger entry with a provider id. */
export function heldKeys(ledger: LedgerEntry[]): Map<string, LedgerEntry> {
  const held = new Map<string, LedgerEntry>();
  for (const entry of ledger) {
    if (entry.status !== `active` || !entry.agent || entry.restoredAt || entry.id === undefined || entry.session) continue;
    const current = held.get(entry.agent);
    if (!current || current.createdAt <= entry.createdAt) held.set(entry.agent, entry);
  }
  // A key already replaced by an active successor is not what the agent holds.
  for (const [agent, entry] of held) if (entry.rotatedTo && ledger.some(k => k.name === entry.rotatedTo && k.status === `active`)) held.delete(agent);
  return held;
}

/** The name prefix of a capit key name: `opencode-1a2b3c4d` → `opencode`. */
function namePrefix(name: string, fallback: string): string {
  const prefix = name.replace(/-[0-9a-f]{8}$/, ``);
  return /^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$/.test(prefix) ? prefix : fallback;
}

/** Rotates the key of one agent. Never throws for a provider or install failure: the outcome says what happened. */
export async function rotateAgentKey(old: LedgerEntry, ctx: CapitContext, opts: {force?: boolean} = {}): Promise<RotateOutcome> {
  const agent = old.agent!;
  const paths = capitPaths(ctx.env);
  const base = {agent, platform: old.platform, oldKey: old.name};
  const platform = findPlatform(ctx.plugins, old.platform);
  if (!platform) return {...base, newKey: null, status: `failed`, message: `the platform plugin "${old.platform}" is not installed; ${agent} keeps its key "${old.name}"`};
  const expiresAt = old.expiresAt === null ? undefined : new Date(old.expiresAt);
  if (expiresAt && expiresAt.getTime() <= Date.now())
    return {...base, newKey: null, status: `failed`, message: `its key "${old.name}" expired at ${old.expiresAt}; a successor would expire too — issue a new key with capit ${old.platform} <usd> --agent ${agent}`};

  const check = await checkRotatable(old, platform, ctx, opts.force === true);
  if (`refused` in check) return {...base, newKey: null, status: `failed`, message: check.refused};
  if (check.warning) ctx.stderr.write(`warning: ${check.warning}\n`);

  const plan = await planIssue({
    platform: old.platform, amount: check.capCents === null ? String(old.capUsd) : (check.capCents / 100).toFixed(2), agent, reset: old.reset ?? undefined,
    name: namePrefix(old.name, agent), dryRun: false, yes: true, json: true, allowLarge: true,
    excludeByok: old.byokCounted === false, successor: {of: old.name, expiresAt},
  }, ctx);
  const isOld = (k: LedgerEntry) => k.name === old.name && k.platform === old.platform;
  await withLock(paths.state, () => updateLedger(paths.state, keys => keys.map(k => (isOld(k) ? {...k, rotatedTo: plan.keyName} : k)), {durable: true}), {stderr: ctx.stderr});

  let successorId: string;
  try {
    successorId = (await executeIssue(plan, ctx, {verify: (created, pctx) => verifySuccessor(plan.platformDef, pctx, created)})).id;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    // A file that could not be put back may hold the successor: no claim about which key the agent holds, and the
    // mark stays, so the old key is deleted only once recovery finds the successor fully installed (`capit gc`).
    if (error instanceof CapitError && error.cause instanceof CapitError && error.cause.code === `CAPIT_WRITE_FAILED`) {
      await appendAudit(paths.state, {action: `rotate-failed`, agent, platform: old.platform, keyName: old.name, keyId: old.id ?? null, successor: plan.keyName, reason});
      return {...base, newKey: null, status: `failed`, message: `${reason.replace(/\.$/, ``)}. The old key "${old.name}" was kept; check ${agent}'s files (\`capit doctor ${agent}\`).`};
    }
    // Steps 2-4 failed: the agent's files hold the old key, which was never touched.
    await withLock(paths.state, () => updateLedger(paths.state, keys => keys.map(k => (isOld(k) ? withoutRotation(k) : k))), {stderr: ctx.stderr});
    await appendAudit(paths.state, {action: `rotate-failed`, agent, platform: old.platform, keyName: old.name, keyId: old.id ?? null, successor: plan.keyName, reason});
    return {...base, newKey: null, status: `failed`, message: `${reason.replace(/\.$/, ``)}. ${agent}'s files still hold its previous key "${old.name}" as before.`};
  }

  const {def, pctx} = await openPlatformSession(platform, ctx, plan.platformDef);
  // The old key could spend while the successor was made: stop it, read what it spent since the check, and take that
  // off the successor's cap, so the rotation never lets more through than the old key had left.
  const settled = check.capCents === null ? {text: ``} : await settleLateSpend(def, pctx, old, successorId, check);
  return withLock(paths.state, async () => {
    const deleted = await deleteOldKey(def, pctx, old);
    const now = new Date().toISOString();
    if (settled.capUsd !== undefined) await updateLedger(paths.state, keys => keys.map(k => (k.id === successorId && k.platform === old.platform ? {...k, capUsd: settled.capUsd!} : k)));
    if (deleted.ok) {
      await updateLedger(paths.state, keys => keys.map(k => (isOld(k) ? {...k, status: `deleted` as const, deletedAt: now} : k)));
      await appendAudit(paths.state, {action: `rotate`, agent, platform: old.platform, keyName: old.name, keyId: old.id ?? null, successor: plan.keyName});
      return {...base, newKey: plan.keyName, status: `rotated` as const, message: `${agent} now holds "${plan.keyName}" (verified at ${plan.platformName}); the old key "${old.name}" ${deleted.text}.${settled.text}`};
    }
    await appendAudit(paths.state, {action: `rotate-old-key-kept`, agent, platform: old.platform, keyName: old.name, keyId: old.id ?? null, successor: plan.keyName, reason: deleted.text});
    return {...base, newKey: plan.keyName, status: `old-key-kept` as const,
      message: `${agent} now holds "${plan.keyName}" (verified at ${plan.platformName}), but the old key "${old.name}" could not be deleted (${deleted.text}); it is still recorded — \`capit gc --yes\` or \`capit keys delete ${old.name}\` removes it.`};
  }, {stderr: ctx.stderr});
}

const toCents = (usd: number) => Math.round(usd * 100);

/**
 * Disables the old key (so it cannot spend any more), re-reads its spend and lowers the successor's cap by whatever it
 * spent since the check. Returns a sentence for the result line ('' when nothing changed). A failure here is said, not
 * thrown: the successor is installed and the old key is deleted next either way.
 */
async function settleLateSpend(def: PlatformDefinition, pctx: PlatformContext, old: LedgerEntry, successorId: string,
    check: {capCents: number | null; spentCents: number}): Promise<{text: string; capUsd?: number}> {
  try {
    await callPlugin(def.id, `updateKey`, () => def.updateKey(pctx, old.id!, {disabled: true}));
    const now = await findListed(def, pctx, old.id!);
    if (!now || check.capCents === null) return {text: ``};
    const lateCents = Math.ceil(now.spentUsd * 100 - 1e-6) - check.spentCents;
    if (lateCents <= 0) return {text: ``};
    const capUsd = Math.max(0, check.capCents - lateCents) / 100;
    await callPlugin(def.id, `updateKey`, () => def.updateKey(pctx, successorId, {capUsd}));
    return {text: ` The old key spent ${formatUsd(lateCents / 100)} during the rotation, so the new key's cap was lowered to ${formatUsd(capUsd)}.`, capUsd};
  } catch (error) {
    return {text: ` Note: capit could not check what the old key spent during the rotation (${(error as Error).message}).`};
  }
}

/**
 * What must hold before a successor is created, read now rather than from the ledger (the dashboard can change a key):
 *  - the agent's files still hold capit's key (doctor's `changed`): otherwise the install would overwrite a key the user
 *    put there since;
 *  - the old key is listed at the provider and enabled: a successor must not revive a key someone disabled;
 *  - the successor's cap never lets more be spent than the old key still could. A lifetime cap: the successor's cap
 *    is what remains (cap − spend). A windowed cap: the successor's window starts at $0, so while the old key has spent
 *    anything in its current window a rotation would allow that much again in the same window; refused unless
 *    `--force`, which states the exact extra amount. A key at or over its cap is refused either way.
 */
async function checkRotatable(old: LedgerEntry, platform: NonNullable<ReturnType<typeof findPlatform>>, ctx: CapitContext, force: boolean):
    Promise<{refused: string} | {capCents: number | null; spentCents: number; warning: string | null}> {
  const agent = old.agent!;
  const [report] = await doctor(agent, ctx);
  // Any flavour counts (an agent's status is its worst flavour's, which may hide a changed one).
  if (report && (report.status === `changed` || report.flavours.some(f => f.status === `changed`)))
    return {refused: `${agent}'s files no longer hold its capit key "${old.name}" (${report.message}); rotate does not overwrite a key put there since. Put back the configuration from before capit with \`capit restore ${agent}\`, or install a fresh key with \`capit ${old.platform} <usd> --agent ${agent}\`; nothing was created or changed`};

  const {def, pctx} = await platformSession(platform, ctx);
  let listed: Awaited<ReturnType<typeof findListed>>;
  try {
    listed = await findListed(def, pctx, old.id!);
  } catch (error) {
    return {refused: `could not read the key "${old.name}" at ${old.platform} (${(error as Error).message}); nothing was created or changed`};
  }
  if (!listed)
    return {refused: `${old.platform} no longer lists the key "${old.name}"; issue a new key with \`capit ${old.platform} <usd> --agent ${agent}\`; nothing was created or changed`};
  // A disabled key (the kill switch, a leak) is replaced only on purpose: the successor would be live.
  if (listed.disabled && !force)
    return {refused: `the key "${old.name}" is disabled at ${old.platform}; a successor would be live. Pass --force to replace it with a working key (e.g. after a leak), or enable it with \`capit keys enable ${old.name}\`; nothing was created or changed`};
  if (listed.capUsd === null) return {capCents: null, spentCents: 0, warning: null};

  // A timed top-up still pending ends with the rotation: the successor's cap leaves it out, so no raise outlives its
  // timer on a key the take-back no longer tracks.
  const pendingCents = pendingTakeBacks(old).reduce((sum, raise) => sum + toCents(raise.amountUsd), 0);
  const capCents = Math.max(0, toCents(listed.capUsd) - pendingCents);
  const spentCents = Math.ceil(listed.spentUsd * 100 - 1e-6);
  const windowText = old.reset ? `its ${old.reset} cap of ${formatUsd(listed.capUsd)}` : `its lifetime cap of ${formatUsd(listed.capUsd)}`;
  if (spentCents >= capCents)
    return {refused: `the key "${old.name}" has spent ${formatUsd(listed.spentUsd)} of ${windowText}; a successor must not bring that back — ${old.reset ? `wait for the cap to reset` : `raise it with \`capit topup ${agent} <usd>\``}; nothing was created or changed`};
  if (!old.reset) return {capCents: capCents - spentCents, spentCents, warning: null};
  if (spentCents === 0) return {capCents, spentCents, warning: null};
  const extra = formatUsd(spentCents / 100);
  if (!force)
    return {refused: `the key "${old.name}" has spent ${extra} of ${windowText} in the current window; a successor starts its window at $0, so up to ${extra} more could be spent this window. Rotate after the cap resets, or pass --force to allow that ${extra}; nothing was created or changed`};
  return {capCents, spentCents, warning: `${agent}: --force: the successor starts its ${old.reset} window at $0; up to ${extra} more than ${formatUsd(listed.capUsd)} can be spent in the current window`};
}

async function findListed(def: PlatformDefinition, pctx: PlatformContext, id: string): Promise<{disabled: boolean; capUsd: number | null; spentUsd: number} | undefined> {
  let found: {disabled: boolean; capUsd: number | null; spentUsd: number} | undefined;
  await callPlugin(def.id, `listKeys`, async () => {
    for await (const key of def.listKeys(pctx)) if (key.id === id) found = key;
  });
  return found;
}

/**
 * The successor must be live at the provider before any agent file points at it. No platform API member probes a key
 * with its own secret in this branch, so the check is the provider's own listing, with the master key: the id create
 * returned is listed, enabled, with the cap asked for.
 */
async function verifySuccessor(def: PlatformDefinition, pctx: PlatformContext, created: CreatedKey): Promise<void> {
  // Best proof: the provider answers the new key itself (OpenRouter GET /key with the new key as Bearer).
  if (typeof def.probeKey === `function`) {
    (pctx.http as {addSecret?: (s: string) => void}).addSecret?.(created.secret);
    const probe = await callPlugin(def.id, `probeKey`, () => def.probeKey!(pctx, {id: created.id, name: created.name, secret: created.secret}));
    if (probe.state !== `ok`) throw new CapitError(`CAPIT_VERIFY_FAILED`, `${def.id} answers the new key as ${probe.state}`);
    if (probe.capUsd !== null && created.capUsd !== null && Math.abs(probe.capUsd - created.capUsd) > 1e-6)
      throw new CapitError(`CAPIT_VERIFY_FAILED`, `${def.id} reports a cap of $${probe.capUsd} for the new key, not $${created.capUsd}`);
    return;
  }
  // Without a probe: the master key's listing must show it, enabled, with the right cap.
  let found: {disabled: boolean; capUsd: number | null} | undefined;
  await callPlugin(def.id, `listKeys`, async () => {
    for await (const key of def.listKeys(pctx)) if (key.id === created.id) found = key;
  });
  if (!found) throw new CapitError(`CAPIT_VERIFY_FAILED`, `${def.id} does not list the key it just created`);
  if (found.disabled) throw new CapitError(`CAPIT_VERIFY_FAILED`, `${def.id} reports the new key disabled`);
  if (found.capUsd !== null && created.capUsd !== null && Math.abs(found.capUsd - created.capUsd) > 1e-6)
    throw new CapitError(`CAPIT_VERIFY_FAILED`, `${def.id} reports a cap of $${found.capUsd}, not $${created.capUsd}`);
}

export async function deleteOldKey(def: PlatformDefinition, pctx: PlatformContext, old: LedgerEntry): Promise<{ok: boolean; text: string}> {
  try {
    await callPlugin(def.id, `deleteKey`, () => def.deleteKey(pctx, old.id!));
    return {ok: true, text: `was deleted at the provider`};
  } catch (error) {
    if (error instanceof ProviderError && error.kind === `not-found`) return {ok: true, text: `was already gone at the provider`};
    return {ok: false, text: (error as Error).message};
  }
}

/** The reason, saying once that nothing was changed (some planning errors say it already). */
function sayNothingChanged(reason: string): string {
  return /nothing was (created or )?changed/i.test(reason) ? reason : `${reason.replace(/\.$/, ``)}; nothing was created or changed`;
}

function withoutRotation(entry: LedgerEntry): LedgerEntry {
  const {rotatedTo: _to, ...rest} = entry;
  return rest;
}

/** `capit rotate <agent>|--all`: returns the exit code (1 when any agent's rotation did not complete). */
export async function rotateKeys(opts: RotateOptions, ctx: CapitContext): Promise<number> {
  if (opts.all === (opts.agent !== undefined))
    throw new InputError(opts.all ? `Give either an agent or --all, not both` : `Name the agent whose key to rotate, or pass --all`);
  const paths = capitPaths(ctx.env);
  const entries = await readLedger(paths.state);
  const held = heldKeys(entries);
  // A key disabled with `capit keys disable` is still the agent's key: say so instead of "holds no key".
  const disabledHeld = new Map<string, LedgerEntry>();
  for (const [agent, k] of heldKeys(entries.map(e => (e.status === `disabled` ? {...e, status: `active` as const} : e))))
    if (entries.some(e => e.name === k.name && e.platform === k.platform && e.status === `disabled`)) disabledHeld.set(agent, {...k, status: `disabled`});
  const enableHint = (keys: LedgerEntry[]) => `${keys.map(k => `${k.agent} holds the disabled key "${k.name}"`).join(`, `)}; a successor would be enabled — enable it first with \`capit keys enable ${keys.length === 1 ? keys[0]!.name : `<key>`}\` if you mean it to be used`;
  let targets: LedgerEntry[];
  if (opts.agent !== undefined) {
    if (!findAgent(ctx.plugins, opts.agent)) throw new InputError(unknownAgent(opts.agent, ctx.plugins.agents.map(a => a.manifest.id)));
    const entry = held.get(opts.agent);
    const disabled = disabledHeld.get(opts.agent);
    if (!entry && disabled) throw new InputError(enableHint([disabled]));
    if (!entry) throw new InputError(`${opts.agent} holds no key capit installed; issue one with: capit <platform> <usd> --agent ${opts.agent}`);
    targets = [entry];
  } else {
    targets = [...held.values()].sort((a, b) => a.agent!.localeCompare(b.agent!));
    const disabled = [...disabledHeld.values()].filter(k => !held.has(k.agent!));
    if (targets.length === 0 && disabled.length > 0) throw new InputError(`No agent holds an active capit key; ${enableHint(disabled)}`);
    if (targets.length === 0) throw new InputError(`No agent holds a key capit installed; nothing to rotate`);
  }

  if (!opts.yes) {
    if (!ctx.interactive) throw new InputError(`Refusing to rotate without confirmation: pass --yes (no terminal to ask on)`);
    for (const t of targets) ctx.stderr.write(`${t.agent}: replace "${t.name}" (${t.platform}, $${t.capUsd}${t.reset ? ` ${t.reset}` : ``}) with a new key, then delete it\n`);
    if (!await confirm(`Rotate ${targets.length === 1 ? `this key` : `these ${targets.length} keys`}?`, ctx)) {
      ctx.stderr.write(`Cancelled; nothing was created or changed.\n`);
      return 1;
    }
  }

  const outcomes: RotateOutcome[] = [];
  for (const target of targets) {
    try {
      outcomes.push(await rotateAgentKey(target, ctx, {force: opts.force}));
    } catch (error) {
      // A user mistake found while planning (e.g. an agent config that no longer parses): nothing was created.
      if (opts.agent !== undefined) throw error;
      outcomes.push({agent: target.agent!, platform: target.platform, oldKey: target.name, newKey: null, status: `failed`, message: sayNothingChanged((error as Error).message)});
    }
  }
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({rotations: outcomes}, null, 2)}\n`);
  } else {
    for (const o of outcomes) {
      if (o.status === `rotated`) ctx.stdout.write(`${o.message}\n`);
      else ctx.stderr.write(`${o.status === `failed` ? `capit: rotate ${o.agent} failed: ` : `warning: `}${o.message}\n`);
    }
  }
  return outcomes.every(o => o.status === `rotated`) ? 0 : 1;
}
