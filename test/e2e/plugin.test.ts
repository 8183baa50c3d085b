// `capit plugin add|remove|list` end to end: the built CLI, a sandboxed global plugin dir, npm offline (the plugins
// installed here have no dependencies). Only the scaffold's `npm install` uses the registry, as its author's would.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import os             from 'node:os';
import path           from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}                 from '../support/cli.js';
import {agentManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir}    from '../support/tmp.js';

const FIXTURES = path.resolve(import.meta.dirname, `../fixtures/plugins`);
// setup.ts moved HOME into a sandbox; npm must still find the usual cache.
const NPM_CACHE = process.env.npm_config_cache || path.join(os.userInfo().homedir, `.npm`);

function env(root: string, extra: Record<string, string> = {}) {
  return sandboxEnv(root, {npm_config_cache: NPM_CACHE, npm_config_offline: `true`, npm_config_update_notifier: `false`, ...extra});
}

function dataDir(e: Record<string, string>) {
  return path.join(e.CAPIT_HOME!, `data`);
}

/** package.json, package-lock.json and the node_modules listing of the global dir, to prove a rollback. */
function snapshot(dir: string) {
  const read = (f: string) => (fs.existsSync(path.join(dir, f)) ? fs.readFileSync(path.join(dir, f), `utf8`) : null);
  const modules = fs.existsSync(path.join(dir, `node_modules`)) ? fs.readdirSync(path.join(dir, `node_modules`)).filter(n => !n.startsWith(`.`)).sort() : null;
  return {pkg: read(`package.json`), lock: read(`package-lock.json`), modules};
}

function pack(folder: string, dest: string): string {
  const out = execFileSync(`npm`, [`pack`, `--ignore-scripts`, `--json`, `--pack-destination`, dest], {cwd: folder, env: {...process.env, npm_config_cache: NPM_CACHE, npm_config_offline: `true`}, encoding: `utf8`});
  return path.join(dest, (JSON.parse(out) as {filename: string}[])[0]!.filename);
}

