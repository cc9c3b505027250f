import type { Endianness } from '../bytes.js';
import { BtfError } from '../errors.js';
import { KIND, KIND_NAMES, type KindName } from './kinds.js';
import { StringTable } from './strings.js';
import {
  ArrayType, Const, Datasec, DeclTag, Enum, Enum64, Float, Func, FuncProto, Fwd, Int, LINKAGES, Member, Param,
  Pointer, Restrict, Struct, TypeTag, Typedef, Union, Var, VarSecinfo, Volatile, VOID, type LazyRef, type Type,
} from './types.js';
import { readHeader, scanTypes, type TypeIndex } from './wire.js';

/** Kinds whose third word is a byte size (the rest hold a type id or nothing). */
const SIZED = new Set<number>([KIND.INT, KIND.STRUCT, KIND.UNION, KIND.ENUM, KIND.ENUM64, KIND.DATASEC, KIND.FLOAT]);

/** Columnar listing of a BTF's own types; index i is type id firstId + i. */
export interface TypeListing {
  readonly firstId: number;
  readonly count: number;
  /** kind numbers: KIND_NAMES[kinds[i]] */
  readonly kinds: Uint8Array;
  /** own byte size, or -1 for kinds without one */
  readonly sizes: Int32Array;
  /** name of type i: names.subarray(nameStart[i], nameEnd[i]), UTF-8 */
  readonly nameStart: Uint32Array;
  readonly nameEnd: Uint32Array;
  readonly names: Uint8Array;
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

export interface DecodeOptions {
  /** base BTF for split BTF (a kernel module's BTF on top of vmlinux) */
  base?: Btf;
}

/**
 * Decoded BTF. Types are materialized on first access and cached, so the
 * same type always comes back as the same object. Type ids exist only for
 * listing and diagnostics (`idOf`, `typeById`); types never expose them.
 */
export class Btf {
  readonly endianness: Endianness;
  readonly base: Btf | null;
  readonly strings: StringTable;
  /** id of this table's first type: 1, or one past the base's last */
  readonly firstId: number;
  readonly #index: TypeIndex;
  readonly #cache: (Type | undefined)[];
  // A Map, not a WeakMap: #cache holds every type anyway, and ephemeron
  // tables made materializing vmlinux spend most of its time in GC.
  readonly #ids = new Map<Type, number>();
  #byName: Map<string, number[]> | null = null;

  private constructor(endianness: Endianness, base: Btf | null, strings: StringTable, index: TypeIndex) {
    this.endianness = endianness;
    this.base = base;
    this.strings = strings;
    this.firstId = base ? base.firstId + base.count : 1;
    this.#index = index;
    this.#cache = new Array(index.offsets.length);
    if (!base) this.#ids.set(VOID, 0);
  }

  /** Decodes a .BTF section or a raw BTF file (already decompressed). */
  static decode(bytes: Uint8Array, options: DecodeOptions = {}): Btf {
    const h = readHeader(bytes);
    const base = options.base ?? null;
    if (base && base.endianness !== h.endianness) throw new BtfError(`byte order ${h.endianness} differs from the base BTF's (${base.endianness})`);
    const body = h.hdrLen;
    const strBytes = bytes.subarray(body + h.strOff, body + h.strOff + h.strLen);
    const strings = StringTable.decode(strBytes, base?.strings ?? null);
    const typeBytes = bytes.subarray(body + h.typeOff, body + h.typeOff + h.typeLen);
    const firstId = base ? base.firstId + base.count : 1;
    const index = scanTypes(typeBytes, h.endianness, { firstId, stringsEnd: strings.end });
    const btf = new Btf(h.endianness, base, strings, index);
    btf.#checkLoops();
    return btf;
  }

  /** Number of types in this table (without void and without the base's). */
  get count(): number {
    return this.#index.offsets.length;
  }

  /** One past the largest type id, base included. */
  get end(): number {
    return this.firstId + this.count;
  }

  /** The type with the given id (0 is void); ids of the base resolve there. */
  typeById(id: number): Type {
    if (id === 0) return this.base ? this.base.typeById(0) : VOID;
    if (id < this.firstId) {
      if (this.base) return this.base.typeById(id);
      throw new BtfError(`type id ${id} out of range`);
    }
    const i = id - this.firstId;
    if (i >= this.count) throw new BtfError(`type id ${id} out of range (${this.end} types)`);
    let t = this.#cache[i];
    if (!t) {
      t = this.#materialize(i, id);
      this.#cache[i] = t;
      this.#ids.set(t, id);
    }
    return t;
  }

  /** The id of a type decoded from this BTF or its base, else undefined. */
  idOf(t: Type): number | undefined {
    return this.#ids.get(t) ?? this.base?.idOf(t);
  }

