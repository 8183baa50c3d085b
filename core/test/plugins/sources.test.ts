// Discovery order (design §3.3), project config through cosmiconfig, project dependencies, the global dir, and the
// per-call timeout.
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import path           from 'node:path';

import {describe, expect, it} from 'vitest';

import {agentEntry, agentManifest, writePlugin} from '../../../test/support/plugins.js';
import {tempDir}                                from '../../../test/support/tmp.js';
import {PluginError}                            from '../../src/errors.js';
import {discover}                               from '../../src/main.js';
import {callPlugin}                             from '../../src/platforms/context.js';
import {hasProjectConfig, loadProjectConfig}    from '../../src/plugins/config.js';
import {loadPlugin}                             from '../../src/plugins/load.js';
import type {AgentDefinition}                   from '../../src/plugin.js';

const FIXTURES = path.resolve(import.meta.dirname, `../../../test/fixtures/plugins`);

function opencode(root: string, folder: string, name = `@t/capit-agent-opencode`) {
  return writePlugin(root, folder, {name, capit: agentManifest(`opencode`)}, agentEntry(`opencode`));
}

/** A project with a package.json; `extra` merged into it. */
function project(root: string, extra: Record<string, unknown> = {}): string {
  const dir = path.join(root, `project`);
  fs.mkdirSync(dir, {recursive: true});
  fs.writeFileSync(path.join(dir, `package.json`), JSON.stringify({name: `my-project`, version: `1.0.0`, ...extra}));
  return dir;
}

describe(`discovery order`, () => {
  it(`takes env, then project config folders, then project deps, then the global dir, then built-ins; the rest are shadowed`, () => {
    const root = tempDir();
    const proj = project(root, {devDependencies: {'@dep/capit-agent-opencode': `1.0.0`}});
    opencode(path.join(proj, `node_modules`), `@dep/capit-agent-opencode`, `@dep/capit-agent-opencode`);
    opencode(proj, `local-agent`, `@local/capit-agent-opencode`);
    fs.writeFileSync(path.join(proj, `.capitrc.json`), JSON.stringify({plugins: [`./local-agent`]}));
    const data = path.join(root, `capit`, `data`);
    opencode(path.join(data, `node_modules`), `@global/capit-agent-opencode`, `@global/capit-agent-opencode`);
    fs.writeFileSync(path.join(data, `package.json`), JSON.stringify({dependencies: {'@global/capit-agent-opencode': `1.0.0`}}));
    const envDir = opencode(root, `env-agent`, `@env/capit-agent-opencode`);

    const env = {CAPIT_HOME: path.join(root, `capit`), CAPIT_PLUGIN_PATH: envDir};
    const found = discover(env, proj);
    const winner = found.agents.find(a => a.manifest.id === `opencode`)!;
    expect(`${winner.packageName}:${winner.source}`).toBe(`@env/capit-agent-opencode:env`);
    const shadowed = found.shadowed.filter(s => s.plugin.manifest.id === `opencode`).map(s => `${s.plugin.packageName}:${s.plugin.source}`);
    expect(shadowed).toEqual([
      `@local/capit-agent-opencode:path`,
      `@dep/capit-agent-opencode:project`,
      `@global/capit-agent-opencode:global`,
      `capit-agent-opencode:builtin`,
    ]);
    expect(found.shadowed.every(s => s.shadowedBy === winner)).toBe(true);

    // Without the env entry, the project config's folder wins, and says where it was named.
    const second = discover({CAPIT_HOME: env.CAPIT_HOME}, proj).agents.find(a => a.manifest.id === `opencode`)!;
    expect(second).toMatchObject({packageName: `@local/capit-agent-opencode`, source: `path`, via: path.join(proj, `.capitrc.json`)});
  });

  it(`lists linked folders of the global dir as source "path", and reports a deleted one`, () => {
    const root = tempDir();
    const linked = writePlugin(root, `linked`, {name: `capit-agent-linked`, capit: agentManifest(`linked`)}, agentEntry(`linked`));
    const data = path.join(root, `capit`, `data`);
    fs.mkdirSync(data, {recursive: true});
    fs.writeFileSync(path.join(data, `package.json`), JSON.stringify({capit: {links: [linked, path.join(root, `gone`)]}}));
    const found = discover({CAPIT_HOME: path.join(root, `capit`)}, root);
    expect(found.agents.find(a => a.manifest.id === `linked`)).toMatchObject({source: `path`, via: `linked by capit plugin add`});
    expect(found.diagnostics.map(d => d.message)).toContainEqual(expect.stringMatching(/linked folder .*gone has no package\.json/));
  });

  it(`ignores a project dependency that is not installed`, () => {
    const root = tempDir();
    const proj = project(root, {dependencies: {'capit-agent-missing': `1.0.0`}});
    const found = discover({CAPIT_HOME: path.join(root, `capit`)}, proj);
    expect(found.diagnostics).toEqual([]);
    expect(found.agents.map(a => a.manifest.id)).not.toContain(`missing`);
  });
});

