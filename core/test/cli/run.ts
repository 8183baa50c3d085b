// Runs capit in this process through main(), the function the binary calls, with captured streams: the parser, help
// and error wording without spawning the bundle. Paths that need the real binary stay in test/e2e.
import {Readable, Writable} from 'node:stream';

import {main} from '../../src/main.js';

export interface InProcessResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

function collector(): {stream: NodeJS.WritableStream; text: () => string} {
  const chunks: Buffer[] = [];
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      chunks.push(Buffer.from(chunk));
      done();
    },
  });
  return {stream, text: () => Buffer.concat(chunks).toString(`utf8`)};
}

export async function runMain(argv: string[], opts: {env: Record<string, string>; cwd?: string; input?: string}): Promise<InProcessResult> {
  const stdout = collector();
  const stderr = collector();
  const exitCode = await main(argv, {
    env: opts.env,
    cwd: opts.cwd ?? opts.env.HOME,
    stdin: Readable.from([opts.input ?? ``]) as unknown as NodeJS.ReadStream,
    stdout: stdout.stream,
    stderr: stderr.stream,
    interactive: false,
  });
  return {exitCode, stdout: stdout.text(), stderr: stderr.text()};
}
