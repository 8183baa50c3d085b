import {Command, Option} from 'clipanion';

import {BaseCommand} from './base.js';
import {withValue}   from './options.js';

export class WatchCommand extends BaseCommand {
  static override paths = [[`watch`]];

  static override usage = Command.Usage({
    category: `Keys`,
    description: `Watch the spend of every capit key; alert on thresholds and spikes, and stop a runaway at the provider`,
    details: `
      Each pass lists every capit key on every configured platform (the provider's own metering), keeps a short
      history per key (watch.json in capit's state folder) and alerts once per key and reset window: at 50, 80 and
      100 % of the cap (\`watch.thresholds\` in capit's config), and on a spike — a pace that would spend 25 % of the cap
      in 10 minutes (\`watch.spikeSharePercent\`, \`watch.spikeMinutes\`) or 5× the key's own median pace
      (\`watch.spikeFactor\`). Each alert names the agent, the pace and when the cap runs out at that pace.
      \`--disable-on-spike\` disables a spiking key at the provider (\`capit keys enable <name>\` reverses it).
      Alerts go to stderr, and to every \`--notify\` target: \`desktop\`, \`webhook=<url>\` (JSON POST), \`ntfy=<topic>\`.
      \`--once\` runs one pass and exits 0 when nothing alerted, 1 when an alert fired or a platform could not be listed.
    `,
    examples: [
      [`Watch every 30 seconds and stop a runaway agent`, `$0 watch --disable-on-spike`],
      [`One pass for cron, alerts to an ntfy topic`, `$0 watch --once --notify ntfy=my-capit-alerts`],
    ],
  });

  interval = withValue(`<duration>`, Option.String(`--interval`, `30s`, {description: `Time between passes: 1s to 24h (default 30s)`}));
  once = Option.Boolean(`--once`, false, {description: `One pass, then exit (0: no alert, 1: an alert fired)`});
  disableOnSpike = Option.Boolean(`--disable-on-spike`, false, {description: `Disable a key whose spend spikes, at the provider`});
  notify = withValue(`desktop|webhook=<url>|ntfy=<topic>`, Option.Array(`--notify`, [], {description: `Also send alerts here (repeatable)`}));

  async execute() {
    const {runWatch} = await import(`../keys/watch.js`);
    return runWatch({interval: this.interval, once: this.once, disableOnSpike: this.disableOnSpike, notify: this.notify}, this.context);
  }
}
