import {Command, Option} from 'clipanion';

import {BaseCommand} from './base.js';
import {withValue}   from './options.js';

export class RunCommand extends BaseCommand {
  static override paths = [[`run`]];
  // It settles interrupted installs under its own lock, with the platform's master key at hand.
  static override recoversItself = true;

  static override usage = Command.Usage({
    category: `Issue a capped key`,
    description: `Run one agent command with its own capped key, deleted when the command ends`,
    details: `Creates a key with a hard cap and an expiry (now + --ttl), hands it to the command through the environment or content variables its agent reads over its own files (no file is written), forwards Ctrl-C and termination signals, then deletes the key and prints what the session spent. Exits with the command's exit code. --ttl is at most 7d. The command's environment says it runs in a session (CAPIT_RUN_SESSION); a capit started inside it refuses to use the stored master key. If capit itself is killed, the key still expires by itself; \`capit gc\` and the next \`capit run\` for that platform delete it once it expired or both capit and the command are gone.`,
    examples: [
      [`Give one opencode session $3`, `$0 run --cap 3 -- opencode`],
      [`Claude Code for two hours, at most $5`, `$0 run --cap 5 --ttl 2h -- claude`],
      [`A wrapper script: name the agent`, `$0 run --cap 1 --agent opencode -- ./my-opencode.sh`],
    ],
  });

  platform = withValue(`<id>`, Option.String(`--platform,-p`, `openrouter`, {description: `The platform that issues the key (default: openrouter)`}));
  cap = withValue(`<usd>`, Option.String(`--cap`, {description: `Required: the session's hard spending cap in dollars, e.g. 3 or 0.50`}));
  ttl = withValue(`<duration>`, Option.String(`--ttl`, {description: `The key expires after this long even if capit is killed (30m, 8h, 2d; default 8h, at most 7d)`}));
  reset = withValue(`<daily|weekly|monthly>`, Option.String(`--reset`, {description: `Reset the cap each day, week or month (default: a lifetime cap)`}));
  agent = withValue(`<id>`, Option.String(`--agent,-a`, {description: `The agent the command starts (default: from the command's name)`}));
  model = withValue(`<id>`, Option.String(`--model`, {description: `Check the cap against this model's worst-case request (default: the agent's configured model)`}));
  allowLarge = Option.Boolean(`--allow-large`, false, {description: `Allow caps over $10,000`});
  command = Option.Rest({required: 1, name: `command`});

  async execute() {
    const {runSession} = await import(`../issue/run.js`);
    return runSession({
      platform: this.platform, cap: this.cap, ttl: this.ttl, reset: this.reset, agent: this.agent, model: this.model, allowLarge: this.allowLarge,
      command: this.command,
    }, this.context);
  }
}
