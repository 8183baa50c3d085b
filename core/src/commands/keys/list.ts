import {Command, Option} from 'clipanion';

import {InputError}  from '../../errors.js';
import {BaseCommand} from '../base.js';

const KEYS_SUBCOMMANDS = [`list`, `delete`, `disable`, `enable`];

export class KeysListCommand extends BaseCommand {
  static override paths = [[`keys`, `list`], [`keys`], [`--keys`, `list`], [`--keys`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `List keys as the provider reports them, with the spend of the current window`,
    details: `
      Without a platform, every configured platform is listed in parallel (a platform without a master key is skipped).
      A glob filters on key names. Only keys capit issued are shown unless \`--all\` is given.
    `,
    examples: [
      [`Every capit key on every configured platform`, `$0 keys`],
      [`Every capit key on OpenRouter`, `$0 keys list openrouter`],
      [`opencode's keys`, `$0 keys list openrouter 'opencode-*'`],
      [`As JSON, including keys capit did not issue`, `$0 keys list --json --all`],
    ],
  });

  platform = Option.String({required: false, name: `platform`});
  glob = Option.String({required: false, name: `glob`});
  json = Option.Boolean(`--json`, false, {description: `Print the keys as JSON`});
  all = Option.Boolean(`--all`, false, {description: `Include keys capit did not issue`});

  async execute() {
    const {listKeys} = await import(`../../keys/list.js`);
    const {isGlob} = await import(`../../keys/match.js`);
    let {platform, glob} = this;
    const platformIds = this.context.plugins.platforms.map(p => p.manifest.id);
    // `capit keys lst`: a mistyped subcommand lands here as a platform; name the subcommand that was meant.
    if (platform !== undefined && !platformIds.includes(platform) && !isGlob(platform)) {
      const {closest} = await import(`../../ui/suggest.js`);
      const meant = closest(platform, KEYS_SUBCOMMANDS);
      if (meant !== undefined && closest(platform, platformIds) === undefined)
        throw new InputError(`Unknown command "keys ${platform}"; did you mean \`capit keys ${meant}\`?`);
    }
    // `capit keys 'opencode-*'`: a lone glob that is no platform id filters every platform.
    if (platform !== undefined && glob === undefined && isGlob(platform) && !platformIds.includes(platform))
      [platform, glob] = [undefined, platform];
    return listKeys({platform, glob, json: this.json, all: this.all}, this.context);
  }
}
