import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['tests/**/*.test.ts'],
    // the apps load BPF programs; one file at a time
    fileParallelism: false,
    // the generated package is imported by the apps, not by vite
    server: { deps: { external: [/\/build\//] } },
    testTimeout: 120_000,
    hookTimeout: 120_000,
  },
});
