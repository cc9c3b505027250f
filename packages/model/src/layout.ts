import type { Enum, Enum64, Int, Struct, Type, Union } from '@coolbpf/reader';
import { ModelError, within } from './errors.js';
import type { Bitfield, ByteRange, EnumDecl, MemberLayout, StructDecl, TypeDecl, TypeRef } from './types.js';

/** BPF is a 64-bit target: pointers are 8 bytes whatever the host. */
const POINTER_SIZE = 8;
/** Typedef/modifier chains longer than this are a loop the reader did not see (struct by value). */
const MAX_DEPTH = 64;
/** Structs and unions nested by value, deeper than any real program's. */
const MAX_NESTING = 256;

type Modifierish = Extract<Type, { kind: 'typedef' | 'const' | 'volatile' | 'restrict' | 'type_tag' }>;

function isModifier(t: Type): t is Modifierish {
  return t.kind === 'typedef' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag';
}

/** The type under typedefs, qualifiers and tags, and the first typedef name met on the way. */
export function strip(t: Type): { type: Type; typedef: string | null } {
  let typedef: string | null = null;
  for (let i = 0; isModifier(t); i++) {
    if (i > MAX_DEPTH) throw new ModelError(`${t.kind} '${t.name}': typedef/modifier chain too deep (a loop?)`);
    if (t.kind === 'typedef' && typedef === null) typedef = t.name;
    t = t.target;
  }
  return { type: t, typedef };
}

/** How C spells a type, for messages and generated comments. */
export function spell(t: Type, depth = 0): string {
  if (depth > MAX_DEPTH) return '…';
  switch (t.kind) {
    case 'void': return 'void';
    case 'int': case 'float': case 'typedef': return t.name;
    case 'struct': case 'union': case 'enum': return t.name ? `${t.kind} ${t.name}` : `${t.kind} (anonymous)`;
    case 'enum64': return t.name ? `enum ${t.name}` : 'enum (anonymous)';
    case 'fwd': return `${t.isUnion ? 'union' : 'struct'} ${t.name}`;
    case 'ptr': return `${spell(t.target, depth + 1)} *`;
    case 'array': {
      // T x[2][3] is an array of 2 arrays of 3: the dims print outermost first
      let dims = '';
      let e: Type = t;
      for (let i = 0; e.kind === 'array' && i <= MAX_DEPTH; i++, e = e.element) dims += `[${e.length}]`;
      return `${spell(e, depth + 1)}${dims}`;
    }
    case 'const': case 'volatile': case 'restrict': return `${t.kind} ${spell(t.target, depth + 1)}`;
    case 'type_tag': return spell(t.target, depth + 1);
    case 'func_proto': return 'function';
    default: return `${t.kind} ${t.name}`;
  }
}

/**
 * Turns BTF types into TypeRefs and collects the declarations they need,
 * with their layout resolved. Shared by maps, globals and events so a type
 * used in several places is declared once under one key.
 */
export class LayoutCollector {
  readonly #decls = new Map<string, TypeDecl>();
  readonly #keys = new Map<Type, string>();
  readonly #inProgress = new Set<Type>();
  readonly #usedNames = new Map<string, number>();

  constructor(private readonly byteOrder: 'little' | 'big') {}

