/**
 * A hand-built model full of naming hazards for Python: C names that are
 * keywords, soft keywords and builtins, that the dataclass machinery or the
 * generated API uses (`field`, `from_bytes`, `SIZE`), that Python would
 * mangle (`__reserved`) or that start with the generated internals' prefix
 * (`_cb_`); enum members Enum reserves (`name`, `value`, `_sunder_`); types
 * that clash with each other after PascalCase and with the module's own
 * names; nested anonymous unions; maps with no typed view.
 */
import type { MapModel, MemberLayout, ObjectModel, StructDecl, TypeDecl, TypeRef } from '@coolbpf/model';

const u8: TypeRef = { kind: 'int', c: '__u8', size: 1, signed: false, char: false, bool: false };
const u16: TypeRef = { kind: 'int', c: '__u16', size: 2, signed: false, char: false, bool: false };
const u32: TypeRef = { kind: 'int', c: '__u32', size: 4, signed: false, char: false, bool: false };
const u64: TypeRef = { kind: 'int', c: '__u64', size: 8, signed: false, char: false, bool: false };
const ref = (kind: 'struct' | 'union' | 'enum', name: string): TypeRef => ({ kind, c: `${kind} ${name}`, key: `${kind} ${name}` });
const m = (name: string | null, type: TypeRef, offset: number, size: number): MemberLayout => ({ name, type, offset, size, bitfield: null });
const s = (kind: 'struct' | 'union', name: string, size: number, members: MemberLayout[], anonymous = false): StructDecl => ({
  kind, key: `${kind} ${name}`, name, c: anonymous ? `${kind} (anonymous, ${name})` : `${kind} ${name}`, anonymous, size, align: 4, packed: false, members, padding: [],
});
const map = (name: string, type: string, key: TypeRef | null, value: TypeRef | null, keySize: number, valueSize: number, perCpu = false): MapModel => ({
  name, type, keySize, valueSize, key, value, maxEntries: 1, flags: 0, flagNames: [], pinning: 'none', numaNode: null, mapExtra: null, perCpu, inner: null, definedIn: 'btf',
});

const types: TypeDecl[] = ([
  s('struct', 'event', 48, [
    m('class', u32, 0, 4), m('type', u16, 4, 2), m('match', u16, 6, 2), m('int', u32, 8, 4), m('bytes', u32, 12, 4),
    m('__reserved', u32, 16, 4), m('_cb_x', u32, 20, 4), m('from_bytes', u32, 24, 4), m('SIZE', u32, 28, 4),
    m('field', u32, 32, 4), m('list', u32, 36, 4), m('Event', u32, 40, 4), m('_', u32, 44, 4),
  ]),
  s('union', 'event', 4, [m('a', u32, 0, 4), m('b', u16, 0, 2)]),
  { kind: 'enum', key: 'enum event', name: 'event', c: 'enum event', anonymous: false, size: 4, signed: false, values: [
    { name: 'name', value: '1' }, { name: 'value', value: '2' }, { name: '__MAX', value: '3' }, { name: '_X_', value: '4' },
    { name: 'class', value: '5' }, { name: 'None', value: '4294967295' },
  ] },
  s('struct', 'data', 4, [m('x', u32, 0, 4)]),
  s('struct', 'any', 4, [m('y', u32, 0, 4)]),
  s('struct', 'path', 4, [m('z', u32, 0, 4)]),
  // struct nest { u32 tag; union { u64 wide; struct { u16 lo; union { u16 hi; u8 hb[2]; }; }; }; }
  s('union', 'nest__anon1__anon2__anon2', 2, [m('hi', u16, 0, 2), m('hb', { kind: 'array', c: '__u8[2]', size: 2, dims: [2], element: u8 }, 0, 2)], true),
  s('struct', 'nest__anon1__anon2', 4, [m('lo', u16, 0, 2), m(null, ref('union', 'nest__anon1__anon2__anon2'), 2, 2)], true),
  s('union', 'nest__anon1', 8, [m('wide', u64, 0, 8), m(null, ref('struct', 'nest__anon1__anon2'), 0, 4)], true),
  { ...s('struct', 'nest', 16, [m('tag', u32, 0, 4), m(null, ref('union', 'nest__anon1'), 8, 8)]), align: 8, padding: [{ offset: 4, size: 4 }] },
] as TypeDecl[]).sort((a, b) => (a.key < b.key ? -1 : 1));

export const hostileModel: ObjectModel = {
  schema: 1,
  object: { sha256: 'ab'.repeat(32), byteOrder: 'little', license: 'GPL', kernelVersion: null, coreRelocations: 0 },
  programs: [
    { name: 'delete', section: 'xdp', kind: { progType: 'xdp', expectedAttachType: 'xdp', family: 'xdp', target: null, sleepable: false, autoAttach: false, needs: 'interface', xdpFrags: false }, autoload: true, instructions: 2, coreRelocations: 0 },
    { name: 'import', section: '?tp/a/b', kind: { progType: 'tracepoint', expectedAttachType: null, family: 'tracepoint', target: { kind: 'tracepoint', category: 'a', name: 'b' }, sleepable: false, autoAttach: true, needs: null, xdpFrags: false }, autoload: false, instructions: 2, coreRelocations: 0 },
  ],
  maps: [
    map('class', 'hash', ref('struct', 'event'), ref('union', 'event'), 48, 4),
    map('__proto__', 'percpu_array', u32, ref('enum', 'event'), 4, 4, true),
    map('_cb_m', 'perf_event_array', null, null, 4, 4),
    map('q', 'queue', null, u32, 0, 4),
    map('nests', 'array', u32, ref('struct', 'nest'), 4, 16),
    map('raw', 'hash', null, null, 3, 5),
  ],
  dataSections: [
    { name: '.data', kind: 'data', size: 4, writable: { beforeLoad: true, afterLoad: true }, variables: [{ name: 'x', offset: 0, size: 4, type: u32, linkage: 'global' }] },
    { name: '.data.my-sec', kind: 'data', size: 12, writable: { beforeLoad: true, afterLoad: true }, variables: [
      { name: 'default', offset: 0, size: 4, type: ref('struct', 'data'), linkage: 'global' },
      { name: 'class', offset: 4, size: 4, type: ref('struct', 'any'), linkage: 'global' },
      { name: 'value', offset: 8, size: 4, type: u32, linkage: 'global' },
    ] },
    { name: '.bss', kind: 'bss', size: 4, writable: { beforeLoad: true, afterLoad: true }, variables: [{ name: 'hidden', offset: 0, size: 4, type: u32, linkage: 'static' }] },
  ],
  events: [],
  types,
};
