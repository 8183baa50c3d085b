// Bundles the CLI into a few files so start-up does not pay for resolving and reading ~100 ESM modules one by one
// (that alone costs more than starting node). Dynamic imports stay separate chunks, so each command still loads
// only what it needs. undici, tsx and cosmiconfig stay external: they are imported lazily and only by some commands.
import {build} from 'esbuild';
import fs      from 'node:fs';
import path    from 'node:path';

const coreDir = path.resolve(import.meta.dirname, `..`);
const outdir = path.join(coreDir, `dist`, `bundle`);
fs.rmSync(outdir, {recursive: true, force: true});
const result = await build({
  entryPoints: {capit: path.join(coreDir, `dist`, `cli.js`)},
  outdir,
  bundle: true,
  splitting: true,
  format: `esm`,
  platform: `node`,
  // Prefer ESM builds: jsonc-parser's "main" is a UMD build whose dynamic require() cannot be bundled.
  mainFields: [`module`, `main`],
  target: `node20`,
  chunkNames: `chunks/[name]-[hash]`,
  external: [`undici`, `tsx`, `tsx/*`, `cosmiconfig`, `playwright-core`],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: `none`,
  logLevel: `warning`,
  // Which source each chunk holds (dist/bundle-meta.json, outside the bundle so it is never packed): what a command loads is checked against it.
  metafile: true,
  // Bundled CommonJS dependencies (proper-lockfile, …) use require() and __filename.
  banner: {js: [
    `import {createRequire as __capitCreateRequire} from 'node:module';`,
    `import {fileURLToPath as __capitFileURLToPath} from 'node:url';`,
    `const require = __capitCreateRequire(import.meta.url);`,
    `const __filename = __capitFileURLToPath(import.meta.url);`,
  ].join(` `)},
});
fs.writeFileSync(path.join(coreDir, `dist`, `bundle-meta.json`), JSON.stringify(result.metafile));
const bin = path.join(outdir, `capit.js`);
fs.writeFileSync(bin, `#!/usr/bin/env node\n${fs.readFileSync(bin, `utf8`)}`);
fs.chmodSync(bin, 0o755);
