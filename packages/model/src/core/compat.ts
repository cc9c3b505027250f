import type { Type } from '@coolbpf/reader';
import { essentialName, isAnyEnum, isComposite, kindCompat, skipModsAndTypedefs } from './names.js';
import { CoreReloError } from './types.js';

// The three type relations of libbpf's relo_core.c, each for its own kind of
// relocation. They recurse through pointers, arrays and prototypes, and stop
// at libbpf's depth limit, which it reports as an error (-EINVAL).

const MAX_DEPTH = 32;

function tooDeep(what: string): CoreReloError {
  return new CoreReloError(`${what}: types nest deeper than ${MAX_DEPTH} levels`);
}

/** An int with the legacy bitfield encoding (a bit offset inside it) never matches: libbpf rejects those. */
const plainInt = (t: Extract<Type, { kind: 'int' }>) => t.bitOffset === 0;

/** Essential names equal, or either one anonymous (bpf_core_names_match). */
function namesMatch(a: string, b: string): boolean {
  return !a || !b || essentialName(a) === essentialName(b);
}

/**
 * bpf_core_fields_are_compat: may a member of local type `a` be read as a
 * member of target type `b`? Composites match any composite (their own
 * members are matched when the access string walks into them), scalars by
 * kind, enums and forward declarations also by essential name.
 */
export function fieldsAreCompat(a: Type, b: Type): boolean {
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = skipModsAndTypedefs(a);
    const t = skipModsAndTypedefs(b);
    if (isComposite(l) && isComposite(t)) return true;
    if (!kindCompat(l, t)) return false;
    switch (l.kind) {
      case 'ptr': case 'float': return true;
      case 'fwd': case 'enum': case 'enum64': {
        const ln = essentialName(l.name);
        const tn = essentialName(t.name);
        return !ln || !tn || ln === tn;
      }
      case 'int': return plainInt(l) && plainInt(t as typeof l);
      case 'array': a = l.element; b = (t as typeof l).element; continue;
      default: return false;
    }
  }
  throw tooDeep('field compatibility');
}

/**
 * bpf_core_types_are_compat, for type-based relocations (type exists, size,
 * target id): the root kinds agree, pointers and arrays agree in what they
 * point to, prototypes in every parameter and the return type. Composites
 * and enums match by name alone (the caller matched names).
 */
export function typesAreCompat(a: Type, b: Type, level = MAX_DEPTH): boolean {
  if (!kindCompat(a, b)) return false;
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = skipModsAndTypedefs(a);
    const t = skipModsAndTypedefs(b);
    if (!kindCompat(l, t)) return false;
    switch (l.kind) {
      case 'void': case 'struct': case 'union': case 'enum': case 'enum64': case 'fwd': return true;
      case 'int': return plainInt(l) && plainInt(t as typeof l);
      case 'ptr': a = l.target; b = (t as typeof l).target; continue;
      case 'array': a = l.element; b = (t as typeof l).element; continue;
      case 'func_proto': {
        const tp = t as typeof l;
        if (l.params.length !== tp.params.length || l.variadic !== tp.variadic) return false;
        for (let i = 0; i < l.params.length; i++) {
          if (level <= 0) throw tooDeep('type compatibility');
          if (!typesAreCompat(skipModsAndTypedefs(l.params[i]!.type), skipModsAndTypedefs(tp.params[i]!.type), level - 1)) return false;
        }
        a = skipModsAndTypedefs(l.returnType);
        b = skipModsAndTypedefs(tp.returnType);
        continue;
      }
      default: return false;
    }
  }
  throw tooDeep('type compatibility');
}

/**
 * bpf_core_types_match, for bpf_core_type_matches(): stricter than
 * compatibility. Every local member and enumerator must have a namesake
 * in the target whose type matches too; ints agree in size and sign;
 * arrays in length. Behind a pointer a struct also matches a forward
 * declaration of the same kind, since only the name is observable there.
 */
export function typesMatch(a: Type, b: Type, behindPtr = false, level = MAX_DEPTH): boolean {
  if (level <= 0) throw tooDeep('type match');
  for (let depth = 0; depth < MAX_DEPTH; depth++) {
    const l = skipModsAndTypedefs(a);
    const t = skipModsAndTypedefs(b);
    if (!namesMatch(l.kind === 'void' ? '' : l.name, t.kind === 'void' ? '' : t.name)) return false;
    switch (l.kind) {
      case 'void': return t.kind === 'void';
      case 'fwd':
        if (behindPtr && t.kind !== 'fwd') return (t.kind === 'struct' && !l.isUnion) || (t.kind === 'union' && l.isUnion);
        return t.kind === 'fwd' && t.isUnion === l.isUnion;
      case 'enum': case 'enum64': return isAnyEnum(t) && enumsMatch(l, t);
      case 'struct': case 'union':
        if (behindPtr) return l.kind === t.kind || (t.kind === 'fwd' && t.isUnion === (l.kind === 'union'));
        return l.kind === t.kind && compositesMatch(l, t, level);
      case 'int':
        return t.kind === 'int' && l.size === t.size && l.encoding.signed === t.encoding.signed;
      case 'ptr':
        if (t.kind !== 'ptr') return false;
        behindPtr = true;
        a = l.target;
        b = t.target;
        continue;
      case 'array':
        if (t.kind !== 'array' || l.length !== t.length) return false;
        a = l.element;
        b = t.element;
        continue;
      case 'func_proto': {
        if (t.kind !== 'func_proto' || l.params.length !== t.params.length) return false;
        for (let i = 0; i < l.params.length; i++) if (!typesMatch(l.params[i]!.type, t.params[i]!.type, behindPtr, level - 1)) return false;
        a = l.returnType;
        b = t.returnType;
        continue;
      }
      default: return false;
    }
  }
  throw tooDeep('type match');
}

function enumsMatch(l: Extract<Type, { kind: 'enum' | 'enum64' }>, t: Extract<Type, { kind: 'enum' | 'enum64' }>): boolean {
  if (l.size !== t.size || l.values.length > t.values.length) return false;
  const names = t.values.map((v) => v.name);
  return l.values.every((v) => names.some((n) => namesMatch(v.name, n)));
}

function compositesMatch(l: Extract<Type, { kind: 'struct' | 'union' }>, t: Extract<Type, { kind: 'struct' | 'union' }>, level: number): boolean {
  if (l.members.length > t.members.length) return false;
  return l.members.every((lm) => t.members.some((tm) => namesMatch(lm.name, tm.name) && typesMatch(lm.type, tm.type, false, level - 1)));
}
