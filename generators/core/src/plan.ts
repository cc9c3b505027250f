/**
 * The layout plan: what every language's view needs to read and write the
 * object's types byte for byte, decided once and without any language in
 * mind. For every struct, union and enum reachable from maps, globals and
 * events (the model's `types`):
 *
 * - fields with their offset, size and value kind (integer of a width, bool,
 *   float, pointer, enum, string for `char[n]`, array with its dims, nested
 *   struct/union);
 * - bitfields with the recipe to read and write them (the bytes they touch,
 *   shift, width, sign);
 * - anonymous struct and union members flattened the way C11 reaches them
 *   (`s.lo`, not `s.<anon>.lo`), a flattened anonymous union becoming an
 *   "overlay" whose alternatives share bytes; names that collide after
 *   flattening get a suffix and a note;
 * - padding, and "opaque" byte views for what has no value type in the
 *   target languages (a 16-byte float, a flexible array member, …), each
 *   with the reason: a field is never dropped silently.
 */
import type { ByteRange, EnumDecl, MemberLayout, ObjectModel, StructDecl, TypeDecl, TypeRef } from '@coolbpf/model';
import { GeneratorError, within } from './errors.js';

export type ValuePlan =
  | { readonly kind: 'int'; readonly c: string; readonly size: 1 | 2 | 4 | 8 | 16; readonly signed: boolean }
  | { readonly kind: 'bool'; readonly c: string; readonly size: 1 }
  | { readonly kind: 'float'; readonly c: string; readonly size: 4 | 8 }
  /** an address, 64 bits, never dereferenced */
  | { readonly kind: 'pointer'; readonly c: string; readonly size: 8 }
  | { readonly kind: 'enum'; readonly c: string; readonly key: string; readonly size: 1 | 2 | 4 | 8; readonly signed: boolean }
  /** `char[size]`: text up to the first NUL */
  | { readonly kind: 'string'; readonly c: string; readonly size: number }
  /** dims outermost first; element is never an array (a `char[n][m]` is an array of strings of m bytes) */
  | { readonly kind: 'array'; readonly c: string; readonly size: number; readonly dims: readonly number[]; readonly element: ValuePlan; readonly elementSize: number }
  | { readonly kind: 'struct' | 'union'; readonly c: string; readonly key: string; readonly size: number }
  /** bytes with no value type in the target languages; `reason` says why */
  | { readonly kind: 'opaque'; readonly c: string; readonly size: number; readonly reason: string };

export interface BitsPlan {
  /** first bit from the start of the planned type (as BTF counts it) */
  readonly bitOffset: number;
  readonly width: number;
  /** read recipe: take the field's `size` bytes at its `offset` as an unsigned integer in the object's byte order, shift right, keep `width` bits */
  readonly shift: number;
  readonly signed: boolean;
}

export interface FieldPlan {
  /** unique within the planned type after flattening; the C name unless a collision renamed it */
  readonly name: string;
  readonly cName: string;
  /** how C reaches the field from the planned type (`lo` through anonymous members), or null when a collision makes it unreachable by name */
  readonly cPath: string | null;
  /** bytes from the start of the planned type */
  readonly offset: number;
  /** bytes occupied (a bitfield: the bytes its bits touch) */
  readonly size: number;
  readonly value: ValuePlan;
  readonly bits: BitsPlan | null;
  /** why the field looks different from its C declaration (renamed, opaque), for a comment */
  readonly note: string | null;
}

export type NodePlan = { readonly kind: 'field'; readonly field: FieldPlan } | OverlayPlan;

/** Members sharing bytes: a union, or an anonymous union flattened into its parent. */
export interface OverlayPlan {
  readonly kind: 'overlay';
  readonly offset: number;
  readonly size: number;
  /** how C spells the union, for messages */
  readonly c: string;
  readonly alternatives: readonly AlternativePlan[];
}

