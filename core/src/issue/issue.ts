
import type {CapitContext}                          from '../context.js';
import {findAgent, findPlatform}                    from '../context.js';
import {CapitError, InputError, NetworkError, ProviderError} from '../errors.js';
import {applyChanges, computeChanges, loadTargets, renderDiff} from '../files/index.js';
import type {FileChange, Targets}                   from '../files/index.js';
import {withLock}                                   from '../files/lock.js';
import type {AgentDefinition, AgentEnvironment, AgentPlan, CreatedKey, FileEdit, InferenceBaseUrls, PlatformContext, PlatformDefinition, ProviderFailureKind, ResetWindow} from '../plugin.js';
import type {DiscoveredPlugin}                     from '../plugins/discover.js';
import {loadPlugin}                                 from '../plugins/load.js';
import {callPlugin, displayName, managementBaseUrl, PluginTimeoutError} from '../platforms/context.js';
import {openPlatformSession}                        from '../platforms/session.js';
import {updateLedger}                               from '../state/ledger.js';
import type {LedgerEntry}                           from '../state/ledger.js';
import {capitPaths, homeDir}                        from '../state/paths.js';
import {confirm}                                    from '../ui/prompt.js';
import {discardedStdout, writeOnce}                 from '../ui/deliver.js';
import {formatUsd, makeKeyName, parseAmount, parseExpiry, parseNamePrefix, parseReset} from './inputs.js';
import type {Amount}                              from './inputs.js';
import {redactText}                                 from './redact.js';
import {findShadows}                                from './shadows.js';
import {detectOnce}                                 from '../agents/detect.js';
import {withProgress}                               from '../ui/progress.js';
import {unknownAgent, unknownPlatform}              from '../ui/suggest.js';
import {crashPoint}                                 from './crash.js';
import {checkHeadroom}                              from './headroom.js';
import type {HeadroomCheck}                         from './headroom.js';
import {deleteByName, recoverInterruptedInstalls}   from './recover.js';
import {checkPlaceholderUse, newPlaceholder, placeholderFor, withSecret} from './placeholder.js';

export {placeholderFor} from './placeholder.js';

export interface IssueOptions {
  platform: string;
  amount: string;
  agent?: string;
  reset?: string;
  expires?: string;
  name?: string;
  dryRun: boolean;
  yes: boolean;
  json: boolean;
  allowLarge: boolean;
  /** `--exclude-byok`: BYOK spend does not count against the cap (only for a platform whose `byok` is 'optional'). */
  excludeByok?: boolean;
  /** `--model <id>`: the model to check the cap against (headroom preflight); default the agent's configured model. */
  model?: string;
  /**
   * `capit rotate`: the successor of an installed key. Its exact expiry is copied (not parsed from `--expires`), and
   * the install's backup names the key it replaces, so `capit restore` can go back past the rotation.
   */
  successor?: {of: string; expiresAt?: Date};
}

/** Extra steps of the install transaction, for callers that build on it (`capit rotate`). */
export interface IssueHooks {
  /**
   * Runs after the key is created and recorded, before any agent file is written. Throwing aborts the install: the
   * new key is deleted (or recorded for the next run to delete) and no file is touched.
   */
  verify?: (created: CreatedKey, pctx: PlatformContext) => Promise<void>;
}

export function agentEnvironment(ctx: CapitContext): AgentEnvironment {
  return {env: ctx.env, home: homeDir(ctx.env), cwd: ctx.cwd, platform: process.platform};
}

export interface AgentStage {
  id: string;
  def: AgentDefinition;
  envInfo: AgentEnvironment;
  /** The agent's `detect()` result for this run, handed to every later call (`undefined` without a detect step). */
  detected: unknown;
  targets: Targets;
  /** The agent's edits, planned once with `IssuePlan.placeholder` as the secret (checked by checkPlaceholderUse). */
  edits: FileEdit[];
  /** `edits` applied to `targets`: what the preview shows (the token is swapped for a readable placeholder). */
  changes: FileChange[];
  /** Runs the agent's `plan()` against `targets` with the placeholder (the only re-plan: files changed while queued). */
  planAgainst(targets: Targets): Promise<AgentPlan>;
}