  /** This table's own types, in id order. */
  *types(): IterableIterator<Type> {
    for (let id = this.firstId; id < this.end; id++) yield this.typeById(id);
  }

  /** [id, type] for this table's own types, in id order. */
  *entries(): IterableIterator<[number, Type]> {
    for (let id = this.firstId; id < this.end; id++) yield [id, this.typeById(id)];
  }

  /**
   * Kind, name and own size (null for kinds without one) of a type, read
   * straight from the wire without materializing it: listing all of
   * vmlinux this way is several times faster than through typeById.
   */
  summary(id: number): { kind: KindName; name: string; size: number | null } {
    if (id < this.firstId) return this.base ? this.base.summary(id) : { kind: 'void', name: '', size: null };
    const off = this.#index.offsets[id - this.firstId];
    if (off === undefined) throw new BtfError(`type id ${id} out of range (${this.end} types)`);
    const { dv, le } = this.#index.view;
    const kind = (dv.getUint32(off + 4, le) >>> 24) & 0x1f;
    return {
      kind: KIND_NAMES[kind]!,
      name: this.strings.get(dv.getUint32(off, le)),
      size: SIZED.has(kind) ? dv.getUint32(off + 8, le) : null,
    };
  }

  /**
   * This table's own types as columns (kind, size, name bytes), for tools
   * that list every type: no objects or strings per type, so listing all
   * of vmlinux creates almost no garbage.
   */
  listing(): TypeListing {
    const { offsets, view } = this.#index;
    const { dv, le } = view;
    const n = offsets.length;
    const kinds = new Uint8Array(n);
    const sizes = new Int32Array(n);
    const nameStart = new Uint32Array(n);
    const nameEnd = new Uint32Array(n);
    const own = this.strings.bytes();
    // Split BTF names may live in the base's strings: address one buffer for both.
    const names = this.strings.base ? concat(this.strings.base.allBytes(), own) : own;
    for (let i = 0; i < n; i++) {
      const off = offsets[i]!;
      const kind = (dv.getUint32(off + 4, le) >>> 24) & 0x1f;
      kinds[i] = kind;
      sizes[i] = SIZED.has(kind) ? dv.getUint32(off + 8, le) : -1;
      const start = dv.getUint32(off, le);
      nameStart[i] = start;
      nameEnd[i] = names.indexOf(0, start);
    }
    return { firstId: this.firstId, count: n, kinds, sizes, nameStart, nameEnd, names };
  }

  /** All types (here and in the base) with this name, in id order; optionally of one kind. */
  findAll(name: string, kind?: KindName): Type[] {
    if (!this.#byName) {
      const m = new Map<string, number[]>();
      const { offsets, view } = this.#index;
      for (let i = 0; i < offsets.length; i++) {
        const n = this.strings.get(view.dv.getUint32(offsets[i]!, view.le));
        if (!n) continue;
        const list = m.get(n);
        if (list) list.push(this.firstId + i);
        else m.set(n, [this.firstId + i]);
      }
      this.#byName = m;
    }
    const own = (this.#byName.get(name) ?? []).map((id) => this.typeById(id));
    const all = [...(this.base?.findAll(name, kind) ?? []), ...own];
    return kind ? all.filter((t) => t.kind === kind) : all;
  }

  /** The single type with this name and kind, or undefined. */
  find(name: string, kind: KindName): Type | undefined {
    return this.findAll(name, kind)[0];
  }

  #lazy(id: number): LazyRef {
    return { resolve: () => this.typeById(id) };
  }

