// `npm run pack`: writes the tarball of every publishable workspace package (capit and its built-in plugins) into
// dist-pack/ at the repository root, so `npm install -g dist-pack/*.tgz` installs capit as the registry would.
// Run after `npm run build` (the root script does both). Usage: node core/scripts/pack.mjs [<destination>]
import {execFileSync} from 'node:child_process';
import fs             from 'node:fs';
import path           from 'node:path';

const repoDir = path.resolve(import.meta.dirname, `../..`);
const destination = path.resolve(process.argv[2] ?? path.join(repoDir, `dist-pack`));

/** Workspace folders from the root package.json (entries are folders or `folder/*`), private ones left out. */
function publishableWorkspaces() {
  const root = JSON.parse(fs.readFileSync(path.join(repoDir, `package.json`), `utf8`));
  const folders = root.workspaces.flatMap(entry => {
    if (!entry.endsWith(`/*`)) return [entry];
    const parent = entry.slice(0, -2);
    return fs.readdirSync(path.join(repoDir, parent), {withFileTypes: true}).filter(d => d.isDirectory()).map(d => `${parent}/${d.name}`);
  });
  return folders.filter(folder => {
    const file = path.join(repoDir, folder, `package.json`);
    return fs.existsSync(file) && !JSON.parse(fs.readFileSync(file, `utf8`)).private;
  });
}

fs.rmSync(destination, {recursive: true, force: true});
fs.mkdirSync(destination, {recursive: true});
const workspaces = publishableWorkspaces();
// One npm run for all packages: npm's start-up costs more than packing one of them. npm runs each package's
// prepack/postpack (capit's copies the root README, templates/ and skills/ in).
const output = execFileSync(`npm`, [`pack`, `--json`, `--pack-destination`, destination, ...workspaces.flatMap(w => [`--workspace`, w])], {
  cwd: repoDir, encoding: `utf8`, stdio: [`ignore`, `pipe`, `inherit`],
});
const packed = JSON.parse(output.slice(output.indexOf(`[`)));

// A tarball without what it needs at run time installs fine and fails later on a user's machine: check here.
const problems = [];
for (const {name, filename, files} of packed) {
  const paths = new Set(files.map(f => f.path));
  for (const required of [`package.json`, `README.md`, `LICENSE`]) if (!paths.has(required)) problems.push(`${name}: ${required} is missing`);
  if (name === `capit`) {
    for (const required of [`bin/capit.js`, `dist/bundle/capit.js`, `templates/agent/package.json`, `templates/platform/package.json`, `skills/README.md`])
      if (!paths.has(required)) problems.push(`capit: ${required} is missing`);
    for (const p of paths) if (p.startsWith(`scripts/`)) problems.push(`capit: ships its build script ${p}`);
  }
  if (!fs.existsSync(path.join(destination, filename))) problems.push(`${name}: ${filename} was not written`);
}
if (problems.length > 0) {
  process.stderr.write(`npm run pack: ${problems.join(`; `)}\n`);
  process.exit(1);
}
for (const {filename, size, entryCount} of packed) process.stdout.write(`${filename}  ${entryCount} files, ${(size / 1024).toFixed(0)} kB\n`);
process.stdout.write(`${packed.length} packages in ${path.relative(process.cwd(), destination) || `.`}; install them with: npm install -g ${path.relative(process.cwd(), destination) || `.`}/*.tgz\n`);
