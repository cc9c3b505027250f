import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    testTimeout: 300_000,
    hookTimeout: 300_000,
    // go build and go test share the Go build cache; one file at a time
    fileParallelism: false,
  },
});
