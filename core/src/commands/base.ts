import {Command, UsageError} from 'clipanion';

import type {CapitContext} from '../context.js';
import {formatError}       from '../ui/report.js';

/** Every capit command: errors go to stderr with capit's exit codes (0 ok, 1 failure, 2 usage). */
export abstract class BaseCommand extends Command<CapitContext> {
  override async validateAndExecute(): Promise<number> {
    try {
      return await super.validateAndExecute();
    } catch (error) {
      const {text, exitCode} = formatError(error);
      this.context.stderr.write(text);
      return exitCode;
    }
  }
}

export {UsageError};
