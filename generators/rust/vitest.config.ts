import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // the cargo builds share one target directory: one file at a time
    fileParallelism: false,
    testTimeout: 600_000,
    hookTimeout: 600_000,
  },
});
