// `capit agents` / `capit --agents`: every agent plugin, detection from the manifest, config paths, status.
import fs   from 'node:fs';
import path from 'node:path';

import {describe, expect, it} from 'vitest';

import {runCli}               from '../support/cli.js';
import {agentEntry, agentManifest, writePlugin} from '../support/plugins.js';
import {sandboxEnv, tempDir}  from '../support/tmp.js';
import {BUILTIN_AGENT_IDS} from '../support/builtins.js';

function setup() {
  const root = tempDir(`capit-agents-`);
  const env = sandboxEnv(root);
  const bin = path.join(root, `bin`);
  fs.mkdirSync(bin);
  // A fake `opencode` on PATH (executable) and a non-executable `claude`, which must not count.
  fs.writeFileSync(path.join(bin, `opencode`), `#!/bin/sh\n`, {mode: 0o755});
  fs.writeFileSync(path.join(bin, `claude`), `not a program\n`, {mode: 0o644});
  env.PATH = `${bin}${path.delimiter}/usr/bin${path.delimiter}/bin`;
  return {root, env, home: env.HOME!};
}

interface Info {id: string; name: string; detected: boolean; detectedBy: string[]; configPaths: string[] | null; status: string; installed: unknown; error?: string}

describe(`capit agents`, () => {
  it(`lists every built-in agent with detection, this OS's config paths and a status`, async () => {
    const {env, home} = setup();
    fs.mkdirSync(path.join(home, `.windsurf`, `extensions`, `kilocode.kilo-code-7.2.1`), {recursive: true});
    const result = await runCli([`agents`, `--json`, `--all-paths`], {env});
    expect(result.exitCode).toBe(0);
    const agents = JSON.parse(result.stdout) as Info[];
    const byId = Object.fromEntries(agents.map(a => [a.id, a]));
    expect(Object.keys(byId).sort()).toEqual(BUILTIN_AGENT_IDS);
    expect(BUILTIN_AGENT_IDS).toEqual(expect.arrayContaining([`claude`, `cline`, `codex`, `cursor`, `hermes`, `kilo`, `openclaw`, `opencode`, `windsurf`]));

    expect(byId.opencode).toMatchObject({name: `opencode`, detected: true, status: `no capit key installed`, installed: null});
    expect(byId.opencode!.detectedBy[0]).toMatch(/^opencode on PATH \(.*\/bin\/opencode\)$/);
    expect(byId.opencode!.configPaths).toEqual([path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`)]);
    expect(byId.claude!.detected).toBe(false);
    expect(byId.claude!.configPaths).toEqual([path.join(home, `.claude`, `settings.json`)]);

    expect(byId.windsurf).toMatchObject({detected: true, status: `Cascade: no OpenRouter BYOK; extensions: kilo; no capit key installed`});
    expect(byId.windsurf!.configPaths).toEqual([path.join(env.XDG_DATA_HOME!, `kilo`, `auth.json`)]);
    expect(byId.cursor).toMatchObject({detected: false, configPaths: [], status: `Cursor chat: manual steps only (encrypted key store); extensions: none found; no capit key installed`});

    // Without --all-paths only detected agents (and those holding a capit key) have their plugin code imported.
    const byDefault = Object.fromEntries((JSON.parse((await runCli([`agents`, `--json`], {env})).stdout) as Info[]).map(a => [a.id, a]));
    expect(byDefault.opencode!.configPaths).toEqual([path.join(env.XDG_DATA_HOME!, `opencode`, `auth.json`)]);
    expect(byDefault.windsurf!.status).toBe(`Cascade: no OpenRouter BYOK; extensions: kilo; no capit key installed`);
    expect(byDefault.claude).toMatchObject({detected: false, configPaths: null, status: `no capit key installed`});
  });

  it(`--agents is an alias; the human listing shows paths under ~`, async () => {
    const {env} = setup();
    const result = await runCli([`--agents`], {env});
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^opencode {2}opencode — detected\n {10}platforms: openrouter \(.*\)\n {10}cap covers: .*\n {10}config: ~\/\.local\/share\/opencode\/auth\.json\n {10}status: no capit key installed$/m);
    expect(result.stdout).toMatch(/^windsurf {2}Windsurf — not detected\n {10}platforms: .*\n {10}cap covers: .*\n {10}status: no capit key installed$/m);
    const all = await runCli([`--agents`, `--all-paths`], {env});
    expect(all.stdout).toMatch(/^windsurf {2}Windsurf — not detected\n {10}platforms: .*\n {10}cap covers: .*\n {10}status: Cascade: no OpenRouter BYOK; extensions: none found; no capit key installed$/m);
  });

  it(`--no-paths imports no plugin code; a broken plugin is listed with its error, the rest still list`, async () => {
    const {env, root} = setup();
    const plugins = path.join(root, `plugins`);
    writePlugin(plugins, `broken`, {name: `capit-agent-broken`, capit: agentManifest(`broken`, {detect: {paths: [`~/.broken`]}})}, {file: `index.js`, source: `throw new Error('boom at load');`});
    writePlugin(plugins, `fine`, {name: `capit-agent-fine`, capit: agentManifest(`fine`)}, agentEntry(`fine`));
    env.CAPIT_PLUGIN_PATH = plugins;
    fs.mkdirSync(path.join(env.HOME!, `.broken`));

    const full = JSON.parse((await runCli([`agents`, `--json`, `--all-paths`], {env})).stdout) as Info[];
    const broken = full.find(a => a.id === `broken`)!;
    expect(broken).toMatchObject({detected: true, configPaths: null, status: `plugin failed to load`});
    expect(broken.error).toMatch(/^\[plugin:broken\] .*boom at load/);
    expect(full.find(a => a.id === `fine`)!.configPaths).toEqual([path.join(env.HOME!, `.fine`, `auth.json`)]);

    const fast = JSON.parse((await runCli([`agents`, `--json`, `--no-paths`], {env})).stdout) as Info[];
    expect(fast.find(a => a.id === `broken`)).toMatchObject({configPaths: null, status: `no capit key installed`});
    expect(fast.find(a => a.id === `broken`)!.error).toBeUndefined();
  });

  it(`lists 200 agent plugins: --all-paths imports every entry, the default none of the undetected ones`, async () => {
    const {env, root} = setup();
    const plugins = path.join(root, `plugins`);
    for (let i = 0; i < 200; i++)
      writePlugin(plugins, `a${i}`, {name: `capit-agent-a${i}`, capit: agentManifest(`a${i}`, {detect: {bin: `a${i}-bin`, paths: [`~/.a${i}`]}})}, agentEntry(`a${i}`));
    // a7 is "installed" (its detect path exists); importing any other entry would be wasted work by default.
    fs.mkdirSync(path.join(env.HOME!, `.a7`));
    const builtIns = BUILTIN_AGENT_IDS.length;
    env.CAPIT_PLUGIN_PATH = plugins;

    const all = await runCli([`agents`, `--json`, `--all-paths`], {env, timeoutMs: 30_000});
    expect(all.exitCode).toBe(0);
    const listed = JSON.parse(all.stdout) as Info[];
    expect(listed).toHaveLength(200 + builtIns);
    expect(listed.filter(a => a.id.startsWith(`a`) && a.configPaths?.length === 1)).toHaveLength(200);

    const byDefault = JSON.parse((await runCli([`agents`, `--json`], {env, timeoutMs: 30_000})).stdout) as Info[];
    expect(byDefault).toHaveLength(200 + builtIns);
    expect(byDefault.filter(a => a.id.startsWith(`a`) && a.configPaths !== null).map(a => a.id)).toEqual([`a7`]);
  });
});
