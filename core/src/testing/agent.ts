// describeAgentConformance: the checks every agent plugin must pass, as a vitest suite. Built-ins and third-party
// agents run the same suite: `describeAgentConformance(agent)` in a test file.
import {execFileSync, spawn} from 'node:child_process';
import fs   from 'node:fs';
import os   from 'node:os';
import path from 'node:path';

import {describe, expect, it, vi} from 'vitest';

import {configReader} from '../files/config-reader.js';
import {keySourceProblems} from '../plugins/key-sources.js';
import type {AgentDefinition, AgentEnvironment, AgentFile, FileEdit, InferenceBaseUrls, PlanInput, SessionEnv} from '../plugin.js';

export interface AgentConformanceOptions {
  /** Platform ids to plan for (default: `openrouter` and `aihubmix`); unsupported ones are skipped for plan(). */
  platforms?: string[];
  /** Inference base URLs handed to plan() (default: OpenRouter-style URLs on example.test). */
  baseUrls?: InferenceBaseUrls;
  /** Extra environment variables set in every simulated machine (e.g. to exercise an override). */
  env?: Record<string, string>;
  /** Values `read()` returns while planning, by `<fileId>:<json path>`; everything else reads as absent. */
  existing?: Record<string, unknown>;
}

/**
 * The install time handed to plan() (`PlanInput.now`): fixed, so "same input, same plan" holds for an agent that
 * records it. The kit plans twice with the machine's clock set to two other times: a plan that reads the clock
 * instead of `now` fails the determinism check.
 */
export const CONFORMANCE_NOW = `2026-01-02T03:04:05.000Z`;
const CLOCK_AT_FIRST_PLAN = `2031-05-06T07:08:09.000Z`;
const CLOCK_AT_SECOND_PLAN = `2032-10-11T12:13:14.000Z`;

/** Runs `fn` with only `Date` faked at `time` (timers stay real: a plan has none, other checks may). */
function atClock<T>(time: string, fn: () => T): T {
  vi.useFakeTimers({toFake: [`Date`]});
  vi.setSystemTime(new Date(time));
  try {
    return fn();
  } finally {
    vi.useRealTimers();
  }
}

/** The placeholder used instead of a real key; plan() must put it somewhere. */
export const PLACEHOLDER_SECRET = `sk-capit-conformance-placeholder-0123456789`;

const FORMATS = new Set([`json`, `jsonc`, `dotenv`, `yaml`, `toml`]);
// Formats capit reads but never edits (key sources only).
const READ_FORMATS = new Set([...FORMATS, `json5`]);

