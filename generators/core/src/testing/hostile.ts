/**
 * Pieces of the hand-built "hostile" models the view tests generate for
 * (C names that are keywords or clash with a language's generated API):
 * type and map builders, the nested anonymous unions every language must
 * name, the maps with no typed view, and the model around them. Each
 * generator picks its own hazardous names.
 */
import type { DataSectionModel, MapModel, MemberLayout, ObjectModel, ProgramModel, StructDecl, TypeDecl, TypeRef } from '@coolbpf/model';

export const u8: TypeRef = { kind: 'int', c: '__u8', size: 1, signed: false, char: false, bool: false };
export const u16: TypeRef = { kind: 'int', c: '__u16', size: 2, signed: false, char: false, bool: false };
export const u32: TypeRef = { kind: 'int', c: '__u32', size: 4, signed: false, char: false, bool: false };
export const u64: TypeRef = { kind: 'int', c: '__u64', size: 8, signed: false, char: false, bool: false };

export const ref = (kind: 'struct' | 'union' | 'enum', name: string): TypeRef => ({ kind, c: `${kind} ${name}`, key: `${kind} ${name}` });

/** A member that is not a bitfield. */
export const member = (name: string | null, type: TypeRef, offset: number, size: number): MemberLayout => ({ name, type, offset, size, bitfield: null });

/** An unsigned bitfield member. */
export const bits = (name: string, type: TypeRef, offset: number, size: number, bitOffset: number, width: number, shift: number): MemberLayout => ({
  name, type, offset, size, bitfield: { bitOffset, width, shift, signed: false },
});

/** A struct or union aligned to 4, without padding. */
export const struct = (kind: 'struct' | 'union', name: string, size: number, members: MemberLayout[], anonymous = false): StructDecl => ({
  kind, key: `${kind} ${name}`, name, c: anonymous ? `${kind} (anonymous, ${name})` : `${kind} ${name}`, anonymous, size, align: 4, packed: false, members, padding: [],
});

/** A 32-bit unsigned enum. */
export const enum32 = (name: string, values: readonly [string, string][]): TypeDecl => ({
  kind: 'enum', key: `enum ${name}`, name, c: `enum ${name}`, anonymous: false, size: 4, signed: false, values: values.map(([n, value]) => ({ name: n, value })),
});

export const map = (name: string, type: string, key: TypeRef | null, value: TypeRef | null, keySize: number, valueSize: number, perCpu = false): MapModel => ({
  name, type, keySize, valueSize, key, value, maxEntries: 1, flags: 0, flagNames: [], pinning: 'none', numaNode: null, mapExtra: null, perCpu, inner: null, definedIn: 'btf',
});

/** An XDP program (attached by hand: it needs an interface). */
export const xdpProgram = (name: string): ProgramModel => ({
  name, section: 'xdp', kind: { progType: 'xdp', expectedAttachType: 'xdp', family: 'xdp', target: null, sleepable: false, autoAttach: false, needs: 'interface', xdpFrags: false }, autoload: true, instructions: 2, coreRelocations: 0,
});

/** A tracepoint program on a/b that is not loaded by default (`?tp/a/b`). */
export const tracepointProgram = (name: string): ProgramModel => ({
  name, section: '?tp/a/b', kind: { progType: 'tracepoint', expectedAttachType: null, family: 'tracepoint', target: { kind: 'tracepoint', category: 'a', name: 'b' }, sleepable: false, autoAttach: true, needs: null, xdpFrags: false }, autoload: false, instructions: 2, coreRelocations: 0,
});

/**
 * struct nest { u32 tag; union { u64 wide; struct { u16 LO; union { u16 HI; u8 hb[2]; }; }; }; }
 * (the inner member names chosen by the caller: a language may make them collide).
 */
export function nestTypes(lo = 'lo', hi = 'hi'): TypeDecl[] {
  return [
    struct('union', 'nest__anon1__anon2__anon2', 2, [member(hi, u16, 0, 2), member('hb', { kind: 'array', c: '__u8[2]', size: 2, dims: [2], element: u8 }, 0, 2)], true),
    struct('struct', 'nest__anon1__anon2', 4, [member(lo, u16, 0, 2), member(null, ref('union', 'nest__anon1__anon2__anon2'), 2, 2)], true),
    struct('union', 'nest__anon1', 8, [member('wide', u64, 0, 8), member(null, ref('struct', 'nest__anon1__anon2'), 0, 4)], true),
    { ...struct('struct', 'nest', 16, [member('tag', u32, 0, 4), member(null, ref('union', 'nest__anon1'), 8, 8)]), align: 8, padding: [{ offset: 4, size: 4 }] },
  ];
}

/** A perf event array with no record type, a queue with no key, struct nest's array, and a map known only by its sizes. */
export function untypedMaps(perf = 'perf'): MapModel[] {
  return [
    map(perf, 'perf_event_array', null, null, 4, 4),
    map('q', 'queue', null, u32, 0, 4),
    map('nests', 'array', u32, ref('struct', 'nest'), 4, 16),
    map('raw', 'hash', null, null, 3, 5),
  ];
}

/** A data section of 4-byte variables, one after the other. */
export function dataSection(name: string, kind: 'data' | 'rodata' | 'bss', variables: readonly [string, TypeRef][], linkage: 'global' | 'static' = 'global'): DataSectionModel {
  return {
    name, kind, size: 4 * variables.length, writable: { beforeLoad: true, afterLoad: kind !== 'rodata' },
    variables: variables.map(([n, type], i) => ({ name: n, offset: 4 * i, size: 4, type, linkage })),
  };
}

/** A little-endian object model of these parts (types sorted by key, as the model sorts them). */
export function hostileObject(parts: { programs: ProgramModel[]; maps: MapModel[]; dataSections: DataSectionModel[]; types: TypeDecl[] }): ObjectModel {
  return {
    schema: 1,
    object: { sha256: 'ab'.repeat(32), byteOrder: 'little', license: 'GPL', kernelVersion: null, coreRelocations: 0 },
    programs: parts.programs,
    maps: parts.maps,
    dataSections: parts.dataSections,
    events: [],
    types: [...parts.types].sort((a, b) => (a.key < b.key ? -1 : 1)),
  };
}