export interface IssuePlan {
  opts: IssueOptions;
  platformId: string;
  platformName: string;
  platformDef: PlatformDefinition;
  platformPlugin: DiscoveredPlugin;
  amount: Amount;
  reset?: ResetWindow;
  expiresAt?: Date;
  keyName: string;
  /** The unique token planned in place of the secret; the real secret replaces it after create. */
  placeholder: string;
  /** Whether BYOK spend counts against the cap; null for a platform without BYOK. */
  byokCounted: boolean | null;
  /** One line: what will be asked of the provider. */
  action: string;
  capText: string;
  inferenceBaseUrls: InferenceBaseUrls;
  stage?: AgentStage;
  notes: string[];
  /** The headroom preflight: whether the cap covers one worst-case request of the model (./headroom.ts). */
  headroom: HeadroomCheck;
  /** Unified diff of every file, secrets masked (computed on first read). */
  readonly diff: string;
}

export interface IssueResult {
  platform: string;
  id: string;
  name: string;
  capUsd: number;
  reset: ResetWindow | null;
  expiresAt: string | null;
  /** Whether BYOK spend counts against the cap; null for a platform without BYOK. */
  byokCounted: boolean | null;
  agent: string | null;
  files: string[];
  /**
   * The backup `capit restore` undoes this install from, whenever an agent's files were touched — also when the install
   * created them (the backup then records that they did not exist, and restore removes them).
   */
  backupDir: string | null;
  /** Whether any of the agent's files existed before (the text output says "Old configuration backed up" only then). */
  hadExistingFiles: boolean;
  notes: string[];
  /** Lines naming sources that would win over the installed key. */
  shadows: string[];
  /** Only when no agent was given: the one place the full key is handed out. */
  secret?: string;
}

/** Checks the input, loads the plugins and plans every file edit with a placeholder key. Writes and sends nothing. */
export async function planIssue(opts: IssueOptions, ctx: CapitContext): Promise<IssuePlan> {
  // Everything the user typed is checked before any plugin code, request or file access.
  const platform = findPlatform(ctx.plugins, opts.platform);
  if (!platform) {
    throw new InputError(unknownPlatform(opts.platform, ctx.plugins.platforms.map(p => p.manifest.id), {suggestPlugin: true}));
  }
  const amount = parseAmount(opts.amount, {allowLarge: opts.allowLarge});
  const reset = parseReset(opts.reset);
  const expiresAt = opts.successor ? opts.successor.expiresAt : parseExpiry(opts.expires);
  const agentPlugin = opts.agent === undefined ? undefined : findAgent(ctx.plugins, opts.agent);
  if (opts.agent !== undefined && !agentPlugin) {
    throw new InputError(unknownAgent(opts.agent, ctx.plugins.agents.map(a => a.manifest.id)));
  }
  const prefix = parseNamePrefix(opts.name, opts.agent ?? `capit`);
  const model = parseModel(opts.model);

  // Plan with a placeholder secret; every target file must parse before a key exists.
  const platformDef = await loadPlugin(platform) as PlatformDefinition;
  const platformName = displayName(platform);
  if (reset && platformDef.resetWindows && !platformDef.resetWindows.includes(reset)) {
    const allowed = platformDef.resetWindows.length > 0 ? `it supports ${platformDef.resetWindows.join(`, `)}` : `its caps never reset`;
    throw new InputError(`${platformName} cannot reset a cap ${reset}: ${allowed}; drop --reset for a lifetime cap`);
  }
  const byokCounted = byokChoice(platformDef, platformName, opts.excludeByok === true);
  const keyName = makeKeyName(prefix, platformDef.maxNameLength);
  const baseUrl = managementBaseUrl(platformDef, ctx.env);
  const placeholder = newPlaceholder();
  const inferenceBaseUrls = await callPlugin(platformDef.id, `inferenceBaseUrls`, () => platformDef.inferenceBaseUrls(baseUrl));

  let stage: AgentStage | undefined;
  let notes: string[] = [];
  if (agentPlugin) {
    const def = await loadPlugin(agentPlugin) as AgentDefinition;
    const supported = await callPlugin(def.id, `supports`, () => def.supports(platformDef.id));
    if (supported !== true) throw new InputError(`${def.id} cannot use ${platformDef.id} keys: ${supported}`);
    const envInfo = agentEnvironment(ctx);
    const detected = await detectOnce(def, envInfo);
    const files = await callPlugin(def.id, `files`, () => def.files(envInfo, detected));
    const targets = await loadTargets(files);
    // The one clock reading of the run's plans (PlanInput.now): a re-plan stamps the same time as the preview.
    const now = new Date();
    // The one call of the agent's plan(), with a token for the secret; the real secret is substituted after create.
    const planAgainst = async (current: Targets) => {
      const plan = await callPlugin(def.id, `plan`, () => def.plan({
        platform: {id: platformDef.id, displayName: platformName, inferenceBaseUrls},
        secret: placeholder, keyName, read: current.read, now,
      }, envInfo, detected));
      if (plan.edits.length > 0) checkPlaceholderUse(def.id, plan, current.files.map(f => f.spec), placeholder);
      return plan;
    };
    const plan = nothingToWrite(await planAgainst(targets), def.id, platformDef.id, ctx);
    notes = plan.notes ?? [];
    stage = {id: def.id, def, envInfo, detected, targets, edits: plan.edits, changes: computeChanges(targets, plan.edits), planAgainst};
    refuseWriteProtected(stage.changes);
  }

  // After every input check and file parse: a bad command sends nothing, not even this public price lookup.
  const headroom = await checkHeadroom({
    plugin: platform, def: platformDef, budgetUsd: amount.usd, model,
    agent: stage && {def: stage.def, envInfo: stage.envInfo, detected: stage.detected},
  }, ctx);

  const capText = `${formatUsd(amount.usd)} ${reset ? `per ${reset.replace(/ly$/, ``).replace(/^dai$/, `day`)}` : `lifetime`} cap`;
  const byokText = byokCounted === null ? `` : byokCounted ? `; BYOK spend counts against the cap` : `; BYOK spend does not count against the cap (--exclude-byok)`;
  const action = `Create ${platformName} key "${keyName}" with a ${capText}${expiresAt ? `, expiring ${expiresAt.toISOString()}` : ``}${byokText}`;
  let diff: string | undefined;
  return {
    opts, platformId: platformDef.id, platformName, platformDef, platformPlugin: platform, amount, reset, expiresAt, keyName,
    placeholder, byokCounted, action, capText, inferenceBaseUrls, stage, notes, headroom,
    // Rendered only when shown (dry run, confirmation, GUI preview): `--yes` installs never pay for it.
    get diff() {
      const shown = placeholderFor(platformDef.id);
      return (diff ??= stage ? renderDiff(stage.changes, text => redactText(text.split(placeholder).join(shown))) : ``);
    },
  };
}

