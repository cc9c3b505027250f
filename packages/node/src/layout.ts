// What generated code builds an object's types from: the scalar, string and
// array codecs of codecs.ts, plus bitfields, unions (overlays) and the
// struct codec, all in the object's byte order, whatever the host's. The
// generated code keeps only what is specific to one object: the types, their
// layout metadata, and the straight-line decode/encode of every struct.
import { codecError, makeCodecs, markCodecError, reasonOf, within, type Codec, type Codecs } from './codecs.js';

/** Where a field sits in its struct: byte offset and size; for a bitfield also its first bit (from the struct's start) and width. */
export interface FieldLayout {
  readonly offset: number;
  readonly size: number;
  readonly bitOffset?: number;
  readonly bitWidth?: number;
}

/** A struct or union codec with its C layout: size, alignment, and where each field (by name, anonymous members flattened) sits. */
export interface StructCodec<T> extends Codec<T> {
  /** how C spells the type: 'struct event', 'union (anonymous, …)' */
  readonly type: string;
  /**
   * The alignment BTF implies: the largest alignment of the members (1 for
   * packed types). BTF records no alignment, so an explicit
   * `__attribute__((aligned(N)))` on the type or on a member is not seen:
   * this is what bpftool's C dump of the BTF gives (`_Alignof` of the
   * reconstruction), which can be less than the source's. Sizes and offsets
   * are exact either way.
   */
  readonly align: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
}

/** What generated code gives {@link Layout.struct}: the layout, and straight-line decode and encode. */
export interface StructSpec<T> {
  readonly type: string;
  readonly size: number;
  readonly align: number;
  readonly fields: Readonly<Record<string, FieldLayout>>;
  decode(view: DataView, offset: number): T;
  /** writes every byte of the type (padding zeroed); field errors name the field */
  encode(view: DataView, offset: number, value: T): void;
}

/** The type of a union's value: at least one member present (decoding gives all of them). */
export type Union<U extends object, All = UnionAll<U>> = U extends unknown ? U & Partial<All> : never;
/** Every member of a union type at once (the intersection of its alternatives). */
export type UnionAll<U> = (U extends unknown ? (k: U) => void : never) extends (k: infer I) => void ? I : never;

/** One member of a union (or of an anonymous union flattened into its parent): its field names, how to read and write it. */
export interface Alternative<T> {
  readonly names: readonly string[];
  decode(view: DataView, offset: number): Record<string, unknown>;
  encode(view: DataView, offset: number, value: T): void;
}

/**
 * The codecs and helpers for an object of one byte order. Generated code
 * takes what it uses from `layout(littleEndian)` once, at module level.
 */
export interface Layout extends Codecs {
  /** Sets `n` bytes at `offset` to zero: padding, unused union bytes, array tails. */
  zero(view: DataView, offset: number, n: number): void;
  /** Reads a bitfield of any width as a bigint: `bytes` bytes at `offset`, shifted right by `shift`, `width` bits kept, sign-extended if `signed`. */
  getBits(view: DataView, offset: number, bytes: number, shift: number, width: number, signed: boolean): bigint;
  /** getBits for bitfields in at most 4 bytes, as a number. */
  getBitsN(view: DataView, offset: number, bytes: number, shift: number, width: number, signed: boolean): number;
  /**
   * Writes a bitfield: read-modify-write of the bytes it touches, other bits
   * kept. A value that does not fit in `width` bits (or is not an integer)
   * throws RangeError naming `what`: C would truncate it, a wrapper does not
   * lose data silently.
   */
  setBits(view: DataView, offset: number, bytes: number, shift: number, width: number, signed: boolean, value: number | bigint, what?: string): void;
  /**
   * Writes the union members a value sets (those not undefined) over the
   * union's `size` bytes at `offset + at`, zeroing the rest. One member:
   * written. Several (a decoded value, or a copy of one): written in
   * declaration order, and each must read back as given, else RangeError
   * (they disagree, e.g. one was changed after decoding: set exactly one).
   * `what` says which union, for messages.
   */
  overlay<T>(view: DataView, offset: number, value: T, at: number, size: number, what: string, alternatives: readonly Alternative<T>[]): void;
  /** A struct or union codec from its layout and generated decode/encode; encode errors name the field (`struct event.pid: …`). */
  struct<T>(spec: StructSpec<T>): StructCodec<T>;
}

function zero(v: DataView, o: number, n: number): void {
  new Uint8Array(v.buffer, v.byteOffset + o, n).fill(0);
}