function deepFreeze<T>(value: T): T {
  if (value && typeof value === `object` && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Simulated machines: the same user on Linux, macOS and Windows. */
export function conformanceEnvironments(extraEnv: Record<string, string> = {}): AgentEnvironment[] {
  return [
    {platform: `linux`, home: `/home/ada`, cwd: `/home/ada/project`, env: {HOME: `/home/ada`, ...extraEnv}},
    {platform: `darwin`, home: `/Users/ada`, cwd: `/Users/ada/project`, env: {HOME: `/Users/ada`, ...extraEnv}},
    {platform: `win32`, home: `C:\\Users\\ada`, cwd: `C:\\Users\\ada\\project`, env: {
      USERPROFILE: `C:\\Users\\ada`, APPDATA: `C:\\Users\\ada\\AppData\\Roaming`, LOCALAPPDATA: `C:\\Users\\ada\\AppData\\Local`, ...extraEnv,
    }},
  ].map(e => deepFreeze(e as AgentEnvironment));
}

function isAbsoluteFor(platform: NodeJS.Platform, file: string): boolean {
  return platform === `win32` ? path.win32.isAbsolute(file) && /^[a-zA-Z]:[\\/]|^\\\\/.test(file) : path.posix.isAbsolute(file);
}

function containsValue(value: unknown, needle: string): boolean {
  if (typeof value === `string`) return value.includes(needle);
  if (value && typeof value === `object`) return Object.values(value).some(v => containsValue(v, needle));
  return false;
}

function planInput(def: AgentDefinition, platformId: string, opts: AgentConformanceOptions, reads?: string[]): PlanInput {
  const baseUrls = opts.baseUrls ?? {openai: `https://example.test/api/v1`, anthropic: `https://example.test/api`};
  return deepFreeze({
    platform: {id: platformId, displayName: platformId, inferenceBaseUrls: baseUrls},
    secret: PLACEHOLDER_SECRET,
    keyName: `${def.id}-0a1b2c3d`,
    now: new Date(CONFORMANCE_NOW),
    read: (file: string, at: readonly (string | number)[]) => {
      reads?.push(file);
      return opts.existing?.[`${file}:${at.join(`.`)}`];
    },
  });
}

/** What core would hand the agent's other members on this machine: its `detect()` result, frozen (or `undefined`). */
async function detection(def: AgentDefinition, envInfo: AgentEnvironment): Promise<unknown> {
  return typeof def.detect === `function` ? deepFreeze(await def.detect(envInfo, configReader())) : undefined;
}

/**
 * What is wrong with a `sessionEnv()` answer given {@link PLACEHOLDER_SECRET} as the secret (empty = nothing): a refusal
 * must be a non-empty reason without the secret; variables must have valid names and string values, carry the secret
 * in some value and nowhere else; `beatenBy` sources must be well formed and never hold the secret.
 */
export function sessionEnvProblems(answer: SessionEnv | string, platform: NodeJS.Platform): string[] {
  const problems: string[] = [];
  if (typeof answer === `string`) {
    if (answer.trim() === ``) problems.push(`the refusal reason is empty`);
    if (answer.includes(PLACEHOLDER_SECRET)) problems.push(`the refusal reason contains the secret`);
    return problems;
  }
  if (!answer || typeof answer !== `object` || !answer.env || typeof answer.env !== `object`) return [`not {env, beatenBy?} or a reason string`];
  const entries = Object.entries(answer.env);
  if (entries.length === 0) problems.push(`sets no variable`);
  for (const [name, value] of entries) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) problems.push(`variable name ${JSON.stringify(name.split(PLACEHOLDER_SECRET).join(`<secret>`))} is not a valid name`);
    if (typeof value !== `string`) problems.push(`${name} is not a string`);
  }
  if (!entries.some(([, value]) => typeof value === `string` && value.includes(PLACEHOLDER_SECRET))) problems.push(`no variable carries the secret`);
  problems.push(...keySourceProblems(answer.beatenBy ?? []).map(p => `beatenBy: ${p}`));
  for (const source of answer.beatenBy ?? []) {
    if (JSON.stringify(source).includes(PLACEHOLDER_SECRET)) problems.push(`a beatenBy source contains the secret`);
    if (source.kind === `file`) {
      if (!isAbsoluteFor(platform, source.path)) problems.push(`beatenBy ${source.path} is not absolute on ${platform}`);
      if (!READ_FORMATS.has(source.format)) problems.push(`beatenBy ${source.path} has unknown format ${source.format}`);
      if (!Array.isArray(source.at) || source.at.length === 0) problems.push(`beatenBy ${source.path} has no path inside the file`);
    } else if (source.kind === `env`) {
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(source.name)) problems.push(`beatenBy env ${source.name} is not a valid name`);
    } else problems.push(`beatenBy has a source of unknown kind`);
  }
  return problems;
}

