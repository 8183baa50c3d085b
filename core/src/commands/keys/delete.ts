import {Command} from 'clipanion';

import {KeyActionCommand} from './action.js';

export class KeysDeleteCommand extends KeyActionCommand {
  static override paths = [[`keys`, `delete`], [`--keys`, `delete`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Delete keys at the provider (a name or a glob)`,
    details: `
      The matching keys are listed first and confirmed (or \`--yes\`). Only keys capit issued match unless \`--all\`.
      A pattern that matches everything (\`*\`) needs \`--yes\`. Requests run in parallel (8 per platform,
      \`CAPIT_DELETE_CONCURRENCY\` overrides); each key gets its own result line, and the exit code is 1 if any failed.
    `,
    examples: [[`Delete one key`, `$0 keys delete opencode-1a2b3c4d`], [`Delete every capit key named ci-* on OpenRouter`, `$0 keys delete 'ci-*' --platform openrouter --yes`]],
  });

  protected readonly verb = `delete` as const;
}
