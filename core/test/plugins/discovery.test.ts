import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {tempDir}                                      from '../../../test/support/tmp.js';
import {agentEntry, agentManifest, platformManifest, writePlugin} from '../../../test/support/plugins.js';
import {PluginError}                                  from '../../src/errors.js';
import {builtinSource, discoverPlugins, envSource}    from '../../src/plugins/discover.js';
import {loadPlugin}                                   from '../../src/plugins/load.js';
import {validateManifest}                             from '../../src/plugins/manifest.js';

const coreDir = path.resolve(import.meta.dirname, `../..`);

describe(`manifest schema`, () => {
  it(`accepts a complete platform and agent manifest`, () => {
    expect(validateManifest(`capit-platform-foo`, platformManifest(`foo`))).toHaveProperty(`manifest.id`, `foo`);
    expect(validateManifest(`@acme/capit-agent-bar`, agentManifest(`bar`, {platforms: [`openrouter`]}))).toHaveProperty(`manifest.kind`, `agent`);
    expect(validateManifest(`capit-agent-bar`, agentManifest(`bar`, {platforms: [`openrouter`], verified: {openrouter: `bar 1.2.3`}, covers: `all of it`})))
      .toHaveProperty(`manifest.verified`, {openrouter: `bar 1.2.3`});
  });

  it.each([
    [`capit-platform-foo`, undefined, /no "capit" manifest/],
    [`capit-platform-foo`, {...platformManifest(`foo`), kind: `store`}, /must be "platform" or "agent"/],
    [`capit-platform-keys`, platformManifest(`keys`), /reserved command word/],
    [`capit-platform-Foo`, platformManifest(`Foo`), /capit\.id/],
    [`capit-platform-foo`, platformManifest(`foo`, {apiVersion: 2}), /apiVersion 2 is not supported/],
    [`capit-platform-foo`, platformManifest(`foo`, {entry: `../outside.js`}), /inside the package/],
    [`capit-platform-foo`, platformManifest(`foo`, {entry: `/abs/index.js`}), /inside the package/],
    [`foo-plugin`, platformManifest(`foo`), /must be capit-platform-<id>/],
    [`capit-agent-foo`, platformManifest(`foo`), /says "agent" but capit.kind is "platform"/],
    [`capit-agent-foo`, agentManifest(`foo`, {platforms: [`openrouter`], verified: {aihubmix: `foo 1.0`}}), /verified names aihubmix, which capit.platforms does not list/],
    [`capit-agent-foo`, agentManifest(`foo`, {verified: {openrouter: 1}}), /capit\.verified/],
  ])(`refuses %s with %j`, (name, manifest, message) => {
    const result = validateManifest(name, manifest);
    expect(result).toHaveProperty(`errors`);
    expect((result as {errors: string[]}).errors.join(`; `)).toMatch(message);
  });
});

