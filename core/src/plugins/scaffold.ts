// `capit plugin new platform|agent <id>`: copies templates/<kind>/ with the placeholders filled in.
//
// The scaffold must build and test while `capit` is not on the npm registry (its other devDependencies come from the
// registry as usual), and the built plugin must load from the global plugin dir where `capit` cannot be resolved. So:
//  - the plugin's runtime is free of capit: `src/` uses type-only imports from `capit/plugin` and default-exports a
//    plain object (the host validates it against the manifest), so `dist/` never imports capit;
//  - `capit` is a devDependency pointing at the running capit by path (`file:<dir>`), for types and `capit/testing`;
//  - vitest is linked the same way when capit can see one (in capit's repository), so the test runner and the
//    conformance kit share one vitest instance (two copies would not see each other's test collector); an installed
//    capit has none, so the scaffold gets vitest from the registry and its vitest.config.ts inlines capit;
//  - no peerDependencies on capit: npm 11 would try to install it from the registry.
import fs              from 'node:fs';
import {createRequire} from 'node:module';
import path            from 'node:path';

import {InputError}              from '../errors.js';
import {coreDir}                 from '../self.js';
import {expandPath}              from '../state/paths.js';
import type {Env}                from '../state/paths.js';
import {ID_PATTERN, PACKAGE_NAME_PATTERN, RESERVED_IDS} from './manifest.js';

export interface ScaffoldOptions {
  kind: `platform` | `agent`;
  id: string;
  dir?: string;
  name?: string;
}

export interface ScaffoldResult {
  dir: string;
  packageName: string;
  files: string[];
}


/**
 * templates/ sits at the monorepo root (development) or ships in capit's package (copied in by scripts/prepack.mjs).
 * The repository's own folder wins there, so a copy left behind by an interrupted `npm pack` never shadows it.
 */
export function templatesDir(): string {
  const coreRoot = coreDir();
  const repoRoot = path.join(coreRoot, `..`);
  const candidates = [path.join(coreRoot, `templates`)];
  if (isCapitRepository(repoRoot)) candidates.unshift(path.join(repoRoot, `templates`));
  for (const candidate of candidates)
    if (fs.existsSync(path.join(candidate, `agent`, `package.json`))) return candidate;
  throw new Error(`capit's plugin templates are missing (looked in ${candidates.join(` and `)}); reinstall capit`);
}

function isCapitRepository(dir: string): boolean {
  try {
    return (JSON.parse(fs.readFileSync(path.join(dir, `package.json`), `utf8`)) as {name?: string}).name === `capit-monorepo`;
  } catch {
    return false;
  }
}

function realCoreRoot(): string {
  try {
    return fs.realpathSync(coreDir());
  } catch {
    return path.resolve(coreDir());
  }
}

/** The vitest capit itself resolves, so the scaffold shares it with `capit/testing`; else a registry range. */
function vitestSpec(): string {
  try {
    const require = createRequire(path.join(realCoreRoot(), `package.json`));
    const file = require.resolve(`vitest/package.json`);
    const version = (JSON.parse(fs.readFileSync(file, `utf8`)) as {version: string}).version;
    if (/^[4-9]\./.test(version)) return `file:${path.dirname(fs.realpathSync(file))}`;
  } catch {}
  return `^4.1.0`;
}

function displayNameFor(id: string): string {
  return id.split(`-`).map(w => w.charAt(0).toUpperCase() + w.slice(1)).join(` `);
}

export function scaffoldPlugin(opts: ScaffoldOptions, ctx: {cwd: string; env: Env}): ScaffoldResult {
  const {kind, id} = opts;
  if (!ID_PATTERN.test(id)) throw new InputError(`Invalid id "${id}": use 2–32 characters, lowercase letters, digits and "-", starting with a letter`);
  if (RESERVED_IDS.has(id)) throw new InputError(`"${id}" is a reserved command word; pick another id`);
  const packageName = opts.name ?? `capit-${kind}-${id}`;
  const match = PACKAGE_NAME_PATTERN.exec(packageName);
  if (!match || match[2] !== kind || match[3] !== id)
    throw new InputError(`Package name "${packageName}" must be capit-${kind}-${id} (optionally scoped, e.g. @acme/capit-${kind}-${id})`);

  const dir = path.resolve(ctx.cwd, expandPath(opts.dir ?? `capit-${kind}-${id}`, ctx.env));
  if (fs.existsSync(dir) && fs.readdirSync(dir).length > 0)
    throw new InputError(`${dir} already exists and is not empty; choose another --dir`);

  const source = path.join(templatesDir(), kind);
  const replacements: Record<string, string> = {
    __PACKAGE_NAME__: packageName,
    __ID__: id,
    __ID_UPPER__: id.toUpperCase().replace(/-/g, `_`),
    __DISPLAY_NAME__: displayNameFor(id),
    __CAPIT_SPEC__: `file:${realCoreRoot()}`,
    __VITEST_SPEC__: vitestSpec(),
  };
  const files: string[] = [];
  const copy = (from: string, to: string) => {
    fs.mkdirSync(to, {recursive: true});
    for (const entry of fs.readdirSync(from, {withFileTypes: true})) {
      if (entry.name === `node_modules` || entry.name === `dist`) continue;
      const target = path.join(to, entry.name === `_gitignore` ? `.gitignore` : entry.name);
      if (entry.isDirectory()) {
        copy(path.join(from, entry.name), target);
        continue;
      }
      let text = fs.readFileSync(path.join(from, entry.name), `utf8`);
      for (const [key, value] of Object.entries(replacements)) text = text.split(key).join(key === `__CAPIT_SPEC__` || key === `__VITEST_SPEC__` ? value.replace(/\\/g, `/`) : value);
      fs.writeFileSync(target, text);
      files.push(path.relative(dir, target));
    }
  };
  copy(source, dir);
  return {dir, packageName, files: files.sort()};
}
