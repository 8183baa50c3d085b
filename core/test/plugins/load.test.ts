// checkDefinition: an entry that disagrees with its manifest is refused, so the fields package.json repeats (read at
// start-up without plugin code) cannot drift from the code.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {agentManifest, platformManifest} from '../../../test/support/plugins.js';
import type {DiscoveredPlugin}           from '../../src/plugins/discover.js';
import {checkDefinition}                 from '../../src/plugins/load.js';
import {validateManifest}                from '../../src/plugins/manifest.js';
import type {Manifest}                   from '../../src/plugins/manifest.js';

function discovered(manifest: Record<string, unknown>): DiscoveredPlugin {
  return {manifest: manifest as Manifest, packageName: `capit-${manifest.kind}-${manifest.id}`, version: `1.0.0`, dir: `/plugins/x`, source: `env`};
}

const agent = (supports: (id: string) => true | string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 1, kind: `agent`, id: `foo`, files: () => [], plan: () => ({edits: []}), supports, ...extra,
});

const platform = (masterKey: Record<string, unknown> = {}) => ({
  apiVersion: 1, kind: `platform`, id: `bar`, baseUrl: {default: `https://bar.test/api`, env: `CAPIT_BAR_BASE_URL`},
  masterKey: {env: [`BAR_MANAGEMENT_KEY`], setupUrl: `https://bar.test/keys`, validate: async () => {}, ...masterKey},
  inferenceBaseUrls: () => ({openai: `https://bar.test/v1`}), classifyError: () => ({kind: `unknown`, message: ``}),
  createKey: async () => ({}), listKeys: async function* () {}, updateKey: async () => ({}), deleteKey: async () => {},
});

const onlyOpenrouter = (id: string) => (id === `openrouter` ? true : `only openrouter`);

describe(`checkDefinition: agent platforms against supports()`, () => {
  it(`accepts platforms that are exactly what supports() accepts, and no platforms at all`, () => {
    expect(checkDefinition(discovered(agentManifest(`foo`, {platforms: [`openrouter`]})), agent(onlyOpenrouter))).toEqual([]);
    expect(checkDefinition(discovered(agentManifest(`foo`)), agent(() => true))).toEqual([]);
  });

  it(`refuses a listed platform that supports() turns down, with its reason`, () => {
    expect(checkDefinition(discovered(agentManifest(`foo`, {platforms: [`openrouter`, `aihubmix`]})), agent(onlyOpenrouter)))
      .toEqual([`package.json lists platform "aihubmix" but supports("aihubmix") says "only openrouter"`]);
  });

  it(`refuses a supports() that accepts platforms the manifest does not list`, () => {
    expect(checkDefinition(discovered(agentManifest(`foo`, {platforms: [`openrouter`]})), agent(() => true)).join(`\n`))
      .toMatch(/supports\(\) accepts platforms package\.json does not list \(it lists "openrouter"\)/);
  });

  it(`reports a supports() that throws instead of throwing itself`, () => {
    const problems = checkDefinition(discovered(agentManifest(`foo`, {platforms: [`openrouter`]})), agent(() => { throw new Error(`boom`); }));
    expect(problems.join(`\n`)).toMatch(/supports\("openrouter"\) threw: boom/);
  });

  it(`refuses a detect, keySources or status that is not a function`, () => {
    expect(checkDefinition(discovered(agentManifest(`foo`)), agent(() => true, {detect: {bin: `foo`}, status: `ok`})))
      .toEqual([`detect must be a function when present`, `status must be a function when present`]);
  });
});

describe(`checkDefinition: platform masterKeyEnv and setupUrl against masterKey`, () => {
  it(`accepts equal values, and a manifest that omits them`, () => {
    const manifest = platformManifest(`bar`, {masterKeyEnv: `BAR_MANAGEMENT_KEY`, setupUrl: `https://bar.test/keys`});
    expect(checkDefinition(discovered(manifest), platform())).toEqual([]);
    expect(checkDefinition(discovered(platformManifest(`bar`)), platform())).toEqual([]);
  });

  it(`refuses a different env var or setup URL`, () => {
    const manifest = platformManifest(`bar`, {masterKeyEnv: `BAR_KEY`, setupUrl: `https://bar.test/old`});
    expect(checkDefinition(discovered(manifest), platform())).toEqual([
      `masterKeyEnv is "BAR_KEY" in package.json but the entry's masterKey.env starts with "BAR_MANAGEMENT_KEY"`,
      `setupUrl is "https://bar.test/old" in package.json but "https://bar.test/keys" in the entry's masterKey`,
    ]);
  });
});

describe(`the built-in plugins`, () => {
  const pluginsDir = path.resolve(import.meta.dirname, `../../../plugins`);
  const packages = fs.readdirSync(pluginsDir).filter(name => /^(agent|platform)-/.test(name));

  it.each(packages)(`%s matches its manifest`, async name => {
    const pkg = JSON.parse(fs.readFileSync(path.join(pluginsDir, name, `package.json`), `utf8`)) as {name: string; capit: unknown};
    const validation = validateManifest(pkg.name, pkg.capit);
    if (!(`manifest` in validation)) throw new Error(validation.errors.join(`; `));
    const mod = await import(pkg.name) as {default: unknown};
    expect(checkDefinition({...discovered(validation.manifest as Record<string, unknown>), packageName: pkg.name}, mod.default)).toEqual([]);
  });
});
