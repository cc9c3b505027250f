import { ReadError } from './errors.js';

export type Endianness = 'little' | 'big';

/**
 * Bounds-checked reads over a byte range. Every offset is relative to the
 * view's start; reading past its end throws the given error class instead of
 * returning garbage, which is what keeps truncated input from turning into
 * a wrong answer.
 */
export class ByteView {
  readonly dv: DataView;
  readonly le: boolean;

  constructor(
    readonly bytes: Uint8Array,
    readonly endianness: Endianness,
    private readonly fail: (reason: string) => ReadError,
  ) {
    this.dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.le = endianness === 'little';
  }

  get length(): number {
    return this.bytes.byteLength;
  }

  check(offset: number, size: number, what: string): void {
    if (offset < 0 || size < 0 || offset + size > this.bytes.byteLength) {
      throw this.fail(`${what} at offset ${offset} (+${size}) is past the end (${this.bytes.byteLength} bytes)`);
    }
  }

  u8(off: number): number {
    if (off >= this.bytes.byteLength || off < 0) this.check(off, 1, 'byte');
    return this.dv.getUint8(off);
  }
  u16(off: number): number {
    if (off + 2 > this.bytes.byteLength || off < 0) this.check(off, 2, 'u16');
    return this.dv.getUint16(off, this.le);
  }
  u32(off: number): number {
    if (off + 4 > this.bytes.byteLength || off < 0) this.check(off, 4, 'u32');
    return this.dv.getUint32(off, this.le);
  }
  i32(off: number): number {
    if (off + 4 > this.bytes.byteLength || off < 0) this.check(off, 4, 'i32');
    return this.dv.getInt32(off, this.le);
  }
  u64(off: number): bigint {
    if (off + 8 > this.bytes.byteLength || off < 0) this.check(off, 8, 'u64');
    return this.dv.getBigUint64(off, this.le);
  }
  /** A u64 that must fit a JS number (sizes and offsets inside an in-memory file). */
  u64n(off: number, what: string): number {
    const v = this.u64(off);
    if (v > BigInt(Number.MAX_SAFE_INTEGER)) throw this.fail(`${what} ${v} is absurdly large`);
    return Number(v);
  }

  sub(offset: number, size: number, what: string): Uint8Array {
    this.check(offset, size, what);
    return this.bytes.subarray(offset, offset + size);
  }
}

/** Growable output buffer with the same byte order conventions. */
export class ByteWriter {
  private buf: Uint8Array;
  private dv: DataView;
  private len = 0;
  private readonly le: boolean;

  constructor(endianness: Endianness, initial = 4096) {
    this.buf = new Uint8Array(initial);
    this.dv = new DataView(this.buf.buffer);
    this.le = endianness === 'little';
  }

  get length(): number {
    return this.len;
  }

  private reserve(n: number): number {
    const at = this.len;
    if (at + n > this.buf.byteLength) {
      let cap = this.buf.byteLength * 2;
      while (cap < at + n) cap *= 2;
      const next = new Uint8Array(cap);
      next.set(this.buf.subarray(0, this.len));
      this.buf = next;
      this.dv = new DataView(next.buffer);
    }
    this.len += n;
    return at;
  }

  u8(v: number): void {
    const at = this.reserve(1); // may replace this.dv
    this.dv.setUint8(at, v);
  }
  u16(v: number): void {
    const at = this.reserve(2); // may replace this.dv
    this.dv.setUint16(at, v, this.le);
  }
  u32(v: number): void {
    const at = this.reserve(4); // may replace this.dv
    this.dv.setUint32(at, v >>> 0, this.le);
  }
  i32(v: number): void {
    const at = this.reserve(4); // may replace this.dv
    this.dv.setInt32(at, v | 0, this.le);
  }
  bytes(b: Uint8Array): void {
    const at = this.reserve(b.byteLength); // may replace this.buf
    this.buf.set(b, at);
  }
  /** Overwrites a u32 written earlier (for headers whose lengths are known last). */
  patchU32(at: number, v: number): void {
    this.dv.setUint32(at, v >>> 0, this.le);
  }

  finish(): Uint8Array {
    return this.buf.slice(0, this.len);
  }
}