/** `--model <id>`: a model id as providers write them (`anthropic/claude-sonnet-4.5`, `openai/gpt-4o-mini:free`). */
function parseModel(input: string | undefined): string | undefined {
  if (input === undefined) return undefined;
  if (!/^[A-Za-z0-9][A-Za-z0-9._:/@+-]{0,199}$/.test(input))
    throw new InputError(`Invalid --model ${JSON.stringify(input)}: expected a model id such as anthropic/claude-sonnet-4.5`);
  return input;
}

/**
 * Whether the new key's cap covers BYOK spend: true by default where the platform lets a key choose (an uncounted
 * BYOK route would spend without bound), false with --exclude-byok, null where the platform has no choice to make.
 */
function byokChoice(def: PlatformDefinition, platformName: string, exclude: boolean): boolean | null {
  const support = def.byok ?? `none`;
  if (support === `optional`) return !exclude;
  if (exclude)
    throw new InputError(support === `always`
      ? `${platformName} always counts BYOK spend against a key's cap; drop --exclude-byok`
      : `${platformName} has no BYOK (bring-your-own-key) spend to exclude; drop --exclude-byok`);
  return support === `always` ? true : null;
}

/**
 * A file the user write-protected (no owner write bit, e.g. 0444) is refused before any key exists: capit's atomic
 * rename would replace it anyway and silently drop the protection, which a careful user set on purpose.
 */
function refuseWriteProtected(changes: readonly FileChange[]): void {
  if (process.platform === `win32`) return;
  const readOnly = changes.find(c => c.exists && c.edits.length > 0 && c.mode !== null && (c.mode & 0o200) === 0);
  if (!readOnly) return;
  const mode = (readOnly.mode! & 0o777).toString(8);
  throw new CapitError(`CAPIT_READ_ONLY_FILE`, `${readOnly.realPath} is read-only (mode ${mode}); capit will not change a file you write-protected — make it writable (chmod u+w ${readOnly.realPath}) and run the command again (nothing was changed)`);
}

