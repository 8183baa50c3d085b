import {Command, Option} from 'clipanion';
import * as t           from 'typanion';

import {BaseCommand} from '../base.js';
import {shownNegated, withValue} from '../options.js';

export class ServeCommand extends BaseCommand {
  static override paths = [[`serve`]];

  static override usage = Command.Usage({
    category: `GUI`,
    description: `Open a local web page to see, issue and manage capped keys`,
    details: `Serves the GUI on 127.0.0.1 with a random port and a new access token on every launch; the printed URL carries the token in its #fragment, and the page sends it in a header (never a cookie) on every API request. Requests from other sites are refused. Stop it with Ctrl-C.`,
    examples: [[`Start the GUI and open it in the browser`, `$0 serve`], [`On a fixed port, without opening a browser`, `$0 serve --port 8377 --no-open`]],
  });

  port = withValue(`<n>`, Option.String(`--port`, {description: `Port to listen on (default: a random free port)`, validator: t.cascade(t.isNumber(), [t.isInteger(), t.isInInclusiveRange(0, 65535)])}));
  host = withValue(`<address>`, Option.String(`--host`, `127.0.0.1`, {description: `Interface to bind (default 127.0.0.1; anything else is reachable from other machines)`}));
  open = shownNegated(Option.Boolean(`--open`, true, {description: `Only print the URL; do not open a browser`}));

  async execute() {
    const {serve} = await import(`../../serve/command.js`);
    return serve({port: this.port, host: this.host, open: this.open}, this.context);
  }
}
