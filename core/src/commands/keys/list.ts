import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class KeysListCommand extends BaseCommand {
  static override paths = [[`keys`, `list`], [`keys`], [`--keys`, `list`], [`--keys`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `List keys as the provider reports them, with the spend of the current window`,
    examples: [[`Every capit key on OpenRouter`, `$0 keys list openrouter`], [`As JSON`, `$0 keys list --json`]],
  });

  platform = Option.String({required: false, name: `platform`});
  glob = Option.String({required: false, name: `glob`});
  json = Option.Boolean(`--json`, false, {description: `Print the keys as JSON`});
  all = Option.Boolean(`--all`, false, {description: `Include keys capit did not issue`});

  async execute() {
    const {listKeys} = await import(`../../keys/list.js`);
    return listKeys({platform: this.platform, glob: this.glob, json: this.json, all: this.all}, this.context);
  }
}
