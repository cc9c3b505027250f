// Codecs: how one C type is read from and written to a DataView. The
// runtime never parses BTF; generated code composes these into the object's
// types (structs are generated as codecs of their own).
import { CoolbpfError } from './errors.js';

/** Reads and writes one C type at an offset of a DataView (object byte order). */
export interface Codec<T> {
  readonly size: number;
  decode(view: DataView, offset: number): T;
  /** `what` names the value in errors ('pid', 'cfg.ports'); a value out of
   *  the C type's range throws RangeError, one of the wrong kind TypeError */
  encode(view: DataView, offset: number, value: T, what?: string): void;
}

export interface Codecs {
  readonly littleEndian: boolean;
  readonly u8: Codec<number>;
  readonly i8: Codec<number>;
  readonly u16: Codec<number>;
  readonly i16: Codec<number>;
  readonly u32: Codec<number>;
  readonly i32: Codec<number>;
  readonly u64: Codec<bigint>;
  readonly i64: Codec<bigint>;
  /** __int128 and unsigned __int128 */
  readonly u128: Codec<bigint>;
  readonly i128: Codec<bigint>;
  /** one byte, 0 false, anything else true; encodes 1 or 0 */
  readonly bool: Codec<boolean>;
  readonly f32: Codec<number>;
  readonly f64: Codec<number>;
  /** char[n] as a string (UTF-8, up to the first NUL; encode NUL-pads, throws
   *  RangeError when the UTF-8 bytes exceed n; exactly n bytes leaves no NUL,
   *  as C allows for char[n]) */
  cstring(n: number): Codec<string>;
  /** n raw bytes (decode copies; encode takes at most n bytes and zero-pads) */
  bytes(n: number): Codec<Uint8Array>;
  /** n elements; nest for multi-dimensional arrays. encode takes at most n
   *  values and zero-fills the rest. */
  array<T>(c: Codec<T>, n: number): Codec<T[]>;
}

// ---- errors that name the value ------------------------------------------------

/** Where a codec error is (a path: 'pid', 'hist[3]', 'cfg.ports[1]'; '' for the value itself) and why. */
const failures = new WeakMap<Error, { readonly path: string; readonly reason: string }>();

/**
 * A RangeError or TypeError about a value being encoded: `what: reason
 * (note)` when the caller named the value, else `fallback: reason` (the
 * fallback names the codec). Composite codecs put their own path in front
 * with {@link within}.
 */
export function codecError(kind: 'range' | 'type', what: string | undefined, fallback: string, reason: string, note?: string): Error {
  const full = note === undefined ? reason : `${reason} (${note})`;
  const message = what === undefined ? `${fallback}: ${reason}` : `${what}: ${full}`;
  const e = kind === 'range' ? new RangeError(message) : new TypeError(message);
  failures.set(e, { path: what ?? '', reason: full });
  return e;
}

/**
 * The error `e` (thrown while encoding a part of a value) with `segment` (a
 * field name, or `[i]`) in front of its path. Errors other than RangeError
 * and TypeError, and any error for an empty segment, pass through unchanged.
 */
export function within(e: unknown, segment: string): unknown {
  if ((!(e instanceof RangeError) && !(e instanceof TypeError)) || segment === '') return e;
  const f = failures.get(e);
  const inner = f?.path ?? '';
  const path = inner === '' ? segment : inner.startsWith('[') ? segment + inner : `${segment}.${inner}`;
  const reason = f?.reason ?? e.message;
  const out = e instanceof RangeError ? new RangeError(`${path}: ${reason}`) : new TypeError(`${path}: ${reason}`);
  failures.set(out, { path, reason });
  return out;
}

/** The reason of a codec error without its path (for errors that say what they are about themselves). */
export function reasonOf(e: Error): string {
  return failures.get(e)?.reason ?? e.message;
}

/** Records a codec error made elsewhere (overlays) as being about the value itself. */
export function markCodecError<E extends Error>(e: E): E {
  failures.set(e, { path: '', reason: e.message });
  return e;
}

/** Whether this host is little-endian (the kernel writes host-order data). */
export const hostLittleEndian = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/** Throws unless an object of this byte order can run here: BPF data is in
 *  the host's order, and this release supports little-endian hosts only. */
