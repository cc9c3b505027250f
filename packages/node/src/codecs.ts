// Codecs: how one C type is read from and written to a DataView. The
// runtime never parses BTF; generated code composes these into the object's
// types (structs are generated as codecs of their own).
import { CoolbpfError } from './errors.js';

/** Reads and writes one C type at an offset of a DataView (object byte order). */
export interface Codec<T> {
  readonly size: number;
  decode(view: DataView, offset: number): T;
  encode(view: DataView, offset: number, value: T): void;
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

function intCodec(size: number, min: number, max: number, get: (v: DataView, o: number) => number,
  set: (v: DataView, o: number, x: number) => void, name: string): Codec<number> {
  return {
    size,
    decode: get,
    encode(view, offset, value) {
      if (!(value >= min && value <= max) || !Number.isInteger(value))
        throw new RangeError(`${name}: ${String(value)} is not an integer in [${min}, ${max}]`);
      set(view, offset, value);
    },
  };
}

function bigCodec(min: bigint, max: bigint, get: (v: DataView, o: number) => bigint,
  set: (v: DataView, o: number, x: bigint) => void, name: string): Codec<bigint> {
  return {
    size: 8,
    decode: get,
    encode(view, offset, value) {
      // a number is accepted too when it is an exact integer
      const v = typeof value === 'bigint' ? value : Number.isInteger(value) ? BigInt(value as number) : NaN;
      if (typeof v !== 'bigint' || v < min || v > max) throw new RangeError(`${name}: ${String(value)} is not an integer in [${min}, ${max}]`);
      set(view, offset, v);
    },
  };
}

const decoder = new TextDecoder('utf-8');
const encoder = new TextEncoder();

/** The codecs for an object of the given byte order. */
export function makeCodecs(littleEndian: boolean): Codecs {
  const le = littleEndian;
  const u8 = intCodec(1, 0, 0xff, (v, o) => v.getUint8(o), (v, o, x) => v.setUint8(o, x), 'u8');
  return Object.freeze({
    littleEndian: le,
    u8,
    i8: intCodec(1, -0x80, 0x7f, (v, o) => v.getInt8(o), (v, o, x) => v.setInt8(o, x), 'i8'),
    u16: intCodec(2, 0, 0xffff, (v, o) => v.getUint16(o, le), (v, o, x) => v.setUint16(o, x, le), 'u16'),
    i16: intCodec(2, -0x8000, 0x7fff, (v, o) => v.getInt16(o, le), (v, o, x) => v.setInt16(o, x, le), 'i16'),
    u32: intCodec(4, 0, 0xffffffff, (v, o) => v.getUint32(o, le), (v, o, x) => v.setUint32(o, x, le), 'u32'),
    i32: intCodec(4, -0x80000000, 0x7fffffff, (v, o) => v.getInt32(o, le), (v, o, x) => v.setInt32(o, x, le), 'i32'),
    u64: bigCodec(0n, 0xffffffffffffffffn, (v, o) => v.getBigUint64(o, le), (v, o, x) => v.setBigUint64(o, x, le), 'u64'),
    i64: bigCodec(-0x8000000000000000n, 0x7fffffffffffffffn, (v, o) => v.getBigInt64(o, le),
      (v, o, x) => v.setBigInt64(o, x, le), 'i64'),
    bool: {
      size: 1,
      decode: (v: DataView, o: number) => v.getUint8(o) !== 0,
      encode: (v: DataView, o: number, x: boolean) => v.setUint8(o, x ? 1 : 0),
    },
    f32: {
      size: 4,
      decode: (v: DataView, o: number) => v.getFloat32(o, le),
      encode: (v: DataView, o: number, x: number) => v.setFloat32(o, x, le),
    },
    f64: {
      size: 8,
      decode: (v: DataView, o: number) => v.getFloat64(o, le),
      encode: (v: DataView, o: number, x: number) => v.setFloat64(o, x, le),
    },
    cstring(n: number): Codec<string> {
      const size = count(n, 'cstring');
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
        encode(view, offset, value) {
          if (typeof value !== 'string') throw new TypeError(`cstring(${size}): expected a string`);
          const dst = new Uint8Array(view.buffer, view.byteOffset + offset, size);
          const r = encoder.encodeInto(value, dst);
          if (r.read < value.length) throw new RangeError(`cstring(${size}): '${value}' needs more than ${size} bytes of UTF-8`);
          dst.fill(0, r.written);
        },
      };
    },
    bytes(n: number): Codec<Uint8Array> {
      const size = count(n, 'bytes');
      return {
        size,
        decode: (view, offset) => new Uint8Array(view.buffer, view.byteOffset + offset, size).slice(),
        encode(view, offset, value) {
          if (!(value instanceof Uint8Array)) throw new TypeError(`bytes(${size}): expected a Uint8Array`);
          if (value.length > size) throw new RangeError(`bytes(${size}): ${value.length} bytes do not fit`);
          const dst = new Uint8Array(view.buffer, view.byteOffset + offset, size);
          dst.set(value);
          dst.fill(0, value.length);
        },
      };
    },
    array<T>(c: Codec<T>, n: number): Codec<T[]> {
      const len = count(n, 'array');
      const el = c.size;
      return {
        size: el * len,
        decode(view, offset) {
          const out = new Array<T>(len);
          for (let i = 0; i < len; i++) out[i] = c.decode(view, offset + i * el);
          return out;
        },
        encode(view, offset, value) {
          if (!Array.isArray(value)) throw new TypeError(`array(${len}): expected an array`);
          if (value.length > len) throw new RangeError(`array(${len}): ${value.length} elements do not fit`);
          for (let i = 0; i < value.length; i++) c.encode(view, offset + i * el, value[i] as T);
          if (value.length < len)
            new Uint8Array(view.buffer, view.byteOffset + offset + value.length * el, (len - value.length) * el).fill(0);
        },
      };
    },
  });
}

/** Ready-made codecs for little-endian objects (the only kind this release runs). */
export const codecs: Codecs = makeCodecs(true);