/** A copy of the JS fixture with its package.json / entry changed, packed or as a folder. */
function variant(root: string, folder: string, edit: (pkg: Record<string, any>) => void, entry?: string): string {
  const dir = path.join(root, folder);
  fs.cpSync(path.join(FIXTURES, `capit-agent-fixture`), dir, {recursive: true});
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`));
  edit(pkg);
  fs.writeFileSync(path.join(dir, `package.json`), JSON.stringify(pkg, null, 2));
  if (entry !== undefined) fs.writeFileSync(path.join(dir, `index.js`), entry);
  return dir;
}

async function listJson(e: Record<string, string>) {
  const res = await runCli([`plugin`, `list`, `--json`], {env: e});
  expect(res.exitCode, res.stderr).toBe(0);
  return JSON.parse(res.stdout) as {plugins: {id: string; kind: string; source: string; version: string; packageName: string; shadowedBy?: {packageName: string; source: string}}[]; broken: {message: string; packageName?: string}[]};
}

async function expectCliStillWorks(e: Record<string, string>) {
  const help = await runCli([`--help`], {env: e});
  expect(help.exitCode).toBe(0);
  expect(help.stdout).toContain(`plugin add`);
}

describe(`capit plugin add / remove / list`, () => {
  it(`installs a tarball made with npm pack (offline), lists it as global, and removes it`, async () => {
    const root = tempDir();
    const e = env(root);
    const tgz = pack(path.join(FIXTURES, `capit-agent-fixture`), root);

    const added = await runCli([`plugin`, `add`, tgz], {env: e, timeoutMs: 60_000});
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stderr).toBe(``);
    expect(added.stdout).toContain(`Installed capit-agent-fixture@1.0.0: agent "fixture"`);
    expect(added.stdout).toContain(`Adds: capit <platform> <usd> --agent fixture`);
    const pkg = JSON.parse(fs.readFileSync(path.join(dataDir(e), `package.json`), `utf8`));
    expect(Object.keys(pkg.dependencies)).toEqual([`capit-agent-fixture`]);
    expect((await listJson(e)).plugins).toContainEqual(expect.objectContaining({id: `fixture`, source: `global`, version: `1.0.0`}));

    const removed = await runCli([`plugin`, `remove`, `fixture`], {env: e, timeoutMs: 60_000});
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toContain(`Removed capit-agent-fixture`);
    expect((await listJson(e)).plugins.map(p => p.id)).not.toContain(`fixture`);
    expect(fs.existsSync(path.join(dataDir(e), `node_modules`, `capit-agent-fixture`))).toBe(false);
  }, 120_000);

  it(`links a folder (recorded, not copied): edits show up on the next run; unlinking leaves the folder`, async () => {
    const root = tempDir();
    const e = env(root);
    const dir = variant(root, `work/capit-agent-fixture`, () => {});

    const added = await runCli([`plugin`, `add`, `./work/capit-agent-fixture`], {env: e, cwd: root});
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Linked capit-agent-fixture@1.0.0: agent "fixture" from ${fs.realpathSync(dir)}`);
    expect(fs.existsSync(path.join(dataDir(e), `node_modules`))).toBe(false); // nothing copied, npm not involved
    expect((await listJson(e)).plugins).toContainEqual(expect.objectContaining({id: `fixture`, source: `path`, version: `1.0.0`}));

    const pkg = JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`));
    fs.writeFileSync(path.join(dir, `package.json`), JSON.stringify({...pkg, version: `1.0.1`}));
    expect((await listJson(e)).plugins).toContainEqual(expect.objectContaining({id: `fixture`, version: `1.0.1`}));

    const removed = await runCli([`plugin`, `remove`, `capit-agent-fixture`], {env: e});
    expect(removed.exitCode, removed.stderr).toBe(0);
    expect(removed.stdout).toMatch(/^Unlinked capit-agent-fixture/);
    expect(fs.existsSync(path.join(dir, `index.js`))).toBe(true);
    expect((await listJson(e)).plugins.map(p => p.id)).not.toContain(`fixture`);
  });

  it(`links a TypeScript folder plugin, whose entry loads through tsx`, async () => {
    const root = tempDir();
    const e = env(root);
    const added = await runCli([`plugin`, `add`, path.join(FIXTURES, `capit-agent-tsfixture`)], {env: e});
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toContain(`Linked capit-agent-tsfixture@0.0.1: agent "tsfixture"`);
    expect((await listJson(e)).plugins).toContainEqual(expect.objectContaining({id: `tsfixture`, source: `path`}));
  });

  it(`reports an id clash with a built-in as shadowing, in add and in list`, async () => {
    const root = tempDir();
    const e = env(root);
    const dir = variant(root, `opencode-fork`, pkg => {
      pkg.name = `@me/capit-agent-opencode`;
      pkg.capit.id = `opencode`;
    }, fs.readFileSync(path.join(FIXTURES, `capit-agent-fixture/index.js`), `utf8`).replace(`id: 'fixture'`, `id: 'opencode'`));
    const added = await runCli([`plugin`, `add`, dir], {env: e});
    expect(added.exitCode, added.stderr).toBe(0);
    expect(added.stdout).toMatch(/Note: it shadows capit-agent-opencode@\S+ from capit's built-ins\./);
    const list = await listJson(e);
    expect(list.plugins).toContainEqual(expect.objectContaining({
      id: `opencode`, packageName: `capit-agent-opencode`, source: `builtin`,
      shadowedBy: expect.objectContaining({packageName: `@me/capit-agent-opencode`, source: `path`}),
    }));
    const table = await runCli([`plugin`, `list`], {env: e});
    expect(table.stdout).toMatch(/agent\s+opencode\s+\S+\s+built-in\s+capit-agent-opencode\s+shadowed by @me\/capit-agent-opencode \(path\)/);
  });

  it.each([
    [`a bad manifest`, (p: any) => { p.capit.kind = `tool`; }, undefined, /not a usable capit plugin: invalid manifest: "capit\.kind" must be "platform" or "agent"/],
    [`a reserved id`, (p: any) => { p.name = `capit-agent-keys`; p.capit.id = `keys`; }, undefined, /"keys" is a reserved command word/],
    [`a wrong apiVersion`, (p: any) => { p.capit.apiVersion = 7; }, undefined, /apiVersion 7 is not supported by this capit \(supports 1\)/],
    [`a name not matching the pattern`, (p: any) => { p.name = `fixture-plugin`; }, undefined, /package name "fixture-plugin" must be capit-agent-<id>/],
    [`a missing entry`, (p: any) => { p.capit.entry = `./dist/missing.js`; }, undefined, /entry \.\/dist\/missing\.js does not exist \(is the plugin built\?/],
    [`an entry that throws`, () => {}, `throw new Error('kaboom while loading');`, /\[plugin:fixture\] capit-agent-fixture@1\.0\.0 .* failed to load: kaboom while loading/],
    [`an entry that does not match its manifest`, () => {}, `export default {apiVersion: 1, kind: 'agent', id: 'other', files() {}, supports() {}, plan() {}};`, /id is "other" in the entry but "fixture" in package\.json/],
  ])(`refuses a folder with %s, writes nothing, and the CLI keeps working`, async (_, edit, entry, message) => {
    const root = tempDir();
    const e = env(root);
    const dir = variant(root, `bad`, edit, entry);
    const before = snapshot(dataDir(e));
    const res = await runCli([`plugin`, `add`, dir], {env: e});
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(message);
    expect(res.stdout).toBe(``);
    const after = snapshot(dataDir(e));
    expect(JSON.parse(after.pkg ?? `{}`).capit?.links ?? []).toEqual(JSON.parse(before.pkg ?? `{}`).capit?.links ?? []);
    await expectCliStillWorks(e);
  });

  it(`rolls an npm install back on any failure: the global dir is exactly as before`, async () => {
    const root = tempDir();
    const e = env(root);
    // A plugin already installed, so the rollback has to restore a real lockfile and node_modules.
    const good = await runCli([`plugin`, `add`, pack(path.join(FIXTURES, `capit-agent-fixture`), root)], {env: e, timeoutMs: 60_000});
    expect(good.exitCode, good.stderr).toBe(0);
    const before = snapshot(dataDir(e));
    expect(before.lock).not.toBeNull();

    const cases: [string, (p: any) => void, string | undefined, RegExp][] = [
      [`throws`, p => { p.name = `capit-agent-thrower`; p.capit.id = `thrower`; }, `throw new Error('boom on import');`, /could not add .*: \[plugin:thrower\] .* failed to load: boom on import/],
      [`badname`, p => { p.name = `not-a-capit-plugin`; }, undefined, /not-a-capit-plugin is not a capit plugin: package names must be capit-platform-<id> or capit-agent-<id>/],
      [`noentry`, p => { p.name = `capit-agent-noentry`; p.capit.id = `noentry`; p.capit.entry = `./gone.js`; }, undefined, /entry \.\/gone\.js does not exist/],
      [`clash`, p => { p.name = `@other/capit-agent-fixture`; }, undefined, /agent "fixture" is already installed from capit-agent-fixture@1\.0\.0/],
    ];
    for (const [folder, edit, entry, message] of cases) {
      const tgz = pack(variant(root, folder, edit, entry), root);
      const res = await runCli([`plugin`, `add`, tgz], {env: e, timeoutMs: 60_000});
      expect(res.exitCode, folder).toBe(1);
      expect(res.stderr, folder).toMatch(message);
      expect(res.stderr, folder).toContain(`Nothing was changed`);
      expect(snapshot(dataDir(e)), folder).toEqual(before);
    }
    expect((await listJson(e)).plugins).toContainEqual(expect.objectContaining({id: `fixture`, source: `global`}));
    await expectCliStillWorks(e);
  }, 180_000);

  it(`rolls back to an empty global dir when the very first install fails`, async () => {
    const root = tempDir();
    const e = env(root);
    const tgz = pack(variant(root, `throws`, () => {}, `throw new Error('first install fails');`), root);
    const res = await runCli([`plugin`, `add`, tgz], {env: e, timeoutMs: 60_000});
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/first install fails/);
    // Nothing left behind: not even the global dir's package.json that this failed first install created.
    const after = snapshot(dataDir(e));
    expect(after.pkg).toBeNull();
    expect(fs.existsSync(dataDir(e))).toBe(false);
    expect(after.lock).toBeNull();
    expect(after.modules).toBeNull();
  }, 60_000);

  it(`lists broken plugins with diagnostics and keeps every command working`, async () => {
    const root = tempDir();
    const pluginDir = path.join(root, `plugins`);
    writePlugin(pluginDir, `bad-kind`, {name: `capit-agent-bad`, capit: {...agentManifest(`bad`), kind: `nope`}});
    writePlugin(pluginDir, `future`, {name: `capit-agent-future`, capit: agentManifest(`future`, {apiVersion: 99})});
    const e = env(root, {CAPIT_PLUGIN_PATH: pluginDir});
    const list = await listJson(e);
    expect(list.broken.map(b => `${b.packageName}: ${b.message}`)).toEqual(expect.arrayContaining([
      expect.stringMatching(/^capit-agent-bad: invalid manifest: .*"platform" or "agent"/),
      expect.stringMatching(/^capit-agent-future: invalid manifest: .*apiVersion 99/),
    ]));
    expect(list.plugins.map(p => p.id)).toContain(`opencode`);
    const table = await runCli([`plugin`, `list`], {env: e});
    expect(table.stdout).toMatch(/Broken plugins \(skipped\):\n {2}capit-agent-bad \[env\]/);
    await expectCliStillWorks(e);
  });

  it(`refuses to remove what it did not add, naming where it comes from`, async () => {
    const root = tempDir();
    const res = await runCli([`plugin`, `remove`, `opencode`], {env: env(root)});
    expect(res.exitCode).toBe(2);
    expect(res.stderr).toMatch(/No plugin "opencode" was added with capit plugin add \(capit-agent-opencode comes from capit's built-ins/);
  });

  it(`cuts off a plugin call that hangs, attributing the error`, async () => {
    const root = tempDir();
    const pluginDir = path.join(root, `plugins`);
    writePlugin(pluginDir, `hang`, {name: `capit-agent-hang`, capit: agentManifest(`hang`)}, {file: `index.js`, source: `
