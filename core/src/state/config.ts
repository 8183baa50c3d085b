// capit's own settings (today: the top-up ceiling), from the user's `$XDG_CONFIG_HOME/capit/config.json` and the nearest
// project config (`.capitrc*`, `capit.config.*`, package.json#capit), read through cosmiconfig. Loaded only by the
// commands that need a setting, so no other command pays for cosmiconfig.
import fs              from 'node:fs';
import {createRequire} from 'node:module';
import path            from 'node:path';

import {InputError}           from '../errors.js';
import {CONFIG_SEARCH_PLACES, loadEsm, loadTs} from '../plugins/config.js';
import {capitPaths}           from './paths.js';
import type {Env}             from './paths.js';

export interface TopupSettings {
  /** Largest single raise in USD. */
  maxUsd?: number;
  /** Largest total of raises on one key in any 24 hours; defaults to maxUsd when that is set. */
  maxPerDayUsd?: number;
}

/** `capit watch`: when to alert. */
export interface WatchSettings {
  /** Shares of the cap, in percent, that alert once per key and window (default 50, 80, 100). */
  thresholds: number[];
  /** A spike: spend at a pace that would use this share of the cap (percent, default 25)… */
  spikeSharePercent: number;
  /** …within this many minutes (default 10). */
  spikeMinutes: number;
  /** Or spend this many times faster than the key's own median pace (default 5). */
  spikeFactor: number;
}

export const DEFAULT_WATCH_SETTINGS: Readonly<WatchSettings> = {thresholds: [50, 80, 100], spikeSharePercent: 25, spikeMinutes: 10, spikeFactor: 5};

export interface CapitSettings {
  topup: TopupSettings;
  watch: WatchSettings;
  /** The files the top-up settings came from, user config first. */
  files: string[];
}

const requireHere = createRequire(import.meta.url);

export function userConfigPath(env: Env): string {
  return path.join(capitPaths(env).config, `config.json`);
}

/**
 * The settings in force. Where both files set a limit the smaller one wins: a project can tighten the user's ceiling,
 * never loosen it. A file that does not parse or holds a wrong value is refused (exit 2), never ignored.
 */
export function loadCapitSettings(env: Env, cwd: string): CapitSettings {
  const {cosmiconfigSync, defaultLoadersSync} = requireHere(`cosmiconfig`) as typeof import('cosmiconfig');
  // The same loaders as the plugin list in project config (plugins/config.ts): ESM and TypeScript configs too.
  const explorer = cosmiconfigSync(`capit`, {
    searchStrategy: `project`, searchPlaces: CONFIG_SEARCH_PLACES, cache: false,
    loaders: {...defaultLoadersSync, '.js': loadEsm, '.cjs': loadEsm, '.mjs': loadEsm, '.ts': loadTs, '.mts': loadTs},
  });
  const found: {file: string; config: unknown}[] = [];
  const read = (fn: () => {filepath: string; config: unknown; isEmpty?: boolean} | null, where: string) => {
    try {
      const result = fn();
      if (result && !result.isEmpty) found.push({file: result.filepath, config: result.config});
    } catch (error) {
      throw new InputError(`Cannot read capit's config ${where}: ${(error as Error).message.split(`\n`)[0]}`);
    }
  };
  const userFile = userConfigPath(env);
  if (fs.existsSync(userFile)) read(() => explorer.load(userFile), userFile);
  read(() => explorer.search(cwd), `near ${cwd}`);

  const topup: TopupSettings = {};
  const files: string[] = [];
  // capit watch: the nearest file that sets a field wins (project over user); alerts loosen nothing.
  const watch: WatchSettings = {...DEFAULT_WATCH_SETTINGS, thresholds: [...DEFAULT_WATCH_SETTINGS.thresholds]};
  for (const {file, config} of found) {
    const watchSection = (config as {watch?: unknown} | null)?.watch;
    if (watchSection !== undefined) readWatchSection(file, watchSection, watch);
  }
  for (const {file, config} of found) {
    if (files.includes(file)) continue;
    const section = (config as {topup?: unknown} | null)?.topup;
    if (section === undefined) continue;
    files.push(file);
    if (!section || typeof section !== `object`) throw new InputError(`${file}: "topup" must be an object such as {"maxUsd": 20}`);
    for (const field of [`maxUsd`, `maxPerDayUsd`] as const) {
      const value = (section as Record<string, unknown>)[field];
      if (value === undefined) continue;
      if (typeof value !== `number` || !Number.isFinite(value) || value < 0)
        throw new InputError(`${file}: "topup.${field}" must be a dollar amount of 0 or more (got ${JSON.stringify(value)})`);
      topup[field] = Math.min(topup[field] ?? Infinity, value);
    }
  }
  return {topup, watch, files};
}

function readWatchSection(file: string, section: unknown, into: WatchSettings): void {
  if (!section || typeof section !== `object` || Array.isArray(section))
    throw new InputError(`${file}: "watch" must be an object such as {"thresholds": [50, 80, 100]}`);
  const fields = section as Record<string, unknown>;
  const percent = (value: unknown) => typeof value === `number` && Number.isFinite(value) && value > 0 && value <= 1000;
  if (fields.thresholds !== undefined) {
    if (!Array.isArray(fields.thresholds) || !fields.thresholds.every(percent))
      throw new InputError(`${file}: "watch.thresholds" must be a list of percentages of the cap such as [50, 80, 100] (got ${JSON.stringify(fields.thresholds)})`);
    into.thresholds = [...new Set(fields.thresholds as number[])].sort((a, b) => a - b);
  }
  const numbers = {spikeSharePercent: `a percentage of the cap above 0, e.g. 25`, spikeMinutes: `a number of minutes above 0, e.g. 10`, spikeFactor: `a factor above 1, e.g. 5`} as const;
  for (const [field, expected] of Object.entries(numbers) as [keyof typeof numbers, string][]) {
    const value = fields[field];
    if (value === undefined) continue;
    const ok = typeof value === `number` && Number.isFinite(value) && (field === `spikeFactor` ? value > 1 : value > 0);
    if (!ok) throw new InputError(`${file}: "watch.${field}" must be ${expected} (got ${JSON.stringify(value)})`);
    into[field] = value as number;
  }
}
