import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import type {AgentEnvironment, JsonPath, PlanInput} from 'capit/plugin';
import hermes, {hermesHome, hermesKeySources} from '../src/index.js';
import {capit, issue, managementRequests, mode, onlyKey, read, restore, sandbox, snapshotTree, useEmulator, warnings, write} from '../../../test/support/agent-harness.js';

const KEY = `sk-or-v1-fake-plan-0000`;

function envInfo(over: Partial<AgentEnvironment> = {}): AgentEnvironment {
  return {env: {}, home: `/home/u`, cwd: `/work/proj`, platform: `linux`, ...over};
}

/** `current` is config.yaml's content; `read` walks it like core does. */
function input(current: Record<string, unknown> = {}, platform: PlanInput[`platform`] = OPENROUTER): PlanInput {
  return {
    platform, secret: KEY, keyName: `hermes-0000aaaa`,
    read: (file: string, p: JsonPath) => file === `config`
      ? p.reduce<unknown>((v, k) => (v && typeof v === `object` ? (v as Record<string, unknown>)[k as string] : undefined), current)
      : undefined,
  };
}

const OPENROUTER = {id: `openrouter`, displayName: `OpenRouter`, inferenceBaseUrls: {openai: `https://openrouter.ai/api/v1`}};
const AIHUBMIX = {id: `aihubmix`, displayName: `AIHubMix`, inferenceBaseUrls: {openai: `https://aihubmix.com/v1`, anthropic: `https://aihubmix.com`}};

