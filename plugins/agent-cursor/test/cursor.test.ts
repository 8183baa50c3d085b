import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {afterEach, expect, it} from 'vitest';

import {describeAgentConformance} from 'capit/testing';

import type {AgentEnvironment, PlanInput} from 'capit/plugin';
import cursor from '../src/index.js';
import {capit, read, sandbox, useEmulator} from '../../../test/support/agent-harness.js';

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
const input: PlanInput = {platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}}, secret: SECRET, keyName: `cursor-0badc0de`, now: new Date(`2026-01-01T00:00:00.000Z`), read: () => undefined};

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
  expect(cursor.supports(`aihubmix`)).toBe(true);
  expect(cursor.supports(`anthropic`)).toMatch(/OpenRouter and AIHubMix only/);
});

it(`AIHubMix: configures Cline's aihubmix provider, leaves Zoo/Roo alone and says so`, () => {
  const envInfo = envFor(`saoudrizwan.claude-dev-4.1.13`, `rooveterinaryinc.roo-cline-3.30.0`);
  const found = cursor.detect(envInfo);
  const aihubmix: PlanInput = {...input, platform: {id: `aihubmix`, displayName: `AIHubMix`, inferenceBaseUrls: {openai: `https://aihubmix.com/v1`}}};
  const plan = cursor.plan(aihubmix, envInfo, found);
  expect(plan.notes![0]).toBe(`Configured inside Cursor: Cline 4.1.13.`);
  expect(plan.notes!.join(`\n`)).toContain(`Not configured for AIHubMix: Roo Code (capit sets it up for OpenRouter only).`);
  expect(new Set(plan.edits.map(e => e.file))).toEqual(new Set([`cline-providers`, `cline-secrets`, `cline-global-state`]));
  expect(plan.edits).toContainEqual({file: `cline-secrets`, op: `set`, path: [`aihubmixApiKey`], value: SECRET});
  expect(plan.edits).toContainEqual({file: `cline-global-state`, op: `set`, path: [`aihubmixBaseUrl`], value: `https://aihubmix.com/v1`});
  // Inside the IDE only the extension's order counts: secrets.json first, no CLI-only source.
  const sources = cursor.keySources!(envInfo, `aihubmix`, found);
  expect(sources.find(s => s.installs)).toMatchObject({kind: `file`, at: [`aihubmixApiKey`]});
  expect(sources.some(s => s.flavour === `Cline CLI`)).toBe(false);
  expect(sources.some(s => s.kind === `file` && s.path.endsWith(`roo-import.json`))).toBe(false);

  const rooOnly = envFor(`rooveterinaryinc.roo-cline-3.30.0`);
  const nothing = cursor.plan(aihubmix, rooOnly, cursor.detect(rooOnly));
  expect(nothing.edits).toEqual([]);
  expect(nothing.notes!.join(`\n`)).toContain(`install Cline from the Extensions panel (Open VSX) and rerun: capit aihubmix 5 --agent cursor`);
  expect(nothing.notes!.join(`\n`)).not.toContain(`No Kilo Code, Cline, Zoo Code or Roo Code extension was found`);
});

it(`with no extension: no edits, the manual steps first, then how to get a capped agent inside Cursor`, () => {
  const bare = envFor();
  const plan = cursor.plan(input, bare, cursor.detect(bare));
  expect(plan.edits).toEqual([]);
  expect(plan.notes![0]).toMatch(/^Cursor's own chat: capit wrote nothing for it\./);
  expect(plan.notes!.at(-1)).toMatch(/install Kilo Code or Cline .* --agent cursor \(or --agent kilo \/ --agent cline\)/);
});

describeAgentConformance(cursor, {platforms: [`openrouter`]});

const emulator = useEmulator();

it(`capit aihubmix 5 --agent cursor with Cline installed: Cline's files get the AIHubMix key, restore puts them back`, async () => {
  const sb = sandbox(emulator.current, {CAPIT_AIHUBMIX_BASE_URL: emulator.current.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`});
  fs.mkdirSync(path.join(sb.home, `.cursor`, `extensions`, `saoudrizwan.claude-dev-4.1.13`), {recursive: true});
  const result = await capit([`aihubmix`, `5`, `--agent`, `cursor`, `--yes`], {env: sb.env});
  expect(result.exitCode, result.stderr).toBe(0);
  expect(result.stderr).toContain(`Configured inside Cursor: Cline 4.1.13.`);
  const tokens = [...emulator.current.state.aihubmixTokens.values()];
  expect(tokens).toHaveLength(1);
  const data = path.join(sb.home, `.cline`, `data`);
  expect(JSON.parse(read(path.join(data, `secrets.json`))).aihubmixApiKey).toContain(tokens[0]!.key);
  expect(JSON.parse(read(path.join(data, `globalState.json`)))).toMatchObject({actModeApiProvider: `aihubmix`, aihubmixBaseUrl: `${emulator.current.aihubmixBaseUrl}/v1`});
  expect(result.stdout + result.stderr).not.toContain(tokens[0]!.key);
  expect((await capit([`restore`, `cursor`, `--yes`], {env: sb.env})).exitCode).toBe(0);
  expect(fs.existsSync(path.join(data, `secrets.json`))).toBe(false);
});