/** Nothing to install (e.g. windsurf with no extension): no key may be created; says why, from the plugin's notes. */
function nothingToWrite(plan: AgentPlan, agentId: string, platformId: string, ctx: CapitContext): AgentPlan {
  if (plan.edits.length > 0) return plan;
  for (const note of plan.notes ?? []) ctx.stderr.write(`${note}\n`);
  throw new CapitError(`CAPIT_NOTHING_TO_WRITE`, `${agentId} has nothing capit can write for ${platformId} (why is said above); no key was created`, {exitCode: 1});
}

/** The JSON shape of a plan (`--dry-run --json`, the GUI preview). */
export function describePlan(plan: IssuePlan) {
  return {
    dryRun: true, platform: plan.platformId, name: plan.keyName, capUsd: plan.amount.usd, reset: plan.reset ?? null,
    expiresAt: plan.expiresAt?.toISOString() ?? null, byokCounted: plan.byokCounted, agent: plan.stage?.id ?? null, action: plan.action,
    files: plan.stage?.changes.map(c => ({path: c.realPath, exists: c.exists})) ?? [], diff: plan.diff,
    headroom: headroomJson(plan.headroom),
  };
}

/** The `headroom` field of `--json` output: the model checked, the worst case and the warning (null when fine or unknown). */
export function headroomJson(h: HeadroomCheck) {
  return {model: h.model, outputTokens: h.outputTokens, worstCaseUsd: h.worstCaseUsd, warning: h.warning};
}

/** The preflight's lines on stderr, before anything is created (text output only). */
function printHeadroom(plan: IssuePlan, ctx: CapitContext) {
  if (plan.headroom.warning) ctx.stderr.write(`warning: ${plan.headroom.warning}\n`);
  if (plan.headroom.note) ctx.stderr.write(`note: ${plan.headroom.note}\n`);
}

/**
 * Creates the key, applies the planned edits and records it — under the lock, deleting the key if the install fails.
 * Every step records its intent in the ledger or the backup manifest first (see the invariant in ./recover.ts).
 * The lock is taken here, once, for the whole transaction; nothing below takes it again.
 */
