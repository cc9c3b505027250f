import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { endians, fixtureNames, fixturePath, sourceDir } from '@coolbpf/fixtures';
import { describe, expect, it } from 'vitest';
import { Btf } from './btf/btf.js';
import { reencodeBtf } from './btf/encode.js';
import type { Struct, Type } from './btf/types.js';
import { CORE_RELO_KINDS, encodeBtfExt } from './btfext/ext.js';
import { SHT, STT } from './elf/elf.js';
import { readObject } from './object.js';
import { bpftoolTypes, missing, which } from './tools.testutil.js';

const readelf = which('llvm-readelf-16') ?? which('llvm-readelf');

/** `llvm-readelf -S -W`: [index, name, type, size] of every section. */
function readelfSections(file: string): [number, string, string, number][] {
  const out = execFileSync(readelf!, ['-S', '-W', file], { encoding: 'utf8' });
  const rows: [number, string, string, number][] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\[\s*(\d+)\]\s+(\S*)\s+([A-Z_0-9]+)\s+[0-9a-f]{16}\s+[0-9a-f]+\s+([0-9a-f]+)\s/.exec(line);
    if (m) rows.push([Number(m[1]), m[2]!, m[3]!, parseInt(m[4]!, 16)]);
  }
  return rows;
}

/** `llvm-readelf -s -W`: name, value, size, type of every symbol. */
function readelfSymbols(file: string): [string, number, number, string][] {
  const out = execFileSync(readelf!, ['-s', '-W', file], { encoding: 'utf8' });
  const rows: [string, number, number, string][] = [];
  for (const line of out.split('\n')) {
    const m = /^\s*\d+:\s+([0-9a-f]{16})\s+(\d+)\s+(\S+)\s+\S+\s+\S+\s+\S+\s*(\S*)$/.exec(line);
    if (m) rows.push([m[4]!, parseInt(m[1]!, 16), Number(m[2]), m[3]!]);
  }
  return rows;
}

const SHT_NAMES: Record<number, string> = { [SHT.NULL]: 'NULL', [SHT.PROGBITS]: 'PROGBITS', [SHT.SYMTAB]: 'SYMTAB', [SHT.STRTAB]: 'STRTAB', [SHT.REL]: 'REL', [SHT.NOBITS]: 'NOBITS', [SHT.LLVM_ADDRSIG]: 'LLVM_ADDRSIG' };
const STT_NAMES: Record<number, string> = { [STT.NOTYPE]: 'NOTYPE', [STT.OBJECT]: 'OBJECT', [STT.FUNC]: 'FUNC', [STT.SECTION]: 'SECTION', [STT.FILE]: 'FILE' };

const why = missing({ tools: ['bpftool', 'llvm-readelf-16'] });
if (why) console.log(`skipping fixture comparisons with bpftool/llvm-readelf: ${why}`);

