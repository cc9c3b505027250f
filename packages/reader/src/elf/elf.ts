import { ByteView, type Endianness } from '../bytes.js';
import { ElfError } from '../errors.js';

/** e_machine of BPF objects. */
const EM_BPF = 247;

const MACHINES: Record<number, string> = {
  3: 'x86 (i386)', 8: 'MIPS', 20: 'PowerPC', 21: 'PowerPC64', 22: 's390', 40: 'ARM', 62: 'x86-64',
  183: 'AArch64', 243: 'RISC-V', 258: 'LoongArch',
};

export const SHT = {
  NULL: 0, PROGBITS: 1, SYMTAB: 2, STRTAB: 3, RELA: 4, HASH: 5, DYNAMIC: 6, NOTE: 7, NOBITS: 8, REL: 9,
  DYNSYM: 11, LLVM_ADDRSIG: 0x6fff4c03,
} as const;

export const SHF = { WRITE: 0x1, ALLOC: 0x2, EXECINSTR: 0x4, MERGE: 0x10, STRINGS: 0x20 } as const;

export const STT = { NOTYPE: 0, OBJECT: 1, FUNC: 2, SECTION: 3, FILE: 4 } as const;
export const STB = { LOCAL: 0, GLOBAL: 1, WEAK: 2 } as const;

/** Special section indices a symbol can carry instead of a real section. */
const SHN_UNDEF = 0;
const SHN_LORESERVE = 0xff00;
const SHN_XINDEX = 0xffff;

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  readonly type: number;
  readonly flags: bigint;
  readonly offset: number;
  /** size in memory; for SHT_NOBITS (.bss) there are no bytes in the file */
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** the section's bytes in the file (empty for SHT_NOBITS) */
  readonly data: Uint8Array;
}

export interface ElfSymbol {
  readonly index: number;
  readonly name: string;
  readonly value: number;
  readonly size: number;
  readonly type: number;
  readonly bind: number;
  readonly visibility: number;
  /** index of the section it is defined in, or null for undefined/absolute/common symbols */
  readonly sectionIndex: number | null;
}

export interface ElfRelocation {
  readonly offset: number;
  readonly type: number;
  readonly symbol: ElfSymbol;
  /** present only for SHT_RELA */
  readonly addend: bigint | null;
}

export interface ElfFile {
  readonly endianness: Endianness;
  readonly machine: number;
  readonly sections: readonly ElfSection[];
  readonly symbols: readonly ElfSymbol[];
  section(name: string): ElfSection | undefined;
  /** Relocations that apply to the given section (from its SHT_REL/SHT_RELA companions). */
  relocationsFor(section: ElfSection): readonly ElfRelocation[];
}

export function isElf(bytes: Uint8Array): boolean {
  return bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46;
}

const fail = (reason: string) => new ElfError(reason);

/** Parses an ELF64 BPF object of either byte order. Throws ElfError for anything else. */
export function readElf(bytes: Uint8Array): ElfFile {
  if (!isElf(bytes)) throw new ElfError('not an ELF file (bad magic)');
  if (bytes.length < 64) throw new ElfError(`ELF header truncated (${bytes.length} bytes, need 64)`);
  if (bytes[4] !== 2) throw new ElfError(bytes[4] === 1 ? 'ELF32 object; BPF objects are ELF64' : `unknown ELF class ${bytes[4]}`);
  const endianness: Endianness | undefined = bytes[5] === 1 ? 'little' : bytes[5] === 2 ? 'big' : undefined;
  if (!endianness) throw new ElfError(`unknown ELF data encoding ${bytes[5]}`);
  const v = new ByteView(bytes, endianness, fail);

  const machine = v.u16(18);
  if (machine !== EM_BPF) {
    throw new ElfError(`ELF for ${MACHINES[machine] ?? `machine ${machine}`}, not BPF (e_machine ${machine}, want ${EM_BPF})`);
  }
  const shoff = v.u64n(40, 'section header offset');
  const shentsize = v.u16(58);
  let shnum = v.u16(60);
  let shstrndx = v.u16(62);
  if (shoff === 0) throw new ElfError('no section header table');
  if (shentsize < 64) throw new ElfError(`section header entry size ${shentsize} is smaller than 64`);
  // Large section counts live in section 0 (the ELF extended numbering rules).
  if (shnum === 0 || shstrndx === SHN_XINDEX) {
    v.check(shoff, 64, 'section header 0');
    if (shnum === 0) shnum = v.u64n(shoff + 32, 'section count');
    if (shstrndx === SHN_XINDEX) shstrndx = v.u32(shoff + 40);
  }
  if (shoff + shnum * shentsize > bytes.length) {
    throw new ElfError(`section header table (${shnum} entries at offset ${shoff}) runs past the end of the file (${bytes.length} bytes)`);
  }
  if (shstrndx >= shnum) throw new ElfError(`section name table index ${shstrndx} out of range (${shnum} sections)`);

  interface RawSection { nameOff: number; type: number; flags: bigint; offset: number; size: number; link: number; info: number; addralign: number; entsize: number }
  const raws: RawSection[] = [];
  for (let i = 0; i < shnum; i++) {
    const o = shoff + i * shentsize;
    raws.push({
      nameOff: v.u32(o), type: v.u32(o + 4), flags: v.u64(o + 8),
      offset: v.u64n(o + 24, `section ${i} offset`), size: v.u64n(o + 32, `section ${i} size`),
      link: v.u32(o + 40), info: v.u32(o + 44),
      addralign: v.u64n(o + 48, `section ${i} alignment`), entsize: v.u64n(o + 56, `section ${i} entry size`),
    });
  }
  const dataOf = (r: RawSection, label: string): Uint8Array => {
    if (r.type === SHT.NOBITS || r.type === SHT.NULL) return new Uint8Array(0);
    if (r.offset + r.size > bytes.length) {
      throw new ElfError(`section ${label}: data (offset ${r.offset}, ${r.size} bytes) runs past the end of the file (${bytes.length} bytes)`);
    }
    return bytes.subarray(r.offset, r.offset + r.size);
  };
  const shstr = dataOf(raws[shstrndx]!, `${shstrndx} (section names)`);
  const cstr = (table: Uint8Array, off: number, what: string): string => {
    if (off >= table.length) {
      if (off === 0 && table.length === 0) return '';
      throw new ElfError(`${what}: name offset ${off} is outside its string table (${table.length} bytes)`);
    }
    let end = table.indexOf(0, off);
    if (end < 0) end = table.length;
    return decodeUtf8(table.subarray(off, end));
  };

  const sections: ElfSection[] = raws.map((r, index) => {
    const name = cstr(shstr, r.nameOff, `section ${index}`);
    return {
      index, name, type: r.type, flags: r.flags, offset: r.offset, size: r.size, link: r.link, info: r.info,
      addralign: r.addralign, entsize: r.entsize, data: dataOf(r, `'${name}'`),
    };
  });

  const symbols = readSymbols(sections, endianness, cstr);
  const byName = new Map<string, ElfSection>();
  for (const s of sections) if (!byName.has(s.name)) byName.set(s.name, s);

  const relocCache = new Map<number, ElfRelocation[]>();
  return {
    endianness, machine, sections, symbols,
    section: (name) => byName.get(name),
    relocationsFor(target) {
      let out = relocCache.get(target.index);
      if (!out) {
        out = [];
        for (const s of sections) {
          if ((s.type === SHT.REL || s.type === SHT.RELA) && s.info === target.index) {
            out.push(...readRelocations(s, endianness, symbols));
          }
        }
        relocCache.set(target.index, out);
      }
      return out;
    },
  };
}