export async function executeIssue(plan: IssuePlan, ctx: CapitContext, hooks: IssueHooks = {}): Promise<IssueResult> {
  const {platformDef, platformName, stage, keyName, amount, reset, expiresAt} = plan;
  const paths = capitPaths(ctx.env);
  const {pctx} = await openPlatformSession(plan.platformPlugin, ctx, platformDef);
  const at = (step: string) => crashPoint(step, ctx.env);

  const result = await withLock(paths.state, async () => {
    await recoverInterruptedInstalls(paths.state, ctx, {def: platformDef, pctx});
    // Files may have changed while this run waited for the lock: plan against what they hold now.
    const current = stage ? await currentPlan(stage, plan, ctx) : undefined;
    const targets = current?.targets;
    const createdAt = new Date().toISOString();
    const entry = {
      name: keyName, platform: platformDef.id, agent: stage?.id ?? null, capUsd: amount.usd, reset: reset ?? null,
      expiresAt: expiresAt?.toISOString() ?? null, createdAt, files: targets?.files.map(f => f.realPath) ?? [], backupDir: null as string | null,
      byokCounted: plan.byokCounted, ...(plan.opts.successor ? {rotatedFrom: plan.opts.successor.of} : {}),
    };
    const isMine = (k: LedgerEntry) => k.name === keyName && k.status === `pending`;
    // A pending entry first: if capit dies between create and record, the name says which key to clean up.
    await updateLedger(paths.state, keys => [...keys, {...entry, status: `pending`}], {durable: true});
    at(`after-pending`);
    let created: CreatedKey;
    try {
      // A spinner only after ~300 ms on a terminal; never with --json (the GUI plans with json too).
      created = await withProgress(ctx, `Creating the ${platformName} key…`, () =>
        callPlugin(platformDef.id, `createKey`, () => platformDef.createKey(pctx, {name: keyName, capUsd: amount.usd, reset, expiresAt, ...(plan.platformDef.byok === `optional` ? {countByok: plan.byokCounted === true} : {})})),
      {enabled: !plan.opts.json});
    } catch (error) {
      if (!isAmbiguous(error)) {
        await updateLedger(paths.state, keys => keys.filter(k => !isMine(k)));
        throw error;
      }
      throw await settleAmbiguousCreate(error, plan, pctx, paths.state);
    }
    at(`after-create`);
    await updateLedger(paths.state, keys => keys.map(k => (isMine(k) ? {...k, id: created.id} : k)));
    at(`after-key-id`);
    if (hooks.verify) {
      try {
        await hooks.verify(created, pctx);
      } catch (error) {
        // Nothing was written yet: no agent file holds the new key, so it goes.
        const reason = redactText(error instanceof Error ? error.message : String(error), [created.secret]);
        const undo = await deleteQuietly(platformDef, pctx, created);
        if (undo.deleted) await updateLedger(paths.state, keys => keys.filter(k => !isMine(k)));
        else await updateLedger(paths.state, keys => keys.map(k => (isMine(k) ? {...k, pendingNote: undo.message} : k)));
        throw new CapitError(`CAPIT_VERIFY_FAILED`, `The new key "${keyName}" could not be verified: ${reason}. ${undo.message}`, {cause: error});
      }
    }

    let backupDir: string | null = null;
    let hadExistingFiles = false;
    if (stage && current) {
      try {
        // The planned edits with the real secret where the token was; no plugin code runs while the key is live.
        const changes = computeChanges(current.targets, withSecret(current.edits, plan.placeholder, created.secret));
        ({backupDir, hadExistingFiles} = await applyChanges(changes, {
          stateDir: paths.state,
          meta: {agent: stage.id, platform: platformDef.id, keyId: created.id, keyName, createdAt, ...(plan.opts.successor ? {rotationOf: plan.opts.successor.of} : {})},
          onBackupDir: async dir => {
            await updateLedger(paths.state, keys => keys.map(k => (isMine(k) ? {...k, backupDir: dir} : k)), {durable: true});
            at(`after-backup-dir`);
          },
          at,
        }));
        entry.files = changes.map(c => c.realPath);
        entry.backupDir = backupDir;
      } catch (error) {
        const reason = redactText(error instanceof Error ? error.message : String(error), [created.secret]);
        if (error instanceof CapitError && error.code === `CAPIT_WRITE_FAILED`) {
          // A file could not be put back and may hold the key: never delete it; the pending entry and its manifest
          // let the next run settle the install as one unit.
          throw new CapitError(`CAPIT_INSTALL_FAILED`, `Installing the key into ${stage.id} failed: ${reason}. The key "${keyName}" was kept because a file may hold it.`, {cause: error, hint: error.hint});
        }
        // applyChanges put every file back: no agent file holds the key.
        const undo = await deleteQuietly(platformDef, pctx, created);
        if (undo.deleted) await updateLedger(paths.state, keys => keys.filter(k => !isMine(k)));
        else await updateLedger(paths.state, keys => keys.map(k => (isMine(k) ? {...k, backupDir: null, pendingNote: undo.message} : k)));
        throw new CapitError(`CAPIT_INSTALL_FAILED`, `Installing the key into ${stage.id} failed: ${reason}. ${undo.message}`, {cause: error});
      }
    }
    at(`before-active`);
    await updateLedger(paths.state, keys => keys.map(k => (isMine(k) ? {...entry, id: created.id, status: `active` as const} : k)));
    return {created, backupDir, hadExistingFiles, files: entry.files, notes: current?.notes ?? plan.notes};
  }, {stderr: ctx.stderr});

  const shadows = stage ? await findShadows(stage.def, stage.envInfo, platformDef.id, stage.detected, plan.inferenceBaseUrls) : [];
  return {
    platform: platformDef.id, id: result.created.id, name: keyName, capUsd: amount.usd, reset: reset ?? null,
    expiresAt: expiresAt?.toISOString() ?? null, byokCounted: plan.byokCounted, agent: stage?.id ?? null, files: result.files,
    backupDir: result.backupDir, hadExistingFiles: result.hadExistingFiles, notes: result.notes, shadows,
    ...(stage ? {} : {secret: result.created.secret}),
  };
}

/**
 * The agent's files as they are now, under the lock, and the edits to make. Unchanged since the plan: the planned
 * targets and edits. Changed: a `--yes` run plans again against the new content (nobody saw the old plan; the agent's
 * edits may depend on what the files hold) — the one legitimate second plan; a run whose preview was shown (prompt,
 * GUI) refuses, since what would be written is no longer what the user confirmed.
 */
