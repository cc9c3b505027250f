import type { BpfObject } from '@coolbpf/reader';
import { SHF, STB, STT } from '@coolbpf/reader';
import { ModelError } from './errors.js';
import { parseProgramSection, SectionNameError } from './sections.js';
import type { ProgramModel } from './types.js';

const INSN_SIZE = 8;

/**
 * Programs are the functions in executable sections other than .text
 * (functions in .text are subprograms, called from programs), as libbpf
 * sees them.
 */
export function programs(obj: BpfObject): ProgramModel[] {
  const out: ProgramModel[] = [];
  const relos = new Map<string, number[]>();
  for (const s of obj.ext?.coreRelos ?? []) relos.set(s.section, s.records.map((r) => r.insnOff));
  for (const sec of obj.elf.sections) {
    if ((sec.flags & BigInt(SHF.EXECINSTR)) === 0n || sec.name === '.text' || sec.size === 0) continue;
    const funcs = obj.elf.symbols
      .filter((s) => s.sectionIndex === sec.index && s.type === STT.FUNC)
      .sort((a, b) => a.value - b.value);
    for (const f of funcs) {
      const where = `section '${sec.name}': program '${f.name}'`;
      if (f.bind === STB.LOCAL) throw new ModelError(`is static; libbpf loads only global functions as programs`, [where]);
      if (f.value + f.size > sec.size || f.size % INSN_SIZE !== 0) {
        throw new ModelError(`symbol (offset ${f.value}, ${f.size} bytes) does not fit the section's ${sec.size} bytes of instructions`, [where]);
      }
      let kind;
      try {
        kind = parseProgramSection(sec.name);
      } catch (e) {
        if (e instanceof SectionNameError) throw new ModelError(e.reason, [where]);
        throw e;
      }
      const inRange = (relos.get(sec.name) ?? []).filter((o) => o >= f.value && o < f.value + f.size).length;
      out.push({
        name: f.name, section: sec.name, kind, autoload: !sec.name.startsWith('?'),
        instructions: f.size / INSN_SIZE, coreRelocations: inRange,
      });
    }
  }
  return out;
}