  #materialize(i: number, id: number): Type {
    const off = this.#index.offsets[i]!;
    const { dv, le } = this.#index.view;
    const u32 = (o: number) => dv.getUint32(o, le);
    const str = (o: number) => this.strings.get(u32(o));
    const name = str(off);
    const info = u32(off + 4);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const kflag = (info >>> 31) === 1;
    const sizeOrType = u32(off + 8);
    const x = off + 12;
    const ref = (o: number) => this.#lazy(u32(o));
    switch (kind) {
      case KIND.INT: {
        const e = u32(x);
        const enc = (e >>> 24) & 0xf;
        return new Int(name, sizeOrType, { signed: (enc & 1) !== 0, char: (enc & 2) !== 0, bool: (enc & 4) !== 0 }, (e >>> 16) & 0xff, e & 0xff);
      }
      case KIND.PTR: return new Pointer(this.#lazy(sizeOrType), name);
      case KIND.ARRAY: return new ArrayType(ref(x), ref(x + 4), u32(x + 8), name);
      case KIND.STRUCT: case KIND.UNION: {
        const members = () => {
          const out: Member[] = [];
          for (let m = 0; m < vlen; m++) {
            const o = x + m * 12;
            const raw = u32(o + 8);
            out.push(kflag
              ? new Member(str(o), ref(o + 4), raw & 0xffffff, raw >>> 24)
              : new Member(str(o), ref(o + 4), raw, 0));
          }
          return out;
        };
        return kind === KIND.STRUCT ? new Struct(name, sizeOrType, members, kflag) : new Union(name, sizeOrType, members, kflag);
      }
      case KIND.ENUM:
        return new Enum(name, sizeOrType, () => {
          const out = [];
          for (let m = 0; m < vlen; m++) {
            const o = x + m * 8;
            out.push({ name: str(o), value: kflag ? dv.getInt32(o + 4, le) : u32(o + 4) });
          }
          return out;
        }, kflag);
      case KIND.ENUM64:
        return new Enum64(name, sizeOrType, () => {
          const out = [];
          for (let m = 0; m < vlen; m++) {
            const o = x + m * 12;
            const bits = (BigInt(u32(o + 8)) << 32n) | BigInt(u32(o + 4));
            out.push({ name: str(o), value: kflag ? BigInt.asIntN(64, bits) : bits });
          }
          return out;
        }, kflag);
      case KIND.FWD: return new Fwd(name, kflag);
      case KIND.TYPEDEF: return new Typedef(name, this.#lazy(sizeOrType));
      case KIND.VOLATILE: return new Volatile(this.#lazy(sizeOrType), name);
      case KIND.CONST: return new Const(this.#lazy(sizeOrType), name);
      case KIND.RESTRICT: return new Restrict(this.#lazy(sizeOrType), name);
      case KIND.FUNC: return new Func(name, this.#lazy(sizeOrType), LINKAGES[vlen]!);
      case KIND.FUNC_PROTO: {
        // A trailing parameter with no name and type void marks "...".
        const last = vlen > 0 ? x + (vlen - 1) * 8 : -1;
        const variadic = last >= 0 && u32(last) === 0 && u32(last + 4) === 0;
        const n = variadic ? vlen - 1 : vlen;
        return new FuncProto(this.#lazy(sizeOrType), () => {
          const out: Param[] = [];
          for (let m = 0; m < n; m++) out.push(new Param(str(x + m * 8), ref(x + m * 8 + 4)));
          return out;
        }, variadic, name);
      }
      case KIND.VAR: return new Var(name, this.#lazy(sizeOrType), LINKAGES[u32(x)]!);
      case KIND.DATASEC:
        return new Datasec(name, sizeOrType, () => {
          const out: VarSecinfo[] = [];
          for (let m = 0; m < vlen; m++) {
            const o = x + m * 12;
            out.push(new VarSecinfo(ref(o), u32(o + 4), u32(o + 8)));
          }
          return out;
        });
      case KIND.FLOAT: return new Float(name, sizeOrType);
      case KIND.DECL_TAG: return new DeclTag(name, this.#lazy(sizeOrType), dv.getInt32(x, le), kflag);
      case KIND.TYPE_TAG: return new TypeTag(name, this.#lazy(sizeOrType), kflag);
    }
    throw new BtfError(`type [${id}]: unknown kind ${kind}`);
  }

  /**
   * Chains of typedefs, modifiers, tags and array elements must end; the
   * kernel rejects BTF where they loop, and so do we, before anything
   * downstream can recurse forever.
   */
  #checkLoops(): void {
    const { offsets, view } = this.#index;
    const { dv, le } = view;
    const state = new Uint8Array(offsets.length); // 0 unvisited, 1 on path, 2 done
    const next = (i: number): number => {
      const off = offsets[i]!;
      const kind = (dv.getUint32(off + 4, le) >>> 24) & 0x1f;
      switch (kind) {
        case KIND.TYPEDEF: case KIND.VOLATILE: case KIND.CONST: case KIND.RESTRICT: case KIND.TYPE_TAG: case KIND.VAR: case KIND.DECL_TAG:
          return dv.getUint32(off + 8, le) - this.firstId;
        case KIND.ARRAY:
          return dv.getUint32(off + 12, le) - this.firstId;
        default:
          return -1;
      }
    };
    const path: number[] = [];
    for (let start = 0; start < offsets.length; start++) {
      if (state[start]) continue;
      let i = start;
      while (i >= 0 && i < offsets.length && state[i] === 0) {
        state[i] = 1;
        path.push(i);
        i = next(i);
      }
      if (i >= 0 && i < offsets.length && state[i] === 1) {
        const id = this.firstId + i;
        const { kind, name } = this.summary(id);
        throw new BtfError(`type [${id}] ${kind}${name ? ` '${name}'` : ''}: reference loop (a chain of typedefs, modifiers or array elements leads back to it)`);
      }
      for (const p of path) state[p] = 2;
      path.length = 0;
    }
  }
}
