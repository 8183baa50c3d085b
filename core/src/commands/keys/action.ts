import {Option} from 'clipanion';

import type {KeyVerb}  from '../../keys/actions.js';
import {BaseCommand}   from '../base.js';
import {withValue}     from '../options.js';

/** The options and body shared by `keys delete|disable|enable`; each subclass names its verb and usage. */
export abstract class KeyActionCommand extends BaseCommand {
  protected abstract readonly verb: KeyVerb;

  pattern = Option.String({name: `name|glob`});
  platform = withValue(`<id>`, Option.String(`--platform,-p`, {description: `Only this platform`}));
  yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});
  json = Option.Boolean(`--json`, false, {description: `Print the results as JSON`});
  all = Option.Boolean(`--all`, false, {description: `Also match keys capit did not issue`});

  async execute() {
    const {runKeyAction} = await import(`../../keys/actions.js`);
    return runKeyAction({verb: this.verb, pattern: this.pattern, platform: this.platform, yes: this.yes, json: this.json, all: this.all}, this.context);
  }
}
