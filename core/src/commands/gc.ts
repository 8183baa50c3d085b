import {Command, Option} from 'clipanion';

import {withValue}         from './options.js';
import {BaseCommand} from './base.js';

export class GcCommand extends BaseCommand {
  static override paths = [[`gc`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `List, then with --yes remove, keys, ledger entries and backups capit no longer needs`,
    details: `
      Finds session keys that expired or outlived their run, old keys a rotation could not delete, ledger entries for
      keys the provider no longer has, installs left pending for over a day, and backups beyond the newest N per agent
      (default 10; the backup of a key an agent holds is always kept). Without --yes it only lists them.
    `,
    examples: [[`See what would be removed`, `$0 gc`], [`Remove it, keeping 3 backups per agent`, `$0 gc --yes --keep-backups 3`]],
  });

  yes = Option.Boolean(`--yes,-y`, false, {description: `Remove what is listed (default: dry run)`});
  json = Option.Boolean(`--json`, false, {description: `Print the result as JSON`});
  keepBackups = withValue(`<n>`, Option.String(`--keep-backups`, {description: `Backups to keep per agent (default 10)`}));

  async execute() {
    const {collectGarbage} = await import(`../keys/gc.js`);
    return collectGarbage({yes: this.yes, json: this.json, keepBackups: this.keepBackups}, this.context);
  }
}
