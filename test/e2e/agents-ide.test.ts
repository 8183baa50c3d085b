// `--agent cursor|windsurf`: file contents with fake extension folders (no headless IDE exists; Cursor's own BYOK
// traffic comes from Cursor's cloud, never from this machine).
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import type {Emulator}        from '../emulator/server.mjs';
import {runCli}               from '../support/cli.js';
import {sandboxEnv, snapshotTree, tempDir} from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const env = sandboxEnv(tempDir(`capit-ide-e2e-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  const home = env.HOME!;
  const extension = (ide: string, ...folders: string[]) => {
    for (const f of folders) fs.mkdirSync(path.join(home, ide, `extensions`, f), {recursive: true});
  };
  return {
    env, home, extension,
    kiloAuth: path.join(env.XDG_DATA_HOME!, `kilo`, `auth.json`),
    clineSecrets: path.join(home, `.cline`, `data`, `secrets.json`),
    clineProviders: path.join(home, `.cline`, `data`, `settings`, `providers.json`),
    rooImport: path.join(env.XDG_CONFIG_HOME!, `capit`, `roo-import.json`),
    settings: (app: string) => path.join(env.XDG_CONFIG_HOME!, app, `User`, `settings.json`),
  };
}

const SETTINGS_JSONC = `// Cursor user settings
{
    "editor.fontSize": 14, // keep me
    /* block comment */
    "files.exclude": {"**/.git": true,},
    "workbench.colorTheme": "Default Dark+",
}
`;

const only = (emu: Emulator) => [...emu.state.keys.values()];

describe(`capit openrouter <usd> --agent cursor`, () => {
  it(`configures Kilo, Cline and Zoo found in ~/.cursor/extensions, keeps settings.json comments, restores byte for byte`, async () => {
    const s = setup();
    s.extension(`.cursor`, `kilocode.kilo-code-7.2.1-linux-x64`, `SaoudRizwan.claude-dev-4.1.13`, `zoocodeorganization.zoo-code-1.2.0`, `esbenp.prettier-vscode-11.0.0`);
    fs.mkdirSync(path.dirname(s.settings(`Cursor`)), {recursive: true});
    fs.writeFileSync(s.settings(`Cursor`), SETTINGS_JSONC, {mode: 0o644});
    fs.mkdirSync(path.dirname(s.kiloAuth), {recursive: true});
    const kiloBefore = `{\n  "anthropic": {"type": "oauth", "refresh": "fake-refresh-0000", "access": "fake-access-0000", "expires": 0}\n}\n`;
    fs.writeFileSync(s.kiloAuth, kiloBefore, {mode: 0o600});
    const before = snapshotTree(s.home);

    const result = await runCli([`openrouter`, `5`, `--agent`, `cursor`, `--yes`], {env: s.env});
    expect(result.exitCode).toBe(0);
    expect(result.stdout.split(`\n`)[0]).toBe(`$5.00 openrouter key installed into cursor`);
    const [key] = only(emulator);
    expect(key!.name).toMatch(/^cursor-[0-9a-f]{8}$/);
    expect(result.stdout + result.stderr).not.toContain(key!.key);

    // Kilo: opencode-shaped auth.json, other providers kept.
    const kilo = JSON.parse(fs.readFileSync(s.kiloAuth, `utf8`));
    expect(kilo).toEqual({anthropic: {type: `oauth`, refresh: `fake-refresh-0000`, access: `fake-access-0000`, expires: 0}, openrouter: {type: `api`, key: key!.key}});
    // Cline: both files (secrets.json wins inside Cline).
    expect(JSON.parse(fs.readFileSync(s.clineSecrets, `utf8`)).openRouterApiKey).toBe(key!.key);
    expect(JSON.parse(fs.readFileSync(s.clineProviders, `utf8`)).providers.openrouter.settings.apiKey).toBe(key!.key);
    // Zoo: import file 0600 with a stable profile id on every mode, the emulator's base URL, and the setting.
    expect(fs.statSync(s.rooImport).mode & 0o777).toBe(0o600);
    const imported = JSON.parse(fs.readFileSync(s.rooImport, `utf8`));
    expect(imported.providerProfiles.currentApiConfigName).toBe(`capit`);
    expect(imported.providerProfiles.apiConfigs.capit).toEqual({
      id: `capit-openrouter`, apiProvider: `openrouter`, openRouterApiKey: key!.key,
      openRouterModelId: `anthropic/claude-sonnet-4.5`, openRouterBaseUrl: emulator.openrouterBaseUrl,
    });
    expect(imported.providerProfiles.modeApiConfigs).toEqual({code: `capit-openrouter`, architect: `capit-openrouter`, ask: `capit-openrouter`, debug: `capit-openrouter`, orchestrator: `capit-openrouter`});
    const settings = fs.readFileSync(s.settings(`Cursor`), `utf8`);
    for (const kept of [`// Cursor user settings`, `"editor.fontSize": 14, // keep me`, `/* block comment */`, `"files.exclude": {"**/.git": true,},`, `"workbench.colorTheme": "Default Dark+",`])
      expect(settings).toContain(kept);
    expect(settings).toContain(`"zoo-code.autoImportSettingsPath": ${JSON.stringify(s.rooImport)}`);
    expect(settings).not.toContain(`roo-cline.autoImportSettingsPath`);
    expect(settings).not.toContain(key!.key);
    expect(fs.statSync(s.settings(`Cursor`)).mode & 0o777).toBe(0o644);

    // What was configured, then the honest manual steps for Cursor's own chat (no key in them).
    expect(result.stderr).toContain(`Configured inside Cursor: Kilo Code 7.2.1, Cline 4.1.13, Zoo Code 1.2.0.`);
    expect(result.stderr).toContain(`Cursor's own chat: capit wrote nothing for it.`);
    expect(result.stderr).toContain(`capit openrouter 5 --name cursor-chat`);
    expect(result.stderr).toMatch(/Tab, Apply, Auto, Agent orchestration and cloud agents keep billing your Cursor plan/);
    expect(result.stderr).toContain(`Zoo Code imports ~/.config/capit/roo-import.json on every start`);
    expect(result.stderr).not.toMatch(/warning/);

    // doctor: every configured extension holds the capped key.
    const doctor = await runCli([`doctor`, `cursor`], {env: s.env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toMatch(new RegExp(`^cursor {2}uses capit key ${key!.name} \\(\\$5\\.00 cap\\) from .*kilo/auth\\.json.*secrets\\.json.*roo-import\\.json`));

    const restored = await runCli([`restore`, `cursor`, `--yes`], {env: s.env});
    expect(restored.exitCode).toBe(0);
    const after = snapshotTree(s.home);
    // Only capit's own state remains new; every agent file is back byte for byte (created ones removed).
    for (const file of Object.keys(after).filter(f => f.startsWith(`.local/state/capit/`))) delete after[file];
    expect(after).toEqual(before);
  });

  it(`Roo Code only: the setting goes to Cursor's settings.json, created when missing`, async () => {
    const s = setup();
    s.extension(`.cursor`, `RooVeterinaryInc.roo-cline-3.52.1`);
    const result = await runCli([`openrouter`, `2`, `--agent`, `cursor`, `--yes`], {env: s.env});
    expect(result.exitCode).toBe(0);
    expect(JSON.parse(fs.readFileSync(s.settings(`Cursor`), `utf8`))).toEqual({'roo-cline.autoImportSettingsPath': s.rooImport});
    expect(fs.existsSync(s.kiloAuth)).toBe(false);
    expect(fs.existsSync(s.clineSecrets)).toBe(false);
    expect(result.stderr).toContain(`Configured inside Cursor: Roo Code 3.52.1.`);
  });

  it(`a Kilo config apiKey shadows the capped key: capit warns and doctor exits 1 naming it`, async () => {
    const s = setup();
    s.extension(`.cursor`, `kilocode.kilo-code-7.2.1`);
    const kiloConfig = path.join(s.env.XDG_CONFIG_HOME!, `kilo`, `kilo.jsonc`);
    fs.mkdirSync(path.dirname(kiloConfig), {recursive: true});
    fs.writeFileSync(kiloConfig, `{"provider": {"openrouter": {"options": {"apiKey": "sk-or-v1-config-fake-4444"}}}}`);
    const result = await runCli([`openrouter`, `5`, `--agent`, `cursor`, `--yes`], {env: s.env});
    expect(result.exitCode).toBe(0);
    expect(result.stderr).toMatch(/warning: .*kilo\.jsonc \(provider\.openrouter\.options\.apiKey\) is set and wins over what capit wrote \(Kilo Code: /);
    const doctor = await runCli([`doctor`, `cursor`], {env: s.env});
    expect(doctor.exitCode).toBe(1);
    expect(doctor.stdout).toMatch(/^cursor {2}SHADOWED by ~\/\.config\/kilo\/kilo\.jsonc \(provider\.openrouter\.options\.apiKey\) \(Kilo Code: .*\) — the capped key cursor-[0-9a-f]{8} is not used/);
    expect(doctor.stdout).not.toContain(`sk-or-v1-config-fake-4444`);
  });

  it(`no extension: exits 1 with the manual steps, creates no key and writes nothing`, async () => {
    const s = setup();
    fs.mkdirSync(path.join(s.home, `.cursor`, `extensions`, `esbenp.prettier-vscode-11.0.0`), {recursive: true});
    const before = snapshotTree(s.home);
    const result = await runCli([`openrouter`, `5`, `--agent`, `cursor`, `--yes`], {env: s.env});
    expect(result.exitCode).toBe(1);
    expect(result.stdout).toBe(``);
    expect(result.stderr).toContain(`Cursor's own chat: capit wrote nothing for it.`);
    expect(result.stderr).toContain(`No Kilo Code, Cline, Zoo Code or Roo Code extension was found in ~/.cursor/extensions`);
    expect(result.stderr).toMatch(/capit: cursor has nothing capit can write for openrouter \(why is said above\); no key was created\n$/);
    expect(emulator.state.requests).toEqual([]);
    expect(emulator.state.keys.size).toBe(0);
    expect(snapshotTree(s.home)).toEqual(before);
  });
});

describe(`capit openrouter <usd> --agent windsurf`, () => {
  it(`says Cascade cannot use the key, and configures Cline and Zoo/Roo found in ~/.windsurf/extensions`, async () => {
    const s = setup();
    s.extension(`.windsurf`, `saoudrizwan.claude-dev-4.1.13`, `zoocodeorganization.zoo-code-1.2.0`, `rooveterinaryinc.roo-cline-3.52.1`);
    // Cursor's extensions must not count for Windsurf.
    s.extension(`.cursor`, `kilocode.kilo-code-7.2.1`);
    const result = await runCli([`openrouter`, `3`, `--agent`, `windsurf`, `--yes`], {env: s.env});
    expect(result.exitCode).toBe(0);
    const [key] = only(emulator);
    expect(result.stderr).toContain(`Windsurf's built-in agent (Cascade) cannot use an OpenRouter key`);
    expect(result.stderr).toContain(`capit wrote nothing for Cascade.`);
    expect(result.stderr).toContain(`Configured inside Windsurf: Cline 4.1.13, Zoo Code 1.2.0, Roo Code 3.52.1.`);
    expect(fs.existsSync(s.kiloAuth)).toBe(false);
    expect(JSON.parse(fs.readFileSync(s.clineSecrets, `utf8`)).openRouterApiKey).toBe(key!.key);
    expect(JSON.parse(fs.readFileSync(s.settings(`Windsurf`), `utf8`))).toEqual({
      'zoo-code.autoImportSettingsPath': s.rooImport, 'roo-cline.autoImportSettingsPath': s.rooImport,
    });
    expect(fs.existsSync(s.settings(`Cursor`))).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(key!.key);
  });

  it(`no extension: exits 1 explaining Cascade, creates no key and writes nothing (also with --json)`, async () => {
    const s = setup();
    fs.mkdirSync(path.join(s.home, `.windsurf`), {recursive: true});
    const before = snapshotTree(s.home);
    for (const extra of [[], [`--json`]]) {
      const result = await runCli([`openrouter`, `5`, `--agent`, `windsurf`, `--yes`, ...extra], {env: s.env});
      expect(result.exitCode).toBe(1);
      expect(result.stdout).toBe(``);
      expect(result.stderr).toContain(`Windsurf's built-in agent (Cascade) cannot use an OpenRouter key: its BYOK accepts only Anthropic keys`);
      expect(result.stderr).toContain(`install Kilo Code or Cline from the Extensions panel (Open VSX)`);
      expect(result.stderr).toContain(`capit: windsurf has nothing capit can write for openrouter (why is said above); no key was created`);
    }
    expect(emulator.state.requests).toEqual([]);
    expect(snapshotTree(s.home)).toEqual(before);
  });

  it(`--dry-run previews the extension files with the key masked`, async () => {
    const s = setup();
    s.extension(`.windsurf`, `kilocode.kilo-code-7.2.1`);
    const result = await runCli([`openrouter`, `5`, `--agent`, `windsurf`, `--dry-run`], {env: s.env});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toContain(s.kiloAuth);
    expect(result.stdout).toContain(`<new openrouter key>`);
    expect(emulator.state.requests).toEqual([]);
    expect(fs.existsSync(s.kiloAuth)).toBe(false);
  });
});
