#!/usr/bin/env node
// Regenerates the README's GUI screenshots: the `capit serve` keys page (keys-page.png) and spend page
// (spend-page.png) in headless Chromium, with keys issued through the GUI's own API against the loopback emulator in a
// throwaway HOME (nothing real is touched or contacted). Each page gets its own sandbox.
//
//   npm run build && node test/serve/screenshot.mjs [keys|spend]…     (default: both)
//
// Needs Debian's chromium at /usr/bin/chromium (or CAPIT_CHROMIUM=/path) and the test workspace's playwright-core.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {startServer}  from '../../core/dist/serve/server.js';
import {startEmulator, DEFAULT_MANAGEMENT_KEY} from '../emulator/server.mjs';
import {chromiumAvailable, CHROMIUM_PATH, launchChromium} from './browser.mjs';

const shots = path.resolve(import.meta.dirname, `screenshots`);
if (!chromiumAvailable()) {
  console.error(`screenshot: no chromium at ${CHROMIUM_PATH} (apt-get install chromium, or set CAPIT_CHROMIUM)`);
  process.exit(1);
}

/** A throwaway HOME where opencode, claude and kilo look installed, the emulator, and the GUI over both. */
async function withGui(scene) {
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
    const issue = async opts => api(`/api/issue`, {planId: (await api(`/api/issue/plan`, {platform: `openrouter`, ...opts})).planId});
    const launch = async viewport => {
      browser = await launchChromium({viewport, deviceScaleFactor: 1});
      const page = await browser.context.newPage();
      await page.goto(server.url);
      await page.waitForSelector(`body[data-ready="keys"]`);
      return page;
    };
    await scene({emulator, api, issue, launch});
  } finally {
    await browser?.close();
    await server.close();
    await emulator.close();
    fs.rmSync(root, {recursive: true, force: true});
  }
}

async function save(page, name) {
  const out = path.join(shots, name);
  fs.mkdirSync(shots, {recursive: true});
  await page.screenshot({path: out, fullPage: true});
  console.log(`wrote ${path.relative(process.cwd(), out)} (${fs.statSync(out).size} bytes)`);
}

const scenes = {
  // Four keys in different states: part spent, nearly spent, used up, disabled.
  keys: () => withGui(async ({emulator, api, issue, launch}) => {
    const spend = async (opts, usd) => {
      const key = await issue(opts);
      if (usd) emulator.charge(key.id, usd);
      return key;
    };
    await spend({amount: `5`, agent: `opencode`, reset: `monthly`}, 1.85);
    await spend({amount: `20`, agent: `claude`, reset: `weekly`, expires: `30d`}, 16.9);
    await spend({amount: `10`, agent: `kilo`}, 10);
    const ci = await spend({amount: `2`, name: `ci`, reset: `daily`}, 0.35);
    await api(`/api/keys/disable`, {platform: `openrouter`, id: ci.id, name: ci.name});
    const page = await launch({width: 1200, height: 640});
    await page.waitForSelector(`#keys-table tbody tr`);
    await save(page, `keys-page.png`);
  }),
  // Today's charges plus three weeks of history booked on past days (the emulator serves them through /activity):
  // cents to dollars a day over one or two models per agent. Deterministic, no randomness.
  spend: () => withGui(async ({emulator, issue, launch}) => {
    const keys = {
      claude: await issue({amount: `10`, agent: `claude`, reset: `daily`}),
      opencode: await issue({amount: `5`, agent: `opencode`, reset: `daily`}),
      kilo: await issue({amount: `3`, agent: `kilo`, reset: `daily`}),
    };
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
    const page = await launch({width: 1200, height: 760});
    await page.click(`nav a[data-page="spend"]`);
    await page.waitForSelector(`body[data-ready="spend"]`);
    await save(page, `spend-page.png`);
  }),
};

const wanted = process.argv.slice(2);
for (const name of wanted.length > 0 ? wanted : Object.keys(scenes)) {
  if (!scenes[name]) {
    console.error(`screenshot: unknown page "${name}"; expected one of: ${Object.keys(scenes).join(`, `)}`);
    process.exit(2);
  }
  await scenes[name]();
}
