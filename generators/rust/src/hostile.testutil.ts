/**
 * A hand-built model full of naming hazards for Rust: C names that are Rust
 * keywords (raw identifiers, and the ones that cannot be), that clash with
 * the generated API, the runtime's names and the prelude, with each other
 * after PascalCase, or with the generated internals' `cb_` prefix; getters
 * and setters of bitfields that collide; nested anonymous unions; maps with
 * no typed view.
 */
import type { MapModel, MemberLayout, ObjectModel, StructDecl, TypeDecl, TypeRef } from '@coolbpf/model';

const u8: TypeRef = { kind: 'int', c: '__u8', size: 1, signed: false, char: false, bool: false };
const u16: TypeRef = { kind: 'int', c: '__u16', size: 2, signed: false, char: false, bool: false };
const u32: TypeRef = { kind: 'int', c: '__u32', size: 4, signed: false, char: false, bool: false };
const u64: TypeRef = { kind: 'int', c: '__u64', size: 8, signed: false, char: false, bool: false };
const ref = (kind: 'struct' | 'union' | 'enum', name: string): TypeRef => ({ kind, c: `${kind} ${name}`, key: `${kind} ${name}` });
const m = (name: string | null, type: TypeRef, offset: number, size: number): MemberLayout => ({ name, type, offset, size, bitfield: null });
const bits = (name: string, type: TypeRef, offset: number, size: number, bitOffset: number, width: number, shift: number): MemberLayout => ({
  name, type, offset, size, bitfield: { bitOffset, width, shift, signed: false },
});
const s = (kind: 'struct' | 'union', name: string, size: number, members: MemberLayout[], anonymous = false): StructDecl => ({
  kind, key: `${kind} ${name}`, name, c: anonymous ? `${kind} (anonymous, ${name})` : `${kind} ${name}`, anonymous, size, align: 4, packed: false, members, padding: [],
});
const map = (name: string, type: string, key: TypeRef | null, value: TypeRef | null, keySize: number, valueSize: number, perCpu = false): MapModel => ({
  name, type, keySize, valueSize, key, value, maxEntries: 1, flags: 0, flagNames: [], pinning: 'none', numaNode: null, mapExtra: null, perCpu, inner: null, definedIn: 'btf',
});

const types: TypeDecl[] = ([
  // struct event { u32 type; u16 self; u16 cb_x; }: keywords as fields, the reserved prefix
  s('struct', 'event', 8, [m('type', u32, 0, 4), m('self', u16, 4, 2), m('cb_x', u16, 6, 2)]),
  s('union', 'event', 4, [m('a', u32, 0, 4), m('b', u16, 0, 2)]),
  { kind: 'enum', key: 'enum event', name: 'event', c: 'enum event', anonymous: false, size: 4, signed: false, values: [{ name: 'name', value: '1' }, { name: 'Self', value: '4294967295' }, { name: 'ALIAS', value: '1' }] },
  s('struct', 'option', 4, [m('x', u32, 0, 4)]),
  s('struct', 'result', 4, [m('y', u32, 0, 4)]),
  s('struct', 'self', 4, [m('z', u32, 0, 4)]),
  // bitfields whose accessors collide: a, set_a, and a keyword
  s('struct', 'flags', 4, [bits('a', u32, 0, 1, 0, 1, 0), bits('set_a', u32, 0, 1, 1, 2, 1), bits('match', u32, 0, 1, 3, 3, 3)]),
  // struct nest { u32 tag; union { u64 wide; struct { u16 lo; union { u16 hi; u8 hb[2]; }; }; }; }
  s('union', 'nest__anon1__anon2__anon2', 2, [m('hi', u16, 0, 2), m('hb', { kind: 'array', c: '__u8[2]', size: 2, dims: [2], element: u8 }, 0, 2)], true),
  s('struct', 'nest__anon1__anon2', 4, [m('lo', u16, 0, 2), m(null, ref('union', 'nest__anon1__anon2__anon2'), 2, 2)], true),
  s('union', 'nest__anon1', 8, [m('wide', u64, 0, 8), m(null, ref('struct', 'nest__anon1__anon2'), 0, 4)], true),
  { ...s('struct', 'nest', 16, [m('tag', u32, 0, 4), m(null, ref('union', 'nest__anon1'), 8, 8)]), align: 8, padding: [{ offset: 4, size: 4 }] },
] as TypeDecl[]).sort((a, b) => (a.key < b.key ? -1 : 1));

export const HOSTILE: ObjectModel = {
  schema: 1,
  object: { sha256: 'ab'.repeat(32), byteOrder: 'little', license: 'GPL', kernelVersion: null, coreRelocations: 0 },
  programs: [
    { name: 'fn', section: 'xdp', kind: { progType: 'xdp', expectedAttachType: 'xdp', family: 'xdp', target: null, sleepable: false, autoAttach: false, needs: 'interface', xdpFrags: false }, autoload: true, instructions: 2, coreRelocations: 0 },
    { name: 'new', section: '?tp/a/b', kind: { progType: 'tracepoint', expectedAttachType: null, family: 'tracepoint', target: { kind: 'tracepoint', category: 'a', name: 'b' }, sleepable: false, autoAttach: true, needs: null, xdpFrags: false }, autoload: false, instructions: 2, coreRelocations: 0 },
    { name: 'up', section: 'uprobe//usr/lib/x86_64-linux-gnu/libc.so.6:malloc', kind: { progType: 'kprobe', expectedAttachType: null, family: 'uprobe', target: { kind: 'user-function', binary: '/usr/lib/x86_64-linux-gnu/libc.so.6', function: 'malloc', offset: 0 }, sleepable: false, autoAttach: true, needs: null, xdpFrags: false }, autoload: true, instructions: 2, coreRelocations: 0 },
  ],
  maps: [
    map('type', 'hash', ref('struct', 'event'), ref('union', 'event'), 8, 4),
    map('new', 'percpu_array', u32, ref('enum', 'event'), 4, 4, true),
    map('perf', 'perf_event_array', null, null, 4, 4),
    map('q', 'queue', null, u32, 0, 4),
    map('nests', 'array', u32, ref('struct', 'nest'), 4, 16),
    map('raw', 'hash', null, null, 3, 5),
    map('flagmap', 'array', u32, ref('struct', 'flags'), 4, 4),
    map('opts', 'hash', ref('struct', 'option'), ref('struct', 'result'), 4, 4),
    map('selfs', 'array', u32, ref('struct', 'self'), 4, 4),
  ],
  dataSections: [
    { name: '.data', kind: 'data', size: 4, writable: { beforeLoad: true, afterLoad: true }, variables: [{ name: 'x', offset: 0, size: 4, type: u32, linkage: 'global' }] },
    { name: '.data.my-sec', kind: 'data', size: 12, writable: { beforeLoad: true, afterLoad: true }, variables: [
      { name: 'new', offset: 0, size: 4, type: ref('struct', 'option'), linkage: 'global' },
      { name: 'to_value', offset: 4, size: 4, type: ref('struct', 'result'), linkage: 'global' },
      { name: 'loop', offset: 8, size: 4, type: u32, linkage: 'global' },
    ] },
    { name: '.bss', kind: 'bss', size: 4, writable: { beforeLoad: true, afterLoad: true }, variables: [{ name: 'hidden', offset: 0, size: 4, type: u32, linkage: 'static' }] },
  ],
  events: [],
  types,
};
