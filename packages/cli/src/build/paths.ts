import { join } from 'node:path';

/** `${COOLBPF_CACHE:-${XDG_CACHE_HOME:-~/.cache}/coolbpf}`, empty meaning unset as in the shell. */
export function cacheRoot(env: Readonly<Record<string, string | undefined>>, home: string): string {
  if (env.COOLBPF_CACHE) return env.COOLBPF_CACHE;
  return join(env.XDG_CACHE_HOME || join(home, '.cache'), 'coolbpf');
}

/** Where vmlinux.h for a BTF blob is cached: by the SHA-256 of the (decompressed) BTF bytes. */
export function vmlinuxCachePath(root: string, btfSha256: string): string {
  return join(root, 'vmlinux', `${btfSha256}.h`);
}
