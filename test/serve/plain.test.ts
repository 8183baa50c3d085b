// The page's error wording (core/src/serve/plain.ts): the CLI's facts and hints, said as plain sentences.
import {describe, expect, it} from 'vitest';

import {CapitError, InputError, ProviderError} from '../../core/dist/errors.js';
import {plainError, plainSentence} from '../../core/dist/serve/plain.js';

describe(`plainSentence`, () => {
  it(`drops the CLI prefix and the backticks, and ends as a sentence`, () => {
    expect(plainSentence(`capit: invalid amount "abc"`)).toBe(`Invalid amount "abc".`);
    expect(plainSentence(`capit serve: refused: unexpected Host header "x"`)).toBe(`Refused: unexpected Host header "x".`);
    expect(plainSentence(`Unknown platform "x"; try \`capit plugin add capit-platform-x\``)).toBe(`Unknown platform "x"; try capit plugin add capit-platform-x.`);
    expect(plainSentence(`a stray \` backtick`)).toBe(`A stray backtick.`);
    expect(plainSentence(`Already a sentence.`)).toBe(`Already a sentence.`);
    expect(plainSentence(`Which one?`)).toBe(`Which one?`);
  });

  it(`turns terminal advice into the page that does the same thing`, () => {
    expect(plainSentence(`No OpenRouter master key: set OPENROUTER_MANAGEMENT_KEY or run \`capit platforms add openrouter\` (create one at https://x)`))
      .toBe(`No OpenRouter master key: set OPENROUTER_MANAGEMENT_KEY or add one on the Platforms page (create one at https://x).`);
    expect(plainSentence(`Check OPENROUTER_MANAGEMENT_KEY or the stored key (capit platforms add openrouter); create a management key at https://x`))
      .toBe(`Check OPENROUTER_MANAGEMENT_KEY or the stored key (Platforms page); create a management key at https://x.`);
    expect(plainSentence(`Run \`capit restore opencode\` to put the originals back from /b.`))
      .toBe(`Use "Restore configuration" for opencode on the Agents page to put the originals back from /b.`);
    expect(plainSentence(`check with \`capit keys list --all\` and delete it`))
      .toBe(`Check on the Keys page (with "Include keys capit did not issue") and delete it.`);
  });
});

describe(`plainError`, () => {
  it(`keeps the code, the exit code and the hint (apart, also for input errors)`, () => {
    expect(plainError(new ProviderError(`openrouter`, `bad-master-key`, `OpenRouter rejected the master key (401)`, 401, `Check \`X\``)))
      .toEqual({message: `OpenRouter rejected the master key (401).`, hint: `Check X.`, code: `CAPIT_BAD_MASTER_KEY`, exitCode: 1});
    expect(plainError(new InputError(`Unknown agent "x"`, `See \`capit agents\``)))
      .toEqual({message: `Unknown agent "x".`, hint: `See capit agents.`, code: `CAPIT_BAD_INPUT`, exitCode: 2});
    expect(plainError(new CapitError(`CAPIT_X`, `first line\nsecond line`))).toMatchObject({message: `First line.`, hint: `Second line.`});
  });

  it(`says a bug is a bug, in one line, without the stack`, () => {
    const error = plainError(new TypeError(`x is not a function`));
    expect(error).toEqual({
      message: `Internal error: x is not a function.`,
      hint: `This is a bug in capit; please report it with the server's terminal output.`,
      code: `CAPIT_INTERNAL`, exitCode: 1,
    });
  });
});
