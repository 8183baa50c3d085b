import {spawn} from 'node:child_process';
import fs      from 'node:fs';
import path    from 'node:path';

import type {Emulator} from '../emulator/server.mjs';
import {sandboxEnv}    from '../support/tmp.js';

export const REPO = path.resolve(import.meta.dirname, `../..`);
export const CLAUDE_CLI = path.join(REPO, `node_modules/@anthropic-ai/claude-code/cli.js`);
export const OPENCODE_BIN = path.join(REPO, `node_modules/opencode-linux-x64/bin/opencode`);
export const MASTER = `sk-or-v1-mgmt-fake-0000`;

export interface Run {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns a program with exactly `env` (nothing inherited), no TTY, killed after `timeoutMs`. */
export function run(cmd: string, args: string[], opts: {env: Record<string, string>; cwd: string; timeoutMs?: number; stopWhen?: () => boolean}): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd, args, {env: opts.env, cwd: opts.cwd, stdio: [`pipe`, `pipe`, `pipe`]});
    let stdout = ``;
    let stderr = ``;
    child.stdout.on(`data`, chunk => (stdout += chunk));
    child.stderr.on(`data`, chunk => (stderr += chunk));
    const timer = setTimeout(() => child.kill(`SIGKILL`), opts.timeoutMs ?? 60_000);
    // Stop early once the observation is made (e.g. the request arrived), without waiting for the agent's retries.
    const poll = opts.stopWhen && setInterval(() => opts.stopWhen!() && child.kill(`SIGKILL`), 100);
    child.on(`error`, reject);
    child.on(`close`, exitCode => {
      clearTimeout(timer);
      if (poll) clearInterval(poll);
      resolve({exitCode, stdout, stderr});
    });
    child.stdin.end();
  });
}

/** A sandbox HOME (XDG dirs, CLAUDE_CONFIG_DIR inside it) pointed at the emulator; never the real HOME. */
export function agentSandbox(root: string, emulator: Emulator, extra: Record<string, string> = {}) {
  const env = sandboxEnv(root, {
    CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl,
    OPENROUTER_MANAGEMENT_KEY: MASTER,
    ...extra,
  });
  // Backups and ledger under XDG_STATE_HOME, as for a real user.
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  env.CLAUDE_CONFIG_DIR = path.join(env.HOME!, `.claude`);
  fs.mkdirSync(env.XDG_CONFIG_HOME!, {recursive: true});
  return {env, home: env.HOME!};
}

/** The one key the emulator issued in this test. */
export function issuedKey(emulator: Emulator) {
  const keys = [...emulator.state.keys.values()];
  if (keys.length !== 1) throw new Error(`expected exactly one issued key, got ${keys.length}`);
  return keys[0]!;
}

/** Inference requests (not key management, not the HEAD probe). */
export function inferenceRequests(emulator: Emulator) {
  return emulator.state.requests.filter(r => r.method === `POST` && /\/(messages|chat\/completions)$/.test(r.path));
}
