
import type {CapitContext}                          from '../context.js';
import {findAgent, findPlatform}                    from '../context.js';
import {CapitError, InputError}                     from '../errors.js';
import {applyChanges, computeChanges, loadTargets, renderDiff} from '../files/index.js';
import type {FileChange, Targets}                   from '../files/index.js';
import {withLock}                                   from '../files/lock.js';
import type {AgentDefinition, AgentEnvironment, AgentPlan, CreatedKey, PlatformDefinition} from '../plugin.js';
import {loadPlugin}                                 from '../plugins/load.js';
import {callPlugin, displayName, managementBaseUrl, platformContext, resolveMasterKey} from '../platforms.js';
import {updateLedger}                               from '../state/ledger.js';
import {capitPaths, homeDir}                        from '../state/paths.js';
import {confirm}                                    from '../prompt.js';
import {formatUsd, makeKeyName, parseAmount, parseExpiry, parseNamePrefix, parseReset} from './inputs.js';
import {redactText}                                 from './redact.js';
import {findShadows}                                from './shadows.js';

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
}

export function agentEnvironment(ctx: CapitContext): AgentEnvironment {
  return {env: ctx.env, home: homeDir(ctx.env), cwd: ctx.cwd, platform: process.platform};
}

interface AgentStage {
  id: string;
  def: AgentDefinition;
  envInfo: AgentEnvironment;
  targets: Targets;
  changes: FileChange[];
}