describe(`project config (cosmiconfig)`, () => {
  it.each([
    [`capit.config.ts`, `import type {} from 'node:fs';\nconst dirs: string[] = ['./agents'];\nexport default {plugins: dirs};\n`],
    [`capit.config.js`, `export default {plugins: ['./agents']};\n`],
    [`capit.config.json`, `{"plugins": ["./agents"]}`],
    [`.capitrc`, `plugins:\n  - ./agents\n`],
    [`.capitrc.mjs`, `export default {plugins: ['./agents']};\n`],
  ])(`reads plugins from %s (a folder of plugin folders)`, (file, source) => {
    const root = tempDir();
    const proj = project(root, {type: `module`});
    writePlugin(path.join(proj, `agents`), `one`, {name: `capit-agent-one`, capit: agentManifest(`one`)}, agentEntry(`one`));
    writePlugin(path.join(proj, `agents`), `two`, {name: `capit-agent-two`, capit: agentManifest(`two`)}, agentEntry(`two`));
    fs.writeFileSync(path.join(proj, file), source);
    const sub = path.join(proj, `src`, `deep`);
    fs.mkdirSync(sub, {recursive: true});
    const found = discover({CAPIT_HOME: path.join(root, `capit`)}, sub);
    expect(found.agents.filter(a => a.source === `path`).map(a => a.manifest.id)).toEqual([`one`, `two`]);
    expect(found.diagnostics).toEqual([]);
  });

  it(`reads package.json#capit.plugins, but never treats a plugin's own manifest as project config`, () => {
    const root = tempDir();
    const proj = project(root, {capit: {plugins: [`./a`]}});
    writePlugin(proj, `a`, {name: `capit-agent-aa`, capit: agentManifest(`aa`)}, agentEntry(`aa`));
    expect(loadProjectConfig(proj)).toEqual({filepath: path.join(proj, `package.json`), plugins: [`./a`]});

    const plugin = writePlugin(root, `plugin`, {name: `capit-agent-dev`, capit: agentManifest(`dev`)}, agentEntry(`dev`));
    expect(hasProjectConfig(plugin)).toBe(false);
    expect(loadProjectConfig(plugin)).toBeNull();
    expect(discover({CAPIT_HOME: path.join(root, `capit`)}, plugin).diagnostics).toEqual([]);
  });

  it(`stops at the nearest project: a config above it is not read`, () => {
    const root = tempDir();
    fs.writeFileSync(path.join(root, `.capitrc.json`), JSON.stringify({plugins: [`./nowhere`]}));
    const proj = project(root);
    expect(hasProjectConfig(proj)).toBe(false);
    expect(loadProjectConfig(proj)).toBeNull();
  });

  it(`turns a broken config into a diagnostic naming the file, not a crash`, () => {
    const root = tempDir();
    const proj = project(root);
    fs.writeFileSync(path.join(proj, `.capitrc.json`), `{"plugins": [`);
    const found = discover({CAPIT_HOME: path.join(root, `capit`)}, proj);
    expect(found.diagnostics).toContainEqual(expect.objectContaining({message: expect.stringContaining(`cannot load capit config ${path.join(proj, `.capitrc.json`)}`)}));
    expect(found.platforms.length).toBeGreaterThan(0);
  });

  it(`imports cosmiconfig only when a project config exists`, () => {
    const root = tempDir();
    const bare = project(root);
    const withConfig = path.join(root, `other`);
    fs.mkdirSync(withConfig);
    fs.writeFileSync(path.join(withConfig, `package.json`), `{}`);
    fs.writeFileSync(path.join(withConfig, `capit.config.json`), `{"plugins": []}`);
    const main = path.resolve(import.meta.dirname, `../../dist/main.js`);
    const probe = (cwd: string) => execFileSync(process.execPath, [`--input-type=module`, `-e`, `
      import {createRequire} from 'node:module';
      const {discover} = await import(${JSON.stringify(main)});
      discover({CAPIT_HOME: ${JSON.stringify(path.join(root, `capit`))}}, ${JSON.stringify(cwd)});
      const loaded = Object.keys(createRequire(import.meta.url).cache);
      console.log(JSON.stringify({cosmiconfig: loaded.some(f => f.includes('cosmiconfig')), tsx: loaded.some(f => f.includes('/tsx/'))}));
    `], {encoding: `utf8`});
    expect(JSON.parse(probe(bare))).toEqual({cosmiconfig: false, tsx: false});
    expect(JSON.parse(probe(withConfig))).toEqual({cosmiconfig: true, tsx: false});
  });
});

describe(`TypeScript entries and plugin calls`, () => {
  it(`loads a local folder plugin whose entry is .ts through tsx, and it works`, async () => {
    const found = discover({CAPIT_PLUGIN_PATH: path.join(FIXTURES, `capit-agent-tsfixture`)}, FIXTURES);
    const plugin = found.agents.find(a => a.manifest.id === `tsfixture`)!;
    const def = await loadPlugin(plugin) as AgentDefinition;
    const envInfo = {platform: `linux` as const, home: `/home/ada`, cwd: `/tmp`, env: {}};
    expect(def.files(envInfo)[0]!.path).toBe(`/home/ada/.tsfixture/auth.json`);
    expect(def.plan({platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `x`}}, secret: `s`, keyName: `k`, read: () => undefined}, envInfo).edits)
      .toEqual([{file: `auth`, op: `set`, path: [`openrouter`, `apiKey`], value: `s`}]);
  });

  it(`cuts off a plugin call that never settles, with an attributed error`, async () => {
    const started = Date.now();
    const error = await callPlugin(`slow`, `listKeys`, () => new Promise(() => {}), {timeoutMs: 50}).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect((error as Error).message).toBe(`no answer within 0.05 s while listing keys, so capit stopped waiting (set CAPIT_PLUGIN_TIMEOUT_MS to wait longer)`);
    expect(Date.now() - started).toBeLessThan(2000);
    await expect(callPlugin(`slow`, `x`, () => new Promise(() => {}), {env: {CAPIT_PLUGIN_TIMEOUT_MS: `20`}})).rejects.toThrow(/within 0\.02 s/);
  });

  it(`attributes a plugin's own errors and passes a fast result through`, async () => {
    await expect(callPlugin(`p`, `plan`, () => { throw new TypeError(`oops`); })).rejects.toThrow(`[plugin:p] plan failed: oops`);
    await expect(callPlugin(`p`, `plan`, async () => 42)).resolves.toBe(42);
  });
});