/** Registers a vitest suite checking that an agent plugin is pure, deterministic and self-consistent. */
export function describeAgentConformance(def: AgentDefinition, opts: AgentConformanceOptions = {}): void {
  const platforms = opts.platforms ?? [`openrouter`, `aihubmix`];
  const envs = conformanceEnvironments(opts.env);

  describe(`agent conformance: ${def?.id ?? `(no id)`}`, () => {
    it(`declares itself as an agent of a supported API version`, () => {
      expect(def.kind).toBe(`agent`);
      expect(def.id).toMatch(/^[a-z][a-z0-9-]{1,31}$/);
      expect(def.apiVersion).toBe(1);
      for (const fn of [`files`, `supports`, `plan`] as const) expect(typeof def[fn], `${fn}()`).toBe(`function`);
    });

    it(`supports() answers true or a reason for every platform, including unknown ones`, () => {
      for (const platformId of [...platforms, `no-such-platform`]) {
        const answer = def.supports(platformId);
        if (answer !== true) {
          expect(typeof answer, `supports(${platformId})`).toBe(`string`);
          expect((answer as string).trim().length, `supports(${platformId}) reason`).toBeGreaterThan(0);
        }
      }
    });

    if (def.detect !== undefined) {
      it(`detect() is a function that answers the same plain data twice on every OS`, async () => {
        expect(typeof def.detect, `detect`).toBe(`function`);
        for (const envInfo of envs) {
          const first = await def.detect!(envInfo, configReader());
          expect(structuredClone(first), `detect() on ${envInfo.platform} returns plain data`).toEqual(first);
          expect(await def.detect!(envInfo, configReader()), `detect() on ${envInfo.platform} is deterministic`).toEqual(first);
        }
      });

      it(`detect() only reads: a real, empty home stays empty`, async () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), `capit-detect-`));
        try {
          const envInfo = deepFreeze({platform: process.platform, home, cwd: home, env: {HOME: home, USERPROFILE: home, ...opts.env}} as AgentEnvironment);
          await def.detect!(envInfo, configReader());
          expect(fs.readdirSync(home), `detect() created files under HOME`).toEqual([]);
        } finally {
          fs.rmSync(home, {recursive: true, force: true});
        }
      });

      // A plugin that opens a config file itself instead of going through `read` hangs on a FIFO (and cannot even be
      // stopped with SIGTERM while the read blocks): every file it configures, made a FIFO, must not stop detect().
      it.skipIf(process.platform === `win32`)(`detect() reads config files only through core: a FIFO in their place does not block it`, async () => {
        const home = fs.mkdtempSync(path.join(os.tmpdir(), `capit-detect-`));
        try {
          const envInfo = deepFreeze({platform: process.platform, home, cwd: home, env: {HOME: home, USERPROFILE: home, ...opts.env}} as AgentEnvironment);
          const fifos = def.files(envInfo, await def.detect!(envInfo, configReader())).map(f => f.path).filter(p => p.startsWith(home));
          for (const fifo of fifos) {
            fs.mkdirSync(path.dirname(fifo), {recursive: true});
            execFileSync(`mkfifo`, [fifo]);
          }
          // A blocking read stalls this whole process, timers included, so a separate process opens each FIFO for
          // writing after 2 s (which ends such a read); a detect() that took that long was blocked.
          const unblock = spawn(`sh`, [`-c`, `sleep 2; for f in "$@"; do (: > "$f") & done; sleep 3`, `sh`, ...fifos], {stdio: `ignore`});
          const started = Date.now();
          try {
            await def.detect!(envInfo, configReader());
          } finally {
            unblock.kill(`SIGKILL`);
          }
          expect(Date.now() - started, `detect() blocked on a FIFO: read config files through the reader core passes`).toBeLessThan(1_500);
        } finally {
          fs.rmSync(home, {recursive: true, force: true});
        }
      }, 10_000);
    }

    for (const envInfo of envs) {
      it(`files() gives absolute paths with known formats and unique ids on ${envInfo.platform}`, async () => {
        const detected = await detection(def, envInfo);
        const files = def.files(envInfo, detected);
        expect(Array.isArray(files)).toBe(true);
        // An agent with a detect step may find nothing to configure on a bare machine (e.g. no IDE extension).
        if (def.detect === undefined) expect(files.length).toBeGreaterThan(0);
        for (const file of files) {
          expect(isAbsoluteFor(envInfo.platform, file.path), `${file.id}: ${file.path} is absolute on ${envInfo.platform}`).toBe(true);
          expect(FORMATS.has(file.format), `${file.id}: format ${file.format}`).toBe(true);
          expect(typeof file.secret).toBe(`boolean`);
          expect(file.id).toMatch(/^[\w.-]+$/);
        }
        expect(new Set(files.map(f => f.id)).size, `file ids are unique`).toBe(files.length);
        expect(def.files(envInfo, detected), `files() is deterministic`).toEqual(files);
      });
    }

    const supported = platforms.filter(p => def.supports(p) === true);
    it(`supports at least one of ${platforms.join(`, `)}`, () => {
      expect(supported.length).toBeGreaterThan(0);
    });

    for (const platformId of supported) {
      for (const envInfo of envs) {
        it(`plan() for ${platformId} on ${envInfo.platform} only edits declared files, installs the secret and is deterministic`, async () => {
          const detected = await detection(def, envInfo);
          const files: AgentFile[] = def.files(envInfo, detected);
          const ids = new Set(files.map(f => f.id));
          const reads: string[] = [];
          // Frozen inputs: a plan that mutates its input (or the env) throws here instead of misbehaving later.
          const plan = atClock(CLOCK_AT_FIRST_PLAN, () => def.plan(planInput(def, platformId, opts, reads), envInfo, detected));
          expect(Array.isArray(plan.edits)).toBe(true);
          // With a detect step, "nothing found" may honestly plan no edits (core then creates no key).
          if (def.detect === undefined || files.length > 0) expect(plan.edits.length, `plan() has edits`).toBeGreaterThan(0);
          for (const edit of plan.edits as FileEdit[]) {
            expect(ids.has(edit.file), `edit targets declared file "${edit.file}" (declared: ${[...ids].join(`, `)})`).toBe(true);
            expect([`set`, `delete`]).toContain(edit.op);
            expect(Array.isArray(edit.path) && edit.path.length > 0, `edit path is a non-empty array`).toBe(true);
          }
          for (const file of reads) expect(ids.has(file), `read() of undeclared file "${file}"`).toBe(true);
          const sets = plan.edits.filter((e): e is Extract<FileEdit, {op: `set`}> => e.op === `set`);
          if (plan.edits.length > 0) expect(sets.some(e => containsValue(e.value, PLACEHOLDER_SECRET)), `the secret is written by some edit`).toBe(true);
          // The file receiving the secret must be marked secret (written 0600).
          for (const e of sets.filter(e => containsValue(e.value, PLACEHOLDER_SECRET)))
            expect(files.find(f => f.id === e.file)?.secret, `file "${e.file}" holding the key is secret: true`).toBe(true);
          for (const note of plan.notes ?? []) expect(note).not.toContain(PLACEHOLDER_SECRET);
          // Same input, another time of day: the same plan (the time of the install is `now`, not the clock).
          const again = atClock(CLOCK_AT_SECOND_PLAN, () => def.plan(planInput(def, platformId, opts), envInfo, detected));
          expect(again, `plan() is deterministic (a time in it comes from input.now, not the clock)`).toEqual(plan);
        });

        if (def.sessionEnv !== undefined) {
          it(`sessionEnv() for ${platformId} on ${envInfo.platform} is pure: the secret only in variable values, beatenBy well formed, no file written`, async () => {
            expect(typeof def.sessionEnv, `sessionEnv`).toBe(`function`);
            const detected = await detection(def, envInfo);
            const input = deepFreeze({platform: platformId, secret: PLACEHOLDER_SECRET, baseUrls: opts.baseUrls ?? {openai: `https://example.test/api/v1`, anthropic: `https://example.test/api`}});
            // Run against a real, empty home too: whatever it answers, it must not create anything there.
            const home = fs.mkdtempSync(path.join(os.tmpdir(), `capit-session-env-`));
            try {
              def.sessionEnv!(input, deepFreeze({...envInfo, platform: process.platform, home, cwd: home, env: {HOME: home, USERPROFILE: home, XDG_CONFIG_HOME: path.join(home, `.config`), XDG_DATA_HOME: path.join(home, `.data`), ...opts.env}}), detected);
              expect(fs.readdirSync(home), `sessionEnv() created files under HOME`).toEqual([]);
            } finally {
              fs.rmSync(home, {recursive: true, force: true});
            }
            const answer = def.sessionEnv!(input, envInfo, detected);
            expect(sessionEnvProblems(answer, envInfo.platform), `sessionEnv() answer`).toEqual([]);
            expect(def.sessionEnv!(input, envInfo, detected), `sessionEnv() is deterministic`).toEqual(answer);
          });
        }

        if (def.keySources) {
          it(`keySources() for ${platformId} on ${envInfo.platform} has exactly one key source marked installs (per flavour), matching a declared file`, async () => {
            const detected = await detection(def, envInfo);
            const sources = def.keySources!(envInfo, platformId, detected);
            expect(Array.isArray(sources)).toBe(true);
            // role, redirectsWhenSet, flavour and installs make sense together (what core refuses at run time).
            expect(keySourceProblems(sources), `keySources() declaration`).toEqual([]);
            const files = def.files(envInfo, detected);
            // Key sources only: a selector capit writes (Codex's model_provider) is no key source.
            const installs = sources.filter(s => s.installs && (s.role === undefined || s.role === `key`));
            const flavoured = sources.some(s => s.flavour !== undefined);
            // With a detect step that found nothing to configure, there is nothing capit installs either.
            if (def.detect !== undefined && files.length === 0) expect(installs, `no installs source when files() is empty`).toHaveLength(0);
            // With flavours (each reading its own files), capit may write one key per flavour, never two that one
            // flavour reads (its own sources plus the unflavoured ones).
            else if (flavoured) {
              expect(installs.length, `some key source has installs: true`).toBeGreaterThan(0);
              for (const flavour of new Set(sources.map(s => s.flavour).filter(f => f !== undefined)))
                expect(installs.filter(s => s.flavour === undefined || s.flavour === flavour).length, `key sources with installs: true that flavour ${flavour} reads`).toBeLessThanOrEqual(1);
            }
            else expect(installs, `exactly one key source has installs: true`).toHaveLength(1);
            for (const target of sources.filter(s => s.installs))
              if (target.kind === `file`) expect(files.map(f => f.path), `the installs source is one of files()`).toContain(target.path);
            for (const s of sources) {
              if (s.kind === `file`) expect(isAbsoluteFor(envInfo.platform, s.path), `${s.path} is absolute`).toBe(true);
              else expect(s.name).toMatch(/^[A-Za-z_][A-Za-z0-9_]*$/);
            }
            expect(def.keySources!(envInfo, platformId, detected), `keySources() is deterministic`).toEqual(sources);
          });
        }

        if (def.model) {
          it(`model() for ${platformId} on ${envInfo.platform} reads only absolute paths through core and answers undefined or a model id`, async () => {
            const detected = await detection(def, envInfo);
            const asked: string[] = [];
            // No config at all: nothing to report.
            const nothing = await def.model!(envInfo, detected, async file => {
              asked.push(file.path);
              expect([`json`, `jsonc`, `dotenv`, `yaml`, `toml`, `json5`]).toContain(file.format);
              return undefined;
            }, platformId);
            expect(nothing, `model() with no config is undefined`).toBeUndefined();
            for (const file of asked) expect(isAbsoluteFor(envInfo.platform, file), `${file} is absolute`).toBe(true);
            // Every read answering a string: whatever it returns is a non-empty id, and the same twice.
            const anything = async () => `${platformId}/example/model-1`;
            const found = await def.model!(envInfo, detected, anything, platformId);
            if (found !== undefined) {
              expect(typeof found.model === `string` && found.model.trim() !== ``, `model is a non-empty string`).toBe(true);
              if (found.maxOutputTokens !== undefined) expect(found.maxOutputTokens).toBeGreaterThan(0);
            }
            expect(await def.model!(envInfo, detected, anything, platformId), `model() is deterministic`).toEqual(found);
          });
        }
      }
    }
  });
}
