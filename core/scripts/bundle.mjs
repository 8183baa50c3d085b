// Bundles the CLI into a few files so start-up does not pay for resolving and reading ~100 ESM modules one by one
// (that alone costs more than starting node). Dynamic imports stay separate chunks, so each command still loads
// only what it needs. undici, tsx and cosmiconfig stay external: they are imported lazily and only by some commands.
import {build} from 'esbuild';
import fs      from 'node:fs';
import path    from 'node:path';

const coreDir = path.resolve(import.meta.dirname, `..`);
const outdir = path.join(coreDir, `dist`, `bundle`);
fs.rmSync(outdir, {recursive: true, force: true});
const HELP_CACHE = path.join(coreDir, `dist`, `ui`, `help-cache.js`);
// `capit --help` answered from the cache reads one file: help-cache and what it needs (the discovery sources) in a
// file of their own, instead of the ~10 shared chunks they sit in. It lives among the chunks because the help key
// lists that folder: the chunk names are hashes of their content, so a rebuild that changes any help changes the key.
const fastHelp = {
  name: `fast-help`,
  setup(build) {
    build.onResolve({filter: /\/help-cache\.js$/}, args =>
      args.kind === `dynamic-import` && args.importer === path.join(coreDir, `dist`, `cli.js`)
        ? {path: `./chunks/help-cache.js`, external: true} : undefined);
  },
};
const common = {
  bundle: true,
  format: `esm`,
  platform: `node`,
  // Prefer ESM builds: jsonc-parser's "main" is a UMD build whose dynamic require() cannot be bundled.
  mainFields: [`module`, `main`],
  target: `node20`,
  external: [`undici`, `tsx`, `tsx/*`, `cosmiconfig`, `playwright-core`, `node-notifier`],
  minifySyntax: true,
  minifyWhitespace: true,
  legalComments: `none`,
  logLevel: `warning`,
  // Bundled CommonJS dependencies (proper-lockfile, …) use require() and __filename.
  banner: {js: [
    `import {createRequire as __capitCreateRequire} from 'node:module';`,
    `import {fileURLToPath as __capitFileURLToPath} from 'node:url';`,
    `const require = __capitCreateRequire(import.meta.url);`,
    `const __filename = __capitFileURLToPath(import.meta.url);`,
  ].join(` `)},
};
await build({...common, entryPoints: [HELP_CACHE], outfile: path.join(outdir, `chunks`, `help-cache.js`)});
const result = await build({
  ...common,
  entryPoints: {capit: path.join(coreDir, `dist`, `cli.js`)},
  outdir,
  splitting: true,
  chunkNames: `chunks/[name]-[hash]`,
  plugins: [fastHelp],
  // Which source each chunk holds, written only on request (test/bench/chunks.mjs): what a command loads is checked
  // against it. Never into dist/, which is packed.
  metafile: Boolean(process.env.CAPIT_BUNDLE_META),
});
if (process.env.CAPIT_BUNDLE_META) fs.writeFileSync(process.env.CAPIT_BUNDLE_META, JSON.stringify(result.metafile));
const bin = path.join(outdir, `capit.js`);
fs.writeFileSync(bin, `#!/usr/bin/env node\n${fs.readFileSync(bin, `utf8`)}`);
fs.chmodSync(bin, 0o755);
