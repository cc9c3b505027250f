import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const KEY = /^[0-9a-f]{64}$/;
const TOUCH_EVERY_MS = 60_000;

/**
 * Finished archives by cache key, `<root>/artifacts/<k[0:2]>/<k>.tar`,
 * written under a temporary name and renamed. At most `diskBytes` on disk:
 * beyond that the least recently used go (use is the file's mtime, touched
 * on every hit, so it survives restarts). Recently used ones are also kept
 * in memory (up to `memoryBytes`) so hits do not touch the disk.
 */
export class ArtifactCache {
  readonly #memory = new Map<string, Buffer>();
  #memoryUsed = 0;
  /** key → size, least recently used first */
  readonly #disk = new Map<string, number>();
  /** when get() last set a file's mtime */
  readonly #touched = new Map<string, number>();
  #diskUsed = 0;

  constructor(
    readonly root: string,
    readonly diskBytes = 4 * 2 ** 30,
    readonly memoryBytes = 256 * 2 ** 20,
  ) {
    const found: [string, number, number][] = [];
    const dir = join(root, 'artifacts');
    let subdirs: string[] = [];
    try {
      subdirs = readdirSync(dir);
    } catch {
      // no cache yet
    }
    for (const sub of subdirs) {
      let names: string[] = [];
      try {
        names = readdirSync(join(dir, sub));
      } catch {
        continue;
      }
      for (const n of names) {
        const p = join(dir, sub, n);
        if (!n.endsWith('.tar') || !KEY.test(n.slice(0, -4))) {
          // a temporary file of a server that was killed while writing
          if (n.includes('.tmp-')) rmSync(p, { force: true });
          continue;
        }
        const st = statSync(p);
        found.push([n.slice(0, -4), st.size, st.mtimeMs]);
      }
    }
    for (const [k, size] of found.sort((a, b) => a[2] - b[2])) this.#track(k, size);
    this.#evict();
  }

  /** bytes of archives on disk */
  get diskUsed(): number {
    return this.#diskUsed;
  }

  #path(key: string): string {
    if (!KEY.test(key)) throw new Error(`ArtifactCache: bad key ${key}`);
    return join(this.root, 'artifacts', key.slice(0, 2), `${key}.tar`);
  }

  #track(key: string, size: number): void {
    this.#diskUsed -= this.#disk.get(key) ?? 0;
    this.#disk.delete(key);
    this.#disk.set(key, size);
    this.#diskUsed += size;
  }

  #evict(): void {
    for (const [k, size] of this.#disk) {
      if (this.#diskUsed <= this.diskBytes) break;
      rmSync(this.#path(k), { force: true });
      this.#disk.delete(k);
      this.#touched.delete(k);
      this.#diskUsed -= size;
      const m = this.#memory.get(k);
      if (m) {
        this.#memory.delete(k);
        this.#memoryUsed -= m.length;
      }
    }
  }

  get(key: string): Buffer | null {
    const size = this.#disk.get(key);
    if (size === undefined) return null;
    this.#track(key, size);
    const now = Date.now();
    try {
      // the mtime orders eviction after a restart: minutes are fine, a write per hit is not
      if (now - (this.#touched.get(key) ?? 0) > TOUCH_EVERY_MS) {
        utimesSync(this.#path(key), now / 1000, now / 1000);
        this.#touched.set(key, now);
      }
      const m = this.#memory.get(key);
      if (m) {
        this.#memory.delete(key);
        this.#memory.set(key, m);
        return m;
      }
      const b = readFileSync(this.#path(key));
      this.#remember(key, b);
      return b;
    } catch {
      // gone behind our back: forget it
      this.#disk.delete(key);
      this.#diskUsed -= size;
      return null;
    }
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
    this.#track(key, archive.length);
    this.#remember(key, archive);
    this.#evict();
  }

  #remember(key: string, b: Buffer): void {
    if (b.length > this.memoryBytes || this.#memory.has(key)) return;
    this.#memory.set(key, b);
    this.#memoryUsed += b.length;
    for (const [k, v] of this.#memory) {
      if (this.#memoryUsed <= this.memoryBytes) break;
      this.#memory.delete(k);
      this.#memoryUsed -= v.length;
    }
  }
}
