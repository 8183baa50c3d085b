import {Command, UsageError} from 'clipanion';

import type {CapitContext} from '../context.js';
import {settleBeforeCommand} from '../keys/due.js';
import {formatError}       from '../ui/report.js';

/** Every capit command: errors go to stderr with capit's exit codes (0 ok, 1 failure, 2 usage). */
export abstract class BaseCommand extends Command<CapitContext> {
  /** True for the commands that settle interrupted installs under their own lock (install, restore). */
  static recoversItself = false;

  override async validateAndExecute(): Promise<number> {
    try {
      await settleBeforeCommand(this.context, {recovers: !(this.constructor as unknown as typeof BaseCommand).recoversItself});
      return await super.validateAndExecute();
    } catch (error) {
      const {text, exitCode} = formatError(error);
      this.context.stderr.write(text);
      return exitCode;
    }
  }
}

export {UsageError};
