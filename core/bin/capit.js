#!/usr/bin/env node
// The installed `capit` command: a stable file in the package (npm links bins at install time, before a workspace
// build exists) that hands over to the bundle built by `npm run build`.
import {readFileSync} from 'node:fs';

const argv = process.argv.slice(2);
if (argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')) {
  // Answered before loading anything else: it is what scripts and shells call most.
  process.stdout.write(`${JSON.parse(readFileSync(new URL('../package.json', import.meta.url), 'utf8')).version}\n`);
} else {
  import('../dist/bundle/capit.js').catch(error => {
    if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bundle/capit.js')) {
      process.stderr.write('capit: not built yet; run `npm run build` in the capit repository first\n');
      process.exitCode = 1;
      return;
    }
    throw error;
  });
}
