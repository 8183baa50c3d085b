import {Command, Option} from 'clipanion';

import {BaseCommand} from '../base.js';

export class KeysDisableCommand extends BaseCommand {
  static override paths = [[`keys`, `disable`], [`--keys`, `disable`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Disable keys at the provider: the kill switch (a name or a glob)`,
    details: `
      The matching keys are listed first and confirmed (or \`--yes\`). Only keys capit issued match unless \`--all\`.
      A pattern that matches everything (\`*\`) needs \`--yes\`. Requests run in parallel (8 per platform,
      \`CAPIT_DELETE_CONCURRENCY\` overrides); each key gets its own result line, and the exit code is 1 if any failed.
    `,
    examples: [[`Stop every capit key on every configured platform`, `$0 keys disable '*' --yes`]],
  });

  pattern = Option.String({name: `name|glob`});
  platform = Option.String(`--platform,-p`, {description: `Only this platform`});
  yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});
  json = Option.Boolean(`--json`, false, {description: `Print the results as JSON`});
  all = Option.Boolean(`--all`, false, {description: `Also match keys capit did not issue`});

  async execute() {
    const {runKeyAction} = await import(`../../keys/actions.js`);
    return runKeyAction({verb: `disable`, pattern: this.pattern, platform: this.platform, yes: this.yes, json: this.json, all: this.all}, this.context);
  }
}
