// Progress for network work that may take a while (listing many pages, bulk delete/disable, an install's provider
// calls): a spinner on stderr, only on a terminal that can redraw a line, shown only once the work has taken longer
// than DELAY_MS (fast calls never flicker) and cleared before the caller prints anything.
import yoctoSpinner from 'yocto-spinner';

import type {CapitContext} from '../context.js';

/** What the work can tell the person waiting, e.g. a counter: `Deleting keys… 12/40`. */
export interface Progress {
  update(text: string): void;
}

export interface ProgressOptions {
  /** False turns progress off, e.g. for `--json` (machine output is never decorated). Default true. */
  enabled?: boolean;
  /** Overrides the delay before the spinner appears (tests). */
  delayMs?: number;
}

export const PROGRESS_DELAY_MS = 300;

const silent: Progress = {update() {}};

/**
 * Whether a spinner may be drawn: stderr is a terminal, not a `dumb` one, and not CI. yocto-spinner reads
 * `process.env` for the last two itself (and then prints one line per frame instead of redrawing), so both are asked.
 */
export function canShowProgress(ctx: Pick<CapitContext, `stderr` | `env`>): boolean {
  const stream = ctx.stderr as Partial<NodeJS.WriteStream>;
  if (!stream.isTTY) return false;
  for (const env of [ctx.env, process.env]) if (env.TERM === `dumb` || `CI` in env) return false;
  return true;
}

/** Runs `fn`, with a spinner labelled `label` on stderr while it runs longer than ~300 ms (terminals only). */
export async function withProgress<T>(ctx: Pick<CapitContext, `stderr` | `env`>, label: string, fn: (progress: Progress) => Promise<T>, opts: ProgressOptions = {}): Promise<T> {
  if (opts.enabled === false || !canShowProgress(ctx)) return fn(silent);
  let text = label;
  let spinner: ReturnType<typeof yoctoSpinner> | undefined;
  const timer = setTimeout(() => {
    spinner = yoctoSpinner({text, stream: ctx.stderr as NodeJS.WriteStream}).start();
  }, opts.delayMs ?? PROGRESS_DELAY_MS);
  try {
    return await fn({
      update(next) {
        text = next;
        if (spinner) spinner.text = next;
      },
    });
  } finally {
    clearTimeout(timer);
    // stop() clears the spinner's line and shows the cursor again, before the caller writes its result.
    spinner?.stop();
  }
}
