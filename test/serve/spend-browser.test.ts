// The GUI's spend page and the keys page's runway in a real headless Chromium (see browser.test.ts for the setup).
// Spend is made by the loopback emulator; the chart library is served by capit itself under a 'self'-only CSP.
import type {BrowserContext, ConsoleMessage} from 'playwright-core';
import {beforeAll, expect, it} from 'vitest';

import type {Emulator}  from '../emulator/server.mjs';
import {browserSuite} from './browser-suite.js';
import {raw, setupHome, startGui} from './helpers.js';

const suite = browserSuite(`test/serve/spend-browser.test.ts`);
let emulator: Emulator;
let context: BrowserContext;
beforeAll(() => {
  ({emulator, context} = suite);
});

type Gui = Awaited<ReturnType<typeof startGui>>;
async function issue(server: Gui, body: Record<string, string>): Promise<{id: string; name: string}> {
  const plan = await raw(server, `/api/issue/plan`, {method: `POST`, body: {platform: `openrouter`, ...body}});
  expect(plan.status, plan.text).toBe(200);
  const made = await raw(server, `/api/issue`, {method: `POST`, body: {planId: plan.json.planId}});
  expect(made.status, made.text).toBe(200);
  return made.json;
}

suite.describeBrowser(`GUI: spend page`, () => {
  it(`serves Chart.js from capit and draws each agent's spend, with no CSP violation`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const claude = await issue(server, {amount: `10`, agent: `claude`, reset: `daily`});
    const kilo = await issue(server, {amount: `4`, agent: `kilo`, reset: `daily`});
    emulator.charge(claude.id, 2.5);
    emulator.charge(kilo.id, 0.75);

    // The library is capit's own file, under the same security headers as the page.
    const library = await raw(server, `/vendor/chart.umd.min.js`, {auth: `none`});
    expect(library.status).toBe(200);
    expect(library.headers[`content-type`]).toBe(`text/javascript; charset=utf-8`);
    expect(library.headers[`content-security-policy`]).toContain(`script-src 'self'`);
    expect(library.text).toContain(`window.Chart=`);
    expect(library.text).not.toContain(`sourceMappingURL`);

    const page = await context.newPage();
    const problems: string[] = [];
    page.on(`pageerror`, error => problems.push(`pageerror: ${error.message}`));
    // A CSP violation is reported as a console error ("Refused to … because it violates …").
    page.on(`console`, (msg: ConsoleMessage) => { if (msg.type() === `error`) problems.push(`console: ${msg.text()}`); });
    const outside: string[] = [];
    page.on(`request`, request => { if (!request.url().startsWith(server.origin)) outside.push(request.url()); });

    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await page.click(`nav a[data-page="spend"]`);
    await page.waitForSelector(`body[data-ready="spend"]`);

    // The chart is drawn on a canvas by Chart.js, with one stack per agent holding exactly the emulator's charges.
    expect(await page.locator(`#spend-daily`).evaluate(c => (c as HTMLCanvasElement).width > 0 && (c as HTMLCanvasElement).height > 0)).toBe(true);
    const drawn = await page.evaluate(() => {
      const chart = (window as any).Chart.getChart(document.getElementById(`spend-daily`));
      return chart.data.datasets.map((d: any) => ({stack: d.stack, total: d.data.reduce((a: number, b: number) => a + b, 0)}));
    });
    expect(drawn).toEqual([{stack: `claude`, total: 2.5}, {stack: `kilo`, total: 0.75}]);
    expect(await page.locator(`#spend-daily`).evaluate(c => (c as HTMLCanvasElement).toDataURL().length)).toBeGreaterThan(3000);
    // The legend is text on the page and names each agent with its total.
    expect(await page.locator(`#spend-legend .legend-agent`).evaluateAll(els => els.map(e => (e as HTMLElement).dataset.agent))).toEqual([`claude`, `kilo`]);
    expect(await page.textContent(`#spend-legend [data-agent="claude"] .name`)).toBe(`claude $2.50`);
    expect(await page.isHidden(`#spend-empty`)).toBe(true);
    // The burn rate: one bar and one line per agent.
    expect(await page.locator(`#spend-burn-list li`).evaluateAll(els => els.map(e => (e as HTMLElement).dataset.agent))).toEqual([`claude`, `kilo`]);
    expect(await page.evaluate(() => (window as any).Chart.getChart(document.getElementById(`spend-burn`)).data.labels)).toEqual([`claude`, `kilo`]);

    expect(problems).toEqual([]);
    expect(outside).toEqual([]);
    await page.close();
  });

  it(`the keys page shows each key's alert state and runway, and "no data" before any spend`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const full = await issue(server, {amount: `2`, agent: `claude`, reset: `daily`});
    const half = await issue(server, {amount: `10`, agent: `kilo`});
    const idle = await issue(server, {amount: `5`, agent: `opencode`, reset: `monthly`});
    emulator.charge(full.id, 2);
    emulator.charge(half.id, 6);

    const page = await context.newPage();
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await page.waitForSelector(`#keys-table tbody tr`);
    const runway = async (name: string) => ({
      alert: await page.textContent(`tr[data-name="${name}"] .runway .alert`),
      text: await page.textContent(`tr[data-name="${name}"] .runway .text`),
    });
    expect(await runway(full.name)).toEqual({alert: `cap reached`, text: `until the daily reset`});
    expect((await runway(half.name)).alert).toBe(`over 50 %`);
    // Idle: no spend yet, so no rate to extrapolate from.
    expect(await runway(idle.name)).toEqual({alert: `under 50 %`, text: `no data`});
    await page.close();
  });
});