describe(`discovery`, () => {
  it(`finds the built-ins through capit's own dependencies`, () => {
    const found = discoverPlugins([builtinSource(coreDir)], {}, coreDir);
    expect(found.platforms.map(p => p.manifest.id)).toContain(`openrouter`);
    expect(found.agents.map(p => p.manifest.id)).toContain(`opencode`);
    expect(found.platforms.every(p => p.source === `builtin`)).toBe(true);
    expect(found.diagnostics).toEqual([]);
  });

  it(`reads CAPIT_PLUGIN_PATH entries (a plugin folder or a folder of them) before built-ins, reporting shadowed ones`, () => {
    const root = tempDir();
    const single = writePlugin(root, `single`, {name: `capit-agent-solo`, capit: agentManifest(`solo`)}, agentEntry(`solo`));
    const many = path.join(root, `many`);
    writePlugin(many, `a`, {name: `capit-agent-alpha`, capit: agentManifest(`alpha`)}, agentEntry(`alpha`));
    writePlugin(many, `@scope/b`, {name: `@scope/capit-agent-opencode`, capit: agentManifest(`opencode`)}, agentEntry(`opencode`));
    const env = {CAPIT_PLUGIN_PATH: [single, many].join(path.delimiter)};

    const found = discoverPlugins([envSource, builtinSource(coreDir)], env, root);
    const agents = found.agents.map(a => `${a.manifest.id}:${a.source}`);
    expect(agents).toEqual(expect.arrayContaining([`solo:env`, `alpha:env`, `opencode:env`]));
    expect(found.shadowed).toHaveLength(1);
    expect(found.shadowed[0]!.plugin.packageName).toBe(`capit-agent-opencode`);
    expect(found.shadowed[0]!.shadowedBy.packageName).toBe(`@scope/capit-agent-opencode`);
  });

  it(`skips broken manifests with a diagnostic naming the package and path, and keeps the rest`, () => {
    const root = tempDir();
    writePlugin(root, `bad-kind`, {name: `capit-agent-bad`, capit: {...agentManifest(`bad`), kind: `nope`}});
    writePlugin(root, `reserved`, {name: `capit-platform-serve`, capit: platformManifest(`serve`)});
    writePlugin(root, `api`, {name: `capit-agent-future`, capit: agentManifest(`future`, {apiVersion: 99})});
    writePlugin(root, `good`, {name: `capit-agent-good`, capit: agentManifest(`good`)}, agentEntry(`good`));
    const garbled = path.join(root, `garbled`);
    writePlugin(root, `garbled`, {name: `capit-agent-garbled`, capit: agentManifest(`garbled`)});
    fs.writeFileSync(path.join(garbled, `package.json`), `{"name": "capit-agent-garbled", "capit": `);

    const found = discoverPlugins([envSource], {CAPIT_PLUGIN_PATH: root}, root);
    expect(found.agents.map(a => a.manifest.id)).toEqual([`good`]);
    const messages = found.diagnostics.map(d => `${d.packageName ?? `?`} ${path.basename(d.dir)}: ${d.message}`);
    expect(messages).toEqual(expect.arrayContaining([
      expect.stringMatching(/^capit-agent-bad bad-kind: invalid manifest: .*"platform" or "agent"/),
      expect.stringMatching(/^capit-platform-serve reserved: invalid manifest: .*reserved/),
      expect.stringMatching(/^capit-agent-future api: invalid manifest: .*apiVersion 99/),
    ]));
    // A package.json that does not parse is listed as broken with the parse error (issue 9), not silently dropped.
    expect(messages).toEqual(expect.arrayContaining([expect.stringMatching(/^\? garbled: package\.json is not valid JSON \(.+\)$/)]));
  });
});

describe(`loading an entry`, () => {
  it(`imports a valid entry and checks it against the manifest`, async () => {
    const root = tempDir();
    writePlugin(root, `good`, {name: `capit-agent-good`, capit: agentManifest(`good`)}, agentEntry(`good`));
    const [plugin] = discoverPlugins([envSource], {CAPIT_PLUGIN_PATH: root}, root).agents;
    const def = await loadPlugin(plugin!);
    expect(def.id).toBe(`good`);
  });

  it.each([
    [`missing entry`, undefined, /entry \.\/index\.js does not exist \(is the plugin built\?/],
    [`entry that throws`, {file: `index.js`, source: `throw new Error('kaboom at load');`}, /failed to load: kaboom at load/],
    [`entry with the wrong id`, {file: `index.js`, source: `export default {apiVersion: 1, kind: 'agent', id: 'other', files(){}, supports(){}, plan(){}};`}, /id is "other" in the entry but "broken" in package.json/],
    [`entry missing functions`, {file: `index.js`, source: `export default {apiVersion: 1, kind: 'agent', id: 'broken'};`}, /files\(\) is missing/],
  ])(`reports a %s as a PluginError attributed to the plugin`, async (_, entry, message) => {
    const root = tempDir();
    writePlugin(root, `broken`, {name: `capit-agent-broken`, capit: agentManifest(`broken`)}, entry);
    const [plugin] = discoverPlugins([envSource], {CAPIT_PLUGIN_PATH: root}, root).agents;
    const error = await loadPlugin(plugin!).then(() => undefined, (e: unknown) => e);
    expect(error).toBeInstanceOf(PluginError);
    expect((error as Error).message).toMatch(/^\[plugin:broken\] capit-agent-broken@1\.0\.0 \(/);
    expect((error as Error).message).toMatch(message);
  });
});
