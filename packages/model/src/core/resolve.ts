import type { Btf, CoreRelo, Type } from '@coolbpf/reader';
import { CoolbpfError } from '@coolbpf/reader';
import { calcValue, memSizeAdjustFails, type Calc } from './calc.js';
import { candidates } from './candidates.js';
import { matchSpec } from './match.js';
import { label } from './names.js';
import { parseLocalSpec, type Spec } from './spec.js';
import { CoreReloError, type ReloStatus } from './types.js';

/** The object a relocation comes from: its BTF and byte order. */
export interface LocalSide {
  readonly btf: Btf;
  readonly endianness: 'little' | 'big';
}

export interface Resolution {
  readonly access: string;
  readonly status: ReloStatus;
  readonly value?: number | bigint;
  readonly localValue?: number | bigint;
  readonly fieldSize?: number;
  readonly targetTypeId?: number;
  readonly reason?: string;
}

/** BPF instruction classes that access memory: their size is what byte_offset relocations may resize. */
const LDX = 1;
const ST = 2;
const STX = 3;

/**
 * Resolves one CO-RE relocation against a kernel's BTF the way libbpf's
 * bpf_core_calc_relo_insn does: every candidate that matches must agree on
 * offset and value (else libbpf fails: ambiguity), and when none matches
 * the relocation evaluates to its "missing" value or poisons the
 * instruction. `insnClass` (the low 3 bits of the opcode) decides whether a
 * load's size may be adjusted; unknown (undefined) counts as not a load.
 */
export function resolveRelo(local: LocalSide, relo: CoreRelo, target: Btf, insnClass?: number): Resolution {
  let access = label(relo.type);
  try {
    const parsed = parseLocalSpec(relo);
    access = parsed.access;
    const spec = parsed.spec;
    const localId = (t: Type) => local.btf.idOf(t) ?? 0;
    const targetId = (t: Type) => target.idOf(t) ?? 0;
    const localCalc = calcValue(relo.kind, spec, local.endianness, localId);
    const localValue = localCalc.poison ? undefined : localCalc.value;
    if (relo.kind === 'type_id_local') return { access, status: 'resolved', value: localValue!, localValue };
    if (!relo.type.name) throw new CoreReloError('libbpf does not relocate against anonymous types');

    let chosen: { spec: Spec; calc: Calc } | null = null;
    let reason: string | null = null;
    const cands = candidates(relo.type, target);
    for (const cand of cands) {
      const m = matchSpec(relo.kind, spec, cand, access);
      if (!m.ok) {
        reason ??= m.reason;
        continue;
      }
      const calc = calcValue(relo.kind, m.spec, local.endianness, targetId);
      if (!chosen) chosen = { spec: m.spec, calc };
      else if (chosen.spec.bitOffset !== m.spec.bitOffset) {
        throw new CoreReloError(`ambiguous: two target types named ${label(cand)} put it at different offsets (${chosen.spec.bitOffset / 8} and ${m.spec.bitOffset / 8})`);
      } else if (chosen.calc.poison !== calc.poison || (!calc.poison && !chosen.calc.poison && chosen.calc.value !== calc.value)) {
        throw new CoreReloError(`ambiguous: two target types named ${label(cand)} give different values`);
      }
    }
    const calc = chosen ? chosen.calc : calcValue(relo.kind, null, local.endianness, targetId);
    const targetTypeId = chosen ? targetId(chosen.spec.root) : undefined;
    const why = cands.length === 0 ? `type '${label(relo.type)}' not found` : reason ?? `no match for ${access}`;
    if (calc.poison) return { access, status: 'unresolved', localValue, reason: why };
    const isMemAccess = insnClass === LDX || insnClass === ST || insnClass === STX;
    if (isMemAccess && memSizeAdjustFails(localCalc, calc)) {
      return {
        access, status: 'unresolved', localValue, targetTypeId,
        reason: `field '${access}' is ${calc.poison ? '?' : calc.fieldSize} bytes in the target and ${localCalc.poison ? '?' : localCalc.fieldSize} locally, and a load cannot be resized for it (not an unsigned int or pointer)`,
      };
    }
    return {
      access, status: 'resolved', value: calc.value, localValue, targetTypeId,
      ...(calc.fieldSize !== undefined ? { fieldSize: calc.fieldSize } : {}),
      // a value of 0 for an existence check or a missing type is worth saying why
      ...(chosen ? {} : { reason: why }),
    };
  } catch (e) {
    if (e instanceof CoolbpfError) return { access, status: 'error', reason: e.message };
    throw e;
  }
}
