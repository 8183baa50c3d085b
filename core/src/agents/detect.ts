// Cheap "is this agent installed?" checks from the manifest alone (`capit.detect`: a binary on PATH, paths that
// exist). No plugin code is imported, so listing stays fast however many plugins there are.
import fs   from 'node:fs';
import path from 'node:path';

import {configReader}             from '../files/config-reader.js';
import type {AgentDefinition, AgentEnvironment} from '../plugin.js';
import type {AgentManifest}       from '../plugins/manifest.js';
import {callPlugin}               from '../platforms/context.js';
import {expandPath}               from '../state/paths.js';
import type {Env}                 from '../state/paths.js';

export interface Detection {
  detected: boolean;
  /** What was found, e.g. `opencode on PATH (/usr/bin/opencode)`, `~/.cursor exists`. */
  evidence: string[];
}

/** The directories of PATH, split once per environment. */
function pathDirs(env: Env): string[] {
  const raw = env.PATH ?? env.Path ?? ``;
  return raw.split(path.delimiter).filter(Boolean);
}

function executableNames(bin: string, env: Env): string[] {
  if (process.platform !== `win32`) return [bin];
  const exts = (env.PATHEXT ?? `.COM;.EXE;.BAT;.CMD`).split(`;`).filter(Boolean);
  return [bin, ...exts.map(ext => bin + ext.toLowerCase()), ...exts.map(ext => bin + ext)];
}

/** The first `bin` on PATH that is an executable file, or undefined. */
export function findOnPath(bin: string, env: Env, dirs: string[] = pathDirs(env)): string | undefined {
  for (const dir of dirs) {
    for (const name of executableNames(bin, env)) {
      const candidate = path.join(dir, name);
      try {
        const st = fs.statSync(candidate);
        if (!st.isFile()) continue;
        if (process.platform !== `win32`) fs.accessSync(candidate, fs.constants.X_OK);
        return candidate;
      } catch {}
    }
  }
  return undefined;
}

export function detectAgent(manifest: AgentManifest, env: Env, dirs: string[] = pathDirs(env)): Detection {
  const evidence: string[] = [];
  const bin = manifest.detect?.bin;
  if (bin) {
    const found = findOnPath(bin, env, dirs);
    if (found) evidence.push(`${bin} on PATH (${found})`);
  }
  for (const declared of manifest.detect?.paths ?? []) {
    const resolved = expandPath(declared, env);
    if (resolved && fs.existsSync(resolved)) evidence.push(`${resolved} exists`);
  }
  return {detected: evidence.length > 0, evidence};
}

export {pathDirs};

/**
 * The agent's own `detect(envInfo)` step (optional in the contract), run once: callers keep the result for this run
 * and pass it to `files`, `plan`, `keySources` and `status`. `undefined` when the agent has no detect step.
 */
export async function detectOnce(def: AgentDefinition, envInfo: AgentEnvironment): Promise<unknown> {
  if (typeof def.detect !== `function`) return undefined;
  return callPlugin(def.id, `detect`, () => def.detect!(envInfo, configReader()), {env: envInfo.env});
}
