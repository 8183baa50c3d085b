import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class PlatformsListCommand extends BaseCommand {
  static override paths = [[`platforms`], [`platforms`, `list`], [`--platforms`], [`--platforms`, `list`]];

  static override usage = Command.Usage({
    category: `Platforms`,
    description: `List the installed platforms and where each one's master key comes from`,
    examples: [[`Which platforms are set up`, `$0 platforms`], [`As JSON`, `$0 platforms --json`]],
  });

  json = Option.Boolean(`--json`, false, {description: `Print the platforms as JSON`});

  async execute() {
    const {printPlatforms} = await import(`../../platforms/print.js`);
    return printPlatforms({json: this.json}, this.context);
  }
}
