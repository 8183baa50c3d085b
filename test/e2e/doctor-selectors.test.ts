// Selector sources (the setting that picks capit's provider entry), truthy switches, loopback base URLs and doctor's
// exit codes, through fixture agent plugins and the real CLI (QA findings on issue 12: #3, #4/#7/#12, #5, #8, #9, #17,
// #18, #20). Never prints a key, nor a selector's value.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}                    from '../support/cli.js';
import {agentManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir}       from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

// `pick`: a provider selector in the shell over the one capit writes in its config file (like Hermes' model.provider),
// a truthy cloud switch (like CLAUDE_CODE_USE_BEDROCK), a key variable, then the key capit writes. Its config folder
// moves with PICK_DIR (like CLAUDE_CONFIG_DIR).
const PICK = `
import path from 'node:path';
const dir = ({home, env}) => env.PICK_DIR || path.join(home, '.pick');
export default {
  apiVersion: 1, kind: 'agent', id: 'pick',
  files: (e) => [{id: 'cfg', path: path.join(dir(e), 'config.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({secret}) => ({edits: [
    {file: 'cfg', op: 'set', path: ['provider'], value: 'capit-openrouter'},
    {file: 'cfg', op: 'set', path: ['key'], value: secret},
  ]}),
  keySources: (e) => [
    {kind: 'env', name: 'PICK_PROVIDER', role: 'selector', selects: 'capit-openrouter'},
    {kind: 'file', path: path.join(dir(e), 'config.json'), format: 'json', at: ['provider'], role: 'selector', selects: 'capit-openrouter', installs: true},
    {kind: 'env', name: 'PICK_USE_CLOUD', truthy: true, note: 'pick then calls its cloud provider'},
    {kind: 'env', name: 'PICK_BASE_URL', role: 'baseUrl'},
    {kind: 'env', name: 'PICK_API_KEY'},
    {kind: 'file', path: path.join(dir(e), 'config.json'), format: 'json', at: ['key'], installs: true},
  ],
  sessionEnv: ({secret}) => ({env: {PICK_API_KEY: secret}, beatenBy: [{kind: 'env', name: 'PICK_PROVIDER', role: 'selector', selects: 'capit-openrouter'}]}),
};
`;

// Declaration bugs core refuses: a selector without `selects`, `selects` on a key source.
const badSelector = (id: string, source: string) => `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: '${id}',
  files: ({home}) => [{id: 'cfg', path: path.join(home, '.${id}.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({secret}) => ({edits: [{file: 'cfg', op: 'set', path: ['key'], value: secret}]}),
  keySources: ({home}) => [
    ${source},
    {kind: 'file', path: path.join(home, '.${id}.json'), format: 'json', at: ['key'], installs: true},
  ],
};
`;

interface Verdict {status: string; message: string; shadowedBy: string[]; fixes: string[]}
interface Report extends Verdict {agent: string; sources: {label: string; role: string; present: boolean}[]; error?: string}

