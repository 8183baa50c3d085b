// `capit plugin list` shows every broken plugin with its diagnostic (issue 9, item 9): a package.json that does not
// parse, a bad manifest, a missing entry, an entry that throws — and every other command keeps working.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}                      from '../support/cli.js';
import {agentEntry, agentManifest, platformManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir}         from '../support/tmp.js';

interface Listed {
  plugins: {id: string; kind: string; source: string}[];
  broken: {packageName?: string; dir: string; message: string; source: string; id?: string; kind?: string}[];
}

function brokenPlugins(root: string): string {
  const dir = path.join(root, `plugins`);
  // 1. package.json that does not parse
  fs.mkdirSync(path.join(dir, `badjson`), {recursive: true});
  fs.writeFileSync(path.join(dir, `badjson`, `package.json`), `{"name": "capit-agent-badjson", "capit": {`);
  // 2. a manifest that does not validate
  writePlugin(dir, `badmanifest`, {name: `capit-agent-badmanifest`, capit: {...agentManifest(`badmanifest`), kind: `nope`}});
  // 3. an entry that is not there (not built)
  writePlugin(dir, `noentry`, {name: `capit-agent-noentry`, capit: agentManifest(`noentry`, {entry: `./dist/index.js`})});
  // 4. an entry that throws while loading
  writePlugin(dir, `thrower`, {name: `capit-platform-thrower`, capit: {...platformManifest(`thrower`), masterKeyEnv: `THROWER_KEY`}},
    {file: `index.js`, source: `throw new Error('kaboom while loading');`});
  // and one that works, which must stay listed as active
  writePlugin(dir, `good`, {name: `capit-agent-good`, capit: agentManifest(`good`)}, agentEntry(`good`));
  return dir;
}

describe(`capit plugin list with broken plugins`, () => {
  it(`lists each broken plugin with its diagnostic, in the table and in --json`, async () => {
    const root = tempDir();
    const env = sandboxEnv(root, {CAPIT_PLUGIN_PATH: brokenPlugins(root)});

    const json = await runCli([`plugin`, `list`, `--json`], {env});
    expect(json.exitCode, json.stderr).toBe(0);
    const list = JSON.parse(json.stdout) as Listed;
    const byDir = new Map(list.broken.map(b => [path.basename(b.dir), b]));
    expect([...byDir.keys()].sort()).toEqual([`badjson`, `badmanifest`, `noentry`, `thrower`]);
    expect(byDir.get(`badjson`)!.message).toMatch(/^package\.json is not valid JSON \(.+\)$/);
    expect(byDir.get(`badmanifest`)).toMatchObject({packageName: `capit-agent-badmanifest`, message: expect.stringMatching(/^invalid manifest: .*"platform" or "agent"/)});
    expect(byDir.get(`noentry`)).toMatchObject({packageName: `capit-agent-noentry`, kind: `agent`, id: `noentry`,
      message: `entry ./dist/index.js does not exist (is the plugin built? reinstall it)`});
    expect(byDir.get(`thrower`)).toMatchObject({packageName: `capit-platform-thrower`, kind: `platform`, id: `thrower`,
      message: `the entry failed to load: kaboom while loading`});
    for (const b of list.broken) expect(b.source).toBe(`env`);
    // The healthy plugin and the built-ins stay active; the broken ones are not listed as active.
    const active = list.plugins.map(p => p.id);
    expect(active).toEqual(expect.arrayContaining([`good`, `opencode`, `openrouter`]));
    expect(active).not.toEqual(expect.arrayContaining([`noentry`]));
    expect(active).not.toContain(`thrower`);

    const table = await runCli([`plugin`, `list`], {env});
    expect(table.exitCode, table.stderr).toBe(0);
    const section = table.stdout.slice(table.stdout.indexOf(`Broken plugins`));
    expect(section).toMatch(/^ {2}\(unnamed\) \[env\] .*badjson\n {4}package\.json is not valid JSON/m);
    expect(section).toMatch(/^ {2}capit-agent-noentry \[env\] .*noentry\n {4}entry \.\/dist\/index\.js does not exist/m);
    expect(section).toMatch(/^ {2}capit-platform-thrower \[env\] .*thrower\n {4}the entry failed to load: kaboom while loading$/m);
    expect(table.stdout).toMatch(/^agent +good +1\.0\.0 +env +capit-agent-good +active$/m);
  });

  it(`other commands still work, warning once about the plugins that could not even be read`, async () => {
    const root = tempDir();
    const env = sandboxEnv(root, {CAPIT_PLUGIN_PATH: brokenPlugins(root)});
    const agents = await runCli([`agents`, `--json`], {env});
    expect(agents.exitCode, agents.stderr).toBe(0);
    expect(agents.stderr).toMatch(/^capit: warning: skipped plugin \(unnamed\) at .*badjson: package\.json is not valid JSON/m);
  });
});
