import type { BpfObject, Datasec, Type } from '@coolbpf/reader';
import { STT } from '@coolbpf/reader';
import { ModelError, within } from './errors.js';
import { strip, type LayoutCollector } from './layout.js';
import { MAP_IN_MAP_TYPES, MAP_TYPES, PER_CPU_MAP_TYPES, PINNING, mapFlagNames } from './mapTypes.js';
import type { MapModel } from './types.js';

/** The fields libbpf accepts in a BTF map definition (parse_btf_map_def). */
const FIELDS = new Set(['type', 'max_entries', 'map_flags', 'numa_node', 'key_size', 'value_size', 'key', 'value', 'values', 'pinning', 'map_extra']);

interface RawDef {
  type?: number; maxEntries?: number; flags?: number; numaNode?: number; keySize?: number; valueSize?: number;
  key?: Type; value?: Type; inner?: Type; pinning?: number; mapExtra?: bigint;
}

/** BTF-defined maps: the variables of the .maps DATASEC. */
export function btfMaps(obj: BpfObject, types: LayoutCollector): MapModel[] {
  const sec = obj.btf.find('.maps', 'datasec') as Datasec | undefined;
  if (!sec) return [];
  // Definition order in the source (symbol offsets), not the order clang lists them in BTF.
  const elfSec = obj.elf.section('.maps');
  const offsets = new Map<string, number>();
  for (const s of obj.elf.symbols) if (elfSec && s.sectionIndex === elfSec.index) offsets.set(s.name, s.value);
  const vars = [...sec.vars].sort((a, b) => {
    const name = (v: typeof a) => (v.variable.kind === 'var' ? v.variable.name : '');
    return (offsets.get(name(a)) ?? 0) - (offsets.get(name(b)) ?? 0);
  });
  return vars.map((vs) => {
    const v = vs.variable;
    if (v.kind !== 'var') throw new ModelError(`section '.maps': entry at offset ${vs.offset} is a ${v.kind}, not a variable`);
    return within(`map '${v.name}'`, () => btfMap(v.name, v.type, types));
  });
}

/** `inner`: the definition is an inner map's, which libbpf allows no 'values' of its own. */
function btfMap(name: string, t: Type, types: LayoutCollector, inner = false): MapModel {
  const def = strip(t).type;
  if (def.kind !== 'struct') throw new ModelError(`definition is a ${def.kind}, not a struct`);
  const raw: RawDef = {};
  for (const m of def.members) {
    if (!FIELDS.has(m.name)) throw new ModelError(`unknown field '${m.name}' in the map definition`);
    within(`field '${m.name}'`, () => {
      switch (m.name) {
        case 'type': raw.type = uintField(m.type); break;
        case 'max_entries': raw.maxEntries = uintField(m.type); break;
        case 'map_flags': raw.flags = uintField(m.type); break;
        case 'numa_node': raw.numaNode = uintField(m.type); break;
        case 'key_size': raw.keySize = uintField(m.type); break;
        case 'value_size': raw.valueSize = uintField(m.type); break;
        case 'pinning': raw.pinning = uintField(m.type); break;
        case 'map_extra': raw.mapExtra = BigInt(uintField(m.type)); break;
        case 'key': raw.key = pointee(m.type); break;
        case 'value': raw.value = pointee(m.type); break;
        case 'values':
          // libbpf: "multi-level inner maps not supported"; a definition naming itself would recurse forever
          if (inner) throw new ModelError(`an inner map definition cannot declare 'values' (libbpf does not support multi-level maps of maps)`);
          raw.inner = innerDef(m.type);
          break;
      }
    });
  }
  return finish(name, raw, types, 'btf');
}

/** `__uint(name, N)` is `int (*name)[N]`: the value is the array length. */
function uintField(t: Type): number {
  const p = strip(t).type;
  if (p.kind !== 'ptr') throw new ModelError(`expected __uint() (a pointer to an array), found ${p.kind}`);
  const a = strip(p.target).type;
  if (a.kind !== 'array') throw new ModelError(`expected __uint() (a pointer to an array), found a pointer to ${a.kind}`);
  return a.length;
}

/** `__type(name, T)` is `T *name`. */
function pointee(t: Type): Type {
  const p = strip(t).type;
  if (p.kind !== 'ptr') throw new ModelError(`expected __type() (a pointer), found ${p.kind}`);
  return p.target;
}

