// The README's agent × platform matrix must say what the built-in plugins declare (regenerate it with
// `node test/readme/agent-matrix.mjs --write` after changing a plugin's platforms, verified or supports()).
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
