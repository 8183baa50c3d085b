// The README's agent × platform matrix, made from what the built-in agent plugins declare: each manifest's `platforms`
// and `verified`, and `supports()`'s reason for a platform an agent refuses. `node test/readme/agent-matrix.mjs --write`
// rewrites the block between the markers; test/readme/matrix.test.ts fails when the README and the plugins disagree.
import {README, blockBetween, builtins, cell, generatorMain, pluginDefinition} from './readme-block.mjs';

export {README};
export const BEGIN = `<!-- agent-platform-matrix: made by test/readme/agent-matrix.mjs -->`;
export const END = `<!-- /agent-platform-matrix -->`;

export async function matrix() {
  const platforms = builtins(`platform`).map(p => p.pkg.capit.id).sort((a, b) => (a === `openrouter` ? -1 : b === `openrouter` ? 1 : a.localeCompare(b)));
  const rows = [];
  for (const {dir, pkg} of builtins(`agent`)) {
    const manifest = pkg.capit;
    const def = await pluginDefinition({dir, pkg});
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

export const currentBlock = text => blockBetween(text, BEGIN, END);

await generatorMain(import.meta.url, BEGIN, END, matrix);
