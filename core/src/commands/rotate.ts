import {Command, Option} from 'clipanion';

import {BaseCommand} from './base.js';

export class RotateCommand extends BaseCommand {
  static override paths = [[`rotate`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Replace an agent's key with a new one of the same cap, reset, expiry and BYOK setting`,
    details: `
      The new key is created, checked at the provider and installed into the agent's files (with a backup) before the
      old key is deleted. If any step fails, the agent keeps a working key and capit says what happened.
      A rotation never allows more spend than the old key still could: a lifetime cap's successor gets what remains;
      a windowed key that has spent in its current window is refused unless --force (the extra amount is stated).
      A used-up or disabled key, or an agent whose files no longer hold capit's key, is refused.
      \`capit restore <agent>\` afterwards goes back to the configuration from before capit's first install.
    `,
    examples: [[`Rotate opencode's key`, `$0 rotate opencode --yes`], [`Rotate every agent's key`, `$0 rotate --all --yes`]],
  });

  agent = Option.String({required: false, name: `agent`});
  all = Option.Boolean(`--all`, false, {description: `Rotate the key of every agent holding one`});
  yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});
  json = Option.Boolean(`--json`, false, {description: `Print the result as JSON`});
  force = Option.Boolean(`--force`, false, {description: `Rotate a windowed key that has spent in its current window (the new key's window starts at $0)`});

  async execute() {
    const {rotateKeys} = await import(`../issue/rotate.js`);
    return rotateKeys({agent: this.agent, all: this.all, yes: this.yes, json: this.json, force: this.force}, this.context);
  }
}
