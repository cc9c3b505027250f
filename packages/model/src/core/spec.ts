import type { CoreRelo, CoreReloKind, Type } from '@coolbpf/reader';
import { isAnyEnum, isComposite, label, resolveSize, skipModsAndTypedefs } from './names.js';
import { CoreReloError } from './types.js';

/**
 * One step of an access, as libbpf's bpf_core_accessor: an index into the
 * members of a struct/union (with the member's name), into the values of
 * an enum (with the value's name), or into an array (name null). Unnamed
 * (anonymous) members are not steps: a target may nest a field differently,
 * and matching looks through anonymous members for the name.
 */
export interface Accessor {
  /** the struct, union or enum indexed into; for array steps the element type */
  readonly type: Type;
  readonly idx: number;
  readonly name: string | null;
}

/** A relocation's access on one side (bpf_core_spec): where it ends up and how. */
export interface Spec {
  /** the relocation's root type, typedefs and modifiers included */
  readonly root: Type;
  readonly accessors: readonly Accessor[];
  /** bit offset of the accessed field from the start of the root */
  readonly bitOffset: number;
}

export const FIELD_KINDS: ReadonlySet<CoreReloKind> = new Set(['field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64']);
export const TYPE_KINDS: ReadonlySet<CoreReloKind> = new Set(['type_id_local', 'type_id_target', 'type_exists', 'type_size', 'type_matches']);
export const ENUMVAL_KINDS: ReadonlySet<CoreReloKind> = new Set(['enumval_exists', 'enumval_value']);

/** bpf_core_is_flex_arr: a zero-length array as the last member of a struct may be indexed past its end. */
export function isFlexArray(prev: Accessor | undefined, length: number): boolean {
  if (!prev || prev.name === null || length > 0) return false;
  return isComposite(prev.type) && prev.idx === prev.type.members.length - 1;
}

function rawIndices(s: string): number[] {
  if (!/^\d+(:\d+)*$/.test(s)) throw new CoreReloError(`malformed access string '${s}'`);
  return s.split(':').map(Number);
}

/**
 * bpf_core_parse_spec: the object's side of a relocation, from its root
 * type and access string ("0:1:2": an index into an array of the root,
 * then member or element indices). Also returns the C spelling of the
 * access for messages.
 */
export function parseLocalSpec(relo: CoreRelo): { spec: Spec; access: string } {
  const root = relo.type;
  const raw = rawIndices(relo.accessString);
  const accessors: Accessor[] = [];
  let access = label(root);
  if (TYPE_KINDS.has(relo.kind)) {
    if (relo.accessString !== '0') throw new CoreReloError(`type relocation with access string '${relo.accessString}' (want '0')`, [access]);
    return { spec: { root, accessors, bitOffset: 0 }, access };
  }
  let t = skipModsAndTypedefs(root);
  const first = raw[0]!;
  if (ENUMVAL_KINDS.has(relo.kind)) {
    if (!isAnyEnum(t) || raw.length > 1 || first >= t.values.length) throw new CoreReloError(`enum value relocation '${relo.accessString}' does not name a value of ${label(t)}`, [access]);
    const name = t.values[first]!.name;
    accessors.push({ type: t, idx: first, name });
    return { spec: { root, accessors, bitOffset: 0 }, access: `${access}::${name}` };
  }
  const rootSize = resolveSize(root);
  if (rootSize === null) throw new CoreReloError(`field relocation on a type without a size`, [access]);
  accessors.push({ type: t, idx: first, name: null });
  if (first !== 0) access += `[${first}]`;
  let bitOffset = first * rootSize * 8;
  let cur: Type = t;
  for (const idx of raw.slice(1)) {
    t = skipModsAndTypedefs(cur);
    if (isComposite(t)) {
      const m = t.members[idx];
      if (!m) throw new CoreReloError(`member index ${idx} out of range (${t.members.length} members)`, [access, label(t)]);
      bitOffset += m.bitOffset;
      if (m.name) {
        accessors.push({ type: t, idx, name: m.name });
        access += `.${m.name}`;
      }
      cur = m.type;
    } else if (t.kind === 'array') {
      const element = skipModsAndTypedefs(t.element);
      if (!isFlexArray(accessors[accessors.length - 1], t.length) && idx >= t.length) {
        throw new CoreReloError(`array index ${idx} out of range (${t.length} elements)`, [access]);
      }
      accessors.push({ type: element, idx, name: null });
      access += `[${idx}]`;
      const size = resolveSize(element);
      if (size === null) throw new CoreReloError(`array of a type without a size`, [access]);
      bitOffset += idx * size * 8;
      cur = element;
    } else {
      throw new CoreReloError(`access step ${idx} into ${label(t)}, which is not a struct, union or array`, [access]);
    }
  }
  return { spec: { root, accessors, bitOffset }, access };
}
