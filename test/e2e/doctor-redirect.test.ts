// Base-URL sources (REDIRECTED) and flavours, through fixture agent plugins and the real CLI: doctor's verdicts, exit
// codes and --json, the install's warnings, `capit why` and `capit run`'s refusal. Never prints a key, nor a base URL
// beyond its origin.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {emulatorPerFile} from '../support/emulator.js';

import {runCli}                    from '../support/cli.js';
import {agentManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir}       from '../support/tmp.js';

const MASTER = `sk-or-v1-mgmt-fake-0000`;
const emulator = emulatorPerFile({port: 0});

// `relay`: one flavour. A "custom provider" switch (any value redirects), a base-URL variable over a base URL in its
// settings file, then a key variable over the file capit writes.
const RELAY = `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: 'relay',
  files: ({home}) => [{id: 'auth', path: path.join(home, '.relay', 'auth.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({secret}) => ({edits: [{file: 'auth', op: 'set', path: ['key'], value: secret}]}),
  keySources: ({home}) => [
    {kind: 'env', name: 'RELAY_CUSTOM_URL', role: 'baseUrl', redirectsWhenSet: true, note: 'switches relay to its custom provider'},
    {kind: 'env', name: 'RELAY_BASE_URL', role: 'baseUrl'},
    {kind: 'file', path: path.join(home, '.relay', 'settings.json'), format: 'json', at: ['baseUrl'], role: 'baseUrl'},
    {kind: 'env', name: 'RELAY_API_KEY'},
    {kind: 'file', path: path.join(home, '.relay', 'auth.json'), format: 'json', at: ['key'], installs: true},
  ],
  sessionEnv: ({secret}) => ({env: {RELAY_SESSION_KEY: secret}, beatenBy: [{kind: 'env', name: 'RELAY_BASE_URL', role: 'baseUrl'}]}),
};
`;

// `duo`: two flavours reading different files (like Cline's CLI and its IDE extension); capit writes both.
const DUO = `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: 'duo',
  files: ({home}) => [
    {id: 'cli', path: path.join(home, '.duo', 'cli.json'), format: 'json', secret: true},
    {id: 'ide', path: path.join(home, '.duo', 'ide.json'), format: 'json', secret: true},
  ],
  supports: () => true,
  plan: ({secret}) => ({edits: [{file: 'cli', op: 'set', path: ['key'], value: secret}, {file: 'ide', op: 'set', path: ['key'], value: secret}]}),
  keySources: ({home}) => [
    {kind: 'env', name: 'DUO_BASE_URL', role: 'baseUrl', flavour: 'Duo CLI'},
    {kind: 'file', path: path.join(home, '.duo', 'cli.json'), format: 'json', at: ['key'], installs: true, flavour: 'Duo CLI'},
    {kind: 'file', path: path.join(home, '.duo', 'ide-secrets.json'), format: 'json', at: ['key'], flavour: 'Duo extension'},
    {kind: 'file', path: path.join(home, '.duo', 'ide.json'), format: 'json', at: ['key'], installs: true, flavour: 'Duo extension'},
  ],
};
`;

// `entry`: capit writes one whole entry (key and base URL together), like a model list it creates; the key source and
// the base-URL source lie inside that value.
const ENTRY = `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: 'entry',
  files: ({home}) => [{id: 'cfg', path: path.join(home, '.entry', 'config.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({secret, platform}) => ({edits: [{file: 'cfg', op: 'set', path: ['models'], value: [{name: 'capit', apiKey: secret, apiBase: platform.inferenceBaseUrls.openai}]}]}),
  keySources: ({home}) => [
    {kind: 'file', path: path.join(home, '.entry', 'config.json'), format: 'json', at: ['models', 0, 'apiBase'], role: 'baseUrl'},
    {kind: 'file', path: path.join(home, '.entry', 'config.json'), format: 'json', at: ['models', 0, 'apiKey'], installs: true},
  ],
};
`;