describe(`hermes (pure)`, () => {
  it(`resolves HERMES_HOME, ~/.hermes, %LOCALAPPDATA%\\hermes and the data-dir suffix`, () => {
    expect(hermesHome(envInfo())).toBe(`/home/u/.hermes`);
    expect(hermesHome(envInfo({platform: `darwin`, home: `/Users/u`}))).toBe(`/Users/u/.hermes`);
    expect(hermesHome(envInfo({env: {HERMES_HOME: `/opt/h`}}))).toBe(`/opt/h`);
    expect(hermesHome(envInfo({env: {HERMES_HOME: `rel`}}))).toBe(`/work/proj/rel`);
    expect(hermesHome(envInfo({env: {HERMES_DATA_DIR_SUFFIX: `-dev`}}))).toBe(`/home/u/.hermes-dev`);
    const win = {platform: `win32` as const, home: `C:\\Users\\u`, cwd: `C:\\w`};
    expect(hermesHome(envInfo({...win, env: {LOCALAPPDATA: `C:\\Users\\u\\AppData\\Local`}}))).toBe(`C:\\Users\\u\\AppData\\Local\\hermes`);
    expect(hermesHome(envInfo({...win}))).toBe(`C:\\Users\\u\\AppData\\Local\\hermes`);
    expect(hermes.files(envInfo({...win, env: {HERMES_HOME: `D:\\hermes`}}))[0]!.path).toBe(`D:\\hermes\\.env`);
  });

  it(`declares the secret .env first, then config.yaml (not secret)`, () => {
    expect(hermes.files(envInfo())).toEqual([
      {id: `env`, path: `/home/u/.hermes/.env`, format: `dotenv`, secret: true},
      {id: `config`, path: `/home/u/.hermes/config.yaml`, format: `yaml`, secret: false},
    ]);
  });

  it(`sets the key and only model.provider`, () => {
    const plan = hermes.plan(input({model: {default: `x/y`, provider: `anthropic`}}), envInfo());
    expect(plan.edits).toEqual([
      {file: `env`, op: `set`, path: [`OPENROUTER_API_KEY`], value: KEY},
      {file: `config`, op: `set`, path: [`model`, `provider`], value: `openrouter`},
    ]);
    expect(plan.notes!.join(`\n`)).toContain(`auth.json`);
  });

  it(`turns an old "model: <slug>" into the mapping form, keeping the slug as default`, () => {
    expect(hermes.plan(input({model: `anthropic/claude-sonnet-4`}), envInfo()).edits[1]).toEqual(
      {file: `config`, op: `set`, path: [`model`], value: {default: `anthropic/claude-sonnet-4`, provider: `openrouter`}});
  });

  it(`deletes the base_url and api_mode the previous provider left (Hermes would honour them again for auto/custom)`, () => {
    const plan = hermes.plan(input({model: {default: `anthropic/claude-sonnet-4`, provider: `anthropic`, base_url: `https://api.anthropic.com`, api_mode: `anthropic_messages`}}), envInfo());
    expect(plan.edits).toEqual([
      {file: `env`, op: `set`, path: [`OPENROUTER_API_KEY`], value: KEY},
      {file: `config`, op: `set`, path: [`model`, `provider`], value: `openrouter`},
      {file: `config`, op: `delete`, path: [`model`, `base_url`]},
      {file: `config`, op: `delete`, path: [`model`, `api_mode`]},
    ]);
    // Already on openrouter: the user's own settings stay; a base_url on the platform's host is no leftover.
    expect(hermes.plan(input({model: {provider: `openrouter`, base_url: `http://proxy.local/v1`}}), envInfo()).edits).toHaveLength(2);
    expect(hermes.plan(input({model: {provider: `auto`, base_url: `https://openrouter.ai/api/v1`}}), envInfo()).edits).toHaveLength(2);
    expect(hermes.plan(input({model: {provider: `auto`, api_mode: `chat_completions`}}), envInfo()).edits).toHaveLength(2);
  });

  it(`notes a model id that is not vendor/model, and says nothing for an OpenRouter id`, () => {
    for (const model of [{default: `claude-sonnet-4-20250514`, provider: `anthropic`}, {model: `gpt-4o`}, `claude-opus-4`]) {
      const notes = hermes.plan(input({model}), envInfo()).notes!.join(`\n`);
      expect(notes).toMatch(/Hermes' model "(claude-sonnet-4-20250514|gpt-4o|claude-opus-4)" \(config.yaml model.default\) is not an OpenRouter model id/);
    }
    expect(hermes.plan(input({model: {default: `anthropic/claude-sonnet-4`}}), envInfo()).notes!.join(`\n`)).not.toMatch(/not an OpenRouter model id/);
    expect(hermes.plan(input({}), envInfo()).notes!.join(`\n`)).not.toMatch(/not an OpenRouter model id/);
  });

  it(`points Hermes at AIHubMix through a custom provider entry, removing an api/url that would win over its base_url`, () => {
    const plan = hermes.plan(input({model: {default: `gpt-4o-mini`, provider: `openrouter`}, providers: {aihubmix: {url: `http://old/v1`}}}, AIHUBMIX), envInfo());
    expect(plan.edits).toEqual([
      {file: `env`, op: `set`, path: [`AIHUBMIX_API_KEY`], value: KEY},
      {file: `config`, op: `set`, path: [`model`, `provider`], value: `custom:aihubmix`},
      {file: `config`, op: `delete`, path: [`providers`, `aihubmix`, `url`]},
      {file: `config`, op: `set`, path: [`providers`, `aihubmix`, `base_url`], value: `https://aihubmix.com/v1`},
      {file: `config`, op: `set`, path: [`providers`, `aihubmix`, `key_env`], value: `AIHUBMIX_API_KEY`},
    ]);
    expect(plan.notes!.join(`\n`)).not.toMatch(/not an OpenRouter model id/);
    expect(hermes.sessionEnv!({platform: `aihubmix`, secret: KEY, baseUrls: AIHUBMIX.inferenceBaseUrls}, envInfo(), undefined)).toEqual(expect.stringContaining(`--agent hermes`));
  });

  it(`supports openrouter and aihubmix; key sources in Hermes' order, base URLs included`, () => {
    expect(hermes.supports(`openrouter`)).toBe(true);
    expect(hermes.supports(`aihubmix`)).toBe(true);
    expect(hermes.supports(`anthropic`)).toEqual(expect.any(String));
    const dotenv = `/home/u/.hermes/.env`;
    const config = `/home/u/.hermes/config.yaml`;
    const runtime = `source: hermes_cli/runtime_provider.py@004ad48`;
    const envLoader = `source: hermes_cli/env_loader.py@01138ffd`;
    const selectors = (selects: string) => [
      {kind: `file`, path: config, format: `yaml`, at: [`model`, `provider`], role: `selector`, selects, installs: true, note: expect.any(String), checked: runtime},
      {kind: `env`, name: `HERMES_INFERENCE_PROVIDER`, role: `selector`, selects, note: expect.any(String), checked: runtime},
    ];
    expect(hermesKeySources(envInfo(), `openrouter`)).toEqual([
      {kind: `file`, path: dotenv, format: `dotenv`, at: [`OPENROUTER_API_KEY`], installs: true, checked: envLoader},
      {kind: `env`, name: `OPENROUTER_API_KEY`, note: expect.any(String), checked: envLoader},
      {kind: `file`, path: dotenv, format: `dotenv`, at: [`CUSTOM_BASE_URL`], role: `baseUrl`, note: expect.any(String), checked: runtime},
      {kind: `env`, name: `CUSTOM_BASE_URL`, role: `baseUrl`, note: expect.any(String), checked: runtime},
      {kind: `file`, path: dotenv, format: `dotenv`, at: [`OPENROUTER_BASE_URL`], role: `baseUrl`, note: expect.any(String), checked: runtime},
      {kind: `env`, name: `OPENROUTER_BASE_URL`, role: `baseUrl`, note: expect.any(String), checked: runtime},
      // The provider the install selects: model.provider over HERMES_INFERENCE_PROVIDER.
      ...selectors(`openrouter`),
    ]);
    // model.base_url is not a source for provider openrouter: Hermes ignores it there (the install deletes a stale one).
    expect(hermesKeySources(envInfo(), `openrouter`).some(s => s.kind === `file` && s.at.includes(`base_url`))).toBe(false);
    expect(hermesKeySources(envInfo(), `aihubmix`)).toEqual([
      {kind: `file`, path: dotenv, format: `dotenv`, at: [`AIHUBMIX_API_KEY`], installs: true, checked: envLoader},
      {kind: `env`, name: `AIHUBMIX_API_KEY`, note: expect.any(String), checked: envLoader},
      {kind: `file`, path: config, format: `yaml`, at: [`providers`, `aihubmix`, `api_key`], note: expect.any(String), checked: runtime},
      {kind: `file`, path: config, format: `yaml`, at: [`providers`, `aihubmix`, `api`], role: `baseUrl`, note: expect.any(String), checked: runtime},
      {kind: `file`, path: config, format: `yaml`, at: [`providers`, `aihubmix`, `url`], role: `baseUrl`, note: expect.any(String), checked: runtime},
      {kind: `file`, path: config, format: `yaml`, at: [`providers`, `aihubmix`, `base_url`], role: `baseUrl`, note: `written by capit`, checked: runtime},
      ...selectors(`custom:aihubmix`),
      {kind: `file`, path: config, format: `yaml`, at: [`providers`, `aihubmix`, `key_env`], role: `selector`, selects: `AIHUBMIX_API_KEY`, installs: true, setting: `key_env`, note: expect.any(String), checked: runtime},
    ]);
    // The selector names exactly the provider the plan writes.
    for (const platform of [OPENROUTER, AIHUBMIX]) {
      const written = hermes.plan(input({model: {provider: `anthropic`}}, platform), envInfo()).edits.find(e => e.file === `config` && e.path.join(`.`) === `model.provider`);
      const selector = hermesKeySources(envInfo(), platform.id).find(s => s.role === `selector` && s.installs && s.kind === `file` && s.at.join(`.`) === `model.provider`);
      expect(written && `value` in written ? written.value : undefined).toBe(selector!.selects);
    }
  });

  it(`says "an AIHubMix model id" (QA #6)`, () => {
    expect(hermes.plan(input({}, AIHUBMIX), envInfo()).notes!.join(`\n`)).toContain(`an AIHubMix model id`);
  });
});

const emulator = useEmulator();

describe(`capit openrouter 5 --agent hermes`, () => {
  it(`creates .env (0600) and config.yaml in a new ~/.hermes`, async () => {
    const sb = sandbox(emulator.current);
    const result = await issue(sb, `hermes`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stdout).toBe(`$5.00 openrouter key installed into hermes\n`);
    expect(warnings(result)).toEqual([]);
    const key = onlyKey(emulator.current);
    const dir = path.join(sb.home, `.hermes`);
    expect(read(path.join(dir, `.env`))).toBe(`OPENROUTER_API_KEY=${key.key}\n`);
    expect(mode(path.join(dir, `.env`))).toBe(0o600);
    expect(mode(dir)).toBe(0o700);
    expect(read(path.join(dir, `config.yaml`))).toBe(`model:\n  provider: openrouter\n`);
    expect(fs.existsSync(path.join(dir, `auth.json`))).toBe(false);
    expect(result.stdout + result.stderr).not.toContain(key.key);
  });

  it(`keeps a rich .env and a commented config.yaml except capit's two edits, and restores both exactly`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.home, `.hermes`);
    const envText = [
      `# Hermes secrets`,
      `export OPENAI_API_KEY=sk-fake-openai-0000`,
      `OPENROUTER_API_KEY="sk-or-v1-old-fake-0000"  # set by hermes setup`,
      ``,
      `\tTELEGRAM_BOT_TOKEN=fake:0000`,
      `DISCORD_TOKEN='fake-discord-0000'`,
      ``,
    ].join(`\n`);
    const yamlText = [
      `# Hermes config`,
      `model:`,
      `    default: anthropic/claude-sonnet-4 # the main model`,
      `    provider: anthropic # was anthropic`,
      `    base_url: https://api.anthropic.com`,
      ``,
      `terminal:`,
      `    backend: local      # spaced out on purpose`,
      `    cwd: "."`,
      `toolsets:`,
      `- hermes-cli`,
      `- web`,
      `# end`,
      ``,
    ].join(`\n`);
    write(path.join(dir, `.env`), envText, 0o600);
    write(path.join(dir, `config.yaml`), yamlText, 0o644);
    write(path.join(dir, `auth.json`), `{"credential_pool": {"openrouter": []}}\n`, 0o600);

    const result = await issue(sb, `hermes`);
    expect(result.exitCode, result.stderr).toBe(0);
    const key = onlyKey(emulator.current);
    expect(read(path.join(dir, `.env`))).toBe(envText.replace(`"sk-or-v1-old-fake-0000"`, key.key));
    // The previous provider's base_url goes (backed up), so a later switch to auto/custom cannot revive it.
    expect(read(path.join(dir, `config.yaml`))).toBe(yamlText.replace(`provider: anthropic # was anthropic`, `provider: openrouter # was anthropic`).replace(`    base_url: https://api.anthropic.com\n`, ``));
    expect(mode(path.join(dir, `config.yaml`))).toBe(0o644);
    expect(read(path.join(dir, `auth.json`))).toBe(`{"credential_pool": {"openrouter": []}}\n`);

    const restored = await restore(sb, `hermes`);
    expect(restored.exitCode, restored.stderr).toBe(0);
    expect(read(path.join(dir, `.env`))).toBe(envText);
    expect(read(path.join(dir, `config.yaml`))).toBe(yamlText);
    expect(mode(path.join(dir, `.env`))).toBe(0o600);
  });

  // Core's YAML editor used to re-render a run of adjacent lines that the yaml library prints differently when the edit
  // touched one of them: here the edited `provider:` line and the untouched `default:` line both have extra spaces
  // before their comments, and the `default:` line must keep them.
  it(`keeps the spacing of inline comments on lines next to the edited one`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.hermes`, `config.yaml`);
    const yamlText = `model:\n  default: anthropic/claude-sonnet-4   # the main model\n  provider: anthropic  # was anthropic\n`;
    write(file, yamlText);
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    const lines = read(file).split(`\n`);
    expect(lines[2]).toMatch(/^  provider: openrouter +# was anthropic$/);
    expect(lines[1]).toBe(`  default: anthropic/claude-sonnet-4   # the main model`);
  });

  it(`adds model.provider to a config.yaml without one, keeping its comments`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.hermes`, `config.yaml`);
    const yamlText = `# my config\ndisplay:\n  skin: mono # dark\n`;
    write(file, yamlText);
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    expect(read(file)).toBe(`${yamlText}model:\n  provider: openrouter\n`);
    expect((await restore(sb, `hermes`)).exitCode).toBe(0);
    expect(read(file)).toBe(yamlText);
  });

  it(`refuses an unparseable config.yaml, leaving both files untouched and no key behind`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.home, `.hermes`);
    write(path.join(dir, `.env`), `OPENROUTER_API_KEY=sk-or-v1-old-fake-0000\n`, 0o600);
    write(path.join(dir, `config.yaml`), `model:\n  provider: [openrouter\n  default: x\n`);
    const before = snapshotTree(sb.home);
    const result = await issue(sb, `hermes`);
    expect(result.exitCode).toBe(1);
    expect(result.stderr).toContain(`${path.join(dir, `config.yaml`)} is not valid`);
    expect(snapshotTree(sb.home)).toEqual(before);
    expect(managementRequests(emulator.current)).toEqual([]);
    expect(emulator.current.state.keys.size).toBe(0);
  });

  it(`honours HERMES_HOME`, async () => {
    const sb = sandbox(emulator.current);
    const dir = path.join(sb.root, `hermes-home`);
    sb.env.HERMES_HOME = dir;
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    expect(read(path.join(dir, `.env`))).toBe(`OPENROUTER_API_KEY=${onlyKey(emulator.current).key}\n`);
    expect(fs.existsSync(path.join(sb.home, `.hermes`))).toBe(false);
  });

  it(`does not warn about OPENROUTER_API_KEY in the shell (Hermes loads .env over it)`, async () => {
    const sb = sandbox(emulator.current, {OPENROUTER_API_KEY: `sk-or-v1-shell-fake-0000`});
    const result = await issue(sb, `hermes`);
    expect(result.exitCode).toBe(0);
    expect(warnings(result)).toEqual([]);
  });

  it(`notes a provider-specific model id left in config.yaml after switching to openrouter`, async () => {
    const sb = sandbox(emulator.current);
    const file = path.join(sb.home, `.hermes`, `config.yaml`);
    const yamlText = `model:\n  provider: anthropic\n  default: claude-sonnet-4-20250514\n  base_url: https://api.anthropic.com\n`;
    write(file, yamlText);
    const result = await issue(sb, `hermes`);
    expect(result.exitCode, result.stderr).toBe(0);
    expect(result.stderr).toContain(`Hermes' model "claude-sonnet-4-20250514" (config.yaml model.default) is not an OpenRouter model id`);
    expect(read(file)).toBe(`model:\n  provider: openrouter\n  default: claude-sonnet-4-20250514\n`);
    expect((await restore(sb, `hermes`)).exitCode).toBe(0);
    expect(read(file)).toBe(yamlText);
  });
});

