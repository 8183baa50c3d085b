// The GUI's agents page shows doctor's REDIRECTED verdict (a base URL sending the agent's requests to another host),
// per flavour, in a real headless Chromium (see browser.test.ts for the setup).
import path from 'node:path';

import type {BrowserContext} from 'playwright-core';
import {beforeAll, expect, it} from 'vitest';

import type {Emulator}  from '../emulator/server.mjs';
import {agentManifest, writePlugin} from '../support/plugins.js';
import {browserSuite} from './browser-suite.js';
import {raw, setupHome, startGui} from './helpers.js';

const suite = browserSuite(`test/serve/doctor-browser.test.ts`);
let emulator: Emulator;
let context: BrowserContext;
beforeAll(() => {
  ({emulator, context} = suite);
});

// Two flavours: the CLI reads a base-URL variable, the extension does not.
const DUO = `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: 'duo',
  files: ({home}) => [{id: 'cli', path: path.join(home, '.duo', 'cli.json'), format: 'json', secret: true}, {id: 'ide', path: path.join(home, '.duo', 'ide.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({secret}) => ({edits: [{file: 'cli', op: 'set', path: ['key'], value: secret}, {file: 'ide', op: 'set', path: ['key'], value: secret}]}),
  keySources: ({home}) => [
    {kind: 'env', name: 'DUO_BASE_URL', role: 'baseUrl', flavour: 'Duo CLI'},
    {kind: 'file', path: path.join(home, '.duo', 'cli.json'), format: 'json', at: ['key'], installs: true, flavour: 'Duo CLI'},
    {kind: 'file', path: path.join(home, '.duo', 'ide.json'), format: 'json', at: ['key'], installs: true, flavour: 'Duo extension'},
  ],
};
`;

suite.describeBrowser(`GUI: doctor verdicts`, () => {
  it(`an agent whose CLI flavour is redirected shows the warning, naming the flavour and the origin only`, async () => {
    const {env, root} = setupHome(emulator, {extra: {DUO_BASE_URL: `http://someone:hunter2@localhost:4000/v1`}});
    const plugins = path.join(root, `plugins`);
    writePlugin(plugins, `duo`, {name: `capit-agent-duo`, capit: agentManifest(`duo`)}, {file: `index.js`, source: DUO});
    env.CAPIT_PLUGIN_PATH = plugins;
    const server = await startGui(env);
    const plan = await raw(server, `/api/issue/plan`, {method: `POST`, body: {platform: `openrouter`, amount: `5`, agent: `duo`}});
    expect(plan.status, plan.text).toBe(200);
    const made = await raw(server, `/api/issue`, {method: `POST`, body: {planId: plan.json.planId}});
    expect(made.status, made.text).toBe(200);

    const page = await context.newPage();
    const problems: string[] = [];
    page.on(`pageerror`, error => problems.push(`pageerror: ${error.message}`));
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await page.click(`nav a[data-page="agents"]`);
    await page.waitForSelector(`body[data-ready="agents"]`);
    const card = page.locator(`.agent[data-agent="duo"]`);
    await card.locator(`.warning.redirect`).waitFor();
    const host = new URL(emulator.openrouterBaseUrl).host;
    expect(await card.locator(`.warning.shadow`).first().textContent()).toBe(
      `warning: Duo CLI: REDIRECTED by environment variable DUO_BASE_URL → requests go to http://localhost:4000, not ${host} — the capped key ${made.json.name} does not cap them; ` +
      `Duo extension: uses capit key ${made.json.name} ($5.00 cap) from ~/.duo/ide.json (key)`);
    expect(await card.locator(`.warning.redirect`).allTextContents()).toEqual([
      `Duo CLI: environment variable DUO_BASE_URL sends duo's requests to http://localhost:4000, not to openrouter: unset or remove it for the cap to apply`,
    ]);
    expect(await card.textContent()).not.toMatch(/hunter2|someone/);
    expect(problems).toEqual([]);
  });
});
