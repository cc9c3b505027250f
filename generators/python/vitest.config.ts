import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/**/*.test.ts'],
    // mypy, pip and the kernel tests take their time; the kernel tests load
    // programs and look at the kernel's lists: one file at a time
    fileParallelism: false,
    testTimeout: 300_000,
    hookTimeout: 600_000,
  },
});
