import path from 'node:path';

import {beforeAll} from 'vitest';

import {installPackage} from '../support/npm-fetch.js';

export interface NpmAgent {
  /** The agent's entry script, once installed; undefined when it could not be. */
  cli?: string;
  /** Why it could not be installed (the tests skip with it). */
  skipReason?: string;
}

/**
 * Installs the pinned npm package `spec` (with its dependencies, cached) in a `beforeAll` of the calling test file,
 * and finds its entry script at `entry` under the install prefix. When that cannot be done, tests skip with the reason,
 * which is also printed as `<testFile>: skipped: <reason>`.
 */
export function npmAgentCli(testFile: string, spec: string, entry: string): NpmAgent {
  const agent: NpmAgent = {};
  beforeAll(() => {
    const got = installPackage(spec);
    if (`reason` in got) {
      agent.skipReason = got.reason;
      process.stderr.write(`${testFile}: skipped: ${got.reason}\n`);
      return;
    }
    agent.cli = path.join(got.dir, entry);
  }, 900_000);
  return agent;
}