// `bogus`: redirectsWhenSet on a key source is a plugin bug.
const BOGUS = `
import path from 'node:path';
export default {
  apiVersion: 1, kind: 'agent', id: 'bogus',
  files: ({home}) => [{id: 'auth', path: path.join(home, '.bogus', 'auth.json'), format: 'json', secret: true}],
  supports: () => true,
  plan: ({secret}) => ({edits: [{file: 'auth', op: 'set', path: ['key'], value: secret}]}),
  keySources: ({home}) => [
    {kind: 'env', name: 'BOGUS_API_KEY', redirectsWhenSet: true},
    {kind: 'file', path: path.join(home, '.bogus', 'auth.json'), format: 'json', at: ['key'], installs: true},
  ],
};
`;

interface Verdict {status: string; message: string; shadowedBy: string[]; redirectedBy: string | null; redirectedTo: string | null; fixes: string[]}
interface Report extends Verdict {agent: string; flavours: (Verdict & {flavour: string})[]; sources: {label: string; role: string; flavour: string | null; origin: string | null; present: boolean; unreadable: boolean}[]; error?: string}

function setup() {
  const root = tempDir(`capit-redirect-`);
  const env = sandboxEnv(root, {CAPIT_OPENROUTER_BASE_URL: emulator.openrouterBaseUrl, OPENROUTER_MANAGEMENT_KEY: MASTER, TZ: `UTC`});
  const plugins = path.join(root, `plugins`);
  for (const [id, source] of [[`relay`, RELAY], [`duo`, DUO], [`entry`, ENTRY], [`bogus`, BOGUS]] as const)
    writePlugin(plugins, id, {name: `capit-agent-${id}`, capit: agentManifest(id)}, {file: `index.js`, source});
  env.CAPIT_PLUGIN_PATH = plugins;
  env.PATH = `/usr/bin${path.delimiter}/bin`;
  const home = env.HOME!;
  // Where the platform's inference requests go (the emulator), as doctor names it.
  const platformHost = new URL(emulator.openrouterBaseUrl).host;
  return {env, home, platformHost};
}

async function install(agent: string, env: Record<string, string>) {
  const before = new Set(emulator.state.keys.keys());
  const result = await runCli([`openrouter`, `5`, `--agent`, agent, `--yes`], {env});
  expect(result.exitCode, result.stderr).toBe(0);
  return {result, key: [...emulator.state.keys.values()].find(k => !before.has(k.hash))!};
}

async function doctorJson(agent: string, env: Record<string, string>) {
  const result = await runCli([`doctor`, agent, `--json`], {env});
  return {result, report: (JSON.parse(result.stdout) as Report[])[0]!};
}