async function currentPlan(stage: AgentStage, plan: IssuePlan, ctx: CapitContext): Promise<{targets: Targets; edits: FileEdit[]; notes: string[]}> {
  const fresh = await loadTargets(stage.targets.files.map(f => f.spec));
  const changed = fresh.files.find((f, i) => {
    const planned = stage.targets.files[i]!;
    return f.realPath !== planned.realPath || !(f.original === null ? planned.original === null : planned.original !== null && f.original.equals(planned.original));
  });
  if (!changed) return {targets: stage.targets, edits: stage.edits, notes: plan.notes};
  if (plan.opts.yes) {
    const again = nothingToWrite(await stage.planAgainst(fresh), stage.id, plan.platformId, ctx);
    return {targets: fresh, edits: again.edits, notes: again.notes ?? []};
  }
  throw new CapitError(`CAPIT_FILE_CHANGED`, `${changed.spec.path} changed after the preview was shown; nothing was created or changed`, {
    hint: `Preview again to confirm the edit against the current file.`,
  });
}

/** `capit <platform> <usd> …`: plan → confirm → create key → apply edits → ledger (design §5). Returns the exit code. */
export async function issueKey(opts: IssueOptions, ctx: CapitContext): Promise<number> {
  const plan = await planIssue(opts, ctx);
  const {stage} = plan;

  if (!opts.json) printHeadroom(plan, ctx);
  if (opts.dryRun) {
    if (opts.json) {
      writeJson(ctx, describePlan(plan));
    } else {
      ctx.stdout.write(`Dry run — nothing will be created or changed.\n${plan.action}.\n`);
      if (stage) ctx.stdout.write(`Install it into ${stage.id}:\n${plan.diff}`);
      else ctx.stdout.write(`Print the new key once.\n`);
    }
    return 0;
  }

  // Confirm file changes: a prompt on a terminal, `--yes` otherwise. Never wait for input without a TTY.
  if (stage && !opts.yes) {
    if (!ctx.interactive)
      throw new InputError(`Refusing to change ${stage.id}'s configuration without confirmation: pass --yes (no terminal to ask on)`);
    ctx.stderr.write(`${plan.action}.\nInstall it into ${stage.id}:\n${plan.diff}`);
    if (!await confirm(`Configure ${stage.id} with a new ${plan.capText} ${plan.platformName} key?`, ctx)) {
      ctx.stderr.write(`Cancelled; nothing was created or changed.\n`);
      return 1;
    }
  }

  // A key shown once into /dev/null (or a closed stdout, which Node opens as /dev/null) would be lost: refuse first.
  const discarded = stage ? undefined : discardedStdout(ctx.stdout);
  if (discarded !== undefined)
    throw new InputError(`${discarded}: the new key is printed once and would be lost; redirect stdout to a file or pass --agent <id> (nothing was created)`);

  const result = await executeIssue(plan, ctx);
  if (result.secret !== undefined) {
    // The user asked for the key itself: only a write stdout took counts as handing it over.
    const {notes: _notes, shadows: _shadows, secret, ...rest} = result;
    if (!opts.json) ctx.stderr.write(`${formatUsd(result.capUsd)} ${result.platform} key "${result.name}" created (${plan.capText}). It is shown once:\n`);
    const failure = await writeOnce(ctx.stdout, opts.json ? `${JSON.stringify({...rest, warnings: result.shadows, headroom: headroomJson(plan.headroom), key: secret}, null, 2)}\n` : `${secret}\n`);
    if (failure !== undefined) throw await discardUndelivered(result, plan, failure, ctx);
  } else if (opts.json) {
    const {notes: _notes, shadows, ...rest} = result;
    writeJson(ctx, {...rest, warnings: shadows, headroom: headroomJson(plan.headroom)});
  } else if (result.agent) {
    ctx.stdout.write(`${formatUsd(result.capUsd)} ${result.platform} key installed into ${result.agent}\n`);
    if (result.backupDir && result.hadExistingFiles) ctx.stdout.write(`Old configuration backed up to ${result.backupDir}\n`);
    for (const note of result.notes) ctx.stderr.write(`${note}\n`);
  }
  for (const shadow of result.shadows)
    ctx.stderr.write(`warning: ${shadow}\n`);
  return 0;
}

