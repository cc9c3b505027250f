import { describe, expect, it } from 'vitest';
import { BtfError } from '../errors.js';
import { Btf } from './btf.js';
import { encodeBtf, reencodeBtf } from './encode.js';
import {
  ArrayType, Const, Datasec, DeclTag, Enum, Enum64, Float, Func, FuncProto, Fwd, Int, Member, Param, Pointer,
  Restrict, Struct, TypeTag, Typedef, Union, Var, VarSecinfo, Volatile, VOID, type Type,
} from './types.js';

const u32 = new Int('unsigned int', 4, { signed: false, char: false, bool: false });
const s64 = new Int('long long', 8, { signed: true, char: false, bool: false });
const chr = new Int('char', 1, { signed: true, char: true, bool: false });
const boolT = new Int('_Bool', 1, { signed: false, char: false, bool: true });

/** A type graph with every kind, a self-referencing struct and bitfields. */
function everyKind(): Type[] {
  const node: { self?: Struct } = {};
  const list = new Struct('node', 16, () => [
    new Member('next', new Pointer({ resolve: () => node.self! }), 0),
    new Member('value', u32, 64),
  ]);
  node.self = list;
  const bits = new Struct('bits', 8, [
    new Member('a', u32, 0, 3),
    new Member('b', s64, 3, 61),
  ], true);
  const arr = new ArrayType(new ArrayType(chr, u32, 4), u32, 3);
  const un = new Union('u', 8, [new Member('x', u32, 0), new Member('y', s64, 0)]);
  const en = new Enum('color', 4, [{ name: 'RED', value: -1 }, { name: 'BLUE', value: 7 }], true);
  const en64 = new Enum64('big', 8, [{ name: 'HUGE', value: 0xffff_ffff_ffff_fff0n }, { name: 'ONE', value: 1n }], false);
  const en64s = new Enum64('sbig', 8, [{ name: 'NEG', value: -(2n ** 62n) }], true);
  const fwd = new Fwd('opaque', false);
  const fwdU = new Fwd('opaque_u', true);
  const td = new Typedef('u32_t', u32);
  const cv = new Const(new Volatile(td));
  const rp = new Restrict(new Pointer(fwd));
  const tag = new TypeTag('user', new Pointer(chr));
  const proto = new FuncProto(s64, [new Param('a', u32), new Param('', rp)], true);
  const fn = new Func('sum', proto, 'global');
  const fl = new Float('double', 8);
  const v = new Var('counter', td, 'global');
  const sv = new Var('hidden', fl, 'static');
  const ds = new Datasec('.bss', 12, [new VarSecinfo(v, 0, 4), new VarSecinfo(sv, 4, 8)]);
  const dt = new DeclTag('hot', fn, -1);
  const dtParam = new DeclTag('nonnull', fn, 1, false);
  const dtAttr = new DeclTag('aligned', bits, 0, true);
  return [list, bits, arr, un, en, en64, en64s, fwdU, cv, tag, fn, ds, dt, dtParam, dtAttr, boolT];
}

