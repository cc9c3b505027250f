import type { BpfObject, Datasec, Type } from '@coolbpf/reader';
import { SHT } from '@coolbpf/reader';
import { ModelError, within } from './errors.js';
import type { LayoutCollector } from './layout.js';
import type { DataSectionModel, VariableModel } from './types.js';

type DataKind = DataSectionModel['kind'];

/** Which sections libbpf turns into data maps (bpf_object__elf_collect). */
export function dataKind(name: string): DataKind | null {
  const is = (base: string) => name === base || name.startsWith(`${base}.`);
  if (name === '.kconfig') return 'kconfig';
  // .rodata.str1.1 and friends hold string literals, not variables.
  if (is('.rodata') && !name.startsWith('.rodata.str') && !name.startsWith('.rodata.cst')) return 'rodata';
  if (is('.data')) return 'data';
  if (is('.bss')) return 'bss';
  return null;
}

/**
 * .rodata is frozen at load (the verifier trusts its contents), so it is
 * writable only before; .data and .bss stay writable through their mmaped
 * maps; .kconfig is filled by libbpf from the running kernel.
 */
const WRITABLE: Record<DataKind, DataSectionModel['writable']> = {
  rodata: { beforeLoad: true, afterLoad: false },
  data: { beforeLoad: true, afterLoad: true },
  bss: { beforeLoad: true, afterLoad: true },
  kconfig: { beforeLoad: false, afterLoad: false },
};

export function dataSections(obj: BpfObject, types: LayoutCollector): DataSectionModel[] {
  const secs = [...obj.btf.types()].filter((t): t is Datasec => t.kind === 'datasec' && dataKind(t.name) !== null);
  const out: DataSectionModel[] = [];
  for (const elfSec of obj.elf.sections) {
    const kind = dataKind(elfSec.name);
    if (!kind || kind === 'kconfig' || (elfSec.type !== SHT.PROGBITS && elfSec.type !== SHT.NOBITS)) continue;
    const ds = secs.find((s) => s.name === elfSec.name);
    out.push(within(`section '${elfSec.name}'`, () => ({
      name: elfSec.name, kind, size: elfSec.size, writable: WRITABLE[kind],
      variables: ds ? variables(obj, ds, elfSec.index, elfSec.size, types) : [],
    })));
  }
  const kconfig = secs.find((s) => s.name === '.kconfig');
  if (kconfig) out.push(within(`section '.kconfig'`, () => kconfigSection(kconfig, types)));
  return out;
}

/**
 * clang leaves variable offsets (and the section size) as 0 in an object
 * file; like libbpf, take each variable's offset from its ELF symbol.
 */
function variables(obj: BpfObject, ds: Datasec, sectionIndex: number, sectionSize: number, types: LayoutCollector): VariableModel[] {
  const symbols = new Map<string, number>();
  for (const s of obj.elf.symbols) if (s.sectionIndex === sectionIndex && s.name) symbols.set(s.name, s.value);
  const vars = ds.vars.flatMap((vs): VariableModel[] => {
    const v = vs.variable;
    if (v.kind !== 'var') return [];
    return within(`variable '${v.name}'`, () => {
      const offset = symbols.get(v.name) ?? vs.offset;
      const type = types.ref(v.type, { name: v.name });
      const size = types.sizeOf(type);
      if (offset + size > sectionSize) throw new ModelError(`offset ${offset} + size ${size} runs past the section's ${sectionSize} bytes`);
      return [{ name: v.name, offset, size, type, linkage: v.linkage }];
    });
  });
  return vars.sort((a, b) => a.offset - b.offset || (a.name < b.name ? -1 : 1));
}

/**
 * libbpf lays .kconfig out itself (bpf_object__collect_externs): externs by
 * descending alignment, then ascending size, then name, each aligned.
 */
function kconfigSection(ds: Datasec, types: LayoutCollector): DataSectionModel {
  const entries = ds.vars.flatMap((vs) => {
    const v = vs.variable;
    if (v.kind !== 'var') return [];
    return [within(`variable '${v.name}'`, () => {
      const type = types.ref(v.type as Type, { name: v.name });
      return { v, type, size: types.sizeOf(type), align: types.alignOf(type) };
    })];
  });
  entries.sort((a, b) => b.align - a.align || a.size - b.size || (a.v.name < b.v.name ? -1 : a.v.name > b.v.name ? 1 : 0));
  let off = 0;
  const variables: VariableModel[] = entries.map((e) => {
    const offset = Math.ceil(off / e.align) * e.align;
    off = offset + e.size;
    return { name: e.v.name, offset, size: e.size, type: e.type, linkage: e.v.linkage };
  });
  return { name: '.kconfig', kind: 'kconfig', size: off, writable: WRITABLE.kconfig, variables };
}
