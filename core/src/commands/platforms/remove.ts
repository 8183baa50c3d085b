import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class PlatformsRemoveCommand extends BaseCommand {
  static override paths = [[`platforms`, `remove`], [`--platforms`, `remove`]];

  static override usage = Command.Usage({
    category: `Platforms`,
    description: `Forget a platform's stored master key`,
    examples: [[`Forget the stored OpenRouter key`, `$0 platforms remove openrouter --yes`]],
  });

  platform = Option.String({name: `platform`});
  yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});

  async execute() {
    const {removePlatformKey} = await import(`../../platforms/print.js`);
    return removePlatformKey({platform: this.platform, yes: this.yes}, this.context);
  }
}
