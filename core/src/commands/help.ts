import {Command} from 'clipanion';
import type {Cli} from 'clipanion';

import type {CapitContext} from '../context.js';
import type {Discovery}    from '../plugins/discover.js';
import {BaseCommand}       from './base.js';

/** Every command with its one-line description, plus a pointer to broken plugins' warnings. */
export function generalHelp(cli: Pick<Cli<CapitContext>, `usage`>, plugins: Discovery, colored: boolean): string {
  let text = cli.usage(null, {colored});
  const broken = plugins.diagnostics.length;
  if (broken > 0) text += `${broken} plugin(s) could not be loaded; see the warnings above.\n`;
  return text;
}

// clipanion's built-in help would describe the catch-all command here; capit's help lists every command instead.
export class HelpCommand extends BaseCommand {
  static override paths = [[`-h`], [`--help`], [`help`]];

  static override usage = Command.Usage({description: `Show this help`});

  async execute() {
    this.context.stdout.write(generalHelp(this.cli, this.context.plugins, this.cli.enableColors ?? false));
    return 0;
  }
}
