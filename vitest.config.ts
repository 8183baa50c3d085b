import {defineConfig} from 'vitest/config';

export default defineConfig({
  test: {
    include: [`core/test/**/*.test.ts`, `plugins/*/test/**/*.test.ts`, `test/**/*.test.ts`],
    setupFiles: [`test/support/setup.ts`],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // Spawning the CLI is I/O bound; two workers match the CI machine.
    pool: `forks`,
    maxWorkers: 2,
  },
});