/** `__array(values, struct inner)` is `struct inner *values[]`. */
function innerDef(t: Type): Type {
  const a = strip(t).type;
  if (a.kind !== 'array') throw new ModelError(`expected __array() (an array of pointers), found ${a.kind}`);
  const p = strip(a.element).type;
  if (p.kind !== 'ptr') throw new ModelError(`expected __array() (an array of pointers), found an array of ${p.kind}`);
  return p.target;
}

function finish(name: string, raw: RawDef, types: LayoutCollector, definedIn: 'btf' | 'legacy'): MapModel {
  if (raw.type === undefined) throw new ModelError('no map type');
  const type = MAP_TYPES[raw.type];
  if (!type) throw new ModelError(`unknown map type ${raw.type}`);
  const key = raw.key && !isVoid(raw.key) ? types.ref(raw.key, { name: `${name}__key` }) : null;
  const value = raw.value && !isVoid(raw.value) ? types.ref(raw.value, { name: `${name}__value` }) : null;
  const keySize = key ? types.sizeOf(key) : raw.keySize ?? 0;
  // With 'values' (inner maps or program slots) the value is an fd: libbpf sets 4 bytes.
  const valueSize = value ? types.sizeOf(value) : raw.valueSize ?? (raw.inner ? 4 : 0);
  if (key && raw.keySize !== undefined && raw.keySize !== keySize) throw new ModelError(`key_size ${raw.keySize} conflicts with the key type's size ${keySize}`);
  if (value && raw.valueSize !== undefined && raw.valueSize !== valueSize) throw new ModelError(`value_size ${raw.valueSize} conflicts with the value type's size ${valueSize}`);
  let inner: MapModel | null = null;
  // 'values' declares inner maps (a struct) for maps of maps, or initial
  // program slots (a function prototype) for prog_array.
  if (raw.inner && strip(raw.inner).type.kind === 'struct') {
    if (!MAP_IN_MAP_TYPES.has(type)) throw new ModelError(`'values' declares inner maps, but a ${type} map is not a map of maps`);
    inner = within(`inner map`, () => btfMap(`${name}.inner`, raw.inner!, types, true));
  }
  const pinning = PINNING[raw.pinning ?? 0];
  if (!pinning) throw new ModelError(`unknown pinning ${raw.pinning}`);
  const flags = raw.flags ?? 0;
  return {
    name, type, keySize, valueSize, key, value, maxEntries: raw.maxEntries ?? 0, flags, flagNames: mapFlagNames(flags),
    pinning, numaNode: raw.numaNode ?? null, mapExtra: raw.mapExtra === undefined ? null : String(raw.mapExtra),
    perCpu: PER_CPU_MAP_TYPES.has(type), inner, definedIn,
  };
}

function isVoid(t: Type): boolean {
  return strip(t).type.kind === 'void';
}

/** struct bpf_map_def: type, key_size, value_size, max_entries, map_flags (u32 each). */
const LEGACY_DEF_SIZE = 20;

/**
 * Legacy maps: `struct bpf_map_def` objects in the "maps" section. Their
 * key and value types are unknown, only sizes. libbpf 1.0 no longer loads
 * them, but old objects still carry them and inspect must describe them.
 */
export function legacyMaps(obj: BpfObject, types: LayoutCollector): MapModel[] {
  const sec = obj.elf.sections.find((s) => s.name === 'maps' || s.name.startsWith('maps/'));
  if (!sec) return [];
  const syms = obj.elf.symbols
    .filter((s) => s.sectionIndex === sec.index && (s.type === STT.OBJECT || s.type === STT.NOTYPE) && s.name)
    .sort((a, b) => a.value - b.value);
  if (syms.length === 0) return [];
  const defSize = sec.data.length / syms.length;
  if (!Number.isInteger(defSize) || defSize < LEGACY_DEF_SIZE) {
    throw new ModelError(`section '${sec.name}': ${sec.data.length} bytes for ${syms.length} map definitions (each needs ${LEGACY_DEF_SIZE})`);
  }
  const dv = new DataView(sec.data.buffer, sec.data.byteOffset, sec.data.byteLength);
  const le = obj.elf.endianness === 'little';
  return syms.map((s) => within(`section '${sec.name}': map '${s.name}'`, () => {
    if (s.value + LEGACY_DEF_SIZE > sec.data.length) throw new ModelError(`definition at offset ${s.value} runs past the end of the section`);
    const u = (i: number) => dv.getUint32(s.value + i * 4, le);
    return finish(s.name, { type: u(0), keySize: u(1), valueSize: u(2), maxEntries: u(3), flags: u(4) }, types, 'legacy');
  }));
}