describe(`doctor: base-URL sources (REDIRECTED)`, () => {
  it(`a base URL naming another host redirects; same origin does not; only the origin is ever shown`, async () => {
    const {env, platformHost} = setup();
    const {key} = await install(`relay`, env);

    let {result, report} = await doctorJson(`relay`, env);
    expect(result.exitCode).toBe(0);
    expect(report).toMatchObject({status: `capit`, redirectedBy: null, redirectedTo: null, flavours: [], fixes: []});

    // Another host (with userinfo, a path and a query that must never be printed): REDIRECTED, exit 1.
    const elsewhere = {...env, RELAY_BASE_URL: `http://someone:hunter2@localhost:4000/v1?token=abc`};
    const text = await runCli([`doctor`, `relay`], {env: elsewhere});
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe(
      `relay  REDIRECTED by environment variable RELAY_BASE_URL → requests go to http://localhost:4000, not ${platformHost} — the capped key ${key.name} does not cap them\n` +
      `       unset environment variable RELAY_BASE_URL, or point it at ${platformHost}, for relay to send its requests there\n`);
    expect(text.stderr).toBe(`capit: requests do not go to the capped key's platform for: relay\n`);
    ({result, report} = await doctorJson(`relay`, elsewhere));
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedBy: `environment variable RELAY_BASE_URL`, redirectedTo: `http://localhost:4000`, shadowedBy: []});
    expect(report.sources.find(s => s.label === `environment variable RELAY_BASE_URL`)).toMatchObject({role: `baseUrl`, present: true, origin: `http://localhost:4000`});
    for (const out of [text.stdout + text.stderr, result.stdout]) expect(out).not.toMatch(/hunter2|someone|token=abc|\/v1\?/);
    expect(result.stdout).not.toContain(key.key);

    // The platform's own origin (another path, a trailing slash) is not a redirect.
    ({result, report} = await doctorJson(`relay`, {...env, RELAY_BASE_URL: `${emulator.openrouterBaseUrl}/`}));
    expect(result.exitCode).toBe(0);
    expect(report.status).toBe(`capit`);

    // A value that is not a URL: capit cannot tell where requests go, so it does not vouch.
    ({result, report} = await doctorJson(`relay`, {...env, RELAY_BASE_URL: `localhost-4000`}));
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedBy: `environment variable RELAY_BASE_URL`, redirectedTo: null});
    expect(report.message).toBe(`REDIRECTED by environment variable RELAY_BASE_URL, which is not a URL: capit cannot tell where requests go — the capped key ${key.name} may not cap them`);
    expect(result.stdout).not.toContain(`localhost-4000`);
  });

  it(`a base URL in a file redirects; the first one set decides; redirectsWhenSet redirects whatever it names`, async () => {
    const {env, home, platformHost} = setup();
    const {key} = await install(`relay`, env);
    const settings = path.join(home, `.relay`, `settings.json`);
    fs.writeFileSync(settings, JSON.stringify({baseUrl: `https://proxy.example.test:8443/api`}));

    let {result, report} = await doctorJson(`relay`, env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedBy: `~/.relay/settings.json (baseUrl)`, redirectedTo: `https://proxy.example.test:8443`});

    // A higher-precedence variable naming the platform wins over the file: requests go to the platform.
    ({result, report} = await doctorJson(`relay`, {...env, RELAY_BASE_URL: emulator.openrouterBaseUrl}));
    expect(result.exitCode).toBe(0);
    expect(report.status).toBe(`capit`);

    // The custom-provider switch sends requests away even when it names the platform's host.
    fs.rmSync(settings);
    ({result, report} = await doctorJson(`relay`, {...env, RELAY_CUSTOM_URL: emulator.openrouterBaseUrl}));
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedBy: `environment variable RELAY_CUSTOM_URL`});
    expect(report.message).toBe(`REDIRECTED by environment variable RELAY_CUSTOM_URL (switches relay to its custom provider): any value sends requests away from ${platformHost} — the capped key ${key.name} does not cap them`);
  });

  it(`shadowed and redirected at once: status redirected, the message and the fixes name both`, async () => {
    const {env, platformHost} = setup();
    const {key} = await install(`relay`, env);
    const both = {...env, RELAY_BASE_URL: `http://localhost:4000`, RELAY_API_KEY: `sk-or-v1-fake-other-1111`};
    const text = await runCli([`doctor`, `relay`], {env: both});
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe(
      `relay  REDIRECTED by environment variable RELAY_BASE_URL → requests go to http://localhost:4000, not ${platformHost} — the capped key ${key.name} does not cap them; also SHADOWED by environment variable RELAY_API_KEY\n` +
      `       unset environment variable RELAY_BASE_URL, or point it at ${platformHost}, for relay to send its requests there\n` +
      `       unset or remove that value for relay to use the capped key\n`);
    expect(text.stderr).toBe(`capit: the capped key is not used by: relay\ncapit: requests do not go to the capped key's platform for: relay\n`);
    expect(text.stdout + text.stderr).not.toContain(`sk-or-v1-fake-other-1111`);
    const {report} = await doctorJson(`relay`, both);
    expect(report).toMatchObject({status: `redirected`, shadowedBy: [`environment variable RELAY_API_KEY`], redirectedBy: `environment variable RELAY_BASE_URL`});
  });

  it(`the install warns about a redirecting base URL; why names its own class; capit run refuses`, async () => {
    const {env, platformHost} = setup();
    const elsewhere = {...env, RELAY_BASE_URL: `http://localhost:4000/v1`};
    const {result, key} = await install(`relay`, elsewhere);
    expect(result.stderr).toContain(`warning: environment variable RELAY_BASE_URL → requests go to http://localhost:4000, not ${platformHost} — relay sends its requests there, where the cap does not apply\n`);
    const json = await runCli([`openrouter`, `5`, `--agent`, `relay`, `--yes`, `--json`], {env: elsewhere});
    expect((JSON.parse(json.stdout) as {warnings: string[]}).warnings).toEqual([`environment variable RELAY_BASE_URL → requests go to http://localhost:4000, not ${platformHost} — relay sends its requests there, where the cap does not apply`]);

    const probes = () => emulator.state.requests.filter(r => r.path === `/api/v1/key`).length;
    const probesBefore = probes();
    const why = await runCli([`why`, `relay`, `--json`], {env: elsewhere});
    expect(why.exitCode).toBe(1);
    const [verdict] = JSON.parse(why.stdout) as {class: string; summary: string; fix: string; doctor: string}[];
    expect(verdict).toMatchObject({class: `other-host`, doctor: `redirected`, fix: `unset or remove environment variable RELAY_BASE_URL`});
    expect(verdict!.summary).toBe(`environment variable RELAY_BASE_URL sends relay's requests to http://localhost:4000, not to openrouter: the capped key does not cap them`);
    // Not probed: the key's state says nothing about requests that go elsewhere.
    expect(probes()).toBe(probesBefore);
    expect(why.stdout).not.toContain(key.key);

    const posts = () => emulator.state.requests.filter(r => r.method === `POST`).length;
    const before = posts();
    const refused = await runCli([`run`, `--cap`, `1`, `--agent`, `relay`, `--`, process.execPath, `-e`, `0`], {env: elsewhere});
    expect(refused.exitCode).toBe(2);
    expect(refused.stderr).toBe(`capit: Cannot run relay with a session key: environment variable RELAY_BASE_URL → requests go to http://localhost:4000, not ${platformHost}, so relay's requests would not go to ${platformHost}; nothing was created\n`);
    expect(posts()).toBe(before);
    // The platform's own origin in that variable does not stop the session.
    const same = await runCli([`run`, `--cap`, `1`, `--agent`, `relay`, `--`, process.execPath, `-e`, `0`], {env: {...env, RELAY_BASE_URL: emulator.openrouterBaseUrl}});
    expect(same.exitCode, same.stderr).toBe(0);
  });

  it(`inside a whole entry capit wrote, only the key's own leaf decides "changed": a user's new apiBase is REDIRECTED`, async () => {
    const {env, home} = setup();
    const {key} = await install(`entry`, env);
    const file = path.join(home, `.entry`, `config.json`);
    expect((await doctorJson(`entry`, env)).report.status).toBe(`capit`);

    const config = JSON.parse(fs.readFileSync(file, `utf8`));
    config.models[0].apiBase = `https://elsewhere.example/v1`;
    config.models[0].name = `renamed by the user`;
    fs.writeFileSync(file, JSON.stringify(config));
    const {result, report} = await doctorJson(`entry`, env);
    expect(result.exitCode).toBe(1);
    expect(report).toMatchObject({status: `redirected`, redirectedTo: `https://elsewhere.example`});

    // The key itself replaced: that is "changed", whatever else the entry holds.
    config.models[0].apiKey = `sk-or-v1-fake-hand-edited-8888`;
    fs.writeFileSync(file, JSON.stringify(config));
    const changed = await doctorJson(`entry`, env);
    expect(changed.report.status).toBe(`changed`);
    expect(changed.result.exitCode).toBe(1);
    expect(changed.result.stdout).not.toContain(key.key);
  });

  it(`a plugin declaring redirectsWhenSet on a key source is reported as a plugin bug`, async () => {
    const {env} = setup();
    const {result, report} = await doctorJson(`bogus`, env);
    expect(result.exitCode).toBe(0);
    expect(report.status).toBe(`error`);
    expect(report.error).toBe(`[plugin:bogus] keySources() is not a valid declaration: env BOGUS_API_KEY has redirectsWhenSet but is not a base-URL source (add role: 'baseUrl', or drop redirectsWhenSet)`);

    // With a capit key installed, a plugin doctor cannot check cannot show that key in use: exit 1.
    await install(`bogus`, env);
    const after = await doctorJson(`bogus`, env);
    expect(after.report.status).toBe(`error`);
    expect(after.result.exitCode).toBe(1);
    const text = await runCli([`doctor`, `bogus`], {env});
    expect(text.exitCode).toBe(1);
    expect(text.stderr).toContain(`capit: capit cannot tell that the capped key is used by: bogus`);
  });
});

