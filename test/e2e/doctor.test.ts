// `capit doctor [agent]`: which key each agent would actually use. Never prints a key.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}               from '../support/cli.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

function setup(extra: Record<string, string> = {}) {
  const env = sandboxEnv(tempDir(`capit-doctor-`), {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, ...extra});
  delete (env as Record<string, string | undefined>).CAPIT_HOME;
  env.PATH = `/usr/bin${path.delimiter}/bin`;
  return {env, home: env.HOME!, authFile: path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`)};
}

interface Report {agent: string; detected: boolean; status: string; message: string; effective: string | null; shadowedBy: string[]; installed: {keyName: string; capUsd: number} | null; sources: {label: string; present: boolean; installs: boolean; holdsCapitKey: boolean | null}[]}

async function doctorJson(args: string[], env: Record<string, string>) {
  const result = await runCli([`doctor`, ...args, `--json`], {env});
  return {result, reports: JSON.parse(result.stdout) as Report[]};
}

describe(`capit doctor`, () => {
  it(`a file holding the provider selection that does not parse: one "cannot tell" for that file, exit 1; why agrees`, async () => {
    const {env, home} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `cline`, `--yes`], {env})).exitCode).toBe(0);
    fs.writeFileSync(path.join(home, `.cline`, `data`, `globalState.json`), `{"a":`);
    const {result, reports} = await doctorJson([`cline`], env);
    expect(result.exitCode).toBe(1);
    expect(reports[0]!.status).toBe(`unknown`);
    expect(reports[0]!.message).toMatch(/^Cline CLI: uses capit key cline-[0-9a-f]{8} .*; Cline extension: capit cannot tell which key cline uses or where its requests go: ~\/\.cline\/data\/globalState\.json does not parse$/);
    const why = await runCli([`why`, `cline`, `--json`], {env});
    expect(why.exitCode).toBe(1);
    expect((JSON.parse(why.stdout) as {class: string}[])[0]!.class).toBe(`unknown`);
  });

  it(`a layer that does not parse is "cannot tell", never REDIRECTED nor the key the agent "uses"`, async () => {
    const {env, home} = setup();
    // No install: a broken config is not a key the agent uses (exit 0: there is no capit key to vouch for).
    fs.mkdirSync(path.join(home, `.codex`), {recursive: true});
    fs.writeFileSync(path.join(home, `.codex`, `config.toml`), `[x\n`);
    let {result, reports} = await doctorJson([`codex`], env);
    expect(result.exitCode).toBe(0);
    expect(reports[0]).toMatchObject({status: `unknown`, message: `no capit key installed; ~/.codex/config.toml (model_providers.capit-openrouter.experimental_bearer_token) does not parse, so capit cannot tell which key codex uses`});

    // An install, then an inline config that is not JSON (opencode refuses to start with it): unknown, exit 1.
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    ({result, reports} = await doctorJson([`opencode`], {...env, OPENCODE_CONFIG_CONTENT: `not json`}));
    expect(result.exitCode).toBe(1);
    expect(reports[0]!.status).toBe(`unknown`);
    expect(reports[0]!.message).toBe(`capit cannot tell which key opencode uses or where its requests go: environment variable OPENCODE_CONFIG_CONTENT does not parse`);
  });

  it(`follows one install of opencode: capit key in use, shadowed, changed, restored`, async () => {
    const {env, authFile} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`, `--reset`, `monthly`], {env})).exitCode).toBe(0);
    const [key] = [...emulator.state.keys.values()];

    // Installed: the capped key is what opencode reads.
    let {result, reports} = await doctorJson([`opencode`], env);
    expect(result.exitCode).toBe(0);
    expect(reports).toHaveLength(1);
    expect(reports[0]).toMatchObject({agent: `opencode`, status: `capit`, shadowedBy: [], installed: {keyName: key!.name, capUsd: 5}});
    expect(reports[0]!.message).toBe(`uses capit key ${key!.name} ($5.00 per month cap) from ~/.local/share/opencode/auth.json (openrouter.key)`);
    expect(reports[0]!.sources.find(s => s.installs)).toMatchObject({present: true, holdsCapitKey: true});
    // No agent detected and no arg: opencode is still reported because capit installed into it.
    ({result, reports} = await doctorJson([], env));
    expect(reports.map(r => r.agent)).toEqual([`opencode`]);
    expect(result.stdout).not.toContain(key!.key);

    // Shadowed by an environment variable: exit 1, the source named.
    const shadowEnv = {...env, OPENCODE_AUTH_CONTENT: `{"openrouter":{"type":"api","key":"sk-or-v1-fake-shadow-5555"}}`};
    const shadowed = await runCli([`doctor`], {env: shadowEnv});
    expect(shadowed.exitCode).toBe(1);
    expect(shadowed.stdout).toBe(
      `opencode  SHADOWED by environment variable OPENCODE_AUTH_CONTENT (it replaces auth.json entirely) — the capped key ${key!.name} is not used\n` +
      `          unset or remove that value for opencode to use the capped key\n`);
    expect(shadowed.stderr).toBe(`capit: the capped key is not used by: opencode\n`);
    expect(shadowed.stdout + shadowed.stderr).not.toContain(`sk-or-v1-fake-shadow-5555`);
    // A lower-precedence source (OPENROUTER_API_KEY) does not shadow.
    expect((await runCli([`doctor`], {env: {...env, OPENROUTER_API_KEY: `sk-or-v1-fake-low-6666`}})).exitCode).toBe(0);

    // Someone replaced the key in auth.json: capit's key is no longer there.
    const auth = JSON.parse(fs.readFileSync(authFile, `utf8`));
    auth.openrouter.key = `sk-or-v1-fake-hand-edited-7777`;
    fs.writeFileSync(authFile, JSON.stringify(auth));
    ({result, reports} = await doctorJson([`opencode`], env));
    // The agent now sends another (uncapped) key: exit 1, like SHADOWED.
    expect(result.exitCode).toBe(1);
    expect(reports[0]!.status).toBe(`changed`);
    const changedText = await runCli([`doctor`, `opencode`], {env});
    expect(changedText.exitCode).toBe(1);
    expect(changedText.stderr).toBe(`capit: the capped key capit installed is no longer in the config of: opencode\n`);
    expect(reports[0]!.message).toBe(`capit openrouter key ${key!.name} ($5.00 per month cap) is no longer in ~/.local/share/opencode/auth.json (openrouter.key) (changed since capit wrote it); uses ~/.local/share/opencode/auth.json (openrouter.key)`);

    // After restore (forced over the edit) nothing capit installed is active any more.
    expect((await runCli([`restore`, `opencode`, `--yes`, `--force`], {env})).exitCode).toBe(0);
    ({result, reports} = await doctorJson([`opencode`], env));
    expect(reports[0]).toMatchObject({status: `none`, installed: null, message: `no capit key installed and no key found`});
    ({reports} = await doctorJson([`opencode`], {...env, OPENROUTER_API_KEY: `sk-or-v1-fake-low-6666`}));
    expect(reports[0]).toMatchObject({status: `other`, message: `no capit key installed; uses environment variable OPENROUTER_API_KEY`});
    // The install created opencode's data dir, so the restore removed it: without an argument nothing is listed.
    expect(fs.existsSync(path.dirname(authFile))).toBe(false);
    ({reports} = await doctorJson([], env));
    expect(reports).toEqual([]);
    // A data dir of opencode's own (the manifest's detect path) makes it listed again.
    fs.mkdirSync(path.dirname(authFile), {recursive: true});
    ({reports} = await doctorJson([], env));
    expect(reports.map(r => [r.agent, r.detected, r.status])).toEqual([[`opencode`, true, `none`]]);
  });

  it(`a file capit wrote that no longer parses: doctor says it cannot tell, never "changed" or "uses"`, async () => {
    const {env, authFile} = setup();
    expect((await runCli([`openrouter`, `5`, `--agent`, `opencode`, `--yes`], {env})).exitCode).toBe(0);
    fs.writeFileSync(authFile, `{"openrouter": {`);
    const {result, reports} = await doctorJson([`opencode`], env);
    // Cannot tell with an install: not proven in use, so exit 1.
    expect(result.exitCode).toBe(1);
    expect(reports[0]!.status).toBe(`unknown`);
    expect(reports[0]!.message).toContain(`which capit cannot read now`);
    expect(reports[0]!.message).toContain(`capit cannot tell which key opencode uses`);
    expect(reports[0]!.message).not.toMatch(/changed since|uses ~/);
    // `why` does not vouch either.
    const why = await runCli([`why`, `opencode`], {env});
    expect(why.exitCode).toBe(1);
    expect(why.stdout).toContain(`unknown`);
  });

  it(`claude: a cloud-provider switch in the environment shadows the capped key`, async () => {
    const {env} = setup({CLAUDE_CONFIG_DIR: ``});
    env.CLAUDE_CONFIG_DIR = path.join(env.HOME!, `.claude`);
    const installed = await runCli([`openrouter`, `5`, `--agent`, `claude`, `--yes`], {env: {...env, CLAUDE_CODE_USE_BEDROCK: `1`}});
    expect(installed.exitCode).toBe(0);
    expect(installed.stderr).toContain(`warning: environment variable CLAUDE_CODE_USE_BEDROCK is set and wins over what capit wrote`);
    const {result, reports} = await doctorJson([`claude`], {...env, CLAUDE_CODE_USE_BEDROCK: `1`});
    expect(result.exitCode).toBe(1);
    expect(reports[0]).toMatchObject({status: `shadowed`, shadowedBy: [`environment variable CLAUDE_CODE_USE_BEDROCK`]});
    // Shell ANTHROPIC_AUTH_TOKEN does not shadow: settings.json env wins over the process environment.
    const plain = await doctorJson([`claude`], {...env, ANTHROPIC_AUTH_TOKEN: `sk-or-v1-fake-shell-8888`});
    expect(plain.result.exitCode).toBe(0);
    expect(plain.reports[0]!.status).toBe(`capit`);
  });

  it(`windsurf without extensions says there is nothing to check; an unknown agent is a usage error`, async () => {
    const {env, home} = setup();
    fs.mkdirSync(path.join(home, `.windsurf`));
    const result = await runCli([`doctor`], {env});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toBe(`windsurf  no key sources to check for openrouter (Cascade: no OpenRouter BYOK; extensions: none found)\n`);
    const unknown = await runCli([`doctor`, `nope`], {env});
    expect(unknown.exitCode).toBe(2);
    expect(unknown.stderr).toMatch(/^capit: Unknown agent "nope"; installed agents: /);
  });
});
