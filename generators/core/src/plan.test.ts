import type { EnumDecl, MemberLayout, ObjectModel, StructDecl, TypeDecl, TypeRef } from '@coolbpf/model';
import { describe, expect, it } from 'vitest';
import { GeneratorError } from './errors.js';
import { planLayout, type FieldPlan, type OverlayPlan, type StructPlan } from './plan.js';

// ---- hand-built models ----

const u8: TypeRef = { kind: 'int', c: '__u8', size: 1, signed: false, char: false, bool: false };
const u16: TypeRef = { kind: 'int', c: '__u16', size: 2, signed: false, char: false, bool: false };
const u32: TypeRef = { kind: 'int', c: '__u32', size: 4, signed: false, char: false, bool: false };
const s64: TypeRef = { kind: 'int', c: 'long long', size: 8, signed: true, char: false, bool: false };
const char: TypeRef = { kind: 'int', c: 'char', size: 1, signed: true, char: false, bool: false };
const bool: TypeRef = { kind: 'int', c: '_Bool', size: 1, signed: false, char: false, bool: true };
const arr = (element: TypeRef, ...dims: number[]): TypeRef => ({
  kind: 'array',
  c: `${element.c}${dims.map((d) => `[${d}]`).join('')}`,
  size: dims.reduce((a, b) => a * b, 1) * (element.kind === 'int' || element.kind === 'float' ? element.size : 4),
  dims,
  element,
});
const ref = (kind: 'struct' | 'union' | 'enum', name: string): TypeRef => ({ kind, c: `${kind} ${name}`, key: `${kind} ${name}` });

function member(name: string | null, type: TypeRef, offset: number, size: number, bitfield: MemberLayout['bitfield'] = null): MemberLayout {
  return { name, type, offset, size, bitfield };
}

function struct(kind: 'struct' | 'union', name: string, size: number, members: MemberLayout[], extra: Partial<StructDecl> = {}): StructDecl {
  return { kind, key: `${kind} ${name}`, name, c: `${kind} ${name}`, anonymous: false, size, align: 4, packed: false, members, padding: [], ...extra };
}

