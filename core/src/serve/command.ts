import {spawn} from 'node:child_process';

import type {CapitContext}        from '../context.js';
import {isLoopback, startServer}  from './server.js';

export interface ServeCommandOptions {
  port?: number;
  host: string;
  open: boolean;
}

/** Opens `url` in the default browser when there is one; any failure is ignored (the URL is printed anyway). */
export function openBrowser(url: string, env: CapitContext[`env`]): boolean {
  let command: string;
  let args: string[];
  if (process.platform === `darwin`) {
    command = `open`;
    args = [url];
  } else if (process.platform === `win32`) {
    command = `cmd`;
    args = [`/c`, `start`, `""`, url.replace(/&/g, `^&`)];
  } else {
    if (!env.DISPLAY && !env.WAYLAND_DISPLAY) return false;
    command = `xdg-open`;
    args = [url];
  }
  try {
    const child = spawn(command, args, {stdio: `ignore`, detached: true, windowsHide: true});
    child.on(`error`, () => {});
    child.unref();
    return true;
  } catch {
    return false;
  }
}

/** `capit serve`: runs until interrupted. */
export async function serve(opts: ServeCommandOptions, ctx: CapitContext): Promise<number> {
  if (!isLoopback(opts.host))
    ctx.stderr.write(`capit: warning: listening on ${opts.host}: other machines can reach this server (every request still needs the token)\n`);
  // The same plugins and env as this command; never prompts (a browser cannot answer a terminal prompt).
  const server = await startServer({host: opts.host, port: opts.port ?? 0, context: {...ctx, interactive: false}});
  ctx.stdout.write(`capit GUI: ${server.url}\n`);
  ctx.stderr.write(`Anyone with this URL can manage your keys; it changes every launch. Press Ctrl-C to stop.\n`);
  if (opts.open) openBrowser(server.url, ctx.env);

  await new Promise<void>(resolve => {
    const stop = () => {
      process.off(`SIGINT`, stop);
      process.off(`SIGTERM`, stop);
      resolve();
    };
    process.on(`SIGINT`, stop);
    process.on(`SIGTERM`, stop);
  });
  await server.close();
  return 0;
}
