// `capit --help` is served from a cache keyed by capit's build and every discovered manifest; it must never be stale.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}                                      from '../support/cli.js';
import {agentManifest, platformManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir}                         from '../support/tmp.js';

function setup() {
  const root = tempDir(`capit-help-`);
  const plugins = path.join(root, `plugins`);
  fs.mkdirSync(plugins);
  const env = sandboxEnv(root, {CAPIT_PLUGIN_PATH: plugins});
  const cacheFile = path.join(env.CAPIT_HOME!, `state`, `cache`, `help.json`);
  return {env, plugins, cacheFile};
}

describe(`the help cache`, () => {
  it(`serves the same help the second time, and renders afresh when a plugin is added or edited`, async () => {
    const {env, plugins, cacheFile} = setup();
    const first = await runCli([`--help`], {env});
    expect(first.exitCode).toBe(0);
    expect(fs.existsSync(cacheFile)).toBe(true);
    const second = await runCli([`--help`], {env});
    expect(second).toEqual(first);
    expect(await runCli([], {env})).toEqual(first);

    // A new platform plugin must show up at once.
    const dir = writePlugin(plugins, `acme`, {name: `capit-platform-acme`, capit: platformManifest(`acme`, {description: `Acme keys with a cap`})});
    const withAcme = await runCli([`--help`], {env});
    expect(withAcme.stdout).toContain(`capit acme `);
    expect(withAcme.stdout).toContain(`Acme keys with a cap`);

    // An edited manifest too (mtime moved explicitly: two writes can share a timestamp).
    const pkgFile = path.join(dir, `package.json`);
    const pkg = JSON.parse(fs.readFileSync(pkgFile, `utf8`)) as {capit: {description: string}};
    pkg.capit.description = `Acme keys, renamed`;
    fs.writeFileSync(pkgFile, JSON.stringify(pkg));
    const later = new Date(Date.now() + 5_000);
    fs.utimesSync(pkgFile, later, later);
    const edited = await runCli([`--help`], {env});
    expect(edited.stdout).toContain(`Acme keys, renamed`);
    expect(edited.stdout).not.toContain(`Acme keys with a cap`);

    // And a removed one disappears.
    fs.rmSync(dir, {recursive: true});
    expect((await runCli([`--help`], {env})).stdout).toEqual(first.stdout);
  });

  it(`replays the warnings about broken plugins along with the help`, async () => {
    const {env, plugins} = setup();
    writePlugin(plugins, `bad`, {name: `capit-agent-bad`, capit: {...agentManifest(`bad`), apiVersion: 99}});
    const first = await runCli([`--help`], {env});
    expect(first.stderr).toMatch(/^capit: warning: skipped plugin capit-agent-bad at .*apiVersion 99/);
    expect(first.stdout).toContain(`1 plugin(s) could not be loaded`);
    const second = await runCli([`--help`], {env});
    expect(second).toEqual(first);
  });

  it(`works without a writable state dir`, async () => {
    const {env} = setup();
    fs.mkdirSync(env.CAPIT_HOME!, {recursive: true});
    fs.writeFileSync(path.join(env.CAPIT_HOME!, `state`), `not a directory`);
    const result = await runCli([`--help`], {env});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(`capit <command>`);
  });
});
