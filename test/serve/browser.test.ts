// The GUI in a real headless Chromium (Debian `chromium` + playwright-core) against the emulator and a temp HOME.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import type {BrowserContext, Page} from 'playwright-core';
import {afterAll, beforeAll, beforeEach, describe, expect, it} from 'vitest';

import {startEmulator}  from '../emulator/server.mjs';
import type {Emulator}  from '../emulator/server.mjs';
import {chromiumAvailable, launchChromium} from './browser.mjs';
import {setupHome, startGui} from './helpers.js';

let emulator: Emulator;
let browser: Awaited<ReturnType<typeof launchChromium>>;
let context: BrowserContext;

// CI installs chromium (.ci/run); elsewhere a missing browser is a loud skip, not a silent pass.
const describeBrowser = chromiumAvailable() ? describe : describe.skip;

beforeAll(async () => {
  emulator = await startEmulator({port: 0});
  if (chromiumAvailable()) {
    browser = await launchChromium();
    context = browser.context;
  }
}, 60_000);
afterAll(async () => {
  await browser?.close();
  await emulator.close();
});
beforeEach(async () => {
  emulator.reset();
  await context?.clearCookies();
});

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

    // The token in the URL becomes a cookie and leaves the address bar.
    await page.goto(server.url);
    expect(page.url()).toBe(`${server.origin}/`);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await expect.poll(() => page.isVisible(`#keys-empty`)).toBe(true);

    // Issue form → preview (nothing created yet) → create.
    await go(page, `issue`);
    await page.selectOption(`#issue-platform`, `openrouter`);
    await page.fill(`#issue-amount`, `5`);
    await expect.poll(() => page.locator(`#issue-agent optgroup[label="Detected"] option[value="opencode"]`).count()).toBe(1);
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

    // Restore opencode: capit created auth.json, so restoring removes it.
    await go(page, `agents`);
    const card = page.locator(`.agent[data-agent="opencode"]`);
    expect(await card.getAttribute(`data-detected`)).toBe(`true`);
    expect(await card.locator(`.paths`).textContent()).toContain(authFile);
    await card.locator(`button[data-restore="opencode"]`).click();
    expect(await page.textContent(`#modal-text`)).toBe(`Put opencode's configuration back as it was before capit's last install?`);
    await page.click(`#modal-ok`);
    await card.locator(`.restored`).waitFor();
    expect(await card.locator(`.restored`).textContent()).toMatch(/^Restored opencode configuration from .*removed/);
    expect(fs.existsSync(authFile)).toBe(false);

    // Restoring again shows capit's own error words.
    await card.locator(`button[data-restore="opencode"]`).click();
    await page.click(`#modal-ok`);
    await card.locator(`.error`).waitFor();
    expect(await card.locator(`.error`).textContent()).toMatch(/^capit: There is no capit backup of opencode to restore\n {2}All 1 backup\(s\) in .* have been restored already\.$/);

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

  it(`shows provider and input errors in the CLI's words`, async () => {
    const {env} = setupHome(emulator, {master: `sk-or-v1-not-a-real-management-key`});
    const server = await startGui(env);
    const page = await openPage();
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    await page.waitForSelector(`#keys-errors .error`);
    expect(await page.textContent(`#keys-errors .error`)).toMatch(/^capit: openrouter: OpenRouter rejected the master key/);

    await go(page, `issue`);
    await page.selectOption(`#issue-platform`, `openrouter`);
    await page.fill(`#issue-amount`, `-5`);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#issue-error .error`);
    expect(await page.textContent(`#issue-error .error`)).toMatch(/^capit: Invalid amount/);

    await page.fill(`#issue-amount`, `5`);
    await page.click(`#issue-preview`);
    await page.waitForSelector(`#plan:not([hidden])`);
    await page.click(`#issue-confirm`);
    await page.waitForSelector(`#issue-error .error`);
    expect(await page.textContent(`#issue-error .error`)).toMatch(
      /^capit: OpenRouter rejected the master key while trying to create key "capit-[0-9a-f]{8}" \(401[^\n]*\n {2}Check OPENROUTER_MANAGEMENT_KEY/);
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

  it(`refuses a browser without the token, and a cross-site page even with the cookie`, async () => {
    const {env} = setupHome(emulator);
    const server = await startGui(env);
    const page = await openPage();
    const bare = await page.goto(`${server.origin}/`);
    expect(bare!.status()).toBe(401);
    expect(await page.textContent(`body`)).toMatch(/^capit serve: a token is required/);

    // Log in (cookie set), issue a key, then try to delete it from another origin on the same machine.
    await page.goto(server.url);
    await page.waitForSelector(`body[data-ready="keys"]`);
    const created = await page.evaluate(async () => {
      const plan = await (await fetch(`/api/issue/plan`, {method: `POST`, headers: {'content-type': `application/json`}, body: JSON.stringify({platform: `openrouter`, amount: `1`})})).json();
      return (await fetch(`/api/issue`, {method: `POST`, headers: {'content-type': `application/json`}, body: JSON.stringify({planId: plan.planId})})).json();
    });
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
      // A "simple" request needs no preflight: the server must refuse it by its Origin and content type.
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