function readSymbols(
  sections: readonly ElfSection[],
  endianness: Endianness,
  cstr: (table: Uint8Array, off: number, what: string) => string,
): ElfSymbol[] {
  const symtab = sections.find((s) => s.type === SHT.SYMTAB);
  if (!symtab) return [];
  const where = (r: string) => new ElfError(`section '${symtab.name}': ${r}`);
  const entsize = symtab.entsize || 24;
  if (entsize < 24) throw where(`symbol entry size ${entsize} is smaller than 24`);
  if (symtab.data.length % entsize !== 0) throw where(`size ${symtab.data.length} is not a multiple of the entry size ${entsize}`);
  const strtab = sections[symtab.link];
  if (!strtab || strtab.type !== SHT.STRTAB) throw where(`linked string table ${symtab.link} is not a string table`);
  const v = new ByteView(symtab.data, endianness, where);
  const out: ElfSymbol[] = [];
  for (let i = 0, o = 0; o < symtab.data.length; i++, o += entsize) {
    const info = v.u8(o + 4);
    const shndx = v.u16(o + 6);
    if (shndx !== SHN_UNDEF && shndx < SHN_LORESERVE && shndx >= sections.length) {
      throw where(`symbol ${i} refers to section ${shndx}, but there are ${sections.length}`);
    }
    out.push({
      index: i,
      name: cstr(strtab.data, v.u32(o), `section '${symtab.name}': symbol ${i}`),
      value: v.u64n(o + 8, `symbol ${i} value`),
      size: v.u64n(o + 16, `symbol ${i} size`),
      type: info & 0xf,
      bind: info >> 4,
      visibility: v.u8(o + 5) & 0x3,
      sectionIndex: shndx === SHN_UNDEF || shndx >= SHN_LORESERVE ? null : shndx,
    });
  }
  return out;
}

function readRelocations(sec: ElfSection, endianness: Endianness, symbols: readonly ElfSymbol[]): ElfRelocation[] {
  const rela = sec.type === SHT.RELA;
  const entsize = sec.entsize || (rela ? 24 : 16);
  const where = (r: string) => new ElfError(`section '${sec.name}': ${r}`);
  if (entsize < (rela ? 24 : 16)) throw where(`relocation entry size ${entsize} is too small`);
  if (sec.data.length % entsize !== 0) throw where(`size ${sec.data.length} is not a multiple of the entry size ${entsize}`);
  const v = new ByteView(sec.data, endianness, where);
  const out: ElfRelocation[] = [];
  for (let i = 0, o = 0; o < sec.data.length; i++, o += entsize) {
    const info = v.u64(o + 8);
    const symIndex = Number(info >> 32n);
    const symbol = symbols[symIndex];
    if (!symbol) throw where(`relocation ${i} refers to symbol ${symIndex}, but there are ${symbols.length}`);
    out.push({
      offset: v.u64n(o, `relocation ${i} offset`),
      type: Number(info & 0xffffffffn),
      symbol,
      addend: rela ? v.u64(o + 16) : null,
    });
  }
  return out;
}

const utf8 = new TextDecoder('utf-8');
function decodeUtf8(b: Uint8Array): string {
  for (let i = 0; i < b.length; i++) if (b[i]! >= 0x80) return utf8.decode(b);
  return String.fromCharCode.apply(null, b as unknown as number[]);
}
