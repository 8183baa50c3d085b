import {spawn} from 'node:child_process';
import path    from 'node:path';

export const CLI = path.resolve(import.meta.dirname, `../../core/bin/capit.js`);

export interface CliResult {
  exitCode: number | null;
  stdout: string;
  stderr: string;
}

/** Spawns the built CLI exactly as a user would run it (no TTY, so it never prompts). */
export function runCli(args: string[], opts: {env: Record<string, string>; cwd?: string; input?: string; timeoutMs?: number}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, ...args], {env: opts.env, cwd: opts.cwd ?? opts.env.HOME, stdio: [`pipe`, `pipe`, `pipe`]});
    let stdout = ``;
    let stderr = ``;
    child.stdout.on(`data`, chunk => (stdout += chunk));
    child.stderr.on(`data`, chunk => (stderr += chunk));
    const timer = setTimeout(() => child.kill(`SIGKILL`), opts.timeoutMs ?? 15_000);
    child.on(`error`, reject);
    child.on(`close`, exitCode => {
      clearTimeout(timer);
      resolve({exitCode, stdout, stderr});
    });
    child.stdin.end(opts.input ?? ``);
  });
}
