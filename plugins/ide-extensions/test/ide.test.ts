import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {afterEach, describe, expect, it} from 'vitest';

import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import {
  CURSOR, ROO_MODES, ROO_PROFILE_ID, WINDSURF, extensionsDir, ideAgent, ideFiles, ideKeySources,
  ideSettingsPath, matchExtensionFolder, planIde, rooImportPath, scanExtensions,
} from '../src/index.js';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) fs.rmSync(d, {recursive: true, force: true});
});

function envFor(extra: Partial<AgentEnvironment> = {}): AgentEnvironment {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), `capit-ide-`));
  dirs.push(home);
  return {env: {}, home, cwd: home, platform: `linux`, ...extra};
}

function install(envInfo: AgentEnvironment, dotDir: string, ...folders: string[]) {
  for (const f of folders) fs.mkdirSync(path.join(envInfo.home, dotDir, `extensions`, f), {recursive: true});
}

const SECRET = `sk-or-v1-fake-ide-0000000000000000`;
function input(read: (file: string, p: JsonPath) => unknown = () => undefined, openai = `https://openrouter.ai/api/v1`): PlanInput {
  return {platform: {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai, anthropic: `https://openrouter.ai/api`}}, secret: SECRET, keyName: `cursor-1234abcd`, now: new Date(`2026-01-01T00:00:00.000Z`), read};
}

describe(`extension detection`, () => {
  it(`matches <publisher>.<name>-<version> case-insensitively and ignores look-alikes`, () => {
    expect(matchExtensionFolder(`KiloCode.Kilo-Code-7.2.1-linux-x64`)).toMatchObject({spec: {id: `kilo`}, version: `7.2.1`});
    expect(matchExtensionFolder(`saoudrizwan.claude-dev-3.20.0`)).toMatchObject({spec: {id: `cline`}});
    expect(matchExtensionFolder(`ZooCodeOrganization.zoo-code-1.0.0`)).toMatchObject({spec: {id: `zoo`}});
    expect(matchExtensionFolder(`RooVeterinaryInc.roo-cline-3.52.1`)).toMatchObject({spec: {id: `roo`}});
    expect(matchExtensionFolder(`kilocode.kilo-code-nightly`)).toBeUndefined();
    expect(matchExtensionFolder(`kilocode.kilo-codex-1.0.0`)).toBeUndefined();
    expect(matchExtensionFolder(`ms-python.python-2024.1.0`)).toBeUndefined();
  });

  it(`lists only the IDE's own folder, keeps the newest version and skips .obsolete folders`, () => {
    const envInfo = envFor();
    install(envInfo, `.cursor`, `kilocode.kilo-code-7.1.0`, `kilocode.kilo-code-7.10.2`, `saoudrizwan.claude-dev-4.1.13`, `some.other-1.0.0`);
    install(envInfo, `.windsurf`, `rooveterinaryinc.roo-cline-3.52.1`);
    fs.writeFileSync(path.join(extensionsDir(CURSOR, envInfo), `.obsolete`), JSON.stringify({'saoudrizwan.claude-dev-4.1.13': true}));
    expect(scanExtensions(CURSOR, envInfo).map(e => `${e.spec.id}@${e.version}`)).toEqual([`kilo@7.10.2`]);
    expect(scanExtensions(WINDSURF, envInfo).map(e => e.spec.id)).toEqual([`roo`]);
    expect(scanExtensions(CURSOR, envFor())).toEqual([]);
  });

  it(`the agent lists the folder in detect() only: files(), plan() and keySources() use what detect() found`, async () => {
    const envInfo = envFor();
    install(envInfo, `.cursor`, `kilocode.kilo-code-7.2.1`);
    const agent = ideAgent({ide: CURSOR, ownAgentNotes: () => [], ownAgentStatus: `own`});
    const found = await agent.detect!(envInfo);
    expect(agent.files(envInfo, found).map(f => f.id)).toEqual([`kilo-auth`]);
    install(envInfo, `.cursor`, `saoudrizwan.claude-dev-4.1.13`);
    // Installed after detect(): this run's plan and key sources do not see it, so the preview and the install agree.
    expect(agent.plan(input(), envInfo, found).edits.every(e => e.file === `kilo-auth`)).toBe(true);
    expect(agent.keySources!(envInfo, `openrouter`, found).every(s => s.note?.startsWith(`Kilo Code`))).toBe(true);
    expect(agent.status!(envInfo, found)).toBe(`own; extensions: kilo`);
    // The next run's detect() sees it.
    expect((await agent.detect!(envInfo)).map(e => e.spec.id)).toEqual([`kilo`, `cline`]);
  });
});

