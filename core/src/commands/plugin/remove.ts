import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class PluginRemoveCommand extends BaseCommand {
  static override paths = [[`plugin`, `remove`], [`plugin`, `rm`], [`plugins`, `remove`]];

  static override usage = Command.Usage({
    category: `Plugins`,
    description: `Remove a plugin added with \`capit plugin add\` (by package name, id, or linked folder)`,
    examples: [[`By id`, `$0 plugin remove foo`], [`By package name`, `$0 plugin remove capit-agent-foo`]],
  });

  target = Option.String({name: `name|id`});

  async execute() {
    const {removePlugin} = await import(`../../plugins/install.js`);
    const removed = await removePlugin(this.target, this.context, this.context.plugins);
    this.context.stdout.write(`${removed.linked ? `Unlinked` : `Removed`} ${removed.packageName}${removed.linked ? ` (${removed.dir} was left as it is)` : ``}\n`);
    return 0;
  }
}
