import {defineConfig} from 'vitest/config';

// `capit` is linked (a `file:` devDependency), so Node would resolve capit/testing's own `import 'vitest'` from
// where capit is installed, which has no vitest; inlined, it shares this project's vitest.
export default defineConfig({test: {include: [`test/**/*.test.ts`], server: {deps: {inline: [`capit`]}}}});
