// The GUI's "Top up" action in a real headless Chromium (see browser.test.ts for the setup it shares).
import type {BrowserContext} from 'playwright-core';
import {beforeAll, expect, it} from 'vitest';

import type {Emulator}  from '../emulator/server.mjs';
import {runCli}         from '../support/cli.js';
import {browserSuite} from './browser-suite.js';
import {setupHome, startGui} from './helpers.js';

const suite = browserSuite(`test/serve/topup-browser.test.ts`);
let emulator: Emulator;
let context: BrowserContext;
beforeAll(() => {
  ({emulator, context} = suite);
});

suite.describeBrowser(`GUI: Top up`, () => {
  it(`an agent holding a key gets a Top up form; it raises the cap for the time given`, async () => {
    const {env} = setupHome(emulator);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env});
    expect(installed.exitCode, installed.stderr).toBe(0);
    const [key] = [...emulator.state.keys.values()];
    const server = await startGui(env);
    const page = await context.newPage();
    const problems: string[] = [];
    page.on(`pageerror`, error => problems.push(error.message));

    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await page.click(`nav a[data-page="agents"]`);
    await page.waitForSelector(`body[data-ready="agents"]`);
    // Only agents with a capit install get the form.
    expect(await page.locator(`form[data-topup]`).evaluateAll(forms => forms.map(f => (f as HTMLElement).dataset.topup))).toEqual([`opencode`]);
    const card = page.locator(`.agent[data-agent="opencode"]`);
    await card.locator(`input[data-topup-amount]`).fill(`3`);
    await card.locator(`input[data-topup-for]`).fill(`2h`);
    await card.locator(`button`, {hasText: `Top up`}).click();
    expect(await page.textContent(`#modal-text`)).toBe(`Raise the cap of opencode's key by $3 for 2h?`);
    await page.click(`#modal-ok`);
    await card.locator(`.topped-up`).waitFor();
    expect(await card.locator(`.topped-up`).textContent()).toMatch(new RegExp(`^Raised ${key!.name}: cap \\$5\\.00 → \\$8\\.00 \\(verified\\); taken back at `));
    expect(emulator.state.keys.get(key!.hash)!.limit).toBe(8);
    expect(problems).toEqual([]);
    await page.close();
  });
});
