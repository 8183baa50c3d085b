// The README's agent × platform matrix, made from what the built-in agent plugins declare: each manifest's `platforms`
// and `verified`, and `supports()`'s reason for a platform an agent refuses. `node test/readme/agent-matrix.mjs --write`
// rewrites the block between the markers; test/readme/matrix.test.ts fails when the README and the plugins disagree.
import fs   from 'node:fs';
import path from 'node:path';
import {pathToFileURL} from 'node:url';

const REPO = path.resolve(import.meta.dirname, `../..`);
export const README = path.join(REPO, `README.md`);
export const BEGIN = `<!-- agent-platform-matrix: made by test/readme/agent-matrix.mjs -->`;
export const END = `<!-- /agent-platform-matrix -->`;

function builtins(kind) {
  const core = JSON.parse(fs.readFileSync(path.join(REPO, `core/package.json`), `utf8`));
  return Object.keys(core.dependencies).filter(n => n.startsWith(`capit-${kind}-`)).map(n => {
    const dir = path.join(REPO, `plugins`, `${kind}-${n.slice(`capit-${kind}-`.length)}`);
    return {dir, pkg: JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`))};
  });
}

const cell = text => text.replace(/\|/g, `\\|`).replace(/\n/g, ` `);

export async function matrix() {
  const platforms = builtins(`platform`).map(p => p.pkg.capit.id).sort((a, b) => (a === `openrouter` ? -1 : b === `openrouter` ? 1 : a.localeCompare(b)));
  const rows = [];
  for (const {dir, pkg} of builtins(`agent`)) {
    const manifest = pkg.capit;
    const def = (await import(pathToFileURL(path.join(dir, manifest.entry)).href)).default;
    const cells = platforms.map(id => {
      const ok = def.supports(id);
      if (ok !== true) return `✗ ${cell(ok)}`;
      const by = manifest.verified?.[id];
      return by ? `✓ verified: ${cell(by)}` : `✓ files`;
    });
    rows.push(`| \`${manifest.id}\` | ${cells.join(` | `)} |`);
  }
  return [
    `| agent | ${platforms.join(` | `)} |`,
    `|---|${platforms.map(() => `---`).join(`|`)}|`,
    ...rows,
  ].join(`\n`);
}

export function currentBlock(text) {
  const a = text.indexOf(BEGIN);
  const b = text.indexOf(END);
  if (a === -1 || b === -1 || b < a) return null;
  return text.slice(a + BEGIN.length, b).trim();
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? ``).href) {
  const table = await matrix();
  if (process.argv.includes(`--write`)) {
    const text = fs.readFileSync(README, `utf8`);
    if (currentBlock(text) === null) throw new Error(`README.md has no ${BEGIN} … ${END} block`);
    const a = text.indexOf(BEGIN) + BEGIN.length;
    fs.writeFileSync(README, `${text.slice(0, a)}\n${table}\n${text.slice(text.indexOf(END))}`);
  } else {
    process.stdout.write(`${table}\n`);
  }
}
