import {Command, Option} from 'clipanion';

import {InputError}  from '../errors.js';
import {BaseCommand} from './base.js';

/** Catches `capit <word> …` for a word that is no command: most likely a platform that is not installed. */
export class UnknownCommand extends BaseCommand {
  static override paths = [Command.Default];

  args = Option.Rest();
  // Accept the options a platform command takes, so the error names the platform rather than the flag.
  agent = Option.String(`--agent,-a`, {hidden: true});

  async execute() {
    const word = this.args[0];
    if (word === undefined) {
      this.context.stdout.write(this.cli.usage(null));
      return 0;
    }
    const installed = this.context.plugins.platforms.map(p => p.manifest.id).join(`, `) || `none`;
    if (/^[a-z][a-z0-9-]{1,31}$/.test(word))
      throw new InputError(`Unknown platform "${word}", installed: ${installed}; try \`capit plugin add capit-platform-${word}\``);
    throw new InputError(`Unknown command "${word}"; run \`capit --help\` (installed platforms: ${installed})`);
  }
}
