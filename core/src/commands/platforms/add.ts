import {Command, Option} from 'clipanion';

import {BaseCommand}  from '../base.js';
import {shownNegated} from '../options.js';

export class PlatformsAddCommand extends BaseCommand {
  static override paths = [[`platforms`, `add`], [`--platforms`, `add`]];

  static override usage = Command.Usage({
    category: `Platforms`,
    description: `Store a platform's master key after checking it with the provider`,
    details: `
      The key is asked for with a hidden prompt, or read as one line from stdin with \`--key-stdin\` — never taken as an
      argument (it would land in your shell history). It is checked against the provider first, then stored in
      \`$XDG_CONFIG_HOME/capit/credentials.json\` (mode 600). \`--no-store\` only checks it.
    `,
    examples: [
      [`Add the OpenRouter management key`, `$0 platforms add openrouter`],
      [`From a password manager`, `pass show openrouter-mgmt | $0 platforms add openrouter --key-stdin`],
    ],
  });

  platform = Option.String({name: `platform`});
  keyStdin = Option.Boolean(`--key-stdin`, false, {description: `Read the key as one line from stdin`});
  store = shownNegated(Option.Boolean(`--store`, true, {description: `Only check the key with the provider; do not store it`}));

  async execute() {
    const {addPlatformKey} = await import(`../../platforms/print.js`);
    return addPlatformKey({platform: this.platform, keyStdin: this.keyStdin, store: this.store}, this.context);
  }
}
