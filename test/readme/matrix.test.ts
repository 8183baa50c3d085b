// The README's agent × platform matrix and agent × layer table must say what the built-in plugins declare (regenerate
// them with `node test/readme/agent-matrix.mjs --write` and `node test/readme/agent-layers.mjs --write`).
import fs from 'node:fs';

import {describe, expect, it} from 'vitest';

// @ts-expect-error: a plain .mjs script without types
import {README, currentBlock, matrix} from './agent-matrix.mjs';

describe(`README agent × platform matrix`, () => {
  it(`matches the plugins' manifests and supports()`, async () => {
    const block = currentBlock(fs.readFileSync(README, `utf8`));
    expect(block, `README.md has no agent-platform-matrix block`).not.toBeNull();
    expect(block).toBe(await matrix());
  });
});

describe(`README agent × layer table`, () => {
  it(`matches the plugins' keySources`, async () => {
    // @ts-expect-error: a plain .mjs script without types
    const layers = await import(`./agent-layers.mjs`);
    const block = layers.currentBlock(fs.readFileSync(layers.README, `utf8`));
    expect(block, `README.md has no agent-layers block`).not.toBeNull();
    expect(block).toBe(await layers.layers());
  });
});
