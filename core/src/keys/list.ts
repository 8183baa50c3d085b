import type {CapitContext}          from '../context.js';
import {findPlatform}               from '../context.js';
import {CapitError, InputError}     from '../errors.js';
import {redactText}                 from '../issue/redact.js';
import type {PlatformDefinition, ProviderKey} from '../plugin.js';
import {loadPlugin}                 from '../plugins/load.js';
import type {DiscoveredPlugin}      from '../plugins/discover.js';
import {callPlugin, platformContext, resolveMasterKey} from '../platforms.js';
import {readLedger}                 from '../state/ledger.js';
import {capitPaths}                 from '../state/paths.js';

export interface ListOptions {
  platform?: string;
  glob?: string;
  json: boolean;
  all: boolean;
}

export interface ListedKey extends ProviderKey {
  platform: string;
  agent: string | null;
  issuedByCapit: boolean;
  status: `active` | `disabled` | `expired` | `capped`;
}

function statusOf(key: ProviderKey, now: number): ListedKey[`status`] {
  if (key.disabled) return `disabled`;
  if (key.expiresAt && Date.parse(key.expiresAt) <= now) return `expired`;
  if (key.remainingUsd !== null && key.remainingUsd <= 0) return `capped`;
  return `active`;
}

export interface KeyListing {
  keys: ListedKey[];
  /** Platforms that failed, each with a one-line reason; the others still listed. */
  errors: {platform: string; message: string; exitCode: number}[];
}

/** Every key on every configured platform (in parallel), or on one; capit's own keys first. */
export async function collectKeys(opts: Omit<ListOptions, `json`>, ctx: CapitContext): Promise<KeyListing> {
  let platforms: DiscoveredPlugin[] = ctx.plugins.platforms;
  if (opts.platform !== undefined) {
    const one = findPlatform(ctx.plugins, opts.platform);
    if (!one) {
      const installed = ctx.plugins.platforms.map(p => p.manifest.id).join(`, `) || `none`;
      throw new InputError(`Unknown platform "${opts.platform}", installed: ${installed}`);
    }
    platforms = [one];
  }
  const {default: picomatch} = await import(`picomatch`);
  const matches = opts.glob ? picomatch(opts.glob) : () => true;
  const paths = capitPaths(ctx.env);
  const ledger = await readLedger(paths.state);
  const now = Date.now();

  const results = await Promise.allSettled(platforms.map(async plugin => {
    const def = await loadPlugin(plugin) as PlatformDefinition;
    const master = await resolveMasterKey(def, plugin, {env: ctx.env, configDir: paths.config, interactive: ctx.interactive, stderr: ctx.stderr});
    const pctx = await platformContext(def, plugin, master.key, ctx.env);
    const keys: ListedKey[] = [];
    await callPlugin(def.id, `listKeys`, async () => {
      for await (const key of def.listKeys(pctx)) {
        const record = ledger.find(k => k.platform === def.id && (k.id === key.id || (!k.id && k.name === key.name)));
        if (!record && !opts.all) continue;
        if (!matches(key.name)) continue;
        keys.push({...key, platform: def.id, agent: record?.agent ?? null, issuedByCapit: Boolean(record), status: statusOf(key, now)});
      }
    });
    return keys;
  }));

  const keys: ListedKey[] = [];
  const errors: KeyListing[`errors`] = [];
  results.forEach((result, i) => {
    if (result.status === `fulfilled`) keys.push(...result.value);
    else errors.push({
      platform: platforms[i]!.manifest.id,
      message: redactText(result.reason instanceof Error ? result.reason.message : String(result.reason)),
      exitCode: result.reason instanceof CapitError ? result.reason.exitCode : 1,
    });
  });
  keys.sort((a, b) => Number(b.issuedByCapit) - Number(a.issuedByCapit) || (b.createdAt ?? ``).localeCompare(a.createdAt ?? ``));
  return {keys, errors};
}

export async function listKeys(opts: ListOptions, ctx: CapitContext): Promise<number> {
  const {keys, errors: failures} = await collectKeys(opts, ctx);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({keys, errors: failures.map(({platform, message}) => ({platform, message}))}, null, 2)}\n`);
  } else {
    ctx.stdout.write(renderTable(keys));
    for (const failure of failures) ctx.stderr.write(`capit: ${failure.platform}: ${failure.message}\n`);
  }
  if (failures.length === 1 && keys.length === 0 && opts.platform !== undefined) return failures[0]!.exitCode;
  return failures.length > 0 ? 1 : 0;
}

function money(usd: number | null): string {
  return usd === null ? `—` : `$${usd.toFixed(2)}`;
}

function renderTable(keys: ListedKey[]): string {
  if (keys.length === 0) return `No keys.\n`;
  const rows = [
    [`NAME`, `PLATFORM`, `AGENT`, `SPENT/CAP`, `RESET`, `REMAINING`, `STATUS`, `CREATED`],
    ...keys.map(k => [
      k.name, k.platform, k.agent ?? `—`, `${money(k.spentUsd)}/${money(k.capUsd)}`, k.reset ?? `lifetime`,
      money(k.remainingUsd), k.status, (k.createdAt ?? ``).slice(0, 10),
    ]),
  ];
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map(r => r[col]!.length)));
  return rows.map(r => r.map((cell, col) => cell.padEnd(widths[col]!)).join(`  `).trimEnd()).join(`\n`) + `\n`;
}
