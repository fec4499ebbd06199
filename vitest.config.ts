import { defineConfig } from 'vitest/config';

export default defineConfig({
  resolve: {
    // Workspace packages are tested from their TypeScript sources, not from a stale build.
    conditions: ['source'],
  },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'packages/*/test/**/*.test.ts'],
    testTimeout: 20_000,
    hookTimeout: 60_000,
  },
});