export default {apiVersion: 1, kind: 'agent', id: 'hang',
  files: () => new Promise(() => {}), supports: () => true, plan: () => ({edits: []})};
`});
    const e = env(root, {CAPIT_PLUGIN_PATH: pluginDir, CAPIT_PLUGIN_TIMEOUT_MS: `300`, OPENROUTER_MANAGEMENT_KEY: `sk-or-v1-fake-0000000000`});
    const started = Date.now();
    const res = await runCli([`openrouter`, `5`, `--agent`, `hang`, `--dry-run`], {env: e});
    expect(res.exitCode).toBe(1);
    expect(res.stderr).toMatch(/\[plugin:hang\] files did not finish within 0\.3 s and was cut off/);
    expect(Date.now() - started).toBeLessThan(10_000);
  });
});

describe(`capit plugin new`, () => {
  it(`scaffolds an agent plugin that installs, builds, passes its own conformance tests, and loads`, async () => {
    const root = tempDir();
    const e = env(root);
    const created = await runCli([`plugin`, `new`, `agent`, `demo`, `--dir`, `./capit-agent-demo`], {env: e, cwd: root});
    expect(created.exitCode, created.stderr).toBe(0);
    const dir = path.join(root, `capit-agent-demo`);
    expect(created.stdout).toContain(`Created capit-agent-demo in ${dir}`);
    const pkg = JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`));
    expect(pkg.capit).toMatchObject({kind: `agent`, id: `demo`, entry: `./dist/index.js`});
    expect(pkg.peerDependencies).toBeUndefined();

    const npm = (...args: string[]) => execFileSync(`npm`, args, {cwd: dir, env: {...e, PATH: process.env.PATH ?? ``}, encoding: `utf8`, stdio: `pipe`});
    // As its author would: capit and vitest are linked from this checkout, TypeScript and @types/node come from the
    // cache when it has them, else from the registry (`npm ci` never caches full metadata, so --offline fails on a
    // fresh machine).
    execFileSync(`npm`, [`install`, `--prefer-offline`, `--no-audit`, `--no-fund`], {cwd: dir, env: {...e, npm_config_offline: `false`, PATH: process.env.PATH ?? ``}, encoding: `utf8`, stdio: `pipe`});
    npm(`run`, `build`);
    expect(npm(`test`)).toMatch(/Tests\s+\d+ passed/);
    // The built entry must not import capit at runtime: it has to load from the global plugin dir.
    expect(fs.readFileSync(path.join(dir, `dist/index.js`), `utf8`)).not.toMatch(/from ['"]capit/);

    const viaEnv = await listJson({...e, CAPIT_PLUGIN_PATH: dir});
    expect(viaEnv.plugins).toContainEqual(expect.objectContaining({id: `demo`, source: `env`}));
    const tgz = pack(dir, root);
    const installed = await runCli([`plugin`, `add`, tgz], {env: e, timeoutMs: 60_000});
    expect(installed.exitCode, installed.stderr).toBe(0);
    expect(installed.stdout).toContain(`Installed capit-agent-demo@0.1.0: agent "demo"`);

    // The kit can fail: a plan that edits an undeclared file is caught.
    const src = path.join(dir, `src/index.ts`);
    fs.writeFileSync(src, fs.readFileSync(src, `utf8`).replace(`{file: \`auth\`, op: \`set\`, path: [\`providers\`, platform.id, \`baseUrl\`]`, `{file: \`other\`, op: \`set\`, path: [\`providers\`, platform.id, \`baseUrl\`]`));
    let failed = ``;
    try {
      npm(`test`);
    } catch (error) {
      failed = `${(error as {stdout?: string}).stdout}${(error as {stderr?: string}).stderr}`;
    }
    expect(failed).toMatch(/edit targets declared file "other"/);
  }, 240_000);

  it(`refuses a reserved id and a non-empty target folder`, async () => {
    const root = tempDir();
    const e = env(root);
    const reserved = await runCli([`plugin`, `new`, `platform`, `keys`], {env: e, cwd: root});
    expect(reserved.exitCode).toBe(2);
    expect(reserved.stderr).toMatch(/"keys" is a reserved command word/);
    fs.mkdirSync(path.join(root, `taken`));
    fs.writeFileSync(path.join(root, `taken`, `x`), ``);
    const taken = await runCli([`plugin`, `new`, `agent`, `foo`, `--dir`, `taken`], {env: e, cwd: root});
    expect(taken.exitCode).toBe(2);
    expect(taken.stderr).toMatch(/already exists and is not empty/);
  });
});