export function checkByteOrder(littleEndian: boolean, what: string): void {
  if (!hostLittleEndian)
    throw new CoolbpfError(`${what}: this runtime supports little-endian hosts only`, 'EMISMATCH', 0);
  if (!littleEndian)
    throw new CoolbpfError(`${what}: the object is big-endian, this host is little-endian (rebuild it for this machine)`, 'EMISMATCH', 0);
}

function count(n: number, what: string): number {
  if (!Number.isSafeInteger(n) || n < 0) throw new RangeError(`${what}: n must be a non-negative integer, got ${n}`);
  return n;
}

function show(value: unknown): string {
  return typeof value === 'string' ? `'${value}'` : typeof value === 'bigint' ? `${value}n` : String(value);
}

function intCodec(size: number, min: number, max: number, get: (v: DataView, o: number) => number,
  set: (v: DataView, o: number, x: number) => void, name: string): Codec<number> {
  return {
    size,
    decode: get,
    encode(view, offset, value, what) {
      if (!(value >= min && value <= max) || !Number.isInteger(value))
        throw codecError('range', what, name, `${show(value)} is not an integer in [${min}, ${max}]`, name);
      set(view, offset, value);
    },
  };
}

/** A bigint (or an exact integer number) in [min, max]; RangeError naming `what` otherwise. */
function bigValue(value: unknown, min: bigint, max: bigint, what: string | undefined, name: string): bigint {
  const v = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
  if (v === undefined || v < min || v > max) throw codecError('range', what, name, `${show(value)} is not an integer in [${min}, ${max}]`, name);
  return v;
}

function bigCodec(min: bigint, max: bigint, get: (v: DataView, o: number) => bigint,
  set: (v: DataView, o: number, x: bigint) => void, name: string): Codec<bigint> {
  return {
    size: 8,
    decode: get,
    // a number is accepted too when it is an exact integer
    encode: (view, offset, value, what) => set(view, offset, bigValue(value, min, max, what, name)),
  };
}

function int128(signed: boolean, le: boolean): Codec<bigint> {
  const name = signed ? 'i128' : 'u128';
  const min = signed ? -(1n << 127n) : 0n;
  const max = signed ? (1n << 127n) - 1n : (1n << 128n) - 1n;
  return {
    size: 16,
    decode(v, o) {
      const lo = v.getBigUint64(le ? o : o + 8, le);
      const hi = v.getBigUint64(le ? o + 8 : o, le);
      const x = (hi << 64n) | lo;
      return signed ? BigInt.asIntN(128, x) : x;
    },
    encode(v, o, value, what) {
      const u = BigInt.asUintN(128, bigValue(value, min, max, what, name));
      v.setBigUint64(le ? o : o + 8, u & 0xffffffffffffffffn, le);
      v.setBigUint64(le ? o + 8 : o, u >> 64n, le);
    },
  };
}

function floatCodec(size: 4 | 8, get: (v: DataView, o: number) => number, set: (v: DataView, o: number, x: number) => void): Codec<number> {
  const name = size === 4 ? 'f32' : 'f64';
  return {
    size,
    decode: get,
    encode(view, offset, value, what) {
      if (typeof value !== 'number') throw codecError('type', what, name, `expected a number, got ${typeof value}`, name);
      set(view, offset, value);
    },
  };
}

const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

const made = new Map<boolean, Codecs>();

