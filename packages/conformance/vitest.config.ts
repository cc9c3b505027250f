import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['node/**/*.test.ts', 'python*.test.ts', 'rust.test.ts', 'go.test.ts'],
    // coolbpf-gen build for every scenario, before any file imports one
    globalSetup: ['node/global-setup.ts'],
    // Every scenario loads programs into the kernel and looks at the kernel's
    // global lists of programs, maps and links: one file at a time.
    fileParallelism: false,
    // the generated packages are imported by Node itself, as a user's program
    // would, not transformed by vite
    server: { deps: { external: [/\/build\/[^/]+\/node\//] } },
    testTimeout: 60_000,
    hookTimeout: 120_000,
  },
});
