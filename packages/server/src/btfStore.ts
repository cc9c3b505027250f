import { mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { looksSplit, readBtfFile, CoolbpfError } from '@coolbpf/reader';
import { HttpError, badRequest } from './errors.js';
import { ARCHES, checkArch, checkRelease, type Arch } from './request.js';

/** One stored kernel BTF, as GET /btf lists it. */
export interface BtfEntry {
  readonly release: string;
  readonly arch: Arch;
  /** of the raw (decompressed) bytes: the id a request may name instead of the release */
  readonly sha256: string;
  readonly size: number;
  /** ISO 8601 */
  readonly addedAt: string;
  /** where it came from: a file name, "upload", "/sys/kernel/btf/vmlinux" */
  readonly source: string;
}

const MAX_INFLATED = 1 << 30;

/** Raw BTF from raw or gzip-compressed bytes, checked to be a whole kernel's (not split) BTF. */
export function rawKernelBtf(bytes: Uint8Array, label: string): Uint8Array {
  let raw = bytes;
  if (raw[0] === 0x1f && raw[1] === 0x8b) {
    try {
      raw = gunzipSync(raw, { maxOutputLength: MAX_INFLATED });
    } catch (e) {
      throw badRequest(`${label}: gzip data is corrupt or too large (${(e as Error).message})`);
    }
  }
  try {
    if (looksSplit(raw)) throw badRequest(`${label}: split BTF (a module's); the store holds whole kernels' BTF`);
    readBtfFile(raw);
  } catch (e) {
    if (e instanceof HttpError) throw e;
    if (e instanceof CoolbpfError) throw badRequest(`${label}: not kernel BTF (${e.message})`);
    throw e;
  }
  return raw;
}

/**
 * Kernel BTF by release and arch under `<root>/btf/<arch>/`: `<release>.btf`
 * (raw) and `<release>.json` (its BtfEntry), each written to a temporary
 * name and renamed, so readers never see half a file.
 */
export class BtfStore {
  /**
   * `now` (ms) is for tests. Another process's add (`coolbpf-gen btf add
   * --store`) is seen within `recheckMs`; this instance's own at once.
   */
  constructor(
    readonly root: string,
    readonly o: { readonly recheckMs?: number; readonly now?: () => number } = {},
  ) {}

  #dir(arch: Arch): string {
    return join(this.root, 'btf', arch);
  }

  add(bytes: Uint8Array, o: { release: string; arch: Arch; source: string; now?: Date }): BtfEntry {
    const release = checkRelease(o.release);
    const arch = checkArch(o.arch);
    const raw = rawKernelBtf(bytes, o.source);
    const entry: BtfEntry = {
      release,
      arch,
      sha256: createHash('sha256').update(raw).digest('hex'),
      size: raw.length,
      addedAt: (o.now ?? new Date()).toISOString(),
      source: o.source,
    };
    const dir = this.#dir(arch);
    mkdirSync(dir, { recursive: true });
    const tmp = `.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
    try {
      writeFileSync(join(dir, `${tmp}.btf`), raw);
      writeFileSync(join(dir, `${tmp}.json`), `${JSON.stringify(entry, null, 2)}\n`);
      renameSync(join(dir, `${tmp}.btf`), join(dir, `${release}.btf`));
      renameSync(join(dir, `${tmp}.json`), join(dir, `${release}.json`));
    } finally {
      rmSync(join(dir, `${tmp}.btf`), { force: true });
      rmSync(join(dir, `${tmp}.json`), { force: true });
    }
    this.#listed = null;
    return entry;
  }

  #listed: { stamp: string; entries: BtfEntry[]; checkedAt: number } | null = null;

  /**
   * Every entry; re-read only when a directory changed (every add renames
   * into one), and the directories are looked at no more than once per
   * `recheckMs`: under load, stat calls were a tenth of a cached download.
   */
  list(): BtfEntry[] {
    return [...this.#entries()];
  }

  #entries(): readonly BtfEntry[] {
    const now = (this.o.now ?? Date.now)();
    if (this.#listed && now - this.#listed.checkedAt < (this.o.recheckMs ?? 1000)) return this.#listed.entries;
    const stamp = ARCHES.map((a) => {
      try {
        return String(statSync(this.#dir(a)).mtimeMs);
      } catch {
        return '-';
      }
    }).join(',');
    this.#listed = this.#listed?.stamp === stamp ? { ...this.#listed, checkedAt: now } : { stamp, entries: this.#read(), checkedAt: now };
    return this.#listed.entries;
  }

  #read(): BtfEntry[] {
    const out: BtfEntry[] = [];
    for (const arch of ARCHES) {
      let names: string[];
      try {
        names = readdirSync(this.#dir(arch));
      } catch {
        continue;
      }
      for (const n of names.sort()) {
        if (!n.endsWith('.json') || n.startsWith('.')) continue;
        try {
          const e = JSON.parse(readFileSync(join(this.#dir(arch), n), 'utf8')) as BtfEntry;
          if (e.arch === arch && `${e.release}.json` === n) out.push(e);
        } catch {
          // half-removed or hand-edited: not listed
        }
      }
    }
    return out;
  }

  /** The entry for a release (or a SHA-256), or a 404. */
  find(target: { release: string } | { btf: string }, arch: Arch): BtfEntry {
    const e = this.#entries().find((x) => x.arch === arch && ('release' in target ? x.release === target.release : x.sha256 === target.btf));
    if (!e) {
      const what = 'release' in target ? `kernel release '${target.release}'` : `BTF ${target.btf}`;
      throw new HttpError(404, `no BTF for ${what} (${arch}) in the store; upload it with \`coolbpf-gen btf add\` or POST /btf`);
    }
    return e;
  }

  /** Path of an entry's raw BTF file. */
  path(e: BtfEntry): string {
    return join(this.#dir(e.arch), `${e.release}.btf`);
  }

  read(e: BtfEntry): Uint8Array {
    return readFileSync(this.path(e));
  }
}