describe(`capit aihubmix 5 --agent hermes`, () => {
  it(`writes AIHUBMIX_API_KEY and a custom provider entry Hermes selects, and restores both files exactly`, async () => {
    const sb = sandbox(emulator.current, {CAPIT_AIHUBMIX_BASE_URL: emulator.current.aihubmixBaseUrl, AIHUBMIX_MANAGE_KEY: `aihubmix-manage-fake-0000`});
    const dir = path.join(sb.home, `.hermes`);
    const yamlText = `# mine\nmodel:\n  default: gpt-4o-mini # cheap\n  provider: openrouter\n`;
    write(path.join(dir, `config.yaml`), yamlText);
    const result = await capit([`aihubmix`, `5`, `--agent`, `hermes`, `--yes`], {env: sb.env});
    expect(result.exitCode, result.stderr).toBe(0);
    const tokens = [...emulator.current.state.aihubmixTokens.values()];
    expect(tokens).toHaveLength(1);
    const envText = read(path.join(dir, `.env`));
    expect(envText).toMatch(/^AIHUBMIX_API_KEY=sk-[0-9a-f]{48}\n$/);
    expect(envText).toContain(tokens[0]!.key);
    expect(read(path.join(dir, `config.yaml`))).toBe(
      `# mine\nmodel:\n  default: gpt-4o-mini # cheap\n  provider: custom:aihubmix\nproviders:\n  aihubmix:\n    base_url: ${emulator.current.aihubmixBaseUrl}/v1\n    key_env: AIHUBMIX_API_KEY\n`);
    expect(result.stdout + result.stderr).not.toContain(tokens[0]!.key);
    const doctor = await capit([`doctor`, `hermes`], {env: sb.env});
    expect(doctor.exitCode).toBe(0);
    expect(doctor.stdout).toMatch(/uses capit key hermes-[0-9a-f]{8} .*~\/\.hermes\/\.env \(AIHUBMIX_API_KEY\)/);
    // key_env naming another variable: Hermes sends that variable's key, not the capped one.
    const installed = read(path.join(dir, `config.yaml`));
    write(path.join(dir, `config.yaml`), installed.replace(`key_env: AIHUBMIX_API_KEY`, `key_env: OTHER_KEY`));
    const switched = await capit([`doctor`, `hermes`], {env: sb.env});
    expect(switched.exitCode).toBe(1);
    expect(switched.stdout).toMatch(/SHADOWED by ~\/\.hermes\/config\.yaml \(providers\.aihubmix\.key_env\)/);
    write(path.join(dir, `config.yaml`), installed);
    expect((await capit([`restore`, `hermes`, `--yes`], {env: sb.env})).exitCode).toBe(0);
    expect(read(path.join(dir, `config.yaml`))).toBe(yamlText);
    expect(fs.existsSync(path.join(dir, `.env`))).toBe(false);
  });
});