for (const name of fixtureNames) {
  for (const endian of endians) {
    describe(`${name}.${endian}.o`, () => {
      const file = fixturePath(name, endian);
      const bytes = readFileSync(file);
      const obj = readObject(bytes);

      it('has the byte order it was compiled for', () => {
        expect(obj.elf.endianness).toBe(endian === 'bpfel' ? 'little' : 'big');
        expect(obj.btf.endianness).toBe(obj.elf.endianness);
        expect(obj.license).toBe('GPL');
      });

      it.skipIf(why !== null)('sees the same sections and symbols as llvm-readelf', () => {
        expect(obj.elf.sections.map((s) => [s.index, s.name, SHT_NAMES[s.type] ?? `0x${s.type.toString(16)}`, s.size])).toEqual(readelfSections(file));
        // readelf shows a section symbol under its section's name; the symbol's own name is empty
        const shown = (s: (typeof obj.elf.symbols)[number]) => (s.type === STT.SECTION && s.sectionIndex !== null ? obj.elf.sections[s.sectionIndex]!.name : s.name);
        expect(obj.elf.symbols.map((s) => [shown(s), s.value, s.size, STT_NAMES[s.type] ?? String(s.type)])).toEqual(readelfSymbols(file));
      });

      it.skipIf(why !== null)('agrees with bpftool on every BTF type', () => {
        const theirs = bpftoolTypes(file);
        expect([...obj.btf.entries()].map(([id]) => ({ id, ...obj.btf.summary(id) }))).toEqual(
          theirs.map((t) => ({ id: t.id, kind: t.kind.toLowerCase(), name: t.name === '(anon)' ? '' : t.name, size: t.size ?? null })),
        );
      });

      it('round trips .BTF and .BTF.ext byte for byte', () => {
        const enc = reencodeBtf(obj.btf);
        expect(Buffer.from(enc.bytes).equals(Buffer.from(obj.elf.section('.BTF')!.data))).toBe(true);
        const ext = encodeBtfExt(obj.ext!, enc, obj.elf.endianness);
        expect(Buffer.from(ext).equals(Buffer.from(obj.elf.section('.BTF.ext')!.data))).toBe(true);
        // the strings .BTF.ext uses were all in .BTF already, so encoding it added none
        expect(Buffer.from(enc.strings.bytes()).equals(Buffer.from(obj.btf.strings.bytes()))).toBe(true);
      });

      it('relocation records point at real symbols in the sections they patch', () => {
        for (const sec of obj.elf.sections.filter((s) => s.type === SHT.PROGBITS && s.size > 0 && (s.flags & 4n))) {
          for (const r of obj.elf.relocationsFor(sec)) {
            expect(r.offset % 8).toBe(0);
            expect(r.offset).toBeLessThan(sec.size);
          }
        }
      });

      it('func_info and line_info agree with the symbols and the C source', () => {
        const source = readFileSync(join(sourceDir, `${name}.bpf.c`), 'utf8').split('\n');
        for (const sec of obj.ext!.funcInfo) {
          const elfSec = obj.elf.section(sec.section)!;
          const funcs = obj.elf.symbols.filter((s) => s.sectionIndex === elfSec.index && s.type === STT.FUNC);
          expect(sec.records.map((r) => [r.insnOff, r.func.name]).sort()).toEqual(funcs.map((f) => [f.value, f.name]).sort());
        }
        let checked = 0;
        for (const sec of obj.ext!.lineInfo) {
          for (const r of sec.records) {
            if (!r.fileName.endsWith(`${name}.bpf.c`) || r.lineNumber === 0) continue;
            // line_info carries the source line's text: it must be that line of the file
            expect(source[r.lineNumber - 1]).toBe(r.line);
            checked++;
          }
        }
        expect(checked).toBeGreaterThan(0);
      });
    });
  }
}

/** Follows a CO-RE access string ("0:1:2") from its root type, as libbpf does. */
function walkAccess(root: Type, access: string): string[] {
  const strip = (t: Type): Type => {
    while (t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') t = t.target;
    return t;
  };
  const idx = access.split(':').map(Number);
  const names: string[] = [];
  let t = strip(root);
  for (const i of idx.slice(1)) {
    if (t.kind === 'struct' || t.kind === 'union') {
      const m = (t as Struct).members[i];
      if (!m) throw new Error(`member ${i} of ${t.name}`);
      names.push(m.name);
      t = strip(m.type);
    } else if (t.kind === 'array') {
      names.push(`[${i}]`);
      t = strip(t.element);
    } else throw new Error(`cannot index ${t.kind}`);
  }
  return names;
}

describe('CO-RE relocations in progs', () => {
  for (const endian of endians) {
    it(`(${endian}) decodes all 13 kinds, each with an access string that resolves in its root type`, () => {
      const obj = readObject(readFileSync(fixturePath('progs', endian)));
      const relos = obj.ext!.coreRelos.flatMap((s) => s.records);
      expect(new Set(relos.map((r) => r.kind))).toEqual(new Set(CORE_RELO_KINDS));
      for (const r of relos) {
        if (r.kind.startsWith('field_')) expect(walkAccess(r.type, r.accessString).length).toBeGreaterThan(0);
        else if (r.kind.startsWith('enumval_')) {
          const e = r.type.kind === 'typedef' ? r.type.target : r.type;
          expect(['enum', 'enum64']).toContain(e.kind);
        } else expect(r.accessString).toBe('0');
      }
      const parentTgid = relos.find((r) => r.kind === 'field_byte_offset' && r.type.name === 'task_struct' && walkAccess(r.type, r.accessString).join('.') === 'real_parent');
      expect(parentTgid).toBeDefined();
    });
  }
});

describe('kinds fixture', () => {
  it('holds every BTF kind clang emits', () => {
    const btf: Btf = readObject(readFileSync(fixturePath('kinds'))).btf;
    const kinds = new Set([...btf.types()].map((t) => t.kind));
    expect([...kinds].sort()).toEqual([
      'array', 'const', 'datasec', 'decl_tag', 'enum', 'enum64', 'float', 'func', 'func_proto', 'fwd', 'int', 'ptr',
      'restrict', 'struct', 'type_tag', 'typedef', 'union', 'var', 'volatile',
    ]);
  });
});