describe(`doctor: flavours`, () => {
  it(`judges each flavour on its own sources, says which one, exits 1 on the worst`, async () => {
    const {env, home, platformHost} = setup();
    const {key} = await install(`duo`, env);
    const cap = `$5.00 cap`;

    let text = await runCli([`doctor`, `duo`], {env});
    expect(text.exitCode).toBe(0);
    expect(text.stdout).toBe(`duo  Duo CLI: uses capit key ${key.name} (${cap}) from ~/.duo/cli.json (key); Duo extension: uses capit key ${key.name} (${cap}) from ~/.duo/ide.json (key)\n`);

    // The extension's own secrets file wins for the extension only.
    fs.writeFileSync(path.join(home, `.duo`, `ide-secrets.json`), JSON.stringify({key: `sk-or-v1-fake-ide-2222`}));
    text = await runCli([`doctor`, `duo`], {env});
    expect(text.exitCode).toBe(1);
    expect(text.stdout).toBe(
      `duo  Duo CLI: uses capit key ${key.name} (${cap}) from ~/.duo/cli.json (key); Duo extension: SHADOWED by ~/.duo/ide-secrets.json (key) — the capped key ${key.name} is not used\n` +
      `     Duo extension: unset or remove that value for duo to use the capped key\n`);
    expect(text.stderr).toBe(`capit: the capped key is not used by: duo\n`);
    let {report} = await doctorJson(`duo`, env);
    expect(report.status).toBe(`shadowed`);
    expect(report.flavours.map(f => [f.flavour, f.status])).toEqual([[`Duo CLI`, `capit`], [`Duo extension`, `shadowed`]]);
    expect(report.sources.map(s => s.flavour)).toEqual([`Duo CLI`, `Duo CLI`, `Duo extension`, `Duo extension`]);

    // The CLI's base URL sends it elsewhere: the worst verdict (redirected) is the agent's.
    const elsewhere = {...env, DUO_BASE_URL: `http://localhost:4000`};
    ({report} = await doctorJson(`duo`, elsewhere));
    expect(report.status).toBe(`redirected`);
    expect(report.flavours.map(f => [f.flavour, f.status, f.redirectedTo])).toEqual([[`Duo CLI`, `redirected`, `http://localhost:4000`], [`Duo extension`, `shadowed`, null]]);
    expect(report).toMatchObject({redirectedBy: `environment variable DUO_BASE_URL`, redirectedTo: `http://localhost:4000`, shadowedBy: [`~/.duo/ide-secrets.json (key)`]});

    // The install warns per flavour, naming the flavour each line is about.
    const again = await install(`duo`, elsewhere);
    expect(again.result.stderr).toContain(`warning: Duo CLI: environment variable DUO_BASE_URL → requests go to http://localhost:4000, not ${platformHost} — duo sends its requests there, where the cap does not apply\n`);
    expect(again.result.stderr).toContain(`warning: Duo extension: ${path.join(home, `.duo`, `ide-secrets.json`)} (key) is set and wins over what capit wrote — duo may not use the capped key\n`);
    expect(again.result.stdout + again.result.stderr).not.toContain(`sk-or-v1-fake-ide-2222`);
  });

  it(`rotate refuses when one flavour's file no longer holds capit's key, even when another flavour's verdict is worse`, async () => {
    const {env, home} = setup();
    const {key} = await install(`duo`, env);
    const ide = path.join(home, `.duo`, `ide.json`);
    const own = JSON.stringify({key: `sk-or-v1-fake-users-own-3333`});
    fs.writeFileSync(ide, own);
    const elsewhere = {...env, DUO_BASE_URL: `http://localhost:4000`};
    const {report} = await doctorJson(`duo`, elsewhere);
    expect(report.flavours.map(f => [f.flavour, f.status])).toEqual([[`Duo CLI`, `redirected`], [`Duo extension`, `changed`]]);
    expect(report.status).toBe(`redirected`);
    const rotated = await runCli([`rotate`, `duo`, `--yes`], {env: elsewhere});
    expect(rotated.exitCode).toBe(1);
    expect(rotated.stderr).toContain(`no longer hold its capit key "${key.name}"`);
    expect(fs.readFileSync(ide, `utf8`)).toBe(own);
  });
});
