import { defineConfig } from 'vitest/config';

// One run covers unit tests beside the code (libs/*/src, apps/*/src, bench/src) and the cross-process
// suites under test/. Packages are imported through their built dist (npm test builds first).
export default defineConfig({
  test: {
    include: ['libs/*/src/**/*.test.ts', 'apps/*/src/**/*.test.ts', 'bench/src/**/*.test.ts', 'test/**/*.test.ts'],
    // The Sentinel failover test runs in `npm run chaos` (CHAOS=1), not in `npm test`: it failed
    // once in seven runs with a watcher left waiting after the failover (cause not found yet; see
    // docs/scaling.md), and CI must not depend on it.
    exclude: ['**/node_modules/**', '**/dist/**', ...(process.env['CHAOS'] ? [] : ['test/faults/sentinel-failover.test.ts'])],
    testTimeout: 30_000,
    hookTimeout: 30_000,
    typecheck: { enabled: true, tsconfig: './tsconfig.typecheck.json', include: ['**/*.test-d.ts'], exclude: ['**/node_modules/**', '**/dist/**'] },
  },
});