describe('BTF encode/decode', () => {
  it('round trips every kind through bytes, in both byte orders', () => {
    for (const endianness of ['little', 'big'] as const) {
      const enc = encodeBtf(everyKind(), { endianness });
      const btf = Btf.decode(enc.bytes);
      expect(btf.endianness).toBe(endianness);
      const kinds = new Set([...btf.types()].map((t) => t.kind));
      expect([...kinds].sort()).toEqual([
        'array', 'const', 'datasec', 'decl_tag', 'enum', 'enum64', 'float', 'func', 'func_proto', 'fwd', 'int', 'ptr',
        'restrict', 'struct', 'type_tag', 'typedef', 'union', 'var', 'volatile',
      ]);
      // Re-encoding the decoded model gives the same bytes.
      expect(Buffer.from(reencodeBtf(btf).bytes).equals(Buffer.from(enc.bytes))).toBe(true);
    }
  });

  it('decodes each kind with its fields', () => {
    const btf = Btf.decode(encodeBtf(everyKind()).bytes);
    const node = btf.find('node', 'struct') as Struct;
    expect(node.size).toBe(16);
    const next = node.members[0]!;
    expect(next.name).toBe('next');
    // the cycle node -> ptr -> node resolves to the very same object
    expect((next.type as Pointer).target).toBe(node);
    expect(node.members[1]!.bitOffset).toBe(64);

    const bits = btf.find('bits', 'struct') as Struct;
    expect(bits.bitfieldEncoding).toBe(true);
    expect(bits.members.map((m) => [m.name, m.bitOffset, m.bitfieldSize])).toEqual([['a', 0, 3], ['b', 3, 61]]);

    const color = btf.find('color', 'enum') as Enum;
    expect(color.signed).toBe(true);
    expect(color.values).toEqual([{ name: 'RED', value: -1 }, { name: 'BLUE', value: 7 }]);
    const big = btf.find('big', 'enum64') as Enum64;
    expect(big.values).toEqual([{ name: 'HUGE', value: 0xffff_ffff_ffff_fff0n }, { name: 'ONE', value: 1n }]);
    expect((btf.find('sbig', 'enum64') as Enum64).values[0]!.value).toBe(-(2n ** 62n));

    const fn = btf.find('sum', 'func') as Func;
    expect(fn.linkage).toBe('global');
    const proto = fn.proto as FuncProto;
    expect(proto.variadic).toBe(true);
    expect(proto.params.map((p) => p.name)).toEqual(['a', '']);
    expect(proto.returnType.name).toBe('long long');
    const rp = proto.params[1]!.type as Restrict;
    expect(rp.kind).toBe('restrict');
    expect(((rp.target as Pointer).target as Fwd).name).toBe('opaque');

    const ds = btf.find('.bss', 'datasec') as Datasec;
    expect(ds.vars.map((v) => [v.variable.name, v.offset, v.size])).toEqual([['counter', 0, 4], ['hidden', 4, 8]]);
    expect((ds.vars[1]!.variable as Var).linkage).toBe('static');

    const tags = btf.findAll('nonnull', 'decl_tag') as DeclTag[];
    expect(tags[0]!.componentIndex).toBe(1);
    expect(tags[0]!.target).toBe(fn);
    expect((btf.find('aligned', 'decl_tag') as DeclTag).attribute).toBe(true);
    expect((btf.find('opaque_u', 'fwd') as Fwd).isUnion).toBe(true);
    const tag = btf.find('user', 'type_tag') as TypeTag;
    expect((tag.target as Pointer).target.name).toBe('char');
    const b = btf.find('_Bool', 'int') as Int;
    expect(b.encoding).toEqual({ signed: false, char: false, bool: true });
    expect((btf.find('char', 'int') as Int).encoding.char).toBe(true);
    const arr = [...btf.types()].find((t): t is ArrayType => t.kind === 'array' && t.length === 3)!;
    expect((arr.element as ArrayType).length).toBe(4);
    expect(btf.idOf(VOID)).toBe(0);
    expect(btf.typeById(0)).toBe(VOID);
  });

  it('lists types as columns that agree with the materialized types', () => {
    const btf = Btf.decode(encodeBtf(everyKind()).bytes);
    const l = btf.listing();
    expect(l.count).toBe(btf.count);
    for (let i = 0; i < l.count; i++) {
      const s = btf.summary(l.firstId + i);
      expect(Buffer.from(l.names.subarray(l.nameStart[i], l.nameEnd[i])).toString()).toBe(s.name);
      const size = l.sizes[i]!;
      expect(size < 0 ? null : size).toBe(s.size);
      expect(btf.typeById(l.firstId + i).kind).toBe(s.kind);
    }
  });

  it('encodes split BTF on a base, continuing its ids and strings', () => {
    const baseEnc = encodeBtf([u32, s64]);
    const base = Btf.decode(baseEnc.bytes);
    const baseU32 = base.find('unsigned int', 'int')!;
    const mod = new Struct('mod_state', 8, [new Member('count', baseU32, 0), new Member('flags', baseU32, 32)]);
    const split = encodeBtf([mod, new Typedef('state_t', mod)], { base });
    const decoded = Btf.decode(split.bytes, { base });
    expect(decoded.firstId).toBe(3);
    const s = decoded.find('mod_state', 'struct') as Struct;
    expect(decoded.idOf(s)).toBe(3);
    // members resolve into the base, to the base's own objects
    expect(s.members[0]!.type).toBe(baseU32);
    expect(decoded.findAll('unsigned int')).toEqual([baseU32]);
    expect(Buffer.from(reencodeBtf(decoded).bytes).equals(Buffer.from(split.bytes))).toBe(true);
    expect(() => Btf.decode(split.bytes)).toThrow(BtfError);
  });

  it('rejects typedef loops, naming the type', () => {
    const box: { b?: Typedef } = {};
    const a = new Typedef('a', { resolve: () => box.b! });
    box.b = new Typedef('b', a);
    const bytes = encodeBtf([a]).bytes;
    expect(() => Btf.decode(bytes)).toThrow(/type \[1\] typedef 'a': reference loop/);
  });

  it('refuses to encode a bitfield without the bitfield encoding', () => {
    const bad = new Struct('s', 4, [new Member('x', u32, 0, 3)], false);
    expect(() => encodeBtf([bad])).toThrow(/member 'x' is a bitfield/);
  });
});
