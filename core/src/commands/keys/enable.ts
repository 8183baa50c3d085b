import {Command} from 'clipanion';

import {KeyActionCommand} from './action.js';

export class KeysEnableCommand extends KeyActionCommand {
  static override paths = [[`keys`, `enable`], [`--keys`, `enable`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Enable keys that were disabled (a name or a glob)`,
    details: `
      The matching keys are listed first and confirmed (or \`--yes\`). Only keys capit issued match unless \`--all\`.
      A pattern that matches everything (\`*\`) needs \`--yes\`. Requests run in parallel (8 per platform,
      \`CAPIT_DELETE_CONCURRENCY\` overrides); each key gets its own result line, and the exit code is 1 if any failed.
    `,
    examples: [[`Turn every capit key back on`, `$0 keys enable '*' --yes`]],
  });

  protected readonly verb = `enable` as const;
}
