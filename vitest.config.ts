import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['**/*.test.ts'],
    exclude: ['node_modules/**', 'dist/**'],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // End-to-end files start their own processes on free ports; two workers fit 2 cores.
    maxWorkers: 2,
  },
});
