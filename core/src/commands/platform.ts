import {Command, Option} from 'clipanion';
import type {CommandClass} from 'clipanion';

import type {CapitContext}  from '../context.js';

import type {PlatformManifest} from '../plugins/manifest.js';
import {article}               from '../ui/article.js';
import {BaseCommand}           from './base.js';
import {withValue}             from './options.js';


/** One command class per discovered platform, built from its manifest alone; the plugin is imported in execute(). */
export function platformCommand(manifest: PlatformManifest): CommandClass<CapitContext> {
  const id = manifest.id;
  return class PlatformCommand extends BaseCommand {
    static override paths = [[id]];
    static override recoversItself = true;

    static override usage = Command.Usage({
      category: `Issue a capped key`,
      description: manifest.description ?? `Issue a ${manifest.displayName ?? id} key with a hard spending cap`,
      details: `Creates ${article(manifest.displayName ?? id)} ${manifest.displayName ?? id} key that the provider refuses to let spend more than <usd>. With \`--agent\` the key is installed where that agent reads it (old configuration backed up; undo with \`capit restore <agent>\`); without it the key is printed once.`,
      examples: [
        [`Give opencode its own $5 key`, `$0 ${id} 5 --agent opencode`],
        [`Preview what would change`, `$0 ${id} 5 --agent opencode --dry-run`],
        [`$20 a month, expiring in 30 days, printed once`, `$0 ${id} 20 --reset monthly --expires 30d`],
      ],
    });

    usd = Option.String({name: `usd`});
    agent = withValue(`<id>`, Option.String(`--agent,-a`, {description: `Install the key into this agent's config (\`capit agents\` lists them)`}));
    reset = withValue(`<daily|weekly|monthly>`, Option.String(`--reset`, {description: `Reset the cap each day, week or month (default: a lifetime cap)`}));
    expires = withValue(`<duration|date>`, Option.String(`--expires`, {description: `Expire the key after a duration (30m, 12h, 7d, 2w) or on a date (2027-01-31)`}));
    // No short flag: `-p` is `--platform` everywhere (one meaning per short flag).
    name = withValue(`<prefix>`, Option.String(`--name`, {description: `Key name prefix; names are <prefix>-<8 hex> (default: the agent id, else "capit")`}));
    dryRun = Option.Boolean(`--dry-run`, false, {description: `Show the plan and diff; create and change nothing`});
    yes = Option.Boolean(`--yes,-y`, false, {description: `Do not ask for confirmation`});
    json = Option.Boolean(`--json`, false, {description: `Print the result as JSON`});
    allowLarge = Option.Boolean(`--allow-large`, false, {description: `Allow caps over $10,000`});
    model = withValue(`<id>`, Option.String(`--model`, {description: `Check the cap against this model's worst-case request (default: the agent's configured model)`}));
    excludeByok = Option.Boolean(`--exclude-byok`, false, {description: `Do not count spend through your own provider keys (BYOK) against the cap`});

    async execute() {
      const {issueKey} = await import(`../issue/issue.js`);
      return issueKey({
        platform: id, amount: this.usd, agent: this.agent, reset: this.reset, expires: this.expires, name: this.name,
        dryRun: this.dryRun, yes: this.yes, json: this.json, allowLarge: this.allowLarge, excludeByok: this.excludeByok, model: this.model,
      }, this.context);
    }
  };
}
