import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

export const runtime = Object.freeze({
  includeDir: join(root, 'include'),
  header: join(root, 'include', 'coolbpf.h'),
  runtimeArchive: join(root, 'build', 'libcoolbpf-runtime.a'),
  libbpfArchive: join(root, 'build', 'libbpf.a'),
  libbpfIncludeDir: join(root, 'build', 'libbpf-include'),
  versionScript: join(root, 'src', 'coolbpf.map'),
  systemLibs: Object.freeze(['-lelf', '-lz']),
  fingerprint: () => readFileSync(join(root, 'build', 'VERSION'), 'utf8'),
});
