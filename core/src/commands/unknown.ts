import {Command, Option} from 'clipanion';

import {BaseCommand}      from './base.js';
import {unknownWordError} from './cli.js';

/**
 * Catches `capit <word> …` for a word that is no command. main() already answers unknown first words before parsing;
 * this is the parser's own fallback for the same case.
 */
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
    const commandWords = this.cli.definitions().map(d => d.path.split(` `)[1]).filter((w): w is string => w !== undefined);
    throw unknownWordError(word, commandWords, this.context.plugins.platforms.map(p => p.manifest.id));
  }
}
