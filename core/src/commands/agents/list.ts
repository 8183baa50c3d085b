import {Command, Option} from 'clipanion';

import {BaseCommand}       from '../base.js';
import {shownNegated}      from '../options.js';

export class AgentsCommand extends BaseCommand {
  static override paths = [[`agents`], [`agents`, `list`], [`--agents`]];

  static override usage = Command.Usage({
    category: `Agents`,
    description: `List the agents capit can configure: detected here or not, where their key lives, status`,
    details: `Detection uses each plugin's manifest (a binary on PATH, paths that exist). Config paths and statuses come from the plugin code, imported for detected agents and those holding a capit key; --all-paths resolves every agent, --no-paths none.`,
    examples: [[`Every agent`, `$0 agents`], [`As JSON`, `$0 agents --json`]],
  });

  json = Option.Boolean(`--json`, false, {description: `Print the agents as JSON`});
  withPaths = shownNegated(Option.Boolean(`--paths`, true, {description: `Manifest data only: resolve no config paths or statuses (imports no plugin code)`}));
  allPaths = Option.Boolean(`--all-paths`, false, {description: `Resolve config paths and statuses of every agent, detected or not`});

  async execute() {
    const {runAgents} = await import(`../../agents/print.js`);
    return runAgents({json: this.json, paths: !this.withPaths ? false : this.allPaths ? `all` : `detected`}, this.context);
  }
}
