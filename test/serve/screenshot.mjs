#!/usr/bin/env node
// Regenerates test/serve/screenshots/keys-page.png: the `capit serve` keys page in headless Chromium, with a few keys issued through
// the GUI's own API against the loopback emulator in a throwaway HOME (nothing real is touched or contacted).
//
//   npm run build && node test/serve/screenshot.mjs [out.png]
//
// Needs Debian's chromium at /usr/bin/chromium (or CAPIT_CHROMIUM=/path) and the test workspace's playwright-core.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {startServer}  from '../../core/dist/serve/server.js';
import {startEmulator, DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import {chromiumAvailable, CHROMIUM_PATH, launchChromium} from './browser.mjs';

const repo = path.resolve(import.meta.dirname, `../..`);
const out = path.resolve(process.argv[2] ?? path.join(repo, `test`, `serve`, `screenshots`, `keys-page.png`));
if (!chromiumAvailable()) {
  console.error(`screenshot: no chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CAPIT_CHROMIUM)`);
  process.exit(1);
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-screenshot-`));
const home = path.join(root, `home`);
const env = {
  PATH: process.env.PATH ?? ``,
  HOME: home,
  XDG_CONFIG_HOME: path.join(home, `.config`),
  XDG_STATE_HOME: path.join(home, `.local`, `state`),
  XDG_DATA_HOME: path.join(home, `.local`, `share`),
  NO_COLOR: `1`,
};
// Agents look installed when their folders exist.
for (const dir of [path.join(env.XDG_DATA_HOME, `opencode`), path.join(home, `.claude`), path.join(env.XDG_DATA_HOME, `kilo`)])
  fs.mkdirSync(dir, {recursive: true});

const emulator = await startEmulator({port: 0});
env.CAPIT_OPENROUTER_BASE_URL = emulator.openrouterBaseUrl;
env.OPENROUTER_MANAGEMENT_KEY = DEFAULT_MANAGEMENT_KEY;
const server = await startServer({env, cwd: home});
let browser;
try {
  const api = async (route, body) => {
    const res = await fetch(`${server.origin}${route}`, {
      method: `POST`, body: JSON.stringify(body),
      headers: {authorization: `Bearer ${server.token}`, 'content-type': `application/json`},
    });
    const json = await res.json();
    if (!res.ok) throw new Error(`${route}: ${json.error?.message ?? res.status}`);
    return json;
  };
  const issue = async (opts, spentUsd) => {
    const {planId} = await api(`/api/issue/plan`, opts);
    const key = await api(`/api/issue`, {planId});
    if (spentUsd) emulator.charge(key.id, spentUsd);
    return key;
  };
  await issue({platform: `openrouter`, amount: `5`, agent: `opencode`, reset: `monthly`}, 1.85);
  await issue({platform: `openrouter`, amount: `20`, agent: `claude`, reset: `weekly`, expires: `30d`}, 16.9);
  await issue({platform: `openrouter`, amount: `10`, agent: `kilo`}, 10);
  const ci = await issue({platform: `openrouter`, amount: `2`, name: `ci`, reset: `daily`}, 0.35);
  await api(`/api/keys/disable`, {platform: `openrouter`, id: ci.id, name: ci.name});

  browser = await launchChromium({viewport: {width: 1200, height: 640}, deviceScaleFactor: 1});
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForSelector(`body[data-ready="keys"]`);
  await page.waitForSelector(`#keys-table tbody tr`);
  fs.mkdirSync(path.dirname(out), {recursive: true});
  await page.screenshot({path: out, fullPage: true});
  console.log(`wrote ${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes)`);
} finally {
  await browser?.close();
  await server.close();
  await emulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
