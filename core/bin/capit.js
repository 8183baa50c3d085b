#!/usr/bin/env node
// The installed `capit` command. A stable file in the package (npm links bins at install time, before a workspace
// build exists); the CLI itself is the bundle built by `npm run build`.
import('../dist/bundle/capit.js').catch(error => {
  if (error?.code === 'ERR_MODULE_NOT_FOUND' && String(error.message).includes('dist/bundle/capit.js')) {
    process.stderr.write('capit: not built yet; run `npm run build` in the capit repository first\n');
    process.exitCode = 1;
    return;
  }
  throw error;
});