  /** Declarations collected so far, sorted by key. */
  decls(): TypeDecl[] {
    return [...this.#decls.values()].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
  }

  /** A reference to `t` (a value type: it must have a size). */
  ref(t: Type, hint: { name?: string } = {}): TypeRef {
    const { type, typedef } = strip(t);
    const c = spell(t);
    switch (type.kind) {
      case 'int':
        return { kind: 'int', c, size: type.size, signed: type.encoding.signed, char: type.encoding.char, bool: type.encoding.bool };
      case 'float':
        return { kind: 'float', c, size: type.size };
      case 'ptr':
        return { kind: 'pointer', c, size: POINTER_SIZE };
      case 'array': {
        const dims: number[] = [];
        let el: Type = type;
        for (let i = 0; ; i++) {
          const s: Type = strip(el).type;
          if (s.kind !== 'array') break;
          if (i > MAX_DEPTH) throw new ModelError(`${c}: array nesting too deep`);
          dims.push(s.length);
          el = s.element;
        }
        const element = this.ref(el, hint);
        const size = dims.reduce((n, d) => n * d, element.kind === 'array' ? element.size : sizeOfRef(element, this));
        if (!Number.isSafeInteger(size)) throw new ModelError(`${c}: size overflows (more than 2^53 bytes)`);
        return { kind: 'array', c, size, dims, element };
      }
      case 'struct': case 'union':
        return { kind: type.kind, c, key: this.#declareStruct(type, typedef, hint.name) };
      case 'enum': case 'enum64':
        return { kind: 'enum', c, key: this.#declareEnum(type, typedef, hint.name) };
      case 'fwd':
        throw new ModelError(`${c} is only declared, never defined, so it has no layout`);
      case 'void':
        throw new ModelError('void has no layout');
      default:
        throw new ModelError(`${c}: a ${type.kind} is not a value type`);
    }
  }

  /** Size in bytes of a referenced type. */
  sizeOf(r: TypeRef): number {
    return sizeOfRef(r, this);
  }

  /** Alignment in bytes of a referenced type, as the compiler chose it where BTF shows it. */
  alignOf(r: TypeRef): number {
    switch (r.kind) {
      case 'int': case 'float': return Math.min(r.size, 16) || 1;
      case 'pointer': return POINTER_SIZE;
      case 'array': return this.alignOf(r.element);
      default: {
        const d = this.decl(r.key);
        return d.kind === 'enum' ? d.size : d.align;
      }
    }
  }

  decl(key: string): TypeDecl {
    const d = this.#decls.get(key);
    if (!d) throw new ModelError(`internal: no declaration '${key}'`);
    return d;
  }

  /** The name a type is known by: its tag, a typedef's name, or a name derived from where it sits. */
  #nameFor(t: { name: string }, typedef: string | null, hint: string | undefined): { name: string; anonymous: boolean } {
    if (t.name) return { name: t.name, anonymous: false };
    return { name: typedef ?? hint ?? 'anon', anonymous: true };
  }

  #uniqueKey(kind: string, name: string): string {
    const base = `${kind} ${name}`;
    const n = this.#usedNames.get(base) ?? 0;
    this.#usedNames.set(base, n + 1);
    return n === 0 ? base : `${base}__${n + 1}`;
  }

  #declareEnum(t: Enum | Enum64, typedef: string | null, hint: string | undefined): string {
    const known = this.#keys.get(t);
    if (known) return known;
    const { name, anonymous } = this.#nameFor(t, typedef, hint);
    // The kernel accepts no other enum size (btf_enum_check_meta); 0 would make its alignment 0.
    if (![1, 2, 4, 8].includes(t.size)) throw new ModelError(`${spell(t)}: size ${t.size} is not 1, 2, 4 or 8 bytes`);
    const key = this.#uniqueKey('enum', name);
    this.#keys.set(t, key);
    const decl: EnumDecl = {
      kind: 'enum', key, name, anonymous, c: t.name ? `enum ${t.name}` : `enum (anonymous, ${name})`,
      size: t.size, signed: t.signed,
      values: t.values.map((v) => ({ name: v.name, value: String(v.value) })),
    };
    this.#decls.set(key, decl);
    return key;
  }