describe(`capit doctor hermes: base-URL layers (runtime_provider.py)`, () => {
  interface Report {status: string; message: string; sources: {label: string; present: boolean}[]}
  async function doctorJson(sb: ReturnType<typeof sandbox>): Promise<{exitCode: number | null; report: Report; text: string}> {
    const json = await capit([`doctor`, `hermes`, `--json`], {env: sb.env});
    const text = await capit([`doctor`, `hermes`], {env: sb.env});
    const parsed = JSON.parse(json.stdout) as Report[] | {agents: Report[]};
    const report = (Array.isArray(parsed) ? parsed : parsed.agents)[0]!;
    return {exitCode: text.exitCode, report, text: text.stdout};
  }

  for (const [layer, where] of [
    [`CUSTOM_BASE_URL=http://localhost:4000/v1 in ~/.hermes/.env`, `dotenv`],
    [`CUSTOM_BASE_URL=http://localhost:4000/v1 in the shell`, `shell`],
    [`OPENROUTER_BASE_URL=https://llm-proxy.example/v1 in ~/.hermes/.env`, `dotenv`],
  ] as const) {
    it(`${layer}: doctor reads the layer: REDIRECTED (exit 1)`, async () => {
      const [name, value] = layer.split(` `)[0]!.split(`=`) as [string, string];
      const sb = sandbox(emulator.current, where === `shell` ? {[name]: value} : {});
      expect((await issue(sb, `hermes`)).exitCode).toBe(0);
      if (where === `dotenv`) fs.appendFileSync(path.join(sb.home, `.hermes`, `.env`), `${name}=${value}\n`);
      const {exitCode, report, text} = await doctorJson(sb);
      const label = where === `dotenv` ? `~/.hermes/.env (${name})` : `environment variable ${name}`;
      expect(report.sources.find(s => s.label === label)).toMatchObject({present: true});
      expect(exitCode).toBe(1);
      expect(text).toContain(`REDIRECTED`);
      expect(text).toContain(name);
      expect(text).not.toContain(`uses capit key`);
    });
  }

  it(`a stale model.base_url is gone after the install, so doctor has nothing to redirect`, async () => {
    const sb = sandbox(emulator.current);
    write(path.join(sb.home, `.hermes`, `config.yaml`), `model:\n  provider: anthropic\n  default: anthropic/claude-sonnet-4\n  base_url: https://api.anthropic.com\n`);
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    expect(read(path.join(sb.home, `.hermes`, `config.yaml`))).not.toContain(`base_url`);
    const {exitCode, text} = await doctorJson(sb);
    expect(exitCode).toBe(0);
    expect(text).toContain(`uses capit key`);
  });
});


