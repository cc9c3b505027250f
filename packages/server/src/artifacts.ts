import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Finished archives by cache key, `<root>/artifacts/<k[0:2]>/<k>.tar`,
 * written under a temporary name and renamed; recently used ones are also
 * kept in memory (up to `memoryBytes`) so hits do not touch the disk.
 */
export class ArtifactCache {
  readonly #memory = new Map<string, Buffer>();
  #memoryUsed = 0;

  constructor(
    readonly root: string,
    readonly memoryBytes = 256 << 20,
  ) {}

  #path(key: string): string {
    if (!/^[0-9a-f]{64}$/.test(key)) throw new Error(`ArtifactCache: bad key ${key}`);
    return join(this.root, 'artifacts', key.slice(0, 2), `${key}.tar`);
  }

  get(key: string): Buffer | null {
    const m = this.#memory.get(key);
    if (m) {
      // most recently used last
      this.#memory.delete(key);
      this.#memory.set(key, m);
      return m;
    }
    let b: Buffer;
    try {
      b = readFileSync(this.#path(key));
    } catch {
      return null;
    }
    this.#remember(key, b);
    return b;
  }

  put(key: string, archive: Buffer): void {
    const p = this.#path(key);
    mkdirSync(join(p, '..'), { recursive: true });
    const tmp = `${p}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      writeFileSync(tmp, archive);
      renameSync(tmp, p);
    } finally {
      rmSync(tmp, { force: true });
    }
    this.#remember(key, archive);
  }

  #remember(key: string, b: Buffer): void {
    if (b.length > this.memoryBytes) return;
    if (this.#memory.has(key)) return;
    this.#memory.set(key, b);
    this.#memoryUsed += b.length;
    for (const [k, v] of this.#memory) {
      if (this.#memoryUsed <= this.memoryBytes) break;
      this.#memory.delete(k);
      this.#memoryUsed -= v.length;
    }
  }
}
