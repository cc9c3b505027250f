#!/usr/bin/env -S node --max-semi-space-size=32
// The installed command. It lives outside dist/ so npm can link it before
// the TypeScript is built; a larger young generation keeps GC cheap when
// listing all of vmlinux.
import { existsSync } from 'node:fs';

const main = new URL('../dist/main.js', import.meta.url);
if (!existsSync(main)) {
  process.stderr.write('coolbpf-gen: not built yet: run `npm run setup` in the coolbpf repository\n');
  process.exit(1);
}
await import(main.href);