// An error proves that no key was made only when the request never left (connection never opened) or the provider
// refused it. Anything else — a timeout after sending, a dropped connection, a 5xx, a body the plugin could not read —
// may have left a key at the provider whose secret capit never saw.
const REFUSALS = new Set<ProviderFailureKind>([`bad-master-key`, `not-master-key`, `bad-request`, `insufficient-credits`, `rate-limited`]);

function isAmbiguous(error: unknown): boolean {
  if (error instanceof NetworkError) return error.requestSent;
  if (error instanceof ProviderError) return !REFUSALS.has(error.kind);
  return true;
}

/**
 * An ambiguous create: never create twice; look the key up by its unique name and delete it (its secret is lost, so
 * it could not be installed). The pending entry goes only once the lookup settled it; a create cut off by capit's own
 * timeout may still land at the provider after the lookup, so that entry stays for the next run to look again.
 */
async function settleAmbiguousCreate(error: unknown, plan: IssuePlan, pctx: PlatformContext, stateDir: string): Promise<CapitError> {
  const {platformDef, keyName} = plan;
  const byName = await deleteByName(platformDef, pctx, keyName);
  const stillInFlight = error instanceof PluginTimeoutError && byName.state === `none`;
  const keep = byName.state === `failed` || stillInFlight;
  const isMine = (k: LedgerEntry) => k.name === keyName && k.status === `pending`;
  const what = byName.state === `deleted` ? byName.message
    : stillInFlight ? `A key "${keyName}" may still be created by the request capit gave up on; capit kept a record and will look it up by name and delete it on its next run.`
    : byName.message;
  if (keep) await updateLedger(stateDir, keys => keys.map(k => (isMine(k) ? {...k, pendingNote: what} : k)));
  else await updateLedger(stateDir, keys => keys.filter(k => !isMine(k)));
  const base = error instanceof Error ? error.message : String(error);
  // Each variant says that a key may exist and what capit did about it.
  const text = keep ? `${base}. ${what}` : `${base}. The provider may have created the key: ${what} Nothing was installed; run the command again.`;
  const code = error instanceof CapitError ? error.code : `CAPIT_CREATE_FAILED`;
  return new CapitError(code, text, {cause: error, hint: error instanceof CapitError ? error.hint : undefined});
}

async function deleteQuietly(def: PlatformDefinition, pctx: PlatformContext, created: CreatedKey): Promise<{deleted: boolean; message: string}> {
  try {
    await callPlugin(def.id, `deleteKey`, () => def.deleteKey(pctx, created.id));
    return {deleted: true, message: `The new key "${created.name}" was deleted at the provider; nothing was changed.`};
  } catch (error) {
    return {deleted: false, message: `The new key "${created.name}" could not be deleted (${(error as Error).message}); capit kept a record and will delete it on its next run, or delete it with: capit keys delete ${created.name}`};
  }
}

/**
 * The key shown once could not be written to stdout (EPIPE, ENOSPC, …): nobody received its secret, so it is deleted
 * at the provider (and recorded so in the ledger) rather than left alive; the error says which happened.
 */
async function discardUndelivered(result: IssueResult, plan: IssuePlan, failure: string, ctx: CapitContext): Promise<CapitError> {
  const notPrinted = `could not print the new key (${failure})`;
  try {
    const {pctx} = await openPlatformSession(plan.platformPlugin, ctx, plan.platformDef);
    await callPlugin(plan.platformDef.id, `deleteKey`, () => plan.platformDef.deleteKey(pctx, result.id));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new CapitError(`CAPIT_KEY_NOT_DELIVERED`, `${notPrinted}, and deleting it failed (${reason}); the key "${result.name}" still exists — delete it with: capit keys delete ${result.name}`);
  }
  const paths = capitPaths(ctx.env);
  const deletedAt = new Date().toISOString();
  await withLock(paths.state, () => updateLedger(paths.state, keys =>
    keys.map(k => (k.platform === result.platform && k.id === result.id ? {...k, status: `deleted` as const, deletedAt} : k))), {stderr: ctx.stderr});
  return new CapitError(`CAPIT_KEY_NOT_DELIVERED`, `${notPrinted}; nobody received it, so the key "${result.name}" was deleted at the provider — run the command again with stdout going somewhere that keeps it`);
}

function writeJson(ctx: CapitContext, value: unknown) {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}