/** One member of an overlay: a single field, or the fields of an anonymous struct. */
export interface AlternativePlan {
  readonly nodes: readonly NodePlan[];
  /** every field in it, nested overlays included, in order */
  readonly fields: readonly FieldPlan[];
}

export interface StructPlan {
  readonly kind: 'struct' | 'union';
  readonly key: string;
  readonly name: string;
  readonly c: string;
  readonly anonymous: boolean;
  /** an anonymous struct/union only reached as an anonymous member: its fields live in the parent, it gets no type of its own */
  readonly flattenedOnly: boolean;
  readonly size: number;
  readonly align: number;
  readonly packed: boolean;
  readonly padding: readonly ByteRange[];
  /** for a union: one overlay covering it */
  readonly body: readonly NodePlan[];
  /** every field, flattened, in declaration order */
  readonly fields: readonly FieldPlan[];
  readonly hasOverlay: boolean;
  readonly hasBitfields: boolean;
  /** unnamed members that are not anonymous structs/unions (unnamed bitfields): padding in C, listed for a comment */
  readonly skipped: readonly string[];
  /** keys of the structs/unions this one contains by value */
  readonly deps: readonly string[];
}

export interface EnumPlan {
  readonly kind: 'enum';
  readonly key: string;
  readonly name: string;
  readonly c: string;
  readonly anonymous: boolean;
  readonly size: 1 | 2 | 4 | 8;
  readonly signed: boolean;
  readonly values: readonly { readonly name: string; readonly value: bigint }[];
}

export type TypePlan = StructPlan | EnumPlan;

export interface LayoutPlan {
  readonly byteOrder: 'little' | 'big';
  /** every declaration, in the model's order (sorted by key) */
  readonly all: readonly TypePlan[];
  /** the types that get a type of their own (flattened-only ones left out), dependencies first, else in the model's order */
  readonly ordered: readonly TypePlan[];
  get(key: string): TypePlan;
  struct(key: string): StructPlan;
  /** the value plan of a map key/value, global or event type */
  value(ref: TypeRef): ValuePlan;
}

/** `const volatile char` → `char` */
function unqualified(c: string): string {
  return c.replace(/\b(const|volatile|restrict)\s+/g, '').trim();
}

function isCharLike(t: TypeRef): boolean {
  return t.kind === 'int' && t.size === 1 && !t.bool && (t.char || unqualified(t.c) === 'char');
}

