import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class PluginListCommand extends BaseCommand {
  static override paths = [[`plugin`, `list`], [`plugin`, `ls`], [`plugins`], [`plugins`, `list`]];

  static override usage = Command.Usage({
    category: `Plugins`,
    description: `List every plugin: kind, id, version, where it comes from, what it shadows, and broken ones`,
    examples: [[`As a table`, `$0 plugin list`], [`As JSON`, `$0 plugin list --json`]],
  });

  json = Option.Boolean(`--json`, false, {description: `Print the list as JSON`});

  async execute() {
    const {findLoadFailures, listPlugins, formatPluginList} = await import(`../../plugins/list.js`);
    const list = listPlugins(this.context.plugins, await findLoadFailures(this.context.plugins));
    this.context.stdout.write(this.json ? `${JSON.stringify(list, null, 2)}\n` : formatPluginList(list));
    return 0;
  }
}
