import {spawn, spawnSync} from 'node:child_process';

import {CLI} from './cli.js';

/** util-linux `script` gives the CLI a real pseudo-terminal, so its prompts run as they do for a person. */
export const haveScript = spawnSync(`script`, [`--version`], {stdio: `ignore`}).status === 0;

export interface TerminalRun {
  exitCode: number | null;
  /** Everything the terminal showed, ANSI escapes removed. */
  screen: string;
}

/**
 * Runs `capit <args>` in a pseudo-terminal and answers prompts: each answer is typed (then Enter) once the screen
 * first matches its pattern, in order.
 */
export function runInTerminal(args: string[], env: Record<string, string>, answers: [RegExp, string][] = [], timeoutMs = 15_000): Promise<TerminalRun> {
  return new Promise((resolve, reject) => {
    const command = [process.execPath, CLI, ...args].map(a => `'${a.replaceAll(`'`, `'\\''`)}'`).join(` `);
    const child = spawn(`script`, [`-qfec`, command, `/dev/null`], {env: {...env, TERM: `dumb`}, stdio: [`pipe`, `pipe`, `pipe`]});
    let screen = ``;
    let next = 0;
    const timer = setTimeout(() => child.kill(`SIGKILL`), timeoutMs);
    child.stdout.on(`data`, chunk => {
      screen += String(chunk).replace(/\x1b\[[0-9;?]*[A-Za-z]/g, ``);
      const answer = answers[next];
      if (answer && answer[0].test(screen)) {
        next++;
        setTimeout(() => child.stdin.write(`${answer[1]}\r`), 30);
      }
    });
    child.on(`error`, reject);
    child.on(`close`, exitCode => {
      clearTimeout(timer);
      resolve({exitCode, screen});
    });
  });
}
