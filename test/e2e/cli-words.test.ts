// What a first-time user meets on the command line (issue 9, items 3–6 and 10). The wording of help and of every
// mistake is tested in-process (core/test/cli/parse.test.ts for the parser, output.test.ts for what main() prints);
// this file keeps the built binary's side of it: a mistake exits 2 with one line and writes nothing.
import {describe, expect, it} from 'vitest';

import {runCli}                             from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

function setup() {
  const root = tempDir(`capit-words-`);
  // A master key in the environment: a mistake must be refused before it could ever be used.
  return {root, env: sandboxEnv(root, {OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-fake-master-0000000000000000`, CAPIT_OPENROUTER_BASE_URL: `http://127.0.0.1:9/api/v1`})};
}

describe(`mistakes through the built binary: one line, exit 2, nothing written`, () => {
  it.each([
    // Caught before the parser runs (main.ts), and explained after it refused (clipanion → CapitCli.explain).
    [[`opnerouter`, `5`, `--agent`, `opencode`, `--yes`], `capit: Unknown platform "opnerouter"; did you mean "openrouter"?`],
    [[`openrouter`, `--agent`, `opencode`, `--yes`], `capit: missing <usd>; usage: capit openrouter <usd> [options], e.g. capit openrouter 5 --agent opencode`],
  ])(`capit %j`, async (args, message) => {
    const {root, env} = setup();
    const before = snapshotTree(root);
    const result = await runCli(args, {env});
    expect(result.stderr).toBe(`${message}\n`);
    expect(result.exitCode).toBe(2);
    expect(result.stdout).toBe(``);
    expect(snapshotTree(root)).toEqual(before);
  });
});
