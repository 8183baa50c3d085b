import {Command, Option} from 'clipanion';

import {BaseCommand} from './base.js';
import {withValue}   from './options.js';

export class ReportCommand extends BaseCommand {
  static override paths = [[`report`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Show where the money went: spend per day, model and agent over the last 30 days`,
    details: `
      Reads each capit key's usage per day and model from the provider's own metering (OpenRouter's activity: the last
      30 completed UTC days) and names the agent from capit's ledger. Today's spend so far comes from the key listing
      and is marked partial (per key: the provider splits it by model only once the day is complete). Platforms
      without a usage history (AIHubMix) are named as not available; nothing is estimated. \`--csv\` (RFC 4180, header
      row) and \`--json\` are for export.
    `,
    examples: [
      [`Spend per day over the last 30 days`, `$0 report --by day`],
      [`Which models claude spent on this week`, `$0 report --days 7 --agent claude --by model`],
      [`Every row as CSV`, `$0 report --csv > spend.csv`],
    ],
  });

  days = withValue(`<n>`, Option.String(`--days`, {description: `The last n completed UTC days, 1 to 30 (default 30), and today`}));
  by = withValue(`day|model|agent`, Option.String(`--by`, {description: `Group the rows and total each group`}));
  agent = withValue(`<id>`, Option.String(`--agent`, {description: `Only this agent's keys`}));
  csv = Option.Boolean(`--csv`, false, {description: `Print CSV (RFC 4180) instead of a table`});
  json = Option.Boolean(`--json`, false, {description: `Print the report as JSON`});

  async execute() {
    const {runReport} = await import(`../keys/report.js`);
    return runReport({days: this.days, by: this.by, agent: this.agent, csv: this.csv, json: this.json}, this.context);
  }
}
