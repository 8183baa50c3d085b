// Notifications for `capit watch`: desktop (node-notifier, loaded only when asked for), a JSON webhook, an ntfy topic.
// A notification that fails is reported on stderr and never stops the watch: the terminal line is always written first.
import {createRequire} from 'node:module';

import {InputError} from '../errors.js';
import type {Env}   from '../state/paths.js';

export type NotifyTarget =
  | {kind: `desktop`}
  | {kind: `webhook`; url: URL}
  | {kind: `ntfy`; topic: string};

export interface Notification {
  title: string;
  message: string;
  /** The alert as JSON, POSTed as is to a webhook. */
  payload: Record<string, unknown>;
}

const NOTIFY_TIMEOUT_MS = 5_000;

/** `desktop`, `webhook=<http(s) url>`, `ntfy=<topic>`; anything else is a usage mistake (exit 2). */
export function parseNotifyTarget(spec: string): NotifyTarget {
  if (spec === `desktop`) return {kind: `desktop`};
  const eq = spec.indexOf(`=`);
  const kind = eq < 0 ? spec : spec.slice(0, eq);
  const value = eq < 0 ? `` : spec.slice(eq + 1);
  if (kind === `webhook`) {
    let url: URL | undefined;
    try {
      url = new URL(value);
    } catch {
      url = undefined;
    }
    if (!url || (url.protocol !== `http:` && url.protocol !== `https:`))
      throw new InputError(`Invalid --notify webhook=…: expected an http(s) URL, e.g. --notify webhook=https://example.com/hook`);
    return {kind: `webhook`, url};
  }
  if (kind === `ntfy`) {
    // ntfy topics are path segments: letters, digits, `-` and `_` (https://docs.ntfy.sh/publish/).
    if (!/^[A-Za-z0-9_-]{1,64}$/.test(value))
      throw new InputError(`Invalid --notify ntfy=…: expected a topic of letters, digits, - and _ (up to 64), e.g. --notify ntfy=my-capit-alerts`);
    return {kind: `ntfy`, topic: value};
  }
  throw new InputError(`Invalid --notify ${JSON.stringify(spec)}: expected desktop, webhook=<url> or ntfy=<topic>`);
}

/** How a target is named in messages: a webhook URL may carry a token in its path or query, so only its origin. */
export function describeTarget(target: NotifyTarget): string {
  if (target.kind === `desktop`) return `desktop notification`;
  if (target.kind === `webhook`) return `webhook to ${target.url.origin}`;
  return `ntfy topic ${target.topic}`;
}

export interface Notifier {
  /** Sends to every target; returns one line per failure (already written to stderr). Never throws. */
  send(notification: Notification): Promise<string[]>;
}

interface NodeNotifier {
  notify(options: {title: string; message: string; wait?: boolean}, callback: (error: Error | null) => void): void;
}

export function createNotifier(targets: readonly NotifyTarget[], env: Env, stderr: NodeJS.WritableStream): Notifier {
  let desktopUnavailable = false;

  async function sendDesktop(notification: Notification): Promise<void> {
    if (desktopUnavailable) return;
    let notifier: NodeNotifier;
    try {
      // CommonJS, and external to the bundle: loaded only by a watch that asked for desktop notifications.
      notifier = createRequire(import.meta.url)(`node-notifier`) as NodeNotifier;
    } catch (error) {
      desktopUnavailable = true;
      throw new Error(`desktop notifications unavailable (node-notifier could not be loaded: ${(error as Error).message.split(`\n`)[0]})`);
    }
    await new Promise<void>((resolve, reject) => {
      notifier.notify({title: notification.title, message: notification.message, wait: false}, error => {
        if (!error) return resolve();
        // No notifier on this machine (e.g. Linux without notify-send): said once, then desktop is left out.
        desktopUnavailable = true;
        reject(new Error(`desktop notifications unavailable (${error.message.split(`\n`)[0]})`));
      });
    });
  }

  async function post(url: string, body: string, headers: Record<string, string>): Promise<void> {
    const response = await fetch(url, {method: `POST`, body, headers, signal: AbortSignal.timeout(NOTIFY_TIMEOUT_MS), redirect: `error`});
    await response.arrayBuffer().catch(() => undefined);
    if (!response.ok) throw new Error(`HTTP ${response.status}`);
  }

  async function sendOne(target: NotifyTarget, notification: Notification): Promise<void> {
    if (target.kind === `desktop`) return sendDesktop(notification);
    if (target.kind === `webhook`) return post(target.url.href, JSON.stringify(notification.payload), {'content-type': `application/json`});
    const base = (env.CAPIT_NTFY_URL?.trim() || `https://ntfy.sh`).replace(/\/+$/, ``);
    // ntfy takes the message as the body and the title as a header (headers must be ASCII).
    return post(`${base}/${target.topic}`, notification.message, {title: notification.title.replace(/[^\x20-\x7e]/g, `?`), tags: `warning`});
  }

  return {
    async send(notification) {
      const failures: string[] = [];
      await Promise.all(targets.map(async target => {
        if (target.kind === `desktop` && desktopUnavailable) return;
        try {
          await sendOne(target, notification);
        } catch (error) {
          const reason = error instanceof Error ? (error.name === `TimeoutError` ? `no answer within ${NOTIFY_TIMEOUT_MS / 1000} s` : causeOf(error)) : String(error);
          const line = target.kind === `desktop` && /unavailable/.test(reason)
            ? `capit watch: ${reason}; alerts still go to this terminal`
            : `capit watch: the ${describeTarget(target)} failed (${reason}); the alert is on this terminal`;
          failures.push(line);
          stderr.write(`${line}\n`);
        }
      }));
      return failures;
    },
  };
}

/** fetch's "fetch failed" says nothing; its cause (ECONNREFUSED, ENOTFOUND, …) does. */
function causeOf(error: Error): string {
  const cause = (error as Error & {cause?: {code?: string; message?: string}}).cause;
  const detail = cause?.code ?? cause?.message;
  return (detail ? `${error.message}: ${detail}` : error.message).split(`\n`)[0]!;
}
