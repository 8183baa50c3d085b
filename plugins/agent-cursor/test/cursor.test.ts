import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {afterEach, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';

import type {AgentEnvironment, PlanInput} from 'capit/plugin';
import cursor from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, {recursive: true, force: true});
});
function envFor(...extensions: string[]): AgentEnvironment {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `capit-cursor-`));
  dirs.push(home);
  for (const e of extensions) fs.mkdirSync(path.join(home, `.cursor`, `extensions`, e), {recursive: true});
  return {env: {}, home, cwd: home, platform: `linux`};
}
const SECRET = `sk-or-v1-fake-cursor-0000000000000`;
const input: PlanInput = {platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}}, secret: SECRET, keyName: `cursor-0badc0de`, read: () => undefined};

it(`never writes Cursor's own store and prints the manual steps with a separate key, never the capped one`, () => {
  const envInfo = envFor(`kilocode.kilo-code-7.2.1`);
  const files = cursor.files(envInfo, cursor.detect(envInfo));
  expect(files.map(f => f.id)).toEqual([`kilo-auth`]);
  expect(files.some(f => /state\.vscdb|Cursor/.test(f.path))).toBe(false);
  const plan = cursor.plan(input, envInfo, cursor.detect(envInfo));
  const text = plan.notes!.join(`\n`);
  expect(plan.notes![0]).toBe(`Configured inside Cursor: Kilo Code 7.2.1.`);
  expect(text).toContain(`capit openrouter 5 --name cursor-chat`);
  expect(text).toContain(`Override OpenAI Base URL: https://openrouter.ai/api/v1`);
  expect(text).toContain(`sends requests through Cursor's servers`);
  expect(text).not.toContain(SECRET);
  expect(cursor.supports(`openrouter`)).toBe(true);
  expect(cursor.supports(`aihubmix`)).toMatch(/OpenRouter only/);
});

it(`with no extension: no edits, the manual steps first, then how to get a capped agent inside Cursor`, () => {
  const bare = envFor();
  const plan = cursor.plan(input, bare, cursor.detect(bare));
  expect(plan.edits).toEqual([]);
  expect(plan.notes![0]).toMatch(/^Cursor's own chat: capit wrote nothing for it\./);
  expect(plan.notes!.at(-1)).toMatch(/install Kilo Code or Cline .* --agent cursor \(or --agent kilo \/ --agent cline\)/);
});

describeAgentConformance(cursor, {platforms: [`openrouter`]});
