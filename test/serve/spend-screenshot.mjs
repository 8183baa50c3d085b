#!/usr/bin/env node
// Regenerates test/serve/screenshots/spend-page.png: the `capit serve` spend page in headless Chromium, with keys
// issued through the GUI's own API and spend charged by the loopback emulator in a throwaway HOME (nothing real is
// touched or contacted). Past days appear when /api/spend reads the provider's activity data (the emulator serves it
// from the charges it made, moved into past days with its clock).
//
//   npm run build && node test/serve/spend-screenshot.mjs [out.png]
//
// Needs Debian's chromium at /usr/bin/chromium (or CAPIT_CHROMIUM=/path) and the test workspace's playwright-core.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {startServer}  from '../../core/dist/serve/server.js';
import {startEmulator, DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import {chromiumAvailable, CHROMIUM_PATH, launchChromium} from './browser.mjs';

const repo = path.resolve(import.meta.dirname, `../..`);
const out = path.resolve(process.argv[2] ?? path.join(repo, `test`, `serve`, `screenshots`, `spend-page.png`));
if (!chromiumAvailable()) {
  console.error(`spend-screenshot: no chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CAPIT_CHROMIUM)`);
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
  const issue = async opts => {
    const {planId} = await api(`/api/issue/plan`, {platform: `openrouter`, reset: `daily`, ...opts});
    return api(`/api/issue`, {planId});
  };
  const keys = {
    claude: await issue({amount: `10`, agent: `claude`}),
    opencode: await issue({amount: `5`, agent: `opencode`}),
    kilo: await issue({amount: `3`, agent: `kilo`}),
  };
  // Today's charges, plus three weeks of history booked on past days (the emulator serves them through /activity):
  // a real session's spend, cents to dollars a day, over two or three models per agent. Deterministic, no randomness.
  for (const [agent, usd] of [[`claude`, 3.4], [`opencode`, 1.25], [`kilo`, 0.6], [`claude`, 1.1], [`opencode`, 0.4]])
    emulator.charge(keys[agent].id, usd);
  const models = {claude: [`anthropic/claude-sonnet-4.5`, `anthropic/claude-haiku-4.5`], opencode: [`openai/gpt-4o-mini`, `qwen/qwen3-coder`], kilo: [`anthropic/claude-sonnet-4.5`]};
  for (let daysAgo = 1; daysAgo <= 21; daysAgo++) {
    const date = new Date(Date.now() - daysAgo * 86_400_000).toISOString().slice(0, 10);
    for (const [i, agent] of [`claude`, `opencode`, `kilo`].entries()) {
      const wave = (Math.sin(daysAgo / 2 + i) + 1.3) * (agent === `claude` ? 1.6 : agent === `opencode` ? 0.8 : 0.35);
      models[agent].forEach((model, m) => emulator.charge(keys[agent].id, Math.round(wave * (m === 0 ? 0.7 : 0.3) * 100) / 100, {model, date}));
    }
  }

  browser = await launchChromium({viewport: {width: 1200, height: 760}, deviceScaleFactor: 1});
  const page = await browser.context.newPage();
  await page.goto(server.url);
  await page.waitForSelector(`body[data-ready="keys"]`);
  await page.click(`nav a[data-page="spend"]`);
  await page.waitForSelector(`body[data-ready="spend"]`);
  fs.mkdirSync(path.dirname(out), {recursive: true});
  await page.screenshot({path: out, fullPage: true});
  console.log(`wrote ${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes)`);
} finally {
  await browser?.close();
  await server.close();
  await emulator.close();
  fs.rmSync(root, {recursive: true, force: true});
}
