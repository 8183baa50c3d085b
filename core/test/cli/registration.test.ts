// A run registers only the commands its first word reaches (main.ts buildCli); the others are still known by their
// words, so parsing the targeted command, group help and the suggestions for unknown words behave as with all of them.
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {afterAll, describe, expect, it} from 'vitest';

import {buildCli, discover} from '../../src/main.js';

const root = fs.mkdtempSync(path.join(os.tmpdir(), `capit-registration-`));
afterAll(() => fs.rmSync(root, {recursive: true, force: true}));
const home = path.join(root, `home`);
fs.mkdirSync(home);
const env = {HOME: home, CAPIT_HOME: path.join(root, `capit`), XDG_CONFIG_HOME: path.join(home, `.config`), NO_COLOR: `1`};
const plugins = discover(env, home);
const context = {env, cwd: home, plugins} as never;

describe(`registration of the targeted command only`, () => {
  it(`registers one group and knows every first word`, () => {
    const all = buildCli(plugins, false, `all`, `all`);
    const keysOnly = buildCli(plugins, false, [], [`keys`]);
    expect(keysOnly.commandClasses.length).toBeLessThan(all.commandClasses.length);
    expect(keysOnly.commandClasses.some(c => (c.paths ?? []).some(p => p[0] === `agents`))).toBe(false);
    expect([...keysOnly.topWords()].sort()).toEqual([...all.topWords()].sort());
  });

  it(`parses the targeted group's commands as the full CLI does`, () => {
    const argv = [`keys`, `delete`, `capit-*`, `--platform`, `openrouter`, `--yes`];
    const full = buildCli(plugins, false, `all`, `all`).process(argv, context) as unknown as Record<string, unknown>;
    const only = buildCli(plugins, false, [], [`keys`]).process(argv, context) as unknown as Record<string, unknown>;
    expect(only.constructor).toBe(full.constructor);
    expect({platform: only.platform, yes: only.yes}).toEqual({platform: full.platform, yes: full.yes});
  });

  it(`gives the same group help and the same suggestion for a mistyped word`, () => {
    const full = buildCli(plugins, false, `all`, `all`);
    const only = buildCli(plugins, false, [], [`keys`]);
    expect(only.helpFor([`keys`], false)).toBe(full.helpFor([`keys`], false));
    expect(only.unknownWordError(`agnets`).message).toBe(full.unknownWordError(`agnets`).message);
    expect(only.unknownWordError(`openrouer`).message).toBe(full.unknownWordError(`openrouer`).message);
  });

  it(`registers only the named platform among the platforms`, () => {
    const cli = buildCli(plugins, false, [`openrouter`], []);
    const platformPaths = cli.commandClasses.flatMap(c => c.paths ?? []).filter(p => plugins.platforms.some(q => q.manifest.id === p[0]));
    expect(new Set(platformPaths.map(p => p[0]))).toEqual(new Set([`openrouter`]));
  });
});
