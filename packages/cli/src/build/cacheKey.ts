import { createHash } from 'node:crypto';

/**
 * SHA-256 over named parts. Each part is length-prefixed, so no two
 * different part lists hash the same input bytes ("ab"+"c" vs "a"+"bc").
 */
export function cacheKey(parts: readonly (readonly [string, string])[]): string {
  const h = createHash('sha256');
  for (const [name, value] of parts) {
    const v = Buffer.from(value, 'utf8');
    h.update(`${name.length}:${name}=${v.length}:`).update(v).update('\n');
  }
  return h.digest('hex');
}
