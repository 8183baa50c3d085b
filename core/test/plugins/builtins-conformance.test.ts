// Every built-in agent (core's package.json dependencies) through the conformance kit, for every platform its manifest
// lists, plus what its manifest must say: `covers` in one line, `verified` only for listed platforms, and the fields
// that repeat the entry agreeing with it. The built entries are imported, as capit loads them.
import fs              from 'node:fs';
import {createRequire} from 'node:module';
import path            from 'node:path';

import {describe, expect, it} from 'vitest';

import {BUILTIN_AGENT_IDS}        from '../../../test/support/builtins.js';
import type {AgentDefinition}     from '../../src/plugin.js';
import {checkDefinition}          from '../../src/plugins/load.js';
import {validateManifest}         from '../../src/plugins/manifest.js';
import type {AgentManifest}       from '../../src/plugins/manifest.js';
import {describeAgentConformance} from '../../src/testing/agent.js';

// Resolved from core, the package that depends on them (the workspace links in node_modules).
const requireFromCore = createRequire(path.resolve(import.meta.dirname, `../../package.json`));

interface Builtin {
  id: string;
  packageName: string;
  dir: string;
  packageJson: {name: string; version: string; capit: unknown};
  def: AgentDefinition;
}

const builtins: Builtin[] = await Promise.all(BUILTIN_AGENT_IDS.map(async id => {
  const packageName = `capit-agent-${id}`;
  const packageJsonPath = requireFromCore.resolve(`${packageName}/package.json`);
  const packageJson = JSON.parse(fs.readFileSync(packageJsonPath, `utf8`)) as Builtin[`packageJson`];
  const module = await import(packageName) as {default: AgentDefinition};
  return {id, packageName, dir: path.dirname(packageJsonPath), packageJson, def: module.default};
}));

it(`finds the built-in agents`, () => {
  // A broken discovery (no dependency read) would make every check below vacuous.
  expect(builtins.length).toBeGreaterThanOrEqual(15);
  expect(builtins.map(b => b.id)).toEqual(expect.arrayContaining([`claude`, `cline`, `opencode`]));
});

for (const builtin of builtins) {
  const manifest = builtin.packageJson.capit as AgentManifest;

  describe(`built-in ${builtin.packageName}: manifest`, () => {
    it(`is a valid agent manifest whose id is the package's`, () => {
      const result = validateManifest(builtin.packageJson.name, builtin.packageJson.capit);
      expect(`errors` in result ? result.errors : [], `manifest problems`).toEqual([]);
      expect(manifest.kind).toBe(`agent`);
      expect(manifest.id).toBe(builtin.id);
      expect(builtin.def.id).toBe(builtin.id);
    });

    it(`lists its platforms, exactly those supports() accepts`, () => {
      expect(manifest.platforms?.length ?? 0, `capit.platforms`).toBeGreaterThan(0);
      const problems = checkDefinition({manifest, packageName: builtin.packageName, version: builtin.packageJson.version, dir: builtin.dir, source: `builtin`}, builtin.def);
      expect(problems).toEqual([]);
    });

    it(`says in one line what the cap covers`, () => {
      expect(typeof manifest.covers, `capit.covers`).toBe(`string`);
      expect(manifest.covers!.trim(), `capit.covers is not blank`).not.toBe(``);
      expect(manifest.covers, `capit.covers is one line`).not.toMatch(/[\r\n]/);
    });

    it(`names in "verified" only platforms it lists, each with the release seen`, () => {
      for (const [platformId, release] of Object.entries(manifest.verified ?? {})) {
        expect(manifest.platforms, `verified.${platformId}`).toContain(platformId);
        expect(release.trim(), `verified.${platformId} names a release`).not.toBe(``);
      }
    });
  });

  describeAgentConformance(builtin.def, {platforms: manifest.platforms ?? []});
}
