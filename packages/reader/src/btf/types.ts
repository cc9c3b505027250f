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

/** A reference, resolved on first access and then kept. */
class Link {
  #r: Ref;
  constructor(r: Ref) {
    this.#r = r;
  }
  get(): Type {
    const r = this.#r;
    return 'kind' in r ? r : (this.#r = r.resolve());
  }
}

/** A list, or a thunk that decodes it on first access. */
type Lazy<T> = readonly T[] | (() => readonly T[]);

class LazyList<T> {
  #v: Lazy<T>;
  constructor(v: Lazy<T>) {
    this.#v = v;
  }
  get(): readonly T[] {
    const v = this.#v;
    return typeof v === 'function' ? (this.#v = v()) : v;
  }
}

abstract class Named {
  abstract readonly kind: KindName;
  constructor(readonly name: string) {}
}

/** A type that refers to one other type. */
abstract class Referring extends Named {
  readonly #link: Link;
  constructor(name: string, ref: Ref) {
    super(name);
    this.#link = new Link(ref);
  }
  protected get ref(): Type {
    return this.#link.get();
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
  readonly #element: Link;
  readonly #index: Link;
  constructor(element: Ref, index: Ref, readonly length: number, name = '') {
    super(name);
    this.#element = new Link(element);
    this.#index = new Link(index);
  }
  get element(): Type {
    return this.#element.get();
  }
  /** the index type clang records (an int); carried for round trips */
  get index(): Type {
    return this.#index.get();
  }
}

export class Member {
  readonly #type: Link;
  constructor(
    readonly name: string,
    type: Ref,
    /** offset from the start of the struct, in bits */
    readonly bitOffset: number,
    /** width of a bitfield in bits, 0 for an ordinary member */
    readonly bitfieldSize: number = 0,
  ) {
    this.#type = new Link(type);
  }
  get type(): Type {
    return this.#type.get();
  }
}

abstract class Composite extends Named {
  readonly #members: LazyList<Member>;
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
    this.#members = new LazyList(members);
  }
  get members(): readonly Member[] {
    return this.#members.get();
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
  readonly #values: LazyList<EnumValue>;
  constructor(name: string, readonly size: number, values: Lazy<EnumValue>, readonly signed: boolean) {
    super(name);
    this.#values = new LazyList(values);
  }
  get values(): readonly EnumValue[] {
    return this.#values.get();
  }
}

export class Enum64 extends Named {
  readonly kind = 'enum64' as const;
  readonly #values: LazyList<Enum64Value>;
  constructor(name: string, readonly size: number, values: Lazy<Enum64Value>, readonly signed: boolean) {
    super(name);
    this.#values = new LazyList(values);
  }
  get values(): readonly Enum64Value[] {
    return this.#values.get();
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

/** const, volatile and restrict: a qualifier on the type it refers to. */
abstract class Qualifier extends Referring {
  constructor(target: Ref, name = '') {
    super(name, target);
  }
  get target(): Type {
    return this.ref;
  }
}

export class Volatile extends Qualifier {
  readonly kind = 'volatile' as const;
}
export class Const extends Qualifier {
  readonly kind = 'const' as const;
}
export class Restrict extends Qualifier {
  readonly kind = 'restrict' as const;
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
  readonly #type: Link;
  constructor(readonly name: string, type: Ref) {
    this.#type = new Link(type);
  }
  get type(): Type {
    return this.#type.get();
  }
}

export class FuncProto extends Named {
  readonly kind = 'func_proto' as const;
  readonly #ret: Link;
  readonly #params: LazyList<Param>;
  constructor(returnType: Ref, params: Lazy<Param>, readonly variadic: boolean, name = '') {
    super(name);
    this.#ret = new Link(returnType);
    this.#params = new LazyList(params);
  }
  get returnType(): Type {
    return this.#ret.get();
  }
  get params(): readonly Param[] {
    return this.#params.get();
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
  readonly #var: Link;
  constructor(variable: Ref, readonly offset: number, readonly size: number) {
    this.#var = new Link(variable);
  }
  /** a Var, or a Func for extern kernel functions in .ksyms */
  get variable(): Type {
    return this.#var.get();
  }
}

export class Datasec extends Named {
  readonly kind = 'datasec' as const;
  readonly #vars: LazyList<VarSecinfo>;
  constructor(name: string, readonly size: number, vars: Lazy<VarSecinfo>) {
    super(name);
    this.#vars = new LazyList(vars);
  }
  get vars(): readonly VarSecinfo[] {
    return this.#vars.get();
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
