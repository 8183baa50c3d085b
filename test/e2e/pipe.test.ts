// `capit … | head`: the reader going away early must not turn into a crash.
import {spawnSync} from 'node:child_process';

import {expect, it} from 'vitest';

import {CLI}                 from '../support/cli.js';
import {sandboxEnv, tempDir} from '../support/tmp.js';

it(`exits cleanly when the reader closes the pipe early`, () => {
  const env = sandboxEnv(tempDir(`capit-pipe-`));
  const result = spawnSync(`bash`, [`-o`, `pipefail`, `-c`, `"${process.execPath}" "${CLI}" agents --no-paths | head -c 1 >/dev/null`], {env, encoding: `utf8`});
  expect(result.stderr).toBe(``);
  expect(result.status).toBe(0);
});
