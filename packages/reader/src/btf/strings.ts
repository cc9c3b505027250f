import { BtfError } from '../errors.js';

const utf8 = new TextDecoder('utf-8', { fatal: false });

/**
 * A BTF string section: NUL-terminated strings addressed by byte offset.
 * Decoding keeps the original bytes, so an encoder that starts from a decoded
 * table reproduces it exactly and only appends strings it has not seen; that
 * is also how libbpf edits BTF in place.
 *
 * Split BTF (a module on top of vmlinux) continues the base's offsets: offset
 * N >= base.length addresses byte N - base.length of this table.
 */
export class StringTable {
  #chunks: Uint8Array[];
  #length: number;
  /** the original bytes as latin1, one char per byte, for fast slicing; built on first use */
  #textCache: string | null = null;
  #asciiCache = true;
  #index: Map<string, number> | null = null;
  readonly base: StringTable | null;

  private constructor(bytes: Uint8Array, base: StringTable | null) {
    this.base = base;
    this.#chunks = [bytes];
    this.#length = bytes.length;
  }

  get #text(): string {
    if (this.#textCache === null) {
      const b = this.#chunks[0]!;
      this.#textCache = Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('latin1');
      this.#asciiCache = !/[\x80-\xff]/.test(this.#textCache);
    }
    return this.#textCache;
  }

  get #ascii(): boolean {
    void this.#text;
    return this.#asciiCache;
  }

  /** Validates and wraps a string section. */
  static decode(bytes: Uint8Array, base: StringTable | null = null): StringTable {
    if (bytes.length > 0) {
      // A base table must start with the empty string at offset 0; a split table need not.
      if (!base && bytes[0] !== 0) throw new BtfError('string section does not start with an empty string');
      if (bytes[bytes.length - 1] !== 0) throw new BtfError('string section is not NUL-terminated');
    }
    return new StringTable(bytes, base);
  }

  /** An empty table (just the empty string) to build BTF from scratch. */
  static create(base: StringTable | null = null): StringTable {
    return new StringTable(base ? new Uint8Array(0) : new Uint8Array(1), base);
  }

  /** Offset one past the last string, including the base's strings. */
  get end(): number {
    return (this.base?.end ?? 0) + this.#length;
  }

  /** This table's own size in bytes. */
  get length(): number {
    return this.#length;
  }

  has(offset: number): boolean {
    return offset >= 0 && offset < this.end;
  }

  /** The string at `offset`; the caller has checked it with has(). */
  get(offset: number): string {
    const baseEnd = this.base?.end ?? 0;
    if (offset < baseEnd) return this.base!.get(offset);
    const off = offset - baseEnd;
    if (off >= this.#text.length) return this.#appended(off);
    const end = this.#text.indexOf('\0', off);
    if (this.#ascii) return this.#text.slice(off, end);
    return utf8.decode(this.#chunks[0]!.subarray(off, end));
  }

  #appended(off: number): string {
    const all = this.bytes();
    return utf8.decode(all.subarray(off, all.indexOf(0, off)));
  }

  /** The offset of `s`, adding it if it is not yet in the table (or its base). */
  add(s: string): number {
    const found = this.offsetOf(s);
    if (found !== undefined) return found;
    const enc = Buffer.from(s + '\0', 'utf-8');
    const at = this.end;
    this.#chunks.push(new Uint8Array(enc.buffer, enc.byteOffset, enc.byteLength));
    this.#length += enc.byteLength;
    this.#index!.set(s, at);
    return at;
  }

  /** The first offset of `s`, searching the base first, as libbpf does. */
  offsetOf(s: string): number | undefined {
    const inBase = this.base?.offsetOf(s);
    if (inBase !== undefined) return inBase;
    if (!this.#index) this.#index = this.#buildIndex();
    return this.#index.get(s);
  }

  #buildIndex(): Map<string, number> {
    const idx = new Map<string, number>();
    const baseEnd = this.base?.end ?? 0;
    const text = this.#text;
    for (let off = 0; off < text.length; ) {
      let end = text.indexOf('\0', off);
      if (end < 0) end = text.length;
      const s = this.#ascii ? text.slice(off, end) : utf8.decode(this.#chunks[0]!.subarray(off, end));
      if (!idx.has(s)) idx.set(s, baseEnd + off);
      off = end + 1;
    }
    return idx;
  }

  /** This table's own bytes (not the base's). */
  bytes(): Uint8Array {
    if (this.#chunks.length > 1) this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0]!;
  }

  /** The bytes of this table and its bases, addressable by offset. */
  allBytes(): Uint8Array {
    if (!this.base) return this.bytes();
    const b = this.base.allBytes();
    const own = this.bytes();
    const out = new Uint8Array(b.length + own.length);
    out.set(b);
    out.set(own, b.length);
    return out;
  }

  /** An independent copy, so encoding does not grow the decoded BTF's table. */
  clone(): StringTable {
    return new StringTable(this.bytes().slice(), this.base);
  }
}
