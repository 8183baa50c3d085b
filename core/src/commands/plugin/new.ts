import {Command, Option} from 'clipanion';

import {InputError}  from '../../errors.js';
import {didYouMean}  from '../../ui/suggest.js';
import {BaseCommand} from '../base.js';
import {withValue}   from '../options.js';

export class PluginNewCommand extends BaseCommand {
  static override paths = [[`plugin`, `new`], [`plugins`, `new`]];

  static override usage = Command.Usage({
    category: `Plugins`,
    description: `Scaffold a new platform or agent plugin package from capit's templates`,
    details: `Writes a package (TypeScript, tests using the conformance kit from \`capit/testing\`) that builds with \`npm install && npm run build && npm test\` and can be used right away through \`CAPIT_PLUGIN_PATH\` or \`capit plugin add ./dir\`.`,
    examples: [
      [`An agent plugin in ./capit-agent-foo`, `$0 plugin new agent foo`],
      [`A platform plugin in a chosen folder`, `$0 plugin new platform acme --dir ~/src/capit-platform-acme`],
    ],
  });

  kind = Option.String({name: `platform|agent`});
  id = Option.String({name: `id`});
  dir = withValue(`<folder>`, Option.String(`--dir`, {description: `Target folder (default ./capit-<kind>-<id>); must be empty or absent`}));
  name = withValue(`<package>`, Option.String(`--name`, {description: `Package name (default capit-<kind>-<id>; may be scoped)`}));

  async execute() {
    const kinds = [`platform`, `agent`] as const;
    const kind = kinds.find(k => k === this.kind);
    // Checked here rather than by a clipanion validator, whose message cannot say which kind was meant.
    if (kind === undefined)
      throw new InputError(`Unknown plugin kind "${this.kind}": expected platform or agent${didYouMean(this.kind, kinds)}`);
    const {scaffoldPlugin} = await import(`../../plugins/scaffold.js`);
    const result = scaffoldPlugin({kind, id: this.id, dir: this.dir, name: this.name}, this.context);
    const rel = result.dir;
    this.context.stdout.write([
      `Created ${result.packageName} in ${rel}`,
      ``,
      `Next:`,
      `  cd ${rel}`,
      `  npm install && npm run build && npm test`,
      `  CAPIT_PLUGIN_PATH=${rel} capit plugin list      # try it without installing`,
      `  capit plugin add ${rel}                          # link it for everyday use`,
      ``,
    ].join(`\n`));
    return 0;
  }
}
