import { defineConfig } from 'vitest/config';

// One run covers unit tests beside the code (libs/*/src, apps/*/src, bench/src) and the cross-process
// suites under test/. Packages are imported through their built dist (npm test builds first).
export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', '**/dist/**'],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, tsconfig: './tsconfig.typecheck.json', include: ['**/*.test-d.ts'], exclude: ['**/node_modules/**', '**/dist/**'] },
  },
});
