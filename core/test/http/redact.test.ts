import {describe, expect, it}          from 'vitest';
import {maskSecret, redactSecrets}     from '../../src/http/redact.js';

const OR_KEY = `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`;

describe(`maskSecret`, () => {
  it.each([
    [OR_KEY, `sk-or-v1-…855d`],
    [`sk-or-v1-mgmt-fake-${`0`.repeat(40)}`, `sk-or-v1-…0000`],
    [`sk-proj-${`a1`.repeat(20)}`, `sk-proj-…a1a1`],
    [`sk-${`9`.repeat(40)}`, `sk-…9999`],
    [`plainrandomtokenwithoutprefix0042`, `…0042`],
    [`short`, `****`],
    [`sk-or-v1-abcd1234`, `****`],
    [``, `****`],
  ])(`%s → %s`, (input, masked) => {
    expect(maskSecret(input)).toBe(masked);
  });

  it(`hides at least eight characters`, () => {
    for (let n = 0; n < 40; n++) {
      const secret = `sk-or-v1-${`x`.repeat(n)}`;
      const masked = maskSecret(secret);
      const visible = masked.replace(/[…*]/g, ``).length;
      if (masked !== `****`) expect(secret.length - visible).toBeGreaterThanOrEqual(8);
    }
  });
});

describe(`redactSecrets`, () => {
  it(`replaces every occurrence of a known secret`, () => {
    const secret = `custom-secret-value-123456`;
    expect(redactSecrets(`a ${secret} b ${secret}`, [secret])).toBe(`a …3456 b …3456`);
  });

  it(`masks sk- tokens it was not told about`, () => {
    expect(redactSecrets(`key=${OR_KEY}.`)).toBe(`key=sk-or-v1-…855d.`);
  });

  it(`masks bearer tokens`, () => {
    expect(redactSecrets(`Authorization: Bearer abcdefghijklmnopqrstuvwxyz`)).toBe(`Authorization: Bearer ****`);
  });

  it(`prefers the longest secret when one contains another`, () => {
    const long = `${OR_KEY}`;
    const short = OR_KEY.slice(0, 30);
    const out = redactSecrets(`x ${long} y`, [short, long]);
    expect(out).toBe(`x sk-or-v1-…855d y`);
  });

  it(`leaves ordinary text, short "secrets" and already-masked keys alone`, () => {
    const text = `OpenRouter rejected sk-or-v1-…855d (401: User not found.)`;
    expect(redactSecrets(text, [`abc`, ``, undefined])).toBe(text);
  });
});
