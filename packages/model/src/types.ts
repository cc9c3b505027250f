import type { ProgramKind } from './sections.js';

/**
 * The object model: everything a generator needs about a BPF object, as
 * plain JSON. Same object bytes and options give the same model, byte for
 * byte, on any host: no paths, no times, no host byte order, lists in a
 * defined order. 64-bit values that may exceed 2^53 are decimal strings.
 */
export interface ObjectModel {
  /** bumped when the shape of this model changes incompatibly */
  readonly schema: 1;
  readonly object: ObjectInfo;
  /** in ELF section order, then by offset within the section */
  readonly programs: readonly ProgramModel[];
  /** BTF-defined maps in .maps order, then legacy maps in symbol order */
  readonly maps: readonly MapModel[];
  /** data sections in ELF section order (.kconfig, which has none, last) */
  readonly dataSections: readonly DataSectionModel[];
  /** one per ring buffer / perf event array map whose event type is known */
  readonly events: readonly EventModel[];
  /** every struct, union and enum reachable from maps, globals and events, sorted by key */
  readonly types: readonly TypeDecl[];
}

export interface ObjectInfo {
  readonly sha256: string;
  readonly byteOrder: 'little' | 'big';
  readonly license: string | null;
  /** contents of the "version" section, if any */
  readonly kernelVersion: number | null;
  /** CO-RE relocation records in .BTF.ext, all sections */
  readonly coreRelocations: number;
}

export interface ProgramModel {
  /** the C function name; libbpf's program name */
  readonly name: string;
  readonly section: string;
  /** how libbpf reads the section name; null when libbpf knows no such SEC() */
  readonly kind: ProgramKind | null;
  /** false for SEC("?...") programs, which libbpf leaves unloaded unless asked */
  readonly autoload: boolean;
  readonly instructions: number;
  readonly coreRelocations: number;
}

export type TypeRef =
  | { readonly kind: 'int'; readonly c: string; readonly size: number; readonly signed: boolean; readonly char: boolean; readonly bool: boolean }
  | { readonly kind: 'float'; readonly c: string; readonly size: number }
  /** a kernel or BPF address: stored as a 64-bit integer, never dereferenced by a wrapper */
  | { readonly kind: 'pointer'; readonly c: string; readonly size: 8 }
  /** dims outermost first, e.g. [2, 3] for `T x[2][3]`; element is never an array */
  | { readonly kind: 'array'; readonly c: string; readonly size: number; readonly dims: readonly number[]; readonly element: TypeRef }
  /** a struct, union or enum declared in `types`, found by `key` */
  | { readonly kind: 'struct' | 'union' | 'enum'; readonly c: string; readonly key: string };

export type TypeDecl = StructDecl | EnumDecl;

export interface StructDecl {
  readonly kind: 'struct' | 'union';
  /** unique among all declarations: "struct event", "union cfg__u" */
  readonly key: string;
  /** identifier to name it after: the C tag, a typedef name, or parent__member for anonymous types */
  readonly name: string;
  /** how C spells it: "struct event", "struct { ... } (in struct cfg)" */
  readonly c: string;
  readonly anonymous: boolean;
  readonly size: number;
  readonly align: number;
  /** some member is not at its natural alignment, or the size is not a multiple of it */
  readonly packed: boolean;
  readonly members: readonly MemberLayout[];
  /** byte ranges no member touches, including tail padding */
  readonly padding: readonly ByteRange[];
}

export interface MemberLayout {
  /** null for an anonymous struct/union member, whose own members are reached through it */
  readonly name: string | null;
  readonly type: TypeRef;
  /** byte offset from the start of the enclosing struct */
  readonly offset: number;
  /** bytes the member occupies (for a bitfield: the bytes its bits touch) */
  readonly size: number;
  readonly bitfield: Bitfield | null;
}

/**
 * A bitfield, ready to read without knowing C's rules: take `size` bytes at
 * the member's `offset` as an unsigned integer in the object's byte order,
 * shift right by `shift`, keep `width` bits, sign-extend when `signed`.
 */
export interface Bitfield {
  /** offset of the first bit from the start of the struct, as BTF records it */
  readonly bitOffset: number;
  readonly width: number;
  readonly shift: number;
  readonly signed: boolean;
}

export interface ByteRange {
  readonly offset: number;
  readonly size: number;
}

export interface EnumDecl {
  readonly kind: 'enum';
  readonly key: string;
  readonly name: string;
  readonly c: string;
  readonly anonymous: boolean;
  readonly size: number;
  readonly signed: boolean;
  /** in declaration order; value as a decimal string (64-bit exact) */
  readonly values: readonly { readonly name: string; readonly value: string }[];
}

export interface MapModel {
  readonly name: string;
  /** BPF_MAP_TYPE_* lower case without the prefix: 'hash', 'ringbuf', ... */
  readonly type: string;
  readonly keySize: number;
  readonly valueSize: number;
  /** null when the map declares only a size (or for legacy maps) */
  readonly key: TypeRef | null;
  readonly value: TypeRef | null;
  readonly maxEntries: number;
  readonly flags: number;
  /** BPF_F_* names of `flags`, lower case without the prefix */
  readonly flagNames: readonly string[];
  readonly pinning: 'none' | 'by_name';
  readonly numaNode: number | null;
  /** map_extra (bloom filter hashes, arena address) as a decimal string */
  readonly mapExtra: string | null;
  /** per-CPU maps return one value per possible CPU */
  readonly perCpu: boolean;
  /** the inner map of array_of_maps / hash_of_maps */
  readonly inner: MapModel | null;
  readonly definedIn: 'btf' | 'legacy';
}

export interface DataSectionModel {
  /** ELF section: .rodata, .data, .bss, .kconfig, .data.foo … */
  readonly name: string;
  readonly kind: 'rodata' | 'data' | 'bss' | 'kconfig';
  /** bytes (0 for .kconfig, which libbpf lays out itself) */
  readonly size: number;
  /** may the wrapper write it before load / after load (through the mmaped map) */
  readonly writable: { readonly beforeLoad: boolean; readonly afterLoad: boolean };
  /** in offset order */
  readonly variables: readonly VariableModel[];
}

export interface VariableModel {
  readonly name: string;
  readonly offset: number;
  readonly size: number;
  readonly type: TypeRef;
  /** static variables are private to the object; wrappers expose the global ones */
  readonly linkage: 'static' | 'global' | 'extern';
}

export interface EventModel {
  readonly map: string;
  readonly mapType: 'ringbuf' | 'perf_event_array' | 'user_ringbuf';
  readonly type: TypeRef;
  /** where the type came from: --event, COOLBPF_EVENT in the source, the map's value type */
  readonly source: 'option' | 'annotation' | 'map-value';
}
