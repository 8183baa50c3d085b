// Writing a secret capit shows only once (a key printed without an agent): the write must be known to have reached
// stdout before capit reports success, or the key is useless and must not be left alive.
import fs from 'node:fs';

/**
 * Set while a once-only secret is written to stdout, and left set when that write failed (stdout is broken for good):
 * the entry point's quiet exit on EPIPE (cli.ts) must not end the process before the key is dealt with.
 */
export const secretDelivery = {active: false};

/**
 * When stdout is the process's fd and that is /dev/null (also what Node opens for a closed stdout, `>&-`), whatever
 * is printed there is lost: returns a short description, else undefined. Streams without an fd (tests) are kept.
 */
export function discardedStdout(stdout: NodeJS.WritableStream): string | undefined {
  const fd = (stdout as {fd?: unknown}).fd;
  if (typeof fd !== `number`) return undefined;
  try {
    const out = fs.fstatSync(fd);
    const devNull = fs.statSync(`/dev/null`);
    return out.isCharacterDevice() && out.rdev === devNull.rdev ? `stdout is /dev/null or closed` : undefined;
  } catch {
    return undefined;
  }
}

/** Writes `text` and waits until the stream took it: the error code (`EPIPE`, `ENOSPC`, …) when it did not. */
export function writeOnce(stream: NodeJS.WritableStream, text: string): Promise<string | undefined> {
  secretDelivery.active = true;
  return new Promise(resolve => {
    let settled = false;
    const settle = (error: unknown) => {
      if (settled) return;
      settled = true;
      stream.off(`error`, settle);
      // A broken stream's later error events (emitted after the callback) are expected, not a crash.
      if (error) stream.on(`error`, () => {});
      else secretDelivery.active = false;
      resolve(error ? String((error as NodeJS.ErrnoException).code ?? (error as Error).message ?? error) : undefined);
    };
    stream.on(`error`, settle);
    try {
      stream.write(text, error => settle(error ?? undefined));
    } catch (error) {
      settle(error);
    }
  });
}