function setup() {
  const root = tempDir(`capit-selectors-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, TZ: `UTC`});
  const plugins = path.join(root, `plugins`);
  const sources: [string, string][] = [
    [`pick`, PICK],
    [`nosel`, badSelector(`nosel`, `{kind: 'env', name: 'NOSEL_PROVIDER', role: 'selector'}`)],
    [`keysel`, badSelector(`keysel`, `{kind: 'env', name: 'KEYSEL_API_KEY', selects: 'capit'}`)],
  ];
  for (const [id, source] of sources) writePlugin(plugins, id, {name: `capit-agent-${id}`, capit: agentManifest(id)}, {file: `index.js`, source});
  env.CAPIT_PLUGIN_PATH = plugins;
  env.PATH = `/usr/bin${path.delimiter}/bin`;
  const home = env.HOME!;
  return {env, home, config: path.join(home, `.pick`, `config.json`)};
}

async function install(env: Record<string, string>) {
  const before = new Set(emulator.state.keys.keys());
  const result = await runCli([`openrouter`, `5`, `--agent`, `pick`, `--yes`], {env});
  expect(result.exitCode, result.stderr).toBe(0);
  return {result, key: [...emulator.state.keys.values()].find(k => !before.has(k.hash))!};
}

async function doctorJson(agent: string, env: Record<string, string>) {
  const result = await runCli([`doctor`, agent, `--json`], {env});
  return {result, report: (JSON.parse(result.stdout) as Report[])[0]!};
}

function editConfig(file: string, change: (config: Record<string, unknown>) => void) {
  const config = JSON.parse(fs.readFileSync(file, `utf8`)) as Record<string, unknown>;
  change(config);
  fs.writeFileSync(file, JSON.stringify(config));
}

describe(`doctor: truthy switches`, () => {
  it(`a switch variable counts only when truthy (1, true, yes, on; any case, trimmed)`, async () => {
    const {env} = setup();
    const {key} = await install(env);
    for (const off of [`0`, `false`, `no`, `off`, ``, `2`]) {
      const {result, report} = await doctorJson(`pick`, {...env, PICK_USE_CLOUD: off});
      expect([off, result.exitCode, report.status]).toEqual([off, 0, `capit`]);
    }
    for (const on of [`1`, ` TRUE `, `yes`, `On`]) {
      const {result, report} = await doctorJson(`pick`, {...env, PICK_USE_CLOUD: on});
      expect([on, result.exitCode, report.status]).toEqual([on, 1, `shadowed`]);
      expect(report.message).toBe(`SHADOWED by environment variable PICK_USE_CLOUD (pick then calls its cloud provider) — the capped key ${key.name} is not used`);
    }
  });
});

describe(`doctor: selector sources`, () => {
  it(`the selector capit wrote naming another provider, or gone, is SHADOWED (exit 1); its value is never printed`, async () => {
    const {env, config} = setup();
    const {key} = await install(env);
    let {result, report} = await doctorJson(`pick`, env);
    expect(result.exitCode, result.stdout).toBe(0);
    expect(report.status).toBe(`capit`);
    expect(report.sources.filter(s => s.role === `selector`).map(s => [s.label, s.present])).toEqual([[`environment variable PICK_PROVIDER`, false], [`~/.pick/config.json (provider)`, true]]);

    // The user (or the agent's own /model) switches the provider back: the capped key is not used.
    editConfig(config, c => { c.provider = `anthropic-mine`; });
    ({result, report} = await doctorJson(`pick`, env));
    expect(result.exitCode).toBe(1);
    expect(report.status).toBe(`shadowed`);
    expect(report.shadowedBy).toEqual([`~/.pick/config.json (provider)`]);
    expect(report.message).toBe(`SHADOWED by ~/.pick/config.json (provider): it selects another provider or entry than capit's — the capped key ${key.name} is not used`);
    expect(result.stdout).not.toContain(`anthropic-mine`);
    const text = await runCli([`doctor`, `pick`], {env});
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toContain(`pick  SHADOWED by ~/.pick/config.json (provider): it selects another provider or entry than capit's`);
    expect(text.stderr).toBe(`capit: the capped key is not used by: pick\n`);
    expect(text.stdout + text.stderr).not.toContain(`anthropic-mine`);

    // `capit why` classifies it like shadowed, without probing the key.
    const why = await runCli([`why`, `pick`, `--json`], {env});
    expect(why.exitCode).toBe(1);
    expect(JSON.parse(why.stdout)[0]).toMatchObject({class: `shadowed`, doctor: `shadowed`,
      summary: `the capped key is not used: ~/.pick/config.json (provider) no longer selects capit's provider entry`,
      fix: `make ~/.pick/config.json (provider) select capit's entry again, or install anew: capit openrouter 5 --agent pick`});
    expect(why.stdout).not.toContain(key.key);

    // Deleted: nothing selects capit's entry any more.
    editConfig(config, c => { delete c.provider; });
    ({result, report} = await doctorJson(`pick`, env));
    expect(result.exitCode).toBe(1);
    expect(report.message).toBe(`SHADOWED by ~/.pick/config.json (provider): it no longer selects capit's entry — the capped key ${key.name} is not used`);

    // The first selector set decides: a shell variable naming capit's entry wins over the file.
    ({result, report} = await doctorJson(`pick`, {...env, PICK_PROVIDER: ` capit-openrouter `}));
    expect(result.exitCode).toBe(0);
    expect(report.status).toBe(`capit`);
  });

  it(`a higher selector naming another provider shadows; the install warns; capit run refuses before creating a key`, async () => {
    const {env} = setup();
    const other = {...env, PICK_PROVIDER: `openai-mine`};
    const {result: installed, key} = await install(other);
    expect(installed.stderr).toContain(`warning: environment variable PICK_PROVIDER: it selects another provider or entry than capit's — pick may not use the capped key\n`);
    expect(installed.stderr).not.toContain(`openai-mine`);

    const {result, report} = await doctorJson(`pick`, other);
    expect(result.exitCode).toBe(1);
    expect(report.message).toBe(`SHADOWED by environment variable PICK_PROVIDER: it selects another provider or entry than capit's — the capped key ${key.name} is not used`);
    expect(report.fixes).toEqual([`make environment variable PICK_PROVIDER select capit's entry again (or install anew: capit openrouter <usd> --agent pick)`]);
    // Both a key that wins and a selector: both named.
    const both = await doctorJson(`pick`, {...other, PICK_USE_CLOUD: `1`});
    expect(both.report.message).toBe(`SHADOWED by environment variable PICK_USE_CLOUD (pick then calls its cloud provider), environment variable PICK_PROVIDER: it selects another provider or entry than capit's — the capped key ${key.name} is not used`);

    const keysBefore = emulator.state.keys.size;
    const refused = await runCli([`run`, `--cap`, `1`, `--agent`, `pick`, `--`, process.execPath, `-e`, `0`], {env: other});
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(`capit: Cannot run pick with a session key: environment variable PICK_PROVIDER: it selects another provider or entry than capit's, so pick would not use the session key; nothing was created\n`);
    expect(emulator.state.keys.size).toBe(keysBefore);
    // Unset, the session's own choice stands.
    const ran = await runCli([`run`, `--cap`, `1`, `--agent`, `pick`, `--`, process.execPath, `-e`, `0`], {env});
    expect(ran.exitCode, ran.stderr).toBe(0);
  });

  it(`a selector without selects, or selects on a key source, is a plugin bug`, async () => {
    const {env} = setup();
    let {result, report} = await doctorJson(`nosel`, env);
    expect(result.exitCode).toBe(0);
    expect(report.status).toBe(`error`);
    expect(report.error).toContain(`env NOSEL_PROVIDER is a selector without selects`);
    ({result, report} = await doctorJson(`keysel`, env));
    expect(report.status).toBe(`error`);
    expect(report.error).toContain(`env KEYSEL_API_KEY has selects but is not a selector source`);
  });
});