function model(types: TypeDecl[], byteOrder: 'little' | 'big' = 'little'): ObjectModel {
  return {
    schema: 1,
    object: { sha256: '0'.repeat(64), byteOrder, license: 'GPL', kernelVersion: null, coreRelocations: 0 },
    programs: [],
    maps: [],
    dataSections: [],
    events: [],
    types: [...types].sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}

const names = (fs: readonly FieldPlan[]) => fs.map((f) => f.name);

describe('layout plan', () => {
  it('flattens anonymous structs and unions the way C11 reaches their members', () => {
    // struct s { u32 family; union { u32 ipv4; u8 ipv6[16]; struct { u16 lo, hi; }; }; struct { u8 x, y; }; };
    const inner = struct('struct', 's__anon1__anon2', 4, [member('lo', u16, 0, 2), member('hi', u16, 2, 2)], { anonymous: true });
    const u = struct('union', 's__anon1', 16, [member('ipv4', u32, 0, 4), member('ipv6', arr(u8, 16), 0, 16), member(null, ref('struct', 's__anon1__anon2'), 0, 4)], { anonymous: true });
    const xy = struct('struct', 's__anon2', 2, [member('x', u8, 0, 1), member('y', u8, 1, 1)], { anonymous: true });
    const s = struct('struct', 's', 24, [member('family', u32, 0, 4), member(null, ref('union', 's__anon1'), 4, 16), member(null, ref('struct', 's__anon2'), 20, 2)]);
    const plan = planLayout(model([inner, u, xy, s]));
    const p = plan.struct('struct s');
    expect(names(p.fields)).toEqual(['family', 'ipv4', 'ipv6', 'lo', 'hi', 'x', 'y']);
    expect(p.fields.map((f) => f.offset)).toEqual([0, 4, 4, 4, 6, 20, 21]);
    expect(p.fields.every((f) => f.cPath === f.name)).toBe(true);
    // the union is an overlay with three alternatives, the last one two fields wide
    expect(p.body.map((n) => n.kind)).toEqual(['field', 'overlay', 'field', 'field']);
    const o = p.body[1] as OverlayPlan;
    expect([o.offset, o.size]).toEqual([4, 16]);
    expect(o.alternatives.map((a) => names(a.fields))).toEqual([['ipv4'], ['ipv6'], ['lo', 'hi']]);
    expect(p.hasOverlay).toBe(true);
    // flattened-only types get no type of their own; the parent comes after nothing it depends on
    expect(plan.ordered.map((t) => t.key)).toEqual(['struct s']);
    expect((plan.get('union s__anon1') as StructPlan).flattenedOnly).toBe(true);
  });

  it('renames members that collide after flattening, with a note, and never drops one', () => {
    const anon = struct('struct', 'c__anon1', 4, [member('a', u32, 0, 4)], { anonymous: true });
    const c = struct('struct', 'c', 8, [member('a', u32, 0, 4), member(null, ref('struct', 'c__anon1'), 4, 4)]);
    const p = planLayout(model([anon, c])).struct('struct c');
    expect(names(p.fields)).toEqual(['a', 'a_2']);
    expect(p.fields[1]!.note).toMatch(/renamed from 'a'/);
    expect(p.fields[1]!.cPath).toBeNull();
  });

  it('plans a union as one overlay, splicing anonymous unions into it', () => {
    const innerU = struct('union', 'u__anon1', 4, [member('b', u32, 0, 4), member('c', u16, 0, 2)], { anonymous: true });
    const u = struct('union', 'u', 8, [member('a', s64, 0, 8), member(null, ref('union', 'u__anon1'), 0, 4)]);
    const p = planLayout(model([innerU, u])).struct('union u');
    expect(p.body).toHaveLength(1);
    expect((p.body[0] as OverlayPlan).alternatives.map((a) => names(a.fields))).toEqual([['a'], ['b'], ['c']]);
  });

  it('keeps the bitfield read recipe, with bit offsets counted from the planned type', () => {
    const anon = struct('struct', 'b__anon1', 4, [member('lo', u32, 0, 1, { bitOffset: 3, width: 4, shift: 3, signed: false })], { anonymous: true });
    const b = struct('struct', 'b', 8, [member('flag', bool, 0, 1, { bitOffset: 0, width: 1, shift: 0, signed: false }), member(null, ref('struct', 'b__anon1'), 4, 4)]);
    const p = planLayout(model([anon, b])).struct('struct b');
    expect(p.fields.map((f) => [f.name, f.value.kind, f.offset, f.size, f.bits])).toEqual([
      ['flag', 'bool', 0, 1, { bitOffset: 0, width: 1, shift: 0, signed: false }],
      ['lo', 'int', 4, 1, { bitOffset: 35, width: 4, shift: 3, signed: false }],
    ]);
    expect(p.hasBitfields).toBe(true);
  });

  it('gives char arrays as strings, multi-dim ones as arrays of strings, other arrays with dims', () => {
    const t = struct('struct', 'a', 100, [
      member('comm', arr(char, 16), 0, 16),
      member('names', arr(char, 2, 8), 16, 16),
      member('m', arr(u32, 2, 3), 32, 24),
      member('cv', arr({ ...char, c: 'const volatile char' }, 4), 56, 4),
      member('raw', arr(u8, 4), 60, 4),
    ]);
    const p = planLayout(model([t])).struct('struct a');
    const v = Object.fromEntries(p.fields.map((f) => [f.name, f.value]));
    expect(v.comm).toMatchObject({ kind: 'string', size: 16 });
    expect(v.names).toMatchObject({ kind: 'array', dims: [2], element: { kind: 'string', size: 8 }, elementSize: 8 });
    expect(v.m).toMatchObject({ kind: 'array', dims: [2, 3], element: { kind: 'int', size: 4 }, elementSize: 4 });
    expect(v.cv).toMatchObject({ kind: 'string', size: 4 });
    expect(v.raw).toMatchObject({ kind: 'array', dims: [4], element: { kind: 'int', size: 1, signed: false } });
  });

  it('marks what has no value type as opaque bytes, with the reason', () => {
    const t = struct('struct', 'o', 48, [
      member('ld', { kind: 'float', c: 'long double', size: 16 }, 0, 16),
      member('lds', arr({ kind: 'float', c: 'long double', size: 16 }, 2), 16, 32),
      member('data', { kind: 'array', c: '__u8[0]', size: 0, dims: [0], element: u8 }, 48, 0),
    ]);
    const p = planLayout(model([t])).struct('struct o');
    expect(p.fields.map((f) => [f.name, f.value.kind, f.size])).toEqual([
      ['ld', 'opaque', 16],
      ['lds', 'opaque', 32],
      ['data', 'opaque', 0],
    ]);
    expect(p.fields[0]!.note).toMatch(/16-byte floating-point/);
    expect(p.fields[1]!.note).toMatch(/^an array of 16-byte floating-point/);
    expect(p.fields[2]!.note).toMatch(/flexible or zero-length array/);
  });

  it('lists unnamed non-struct members instead of dropping them silently', () => {
    const t = struct('struct', 'p', 4, [member('a', u32, 0, 1, { bitOffset: 0, width: 3, shift: 0, signed: false }), member(null, u32, 0, 1, { bitOffset: 3, width: 5, shift: 3, signed: false })]);
    const p = planLayout(model([t])).struct('struct p');
    expect(names(p.fields)).toEqual(['a']);
    expect(p.skipped).toEqual(['unnamed member 1 (__u32 : 5) at byte 0: C gives no way to reach it']);
  });

  it('orders types dependencies first, else by key', () => {
    const z = struct('struct', 'z', 4, [member('v', u32, 0, 4)]);
    const a = struct('struct', 'a', 8, [member('zs', arr(ref('struct', 'z'), 2), 0, 8)]);
    const e: EnumDecl = { kind: 'enum', key: 'enum e', name: 'e', c: 'enum e', anonymous: false, size: 8, signed: true, values: [{ name: 'NEG', value: '-9223372036854775808' }] };
    const m = struct('struct', 'm', 16, [member('a', ref('struct', 'a'), 0, 8), member('e', ref('enum', 'e'), 8, 8)]);
    const plan = planLayout(model([z, a, e, m]));
    expect(plan.ordered.map((t) => t.key)).toEqual(['enum e', 'struct z', 'struct a', 'struct m']);
    expect(plan.struct('struct a').deps).toEqual(['struct z']);
    expect(plan.get('enum e')).toMatchObject({ size: 8, signed: true, values: [{ name: 'NEG', value: -(2n ** 63n) }] });
    expect(plan.struct('struct m').fields[1]!.value).toMatchObject({ kind: 'enum', key: 'enum e', size: 8, signed: true });
  });

  it('names where a bad model goes wrong', () => {
    const t = struct('struct', 'bad', 4, [member('x', ref('struct', 'missing'), 0, 4)]);
    expect(() => planLayout(model([t]))).toThrow(GeneratorError);
    expect(() => planLayout(model([t]))).toThrow("type 'struct bad': member 'x': the model declares no type 'struct missing'");
  });
});
