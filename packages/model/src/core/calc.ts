import type { CoreReloKind, Type } from '@coolbpf/reader';
import { isAnyEnum, isComposite, resolveSize, skipModsAndTypedefs } from './names.js';
import { FIELD_KINDS, TYPE_KINDS, type Spec } from './spec.js';
import { CoreReloError } from './types.js';

/** What one side of a relocation evaluates to (bpf_core_calc_*_relo). */
export type Calc =
  | { readonly poison: false; readonly value: number | bigint; readonly fieldSize?: number; readonly fieldType?: Type }
  /** no target: the instruction is poisoned */
  | { readonly poison: true };

const POISON: Calc = { poison: true };

/**
 * The value of a relocation for one spec; `spec` null means no candidate
 * matched. Existence checks then give 0 and type-based relocations 0 (both
 * never fail); everything else poisons the instruction.
 */
export function calcValue(kind: CoreReloKind, spec: Spec | null, endianness: 'little' | 'big', targetId: (t: Type) => number): Calc {
  if (FIELD_KINDS.has(kind)) return calcField(kind, spec, endianness);
  if (TYPE_KINDS.has(kind)) {
    if (!spec) return { poison: false, value: 0 };
    switch (kind) {
      case 'type_id_target': case 'type_id_local': return { poison: false, value: targetId(spec.root) };
      case 'type_exists': case 'type_matches': return { poison: false, value: 1 };
      default: {
        const size = resolveSize(spec.root);
        if (size === null) throw new CoreReloError('type size relocation on a type without a size');
        return { poison: false, value: size };
      }
    }
  }
  if (kind === 'enumval_exists') return { poison: false, value: spec ? 1 : 0 };
  if (!spec) return POISON;
  const acc = spec.accessors[0]!;
  const t = acc.type as Extract<Type, { kind: 'enum' | 'enum64' }>;
  return { poison: false, value: t.values[acc.idx]!.value };
}

function calcField(kind: CoreReloKind, spec: Spec | null, endianness: 'little' | 'big'): Calc {
  if (kind === 'field_exists') return { poison: false, value: spec ? 1 : 0 };
  if (!spec) return POISON;
  const acc = spec.accessors[spec.accessors.length - 1]!;
  if (acc.name === null) {
    // the access ends at an array element (or the root itself)
    const size = resolveSize(acc.type);
    if (size === null) throw new CoreReloError('array element without a size');
    if (kind === 'field_byte_offset') return { poison: false, value: spec.bitOffset / 8, fieldSize: size, fieldType: acc.type };
    if (kind === 'field_byte_size') return { poison: false, value: size };
    throw new CoreReloError(`${kind} relocation cannot be applied to an array element`);
  }
  if (!isComposite(acc.type)) throw new CoreReloError('member access into a type that is not a struct or union');
  const m = acc.type.members[acc.idx]!;
  const mt = skipModsAndTypedefs(m.type);
  const bitOff = spec.bitOffset;
  let bitSize = m.bitfieldSize;
  const bitfield = bitSize > 0;
  let byteSize: number;
  let byteOff: number;
  if (bitfield) {
    // the smallest naturally aligned load, starting from the member type's size, that holds every bit
    byteSize = resolveSize(mt) ?? 0;
    if (byteSize === 0) throw new CoreReloError('bitfield of a type without a size');
    byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    while (bitOff + bitSize - byteOff * 8 > byteSize * 8) {
      if (byteSize >= 8) throw new CoreReloError(`bitfield '${m.name}' cannot be read with one 64-bit load`);
      byteSize *= 2;
      byteOff = Math.floor(bitOff / 8 / byteSize) * byteSize;
    }
  } else {
    const size = resolveSize(mt);
    if (size === null) throw new CoreReloError(`field '${m.name}' has no size`);
    byteSize = size;
    byteOff = Math.floor(bitOff / 8);
    bitSize = byteSize * 8;
  }
  switch (kind) {
    case 'field_byte_offset': return bitfield ? { poison: false, value: byteOff } : { poison: false, value: byteOff, fieldSize: byteSize, fieldType: mt };
    case 'field_byte_size': return { poison: false, value: byteSize };
    case 'field_signed': return { poison: false, value: (isAnyEnum(mt) && mt.signed) || (mt.kind === 'int' && mt.encoding.signed) ? 1 : 0 };
    case 'field_lshift_u64':
      return { poison: false, value: endianness === 'little' ? 64 - (bitOff + bitSize - byteOff * 8) : (8 - byteSize) * 8 + (bitOff - byteOff * 8) };
    default: return { poison: false, value: 64 - bitSize };
  }
}

/**
 * A load or store resized to a target field of another size reads the
 * wrong value unless both are pointers or both unsigned ints (zero
 * extension keeps them right); libbpf then poisons the instruction.
 */
export function memSizeAdjustFails(local: Calc, target: Calc): boolean {
  if (local.poison || target.poison || local.fieldSize === undefined || target.fieldSize === undefined) return false;
  if (local.fieldSize === target.fieldSize) return false;
  const a = local.fieldType!;
  const b = target.fieldType!;
  if (a.kind === 'ptr' && b.kind === 'ptr') return false;
  if (a.kind === 'int' && b.kind === 'int' && !a.encoding.signed && !b.encoding.signed) return false;
  return true;
}
