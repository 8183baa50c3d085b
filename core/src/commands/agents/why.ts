import {Command, Option} from 'clipanion';

import {BaseCommand}       from '../base.js';

export class WhyCommand extends BaseCommand {
  static override paths = [[`why`]];

  static override usage = Command.Usage({
    category: `Agents`,
    description: `Say why an agent holding a capit key may have stopped, and the one fix`,
    details: `For every agent holding a capit key (or the one named): probes the key with its own secret (never printed), reads the account's credits and runs doctor, then names one cause — window cap, lifetime cap, disabled, expired, deleted, account out of credits, affordability pre-check, shadowed, redirected (the capped key was replaced), other host (a base URL sends the requests elsewhere) — or fine. Exits 0 when every agent is fine, 1 otherwise.`,
    examples: [[`Every agent with a capit key`, `$0 why`], [`Only opencode, as JSON`, `$0 why opencode --json`]],
  });

  agent = Option.String({required: false, name: `agent`});
  json = Option.Boolean(`--json`, false, {description: `Print the reports as JSON`});

  async execute() {
    const {runWhy} = await import(`../../agents/why.js`);
    return runWhy({agent: this.agent, json: this.json}, this.context);
  }
}
