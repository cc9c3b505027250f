/**
 * Deterministic fuzzing of the reader and the model with mutated copies of
 * every fixture object, in both byte orders.
 *
 * The contract under test: whatever the bytes, `buildModel` (and the reader
 * underneath it, with every lazily decoded part forced) either succeeds or
 * throws a CoolbpfError with a non-empty one-line message. Anything else
 * (TypeError, RangeError, a DataView bounds Error, stack overflow, …) is a
 * bug in coolbpf.
 *
 * Every input comes from its own seeded PRNG, so a failure names the fixture,
 * byte order, iteration and seed, and the same input can be replayed alone:
 *
 *   COOLBPF_FUZZ_ONLY=maps.bpfel#123 npx vitest run src/fuzz.test.ts
 *
 * COOLBPF_FUZZ_SCALE=10 runs ten times as many inputs (new iterations, same
 * seeds for the first ones), for a longer local session.
 */
import { readFileSync, statSync } from 'node:fs';
import { endians, fixtureNames, fixturePath } from '@coolbpf/fixtures';
import { CoolbpfError, readElf, readObject, type BpfObject, type ElfSection, type Type } from '@coolbpf/reader';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from './model.js';

/**
 * Mutated inputs per fixture object: 20,000 in all for today's 7 fixtures in
 * 2 byte orders. Objects that include vmlinux.h carry ~600 KB of DWARF, which
 * makes each input several times dearer (buildModel hashes every byte), so
 * they get fewer inputs and the small objects more.
 */
const SCALE = Number(process.env.COOLBPF_FUZZ_SCALE ?? 1);
const inputsFor = (size: number) => Math.round((size > 256 * 1024 ? 800 : 1900) * SCALE);
/** "name.endian#iteration": run only that input (to reproduce a failure). */
const ONLY = process.env.COOLBPF_FUZZ_ONLY ?? null;
/** A single input taking longer than this is reported (a hang or a runaway allocation in the making). */
const SLOW_MS = 5_000;
/** Every this many successes, the model is rebuilt to check it is deterministic. */
const DETERMINISM_EVERY = 8;
/** Failures listed in a report before the test gives up. */
const MAX_FAILURES = 10;

// ---- seeded randomness -------------------------------------------------------

/** mulberry32: a tiny, fast, well-mixed 32-bit PRNG. */
function mulberry32(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** FNV-1a, to derive a fixture's seed from its name. */
function fnv1a(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) h = Math.imul(h ^ s.charCodeAt(i), 0x01000193);
  return h >>> 0;
}

