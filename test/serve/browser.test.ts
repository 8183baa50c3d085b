// The GUI in a real headless Chromium (Debian `chromium` + playwright-core) against the emulator and a temp HOME.
import fs   from 'node:fs';
import http from 'node:http';
import type {AddressInfo} from 'node:net';
import os   from 'node:os';
import path from 'node:path';

import type {BrowserContext, Page} from 'playwright-core';
import {beforeAll, beforeEach, expect, it, onTestFinished} from 'vitest';

import type {Emulator}  from '../emulator/server.mjs';
import {browserSuite} from './browser-suite.js';
import {setupHome, startGui} from './helpers.js';

const suite = browserSuite(`test/serve/browser.test.ts`);
let emulator: Emulator;
let context: BrowserContext;
beforeAll(() => {
  ({emulator, context} = suite);
});
const describeBrowser = suite.describeBrowser;
beforeEach(async () => {
  emulator.reset();
  await context?.clearCookies();
});

/** A plain HTTP server on another 127.0.0.1 port that records every request it gets, headers and all. */
async function otherLocalServer() {
  const requests: {url: string; headers: http.IncomingHttpHeaders}[] = [];
  const server = http.createServer((req, res) => {
    requests.push({url: req.url ?? ``, headers: req.headers});
    res.writeHead(200, {'content-type': `text/html; charset=utf-8`});
    res.end(`<!doctype html><title>another local app</title><p>hello</p><img src="/pixel.png">`);
  });
  await new Promise<void>(resolve => server.listen(0, `127.0.0.1`, resolve));
  onTestFinished(() => new Promise<void>(resolve => {
    server.close(() => resolve());
    server.closeAllConnections();
  }));
  return {url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests};
}

/** A page that fails the test on any script error or failed console message. */
async function openPage(): Promise<Page & {problems: string[]}> {
  const page = Object.assign(await context.newPage(), {problems: [] as string[]});
  page.on(`pageerror`, error => page.problems.push(`pageerror: ${error.message}`));
  page.on(`console`, msg => {
    if (msg.type() === `error` && !/status of 40[0-9]|status of 50[0-9]/.test(msg.text())) page.problems.push(`console: ${msg.text()}`);
  });
  return page;
}

async function go(page: Page, name: string) {
  await page.click(`nav a[data-page="${name}"]`);
  await page.waitForSelector(`body[data-ready="${name}"]`);
}

function onlyKey() {
  const keys = [...emulator.state.keys.values()];
  expect(keys).toHaveLength(1);
  return keys[0]!;
}

