// A data section's globals as an object of getters and setters, over the
// section's bytes: before load its initial image (writes through
// setInitial), after load the live memory-mapped map (.rodata then
// read-only). Generated code describes each section with section(): the
// global's name, codec and offset; the classes are made here.
import type { Codec } from './codecs.js';
import type { BpfObject } from './object.js';

/** A section's globals: each one's codec and offset, by property name. */
export type SectionVars<T> = { readonly [K in keyof T]-?: readonly [codec: Codec<T[K]>, offset: number] };

/** Which writes a section allows (libbpf's rules: .rodata is frozen at load; .kconfig is never written). */
export interface SectionWritable {
  readonly beforeLoad: boolean;
  readonly afterLoad: boolean;
}

/** A section described by generated code; view() makes the object of getters and setters. */
export interface SectionLayout<T> {
  /** the ELF section: '.rodata', '.bss', '.data.custom', … */
  readonly name: string;
  readonly writable: SectionWritable;
  /**
   * The globals of `object`'s section. `loaded`: the view a loaded object's
   * wrapper holds (writes go to the kernel's copy when the section is
   * writable after load) rather than an opened one's (writes are initial
   * values, through setInitial, until load).
   */
  view(object: BpfObject, loaded: boolean): T;
}

/** Reads and writes the globals of one section of one object. */
class SectionAccess {
  readonly #object: BpfObject;
  readonly #name: string;
  readonly #loaded: boolean;
  readonly #writable: boolean;
  #view: DataView | null = null;

  constructor(object: BpfObject, name: string, loaded: boolean, writable: boolean) {
    this.#object = object;
    this.#name = name;
    this.#loaded = loaded;
    this.#writable = writable;
  }

  // The section's DataView, kept while it is usable: the runtime detaches a
  // view when it stops being one (.rodata's initial image at load, every
  // view at destroy), and then section() says why (EDESTROYED after destroy)
  // or gives the view that replaced it (.rodata's frozen contents).
  #bytes(): DataView {
    const v = this.#view;
    if (v !== null && v.buffer.byteLength !== 0) return v;
    this.#view = null;
    return (this.#view = this.#object.section(this.#name));
  }

  get<T>(c: Codec<T>, at: number): T {
    return c.decode(this.#bytes(), at);
  }

  set<T>(c: Codec<T>, at: number, x: T, what: string): void {
    if (!this.#writable) {
      this.#bytes(); // EDESTROYED after destroy, whatever the section
      throw new TypeError(`${this.#name} is read-only ${this.#loaded ? 'after' : 'before'} load (${what})`);
    }
    // encoded aside first: a value that is refused leaves the global as it was
    const b = new Uint8Array(c.size);
    c.encode(new DataView(b.buffer), 0, x, what);
    if (!this.#loaded) {
      this.#object.setInitial(this.#name, at, b);
      return;
    }
    const v = this.#bytes();
    new Uint8Array(v.buffer, v.byteOffset + at, b.length).set(b);
  }
}

const ACCESS = Symbol('coolbpf.section');

/** What every section object is: its globals are getters and setters on its prototype. */
class SectionBase {
  /** @internal */
  declare readonly [ACCESS]: SectionAccess;

  constructor(access: SectionAccess) {
    Object.defineProperty(this, ACCESS, { value: access });
  }
}

/**
 * Describes a data section for generated code: its name, when it is
 * writable, and its globals (codec and offset by property name).
 */
export function section<T extends object>(name: string, writable: SectionWritable, vars: SectionVars<T>): SectionLayout<T> {
  const cls = class extends SectionBase {};
  Object.defineProperty(cls, 'name', { value: `Section(${name})` });
  for (const [key, [codec, offset]] of Object.entries(vars) as [string, readonly [Codec<unknown>, number]][]) {
    Object.defineProperty(cls.prototype, key, {
      enumerable: true,
      get(this: SectionBase) {
        return this[ACCESS].get(codec, offset);
      },
      set(this: SectionBase, x: unknown) {
        this[ACCESS].set(codec, offset, x, key);
      },
    });
  }
  const w = Object.freeze({ beforeLoad: writable.beforeLoad, afterLoad: writable.afterLoad });
  return Object.freeze({
    name,
    writable: w,
    view(object: BpfObject, loaded: boolean): T {
      return Object.freeze(new cls(new SectionAccess(object, name, loaded, loaded ? w.afterLoad : w.beforeLoad))) as unknown as T;
    },
  });
}
