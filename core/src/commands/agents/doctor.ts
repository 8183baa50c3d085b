import {Command, Option} from 'clipanion';

import {BaseCommand}       from '../base.js';

export class DoctorCommand extends BaseCommand {
  static override paths = [[`doctor`]];

  static override usage = Command.Usage({
    category: `Agents`,
    description: `Say which key each agent would actually use, and whether something shadows the capped key`,
    details: `Checks every detected agent (or the one named, each of its flavours on its own) against the places it reads its key and its base URL, highest precedence first. Exits 1 when capit cannot show that a capped key it installed is used: shadowed (another key, or a setting that selects another provider, wins), redirected (a base URL sends the requests to another host), changed (the key capit wrote was replaced) or unknown (capit cannot tell: a file that does not parse, or the agent reads other files than the ones capit wrote). Never prints a key.`,
    examples: [[`Every detected agent`, `$0 doctor`], [`Only Claude Code`, `$0 doctor claude`]],
  });

  agent = Option.String({required: false, name: `agent`});
  json = Option.Boolean(`--json`, false, {description: `Print the reports as JSON`});

  async execute() {
    const {runDoctor} = await import(`../../agents/print.js`);
    return runDoctor({agent: this.agent, json: this.json}, this.context);
  }
}
