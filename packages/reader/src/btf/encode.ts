import { ByteWriter, type Endianness } from '../bytes.js';
import { BtfError } from '../errors.js';
import type { Btf } from './btf.js';
import { KIND } from './kinds.js';
import { StringTable } from './strings.js';
import { LINKAGES, type Type } from './types.js';
import { BTF_HEADER_LEN, BTF_MAGIC } from './wire.js';

export interface EncodeOptions {
  endianness?: Endianness;
  /** for split BTF: types of the base are referenced by their base ids, not written */
  base?: Btf | null;
  /** string table to start from (it is appended to); a fresh one by default */
  strings?: StringTable;
}

export interface EncodedBtf {
  bytes: Uint8Array;
  /** the string table the bytes carry, for encoding .BTF.ext against it */
  strings: StringTable;
  /** type id of a type in the output (or in the base) */
  idOf(t: Type): number;
}

/**
 * Encodes types in the order given. Types they refer to that are not in the
 * list (and not in the base) are appended after it, so a hand-built type
 * graph needs only its roots.
 */
export function encodeBtf(roots: Iterable<Type>, options: EncodeOptions = {}): EncodedBtf {
  const endianness = options.endianness ?? 'little';
  const base = options.base ?? null;
  const strings = options.strings ?? StringTable.create(base?.strings ?? null);
  const order: Type[] = [];
  const ids = new Map<Type, number>();
  const firstId = base ? base.end : 1;

  const idOf = (t: Type): number => {
    if (t.kind === 'void') return 0;
    const own = ids.get(t);
    if (own !== undefined) return own;
    const inBase = base?.idOf(t);
    if (inBase !== undefined) return inBase;
    // Not seen yet: it gets the next id and is written after the current list.
    const id = firstId + order.length;
    ids.set(t, id);
    order.push(t);
    return id;
  };
  for (const t of roots) {
    if (t.kind === 'void') throw new BtfError('void (type id 0) cannot be encoded as a type');
    if (!ids.has(t)) idOf(t);
  }

  const w = new ByteWriter(endianness, 1 << 16);
  const s = (name: string) => strings.add(name);
  const head = (name: string, kind: number, vlen: number, kflag: boolean, sizeOrType: number) => {
    w.u32(s(name));
    w.u32(((kflag ? 1 : 0) << 31) | (kind << 24) | vlen);
    w.u32(sizeOrType);
  };
  for (let i = 0; i < order.length; i++) {
    const t = order[i]!;
    switch (t.kind) {
      case 'int': {
        const e = t.encoding;
        head(t.name, KIND.INT, 0, false, t.size);
        w.u32((((e.signed ? 1 : 0) | (e.char ? 2 : 0) | (e.bool ? 4 : 0)) << 24) | (t.bitOffset << 16) | t.bits);
        break;
      }
      case 'ptr': head(t.name, KIND.PTR, 0, false, idOf(t.target)); break;
      case 'array':
        head(t.name, KIND.ARRAY, 0, false, 0);
        w.u32(idOf(t.element));
        w.u32(idOf(t.index));
        w.u32(t.length);
        break;
      case 'struct': case 'union': {
        const members = t.members;
        head(t.name, t.kind === 'struct' ? KIND.STRUCT : KIND.UNION, members.length, t.bitfieldEncoding, t.size);
        for (const m of members) {
          w.u32(s(m.name));
          w.u32(idOf(m.type));
          if (!t.bitfieldEncoding && m.bitfieldSize) {
            throw new BtfError(`${t.kind} '${t.name}': member '${m.name}' is a bitfield but the type does not use the bitfield encoding`);
          }
          w.u32(t.bitfieldEncoding ? ((m.bitfieldSize << 24) | m.bitOffset) : m.bitOffset);
        }
        break;
      }
      case 'enum':
        head(t.name, KIND.ENUM, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          w.u32(s(v.name));
          w.u32(v.value);
        }
        break;
      case 'enum64':
        head(t.name, KIND.ENUM64, t.values.length, t.signed, t.size);
        for (const v of t.values) {
          const bits = BigInt.asUintN(64, v.value);
          w.u32(s(v.name));
          w.u32(Number(bits & 0xffffffffn));
          w.u32(Number(bits >> 32n));
        }
        break;
      case 'fwd': head(t.name, KIND.FWD, 0, t.isUnion, 0); break;
      case 'typedef': head(t.name, KIND.TYPEDEF, 0, false, idOf(t.target)); break;
      case 'volatile': head(t.name, KIND.VOLATILE, 0, false, idOf(t.target)); break;
      case 'const': head(t.name, KIND.CONST, 0, false, idOf(t.target)); break;
      case 'restrict': head(t.name, KIND.RESTRICT, 0, false, idOf(t.target)); break;
      case 'type_tag': head(t.name, KIND.TYPE_TAG, 0, t.attribute, idOf(t.target)); break;
      case 'func': head(t.name, KIND.FUNC, LINKAGES.indexOf(t.linkage), false, idOf(t.proto)); break;
      case 'func_proto': {
        const params = t.params;
        head(t.name, KIND.FUNC_PROTO, params.length + (t.variadic ? 1 : 0), false, idOf(t.returnType));
        for (const p of params) {
          w.u32(s(p.name));
          w.u32(idOf(p.type));
        }
        if (t.variadic) {
          w.u32(0);
          w.u32(0);
        }
        break;
      }
      case 'var':
        head(t.name, KIND.VAR, 0, false, idOf(t.type));
        w.u32(LINKAGES.indexOf(t.linkage));
        break;
      case 'datasec':
        head(t.name, KIND.DATASEC, t.vars.length, false, t.size);
        for (const v of t.vars) {
          w.u32(idOf(v.variable));
          w.u32(v.offset);
          w.u32(v.size);
        }
        break;
      case 'float': head(t.name, KIND.FLOAT, 0, false, t.size); break;
      case 'decl_tag':
        head(t.name, KIND.DECL_TAG, 0, t.attribute, idOf(t.target));
        w.i32(t.componentIndex);
        break;
    }
  }

  const typeLen = w.length;
  const strBytes = strings.bytes();
  const out = new ByteWriter(endianness, BTF_HEADER_LEN + typeLen + strBytes.length);
  out.u16(BTF_MAGIC);
  out.u8(1); // version
  out.u8(0); // flags
  out.u32(BTF_HEADER_LEN);
  out.u32(0);
  out.u32(typeLen);
  out.u32(typeLen);
  out.u32(strBytes.length);
  out.bytes(w.finish());
  out.bytes(strBytes);
  return { bytes: out.finish(), strings, idOf: (t) => { const id = t.kind === 'void' ? 0 : ids.get(t) ?? base?.idOf(t); if (id === undefined) throw new BtfError(`type ${t.kind} '${t.name}' is not in the encoded BTF`); return id; } };
}

/** Encodes decoded BTF back to bytes, keeping its string table and type order. */
export function reencodeBtf(btf: Btf): EncodedBtf {
  return encodeBtf(btf.types(), { endianness: btf.endianness, base: btf.base, strings: btf.strings.clone() });
}
