import type { Type } from '@coolbpf/reader';
import { CoreReloError } from './types.js';

/** Deeper chains than this are malformed (libbpf stops at 32 too). */
const MAX_DEPTH = 32;

/**
 * libbpf's bpf_core_essential_name_len: `name___flavor` names the same type
 * as `name`, so programs can carry several definitions of one kernel type.
 * The separator is the last `X___Y` with X and Y not underscores.
 */
export function essentialName(name: string): string {
  for (let i = name.length - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return name.slice(0, i + 1);
  }
  return name;
}

/** typedefs, const/volatile/restrict and type tags do not change layout: CO-RE looks through them. */
export function skipModsAndTypedefs(t: Type): Type {
  for (let i = 0; ; i++) {
    switch (t.kind) {
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag':
        if (i > MAX_DEPTH) throw new CoreReloError(`typedef/modifier chain deeper than ${MAX_DEPTH}`, [label(t)]);
        t = t.target;
        continue;
      default:
        return t;
    }
  }
}

export const isComposite = (t: Type): t is Extract<Type, { kind: 'struct' | 'union' }> => t.kind === 'struct' || t.kind === 'union';
export const isAnyEnum = (t: Type): t is Extract<Type, { kind: 'enum' | 'enum64' }> => t.kind === 'enum' || t.kind === 'enum64';

/** btf_kind_core_compat: same kind, or both enums (enum and enum64 stand in for each other). */
export function kindCompat(a: Type, b: Type): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

/** btf__resolve_size: the byte size of a value of this type; null for kinds without one (functions, void). */
export function resolveSize(t: Type): number | null {
  let n = 1;
  for (let i = 0; i <= MAX_DEPTH; i++) {
    switch (t.kind) {
      case 'int': case 'float': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec':
        return n * t.size;
      case 'ptr': return n * 8;
      case 'typedef': case 'const': case 'volatile': case 'restrict': case 'type_tag': t = t.target; break;
      case 'var': t = t.type; break;
      case 'array': n *= t.length; t = t.element; break;
      default: return null;
    }
  }
  return null;
}

/** How C spells a type in messages: `struct sock`, `enum e`, a typedef's name. */
export function label(t: Type): string {
  switch (t.kind) {
    case 'struct': case 'union': case 'enum': return t.name ? `${t.kind} ${t.name}` : `${t.kind} (anonymous)`;
    case 'enum64': return t.name ? `enum ${t.name}` : 'enum (anonymous)';
    case 'fwd': return `${t.isUnion ? 'union' : 'struct'} ${t.name}`;
    case 'ptr': return `${label(t.target)} *`;
    case 'array': return `${label(t.element)}[${t.length}]`;
    case 'void': return 'void';
    default: return t.name || t.kind;
  }
}