/** plan → confirm → create key → apply edits → ledger (design §5). Returns the exit code. */
export async function issueKey(opts: IssueOptions, ctx: CapitContext): Promise<number> {
  // 1. Everything the user typed is checked before any plugin code, request or file access.
  const platform = findPlatform(ctx.plugins, opts.platform);
  if (!platform) throw new InputError(`Unknown platform "${opts.platform}"`);
  const amount = parseAmount(opts.amount, {allowLarge: opts.allowLarge});
  const reset = parseReset(opts.reset);
  const expiresAt = parseExpiry(opts.expires);
  const agentPlugin = opts.agent === undefined ? undefined : findAgent(ctx.plugins, opts.agent);
  if (opts.agent !== undefined && !agentPlugin) {
    const installed = ctx.plugins.agents.map(a => a.manifest.id).join(`, `) || `none`;
    throw new InputError(`Unknown agent "${opts.agent}"; installed agents: ${installed}`);
  }
  if (agentPlugin?.manifest.kind === `agent` && agentPlugin.manifest.platforms && !agentPlugin.manifest.platforms.includes(platform.manifest.id))
    throw new InputError(`${agentPlugin.manifest.id} cannot use ${platform.manifest.id} keys (it supports: ${agentPlugin.manifest.platforms.join(`, `)})`);
  const prefix = parseNamePrefix(opts.name, opts.agent ?? `capit`);

  // 2. Plan with a placeholder secret; every target file must parse before a key exists.
  const platformDef = await loadPlugin(platform) as PlatformDefinition;
  const platformName = displayName(platform);
  const keyName = makeKeyName(prefix, platformDef.maxNameLength);
  const baseUrl = managementBaseUrl(platformDef, ctx.env);
  const inferenceBaseUrls = await callPlugin(platformDef.id, `inferenceBaseUrls`, () => platformDef.inferenceBaseUrls(baseUrl));
  const placeholder = `<new ${platformDef.id} key>`;

  let stage: AgentStage | undefined;
  let plan: AgentPlan | undefined;
  if (agentPlugin) {
    const def = await loadPlugin(agentPlugin) as AgentDefinition;
    const supported = await callPlugin(def.id, `supports`, () => def.supports(platformDef.id));
    if (supported !== true) throw new InputError(`${def.id} cannot use ${platformDef.id} keys: ${supported}`);
    const envInfo = agentEnvironment(ctx);
    const files = await callPlugin(def.id, `files`, () => def.files(envInfo));
    const targets = await loadTargets(files);
    plan = await callPlugin(def.id, `plan`, () => def.plan({
      platform: {id: platformDef.id, displayName: platformName, inferenceBaseUrls},
      secret: placeholder, keyName, read: targets.read,
    }, envInfo));
    if (plan.edits.length === 0) throw new InputError(`${def.id} has nothing to write for ${platformDef.id}`);
    stage = {id: def.id, def, envInfo, targets, changes: computeChanges(targets, plan.edits)};
  }

  const capText = `${formatUsd(amount.usd)} ${reset ? `per ${reset.replace(/ly$/, ``).replace(/^dai$/, `day`)}` : `lifetime`} cap`;
  const action = `Create ${platformName} key "${keyName}" with a ${capText}${expiresAt ? `, expiring ${expiresAt.toISOString()}` : ``}`;

  if (opts.dryRun) {
    const diff = stage ? renderDiff(stage.changes, text => redactText(text)) : ``;
    if (opts.json) {
      writeJson(ctx, {
        dryRun: true, platform: platformDef.id, name: keyName, capUsd: amount.usd, reset: reset ?? null,
        expiresAt: expiresAt?.toISOString() ?? null, agent: stage?.id ?? null,
        files: stage?.changes.map(c => ({path: c.realPath, exists: c.exists})) ?? [], diff,
      });
    } else {
      ctx.stdout.write(`Dry run — nothing will be created or changed.\n${action}.\n`);
      if (stage) ctx.stdout.write(`Install it into ${stage.id}:\n${diff}`);
      else ctx.stdout.write(`Print the new key once.\n`);
    }
    return 0;
  }

  // 3. Confirm file changes: a prompt on a terminal, `--yes` otherwise. Never wait for input without a TTY.
  if (stage && !opts.yes) {
    if (!ctx.interactive)
      throw new InputError(`Refusing to change ${stage.id}'s configuration without confirmation: pass --yes (no terminal to ask on)`);
    ctx.stderr.write(`${action}.\nInstall it into ${stage.id}:\n${renderDiff(stage.changes, text => redactText(text))}`);
    if (!await confirm(`Configure ${stage.id} with a new ${capText} ${platformName} key?`, ctx)) {
      ctx.stderr.write(`Cancelled; nothing was created or changed.\n`);
      return 1;
    }
  }

  // 4. Create, install, record — under the lock, undoing the key if the install fails.
  const paths = capitPaths(ctx.env);
  const masterKey = await resolveMasterKey(platformDef, platform, {env: ctx.env, configDir: paths.config, interactive: ctx.interactive, stderr: ctx.stderr});
  const pctx = await platformContext(platformDef, platform, masterKey.key, ctx.env);

  const result = await withLock(paths.state, async () => {
    const createdAt = new Date().toISOString();
    const entry = {
      name: keyName, platform: platformDef.id, agent: stage?.id ?? null, capUsd: amount.usd, reset: reset ?? null,
      expiresAt: expiresAt?.toISOString() ?? null, createdAt, files: [] as string[], backupDir: null as string | null,
    };
    // A pending entry first: if capit dies between create and record, the name says which key to clean up.
    await updateLedger(paths.state, keys => [...keys, {...entry, status: `pending`}]);
    let created: CreatedKey;
    try {
      created = await callPlugin(platformDef.id, `createKey`, () => platformDef.createKey(pctx, {name: keyName, capUsd: amount.usd, reset, expiresAt}));
    } catch (error) {
      await updateLedger(paths.state, keys => keys.filter(k => !(k.name === keyName && k.status === `pending`)));
      throw error;
    }

    let backupDir: string | null = null;
    let hadExistingFiles = false;
    if (stage) {
      try {
        const realPlan = await callPlugin(stage.id, `plan`, () => stage.def.plan({
          platform: {id: platformDef.id, displayName: platformName, inferenceBaseUrls},
          secret: created.secret, keyName, read: stage.targets.read,
        }, stage.envInfo));
        const changes = computeChanges(stage.targets, realPlan.edits);
        ({backupDir, hadExistingFiles} = await applyChanges(changes, {
          stateDir: paths.state,
          meta: {agent: stage.id, platform: platformDef.id, keyId: created.id, keyName, createdAt},
        }));
        entry.files = changes.map(c => c.realPath);
        entry.backupDir = backupDir;
      } catch (error) {
        const undo = await deleteQuietly(platformDef, pctx, created);
        await updateLedger(paths.state, keys => keys.filter(k => !(k.name === keyName && k.status === `pending`)));
        const reason = redactText(error instanceof Error ? error.message : String(error), [created.secret]);
        throw new CapitError(`CAPIT_INSTALL_FAILED`, `Installing the key into ${stage.id} failed: ${reason}. ${undo}`, {cause: error});
      }
    }
    await updateLedger(paths.state, keys => keys.map(k => (k.name === keyName && k.status === `pending` ? {...entry, id: created.id, status: `active` as const} : k)));
    return {created, backupDir, hadExistingFiles};
  });

  const {created} = result;
  if (opts.json) {
    writeJson(ctx, {
      platform: platformDef.id, id: created.id, name: keyName, capUsd: amount.usd, reset: reset ?? null,
      expiresAt: expiresAt?.toISOString() ?? null, agent: stage?.id ?? null,
      files: stage?.changes.map(c => c.realPath) ?? [], backupDir: result.hadExistingFiles ? result.backupDir : null,
      // The one place a full secret is shown: no agent means the user asked for the key itself.
      ...(stage ? {} : {key: created.secret}),
    });
  } else if (stage) {
    ctx.stdout.write(`${formatUsd(amount.usd)} ${platformDef.id} key installed into ${stage.id}\n`);
    if (result.hadExistingFiles && result.backupDir) ctx.stdout.write(`Old configuration backed up to ${result.backupDir}\n`);
    for (const note of plan?.notes ?? []) ctx.stderr.write(`${note}\n`);
  } else {
    ctx.stderr.write(`${formatUsd(amount.usd)} ${platformDef.id} key "${keyName}" created (${capText}). It is shown once:\n`);
    ctx.stdout.write(`${created.secret}\n`);
  }
  if (stage) {
    const shadows = await findShadows(stage.def, stage.envInfo, platformDef.id);
    for (const shadow of shadows)
      ctx.stderr.write(`warning: ${shadow} — ${stage.id} may not use the capped key\n`);
  }
  return 0;
}

async function deleteQuietly(def: PlatformDefinition, pctx: Awaited<ReturnType<typeof platformContext>>, created: CreatedKey): Promise<string> {
  try {
    await def.deleteKey(pctx, created.id);
    return `The new key "${created.name}" was deleted at the provider; nothing was changed.`;
  } catch (error) {
    return `The new key "${created.name}" could not be deleted (${(error as Error).message}); delete it with: capit keys delete ${created.name}`;
  }
}

function writeJson(ctx: CapitContext, value: unknown) {
  ctx.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