  #declareStruct(t: Struct | Union, typedef: string | null, hint: string | undefined): string {
    const known = this.#keys.get(t);
    if (known) return known;
    const { name, anonymous } = this.#nameFor(t, typedef, hint);
    const c = t.name ? `${t.kind} ${t.name}` : `${t.kind} (anonymous, ${name})`;
    if (this.#inProgress.has(t)) throw new ModelError(`${c} contains itself by value`);
    // Real types nest a few levels; thousands would only overflow the stack.
    if (this.#inProgress.size >= MAX_NESTING) throw new ModelError(`${c}: structs nested more than ${MAX_NESTING} levels deep`);
    this.#inProgress.add(t);
    const key = this.#uniqueKey(t.kind, name);
    this.#keys.set(t, key);
    try {
      const members = t.members.map((m, i) => {
        const memberName = m.name || null;
        const where = memberName ? `member '${memberName}'` : `anonymous member ${i}`;
        return within(where, () => this.#member(t, m.type, memberName, m.bitOffset, m.bitfieldSize, `${name}__${memberName ?? `anon${i}`}`));
      });
      let maxAlign = 1;
      let packed = false;
      for (const m of members) {
        const a = this.alignOf(m.type);
        maxAlign = Math.max(maxAlign, a);
        if (!m.bitfield && m.offset % a !== 0) packed = true;
        if (m.bitfield === null && m.offset + m.size > t.size) {
          throw new ModelError(`member '${m.name ?? '(anonymous)'}' (offset ${m.offset}, ${m.size} bytes) extends past the end (${t.size} bytes)`);
        }
      }
      if (t.size % maxAlign !== 0) packed = true;
      const decl: StructDecl = {
        kind: t.kind, key, name, c, anonymous, size: t.size, align: packed ? 1 : maxAlign, packed,
        members, padding: padding(t.size, members),
      };
      this.#decls.set(key, decl);
      return key;
    } catch (e) {
      this.#keys.delete(t);
      if (e instanceof ModelError) throw e.within(`type '${c}'`);
      throw e;
    } finally {
      this.#inProgress.delete(t);
    }
  }

  #member(owner: Struct | Union, mt: Type, name: string | null, bitOffset: number, bitfieldSize: number, hint: string): MemberLayout {
    const type = this.ref(mt, { name: hint });
    const under = strip(mt).type;
    // Old-style (kind_flag 0) bitfields carry their width in the INT type itself.
    let width = bitfieldSize;
    let bit = bitOffset;
    if (!width && under.kind === 'int' && !owner.bitfieldEncoding && isLegacyBitfield(under)) {
      width = under.bits;
      bit += under.bitOffset;
    }
    if (!width) {
      if (bitOffset % 8 !== 0) throw new ModelError(`bit offset ${bitOffset} is not on a byte boundary and the member is not a bitfield`);
      return { name, type, offset: bitOffset / 8, size: this.sizeOf(type), bitfield: null };
    }
    if (type.kind !== 'int' && type.kind !== 'enum') throw new ModelError(`a bitfield of ${type.c}`);
    const storage = this.sizeOf(type);
    if (width > storage * 8) throw new ModelError(`bitfield width ${width} exceeds its type's ${storage * 8} bits`);
    if (bit + width > owner.size * 8) throw new ModelError(`bitfield (bits ${bit}..${bit + width}) extends past the end (${owner.size} bytes)`);
    const first = Math.floor(bit / 8);
    const last = Math.ceil((bit + width) / 8);
    const span = last - first;
    const within = bit - first * 8;
    // Big-endian BTF numbers bits from the most significant bit of the first byte.
    const shift = this.byteOrder === 'little' ? within : span * 8 - within - width;
    const signed = type.kind === 'int' ? type.signed : (this.decl(type.key) as EnumDecl).signed;
    const bitfield: Bitfield = { bitOffset: bit, width, shift, signed };
    return { name, type, offset: first, size: span, bitfield };
  }
}

function isLegacyBitfield(t: Int): boolean {
  return t.bitOffset !== 0 || t.bits !== t.size * 8;
}

function sizeOfRef(r: TypeRef, c: LayoutCollector): number {
  switch (r.kind) {
    case 'int': case 'float': case 'pointer': case 'array': return r.size;
    default: return c.decl(r.key).size;
  }
}

/** Byte ranges of [0, size) that no member's bytes cover (intervals, so a huge corrupt size costs nothing). */
function padding(size: number, members: readonly MemberLayout[]): ByteRange[] {
  const spans = members
    .filter((m) => m.size > 0)
    .map((m) => [m.offset, Math.min(size, m.offset + m.size)] as const)
    .sort((a, b) => a[0] - b[0] || a[1] - b[1]);
  const out: ByteRange[] = [];
  let at = 0;
  for (const [start, end] of spans) {
    if (start > at) out.push({ offset: at, size: start - at });
    at = Math.max(at, end);
  }
  if (at < size) out.push({ offset: at, size: size - at });
  return out;
}