describe(`capit doctor hermes: model.provider selects the provider (QA #4)`, () => {
  for (const [what, yaml] of [
    [`another provider`, `model:\n  provider: anthropic\n`],
    [`Hermes' own custom provider`, `model:\n  provider: custom\n`],
    [`auto, with a model.base_url Hermes then honours`, `model:\n  provider: auto\n  base_url: https://elsewhere.example/v1\n`],
    [`no provider at all (the selection capit wrote is gone)`, `model:\n  default: anthropic/claude-sonnet-4\n`],
  ] as const) {
    it(`config.yaml switched to ${what}: doctor says SHADOWED (exit 1), never "uses capit key"`, async () => {
      const sb = sandbox(emulator.current);
      expect((await issue(sb, `hermes`)).exitCode).toBe(0);
      const before = await capit([`doctor`, `hermes`], {env: sb.env});
      expect(before.exitCode, before.stdout + before.stderr).toBe(0);
      expect(before.stdout).toContain(`uses capit key`);
      write(path.join(sb.home, `.hermes`, `config.yaml`), yaml);
      const after = await capit([`doctor`, `hermes`], {env: sb.env});
      expect(after.exitCode, after.stdout + after.stderr).toBe(1);
      expect(after.stdout).toContain(`SHADOWED`);
      expect(after.stdout).not.toContain(`uses capit key`);
    });
  }

  it(`HERMES_INFERENCE_PROVIDER is read only when config.yaml names no provider: capit's model.provider wins over it`, async () => {
    const sb = sandbox(emulator.current, {HERMES_INFERENCE_PROVIDER: `anthropic`});
    expect((await issue(sb, `hermes`)).exitCode).toBe(0);
    const doctor = await capit([`doctor`, `hermes`], {env: sb.env});
    expect(doctor.exitCode, doctor.stdout + doctor.stderr).toBe(0);
    expect(doctor.stdout).toContain(`uses capit key`);
  });
});
