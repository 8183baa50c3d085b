import {Command} from 'clipanion';

import {KeyActionCommand} from './action.js';

export class KeysDisableCommand extends KeyActionCommand {
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

  protected readonly verb = `disable` as const;
}
