import {Command, UsageError} from 'clipanion';

import type {CapitContext} from '../context.js';
import {clock, dueTopups, readLedger} from '../state/ledger.js';
import {capitPaths}        from '../state/paths.js';
import {formatError}       from '../ui/report.js';

/** Every capit command: errors go to stderr with capit's exit codes (0 ok, 1 failure, 2 usage). */
export abstract class BaseCommand extends Command<CapitContext> {
  /** True for the commands that settle interrupted installs under their own lock (install, restore). */
  static recoversItself = false;

  override async validateAndExecute(): Promise<number> {
    try {
      if (!(this.constructor as unknown as typeof BaseCommand).recoversItself) await settleInterruptedInstalls(this.context);
      await takeBackDueTopups(this.context);
      return await super.validateAndExecute();
    } catch (error) {
      const {text, exitCode} = formatError(error);
      this.context.stderr.write(text);
      return exitCode;
    }
  }
}

export {UsageError};

// Cheap when nothing is pending (one small file read); the recovery code is imported only when something is.
async function settleInterruptedInstalls(ctx: CapitContext): Promise<void> {
  const stateDir = capitPaths(ctx.env).state;
  let pending: boolean;
  try {
    pending = (await readLedger(stateDir)).some(k => k.status === `pending` && k.backupDir);
  } catch {
    return; // an unreadable ledger is reported by the commands that need it
  }
  if (!pending) return;
  const {recoverBeforeCommand} = await import(`../issue/recover.js`);
  await recoverBeforeCommand(stateDir, ctx);
}

// `capit topup --for`: a raise whose time is up is taken back by whichever capit command runs next. Cheap when none is
// due (one small file read); the top-up code is imported only when one is. Never fails the command it precedes.
export async function takeBackDueTopups(ctx: CapitContext): Promise<void> {
  let ledger;
  try {
    ledger = await readLedger(capitPaths(ctx.env).state);
  } catch {
    return;
  }
  const now = clock(ctx.env);
  if (!ledger.some(k => dueTopups(k, now).length > 0)) return;
  const {applyDueTakeBacks} = await import(`../keys/topup.js`);
  await applyDueTakeBacks(ctx);
}
