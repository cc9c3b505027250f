import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // builds the BPF program and the apps (cached) before any test runs
    globalSetup: ['tests/global-setup.ts'],
    // the end-to-end tests load BPF programs and make network namespaces: one file at a time
    fileParallelism: false,
    testTimeout: 60_000,
    hookTimeout: 180_000,
  },
});