describe(`paths per OS`, () => {
  it(`settings.json lives in the IDE's User folder on Linux, macOS and Windows`, () => {
    const linux: AgentEnvironment = {env: {}, home: `/home/u`, cwd: `/home/u`, platform: `linux`};
    expect(ideSettingsPath(CURSOR, linux)).toBe(`/home/u/.config/Cursor/User/settings.json`);
    expect(ideSettingsPath(WINDSURF, {...linux, env: {XDG_CONFIG_HOME: `/x/cfg`}})).toBe(`/x/cfg/Windsurf/User/settings.json`);
    const mac: AgentEnvironment = {env: {}, home: `/Users/u`, cwd: `/Users/u`, platform: `darwin`};
    expect(ideSettingsPath(CURSOR, mac)).toBe(`/Users/u/Library/Application Support/Cursor/User/settings.json`);
    expect(ideSettingsPath(WINDSURF, mac)).toBe(`/Users/u/Library/Application Support/Windsurf/User/settings.json`);
    const win: AgentEnvironment = {env: {APPDATA: `C:\\Users\\u\\AppData\\Roaming`}, home: `C:\\Users\\u`, cwd: `C:\\`, platform: `win32`};
    expect(ideSettingsPath(CURSOR, win)).toBe(`C:\\Users\\u\\AppData\\Roaming\\Cursor\\User\\settings.json`);
    expect(ideSettingsPath(WINDSURF, {...win, env: {}})).toBe(`C:\\Users\\u\\AppData\\Roaming\\Windsurf\\User\\settings.json`);
    expect(extensionsDir(CURSOR, win)).toBe(`C:\\Users\\u\\.cursor\\extensions`);
    expect(extensionsDir(WINDSURF, linux)).toBe(`/home/u/.windsurf/extensions`);
    expect(rooImportPath(linux)).toBe(`/home/u/.config/capit/roo-import.json`);
  });
});

