import {Command} from 'clipanion';

import {BaseCommand} from './base.js';

// clipanion's built-in help would describe the catch-all command here; capit's help lists every command instead.
export class HelpCommand extends BaseCommand {
  static override paths = [[`-h`], [`--help`], [`help`]];

  static override usage = Command.Usage({description: `Show this help`});

  async execute() {
    this.context.stdout.write(this.cli.usage(null));
    const broken = this.context.plugins.diagnostics.length;
    if (broken > 0) this.context.stdout.write(`${broken} plugin(s) could not be loaded; see the warnings above.\n`);
    return 0;
  }
}