/** The codecs for an object of the given byte order (made once per byte order). */
export function makeCodecs(littleEndian: boolean): Codecs {
  const le = littleEndian === true;
  const done = made.get(le);
  if (done) return done;
  const c: Codecs = Object.freeze({
    littleEndian: le,
    u8: intCodec(1, 0, 0xff, (v, o) => v.getUint8(o), (v, o, x) => v.setUint8(o, x), 'u8'),
    i8: intCodec(1, -0x80, 0x7f, (v, o) => v.getInt8(o), (v, o, x) => v.setInt8(o, x), 'i8'),
    u16: intCodec(2, 0, 0xffff, (v, o) => v.getUint16(o, le), (v, o, x) => v.setUint16(o, x, le), 'u16'),
    i16: intCodec(2, -0x8000, 0x7fff, (v, o) => v.getInt16(o, le), (v, o, x) => v.setInt16(o, x, le), 'i16'),
    u32: intCodec(4, 0, 0xffffffff, (v, o) => v.getUint32(o, le), (v, o, x) => v.setUint32(o, x, le), 'u32'),
    i32: intCodec(4, -0x80000000, 0x7fffffff, (v, o) => v.getInt32(o, le), (v, o, x) => v.setInt32(o, x, le), 'i32'),
    u64: bigCodec(0n, 0xffffffffffffffffn, (v, o) => v.getBigUint64(o, le), (v, o, x) => v.setBigUint64(o, x, le), 'u64'),
    i64: bigCodec(-0x8000000000000000n, 0x7fffffffffffffffn, (v, o) => v.getBigInt64(o, le),
      (v, o, x) => v.setBigInt64(o, x, le), 'i64'),
    u128: int128(false, le),
    i128: int128(true, le),
    bool: {
      size: 1,
      decode: (v: DataView, o: number) => v.getUint8(o) !== 0,
      encode: (v: DataView, o: number, x: boolean) => v.setUint8(o, x ? 1 : 0),
    },
    f32: floatCodec(4, (v, o) => v.getFloat32(o, le), (v, o, x) => v.setFloat32(o, x, le)),
    f64: floatCodec(8, (v, o) => v.getFloat64(o, le), (v, o, x) => v.setFloat64(o, x, le)),
    cstring(n: number): Codec<string> {
      const size = count(n, 'cstring');
      const name = `cstring(${size})`;
      return {
        size,
        decode(view, offset) {
          // ASCII (the common case: comm, names) without a TextDecoder call
          let s = '';
          for (let i = 0; i < size; i++) {
            const b = view.getUint8(offset + i);
            if (b === 0) return s;
            if (b >= 0x80) {
              let end = i;
              while (end < size && view.getUint8(offset + end) !== 0) end++;
              return decoder.decode(new Uint8Array(view.buffer, view.byteOffset + offset, end));
            }
            s += String.fromCharCode(b);
          }
          return s;
        },
        encode(view, offset, value, what) {
          if (typeof value !== 'string') throw codecError('type', what, name, `expected a string, got ${typeof value}`);
          // encoded first: a string that does not fit leaves the bytes as they were
          const b = encoder.encode(value);
          if (b.length > size) throw codecError('range', what, name, `a string of ${b.length} bytes does not fit in char[${size}]`);
          const dst = new Uint8Array(view.buffer, view.byteOffset + offset, size);
          dst.set(b);
          dst.fill(0, b.length);
        },
      };
    },
    bytes(n: number): Codec<Uint8Array> {
      const size = count(n, 'bytes');
      const name = `bytes(${size})`;
      return {
        size,
        decode: (view, offset) => new Uint8Array(view.buffer, view.byteOffset + offset, size).slice(),
        encode(view, offset, value, what) {
          if (!(value instanceof Uint8Array)) throw codecError('type', what, name, 'expected a Uint8Array');
          if (value.length > size) throw codecError('range', what, name, `${value.length} bytes do not fit in ${size}`);
          const dst = new Uint8Array(view.buffer, view.byteOffset + offset, size);
          dst.set(value);
          dst.fill(0, value.length);
        },
      };
    },
    array<T>(c: Codec<T>, n: number): Codec<T[]> {
      const len = count(n, 'array');
      const el = c.size;
      const name = `array(${len})`;
      return {
        size: el * len,
        decode(view, offset) {
          const out = new Array<T>(len);
          for (let i = 0; i < len; i++) out[i] = c.decode(view, offset + i * el);
          return out;
        },
        encode(view, offset, value, what) {
          if (!Array.isArray(value)) throw codecError('type', what, name, 'expected an array');
          if (value.length > len) throw codecError('range', what, name, `${value.length} elements do not fit in an array of ${len}`);
          let i = 0;
          try {
            // '' for a name: the element's errors get their index in front, not their type
            for (; i < value.length; i++) c.encode(view, offset + i * el, value[i] as T, '');
          } catch (e) {
            const at = within(e, `[${i}]`);
            throw what === undefined ? at : within(at, what);
          }
          if (value.length < len)
            new Uint8Array(view.buffer, view.byteOffset + offset + value.length * el, (len - value.length) * el).fill(0);
        },
      };
    },
  });
  made.set(le, c);
  return c;
}

/** Ready-made codecs for little-endian objects (the only kind this release runs). */
export const codecs: Codecs = makeCodecs(true);
