// npm's prepack/postpack for `capit`: the package ships the monorepo's README.md, templates/ (for `capit plugin new`)
// and skills/, which live at the repository root. They are copied into core/ only for the duration of `npm pack` /
// `npm publish` and removed afterwards, so a stale copy never shadows the root folders that development edits
// (scaffold.ts looks in the package first, then at the monorepo root).
import fs   from 'node:fs';
import path from 'node:path';

const coreDir = path.resolve(import.meta.dirname, `..`);
const repoDir = path.dirname(coreDir);
const COPIES = [`README.md`, `templates`, `skills`];

for (const name of COPIES) fs.rmSync(path.join(coreDir, name), {recursive: true, force: true});
if (process.argv[2] !== `--clean`) {
  if (!fs.existsSync(path.join(coreDir, `dist`, `bundle`, `capit.js`)))
    throw new Error(`core is not built: run \`npm run build\` at the repository root before packing`);
  for (const name of COPIES) fs.cpSync(path.join(repoDir, name), path.join(coreDir, name), {recursive: true});
}
