import {afterEach, beforeEach, describe, expect, it} from 'vitest';

import {canShowProgress, withProgress} from '../../src/ui/progress.js';

/** A stand-in for a terminal's stderr recording every write (yocto-spinner moves the cursor through these methods). */
function fakeTerminal(isTTY = true) {
  const writes: string[] = [];
  const stream = {
    isTTY, columns: 80,
    write(chunk: string | Uint8Array) {
      writes.push(String(chunk));
      return true;
    },
    cursorTo() { writes.push(`<cursorTo>`); return true; },
    moveCursor() { writes.push(`<moveCursor>`); return true; },
    clearLine() { writes.push(`<clearLine>`); return true; },
  };
  return {stream: stream as unknown as NodeJS.WriteStream, writes};
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

// yocto-spinner itself consults process.env (TERM, CI); run as on a person's terminal whatever CI sets.
const saved = {TERM: process.env.TERM, CI: process.env.CI};
beforeEach(() => {
  process.env.TERM = `xterm-256color`;
  delete process.env.CI;
});
afterEach(() => {
  for (const [name, value] of Object.entries(saved)) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe(`withProgress`, () => {
  it(`draws nothing for work that finishes before the delay`, async () => {
    const {stream, writes} = fakeTerminal();
    const result = await withProgress({stderr: stream, env: {TERM: `xterm`}}, `Listing keys…`, async () => 42);
    expect(result).toBe(42);
    expect(writes).toEqual([]);
  });

  it(`shows the label and counter after the delay and clears them before it returns`, async () => {
    const {stream, writes} = fakeTerminal();
    await withProgress({stderr: stream, env: {TERM: `xterm`}}, `Deleting 3 keys…`, async progress => {
      await sleep(150);
      progress.update(`Deleting keys… 2/3`);
      await sleep(150);
    }, {delayMs: 20});
    const all = writes.join(``);
    expect(all).toContain(`Deleting 3 keys…`);
    expect(all).toContain(`Deleting keys… 2/3`);
    // The spinner's line is cleared and the cursor shown again before withProgress resolves.
    const lastDraw = writes.map(w => w.includes(`Deleting`)).lastIndexOf(true);
    expect(writes.slice(lastDraw + 1)).toContain(`<clearLine>`);
    expect(writes.slice(lastDraw + 1).join(``)).toContain(`\x1b[?25h`);
    const count = writes.length;
    await sleep(100);
    expect(writes.length).toBe(count);
  });

  it(`clears the spinner when the work fails, and passes the error on`, async () => {
    const {stream, writes} = fakeTerminal();
    await expect(withProgress({stderr: stream, env: {}}, `Listing keys…`, async () => {
      await sleep(100);
      throw new Error(`boom`);
    }, {delayMs: 10})).rejects.toThrow(`boom`);
    expect(writes.join(``)).toContain(`\x1b[?25h`);
  });

  it.each([
    [`stderr is not a terminal`, false, {}, {}],
    [`--json (enabled: false)`, true, {enabled: false}, {}],
    [`TERM=dumb`, true, {}, {TERM: `dumb`}],
    [`CI`, true, {}, {CI: `true`}],
  ])(`draws nothing when %s, and the work still runs`, async (_, isTTY, opts, env) => {
    const {stream, writes} = fakeTerminal(isTTY);
    let updates = 0;
    const result = await withProgress({stderr: stream, env}, `Listing keys…`, async progress => {
      await sleep(80);
      progress.update(`Listing keys… 1`);
      updates++;
      return `done`;
    }, {delayMs: 5, ...opts});
    expect(result).toBe(`done`);
    expect(updates).toBe(1);
    expect(writes).toEqual([]);
  });

  it(`canShowProgress asks both the command's env and the process's (yocto-spinner reads the latter)`, () => {
    const {stream} = fakeTerminal();
    expect(canShowProgress({stderr: stream, env: {}})).toBe(true);
    process.env.CI = `1`;
    expect(canShowProgress({stderr: stream, env: {}})).toBe(false);
  });
});
