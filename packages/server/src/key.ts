import { createHash } from 'node:crypto';
import type { CompileRequest } from './request.js';

/**
 * The artifact cache key: everything that decides a compile's outputs, the
 * BTF by content and the toolchain (coolbpf-gen, clang, cc, runtime,
 * generators) by the compiler's fingerprint. Headers and defines are kept
 * in order: both can change the result. Each part is length-prefixed.
 */
export function requestKey(r: CompileRequest, btfSha256: string, toolchain: string): string {
  const h = createHash('sha256');
  const part = (name: string, value: string): void => {
    const v = Buffer.from(value, 'utf8');
    h.update(`${name.length}:${name}=${v.length}:`).update(v).update('\n');
  };
  // what the cache holds for the key: a tar, gzipped
  part('archive', 'tar.gz');
  part('toolchain', toolchain);
  part('btf', btfSha256);
  part('arch', r.arch);
  part('source path', r.source.path);
  part('source', r.source.text);
  for (const f of r.headers) {
    part('header path', f.path);
    part('header', f.text);
  }
  part('include dirs', JSON.stringify(r.includeDirs));
  part('defines', JSON.stringify(r.defines));
  part('languages', JSON.stringify(r.languages));
  // only when asked for: the keys of requests without it stay as they were
  if (r.minBtf) part('min btf', 'yes');
  return h.digest('hex');
}
