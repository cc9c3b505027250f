import type { KindName } from './kinds.js';

/**
 * The public BTF model. Types refer to types directly; a decoded type
 * resolves its references on first access (so vmlinux's ~150k types cost
 * nothing until used, and reference cycles through pointers are harmless).
 * Hand-built types pass the referenced objects to the constructors.
 */
export type Type =
  | Void | Int | Pointer | ArrayType | Struct | Union | Enum | Fwd | Typedef | Volatile | Const | Restrict
  | Func | FuncProto | Var | Datasec | Float | DeclTag | TypeTag | Enum64;

/** Resolves a reference on first use; implemented by the decoder. */
export interface LazyRef {
  resolve(): Type;
}

type Ref = Type | LazyRef;

function deref(r: Ref): Type {
  return 'kind' in r ? r : r.resolve();
}

abstract class Named {
  abstract readonly kind: KindName;
  constructor(readonly name: string) {}
}

/** Holds one reference and resolves it once. */
abstract class Referring extends Named {
  #ref: Ref;
  constructor(name: string, ref: Ref) {
    super(name);
    this.#ref = ref;
  }
  protected get ref(): Type {
    const r = this.#ref;
    if ('kind' in r) return r;
    return (this.#ref = r.resolve());
  }
}

export class Void {
  readonly kind = 'void' as const;
  readonly name = 'void';
}
/** Type id 0. */
export const VOID = new Void();

export interface IntEncoding {
  readonly signed: boolean;
  readonly char: boolean;
  readonly bool: boolean;
}

export class Int extends Named {
  readonly kind = 'int' as const;
  constructor(
    name: string,
    readonly size: number,
    readonly encoding: IntEncoding,
    /** legacy bitfield encoding: offset of the value within `size` bytes, and its width */
    readonly bitOffset: number = 0,
    readonly bits: number = size * 8,
  ) {
    super(name);
  }
}

export class Float extends Named {
  readonly kind = 'float' as const;
  constructor(name: string, readonly size: number) {
    super(name);
  }
}

export class Pointer extends Referring {
  readonly kind = 'ptr' as const;
  constructor(target: Ref, name = '') {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export class ArrayType extends Named {
  readonly kind = 'array' as const;
  #element: Ref;
  #index: Ref;
  constructor(element: Ref, index: Ref, readonly length: number, name = '') {
    super(name);
    this.#element = element;
    this.#index = index;
  }
  get element(): Type {
    const r = this.#element;
    return 'kind' in r ? r : (this.#element = r.resolve());
  }
  /** the index type clang records (an int); carried for round trips */
  get index(): Type {
    const r = this.#index;
    return 'kind' in r ? r : (this.#index = r.resolve());
  }
}

export class Member {
  #type: Ref;
  constructor(
    readonly name: string,
    type: Ref,
    /** offset from the start of the struct, in bits */
    readonly bitOffset: number,
    /** width of a bitfield in bits, 0 for an ordinary member */
    readonly bitfieldSize: number = 0,
  ) {
    this.#type = type;
  }
  get type(): Type {
    const r = this.#type;
    return 'kind' in r ? r : (this.#type = r.resolve());
  }
}

/** Members may be a list or a thunk that decodes them on first access. */
type Lazy<T> = readonly T[] | (() => readonly T[]);

abstract class Composite extends Named {
  #members: Lazy<Member>;
  constructor(
    name: string,
    readonly size: number,
    members: Lazy<Member>,
    /**
     * kind_flag: member offsets carry bitfield sizes. Kept so a round trip
     * writes the same encoding the producer chose.
     */
    readonly bitfieldEncoding: boolean = false,
  ) {
    super(name);
    this.#members = members;
  }
  get members(): readonly Member[] {
    const m = this.#members;
    return typeof m === 'function' ? (this.#members = m()) : m;
  }
}

export class Struct extends Composite {
  readonly kind = 'struct' as const;
}
export class Union extends Composite {
  readonly kind = 'union' as const;
}

export interface EnumValue {
  readonly name: string;
  readonly value: number;
}
export interface Enum64Value {
  readonly name: string;
  readonly value: bigint;
}

export class Enum extends Named {
  readonly kind = 'enum' as const;
  #values: Lazy<EnumValue>;
  constructor(name: string, readonly size: number, values: Lazy<EnumValue>, readonly signed: boolean) {
    super(name);
    this.#values = values;
  }
  get values(): readonly EnumValue[] {
    const v = this.#values;
    return typeof v === 'function' ? (this.#values = v()) : v;
  }
}

export class Enum64 extends Named {
  readonly kind = 'enum64' as const;
  #values: Lazy<Enum64Value>;
  constructor(name: string, readonly size: number, values: Lazy<Enum64Value>, readonly signed: boolean) {
    super(name);
    this.#values = values;
  }
  get values(): readonly Enum64Value[] {
    const v = this.#values;
    return typeof v === 'function' ? (this.#values = v()) : v;
  }
}

export class Fwd extends Named {
  readonly kind = 'fwd' as const;
  constructor(name: string, readonly isUnion: boolean) {
    super(name);
  }
}

export class Typedef extends Referring {
  readonly kind = 'typedef' as const;
  constructor(name: string, target: Ref) {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export class Volatile extends Referring {
  readonly kind = 'volatile' as const;
  constructor(target: Ref, name = '') {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export class Const extends Referring {
  readonly kind = 'const' as const;
  constructor(target: Ref, name = '') {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export class Restrict extends Referring {
  readonly kind = 'restrict' as const;
  constructor(target: Ref, name = '') {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export class TypeTag extends Referring {
  readonly kind = 'type_tag' as const;
  /** kind_flag: the tag is an __attribute__ rather than a btf_type_tag string */
  constructor(name: string, target: Ref, readonly attribute = false) {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export type Linkage = 'static' | 'global' | 'extern';
export const LINKAGES: readonly Linkage[] = ['static', 'global', 'extern'];

export class Func extends Referring {
  readonly kind = 'func' as const;
  constructor(name: string, proto: Ref, readonly linkage: Linkage) {
    super(name, proto);
  }
  /** a FuncProto in well-formed BTF */
  get proto(): Type {
    return this.ref;
  }
}

export class Param {
  #type: Ref;
  constructor(readonly name: string, type: Ref) {
    this.#type = type;
  }
  get type(): Type {
    const r = this.#type;
    return 'kind' in r ? r : (this.#type = r.resolve());
  }
}

export class FuncProto extends Named {
  readonly kind = 'func_proto' as const;
  #ret: Ref;
  #params: Lazy<Param>;
  constructor(returnType: Ref, params: Lazy<Param>, readonly variadic: boolean, name = '') {
    super(name);
    this.#ret = returnType;
    this.#params = params;
  }
  get returnType(): Type {
    const r = this.#ret;
    return 'kind' in r ? r : (this.#ret = r.resolve());
  }
  get params(): readonly Param[] {
    const p = this.#params;
    return typeof p === 'function' ? (this.#params = p()) : p;
  }
}

export class Var extends Referring {
  readonly kind = 'var' as const;
  constructor(name: string, type: Ref, readonly linkage: Linkage) {
    super(name, type);
  }
  get type(): Type {
    return this.ref;
  }
}

export class VarSecinfo {
  #var: Ref;
  constructor(variable: Ref, readonly offset: number, readonly size: number) {
    this.#var = variable;
  }
  /** a Var, or a Func for extern kernel functions in .ksyms */
  get variable(): Type {
    const r = this.#var;
    return 'kind' in r ? r : (this.#var = r.resolve());
  }
}

export class Datasec extends Named {
  readonly kind = 'datasec' as const;
  #vars: Lazy<VarSecinfo>;
  constructor(name: string, readonly size: number, vars: Lazy<VarSecinfo>) {
    super(name);
    this.#vars = vars;
  }
  get vars(): readonly VarSecinfo[] {
    const v = this.#vars;
    return typeof v === 'function' ? (this.#vars = v()) : v;
  }
}

export class DeclTag extends Referring {
  readonly kind = 'decl_tag' as const;
  constructor(
    name: string,
    target: Ref,
    /** -1 for the declaration itself, else the member or parameter index */
    readonly componentIndex: number,
    readonly attribute = false,
  ) {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

/** Types with a byte size of their own (as bpftool prints `size=`). */
export function ownSize(t: Type): number | null {
  switch (t.kind) {
    case 'int': case 'float': case 'struct': case 'union': case 'enum': case 'enum64': case 'datasec':
      return t.size;
    default:
      return null;
  }
}
