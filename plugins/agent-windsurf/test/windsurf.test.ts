import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {afterEach, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';

import type {AgentEnvironment, PlanInput} from 'capit/plugin';
import windsurf from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, {recursive: true, force: true});
});
function envFor(...extensions: string[]): AgentEnvironment {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `capit-windsurf-`));
  dirs.push(home);
  for (const e of extensions) fs.mkdirSync(path.join(home, `.windsurf`, `extensions`, e), {recursive: true});
  return {env: {}, home, cwd: home, platform: `darwin`};
}
const input: PlanInput = {platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}}, secret: `sk-or-v1-fake-ws-0000`, keyName: `windsurf-0badc0de`, now: new Date(`2026-01-01T00:00:00.000Z`), read: () => undefined};

it(`never claims Cascade support; configures Zoo Code in Windsurf's macOS settings.json`, () => {
  const envInfo = envFor(`zoocodeorganization.zoo-code-1.2.0`);
  expect(windsurf.files(envInfo, windsurf.detect(envInfo)).map(f => f.path)).toEqual([
    path.join(envInfo.home, `.config`, `capit`, `roo-import.json`),
    path.join(envInfo.home, `Library`, `Application Support`, `Windsurf`, `User`, `settings.json`),
  ]);
  const plan = windsurf.plan(input, envInfo, windsurf.detect(envInfo));
  expect(plan.edits.map(e => e.file)).toEqual([`roo-import`, `windsurf-settings`]);
  const text = plan.notes!.join(`\n`);
  expect(text).toContain(`Cascade) cannot use an OpenRouter key`);
  expect(text).toContain(`capit wrote nothing for Cascade.`);
  expect(text).not.toMatch(/Cascade (now )?uses|configured Cascade/i);
  expect(text).not.toContain(`sk-or-v1-fake-ws-0000`);
});

it(`with no extension: no edits, and the Cascade explanation`, () => {
  const bare = envFor();
  const plan = windsurf.plan(input, bare, windsurf.detect(bare));
  expect(plan.edits).toEqual([]);
  expect(plan.notes![0]).toMatch(/^Windsurf's built-in agent \(Cascade\) cannot use an OpenRouter key/);
});

describeAgentConformance(windsurf, {platforms: [`openrouter`]});
