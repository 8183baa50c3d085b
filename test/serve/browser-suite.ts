// What every GUI browser test file shares: one emulator and one headless Chromium per file, and a skip that says why
// when Debian's chromium is missing (CI installs it in .ci/run), never a silent pass.
import type {BrowserContext} from 'playwright-core';
import {afterAll, beforeAll, describe, it} from 'vitest';

import {startEmulator}  from '../emulator/server.mjs';
import type {Emulator}  from '../emulator/server.mjs';
import {chromiumAvailable, CHROMIUM_PATH, launchChromium} from './browser.mjs';

export interface BrowserSuite {
  /** Set once the file's beforeAll has run. */
  emulator: Emulator;
  context: BrowserContext;
  /** `describe`, skipped (with the reason printed) when there is no chromium. */
  describeBrowser: ReturnType<typeof describe.skipIf>;
}

export function browserSuite(file: string): BrowserSuite {
  const skipReason = chromiumAvailable() ? null : `no chromium at ${CHROMIUM_PATH} (install it: apt-get install -y chromium)`;
  if (skipReason) {
    console.warn(`${file}: the GUI browser tests are SKIPPED: ${skipReason}`);
    it.skip(`GUI browser tests skipped: ${skipReason}`, () => {});
  }
  const suite = {describeBrowser: describe.skipIf(skipReason !== null)} as BrowserSuite;
  let browser: Awaited<ReturnType<typeof launchChromium>> | undefined;
  beforeAll(async () => {
    suite.emulator = await startEmulator({port: 0});
    if (!skipReason) {
      browser = await launchChromium();
      suite.context = browser.context;
    }
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
    await suite.emulator?.close();
  });
  return suite;
}
