import {UsageError} from 'clipanion';

import {CapitError} from '../errors.js';

/** Known errors are one line (plus a hint for non-input failures); anything else is a bug with its stack. */
export function formatError(error: unknown): {text: string; exitCode: number} {
  if (error instanceof CapitError) {
    const hint = error.hint && error.exitCode !== 2 ? `  ${error.hint}\n` : ``;
    return {text: `capit: ${error.message}\n${hint}`, exitCode: error.exitCode};
  }
  if (error instanceof UsageError || (error as {clipanion?: unknown})?.clipanion) {
    const message = String((error as Error).message).split(`\n`)[0]!.replace(/^Usage Error: /, ``);
    return {text: `capit: ${message}\n`, exitCode: 2};
  }
  const stack = error instanceof Error ? error.stack ?? error.message : String(error);
  return {
    text: `capit: internal error — this is a bug, please report it with the output below\n${stack}\n`,
    exitCode: 1,
  };
}
