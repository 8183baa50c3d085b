// Headless Chromium for the GUI tests and test/serve/screenshot.mjs: Debian's `chromium` driven by playwright-core
// (no browser download). A fresh profile per launch, removed on close.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {chromium} from 'playwright-core';

export const CHROMIUM_PATH = process.env.CAPIT_CHROMIUM ?? `/usr/bin/chromium`;
export const CHROMIUM_ARGS = [
  `--headless`, `--no-sandbox`, `--disable-gpu`, `--disable-quic`, `--no-first-run`,
  `--disable-background-networking`, `--disable-component-update`, `--disable-sync`,
];

export function chromiumAvailable() {
  return fs.existsSync(CHROMIUM_PATH);
}

/** A persistent context on a temp `--user-data-dir` (playwright passes it as that flag). */
export async function launchChromium(options = {}) {
  const profile = fs.mkdtempSync(path.join(os.tmpdir(), `capit-chromium-`));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_ARGS,
    viewport: options.viewport ?? {width: 1280, height: 800},
    deviceScaleFactor: options.deviceScaleFactor ?? 1,
  });
  return {
    context,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(profile, {recursive: true, force: true});
    },
  };
}