describe(`doctor: exit codes and the files the agent reads`, () => {
  it(`installed under a config-dir variable and checked without it: unknown, exit 1, names where capit wrote`, async () => {
    const {env, home} = setup();
    const moved = {...env, PICK_DIR: path.join(home, `alt`)};
    const {key} = await install(moved);
    expect((await doctorJson(`pick`, moved)).report.status).toBe(`capit`);

    const {result, report} = await doctorJson(`pick`, env);
    expect(result.exitCode).toBe(1);
    expect(report.status).toBe(`unknown`);
    expect(report.message).toBe(`capit openrouter key ${key.name} ($5.00 cap) was installed in ~/alt/config.json, but pick now reads other files (the variable that moved its config there is probably unset or changed): the capped key is not used from here; no key found`);
    const text = await runCli([`doctor`, `pick`], {env});
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toBe(`capit: capit cannot tell that the capped key is used by: pick\n`);
    // Without an install, "unknown"/"none" stay exit 0.
    const fresh = setup();
    expect((await doctorJson(`pick`, fresh.env)).result.exitCode).toBe(0);
  });

  it(`a key replaced in the file capit wrote (changed) exits 1`, async () => {
    const {env, config} = setup();
    await install(env);
    editConfig(config, c => { c.key = `sk-or-v1-fake-replaced-1111`; });
    const {result, report} = await doctorJson(`pick`, env);
    expect(report.status).toBe(`changed`);
    expect(result.exitCode).toBe(1);
    expect(result.stdout).not.toContain(`sk-or-v1-fake-replaced-1111`);
  });

  it(`loopback names of one port are the same host, so is a trailing dot; another port or a non-URL is not`, async () => {
    const {env} = setup();
    const {key} = await install(env);
    const base = new URL(emulator.openrouterBaseUrl);
    const at = (host: string, port = base.port) => `${base.protocol}//${host}:${port}${base.pathname}`;
    for (const host of [`localhost`, `127.0.0.1`, `[::1]`, `localhost.`, `LOCALHOST`]) {
      const {result, report} = await doctorJson(`pick`, {...env, PICK_BASE_URL: at(host)});
      expect([host, result.exitCode, report.status]).toEqual([host, 0, `capit`]);
    }
    const otherPort = await doctorJson(`pick`, {...env, PICK_BASE_URL: at(`localhost`, String(Number(base.port) + 1))});
    expect([otherPort.result.exitCode, otherPort.report.status]).toEqual([1, `redirected`]);
    const notUrl = await doctorJson(`pick`, {...env, PICK_BASE_URL: `openrouter.ai/api/v1`});
    expect(notUrl.result.exitCode).toBe(1);
    expect(notUrl.report.message).toBe(`REDIRECTED by environment variable PICK_BASE_URL, which is not a URL: capit cannot tell where requests go — the capped key ${key.name} may not cap them`);
  });
});

describe(`restore with nothing to restore`, () => {
  it(`exits 2 (a user mistake), keeps the message, writes nothing`, async () => {
    const {env, home} = setup();
    const before = fs.readdirSync(home);
    const result = await runCli([`restore`, `pick`, `--yes`], {env});
    expect(result.exitCode).toBe(2);
    expect(result.stderr).toMatch(/^capit: There is no capit backup of pick to restore: capit has not changed pick's files \(backups would be in .*backups[/\\]pick\)\n$/);
    expect(fs.readdirSync(home)).toEqual(before);
  });
});
