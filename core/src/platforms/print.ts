// The text side of `capit platforms …`: the functions behind the command classes in commands/platforms/.
import pc from 'picocolors';

import type {CapitContext}     from '../context.js';
import {InputError}            from '../errors.js';
import {requirePlatform}       from './session.js';
import {displayName}           from './context.js';
import {confirm}               from '../ui/prompt.js';
import {withArticle}           from '../ui/article.js';
import {addMasterKey, listPlatformStatus, masterKeyFile, removeMasterKey, validateMasterKey} from './master-keys.js';
import type {PlatformStatus}   from './master-keys.js';

/*
 * `capit platforms --json` — a stable shape:
 * {"platforms": [{"id": "openrouter", "displayName": "OpenRouter", "setupUrl": "https://…",
 *                 "envVar": "OPENROUTER_MANAGEMENT_KEY" | null, "source": "env" | "stored" | "none"}]}
 * `source` says where the master key comes from (the key itself is never printed).
 */
export async function printPlatforms(opts: {json: boolean}, ctx: CapitContext): Promise<number> {
  const platforms = await listPlatformStatus(ctx);
  if (opts.json) {
    ctx.stdout.write(`${JSON.stringify({platforms}, null, 2)}\n`);
    return 0;
  }
  ctx.stdout.write(renderPlatforms(platforms, ctx.colorDepth > 1));
  return 0;
}

export function renderPlatforms(platforms: PlatformStatus[], colors: boolean): string {
  if (platforms.length === 0) return `No platforms installed. Add one with: capit plugin add capit-platform-<id>\n`;
  const c = pc.createColors(colors);
  const header = [`PLATFORM`, `NAME`, `MASTER KEY`, `CREATE ONE AT`];
  const rows = platforms.map(p => [
    p.id, p.displayName,
    p.source === `env` ? `from $${p.envVar}` : p.source === `stored` ? `stored` : `not set`,
    p.setupUrl,
  ]);
  const widths = header.map((_, col) => Math.max(header[col]!.length, ...rows.map(r => r[col]!.length)));
  const lines = [header.map((h, col) => h.padEnd(widths[col]!)).join(`  `).trimEnd()];
  rows.forEach((row, i) => lines.push(row.map((cell, col) => {
    const padded = cell.padEnd(widths[col]!);
    return col === 2 && platforms[i]!.source === `none` ? c.dim(padded) : padded;
  }).join(`  `).trimEnd()));
  const unset = platforms.filter(p => p.source === `none`);
  if (unset.length > 0) lines.push(``, c.dim(`Add a master key with: capit platforms add ${unset[0]!.id}`));
  return `${lines.join(`\n`)}\n`;
}

/** One line from stdin (a pipe): the key, without its line ending. */
export async function readKeyFromStdin(stdin: NodeJS.ReadableStream): Promise<string> {
  let text = ``;
  for await (const chunk of stdin as AsyncIterable<Buffer | string>) {
    text += typeof chunk === `string` ? chunk : chunk.toString(`utf8`);
    if (text.includes(`\n`)) break;
  }
  return text.split(/\r?\n/, 1)[0] ?? ``;
}

export async function addPlatformKey(opts: {platform: string; keyStdin: boolean; store: boolean}, ctx: CapitContext): Promise<number> {
  const plugin = requirePlatform(opts.platform.trim(), ctx);
  const name = displayName(plugin);
  const envVar = (plugin.manifest as {masterKeyEnv?: string}).masterKeyEnv;
  let key: string;
  if (opts.keyStdin) {
    if ((ctx.stdin as NodeJS.ReadStream).isTTY) throw new InputError(`--key-stdin reads a piped key; on a terminal leave it out to get a hidden prompt`);
    key = await readKeyFromStdin(ctx.stdin);
  } else if (ctx.interactive) {
    const setupUrl = (plugin.manifest as {setupUrl?: string}).setupUrl;
    if (setupUrl) ctx.stderr.write(`Create ${withArticle(name)} management key at ${setupUrl}\n`);
    const {default: password} = await import(`@inquirer/password`);
    key = await password({message: `${name} master key`, mask: `*`}, {input: ctx.stdin, output: ctx.stderr});
  } else {
    throw new InputError(`No terminal to ask for the ${name} master key on: pipe it in with --key-stdin`);
  }
  if (key.trim() === ``) throw new InputError(`No master key given`);

  if (!opts.store) {
    await validateMasterKey(plugin.manifest.id, key, ctx);
    ctx.stdout.write(`The ${name} master key works; it was not stored (--no-store).\n`);
    ctx.stdout.write(`To use it, ${envVar ? `set ${envVar} in your environment, or ` : ``}leave it unset and capit asks for the key (hidden) on each run without storing it.\n`);
    return 0;
  }
  await addMasterKey(plugin.manifest.id, key, ctx);
  ctx.stdout.write(`The ${name} master key works and is stored in ${masterKeyFile(ctx)} (readable only by you).\n`);
  if (envVar && ctx.env[envVar]?.trim()) ctx.stderr.write(`Note: ${envVar} is set and takes precedence over the stored key.\n`);
  return 0;
}

export async function removePlatformKey(opts: {platform: string; yes: boolean}, ctx: CapitContext): Promise<number> {
  const plugin = requirePlatform(opts.platform.trim(), ctx);
  const name = displayName(plugin);
  const status = (await listPlatformStatus(ctx)).find(p => p.id === plugin.manifest.id)!;
  const envNote = status.source === `env` ? ` (${status.envVar} is set and still provides one)` : ``;
  const stored = status.source === `stored` || (status.source === `env` && await hasStored(plugin.manifest.id, ctx));
  if (!stored) {
    ctx.stdout.write(`No stored ${name} master key; nothing to remove${envNote}.\n`);
    return 0;
  }
  if (!opts.yes) {
    if (!ctx.interactive) throw new InputError(`Refusing to remove the stored ${name} master key without confirmation: pass --yes (no terminal to ask on)`);
    if (!await confirm(`Remove the stored ${name} master key?`, ctx)) {
      ctx.stderr.write(`Cancelled; nothing was changed.\n`);
      return 1;
    }
  }
  await removeMasterKey(plugin.manifest.id, ctx);
  ctx.stdout.write(`Removed the stored ${name} master key from ${masterKeyFile(ctx)}${envNote}.\n`);
  return 0;
}

async function hasStored(id: string, ctx: CapitContext): Promise<boolean> {
  const {storedCredentials} = await import(`./session.js`);
  return Boolean((await storedCredentials(ctx))[id]);
}
