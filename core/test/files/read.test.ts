import {execFileSync} from 'node:child_process';
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {afterEach, describe, expect, it} from 'vitest';

import {CapitError, UnparseableFileError} from '../../src/errors.js';
import {MAX_AGENT_FILE_BYTES, readAgentText, readTargetFile} from '../../src/files/read.js';

const dirs: string[] = [];
function tmp(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), `capit-read-`));
  dirs.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of dirs.splice(0)) fs.rmSync(dir, {recursive: true, force: true});
});

async function refusal(p: string): Promise<CapitError> {
  try {
    await readTargetFile(p);
  } catch (error) {
    expect(error).toBeInstanceOf(CapitError);
    expect((error as Error).message).not.toContain(`\n`);
    return error as CapitError;
  }
  throw new Error(`expected a refusal`);
}

describe(`readTargetFile`, () => {
  it(`reads a regular file through a symlink, with its mode and real path`, async () => {
    const dir = tmp();
    fs.writeFileSync(path.join(dir, `real.json`), `{}`, {mode: 0o640});
    fs.symlinkSync(path.join(dir, `real.json`), path.join(dir, `link.json`));
    const read = await readTargetFile(path.join(dir, `link.json`));
    expect(read.bytes?.toString()).toBe(`{}`);
    expect(read.mode).toBe(0o640);
    expect(read.realPath).toBe(fs.realpathSync(path.join(dir, `real.json`)));
  });

  it(`a missing file is null bytes, not an error; so is a dangling link's missing target`, async () => {
    const dir = tmp();
    expect((await readTargetFile(path.join(dir, `none.json`))).bytes).toBeNull();
    fs.symlinkSync(path.join(dir, `later.json`), path.join(dir, `dangling.json`));
    const read = await readTargetFile(path.join(dir, `dangling.json`));
    expect(read.bytes).toBeNull();
    expect(read.realPath).toBe(path.join(fs.realpathSync(dir), `later.json`));
  });

  it(`refuses a symlink loop, a directory, a FIFO (without blocking) and a file under a file`, async () => {
    const dir = tmp();
    fs.symlinkSync(path.join(dir, `b`), path.join(dir, `a`));
    fs.symlinkSync(path.join(dir, `a`), path.join(dir, `b`));
    expect((await refusal(path.join(dir, `a`))).message).toMatch(/symlink loop/);
    fs.mkdirSync(path.join(dir, `folder`));
    expect((await refusal(path.join(dir, `folder`))).message).toMatch(/it is a directory/);
    execFileSync(`mkfifo`, [path.join(dir, `pipe`)]);
    expect((await refusal(path.join(dir, `pipe`))).message).toMatch(/named pipe/);
    fs.writeFileSync(path.join(dir, `file`), ``);
    expect(await refusal(path.join(dir, `file`, `inside.json`))).toBeInstanceOf(UnparseableFileError);
  });

  it(`refuses a device and a file over the size bound`, async () => {
    expect((await refusal(`/dev/null`)).message).toMatch(/a device/);
    const dir = tmp();
    const big = path.join(dir, `big.json`);
    fs.writeFileSync(big, Buffer.alloc(MAX_AGENT_FILE_BYTES + 1, 0x20));
    expect((await refusal(big)).message).toMatch(/larger than 10 MiB/);
  });

  it(`readAgentText throws for a missing file and for a FIFO, and never blocks`, async () => {
    const dir = tmp();
    await expect(readAgentText(path.join(dir, `none`))).rejects.toThrow(/does not exist/);
    execFileSync(`mkfifo`, [path.join(dir, `pipe`)]);
    await expect(readAgentText(path.join(dir, `pipe`))).rejects.toThrow(/named pipe/);
  });
});
