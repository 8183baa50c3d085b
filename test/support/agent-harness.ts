// End-to-end harness for the agent plugins' tests: the real built CLI against the loopback OpenRouter emulator.
import fs   from 'node:fs';
import path from 'node:path';

import {afterAll, beforeAll, beforeEach} from 'vitest';

import {startEmulator}       from '../emulator/server.mjs';
import type {Emulator, KeyRecord} from '../emulator/server.mjs';
import {runCli}              from './cli.js';
import type {CliResult}      from './cli.js';
import {sandboxEnv, tempDir} from './tmp.js';

export {snapshotTree} from './tmp.js';

export const MASTER = `sk-or-v1-mgmt-fake-0000`;

/** Starts one emulator for the file and resets it before each test. */
export function useEmulator(): {readonly current: Emulator} {
  const box = {} as {current: Emulator};
  beforeAll(async () => {
    box.current = await startEmulator({port: 0});
  });
  afterAll(async () => {
    await box.current.close();
  });
  beforeEach(() => {
    box.current.reset();
  });
  return box;
}

export interface Sandbox {
  root: string;
  home: string;
  env: Record<string, string>;
}

/** A temp HOME with XDG dirs under it; `undefined` in `extra` removes a variable. */
export function sandbox(emulator: Emulator, extra: Record<string, string | undefined> = {}): Sandbox {
  const root = tempDir(`capit-agent-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER}) as Record<string, string | undefined>;
  // Backups land under XDG_STATE_HOME like a real install.
  delete env.CAPIT_HOME;
  for (const [k, v] of Object.entries(extra)) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  return {root, home: env.HOME!, env: env as Record<string, string>};
}

export function capit(args: string[], opts: {env: Record<string, string>; cwd?: string}): Promise<CliResult> {
  return runCli(args, opts);
}

export function issue(sb: Sandbox, agent: string, opts: {args?: string[]; cwd?: string} = {}): Promise<CliResult> {
  return capit([`openrouter`, `5`, `--agent`, agent, `--yes`, ...(opts.args ?? [])], {env: sb.env, cwd: opts.cwd});
}

export function restore(sb: Sandbox, agent: string): Promise<CliResult> {
  return capit([`restore`, agent, `--yes`], {env: sb.env});
}

/** The one key the emulator holds (fails the test when there is not exactly one). */
export function onlyKey(emulator: Emulator): KeyRecord {
  const keys = [...emulator.state.keys.values()];
  if (keys.length !== 1) throw new Error(`expected exactly one key at the emulator, found ${keys.length}`);
  return keys[0]!;
}

export function managementRequests(emulator: Emulator) {
  return emulator.state.requests.filter(r => !r.path.startsWith(`/__`));
}

export function write(file: string, text: string, mode = 0o644): void {
  fs.mkdirSync(path.dirname(file), {recursive: true});
  fs.writeFileSync(file, text, {mode});
  fs.chmodSync(file, mode);
}

export function read(file: string): string {
  return fs.readFileSync(file, `utf8`);
}

export function mode(file: string): number {
  return fs.statSync(file).mode & 0o777;
}

/** Asserts the run succeeded; returns its warning lines. */
export function warnings(result: CliResult): string[] {
  return result.stderr.split(`\n`).filter(l => l.startsWith(`warning:`));
}
