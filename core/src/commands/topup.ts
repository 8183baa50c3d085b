import {Command, Option} from 'clipanion';

import {BaseCommand} from './base.js';
import {withValue}   from './options.js';

export class TopupCommand extends BaseCommand {
  static override paths = [[`topup`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Raise the cap of an agent's capit key, for good or for a while (--for)`,
    details: `
      Raises the cap of the agent's active capit key (or of the capit key with that exact name) by the amount, at the
      provider, and reads the new cap back. With \`--for 2h\` the raise is taken back by the first capit command after
      that time (never below what the key has spent by then). \`topup.maxUsd\` in capit's config refuses larger raises,
      and the raises on one key in any 24 hours may not add up past \`topup.maxPerDayUsd\` (default: \`topup.maxUsd\`).
      Every change is appended to the audit log (audit.jsonl in capit's state folder).
    `,
    examples: [
      [`Give claude $5 more for two hours`, `$0 topup claude 5 --for 2h`],
      [`Raise a key by name, for good`, `$0 topup opencode-1a2b3c4d 2.50 --yes`],
    ],
  });

  target = Option.String({name: `agent|key name`});
  amount = Option.String({name: `usd`});
  for = withValue(`<duration>`, Option.String(`--for`, {description: `Take the raise back after this long: 30m, 2h, 1d`}));
  yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});
  json = Option.Boolean(`--json`, false, {description: `Print the result as JSON`});

  async execute() {
    const {runTopup} = await import(`../keys/topup.js`);
    return runTopup({target: this.target, amount: this.amount, for: this.for, yes: this.yes, json: this.json}, this.context);
  }
}
