// What the README generators share: the built-in plugins as core/package.json lists them, and the README block
// between a generator's BEGIN/END markers (read it to compare, rewrite it with `--write`).
import fs   from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

export const REPO = path.resolve(import.meta.dirname, `../..`);
export const README = path.join(REPO, `README.md`);

/** The built-in plugins of one kind (`agent`, `platform`): their folder and package.json, in core's dependency order. */
export function builtins(kind) {
  const core = JSON.parse(fs.readFileSync(path.join(REPO, `core/package.json`), `utf8`));
  return Object.keys(core.dependencies).filter(n => n.startsWith(`capit-${kind}-`)).map(n => {
    const dir = path.join(REPO, `plugins`, `${kind}-${n.slice(`capit-${kind}-`.length)}`);
    return {dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`))};
  });
}

/** A plugin's default export, loaded from its manifest's `entry`. */
export async function pluginDefinition({dir, pkg}) {
  return (await import(pathToFileURL(path.join(dir, pkg.capit.entry)).href)).default;
}

/** Text safe inside one markdown table cell. */
export const cell = text => String(text).replace(/\|/g, `\\|`).replace(/\n/g, ` `);

/** The trimmed text between `begin` and `end` in `text`, or null when the markers are missing or out of order. */
export function blockBetween(text, begin, end) {
  const a = text.indexOf(begin);
  const b = text.indexOf(end);
  if (a === -1 || b === -1 || b < a) return null;
  return text.slice(a + begin.length, b).trim();
}

/**
 * The command-line side of a generator: when `scriptUrl` is the script node was started with, print the table, or
 * with `--write` put it between the README's markers (refused when the README has no such block).
 */
export async function generatorMain(scriptUrl, begin, end, makeTable) {
  if (scriptUrl !== pathToFileURL(process.argv[1] ?? ``).href) return;
  const table = await makeTable();
  if (process.argv.includes(`--write`)) {
    const text = fs.readFileSync(README, `utf8`);
    if (blockBetween(text, begin, end) === null) throw new Error(`README.md has no ${begin} … ${end} block`);
    const a = text.indexOf(begin) + begin.length;
    fs.writeFileSync(README, `${text.slice(0, a)}\n${table}\n${text.slice(text.indexOf(end))}`);
  } else {
    process.stdout.write(`${table}\n`);
  }
}