/** The seed of one input: independent of every other input, so any one can be replayed alone. */
function inputSeed(object: string, iteration: number): number {
  let h = fnv1a(object) ^ Math.imul(iteration + 1, 0x9e3779b9);
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

class Rng {
  readonly next: () => number;
  constructor(seed: number) {
    this.next = mulberry32(seed);
  }
  /** integer in [0, n) */
  int(n: number): number {
    return Math.floor(this.next() * n);
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
  pick<T>(xs: readonly T[]): T {
    if (xs.length === 0) throw new Error('fuzz: pick from an empty list');
    return xs[this.int(xs.length)]!;
  }
  u32(): number {
    return (this.next() * 4294967296) >>> 0;
  }
}

const hex = (n: number | bigint) => `0x${n.toString(16)}`;

// ---- what the unmutated object looks like ------------------------------------

/** A field of a record that mutations aim at: absolute file offset, width, and what it means. */
interface Field {
  readonly at: number;
  readonly width: 1 | 2 | 4 | 8;
  readonly what: string;
  /** the kind of value it holds, to choose interesting replacements */
  readonly role: Role;
  /** size of what it lives in (its section), for size-1 / size / size+1 */
  readonly bound?: number;
}
type Role = 'size' | 'offset' | 'count' | 'typeId' | 'strOff' | 'info' | 'kind' | 'index' | 'any';

interface Layout {
  /** the unmutated object */
  readonly bytes: Uint8Array;
  /** where mutants are built (see Mutant) */
  readonly scratch: Uint8Array;
  readonly le: boolean;
  readonly sections: readonly ElfSection[];
  readonly shoff: number;
  readonly shnum: number;
  /** sizes the interesting values are derived from */
  readonly btfTypes: number;
  readonly btfStrLen: number;
  /** offsets of the strings in .BTF's string section: pointing a name at another name keeps the BTF valid */
  readonly btfStrings: readonly number[];
  readonly btf: {
    readonly sec: ElfSection;
    readonly header: Field[];
    readonly types: Field[];
    /** the fields of the types the model describes: data section variables, map definitions and what they reach */
    readonly modelled: Field[];
    /** ids of those types */
    readonly modelledIds: number[];
    /** the type each of them was first reached from */
    readonly parent: ReadonlyMap<number, number>;
    /** kind number and fields of each type, by id */
    readonly byId: ReadonlyMap<number, { kind: number; fields: Field[] }>;
    readonly strings: { at: number; len: number };
  } | null;
  readonly ext: { readonly sec: ElfSection; readonly header: Field[]; readonly records: Field[] } | null;
  readonly elfHeader: Field[];
  readonly sectionHeaders: Field[];
  readonly symbols: Field[];
  /** maps, .maps and data sections: their contents and the fields of their headers */
  readonly mapAndData: { readonly contents: ElfSection[]; readonly headers: Field[]; readonly symbols: Field[] };
}

/** Bytes after a BTF type's 12-byte common header (include/uapi/linux/btf.h). */
function btfExtra(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 14: case 17: return 4; // int, var, decl_tag
    case 3: return 12; // array
    case 4: case 5: case 15: case 19: return vlen * 12; // struct, union, datasec, enum64
    case 6: case 13: return vlen * 8; // enum, func_proto
    default: return 0;
  }
}

/**
 * The types reachable from data sections (.data, .bss, .maps, …), in
 * breadth-first order with the type each was first reached from: the
 * variables, map definitions and the types they are made of. Mutating these
 * keeps most of the BTF valid and exercises the layout code, where mutating
 * one of vmlinux.h's hundreds of unused types would not.
 */
function modelledTypes(bytes: Uint8Array): { ids: number[]; parent: Map<number, number> } {
  const { btf } = readObject(bytes);
  const id = (t: Type) => btf.idOf(t) ?? 0;
  const parent = new Map<number, number>();
  const seen = new Set<Type>();
  const queue: Type[] = [...btf.types()].filter((t) => t.kind === 'datasec');
  while (queue.length > 0 && seen.size < 400) {
    const t = queue.shift()!;
    if (seen.has(t)) continue;
    seen.add(t);
    const children: Type[] = [];
    switch (t.kind) {
      case 'datasec': children.push(...t.vars.map((v) => v.variable)); break;
      case 'var': children.push(t.type); break;
      case 'struct': case 'union': children.push(...t.members.map((m) => m.type)); break;
      case 'ptr': case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': children.push(t.target); break;
      case 'array': children.push(t.element); break;
      default: break;
    }
    for (const c of children) {
      if (!seen.has(c) && !parent.has(id(c))) parent.set(id(c), id(t));
      queue.push(c);
    }
  }
  return { ids: [...seen].map(id).filter((i) => i > 0), parent };
}

function describeLayout(bytes: Uint8Array): Layout {
  const elf = readElf(bytes);
  const le = elf.endianness === 'little';
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const u32 = (o: number) => dv.getUint32(o, le);
  const shoff = Number(dv.getBigUint64(40, le));
  const shnum = dv.getUint16(60, le);

  const elfHeader: Field[] = [
    { at: 4, width: 1, what: 'e_ident[EI_CLASS]', role: 'any' },
    { at: 5, width: 1, what: 'e_ident[EI_DATA]', role: 'any' },
    { at: 18, width: 2, what: 'e_machine', role: 'any' },
    { at: 40, width: 8, what: 'e_shoff', role: 'offset' },
    { at: 58, width: 2, what: 'e_shentsize', role: 'size' },
    { at: 60, width: 2, what: 'e_shnum', role: 'count' },
    { at: 62, width: 2, what: 'e_shstrndx', role: 'index' },
  ];
  const sectionHeaders: Field[] = [];
  const headerFields = (s: ElfSection): Field[] => {
    const o = shoff + s.index * 64;
    const n = `section[${s.index} ${s.name}]`;
    return [
      { at: o, width: 4, what: `${n}.sh_name`, role: 'strOff' },
      { at: o + 4, width: 4, what: `${n}.sh_type`, role: 'kind' },
      { at: o + 8, width: 8, what: `${n}.sh_flags`, role: 'any' },
      { at: o + 24, width: 8, what: `${n}.sh_offset`, role: 'offset' },
      { at: o + 32, width: 8, what: `${n}.sh_size`, role: 'size' },
      { at: o + 40, width: 4, what: `${n}.sh_link`, role: 'index' },
      { at: o + 44, width: 4, what: `${n}.sh_info`, role: 'index' },
      { at: o + 48, width: 8, what: `${n}.sh_addralign`, role: 'size' },
      { at: o + 56, width: 8, what: `${n}.sh_entsize`, role: 'size' },
    ];
  };
  for (const s of elf.sections) sectionHeaders.push(...headerFields(s));

  const symbols: Field[] = [];
  const symbolFields = (symtab: ElfSection, i: number): Field[] => {
    const o = symtab.offset + i * 24;
    const n = `symbol[${i}]`;
    return [
      { at: o, width: 4, what: `${n}.st_name`, role: 'strOff' },
      { at: o + 4, width: 1, what: `${n}.st_info`, role: 'any' },
      { at: o + 5, width: 1, what: `${n}.st_other`, role: 'any' },
      { at: o + 6, width: 2, what: `${n}.st_shndx`, role: 'index' },
      { at: o + 8, width: 8, what: `${n}.st_value`, role: 'offset' },
      { at: o + 16, width: 8, what: `${n}.st_size`, role: 'size' },
    ];
  };
  const symtab = elf.sections.find((s) => s.type === 2);
  const symbolsIn = new Map<number, Field[]>();
  if (symtab) {
    for (const sym of elf.symbols) {
      const fields = symbolFields(symtab, sym.index);
      symbols.push(...fields);
      if (sym.sectionIndex !== null) {
        const list = symbolsIn.get(sym.sectionIndex) ?? [];
        list.push(...fields);
        symbolsIn.set(sym.sectionIndex, list);
      }
    }
  }

  const isMapOrData = (s: ElfSection) =>
    s.name === 'maps' || s.name.startsWith('maps/') || s.name === '.maps' || s.name === '.rel.maps' ||
    /^\.(rodata|data|bss|kconfig)(\.|$)/.test(s.name) || s.name === 'license' || s.name === 'version';
  const mapSecs = elf.sections.filter(isMapOrData);
  const mapAndData = {
    contents: mapSecs.filter((s) => s.data.length > 0),
    headers: mapSecs.flatMap(headerFields),
    symbols: mapSecs.flatMap((s) => symbolsIn.get(s.index) ?? []),
  };

  // .BTF: header fields and every field of every type record.
  let btf: Layout['btf'] = null;
  let btfTypes = 0;
  let btfStrLen = 0;
  const btfStrings: number[] = [];
  const btfSec = elf.section('.BTF');
  if (btfSec) {
    const b = btfSec.offset;
    const header: Field[] = [
      { at: b, width: 2, what: 'btf.magic', role: 'any' },
      { at: b + 2, width: 1, what: 'btf.version', role: 'any' },
      { at: b + 3, width: 1, what: 'btf.flags', role: 'any' },
      { at: b + 4, width: 4, what: 'btf.hdr_len', role: 'size' },
      { at: b + 8, width: 4, what: 'btf.type_off', role: 'offset' },
      { at: b + 12, width: 4, what: 'btf.type_len', role: 'size' },
      { at: b + 16, width: 4, what: 'btf.str_off', role: 'offset' },
      { at: b + 20, width: 4, what: 'btf.str_len', role: 'size' },
    ];
    const hdrLen = u32(b + 4);
    const typeStart = b + hdrLen + u32(b + 8);
    const typeEnd = typeStart + u32(b + 12);
    btfStrLen = u32(b + 20);
    const types: Field[] = [];
    const byId = new Map<number, { kind: number; fields: Field[] }>();
    for (let o = typeStart, id = 1; o < typeEnd; id++) {
      const info = u32(o + 4);
      const kind = (info >>> 24) & 0x1f;
      const vlen = info & 0xffff;
      const n = `btf.type[${id}]`;
      const firstField = types.length;
      types.push(
        { at: o, width: 4, what: `${n}.name_off`, role: 'strOff' },
        { at: o + 4, width: 4, what: `${n}.info`, role: 'info' },
        { at: o + 8, width: 4, what: `${n}.size_type`, role: [2, 8, 9, 10, 11, 12, 13, 14, 17, 18].includes(kind) ? 'typeId' : 'size' },
      );
      const x = o + 12;
      const extra = btfExtra(kind, vlen);
      if (kind === 3) {
        types.push(
          { at: x, width: 4, what: `${n}.array.type`, role: 'typeId' },
          { at: x + 4, width: 4, what: `${n}.array.index_type`, role: 'typeId' },
          { at: x + 8, width: 4, what: `${n}.array.nelems`, role: 'count' },
        );
      } else if (kind === 4 || kind === 5 || kind === 15) {
        for (let m = 0; m < vlen; m++) {
          const p = x + m * 12;
          types.push(
            { at: p, width: 4, what: `${n}.${kind === 15 ? 'var' : 'member'}[${m}].${kind === 15 ? 'type' : 'name_off'}`, role: kind === 15 ? 'typeId' : 'strOff' },
            { at: p + 4, width: 4, what: `${n}.${kind === 15 ? 'var' : 'member'}[${m}].${kind === 15 ? 'offset' : 'type'}`, role: kind === 15 ? 'offset' : 'typeId' },
            { at: p + 8, width: 4, what: `${n}.${kind === 15 ? 'var' : 'member'}[${m}].${kind === 15 ? 'size' : 'offset'}`, role: kind === 15 ? 'size' : 'offset' },
          );
        }
      } else if (kind === 13) {
        for (let m = 0; m < vlen; m++) {
          types.push(
            { at: x + m * 8, width: 4, what: `${n}.param[${m}].name_off`, role: 'strOff' },
            { at: x + m * 8 + 4, width: 4, what: `${n}.param[${m}].type`, role: 'typeId' },
          );
        }
      } else if (kind === 6 || kind === 19) {
        const step = kind === 6 ? 8 : 12;
        for (let m = 0; m < vlen; m++) {
          types.push({ at: x + m * step, width: 4, what: `${n}.value[${m}].name_off`, role: 'strOff' });
          types.push({ at: x + m * step + 4, width: 4, what: `${n}.value[${m}].val`, role: 'any' });
        }
      } else if (extra === 4) {
        types.push({ at: x, width: 4, what: `${n}.extra`, role: kind === 17 ? 'index' : 'any' });
      }
      o += 12 + extra;
      btfTypes = id;
      byId.set(id, { kind, fields: types.slice(firstField) });
    }
    const strAt = b + hdrLen + u32(b + 16);
    for (let o = 0; o < btfStrLen; o = bytes.indexOf(0, strAt + o) - strAt + 1) btfStrings.push(o);
    const bounded = new Map<Field, Field>([...header, ...types].map((f) => [f, { ...f, bound: btfSec.data.length }]));
    for (const list of [header, types, ...[...byId.values()].map((t) => t.fields)]) list.forEach((f, i) => { list[i] = bounded.get(f) ?? f; });
    const { ids: modelledIds, parent } = modelledTypes(bytes);
    const modelled = modelledIds.flatMap((id) => byId.get(id)?.fields ?? []);
    btf = { sec: btfSec, header, types, modelled, modelledIds, parent, byId, strings: { at: strAt, len: btfStrLen } };
  }

  // .BTF.ext: header fields, and record size, section name, count and every record field of each block.
  let ext: Layout['ext'] = null;
  const extSec = elf.section('.BTF.ext');
  if (extSec) {
    const b = extSec.offset;
    const hdrLen = u32(b + 4);
    const header: Field[] = [
      { at: b, width: 2, what: 'ext.magic', role: 'any' },
      { at: b + 2, width: 1, what: 'ext.version', role: 'any' },
      { at: b + 4, width: 4, what: 'ext.hdr_len', role: 'size' },
    ];
    const records: Field[] = [];
    const blocks = [
      { name: 'func_info', fields: [['insn_off', 'offset'], ['type_id', 'typeId']] },
      { name: 'line_info', fields: [['insn_off', 'offset'], ['file_name_off', 'strOff'], ['line_off', 'strOff'], ['line_col', 'any']] },
      { name: 'core_relo', fields: [['insn_off', 'offset'], ['type_id', 'typeId'], ['access_str_off', 'strOff'], ['kind', 'kind']] },
    ] as const;
    blocks.forEach((blk, k) => {
      const offAt = b + 8 + k * 8;
      if (offAt + 8 > b + hdrLen) return;
      header.push(
        { at: offAt, width: 4, what: `ext.${blk.name}_off`, role: 'offset' },
        { at: offAt + 4, width: 4, what: `ext.${blk.name}_len`, role: 'size' },
      );
      const len = u32(offAt + 4);
      if (len === 0) return;
      const start = b + hdrLen + u32(offAt);
      const recSize = u32(start);
      records.push({ at: start, width: 4, what: `ext.${blk.name}.rec_size`, role: 'size' });
      for (let o = start + 4, s = 0; o < start + len; s++) {
        const n = u32(o + 4);
        records.push(
          { at: o, width: 4, what: `ext.${blk.name}.sec[${s}].name_off`, role: 'strOff' },
          { at: o + 4, width: 4, what: `ext.${blk.name}.sec[${s}].num_info`, role: 'count' },
        );
        for (let r = 0; r < n; r++) {
          blk.fields.forEach(([f, role], j) => {
            records.push({ at: o + 8 + r * recSize + j * 4, width: 4, what: `ext.${blk.name}.sec[${s}].rec[${r}].${f}`, role });
          });
        }
        o += 8 + n * recSize;
      }
    });
    for (const list of [header, records]) list.forEach((f, i) => { list[i] = { ...f, bound: extSec.data.length }; });
    ext = { sec: extSec, header, records };
  }

  return {
    bytes, scratch: new Uint8Array(bytes.length), le, sections: elf.sections, shoff, shnum, btfTypes, btfStrLen, btfStrings, btf, ext, elfHeader, sectionHeaders, symbols, mapAndData,
  };
}

// ---- mutations ---------------------------------------------------------------

/** One input under construction: the bytes (which may be replaced by truncation) and a log of what changed. */
class Mutant {
  bytes: Uint8Array;
  readonly log: string[] = [];
  /**
   * Mutants of one object share one scratch copy of its bytes (reset for
   * each input): allocating a fresh copy of a 700 KB object costs more than
   * reading it.
   */
  constructor(readonly layout: Layout, readonly rng: Rng) {
    layout.scratch.set(layout.bytes);
    this.bytes = layout.scratch;
  }

  /** Values that tend to sit on a boundary, for a field of the given role and width. */
  interesting(field: Field): bigint {
    const { rng, layout } = this;
    const max = field.width === 8 ? 0xffffffffffffffffn : (1n << BigInt(field.width * 8)) - 1n;
    const old = this.read(field);
    const around = (n: number) => BigInt(Math.max(0, n + rng.int(3) - 1));
    const candidates: (() => bigint)[] = [
      () => 0n, () => 1n, () => BigInt(rng.int(17)), () => max, () => max >> 1n, () => (max >> 1n) + 1n,
      () => 0xffffn, () => 0xffffffffn, () => 0x80000000n, () => 0x7fffffffn, () => 0x10000n,
      () => old ^ (1n << BigInt(rng.int(field.width * 8))), () => old + BigInt(rng.int(9)) - 4n, () => BigInt(rng.u32()),
      () => around(layout.bytes.length), () => around(layout.bytes.length >> 1),
      () => around(field.bound ?? layout.bytes.length), () => around(field.bound ?? layout.bytes.length), () => around((field.bound ?? layout.bytes.length) >> 1),
    ];
    switch (field.role) {
      case 'typeId':
        candidates.push(() => around(layout.btfTypes), () => around(layout.btfTypes + 1));
        for (let i = 0; i < 6; i++) candidates.push(() => BigInt(rng.int(layout.btfTypes + 1)));
        break;
      case 'strOff':
        candidates.push(() => around(layout.btfStrLen), () => BigInt(rng.int(layout.btfStrLen + 1)));
        if (layout.btfStrings.length > 0) for (let i = 0; i < 6; i++) candidates.push(() => BigInt(rng.pick(layout.btfStrings)));
        break;
      case 'info': {
        // kind bits 24..28 set to every kind 0..31, vlen small or maxed, kind_flag sometimes, reserved bits rarely
        const info = () => {
          const kind = rng.int(32);
          const vlen = rng.pick([0, 1, 2, 3, rng.int(64), 0xffff, Number(old & 0xffffn)]);
          let v = ((kind << 24) | vlen) >>> 0;
          if (rng.chance(0.3)) v = (v | 0x80000000) >>> 0;
          if (rng.chance(0.05)) v = (v | (1 << (16 + rng.int(8)))) >>> 0;
          return BigInt(v);
        };
        candidates.push(info, info, info, info, info, () => (old & 0xff000000n) | 0xffffn, () => (old & 0x00ffffffn) | (BigInt(rng.int(32)) << 24n));
        break;
      }
      case 'kind':
        candidates.push(() => BigInt(rng.int(16)), () => BigInt(rng.int(16)));
        break;
      case 'index':
        candidates.push(() => around(layout.shnum), () => BigInt(rng.int(layout.shnum + 1)), () => 0xff00n, () => 0xfff1n, () => 0xfff2n);
        break;
      case 'count': case 'size': case 'offset':
        candidates.push(() => old >> 1n, () => old * 2n, () => around(Number(old)));
        break;
      case 'any':
        break;
    }
    return rng.pick(candidates)() & max;
  }

  read(f: Field): bigint {
    if (f.at + f.width > this.bytes.length) return 0n;
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const le = this.layout.le;
    switch (f.width) {
      case 1: return BigInt(dv.getUint8(f.at));
      case 2: return BigInt(dv.getUint16(f.at, le));
      case 4: return BigInt(dv.getUint32(f.at, le));
      case 8: return dv.getBigUint64(f.at, le);
    }
  }

  write(f: Field, v: bigint): void {
    if (f.at + f.width > this.bytes.length) return;
    const dv = new DataView(this.bytes.buffer, this.bytes.byteOffset, this.bytes.byteLength);
    const le = this.layout.le;
    switch (f.width) {
      case 1: dv.setUint8(f.at, Number(v & 0xffn)); break;
      case 2: dv.setUint16(f.at, Number(v & 0xffffn), le); break;
      case 4: dv.setUint32(f.at, Number(v & 0xffffffffn), le); break;
      case 8: dv.setBigUint64(f.at, v, le); break;
    }
    this.log.push(`${f.what}=${hex(v)}`);
  }

  /** Overwrite 1..n of these fields with interesting values. */
  fields(fields: readonly Field[], n: number): void {
    if (fields.length === 0) return this.randomBytes(1);
    const count = 1 + this.rng.int(n);
    for (let i = 0; i < count; i++) {
      const f = this.rng.pick(fields);
      this.write(f, this.interesting(f));
    }
  }

  /** Flip bits or write random bytes at a few places in [start, start + len). */
  randomBytes(n: number, start = 0, len = this.bytes.length): void {
    if (len <= 0) return;
    const count = 1 + this.rng.int(n);
    for (let i = 0; i < count; i++) {
      const at = start + this.rng.int(len);
      if (at >= this.bytes.length) continue;
      const old = this.bytes[at]!;
      const v = this.rng.chance(0.5) ? old ^ (1 << this.rng.int(8)) : this.rng.pick([0, 0xff, 0x7f, 0x80, 0x0a, this.rng.int(256)]);
      this.bytes[at] = v;
      this.log.push(`byte@${at}=${hex(v)}`);
    }
  }

  /** Aligned u32s anywhere in [start, start + len), relative to `start`. */
  alignedWords(n: number, start: number, len: number, what: string): void {
    if (len < 4) return this.randomBytes(n, start, len);
    const count = 1 + this.rng.int(n);
    for (let i = 0; i < count; i++) {
      const at = start + 4 * this.rng.int(Math.floor(len / 4));
      const f: Field = { at, width: 4, what: `${what}@+${at - start}`, role: this.rng.pick(['info', 'typeId', 'strOff', 'size', 'any'] as const) };
      this.write(f, this.interesting(f));
    }
  }

  truncate(at: number): void {
    at = Math.max(0, Math.min(at, this.bytes.length));
    this.bytes = this.bytes.subarray(0, at);
    this.log.push(`truncate@${at}`);
  }

  extend(n: number): void {
    const out = new Uint8Array(this.bytes.length + n);
    out.set(this.bytes);
    const junk = this.rng.int(3);
    for (let i = this.bytes.length; i < out.length; i++) out[i] = junk === 0 ? 0 : junk === 1 ? 0xff : this.rng.int(256);
    this.bytes = out;
    this.log.push(`extend+${n}`);
  }
}

type Strategy = 'bytes' | 'btf-header' | 'btf-types' | 'btf-modelled' | 'btf-retarget' | 'btf-cycle' | 'btf-words' | 'btf-strings' | 'btf-ext' | 'elf-header' | 'section-headers' | 'symbols' | 'truncate' | 'extend' | 'maps-data' | 'combo';

const STRATEGY_WEIGHTS: readonly [Strategy, number][] = [
  ['bytes', 7],
  ['btf-header', 6],
  ['btf-types', 10],
  ['btf-modelled', 7],
  ['btf-retarget', 5],
  ['btf-cycle', 4],
  ['btf-words', 8],
  ['btf-strings', 5],
  ['btf-ext', 11],
  ['elf-header', 4],
  ['section-headers', 9],
  ['symbols', 7],
  ['truncate', 5],
  ['extend', 2],
  ['maps-data', 8],
  ['combo', 6],
];
const WEIGHT_TOTAL = STRATEGY_WEIGHTS.reduce((n, [, w]) => n + w, 0);

function chooseStrategy(rng: Rng, allowCombo = true): Strategy {
  for (;;) {
    let r = rng.int(WEIGHT_TOTAL);
    for (const [s, w] of STRATEGY_WEIGHTS) {
      if (r < w) {
        if (s === 'combo' && !allowCombo) break;
        return s;
      }
      r -= w;
    }
  }
}

function applyStrategy(m: Mutant, s: Strategy): void {
  const { layout: l, rng } = m;
  const secRange = (sec: ElfSection | undefined) => (sec ? [sec.offset, sec.data.length] as const : [0, l.bytes.length] as const);
  switch (s) {
    case 'bytes':
      return m.randomBytes(4);
    case 'btf-header':
      return l.btf ? m.fields(l.btf.header, 2) : m.randomBytes(2);
    case 'btf-types':
      return l.btf ? m.fields(l.btf.types, 3) : m.randomBytes(2);
    case 'btf-modelled':
      return l.btf ? m.fields(l.btf.modelled, 2) : m.randomBytes(2);
    case 'btf-retarget': {
      // point a reference at another type the model uses, mostly of the same kind
      // (a map definition's pointer at another struct, a variable at an enum …),
      // and sometimes bend the new target too
      if (!l.btf) return m.randomBytes(2);
      const { byId, modelledIds, modelled } = l.btf;
      const refs = modelled.filter((f) => f.role === 'typeId');
      if (refs.length === 0) return m.fields(modelled, 2);
      const n = 1 + rng.int(2);
      for (let i = 0; i < n; i++) {
        const f = rng.pick(refs);
        const kind = byId.get(Number(m.read(f)))?.kind;
        const same = modelledIds.filter((id) => byId.get(id)?.kind === kind);
        const target = rng.chance(0.6) && same.length > 0 ? rng.pick(same) : rng.pick(modelledIds);
        m.write(f, BigInt(target));
        if (rng.chance(0.3)) m.fields(byId.get(target)?.fields ?? [], 1);
      }
      return;
    }
    case 'btf-cycle': {
      // point a reference back at a type it is reached from: a struct that holds
      // itself, a map definition whose inner map is itself, a loop through a pointer
      if (!l.btf) return m.randomBytes(2);
      const { byId, modelledIds, parent } = l.btf;
      const candidates = modelledIds.filter((id) => parent.has(id) && byId.get(id)?.fields.some((f) => f.role === 'typeId'));
      if (candidates.length === 0) return m.fields(l.btf.modelled, 2);
      const from = rng.pick(candidates);
      const ancestors: number[] = [];
      for (let a = parent.get(from); a !== undefined && ancestors.length < 16; a = parent.get(a)) ancestors.push(a);
      const f = rng.pick(byId.get(from)!.fields.filter((x) => x.role === 'typeId'));
      return m.write(f, BigInt(rng.pick(ancestors)));
    }
    case 'btf-words': {
      const [at, len] = secRange(l.btf?.sec);
      return rng.chance(0.7) ? m.alignedWords(3, at, len, '.BTF') : m.randomBytes(3, at, len);
    }
    case 'btf-strings': {
      if (!l.btf) return m.randomBytes(2);
      const { at, len } = l.btf.strings;
      const n = 1 + rng.int(3);
      for (let i = 0; i < n; i++) {
        const p = at + rng.int(len);
        // remove a NUL, add one, a newline, invalid UTF-8 or a control character
        const v = rng.pick([0, 0x0a, 0x0d, 0x41, 0x80, 0xc3, 0xff, 0x01, 0x09, 0x2f, 0x3a, 0x2b]);
        m.bytes[p] = v;
        m.log.push(`btf.str@+${p - at}=${hex(v)}`);
      }
      return;
    }
    case 'btf-ext':
      if (!l.ext) return m.randomBytes(2);
      if (rng.chance(0.2)) return m.fields(l.ext.header, 2);
      if (rng.chance(0.15)) return m.alignedWords(2, l.ext.sec.offset, l.ext.sec.data.length, '.BTF.ext');
      return m.fields(l.ext.records, 3);
    case 'elf-header':
      return m.fields(l.elfHeader, 2);
    case 'section-headers':
      if (rng.chance(0.1)) return m.randomBytes(3, l.shoff, l.shnum * 64);
      return m.fields(l.sectionHeaders, 2);
    case 'symbols':
      return m.fields(l.symbols, 3);
    case 'truncate': {
      const sections = l.sections.filter((x) => x.data.length > 0);
      const near = rng.pick([
        () => rng.int(l.bytes.length),
        () => rng.int(128),
        () => l.bytes.length - 1 - rng.int(64),
        () => l.shoff + rng.int(l.shnum * 64),
        () => { const x = rng.pick(sections); return x.offset + rng.int(x.data.length + 1); },
        () => (l.btf ? l.btf.sec.offset + rng.int(l.btf.sec.data.length) : rng.int(l.bytes.length)),
      ]);
      return m.truncate(near());
    }
    case 'extend':
      if (rng.chance(0.5)) m.randomBytes(1);
      return m.extend(1 + rng.int(rng.chance(0.5) ? 16 : 4096));
    case 'maps-data': {
      const md = l.mapAndData;
      const choice = rng.int(3);
      if (choice === 0 && md.contents.length > 0) {
        const sec = rng.pick(md.contents);
        return rng.chance(0.6) ? m.alignedWords(3, sec.offset, sec.data.length, sec.name) : m.randomBytes(3, sec.offset, sec.data.length);
      }
      if (choice === 1 && md.symbols.length > 0) return m.fields(md.symbols, 2);
      return m.fields(md.headers, 2);
    }
    case 'combo': {
      const n = 2 + rng.int(2);
      for (let i = 0; i < n; i++) applyStrategy(m, chooseStrategy(rng, false));
      return;
    }
  }
}

// ---- running one input -------------------------------------------------------

/** Touches every lazily decoded part of the object, so decoding errors cannot hide behind laziness. */
function walk(obj: BpfObject): void {
  let sink = 0;
  const see = (t: Type) => { sink += t.kind.length + t.name.length; };
  const btf = obj.btf;
  for (const t of btf.types()) {
    see(t);
    switch (t.kind) {
      case 'struct': case 'union':
        for (const m of t.members) { see(m.type); sink += m.name.length + m.bitOffset; }
        break;
      case 'enum':
        for (const v of t.values) sink += v.name.length + v.value;
        break;
      case 'enum64':
        for (const v of t.values) sink += v.name.length + Number(v.value & 1n);
        break;
      case 'func_proto':
        see(t.returnType);
        for (const p of t.params) { see(p.type); sink += p.name.length; }
        break;
      case 'datasec':
        for (const v of t.vars) { see(v.variable); sink += v.offset + v.size; }
        break;
      case 'ptr': case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': case 'decl_tag':
        see(t.target);
        break;
      case 'array':
        see(t.element);
        see(t.index);
        break;
      case 'func':
        see(t.proto);
        break;
      case 'var':
        see(t.type);
        break;
      default:
        break;
    }
  }
  for (let id = btf.firstId; id < btf.end; id++) sink += btf.summary(id).name.length;
  sink += btf.listing().count + btf.findAll('fuzz').length;
  if (obj.ext) {
    for (const s of obj.ext.funcInfo) for (const r of s.records) { see(r.func); sink += r.insnOff; }
    for (const s of obj.ext.lineInfo) for (const r of s.records) sink += r.fileName.length + r.line.length + r.lineNumber + r.column;
    for (const s of obj.ext.coreRelos) for (const r of s.records) { see(r.type); sink += r.accessString.length + r.kind.length; }
  }
  for (const s of obj.elf.sections) sink += obj.elf.relocationsFor(s).length;
  if (Number.isNaN(sink)) throw new Error('unreachable');
}

/**
 * The first number in a model that JSON cannot carry faithfully, as a path:
 * NaN and Infinity become null, and integers past 2^53 lose digits (the
 * model promises such values as decimal strings).
 */
function unfaithfulNumber(v: unknown, path = 'model'): string | null {
  if (typeof v === 'number') return Number.isFinite(v) && (!Number.isInteger(v) || Number.isSafeInteger(v)) ? null : `${path} = ${v}`;
  if (v === null || typeof v !== 'object') return null;
  for (const [k, x] of Object.entries(v)) {
    const found = unfaithfulNumber(x, `${path}.${k}`);
    if (found) return found;
  }
  return null;
}

type Outcome = { ok: true; json: string } | { ok: false; error: CoolbpfError };

class Bug extends Error {}

/** A thrown value is acceptable only as a CoolbpfError with a one-line, non-empty message. */
function checkError(e: unknown, stage: string): CoolbpfError {
  if (!(e instanceof CoolbpfError)) {
    const desc = e instanceof Error ? e.stack ?? `${e.name}: ${e.message}` : String(e);
    throw new Bug(`${stage} threw a non-CoolbpfError: ${desc}`);
  }
  if (e.message.length === 0 || e.message.trim() === '') throw new Bug(`${stage} threw ${e.name} with an empty message`);
  if (/[\n\r]/.test(e.message)) throw new Bug(`${stage} threw ${e.name} with a multi-line message: ${JSON.stringify(e.message)}`);
  return e;
}

function runModel(bytes: Uint8Array): Outcome {
  let model;
  try {
    model = buildModel(bytes);
  } catch (e) {
    return { ok: false, error: checkError(e, 'buildModel') };
  }
  let json: string;
  try {
    json = JSON.stringify(model);
  } catch (e) {
    throw new Bug(`JSON.stringify(model) failed: ${e instanceof Error ? e.stack : String(e)}`);
  }
  const bad = unfaithfulNumber(model);
  if (bad) throw new Bug(`the model holds a number JSON cannot carry faithfully (NaN, infinite or past 2^53): ${bad}`);
  return { ok: true, json };
}

const newStats = (): Stats => ({ inputs: 0, ok: 0, errors: 0, lazyErrors: 0, determinism: 0, byClass: new Map(), byStrategy: new Map(), slowestMs: 0 });

interface Stats {
  inputs: number;
  ok: number;
  errors: number;
  /** the walk found a decoding error buildModel did not need to see */
  lazyErrors: number;
  determinism: number;
  byClass: Map<string, number>;
  byStrategy: Map<string, { ok: number; errors: number }>;
  slowestMs: number;
}

const totals = { inputs: 0, ok: 0, errors: 0, byStrategy: new Map<string, { ok: number; errors: number }>() };

function runOne(layout: Layout, object: string, iteration: number, stats: Stats): string | null {
  const seed = inputSeed(object, iteration);
  const rng = new Rng(seed);
  const strategy = chooseStrategy(rng);
  const m = new Mutant(layout, rng);
  applyStrategy(m, strategy);
  const bytes = m.bytes;
  const where = () => `${object}#${iteration} (seed ${hex(seed)}, strategy ${strategy}, mutations ${m.log.join(' ') || 'none'}, ${bytes.length} bytes)`;
  const started = performance.now();
  let failure: string | null = null;
  try {
    check(bytes, strategy, stats);
  } catch (e) {
    failure = `${where()}: ${e instanceof Bug ? e.message : `the fuzz harness itself failed: ${e instanceof Error ? e.stack : String(e)}`}`;
  }
  const ms = performance.now() - started;
  stats.inputs++;
  stats.slowestMs = Math.max(stats.slowestMs, ms);
  if (!failure && ms > SLOW_MS) failure = `${where()}: took ${Math.round(ms)} ms`;
  return failure;
}

/** Runs the model and the reader on one input; throws a Bug for anything but success or a proper CoolbpfError. */
function check(bytes: Uint8Array, strategy: string, stats: Stats): Outcome {
  const outcome = runModel(bytes);
  let readError: CoolbpfError | null = null;
  let obj: BpfObject | null = null;
  try {
    obj = readObject(bytes);
  } catch (e) {
    readError = checkError(e, 'readObject');
  }
  if (obj) {
    try {
      walk(obj);
    } catch (e) {
      checkError(e, 'walking the decoded object');
      stats.lazyErrors++;
    }
  }
  // buildModel reads the object first: it fails exactly when the reader does, with the same message.
  if (readError && (outcome.ok || outcome.error.message !== readError.message)) {
    throw new Bug(`readObject failed (${readError.message}) but buildModel ${outcome.ok ? 'succeeded' : `failed differently (${outcome.error.message})`}`);
  }
  const perStrategy = stats.byStrategy.get(strategy) ?? { ok: 0, errors: 0 };
  stats.byStrategy.set(strategy, perStrategy);
  if (outcome.ok) {
    stats.ok++;
    perStrategy.ok++;
    if (stats.ok % DETERMINISM_EVERY === 1) {
      const again = runModel(bytes);
      if (!again.ok || again.json !== outcome.json) throw new Bug('buildModel gave a different model the second time on the same bytes');
      stats.determinism++;
    }
  } else {
    stats.errors++;
    perStrategy.errors++;
    const cls = outcome.error.name;
    stats.byClass.set(cls, (stats.byClass.get(cls) ?? 0) + 1);
  }
  return outcome;
}

// ---- the tests ---------------------------------------------------------------

const objects = fixtureNames.flatMap((name) => endians.map((endian) => {
  const path = fixturePath(name, endian);
  return { name, endian, id: `${name}.${endian}`, path, inputs: inputsFor(statSync(path).size) };
}));
const only = ONLY ? /^(.+)#(\d+)$/.exec(ONLY) : null;
if (ONLY && !only) throw new Error(`COOLBPF_FUZZ_ONLY=${ONLY}: expected <fixture>.<endian>#<iteration>, e.g. maps.bpfel#123`);

describe('fuzzing the reader and the model with mutated fixture objects', () => {
  for (const { id, path, inputs } of objects) {
    const run = only && only[1] !== id ? it.skip : it;
    run(`${id}: every mutated input is modelled or fails with a one-line CoolbpfError`, () => {
      const bytes = new Uint8Array(readFileSync(path));
      // the unmutated object must model cleanly, or the mutations would all start from an error
      expect(runModel(bytes).ok).toBe(true);
      const layout = describeLayout(bytes);
      const stats = newStats();
      const failures: string[] = [];
      const iterations = only ? [Number(only[2])] : Array.from({ length: inputs }, (_, i) => i);
      for (const i of iterations) {
        const failure = runOne(layout, id, i, stats);
        if (failure) failures.push(failure);
        if (failures.length >= MAX_FAILURES) break;
      }
      const classes = [...stats.byClass].sort((a, b) => b[1] - a[1]).map(([c, n]) => `${c} ${n}`).join(', ');
      console.log(
        `fuzz ${id}: ${stats.inputs} inputs, ${stats.ok} modelled, ${stats.errors} rejected (${classes || 'none'}), ` +
          `${stats.lazyErrors} errors only the full walk saw, ${stats.determinism} determinism checks, slowest ${stats.slowestMs.toFixed(1)} ms`,
      );
      totals.inputs += stats.inputs;
      totals.ok += stats.ok;
      totals.errors += stats.errors;
      for (const [s, c] of stats.byStrategy) {
        const t = totals.byStrategy.get(s) ?? { ok: 0, errors: 0 };
        t.ok += c.ok;
        t.errors += c.errors;
        totals.byStrategy.set(s, t);
      }
      expect(failures, `fuzzing found ${failures.length} bug(s); replay one with COOLBPF_FUZZ_ONLY=<object>#<iteration>:\n${failures.join('\n\n')}`).toEqual([]);
      if (!only) {
        // the fuzzer must do real work on every object: both outcomes, in numbers
        expect(stats.ok, `${id}: too few mutated inputs were modelled`).toBeGreaterThan(stats.inputs * 0.05);
        expect(stats.errors, `${id}: too few mutated inputs were rejected`).toBeGreaterThan(stats.inputs * 0.05);
      }
    });
  }

  afterAll(() => {
    if (only || totals.inputs === 0) return;
    const perStrategy = [...totals.byStrategy].sort().map(([s, c]) => `${s} ${c.ok}/${c.errors}`).join(', ');
    console.log(`fuzz total: ${totals.inputs} inputs, ${totals.ok} modelled, ${totals.errors} rejected; by strategy (modelled/rejected): ${perStrategy}`);
  });

  it.skipIf(Boolean(only))('the mutations reach every layer: both outcomes overall, and rejections from every strategy', () => {
    expect(totals.inputs).toBe(objects.reduce((n, o) => n + o.inputs, 0));
    expect(totals.errors).toBeGreaterThan(totals.inputs * 0.05);
    expect(totals.ok).toBeGreaterThan(totals.inputs * 0.05);
    for (const [s] of STRATEGY_WEIGHTS) {
      const c = totals.byStrategy.get(s);
      expect(c?.errors ?? 0, `strategy ${s} never produced an error`).toBeGreaterThan(0);
    }
  });
});

// ---- regressions ---------------------------------------------------------------

/**
 * Inputs that once broke coolbpf. Each is a mutation the strategies above
 * can make (a retargeted reference, a resized type, a renamed member) but
 * hit too rarely to guard against a regression at this budget, so they are
 * spelled out here and go through the same checks.
 */
interface Regression {
  readonly what: string;
  readonly fixture: string;
  /** the mutation, through an editor that finds fields by type and strings by content */
  readonly mutate: (edit: Editor) => void;
  /** the rejection it must produce */
  readonly error: RegExp;
}

interface Editor {
  readonly btf: BpfObject['btf'];
  id(t: Type): number;
  /** sets a field of a type record, named as in describeLayout: 'size_type', 'array.type', 'array.nelems' … */
  set(t: Type, field: string, value: number): void;
  /** overwrites byte `index` of the first string in .BTF equal to `name` */
  setNameByte(name: string, index: number, byte: number): void;
}

const mapVar = (btf: BpfObject['btf'], name: string) => {
  const sec = btf.find('.maps', 'datasec');
  const v = sec?.kind === 'datasec' ? sec.vars.map((x) => x.variable).find((x) => x.kind === 'var' && x.name === name) : undefined;
  if (v?.kind !== 'var') throw new Error(`fixture: no map '${name}'`);
  return v;
};
const member = (t: Type, name: string): Type => {
  if (t.kind !== 'struct' && t.kind !== 'union') throw new Error(`fixture: ${t.kind} has no member '${name}'`);
  const m = t.members.find((x) => x.name === name);
  if (!m) throw new Error(`fixture: no member '${name}'`);
  return m.type;
};

const REGRESSIONS: readonly Regression[] = [
  {
    what: "a map of maps whose inner map definition is the outer one (endless recursion: 'Maximum call stack size exceeded')",
    fixture: 'maps',
    mutate: ({ btf, set, id }) => {
      const outer = mapVar(btf, 'array_of_maps').type;
      const values = member(outer, 'values');
      if (values.kind !== 'array') throw new Error('fixture: values is not an array');
      set(values.element, 'size_type', id(outer));
    },
    error: /map 'array_of_maps': inner map: field 'values': an inner map definition cannot declare 'values'/,
  },
  {
    what: 'a .kconfig variable of an enum of size 0 (NaN offsets, which JSON writes as null)',
    fixture: 'globals',
    mutate: ({ btf, set, id }) => {
      const hz = btf.find('CONFIG_HZ', 'var');
      const mode = btf.find('cfg_mode', 'enum');
      if (!hz || !mode) throw new Error('fixture: no CONFIG_HZ or enum cfg_mode');
      set(hz, 'size_type', id(mode));
      set(mode, 'size_type', 0);
    },
    error: /enum cfg_mode: size 0 is not 1, 2, 4 or 8 bytes/,
  },
  {
    what: 'a map value array of 2^64 bytes (a size past 2^53 in the model, which JSON cannot carry)',
    fixture: 'maps',
    mutate: ({ btf, set, id }) => {
      // two arrays no map uses, nested, each of 2^32-1 elements
      const arrays = [...btf.types()].filter((t) => t.kind === 'array');
      const [x, y] = arrays.slice(-2) as [Type, Type];
      set(member(mapVar(btf, 'lru_hash').type, 'value'), 'size_type', id(x));
      set(x, 'array.type', id(y));
      set(x, 'array.nelems', 0xffffffff);
      set(y, 'array.nelems', 0xffffffff);
    },
    error: /\[4294967295\]\[4294967295\]: size overflows \(more than 2\^53 bytes\)/,
  },
  {
    what: 'a map definition field name with a line break (a two-line error message)',
    fixture: 'kinds',
    mutate: ({ setNameByte }) => setNameByte('max_entries', 3, 0x0a),
    error: /unknown field 'max\\nentries' in the map definition/,
  },
];

describe('inputs that once broke coolbpf', () => {
  for (const r of REGRESSIONS) {
    for (const endian of endians) {
      it(`${r.fixture}.${endian}: ${r.what}`, () => {
        const layout = describeLayout(new Uint8Array(readFileSync(fixturePath(r.fixture, endian))));
        const m = new Mutant(layout, new Rng(0));
        const { btf } = readObject(layout.bytes);
        const id = (t: Type) => {
          const n = btf.idOf(t);
          if (n === undefined) throw new Error('fixture: a type without an id');
          return n;
        };
        r.mutate({
          btf,
          id,
          set(t, field, value) {
            const f = layout.btf?.byId.get(id(t))?.fields.find((x) => x.what.endsWith(`].${field}`));
            if (!f) throw new Error(`fixture: type [${id(t)}] ${t.kind} has no field ${field}`);
            m.write(f, BigInt(value));
          },
          setNameByte(name, index, byte) {
            const strings = layout.btf!.strings;
            const at = layout.btfStrings.find((o) => Buffer.from(layout.bytes.subarray(strings.at + o, strings.at + o + name.length + 1)).equals(Buffer.from(`${name}\0`)));
            if (at === undefined) throw new Error(`fixture: no string '${name}'`);
            m.bytes[strings.at + at + index] = byte;
          },
        });
        let outcome: Outcome;
        try {
          outcome = check(m.bytes, 'regression', newStats());
        } catch (e) {
          return expect.fail(e instanceof Error ? e.message : String(e));
        }
        expect(outcome.ok ? 'modelled' : outcome.error.message).toMatch(r.error);
      });
    }
  }
});
