import type { Btf, Type } from '@coolbpf/reader';
import { essentialName, kindCompat } from './names.js';

// Built once per target BTF: vmlinux has ~150k types, and every relocation
// looks its root up here.
const indexes = new WeakMap<Btf, Map<string, number[]>>();

function nameIndex(btf: Btf): Map<string, number[]> {
  let idx = indexes.get(btf);
  if (idx) return idx;
  idx = new Map();
  const l = btf.listing();
  const decoder = new TextDecoder();
  for (let i = 0; i < l.count; i++) {
    if (l.nameEnd[i] === l.nameStart[i]) continue;
    const name = essentialName(decoder.decode(l.names.subarray(l.nameStart[i], l.nameEnd[i])));
    const ids = idx.get(name);
    if (ids) ids.push(l.firstId + i);
    else idx.set(name, [l.firstId + i]);
  }
  indexes.set(btf, idx);
  return idx;
}

/**
 * bpf_core_find_cands: the target's types whose essential name (flavor
 * suffix stripped, on both sides) equals the local root's and whose kind is
 * compatible, in id order.
 */
export function candidates(root: Type, target: Btf): Type[] {
  const ids = nameIndex(target).get(essentialName(root.name)) ?? [];
  return ids.map((id) => target.typeById(id)).filter((t) => kindCompat(root, t));
}