/** Deep equality of decoded values (numbers, bigints, strings, booleans, arrays, Uint8Arrays, plain objects). */
function same(a: unknown, b: unknown): boolean {
  if (Object.is(a, b)) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (a instanceof Uint8Array || b instanceof Uint8Array || Array.isArray(a) || Array.isArray(b)) {
    const x = a as ArrayLike<unknown>;
    const y = b as ArrayLike<unknown>;
    if (Array.isArray(a) !== Array.isArray(b) || x.length !== y.length) return false;
    for (let i = 0; i < x.length; i++) if (!same(x[i], y[i])) return false;
    return true;
  }
  const ka = Object.keys(a);
  if (ka.length !== Object.keys(b).length) return false;
  return ka.every((k) => same((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

function overlay<T>(v: DataView, o: number, value: T, at: number, size: number, what: string, alts: readonly Alternative<T>[]): void {
  const x = value as unknown as Record<string, unknown>;
  const set = alts.filter((a) => a.names.some((n) => x[n] !== undefined));
  const list = (l: readonly Alternative<T>[]) => l.map((a) => a.names.join('+')).join(', ');
  if (set.length === 0) throw markCodecError(new RangeError(`${what}: no member set (set one of: ${list(alts)})`));
  zero(v, o + at, size);
  for (const a of set) a.encode(v, o, value);
  if (set.length === 1) return;
  for (const a of set) {
    const back = a.decode(v, o);
    for (const n of a.names) {
      if (!same(back[n], x[n]))
        throw markCodecError(new RangeError(`${what}: members ${list(set)} are set and disagree ('${n}' does not read back as given); set exactly one`));
    }
  }
}

function struct<T>(spec: StructSpec<T>): StructCodec<T> {
  const fields: Record<string, FieldLayout> = {};
  for (const [k, f] of Object.entries(spec.fields)) fields[k] = Object.freeze({ ...f });
  const type = spec.type;
  const encode = spec.encode;
  return Object.freeze({
    type,
    size: spec.size,
    align: spec.align,
    fields: Object.freeze(fields),
    decode: spec.decode,
    encode(view: DataView, offset: number, value: T, what?: string): void {
      try {
        encode(view, offset, value);
      } catch (e) {
        // the path in front: the caller's name for the value, else the type
        // (a union's own complaint, 'union u: no member set', names it already)
        if (what !== undefined) throw within(e, what);
        if (e instanceof RangeError && reasonOf(e).startsWith(`${type}: `)) throw e;
        throw within(e, type);
      }
    },
  });
}

const made = new Map<boolean, Layout>();

/** The codecs and helpers for an object of this byte order (one set per byte order, made once). */
export function layout(littleEndian: boolean): Layout {
  const le = littleEndian === true;
  const done = made.get(le);
  if (done) return done;

  /** The `n` bytes a bitfield touches, as an unsigned integer in the object's byte order. */
  const rawBits = (v: DataView, o: number, n: number): bigint => {
    let r = 0n;
    for (let i = 0; i < n; i++) r = (r << 8n) | BigInt(v.getUint8(o + (le ? n - 1 - i : i)));
    return r;
  };
  const putRawBits = (v: DataView, o: number, n: number, r: bigint): void => {
    for (let i = n - 1; i >= 0; i--) {
      v.setUint8(o + (le ? n - 1 - i : i), Number(r & 0xffn));
      r >>= 8n;
    }
  };
  const fits = (value: number | bigint, width: number, signed: boolean, what: string | undefined): bigint => {
    const min = signed ? -(1n << BigInt(width - 1)) : 0n;
    const max = signed ? (1n << BigInt(width - 1)) - 1n : (1n << BigInt(width)) - 1n;
    const x = typeof value === 'bigint' ? value : typeof value === 'number' && Number.isInteger(value) ? BigInt(value) : undefined;
    if (x === undefined || x < min || x > max) {
      const shown = typeof value === 'bigint' ? `${value}n` : String(value);
      throw codecError('range', what, `${width}-bit bitfield`, `${shown} does not fit in a ${width}-bit ${signed ? 'signed' : 'unsigned'} bitfield [${min}, ${max}]`);
    }
    return x;
  };

  const l: Layout = Object.freeze({
    ...makeCodecs(le),
    zero,
    getBits(v: DataView, o: number, n: number, shift: number, width: number, signed: boolean): bigint {
      const x = BigInt.asUintN(width, rawBits(v, o, n) >> BigInt(shift));
      return signed ? BigInt.asIntN(width, x) : x;
    },
    getBitsN(v: DataView, o: number, n: number, shift: number, width: number, signed: boolean): number {
      let r = 0;
      for (let i = 0; i < n; i++) r = r * 256 + v.getUint8(o + (le ? n - 1 - i : i));
      const x = Math.floor(r / 2 ** shift) % 2 ** width;
      return signed && x >= 2 ** (width - 1) ? x - 2 ** width : x;
    },
    setBits(v: DataView, o: number, n: number, shift: number, width: number, signed: boolean, value: number | bigint, what?: string): void {
      const x = fits(value, width, signed, what);
      if (n <= 4 && typeof value === 'number') {
        // numbers all the way: exact below 2^53
        let r = 0;
        for (let i = 0; i < n; i++) r = r * 256 + v.getUint8(o + (le ? n - 1 - i : i));
        const old = Math.floor(r / 2 ** shift) % 2 ** width;
        const u = ((value % 2 ** width) + 2 ** width) % 2 ** width;
        r += (u - old) * 2 ** shift;
        for (let i = n - 1; i >= 0; i--) {
          v.setUint8(o + (le ? n - 1 - i : i), r % 256);
          r = Math.floor(r / 256);
        }
        return;
      }
      const mask = ((1n << BigInt(width)) - 1n) << BigInt(shift);
      const r = rawBits(v, o, n);
      putRawBits(v, o, n, (r & ~mask) | ((BigInt.asUintN(width, x) << BigInt(shift)) & mask));
    },
    overlay,
    struct,
  });
  made.set(le, l);
  return l;
}