describe(`plan`, () => {
  it(`Zoo and Roo: one import file (stable id, every mode mapped) and both settings pointing at it`, () => {
    const envInfo = envFor();
    install(envInfo, `.cursor`, `zoocodeorganization.zoo-code-1.2.0`, `rooveterinaryinc.roo-cline-3.52.1`);
    const found = scanExtensions(CURSOR, envInfo);
    const files = ideFiles(CURSOR, envInfo, found);
    expect(files).toEqual([
      {id: `roo-import`, path: path.join(envInfo.home, `.config/capit/roo-import.json`), format: `json`, secret: true},
      {id: `cursor-settings`, path: path.join(envInfo.home, `.config/Cursor/User/settings.json`), format: `jsonc`, secret: false},
    ]);
    const plan = planIde(CURSOR, input(), envInfo, found);
    expect(plan.edits).toEqual([
      {file: `roo-import`, op: `set`, path: [`providerProfiles`], value: {
        currentApiConfigName: `capit`,
        apiConfigs: {capit: {id: ROO_PROFILE_ID, apiProvider: `openrouter`, openRouterApiKey: SECRET, openRouterModelId: `anthropic/claude-sonnet-4.5`}},
        modeApiConfigs: Object.fromEntries(ROO_MODES.map(m => [m, ROO_PROFILE_ID])),
      }},
      {file: `cursor-settings`, op: `set`, path: [`zoo-code.autoImportSettingsPath`], value: files[0]!.path},
      {file: `cursor-settings`, op: `set`, path: [`roo-cline.autoImportSettingsPath`], value: files[0]!.path},
    ]);
    expect(plan.notes.join(`\n`)).not.toContain(SECRET);
  });

  it(`a base-URL override (proxy, emulator) reaches the Roo profile`, () => {
    const envInfo = envFor();
    install(envInfo, `.windsurf`, `zoocodeorganization.zoo-code-1.2.0`);
    const edit = planIde(WINDSURF, input(undefined, `http://127.0.0.1:9/api/v1`), envInfo, scanExtensions(WINDSURF, envInfo)).edits[0]!;
    expect(edit).toMatchObject({value: {apiConfigs: {capit: {openRouterBaseUrl: `http://127.0.0.1:9/api/v1`}}}});
  });

  it(`Kilo and Cline reuse their own plugins' edits, file ids namespaced`, async () => {
    const envInfo = envFor();
    install(envInfo, `.cursor`, `kilocode.kilo-code-7.2.1`, `saoudrizwan.claude-dev-4.1.13`);
    const {planKilo, kiloFiles} = await import(`capit-agent-kilo`);
    const {clineFiles} = await import(`capit-agent-cline`);
    const found = scanExtensions(CURSOR, envInfo);
    expect(ideFiles(CURSOR, envInfo, found)).toEqual([...kiloFiles(envInfo), ...clineFiles(envInfo)]);
    const plan = planIde(CURSOR, input(), envInfo, found);
    expect(plan.edits.filter(e => e.file.startsWith(`kilo-`))).toEqual(planKilo(input()).edits);
    expect(plan.edits.some(e => e.file === `cline-secrets` && e.op === `set` && e.value === SECRET)).toBe(true);
    expect(plan.configured.map(e => e.spec.id)).toEqual([`kilo`, `cline`]);
  });

  it(`an old Kilo Code (< 7) gets a note that it will not read auth.json`, () => {
    const envInfo = envFor();
    install(envInfo, `.cursor`, `kilocode.kilo-code-4.9.0`);
    expect(planIde(CURSOR, input(), envInfo, scanExtensions(CURSOR, envInfo)).notes.join(`\n`)).toMatch(/Kilo Code 4\.9\.0 is older than 7/);
  });

  it(`nothing found: no files, no edits, and notes that say so`, async () => {
    const envInfo = envFor();
    const agent = ideAgent({ide: WINDSURF, ownAgentNotes: () => [`own`], ownAgentStatus: `Cascade: no OpenRouter BYOK`});
    const found = await agent.detect!(envInfo);
    expect(agent.files(envInfo, found)).toEqual([]);
    const plan = agent.plan(input(), envInfo, found);
    expect(plan.edits).toEqual([]);
    expect(plan.notes![0]).toBe(`own`);
    expect(plan.notes!.join(`\n`)).toMatch(/No Kilo Code, Cline, Zoo Code or Roo Code extension was found in ~\/\.windsurf\/extensions/);
    expect(agent.status!(envInfo, found)).toBe(`Cascade: no OpenRouter BYOK; extensions: none found`);
    expect(agent.supports(`aihubmix`)).toBe(true);
    expect(agent.supports(`anthropic`)).toMatch(/OpenRouter and AIHubMix only/);
  });
});

describe(`key sources`, () => {
  it(`every extension's higher sources come before all installed ones, named by extension`, () => {
    const envInfo = envFor();
    install(envInfo, `.cursor`, `kilocode.kilo-code-7.2.1`, `saoudrizwan.claude-dev-4.1.13`, `zoocodeorganization.zoo-code-1.2.0`);
    const sources = ideKeySources(CURSOR, envInfo, `openrouter`, scanExtensions(CURSOR, envInfo));
    const selectors = sources.filter(s => s.role === `selector`);
    // The selector of the extension (Cline's Act-mode provider) comes last, named by its extension.
    expect(selectors.map(s => s.kind === `file` && `${path.basename(s.path)} ${s.at.join(`.`)} ${s.note?.split(`:`)[0]}`)).toEqual([`globalState.json actModeApiProvider Cline`, `globalState.json planModeApiProvider Cline`]);
    expect(sources.slice(-selectors.length)).toEqual(selectors);
    const keys = sources.filter(s => s.role !== `selector`);
    const firstInstalls = keys.findIndex(s => s.installs);
    const installs = keys.filter(s => s.installs);
    expect(installs.map(s => s.kind === `file` && path.basename(s.path))).toEqual([`auth.json`, `secrets.json`, `roo-import.json`]);
    // Installed sources are contiguous; every non-installed source before them is a Kilo one (Cline's and Zoo's own
    // lists start with what capit writes).
    expect(keys.slice(firstInstalls, firstInstalls + installs.length).every(s => s.installs)).toBe(true);
    expect(keys.slice(0, firstInstalls).every(s => s.note?.startsWith(`Kilo Code`))).toBe(true);
    expect(sources.find(s => s.kind === `env` && s.name === `KILO_AUTH_CONTENT`)!.note).toBe(`Kilo Code: it replaces auth.json entirely`);
    const bare = envFor();
    expect(ideKeySources(CURSOR, bare, `openrouter`, scanExtensions(CURSOR, bare))).toEqual([]);
  });
});
