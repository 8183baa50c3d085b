// `capit plugin add|remove`: the global plugin dir (`capitPaths(env).data`) is a tiny npm project of its own.
// npm never runs install scripts here; a folder is linked (recorded in package.json#capit.links), not copied.
import {spawn}  from 'node:child_process';
import fs       from 'node:fs';
import path     from 'node:path';

import {CapitError, InputError, PluginError} from '../errors.js';
import {capitPaths, expandPath}              from '../state/paths.js';
import type {Env}                            from '../state/paths.js';
import {PLUGIN_DEP, inspectFolder, readGlobalManifest} from './discover.js';
import type {DiscoveredPlugin, Discovery, GlobalManifest} from './discover.js';
import {loadPlugin}                          from './load.js';

export interface PluginOpsContext {
  env: Env;
  cwd: string;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/** Flags for every npm call in the global dir: no scripts, no peer auto-install (capit itself is the host, not a dep). */
const NPM_FLAGS = [`--ignore-scripts`, `--omit=dev`, `--no-audit`, `--no-fund`, `--legacy-peer-deps`, `--loglevel=error`];

const GLOBAL_PACKAGE: GlobalManifest = {
  name: `capit-global-plugins`,
  private: true,
  description: `Plugins installed by \`capit plugin add\`. Managed by capit; edit with capit plugin add/remove.`,
  dependencies: {},
};

export function globalDir(env: Env): string {
  return capitPaths(env).data;
}

function ensureGlobalDir(dataDir: string): void {
  fs.mkdirSync(dataDir, {recursive: true});
  const file = path.join(dataDir, `package.json`);
  if (!fs.existsSync(file)) fs.writeFileSync(file, `${JSON.stringify(GLOBAL_PACKAGE, null, 2)}\n`);
}

function writeGlobalManifest(dataDir: string, manifest: GlobalManifest): void {
  const file = path.join(dataDir, `package.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(manifest, null, 2)}\n`);
  fs.renameSync(tmp, file);
}

export function runNpm(args: string[], cwd: string, env: Env): Promise<{code: number; stdout: string; stderr: string}> {
  return new Promise((resolve, reject) => {
    const isWindows = process.platform === `win32`;
    const child = spawn(isWindows ? `npm.cmd` : `npm`, args, {cwd, env: {...env} as NodeJS.ProcessEnv, stdio: [`ignore`, `pipe`, `pipe`], shell: isWindows});
    let stdout = ``;
    let stderr = ``;
    child.stdout.on(`data`, chunk => (stdout += chunk));
    child.stderr.on(`data`, chunk => (stderr += chunk));
    child.on(`error`, error => reject(new CapitError(`CAPIT_NPM_FAILED`, `could not run npm: ${error.message}`, {hint: `capit plugin add needs npm on PATH.`})));
    child.on(`close`, code => resolve({code: code ?? 1, stdout, stderr}));
  });
}

function npmFailure(result: {stdout: string; stderr: string}): string {
  const lines = `${result.stderr}\n${result.stdout}`.split(`\n`).map(l => l.trim()).filter(l => l && !/^npm (error|ERR!) (A complete log|\s*$)/.test(l));
  return lines.slice(0, 8).join(`\n  `) || `npm exited with an error`;
}

type SpecKind = `folder` | `tarball` | `registry`;

function classifySpec(spec: string, cwd: string, env: Env): {kind: SpecKind; value: string} {
  const looksLikePath = /^(\.{1,2}([/\\]|$)|[/\\~]|[a-zA-Z]:[/\\])/.test(spec) || /\.(tgz|tar\.gz|tar)$/.test(spec);
  const resolved = path.resolve(cwd, expandPath(spec, env));
  if (looksLikePath || fs.existsSync(resolved)) {
    if (!fs.existsSync(resolved)) throw new InputError(`${spec}: no such file or folder`);
    return fs.statSync(resolved).isDirectory() ? {kind: `folder`, value: resolved} : {kind: `tarball`, value: resolved};
  }
  return {kind: `registry`, value: spec};
}

// A folder that is no plugin at all (no package.json, or one without a "capit" manifest) is a wrong argument: exit 2,
// one line. A plugin that is broken (bad manifest, entry failing to load) stays CAPIT_BAD_PLUGIN, exit 1.
function refuseNonPluginFolder(spec: string, dir: string): void {
  const hint = `Nothing was changed. A plugin folder has a package.json with a "capit" manifest (see \`capit plugin new\`).`;
  let text: string;
  try {
    text = fs.readFileSync(path.join(dir, `package.json`), `utf8`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === `ENOENT`) throw new InputError(`${spec} is not a capit plugin folder: it has no package.json`, hint);
    return; // unreadable: validateFolder words it
  }
  let pkg: unknown;
  try {
    pkg = JSON.parse(text);
  } catch {
    throw new InputError(`${spec} is not a capit plugin folder: its package.json is not valid JSON`, hint);
  }
  if (pkg === null || typeof pkg !== `object` || !(`capit` in pkg))
    throw new InputError(`${spec} is not a capit plugin folder: its package.json has no "capit" manifest`, hint);
}

// npm's own error for a file that is not a tarball is several lines about TAR_BAD_ARCHIVE; name the problem instead.
// A package tarball is gzip (1f 8b) or, uncompressed, a tar with "ustar" at offset 257.
function refuseNonTarball(spec: string, file: string): void {
  let head: Buffer;
  try {
    const fd = fs.openSync(file, `r`);
    try {
      head = Buffer.alloc(262);
      head = head.subarray(0, fs.readSync(fd, head, 0, head.length, 0));
    } finally {
      fs.closeSync(fd);
    }
  } catch (error) {
    throw new InputError(`${spec}: cannot be read (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
  const gzip = head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;
  const tar = head.length >= 262 && head.subarray(257, 262).toString(`latin1`) === `ustar`;
  if (!gzip && !tar) throw new InputError(`${spec} is not a package tarball (.tgz): expected a gzip or tar archive`, `Nothing was changed. Build one with \`npm pack\` in the plugin's folder.`);
}

/** The package name in a registry spec: `name`, `name@1.2.0`, `@scope/name@^1`. */
function specName(spec: string): string {
  const at = spec.indexOf(`@`, spec.startsWith(`@`) ? 1 : 0);
  return at === -1 ? spec : spec.slice(0, at);
}

export interface AddResult {
  plugin: DiscoveredPlugin;
  linked: boolean;
}

/** Validates an installed/linked folder completely: manifest, entry inside the package, entry loads and matches. */
async function validateFolder(dir: string, source: DiscoveredPlugin[`source`]): Promise<DiscoveredPlugin> {
  const inspected = inspectFolder(dir);
  if (!(`manifest` in inspected))
    throw new CapitError(`CAPIT_BAD_PLUGIN`, `${inspected.packageName ?? dir} is not a usable capit plugin: ${inspected.message}`);
  let real = dir;
  try {
    real = fs.realpathSync(dir);
  } catch {}
  const plugin: DiscoveredPlugin = {...inspected, dir: real, source};
  try {
    await loadPlugin(plugin);
  } catch (error) {
    if (error instanceof PluginError) throw new CapitError(`CAPIT_BAD_PLUGIN`, error.message, {cause: error});
    throw error;
  }
  return plugin;
}

/** Other plugins in the global dir with the same kind and id (the global dir holds at most one per kind+id). */
function globalClash(dataDir: string, plugin: DiscoveredPlugin): string | undefined {
  const manifest = readGlobalManifest(dataDir);
  const dirs = [
    ...(manifest.capit?.links ?? []),
    ...Object.keys(manifest.dependencies ?? {}).filter(n => PLUGIN_DEP.test(n)).map(n => path.join(dataDir, `node_modules`, n)),
  ];
  for (const dir of dirs) {
    let real = dir;
    try {
      real = fs.realpathSync(dir);
    } catch {}
    if (real === plugin.dir) continue;
    const other = inspectFolder(dir);
    if (`manifest` in other && other.manifest.kind === plugin.manifest.kind && other.manifest.id === plugin.manifest.id && other.packageName !== plugin.packageName)
      return `${other.packageName}@${other.version} (${dir})`;
  }
  return undefined;
}

export async function addPlugin(spec: string, ctx: PluginOpsContext): Promise<AddResult> {
  const dataDir = globalDir(ctx.env);
  const target = classifySpec(spec, ctx.cwd, ctx.env);

  if (target.kind === `folder`) {
    // Linked, not copied: discovery reads the folder itself, so edits show up on the next run. Nothing is written
    // (not even the global dir's package.json) before the folder has passed every check: nothing to roll back.
    refuseNonPluginFolder(spec, target.value);
    const plugin = await validateFolder(target.value, `path`);
    const clash = globalClash(dataDir, plugin);
    if (clash) throw new CapitError(`CAPIT_PLUGIN_CLASH`, `${plugin.manifest.kind} "${plugin.manifest.id}" is already installed from ${clash}`, {hint: `Run \`capit plugin remove ${plugin.manifest.id}\` first.`});
    ensureGlobalDir(dataDir);
    const manifest = readGlobalManifest(dataDir);
    const links = (manifest.capit?.links ?? []).filter(dir => dir !== plugin.dir);
    writeGlobalManifest(dataDir, {...manifest, capit: {...manifest.capit, links: [plugin.dir, ...links]}});
    return {plugin: {...plugin, via: `linked by capit plugin add`}, linked: true};
  }

  if (target.kind === `tarball`) refuseNonTarball(spec, target.value);
  // What this run creates, so a failure removes it again (a first `plugin add` must not leave a package.json behind).
  const createdDataDir = !fs.existsSync(dataDir);
  const pkgFile = path.join(dataDir, `package.json`);
  const createdPkg = !fs.existsSync(pkgFile);
  ensureGlobalDir(dataDir);
  const lockFile = path.join(dataDir, `package-lock.json`);
  const before = {
    pkg: fs.readFileSync(pkgFile, `utf8`),
    lock: fs.existsSync(lockFile) ? fs.readFileSync(lockFile, `utf8`) : undefined,
    nodeModules: fs.existsSync(path.join(dataDir, `node_modules`)),
  };
  const depsBefore = readGlobalManifest(dataDir).dependencies ?? {};

  const rollback = async (reason: string, cause?: unknown): Promise<never> => {
    if (createdDataDir || createdPkg) {
      // Everything here is this run's own: remove it rather than restore it.
      if (createdDataDir) fs.rmSync(dataDir, {recursive: true, force: true});
      else for (const file of [pkgFile, lockFile, path.join(dataDir, `node_modules`)]) fs.rmSync(file, {recursive: true, force: true});
      throw new CapitError(`CAPIT_PLUGIN_ADD_FAILED`, `could not add ${spec}: ${reason}`, {cause, hint: `Nothing was changed.`});
    }
    fs.writeFileSync(pkgFile, before.pkg);
    if (before.lock === undefined) fs.rmSync(lockFile, {force: true});
    else fs.writeFileSync(lockFile, before.lock);
    const hadDeps = Object.keys(depsBefore).length > 0;
    let restored = true;
    if (!before.nodeModules || !hadDeps) {
      fs.rmSync(path.join(dataDir, `node_modules`), {recursive: true, force: true});
      if (before.nodeModules) fs.mkdirSync(path.join(dataDir, `node_modules`));
    } else {
      // Bring node_modules back in line with the restored lockfile (removes what was just added).
      restored = (await runNpm([`install`, ...NPM_FLAGS], dataDir, ctx.env)).code === 0;
      // npm leaves the emptied scope folder of a scoped package behind.
      for (const entry of fs.readdirSync(path.join(dataDir, `node_modules`))) {
        const dir = path.join(dataDir, `node_modules`, entry);
        if (entry.startsWith(`@`) && fs.readdirSync(dir).length === 0) fs.rmdirSync(dir);
      }
    }
    throw new CapitError(`CAPIT_PLUGIN_ADD_FAILED`, `could not add ${spec}: ${reason}`, {
      cause,
      hint: restored ? `Nothing was changed: the plugin dir ${dataDir} is as it was before.` : `Rolled back ${pkgFile}; run \`npm install\` in ${dataDir} to tidy node_modules.`,
    });
  };

  const result = await runNpm([`install`, ...NPM_FLAGS, `--save-exact`, target.value], dataDir, ctx.env);
  if (result.code !== 0) return rollback(`npm install failed:\n  ${npmFailure(result)}`);

  const depsAfter = readGlobalManifest(dataDir).dependencies ?? {};
  const changed = Object.keys(depsAfter).filter(name => depsAfter[name] !== depsBefore[name]);
  const name = changed.length === 1 ? changed[0]! : target.kind === `registry` ? specName(target.value) : undefined;
  if (!name || !(name in depsAfter)) return rollback(`could not tell which package npm installed (changed: ${changed.join(`, `) || `none`})`);
  if (!PLUGIN_DEP.test(name)) return rollback(`${name} is not a capit plugin: package names must be capit-platform-<id> or capit-agent-<id> (optionally scoped)`);

  let plugin: DiscoveredPlugin;
  try {
    plugin = await validateFolder(path.join(dataDir, `node_modules`, name), `global`);
  } catch (error) {
    return rollback((error as Error).message, error);
  }
  const clash = globalClash(dataDir, plugin);
  if (clash) return rollback(`${plugin.manifest.kind} "${plugin.manifest.id}" is already installed from ${clash}; run \`capit plugin remove ${plugin.manifest.id}\` first`);
  return {plugin, linked: false};
}

export interface RemoveResult {
  packageName: string;
  linked: boolean;
  dir: string;
}

/** Removes a plugin added with `capit plugin add`, by package name, id, or linked folder. */
export async function removePlugin(nameOrId: string, ctx: PluginOpsContext, discovery?: Discovery): Promise<RemoveResult> {
  const dataDir = globalDir(ctx.env);
  const manifest = readGlobalManifest(dataDir);
  const asPath = path.resolve(ctx.cwd, expandPath(nameOrId, ctx.env));
  const matches: RemoveResult[] = [];
  for (const dir of manifest.capit?.links ?? []) {
    const inspected = inspectFolder(dir);
    const id = `manifest` in inspected ? inspected.manifest.id : undefined;
    if (dir === asPath || inspected.packageName === nameOrId || id === nameOrId)
      matches.push({packageName: inspected.packageName ?? dir, linked: true, dir});
  }
  for (const name of Object.keys(manifest.dependencies ?? {})) {
    const dir = path.join(dataDir, `node_modules`, name);
    const inspected = inspectFolder(dir);
    const id = `manifest` in inspected ? inspected.manifest.id : undefined;
    if (name === nameOrId || id === nameOrId) matches.push({packageName: name, linked: false, dir});
  }
  if (matches.length === 0) {
    const elsewhere = [...(discovery?.platforms ?? []), ...(discovery?.agents ?? [])]
      .find(p => p.packageName === nameOrId || p.manifest.id === nameOrId);
    const where = elsewhere ? ` (${elsewhere.packageName} comes from ${describeSource(elsewhere)}, which capit plugin remove does not manage)` : ``;
    throw new InputError(`No plugin "${nameOrId}" was added with capit plugin add${where}`, `See \`capit plugin list\`.`);
  }
  if (matches.length > 1)
    throw new InputError(`"${nameOrId}" matches ${matches.map(m => m.packageName).join(` and `)}; name the package to remove`);
  const match = matches[0]!;
  if (match.linked) {
    const links = (manifest.capit?.links ?? []).filter(dir => dir !== match.dir);
    writeGlobalManifest(dataDir, {...manifest, capit: {...manifest.capit, links}});
  } else {
    const result = await runNpm([`uninstall`, ...NPM_FLAGS, match.packageName], dataDir, ctx.env);
    if (result.code !== 0) throw new CapitError(`CAPIT_NPM_FAILED`, `npm uninstall ${match.packageName} failed:\n  ${npmFailure(result)}`);
  }
  return match;
}

export function describeSource(plugin: DiscoveredPlugin): string {
  switch (plugin.source) {
    case `env`: return `CAPIT_PLUGIN_PATH`;
    case `path`: return plugin.via ? `a local folder (${plugin.via})` : `a local folder`;
    case `project`: return plugin.via ? `the project (${plugin.via})` : `the project's dependencies`;
    case `global`: return `the global plugin dir`;
    case `builtin`: return `capit's built-ins`;
  }
}

/** What a plugin adds to the command line, for messages. */
export function addsCommand(plugin: DiscoveredPlugin): string {
  return plugin.manifest.kind === `platform`
    ? `capit ${plugin.manifest.id} <usd> [--agent <agent>]`
    : `capit <platform> <usd> --agent ${plugin.manifest.id}`;
}
