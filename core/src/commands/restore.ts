import {Command, Option} from 'clipanion';

import {BaseCommand} from './base.js';

export class RestoreCommand extends BaseCommand {
  static override paths = [[`restore`]];
  static override recoversItself = true;

  static override usage = Command.Usage({
    category: `Agents`,
    description: `Put an agent's configuration back as it was before capit's last install`,
    details: `Restores the files from the newest backup byte for byte. If a file was edited since, only capit's own edits are reverted; if capit's edits were changed too, it refuses unless --force.`,
    examples: [[`Undo the last install into opencode`, `$0 restore opencode`]],
  });

  agent = Option.String({name: `agent`});
  yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});
  force = Option.Boolean(`--force`, false, {description: `Put the backup back even over conflicting changes`});
  json = Option.Boolean(`--json`, false, {description: `Print the result as JSON`});

  async execute() {
    const {restoreAgent} = await import(`../issue/restore.js`);
    return restoreAgent({agent: this.agent, yes: this.yes, force: this.force, json: this.json}, this.context);
  }
}
