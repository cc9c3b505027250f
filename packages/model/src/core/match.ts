import type { Type } from '@coolbpf/reader';
import { fieldsAreCompat, typesAreCompat, typesMatch } from './compat.js';
import { essentialName, isAnyEnum, isComposite, label, resolveSize, skipModsAndTypedefs } from './names.js';
import { ENUMVAL_KINDS, isFlexArray, type Accessor, type Spec } from './spec.js';
import type { CoreReloKind } from '@coolbpf/reader';

/** A candidate either matches (with the target's spec) or does not, and says why in words. */
export type Match = { readonly ok: true; readonly spec: Spec } | { readonly ok: false; readonly reason: string };

const no = (reason: string): Match => ({ ok: false, reason });

/**
 * bpf_core_spec_match: does target type `cand` (same essential name and
 * compatible kind as the local root) satisfy the local spec? For field
 * relocations this walks the local accessors through the target, finding
 * each named member by name (looking through anonymous members) and each
 * array step within bounds, and sums the target's bit offset on the way.
 */
export function matchSpec(kind: CoreReloKind, local: Spec, cand: Type, access: string): Match {
  if (kind === 'type_matches') {
    return typesMatch(local.root, cand) ? { ok: true, spec: { root: cand, accessors: [], bitOffset: 0 } } : no(`${label(cand)} does not match the local definition member for member`);
  }
  if (local.accessors.length === 0) {
    return typesAreCompat(local.root, cand) ? { ok: true, spec: { root: cand, accessors: [], bitOffset: 0 } } : no(`${label(cand)} is incompatible with the local definition`);
  }
  if (ENUMVAL_KINDS.has(kind)) {
    const t = skipModsAndTypedefs(cand);
    if (!isAnyEnum(t)) return no(`${label(cand)} is not an enum`);
    const want = essentialName(local.accessors[0]!.name!);
    const idx = t.values.findIndex((v) => essentialName(v.name) === want);
    if (idx < 0) return no(`enum value '${want}' not found in ${label(t)}`);
    return { ok: true, spec: { root: cand, accessors: [{ type: t, idx, name: t.values[idx]!.name }], bitOffset: 0 } };
  }
  const accessors: Accessor[] = [];
  let bitOffset = 0;
  let cur: Type = cand;
  // the local path so far, for messages: `struct sock.__sk_common`
  let path = label(local.root);
  for (let i = 0; i < local.accessors.length; i++) {
    const la = local.accessors[i]!;
    const t = skipModsAndTypedefs(cur);
    if (la.name !== null) {
      const lm = (la.type as Extract<Type, { kind: 'struct' | 'union' }>).members[la.idx]!;
      path += `.${la.name}`;
      if (!isComposite(t)) return no(`field '${path}': ${label(t)} is not a struct or union in the target`);
      const found = findMember(t, la.name, (m) => fieldsAreCompat(lm.type, m.type), 0);
      if (found === null) return no(`field '${path}' not found in ${label(t)}`);
      if ('incompatible' in found) {
        return no(`field '${path}' is ${label(skipModsAndTypedefs(found.incompatible.type))} in the target, incompatible with ${label(skipModsAndTypedefs(lm.type))}`);
      }
      accessors.push({ type: found.owner, idx: found.idx, name: la.name });
      bitOffset += found.bitOffset;
      cur = found.member.type;
    } else {
      let element = t;
      if (i > 0) {
        path += `[${la.idx}]`;
        if (t.kind !== 'array') return no(`'${path}': ${label(t)} is not an array in the target`);
        if (!isFlexArray(accessors[accessors.length - 1], t.length) && la.idx >= t.length) return no(`'${path}': index out of range (${t.length} elements in the target)`);
        element = skipModsAndTypedefs(t.element);
      }
      accessors.push({ type: element, idx: la.idx, name: null });
      const size = resolveSize(element);
      if (size === null) return no(`'${path}': ${label(element)} has no size in the target`);
      bitOffset += la.idx * size * 8;
      cur = element;
    }
  }
  return { ok: true, spec: { root: cand, accessors, bitOffset } };
}

interface FoundMember {
  /** the struct or union that declares it (an anonymous one inside `t` when nested) */
  readonly owner: Extract<Type, { kind: 'struct' | 'union' }>;
  readonly idx: number;
  readonly member: Member;
  /** from the start of the type searched first */
  readonly bitOffset: number;
}

type Member = Extract<Type, { kind: 'struct' }>['members'][number];

/**
 * bpf_core_match_member: the member named `name` in `t`, or in an anonymous
 * struct or union member of it (depth first, in member order, as libbpf
 * searches). Names compare exactly: members have no flavors. A namesake of
 * an incompatible type ends the search at its own level (libbpf's "found,
 * but no match"); one inside an anonymous member lets the search go on
 * with the next member.
 */
function findMember(t: Extract<Type, { kind: 'struct' | 'union' }>, name: string, compat: (m: Member) => boolean, depth: number): FoundMember | { incompatible: Member } | null {
  if (depth > 32) return null;
  const members = t.members;
  let incompatible: { incompatible: Member } | null = null;
  for (let i = 0; i < members.length; i++) {
    const m = members[i]!;
    if (!m.name) {
      const inner = skipModsAndTypedefs(m.type);
      if (!isComposite(inner)) continue;
      const found = findMember(inner, name, compat, depth + 1);
      if (found === null) continue;
      if ('incompatible' in found) {
        incompatible ??= found;
        continue;
      }
      return { ...found, bitOffset: found.bitOffset + m.bitOffset };
    } else if (m.name === name) {
      return compat(m) ? { owner: t, idx: i, member: m, bitOffset: m.bitOffset } : { incompatible: m };
    }
  }
  return incompatible;
}
