import type { BpfObject, CoreRelo, CoreReloKind } from '@coolbpf/reader';
import { SHF, STT } from '@coolbpf/reader';
import { reachable, type Patch } from './reach.js';
import { resolveRelo, type Resolution } from './resolve.js';
import type { CoreTarget } from './types.js';

/** One relocation of the object, with its outcome on every kernel (in the order the kernels were given). */
export interface CheckedRelo {
  readonly program: string;
  readonly section: string;
  readonly insnOff: number;
  readonly kind: CoreReloKind;
  readonly accessString: string;
  readonly access: string;
  readonly kernels: readonly KernelOutcome[];
}

export interface KernelOutcome extends Omit<Resolution, 'access'> {
  readonly kernel: string;
  /** unresolved, but the verifier cannot reach the instruction with this kernel's values (the usual existence-check guard): the load succeeds */
  readonly deadCode?: boolean;
}

export interface ProgramVerdict {
  readonly name: string;
  readonly section: string;
  readonly kernels: readonly {
    readonly kernel: string;
    /** every relocation resolved, or only ones in dead code did not */
    readonly ok: boolean;
    /** unresolved in reachable code: the load fails */
    readonly unresolved: number;
    /** unresolved in code the verifier skips */
    readonly deadCode: number;
    readonly errors: number;
  }[];
}

export interface CheckReport {
  readonly kernels: readonly string[];
  readonly programs: readonly ProgramVerdict[];
  readonly relocations: readonly CheckedRelo[];
  /** every program loads on every kernel, as far as CO-RE goes */
  readonly ok: boolean;
}

/**
 * The CO-RE compatibility matrix of an object: every relocation of every
 * program resolved against every kernel BTF. Pure: no files, no kernel.
 */
export function checkObject(obj: BpfObject, targets: readonly CoreTarget[]): CheckReport {
  const local = { btf: obj.btf, endianness: obj.elf.endianness };
  const functions = functionsOf(obj);
  const entries: { checked: CheckedRelo; relo: CoreRelo }[] = [];
  // programs without relocations are in the matrix too (trivially loadable); subprograms only with some
  const programs = new Map<string, { name: string; section: string }>();
  for (const f of functions) if (f.section !== '.text') programs.set(`${f.section}\0${f.name}`, { name: f.name, section: f.section });
  for (const sec of obj.ext?.coreRelos ?? []) {
    const insns = obj.elf.section(sec.section)?.data;
    for (const r of sec.records) {
      const f = functions.find((x) => x.section === sec.section && r.insnOff >= x.start && r.insnOff < x.end);
      const program = f?.name ?? `${sec.section}+${r.insnOff}`;
      const cls = insns && r.insnOff < insns.length ? insns[r.insnOff]! & 7 : undefined;
      const outcomes = targets.map((t) => ({ kernel: t.label, ...resolveRelo(local, r, t.btf, cls) }));
      const access = outcomes[0]?.access ?? r.accessString;
      entries.push({
        relo: r,
        checked: {
          program, section: sec.section, insnOff: r.insnOff, kind: r.kind, accessString: r.accessString, access,
          kernels: outcomes.map(({ access: _a, ...o }) => o),
        },
      });
      const key = `${sec.section}\0${program}`;
      if (!programs.has(key)) programs.set(key, { name: program, section: sec.section });
    }
  }
  markDeadCode(obj, entries, functions, targets.length);
  const relocations = entries.map((e) => e.checked);
  const verdicts: ProgramVerdict[] = [...programs.values()].map((p) => {
    const mine = relocations.filter((r) => r.program === p.name && r.section === p.section);
    return {
      ...p,
      kernels: targets.map((t, k) => {
        const outs = mine.map((r) => r.kernels[k]!);
        const unresolved = outs.filter((o) => o.status === 'unresolved' && !o.deadCode).length;
        const deadCode = outs.filter((o) => o.deadCode).length;
        const errors = outs.filter((o) => o.status === 'error').length;
        return { kernel: t.label, ok: unresolved === 0 && errors === 0, unresolved, deadCode, errors };
      }),
    };
  });
  return { kernels: targets.map((t) => t.label), programs: verdicts, relocations, ok: verdicts.every((v) => v.kernels.every((k) => k.ok)) };
}

/**
 * An unresolved relocation poisons its instruction, which fails the load
 * only if the verifier reaches it: follow each function with that kernel's
 * values patched in, and mark the poisoned instructions it cannot reach
 * (see reach.ts). When the function cannot be followed, all count as
 * reachable.
 */
function markDeadCode(obj: BpfObject, entries: { checked: CheckedRelo; relo: CoreRelo }[], functions: readonly Fn[], kernels: number): void {
  for (const f of functions) {
    const mine = entries.filter((e) => e.checked.section === f.section && e.relo.insnOff >= f.start && e.relo.insnOff < f.end);
    const data = obj.elf.section(f.section)?.data;
    if (!data || !mine.some((e) => e.checked.kernels.some((o) => o.status === 'unresolved'))) continue;
    for (let k = 0; k < kernels; k++) {
      if (!mine.some((e) => e.checked.kernels[k]!.status === 'unresolved')) continue;
      const patches = new Map<number, Patch>();
      for (const e of mine) {
        const o = e.checked.kernels[k]!;
        const idx = (e.relo.insnOff - f.start) / 8;
        if (o.status === 'unresolved') patches.set(idx, 'poison');
        else if (o.status === 'resolved' && o.value !== undefined) patches.set(idx, { value: BigInt(o.value) });
      }
      const seen = reachable(data, obj.elf.endianness, f.start / 8, (f.end - f.start) / 8, patches);
      if (!seen) continue;
      for (const e of mine) {
        const o = e.checked.kernels[k]!;
        if (o.status === 'unresolved' && !seen.has((e.relo.insnOff - f.start) / 8)) (e.checked.kernels as KernelOutcome[])[k] = { ...o, deadCode: true };
      }
    }
  }
}

interface Fn {
  readonly name: string;
  readonly section: string;
  readonly start: number;
  readonly end: number;
}

/** Functions of executable sections with their byte ranges: programs, and subprograms in .text. */
function functionsOf(obj: BpfObject): Fn[] {
  const out: Fn[] = [];
  for (const s of obj.elf.symbols) {
    if (s.type !== STT.FUNC) continue;
    const sec = s.sectionIndex === null ? undefined : obj.elf.sections[s.sectionIndex];
    if (!sec || (sec.flags & BigInt(SHF.EXECINSTR)) === 0n) continue;
    out.push({ name: s.name, section: sec.name, start: s.value, end: s.value + s.size });
  }
  return out;
}