describeBrowser(`capit serve in Chromium`, () => {
  it(`issues a key into opencode through the form, shows it, disables, deletes it, and restores opencode`, async () => {
    const {env, authFile} = setupHome(emulator);
    fs.mkdirSync(path.dirname(authFile), {recursive: true}); // opencode is "detected" by its data dir
    const server = await startGui(env);
    const page = await openPage();

    // The token in the URL leaves the address bar; no cookie holds it.
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    expect(page.url()).toBe(`${server.origin}/`);
    expect(await context.cookies()).toEqual([]);
    await expect.poll(() => page.isVisible(`#keys-empty`)).toBe(true);
    // AIHubMix was never set up: it stays quiet.
    expect(await page.textContent(`#keys-errors`)).toBe(``);

    // Issue form: the platform with a master key is the default, so the detected agent can take its key.
    await go(page, `issue`);
    expect(await page.inputValue(`#issue-platform`)).toBe(`openrouter`);
    expect(await page.isHidden(`#issue-setup`)).toBe(true);
    expect(await page.isEnabled(`#issue-preview`)).toBe(true);
    await page.fill(`#issue-amount`, `5`);
    await expect.poll(() => page.locator(`#issue-agent optgroup[label="Detected"] option[value="opencode"]:not([disabled])`).count()).toBe(1);
    await page.selectOption(`#issue-agent`, `opencode`);
    await page.selectOption(`#issue-reset`, `monthly`);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#plan:not([hidden])`);
    expect(await page.textContent(`#plan-action`)).toMatch(/^Create OpenRouter key "opencode-[0-9a-f]{8}" with a \$5\.00 per month cap; BYOK spend counts against the cap\.$/);
    expect(await page.textContent(`#plan-files`)).toContain(authFile);
    expect(await page.textContent(`#plan-diff`)).toContain(`<new openrouter key>`);
    expect(emulator.state.keys.size).toBe(0);
    expect(fs.existsSync(authFile)).toBe(false);

    await page.click(`#issue-confirm`);
    await page.waitForSelector(`#issue-result:not([hidden])`);
    const key = onlyKey();
    expect(await page.textContent(`#result-text`)).toBe(`$5.00 openrouter key "${key.name}" installed into opencode`);
    expect(key.limit).toBe(5);
    expect(key.limit_reset).toBe(`monthly`);
    expect(JSON.parse(fs.readFileSync(authFile, `utf8`))).toEqual({openrouter: {type: `api`, key: key.key}});
    expect(await page.isHidden(`#reveal`)).toBe(true);
    expect(await page.content()).not.toContain(key.key);

    // The keys table shows it, with its spend.
    emulator.charge(key.hash, 1.25);
    await go(page, `keys`);
    const row = page.locator(`#keys-table tr[data-name="${key.name}"]`);
    await row.waitFor();
    expect(await row.getAttribute(`data-status`)).toBe(`active`);
    expect(await row.locator(`td`).nth(2).textContent()).toBe(`opencode`);
    expect(await row.locator(`.spend .nums`).textContent()).toBe(`$1.25 / $5.00`);
    expect(await row.locator(`.bar > span`).evaluate(el => (el as HTMLElement).style.width)).toBe(`25%`);
    expect(await page.textContent(`.platform-summary[data-platform="openrouter"] .nums`)).toBe(`$1.25 spent of $5.00 capped`);
    const shot = await page.screenshot({path: path.join(os.tmpdir(), `capit-keys-page-${process.pid}.png`), fullPage: true});
    expect(shot.subarray(0, 8).toString(`hex`)).toBe(`89504e470d0a1a0a`);
    expect(shot.length).toBeGreaterThan(10_000);
    fs.rmSync(path.join(os.tmpdir(), `capit-keys-page-${process.pid}.png`), {force: true});

    // Disable, with a confirmation.
    await row.locator(`button`, {hasText: `Disable`}).click();
    await page.waitForSelector(`#modal:not([hidden])`);
    expect(await page.textContent(`#modal-text`)).toContain(`Disable the key "${key.name}" on OpenRouter?`);
    await page.click(`#modal-ok`);
    await page.waitForSelector(`#keys-table tr[data-name="${key.name}"][data-status="disabled"]`);
    expect(emulator.state.keys.get(key.hash)!.disabled).toBe(true);
    expect(await row.locator(`button`, {hasText: `Enable`}).count()).toBe(1);

    // Cancelling a delete changes nothing.
    await row.locator(`button`, {hasText: `Delete`}).click();
    await page.waitForSelector(`#modal:not([hidden])`);
    expect(await page.textContent(`#modal-text`)).toContain(`opencode will stop working until it gets a new key`);
    await page.click(`#modal-cancel`);
    await page.waitForSelector(`#modal`, {state: `hidden`});
    expect(emulator.state.keys.has(key.hash)).toBe(true);

    // Delete.
    await row.locator(`button`, {hasText: `Delete`}).click();
    await page.click(`#modal-ok`);
    await page.waitForSelector(`#keys-empty:not([hidden])`);
    expect(await row.count()).toBe(0);
    expect(emulator.state.keys.size).toBe(0);
    expect(await page.textContent(`#flash`)).toBe(`Deleted ${key.name}`);

    // Restore opencode: capit created auth.json, so restoring removes it. Only opencode has a Restore button.
    await go(page, `agents`);
    const card = page.locator(`.agent[data-agent="opencode"]`);
    expect(await card.getAttribute(`data-detected`)).toBe(`true`);
    expect(await card.locator(`.paths`).textContent()).toContain(authFile);
    expect(await page.locator(`.agent`).count()).toBeGreaterThan(1);
    expect(await page.locator(`button[data-restore]`).evaluateAll(buttons => buttons.map(b => (b as HTMLElement).dataset.restore))).toEqual([`opencode`]);
    // Why? (slice B1): the key was deleted above, so opencode's key is dead; the fix issues a new one.
    await card.locator(`button[data-why="opencode"]`).click();
    await card.locator(`.why`).waitFor();
    expect(await card.locator(`.why`).getAttribute(`data-why-class`)).toBe(`deleted`);
    expect(await card.locator(`.why`).textContent()).toMatch(/^deleted: openrouter no longer has key .*fix: capit openrouter 5 --agent opencode$/);
    await card.locator(`button[data-restore="opencode"]`).click();
    expect(await page.textContent(`#modal-text`)).toBe(`Put opencode's configuration back as it was before capit's last install?`);
    await page.click(`#modal-ok`);
    await card.locator(`.restored`).waitFor();
    expect(await card.locator(`.restored`).textContent()).toMatch(/^Restored opencode configuration from .*removed/);
    expect(fs.existsSync(authFile)).toBe(false);

    // Nothing is left to restore, so the button goes (it could only fail now), here and after a reload of the page.
    await expect.poll(() => card.locator(`button[data-restore]`).count()).toBe(0);
    await go(page, `keys`);
    await go(page, `agents`);
    expect(await page.locator(`button[data-restore]`).count()).toBe(0);

    expect(page.problems).toEqual([]);
  });

  it(`reveals a key issued without an agent once, and forgets it on leaving the page`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await go(page, `issue`);
    await page.selectOption(`#issue-platform`, `openrouter`);
    await page.fill(`#issue-amount`, `2`);
    await page.selectOption(`#issue-agent`, ``);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#plan:not([hidden])`);
    expect(await page.textContent(`#plan-target`)).toBe(`No agent: the new key will be shown once on this page.`);
    await page.click(`#issue-confirm`);
    await page.waitForSelector(`#reveal:not([hidden])`);
    const key = onlyKey();
    expect(await page.textContent(`#reveal-secret`)).toBe(key.key);
    await go(page, `keys`);
    expect(await page.textContent(`#reveal-secret`)).toBe(``);
    expect(await page.content()).not.toContain(key.key);
    expect(page.problems).toEqual([]);
  });

  it(`shows provider and input errors as plain sentences with the hint on its own line`, async () => {
    const {env} = setupHome(emulator, {master: `sk-or-v1-not-a-real-management-key`});
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await page.waitForSelector(`#keys-errors .error`);
    expect(await page.textContent(`#keys-errors .error .message`)).toMatch(/^Could not list the OpenRouter keys\. OpenRouter rejected the master key/);

    await go(page, `issue`);
    await page.selectOption(`#issue-platform`, `openrouter`);
    await page.fill(`#issue-amount`, `-5`);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#issue-error .error`);
    expect(await page.textContent(`#issue-error .error .message`)).toMatch(/^Invalid amount .*\.$/);

    await page.fill(`#issue-amount`, `5`);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#plan:not([hidden])`);
    await page.click(`#issue-confirm`);
    await page.waitForSelector(`#issue-error .error`);
    expect(await page.textContent(`#issue-error .error .message`)).toMatch(
      /^OpenRouter rejected the master key while trying to create key "capit-[0-9a-f]{8}" \(401[^\n]*\.$/);
    expect(await page.textContent(`#issue-error .error .hint`)).toMatch(/^Check OPENROUTER_MANAGEMENT_KEY or the stored key \(Platforms page\)/);
    // No CLI dressing anywhere on the page: no "capit:" prefix, no markdown backticks.
    for (const text of await page.locator(`.error`).allTextContents()) {
      expect(text).not.toContain(`capit:`);
      expect(text).not.toContain(`\``);
    }
    expect(emulator.state.keys.size).toBe(0);
    expect(page.problems).toEqual([]);
  });

  it(`adds and removes a master key without ever showing it`, async () => {
    const {env} = setupHome(emulator, {master: null});
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await go(page, `platforms`);
    const row = page.locator(`#platforms-table tr[data-platform="openrouter"]`);
    expect(await row.locator(`.master`).textContent()).toMatch(/^not configured — create one at https:\/\//);
    expect(await page.getAttribute(`#add-key`, `type`)).toBe(`password`);

    await page.selectOption(`#add-platform`, `openrouter`);
    await page.fill(`#add-key`, `sk-or-v1-mgmt-fake-0000`);
    await page.click(`#add-submit`);
    await page.waitForSelector(`#platforms-table tr[data-platform="openrouter"][data-source="stored"]`);
    expect(await row.locator(`.master`).textContent()).toBe(`stored •••••••• (write-only)`);
    expect(await page.inputValue(`#add-key`)).toBe(``);
    expect(await page.content()).not.toContain(`sk-or-v1-mgmt-fake-0000`);

    await row.locator(`button`, {hasText: `Remove`}).click();
    await page.click(`#modal-ok`);
    await page.waitForSelector(`#platforms-table tr[data-platform="openrouter"][data-source="none"]`);
    expect(await page.textContent(`#flash`)).toMatch(/^Removed the stored OpenRouter master key from /);
    expect(page.problems).toEqual([]);
  });

  it(`with no master key anywhere, the issue page starts with the add-a-master-key step`, async () => {
    const {env} = setupHome(emulator, {master: null});
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await go(page, `issue`);
    // Before any preview: the step is shown and the form that could only fail is not.
    expect(await page.isVisible(`#issue-setup`)).toBe(true);
    expect(await page.isHidden(`#issue-form`)).toBe(true);
    expect(await page.textContent(`#setup-title`)).toBe(`Step 1: add a master key`);
    // Preselected: the platform most agents can use (7 of the 8 built-in agents cannot use AIHubMix keys).
    expect(await page.inputValue(`#setup-platform`)).toBe(`openrouter`);
    expect(await page.getAttribute(`#setup-key`, `type`)).toBe(`password`);
    expect(emulator.state.requests.filter(r => !r.path.startsWith(`/__`))).toEqual([]);

    expect(await page.getAttribute(`#setup-link`, `href`)).toMatch(/^https:\/\//);
    await page.fill(`#setup-key`, `sk-or-v1-mgmt-fake-0000`);
    await page.click(`#setup-submit`);
    await page.waitForSelector(`#issue-setup`, {state: `hidden`});
    expect(await page.isVisible(`#issue-form`)).toBe(true);
    expect(await page.inputValue(`#issue-platform`)).toBe(`openrouter`);
    expect(await page.isEnabled(`#issue-preview`)).toBe(true);
    expect(await page.textContent(`#flash`)).toMatch(/^The OpenRouter master key works and is stored in /);
    expect(await page.content()).not.toContain(`sk-or-v1-mgmt-fake-0000`);

    await page.fill(`#issue-amount`, `1`);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#plan:not([hidden])`);
    await page.click(`#issue-confirm`);
    await page.waitForSelector(`#issue-result:not([hidden])`);
    expect(emulator.state.keys.size).toBe(1);
    expect(page.problems).toEqual([]);
  });

  it(`says up front when the chosen platform has no master key, before Preview`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await go(page, `issue`);
    expect(await page.inputValue(`#issue-platform`)).toBe(`openrouter`);
    await page.selectOption(`#issue-platform`, `aihubmix`);
    expect(await page.isVisible(`#issue-setup`)).toBe(true);
    expect(await page.textContent(`#setup-title`)).toBe(`No AIHubMix master key yet`);
    expect(await page.textContent(`#setup-text`)).toContain(`or choose a platform that has one`);
    expect(await page.isDisabled(`#issue-preview`)).toBe(true);
    expect(await page.isVisible(`#issue-form`)).toBe(true);
    // Back to a platform with a key: the step goes away.
    await page.selectOption(`#issue-platform`, `openrouter`);
    expect(await page.isHidden(`#issue-setup`)).toBe(true);
    expect(await page.isEnabled(`#issue-preview`)).toBe(true);
    expect(page.problems).toEqual([]);
  });

  it(`without the token the page says how to get it and reads nothing`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const page = await openPage();
    const apiCalls: number[] = [];
    page.on(`response`, res => { if (res.url().includes(`/api/`)) apiCalls.push(res.status()); });
    await page.goto(`${server.origin}/`);
    await page.waitForSelector(`body[data-ready="locked"]`);
    expect(await page.textContent(`#locked .message`)).toBe(`This page has no access token.`);
    expect(await page.textContent(`#locked .hint`)).toMatch(/^Open the full address capit serve printed in your terminal \(it ends in #token=…\)/);
    expect(apiCalls).toEqual([]);

    // A wrong token (pasted into the same tab: only the fragment changes): the server refuses it and the page says so.
    await page.goto(`${server.origin}/#token=${server.token.slice(1)}x`);
    await expect.poll(() => page.textContent(`#locked .message`)).toBe(`The access token is not valid.`);
    expect(apiCalls).toEqual([401]);
    expect(page.url()).toBe(`${server.origin}/`);

    // The right one, again in the same tab: the page unlocks and loads.
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    expect(await page.isHidden(`#locked`)).toBe(true);
    expect(page.url()).toBe(`${server.origin}/`);
    expect(page.problems).toEqual([]);
  });

  it(`never lets the token reach another server on 127.0.0.1 (no cookie, no header, nothing)`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const other = await otherLocalServer();
    const page = await openPage();
    const sentToGui: Record<string, string>[] = [];
    page.on(`request`, req => { if (req.url().startsWith(server.origin)) sentToGui.push(req.headers()); });

    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    expect(page.url()).toBe(`${server.origin}/`);
    await go(page, `agents`);
    expect(await context.cookies()).toEqual([]);
    // The page sends it in its own header to its own server: that is how the API calls above were allowed.
    expect(sentToGui.filter(h => h[`x-capit-token`] === server.token).length).toBeGreaterThan(0);
    expect(sentToGui.filter(h => `cookie` in h)).toEqual([]);

    // Another local app, in the same tab and in a new one, and with a request from it back to itself.
    await page.goto(`${other.url}/after-gui`);
    const second = await context.newPage();
    await second.goto(`${other.url}/new-tab`);
    await second.evaluate(async () => { await fetch(`/fetched`, {credentials: `include`}); });
    await second.close();
    expect(other.requests.length).toBeGreaterThanOrEqual(3);
    for (const req of other.requests) {
      expect(req.headers.cookie, req.url).toBeUndefined();
      expect(JSON.stringify(req), req.url).not.toContain(server.token);
    }

    // Back on the GUI (no token in the address): the tab still has it in sessionStorage, so the page works.
    await page.goto(`${server.origin}/`);
    await page.waitForSelector(`body[data-ready="keys"]`);
    expect(await page.isHidden(`#locked`)).toBe(true);
    expect(page.problems).toEqual([]);
  });

  it(`refuses a cross-site page, which has no token to send`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    const created = await page.evaluate(async token => {
      const headers = {'content-type': `application/json`, 'x-capit-token': token};
      const plan = await (await fetch(`/api/issue/plan`, {method: `POST`, headers, body: JSON.stringify({platform: `openrouter`, amount: `1`})})).json();
      return (await fetch(`/api/issue`, {method: `POST`, headers, body: JSON.stringify({planId: plan.planId})})).json();
    }, server.token);
    expect(emulator.state.keys.size).toBe(1);

    await page.goto(`${emulator.url}/__elsewhere`);
    const attempts = await page.evaluate(async ({origin, name, id}) => {
      const body = JSON.stringify({platform: `openrouter`, name, id});
      const out: string[] = [];
      try {
        const res = await fetch(`${origin}/api/keys/delete`, {method: `POST`, credentials: `include`, headers: {'content-type': `application/json`}, body});
        out.push(`cors: ${res.status}`);
      } catch (error) {
        out.push(`cors: blocked`);
      }
      // A "simple" request needs no preflight: the server must refuse it by its Origin, content type and token.
      // (Its answer is also withheld from the page: Cross-Origin-Resource-Policy: same-origin.)
      try {
        await fetch(`${origin}/api/keys/delete`, {method: `POST`, mode: `no-cors`, credentials: `include`, headers: {'content-type': `text/plain`}, body});
        out.push(`no-cors: opaque`);
      } catch {
        out.push(`no-cors: blocked`);
      }
      return out;
    }, {origin: server.origin, name: created.name, id: created.id});
    expect(attempts).toEqual([`cors: blocked`, `no-cors: blocked`]);
    expect(emulator.state.keys.size).toBe(1);
    const deletes = emulator.state.requests.filter(r => r.method === `DELETE`);
    expect(deletes).toEqual([]);
  });
});
