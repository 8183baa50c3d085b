import {createRequire} from 'node:module';

import {CapitError} from '../errors.js';

// yaml (~160 kB) and diff are needed only for YAML files and for showing a diff, so they are required on first use
// instead of being parsed at every start. A local `require` also keeps the bundler from inlining them.
const require = createRequire(import.meta.url);

let yamlLib: typeof import('yaml') | undefined;
let diffLib: typeof import('diff') | undefined;

export function yamlLibrary(): typeof import('yaml') {
  return (yamlLib ??= require(`yaml`) as typeof import('yaml'));
}

let tomlLib: typeof import('@decimalturn/toml-patch') | undefined;

/**
 * toml-patch (~180 kB) only for TOML files (Codex). It ships ESM only: `require` loads it on Node 20.19+, where
 * require(esm) is on by default; older Node 20 gets one clear line instead of a stack.
 */
export function tomlLibrary(): typeof import('@decimalturn/toml-patch') {
  if (tomlLib) return tomlLib;
  try {
    return (tomlLib = require(`@decimalturn/toml-patch`) as typeof import('@decimalturn/toml-patch'));
  } catch (err) {
    if ((err as {code?: string}).code === `ERR_REQUIRE_ESM`)
      throw new CapitError(`CAPIT_NODE_TOO_OLD`, `editing TOML files (Codex's config.toml) needs Node 20.19 or later; this is Node ${process.versions.node}`, {hint: `Update Node and run the command again (nothing was changed).`});
    throw err;
  }
}

let json5Lib: typeof import('json5') | undefined;

/** json5 only for reading OpenClaw's openclaw.json (key sources, doctor). */
export function json5Library(): typeof import('json5') {
  return (json5Lib ??= require(`json5`) as typeof import('json5'));
}

export function diffLibrary(): typeof import('diff') {
  return (diffLib ??= require(`diff`) as typeof import('diff'));
}
