import {Command, Option} from 'clipanion';
import type {CommandClass} from 'clipanion';

import type {CapitContext} from '../../context.js';
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
    const {runAgents} = await import(`../../agents/run.js`);
    return runAgents({json: this.json, paths: !this.withPaths ? false : this.allPaths ? `all` : `detected`}, this.context);
  }
}

export class DoctorCommand extends BaseCommand {
  static override paths = [[`doctor`]];

  static override usage = Command.Usage({
    category: `Agents`,
    description: `Say which key each agent would actually use, and whether something shadows the capped key`,
    details: `Checks every detected agent (or the one named) against the places it reads its key, highest precedence first. Exits 1 when a capped key capit installed is shadowed. Never prints a key.`,
    examples: [[`Every detected agent`, `$0 doctor`], [`Only Claude Code`, `$0 doctor claude`]],
  });

  agent = Option.String({required: false, name: `agent`});
  json = Option.Boolean(`--json`, false, {description: `Print the reports as JSON`});

  async execute() {
    const {runDoctor} = await import(`../../agents/run.js`);
    return runDoctor({agent: this.agent, json: this.json}, this.context);
  }
}

export const commands: CommandClass<CapitContext>[] = [AgentsCommand, DoctorCommand];
