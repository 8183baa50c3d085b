import * as t from 'typanion';

import {SUPPORTED_API_VERSIONS} from '../plugin.js';

// Words that are capit's own commands: a plugin with one of these ids would make routing ambiguous.
export const RESERVED_IDS: ReadonlySet<string> = new Set([
  `keys`, `plugin`, `plugins`, `platform`, `platforms`, `agent`, `agents`, `serve`, `restore`, `help`, `version`,
  `doctor`, `why`, `config`, `init`, `list`, `add`, `remove`, `delete`, `capit`,
]);

// typanion does not export its own pushError; this matches its message format (`.path: message`).
function pushError(state: t.ValidationState | undefined, message: string): false {
  state?.errors?.push(`${state.p ?? `.`}: ${message}`);
  return false;
}

export const ID_PATTERN = /^[a-z][a-z0-9-]{1,31}$/;
export const PACKAGE_NAME_PATTERN = /^(@[a-z0-9][a-z0-9._-]*\/)?capit-(platform|agent)-([a-z][a-z0-9-]{1,31})$/;

const isId = t.cascade(t.isString(), [
  t.matchesRegExp(ID_PATTERN),
  t.makeValidator<string>({test: (value, state) => RESERVED_IDS.has(value)
    ? pushError(state, `"${value}" is a reserved command word`)
    : true}),
]);

const isEntry = t.cascade(t.isString(), [
  t.makeValidator<string>({test: (value, state) => /^\.\/(?!.*\.\.\/)[^\0]+$/.test(value) && !value.includes(`\\..`)
    ? true
    : pushError(state, `entry must be a relative path starting with "./" inside the package (got ${JSON.stringify(value)})`)}),
]);

const common = {
  apiVersion: t.cascade(t.isNumber(), [t.makeValidator<number>({test: (value, state) => SUPPORTED_API_VERSIONS.includes(value)
    ? true
    : pushError(state, `apiVersion ${value} is not supported by this capit (supports ${SUPPORTED_API_VERSIONS.join(`, `)})`)})]),
  id: isId,
  displayName: t.isOptional(t.isString()),
  description: t.isOptional(t.isString()),
  entry: isEntry,
};

export const isPlatformManifest = t.isObject({
  ...common,
  kind: t.isLiteral(`platform`),
  // Copies of the entry's `masterKey.env[0]` / `masterKey.setupUrl`, so `capit platforms` needs no plugin code;
  // `checkDefinition` fails the plugin when they differ.
  masterKeyEnv: t.isOptional(t.isString()),
  setupUrl: t.isOptional(t.isString()),
}, {extra: t.isRecord(t.isUnknown())});

export const isAgentManifest = t.isObject({
  ...common,
  kind: t.isLiteral(`agent`),
  // Exactly the ids `supports()` accepts (`checkDefinition` fails the plugin otherwise); omitted = supports() decides.
  platforms: t.isOptional(t.isArray(t.isString())),
  // What the agent's own binary was seen to do, per platform id: e.g. {"openrouter": "opencode 1.18.34"} means that
  // release, run after capit against the emulator, sent its requests with the capped key. A supported platform with
  // no entry is "files only" (capit writes what the agent's code reads; no binary could be run).
  verified: t.isOptional(t.isRecord(t.isString())),
  // One line: which of the agent's requests the cap covers (e.g. "every request on openrouter/* models").
  covers: t.isOptional(t.isString()),
  detect: t.isOptional(t.isObject({
    bin: t.isOptional(t.isString()),
    paths: t.isOptional(t.isArray(t.isString())),
  }, {extra: t.isRecord(t.isUnknown())})),
}, {extra: t.isRecord(t.isUnknown())});

export type PlatformManifest = t.InferType<typeof isPlatformManifest>;
export type AgentManifest = t.InferType<typeof isAgentManifest>;
export type Manifest = PlatformManifest | AgentManifest;

/** Validates the `"capit"` field of a package.json; returns the manifest or the list of problems. */
export function validateManifest(packageName: unknown, raw: unknown): {manifest: Manifest} | {errors: string[]} {
  const errors: string[] = [];
  const kind = typeof raw === `object` && raw !== null ? (raw as {kind?: unknown}).kind : undefined;
  if (raw === undefined) return {errors: [`package.json has no "capit" manifest`]};
  if (kind !== `platform` && kind !== `agent`)
    return {errors: [`"capit.kind" must be "platform" or "agent" (got ${JSON.stringify(kind)})`]};
  const validator = kind === `platform` ? isPlatformManifest : isAgentManifest;
  if (!validator(raw, {errors}))
    return {errors: errors.map(e => e.replace(/^\./, `capit.`))};
  const manifest = raw as Manifest;
  const name = typeof packageName === `string` ? packageName : ``;
  const match = PACKAGE_NAME_PATTERN.exec(name);
  if (!match)
    return {errors: [`package name ${JSON.stringify(name)} must be capit-${kind}-<id> (optionally scoped)`]};
  if (match[2] !== kind)
    return {errors: [`package name ${name} says "${match[2]}" but capit.kind is "${kind}"`]};
  if (manifest.kind === `agent` && manifest.verified) {
    const unknown = Object.keys(manifest.verified).filter(id => !manifest.platforms?.includes(id));
    if (unknown.length > 0) return {errors: [`capit.verified names ${unknown.join(`, `)}, which capit.platforms does not list`]};
  }
  return {manifest};
}