export function planLayout(model: ObjectModel): LayoutPlan {
  const decls = new Map<string, TypeDecl>(model.types.map((t) => [t.key, t]));
  const decl = (key: string): TypeDecl => {
    const d = decls.get(key);
    if (!d) throw new GeneratorError(`the model declares no type '${key}'`);
    return d;
  };
  const structDecl = (key: string): StructDecl => {
    const d = decl(key);
    if (d.kind === 'enum') throw new GeneratorError(`'${key}' is an enum, not a struct or union`);
    return d;
  };

  // Anonymous types reached through an unnamed member are flattened into the parent.
  const flattened = new Set<string>();
  for (const t of model.types) {
    if (t.kind === 'enum') continue;
    for (const m of t.members) {
      if (m.name === null && !m.bitfield && (m.type.kind === 'struct' || m.type.kind === 'union')) flattened.add(m.type.key);
    }
  }

  const value = (t: TypeRef): ValuePlan => {
    switch (t.kind) {
      case 'int':
        if (t.bool && t.size === 1) return { kind: 'bool', c: t.c, size: 1 };
        if (t.size === 1 || t.size === 2 || t.size === 4 || t.size === 8 || t.size === 16) return { kind: 'int', c: t.c, size: t.size, signed: t.signed };
        return { kind: 'opaque', c: t.c, size: t.size, reason: `a ${t.size}-byte integer has no value type` };
      case 'float':
        if (t.size === 4 || t.size === 8) return { kind: 'float', c: t.c, size: t.size };
        return { kind: 'opaque', c: t.c, size: t.size, reason: `a ${t.size}-byte floating-point number has no value type (only 4 and 8 bytes do)` };
      case 'pointer':
        return { kind: 'pointer', c: t.c, size: 8 };
      case 'enum': {
        const d = decl(t.key);
        if (d.kind !== 'enum') throw new GeneratorError(`'${t.key}' is referenced as an enum but declared as a ${d.kind}`);
        return { kind: 'enum', c: t.c, key: t.key, size: d.size as 1 | 2 | 4 | 8, signed: d.signed };
      }
      case 'struct':
      case 'union': {
        const d = decl(t.key);
        if (d.kind === 'enum') throw new GeneratorError(`'${t.key}' is referenced as a ${t.kind} but declared as an enum`);
        return { kind: t.kind, c: t.c, key: t.key, size: d.size };
      }
      case 'array': {
        if (t.dims.some((d) => d === 0)) {
          return { kind: 'opaque', c: t.c, size: t.size, reason: 'a flexible or zero-length array: its elements are not part of the fixed-size value' };
        }
        if (isCharLike(t.element)) {
          const n = t.dims[t.dims.length - 1]!;
          const str: ValuePlan = { kind: 'string', c: `char[${n}]`, size: n };
          if (t.dims.length === 1) return { ...str, c: t.c };
          return { kind: 'array', c: t.c, size: t.size, dims: t.dims.slice(0, -1), element: str, elementSize: n };
        }
        const element = within(`element type '${t.element.c}'`, () => value(t.element));
        if (element.kind === 'opaque') return { kind: 'opaque', c: t.c, size: t.size, reason: `an array of ${element.reason.replace(/^an? /, '')}` };
        const count = t.dims.reduce((a, b) => a * b, 1);
        return { kind: 'array', c: t.c, size: t.size, dims: t.dims, element, elementSize: t.size / count };
      }
    }
  };

  const plans = new Map<string, TypePlan>();

  const planStruct = (d: StructDecl): StructPlan => {
    const taken = new Set<string>();
    const fields: FieldPlan[] = [];
    const skipped: string[] = [];
    const deps = new Set<string>();

    const field = (m: MemberLayout, base: number, bitBase: number): FieldPlan =>
      within(`member '${m.name}'`, () => {
        const cName = m.name!;
        let name = cName;
        let note: string | null = null;
        if (taken.has(name)) {
          for (let i = 2; ; i++) {
            if (!taken.has(`${cName}_${i}`)) {
              name = `${cName}_${i}`;
              break;
            }
          }
          note = `renamed from '${cName}': an earlier member (through an anonymous struct or union) has that name`;
        }
        taken.add(name);
        const v = value(m.type);
        collectDeps(v, deps);
        if (v.kind === 'opaque') note = note ? `${note}; ${v.reason}` : v.reason;
        const bits: BitsPlan | null = m.bitfield
          ? { bitOffset: bitBase + m.bitfield.bitOffset, width: m.bitfield.width, shift: m.bitfield.shift, signed: m.bitfield.signed }
          : null;
        if (bits && v.kind !== 'int' && v.kind !== 'bool' && v.kind !== 'enum') throw new GeneratorError(`a bitfield of ${m.type.c}`);
        const f: FieldPlan = { name, cName, cPath: note?.startsWith('renamed') ? null : cName, offset: base + m.offset, size: m.size, value: v, bits, note };
        fields.push(f);
        return f;
      });

    const walk = (members: readonly MemberLayout[], base: number): NodePlan[] => {
      const nodes: NodePlan[] = [];
      members.forEach((m, i) => {
        if (m.name !== null) {
          nodes.push({ kind: 'field', field: field(m, base, base * 8) });
          return;
        }
        if (!m.bitfield && (m.type.kind === 'struct' || m.type.kind === 'union')) {
          const inner = structDecl(m.type.key);
          within(`anonymous member ${i} (${inner.c})`, () => {
            if (inner.kind === 'struct') nodes.push(...walk(inner.members, base + m.offset));
            else nodes.push(overlay(inner, base + m.offset));
          });
          return;
        }
        skipped.push(`unnamed member ${i} (${m.type.c}${m.bitfield ? ` : ${m.bitfield.width}` : ''}) at byte ${base + m.offset}: C gives no way to reach it`);
      });
      return nodes;
    };

    const alternatives = (u: StructDecl, base: number): AlternativePlan[] => {
      const out: AlternativePlan[] = [];
      u.members.forEach((m, i) => {
        if (m.name === null && !m.bitfield && (m.type.kind === 'struct' || m.type.kind === 'union')) {
          const inner = structDecl(m.type.key);
          within(`anonymous member ${i} (${inner.c})`, () => {
            if (inner.kind === 'union') out.push(...alternatives(inner, base + m.offset));
            else out.push(alternative(walk(inner.members, base + m.offset)));
          });
          return;
        }
        const nodes = walk([m], base);
        if (nodes.length) out.push(alternative(nodes));
      });
      return out;
    };

    const overlay = (u: StructDecl, base: number): OverlayPlan => ({
      kind: 'overlay',
      offset: base,
      size: u.size,
      c: u.c,
      alternatives: alternatives(u, base),
    });

    const body = d.kind === 'union' ? [overlay(d, 0)] : walk(d.members, 0);
    return {
      kind: d.kind,
      key: d.key,
      name: d.name,
      c: d.c,
      anonymous: d.anonymous,
      flattenedOnly: flattened.has(d.key),
      size: d.size,
      align: d.align,
      packed: d.packed,
      padding: d.padding,
      body,
      fields,
      hasOverlay: hasOverlay(body),
      hasBitfields: fields.some((f) => f.bits !== null),
      skipped,
      deps: [...deps],
    };
  };

  for (const t of model.types) {
    within(`type '${t.c}'`, () => {
      if (t.kind === 'enum') plans.set(t.key, planEnum(t));
      else plans.set(t.key, planStruct(t));
    });
  }

  const all = model.types.map((t) => plans.get(t.key)!);
  const ordered: TypePlan[] = [];
  const done = new Set<string>();
  const visit = (p: TypePlan): void => {
    if (done.has(p.key)) return;
    done.add(p.key);
    if (p.kind !== 'enum') for (const k of p.deps) visit(plans.get(k)!);
    if (p.kind === 'enum' || !p.flattenedOnly) ordered.push(p);
  };
  for (const p of all) visit(p);

  return {
    byteOrder: model.object.byteOrder,
    all,
    ordered,
    get(key) {
      const p = plans.get(key);
      if (!p) throw new GeneratorError(`the model declares no type '${key}'`);
      return p;
    },
    struct(key) {
      const p = this.get(key);
      if (p.kind === 'enum') throw new GeneratorError(`'${key}' is an enum, not a struct or union`);
      return p;
    },
    value,
  };
}

function planEnum(d: EnumDecl): EnumPlan {
  return {
    kind: 'enum',
    key: d.key,
    name: d.name,
    c: d.c,
    anonymous: d.anonymous,
    size: d.size as 1 | 2 | 4 | 8,
    signed: d.signed,
    values: d.values.map((v) => ({ name: v.name, value: BigInt(v.value) })),
  };
}

function collectDeps(v: ValuePlan, into: Set<string>): void {
  if (v.kind === 'struct' || v.kind === 'union') into.add(v.key);
  else if (v.kind === 'array') collectDeps(v.element, into);
}

function hasOverlay(nodes: readonly NodePlan[]): boolean {
  return nodes.some((n) => n.kind === 'overlay');
}

/** Every field under some nodes, nested overlays included, in order. */
export function fieldsOf(nodes: readonly NodePlan[]): FieldPlan[] {
  const out: FieldPlan[] = [];
  for (const n of nodes) {
    if (n.kind === 'field') out.push(n.field);
    else for (const a of n.alternatives) out.push(...fieldsOf(a.nodes));
  }
  return out;
}

function alternative(nodes: NodePlan[]): AlternativePlan {
  return { nodes, fields: fieldsOf(nodes) };
}
