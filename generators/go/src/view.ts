/**
 * The Go view: everything the templates print, decided here. Names
 * (exported, collision-free, deterministic), Go type spellings, and the
 * lines of every decode/encode function, all from the language-neutral
 * layout plan of @coolbpf/gen-core.
 *
 * Every generated type is a fixed-size Go value that holds only what its C
 * type can hold, so encoding never fails: integers are Go integers of the
 * same width (128-bit ones coolbpf.Int128/Uint128), `char[n]` a named
 * `[n]byte` type with String and Set (CString<n>), arrays Go arrays, enums
 * named integer types with constants, and bytes shared by union members an
 * unexported byte array read and written through methods. All of them are
 * comparable with ==.
 */
import {
  GeneratorError,
  NameScope,
  fieldsOf,
  headerText,
  planLayout,
  within,
  type EnumPlan,
  type FieldPlan,
  type LayoutPlan,
  type OverlayPlan,
  type StructPlan,
  type ValuePlan,
} from '@coolbpf/gen-core';
import type { DataSectionModel, MapModel, ObjectModel, ProgramModel } from '@coolbpf/model';
import { goComment, goExported, goModulePath, goPackageName, goString } from './names.js';

export interface GoGenOptions {
  /** names the package, the module and the object's types: 'hello' → package hello, module coolbpf.local/hello, type Hello */
  readonly objectName: string;
  /** the object file as the user named it, for the header */
  readonly objectFile: string;
  /** SHA-256 of the object (bpf.so must embed the same one) */
  readonly sha256: string;
  /** coolbpf-gen's version, for the header */
  readonly version: string;
  /** COOLBPF_ABI_VERSION the code checks bpf.so for; default gen-core's ABI_VERSION */
  readonly abiVersion?: number;
}

/** The header every generated Go file starts with: gen-core's header text as Go's `// Code generated … DO NOT EDIT.` line. */
export function goHeader(o: { version: string; objectFile: string; sha256: string }): string {
  return `// Code ${headerText(o)}.`;
}

/** Public names of the generated package's fixed API: C types never get these. */
const RESERVED_TOP = [
  'Open', 'Init', 'Options', 'ObjectSHA256', 'ABIVersion', 'Error', 'ErrState', 'ErrDestroyed', 'ErrMismatch',
  'UpdateFlags', 'UpdateAny', 'UpdateNoExist', 'UpdateExist', 'UpdateLock', 'Layouts', 'Enums', 'Record', 'Link', 'EventsOptions',
];

/** Members of the object types and fields of Options besides the sections. */
const RESERVED_MEMBERS = ['Maps', 'Programs', 'Object', 'Attach', 'Close', 'Load', 'SoPath', 'BTFPath', 'LogLevel', 'LogFd', 'Autoload', 'Readers'];

/** Methods every generated struct and union has. */
const STRUCT_METHODS = ['MarshalBinary', 'UnmarshalBinary'];

/** Methods of the section types. */
const SECTION_METHODS = ['Read', 'Update', 'Section'];

export interface FieldLine {
  readonly doc: string;
  readonly name: string;
  readonly type: string;
}

export interface StructView {
  readonly name: string;
  /** the model's key ("struct event") */
  readonly key: string;
  readonly c: string;
  /** how C spells it, for comments */
  readonly cDoc: string;
  readonly docLines: readonly string[];
  readonly fields: readonly FieldLine[];
  readonly size: number;
  readonly decode: readonly string[];
  readonly encode: readonly string[];
  /** overlay getters and setters, as whole Go functions (lines) */
  readonly methods: readonly string[];
  readonly layoutName: string;
  readonly layout: readonly string[];
  readonly codec: string;
  readonly codecDecl: string;
}

export interface EnumView {
  readonly name: string;
  readonly doc: string;
  readonly base: string;
  readonly consts: readonly { doc: string; name: string; literal: string }[];
  readonly cases: readonly { name: string; c: string }[];
  readonly format: string;
  readonly layoutName: string;
  readonly layout: readonly string[];
  readonly codec: string | null;
}

export interface CStringView {
  readonly name: string;
  readonly must: string;
  readonly size: number;
}

export interface CodecView {
  readonly name: string;
  readonly type: string;
  readonly size: number;
  readonly decodeName: string;
  readonly encodeName: string;
  readonly decode: readonly string[];
  readonly encode: readonly string[];
  readonly decl: string;
}

export interface SectionVarView {
  readonly doc: string;
  readonly name: string;
  readonly type: string;
  readonly make: string;
  readonly makeReadOnly: string;
}

export interface SectionView {
  readonly cName: string;
  readonly doc: string;
  readonly values: string;
  readonly type: string;
  readonly readOnlyType: string | null;
  readonly loadedType: string;
  readonly member: string;
  readonly size: number;
  readonly vars: readonly SectionVarView[];
  readonly read: readonly string[];
  readonly changed: readonly { name: string }[];
  readonly newFunc: string;
  readonly newReadOnlyFunc: string | null;
  readonly loadedNew: string;
}

export interface MapView {
  readonly name: string;
  /** the C name, for a reader opened at load; null for maps without one */
  readonly reader: string | null;
  readonly type: string;
  readonly doc: readonly string[];
  readonly make: readonly string[];
}

export interface ProgramView {
  readonly name: string;
  readonly cName: string;
  readonly doc: string;
  readonly type: string;
  readonly make: string;
  readonly setup: string;
}

export interface GoView {
  readonly header: string;
  readonly packageName: string;
  readonly modulePath: string;
  readonly runtimeImport: string;
  readonly objectFile: string;
  readonly shaLit: string;
  readonly abiVersion: number;
  readonly littleEndian: boolean;
  readonly packageDoc: readonly string[];
  readonly typesImports: readonly string[];
  readonly objectImports: readonly string[];
  readonly cstrings: readonly CStringView[];
  readonly enums: readonly EnumView[];
  readonly structs: readonly StructView[];
  readonly codecs: readonly CodecView[];
  readonly layouts: readonly string[];
  readonly enumLayouts: readonly string[];
  readonly sections: readonly SectionView[];
  readonly maps: readonly MapView[];
  readonly programs: readonly ProgramView[];
  readonly loaded: string;
  readonly opened: string;
  readonly mapsType: string;
  readonly programsType: string;
  readonly openedProgramsType: string;
  readonly newLoaded: readonly string[];
  readonly newOpened: readonly string[];
  readonly embedName: string;
  /** the C names of the maps whose readers are opened at load, as Go strings */
  readonly readers: readonly string[];
}

/** An assignable place and how to index it or take its address. */
interface Place {
  readonly v: string;
  readonly idx: string;
  readonly addr: string;
}

const field = (x: string): Place => ({ v: x, idx: x, addr: `&${x}` });
const deref: Place = { v: '*v', idx: '(*v)', addr: 'v' };
const elementOf = (p: Place, index: string): Place => field(`${p.idx}${index}`);

type Off = number | 'o';

const at = (off: Off): string => (off === 0 ? 'b' : `b[${off}:]`);
const plus = (off: Off, n: number): Off | string => (typeof off === 'number' ? off + n : `${off}+${n}`);
const atStr = (off: Off | string): string => (off === 0 ? 'b' : `b[${off}:]`);

function isOctet(v: ValuePlan): boolean {
  return v.kind === 'int' && v.size === 1 && !v.signed;
}

function indent(lines: readonly string[], n = 1): string[] {
  const t = '\t'.repeat(n);
  return lines.map((l) => (l === '' ? l : t + l));
}

/** `o := 12 + 48*i0 + 4*i1`, spaced as gofmt spaces it. */
function offsetExpr(base: number, terms: readonly (readonly [number, string])[]): string {
  const parts: string[] = [];
  if (base !== 0) parts.push(String(base));
  for (const [stride, v] of terms) parts.push(stride === 1 ? v : `${stride}*${v}`);
  if (parts.length === 0) return '0';
  if (parts.length === 1) return parts[0]!.replace('*', ' * ');
  return parts.join(' + ');
}

/** Go types and the decode/encode lines of value plans. */
class Code {
  readonly codecs = new Map<string, CodecView>();
  /** the packages the lines made so far use, for types.go and for object.go */
  readonly typesUses = new Set<string>();
  readonly objectUses = new Set<string>();
  uses = this.typesUses;
  #arrays = 0;

  constructor(
    readonly plan: LayoutPlan,
    readonly typeName: (key: string) => string,
    readonly cstring: (size: number) => string,
    readonly endian: 'LittleEndian' | 'BigEndian',
  ) {}

  type(v: ValuePlan): string {
    switch (v.kind) {
      case 'int':
        if (v.size === 16) return v.signed ? 'coolbpf.Int128' : 'coolbpf.Uint128';
        return `${v.signed ? 'int' : 'uint'}${v.size * 8}`;
      case 'bool': return 'bool';
      case 'float': return `float${v.size * 8}`;
      case 'pointer': return 'uint64';
      case 'enum': return this.typeName(v.key);
      case 'string': return this.cstring(v.size);
      case 'opaque': return `[${v.size}]byte`;
      case 'struct': case 'union': return this.typeName(v.key);
      case 'array': return `${v.dims.map((d) => `[${d}]`).join('')}${this.type(v.element)}`;
    }
  }

  #bin(what: string): string {
    this.uses.add('binary');
    return `binary.${this.endian}.${what}`;
  }

  /** The unsigned integer of `size` bytes at off, as an expression. */
  #read(size: number, off: Off | string): string {
    if (size === 1) return `b[${off}]`;
    return `${this.#bin(`Uint${size * 8}`)}(${atStr(off)})`;
  }

  #write(size: number, off: Off | string, x: string): string {
    if (size === 1) return `b[${off}] = ${x}`;
    return `${this.#bin(`PutUint${size * 8}`)}(${atStr(off)}, ${x})`;
  }

  /** Statements reading the value at off into p. */
  decode(v: ValuePlan, off: Off, p: Place): string[] {
    switch (v.kind) {
      case 'int': {
        if (v.size === 16) {
          const [lo, hi] = this.endian === 'LittleEndian' ? [off, plus(off, 8)] : [plus(off, 8), off];
          const h = this.#read(8, hi);
          return [`${p.v} = ${this.type(v)}{Lo: ${this.#read(8, lo)}, Hi: ${v.signed ? `int64(${h})` : h}}`];
        }
        const r = this.#read(v.size, off);
        return [`${p.v} = ${v.signed ? `int${v.size * 8}(${r})` : r}`];
      }
      case 'bool': return [`${p.v} = b[${off}] != 0`];
      case 'float': {
        this.uses.add('math');
        return [`${p.v} = math.Float${v.size * 8}frombits(${this.#read(v.size, off)})`];
      }
      case 'pointer': return [`${p.v} = ${this.#read(8, off)}`];
      case 'enum': {
        const r = this.#read(v.size, off);
        return [`${p.v} = ${this.typeName(v.key)}(${v.signed ? `int${v.size * 8}(${r})` : r})`];
      }
      case 'string': case 'opaque': return [`copy(${p.idx}[:], ${at(off)})`];
      case 'struct': case 'union': return [`cbDecode${this.typeName(v.key)}(${at(off)}, ${p.addr})`];
      case 'array': return this.#loops(v, off, p, (o, e) => this.decode(v.element, o, e), (o, e) => [`copy(${e.idx}[:], ${at(o)})`]);
    }
  }

  /** Statements writing the value in p at off (the bytes are zero, or the caller zeroed them). */
  encode(v: ValuePlan, off: Off, p: Place): string[] {
    switch (v.kind) {
      case 'int': {
        if (v.size === 16) {
          const [lo, hi] = this.endian === 'LittleEndian' ? [off, plus(off, 8)] : [plus(off, 8), off];
          return [this.#write(8, lo, `${p.v}.Lo`), this.#write(8, hi, v.signed ? `uint64(${p.v}.Hi)` : `${p.v}.Hi`)];
        }
        return [this.#write(v.size, off, v.signed ? `${v.size === 1 ? 'byte' : `uint${v.size * 8}`}(${p.v})` : p.v)];
      }
      case 'bool': return [`b[${off}] = cbBool(${p.v})`];
      case 'float': {
        this.uses.add('math');
        return [this.#write(v.size, off, `math.Float${v.size * 8}bits(${p.v})`)];
      }
      case 'pointer': return [this.#write(8, off, p.v)];
      case 'enum': return [this.#write(v.size, off, `${v.size === 1 ? 'byte' : `uint${v.size * 8}`}(${p.v})`)];
      case 'string': case 'opaque': return [`copy(${at(off)}, ${p.idx}[:])`];
      case 'struct': case 'union': return [`cbEncode${this.typeName(v.key)}(${at(off)}, ${p.addr})`];
      case 'array': return this.#loops(v, off, p, (o, e) => this.encode(v.element, o, e), (o, e) => [`copy(${at(o)}, ${e.idx}[:])`]);
    }
  }

  /**
   * Nested loops over an array's elements, `o` the offset of each. An array
   * of unsigned bytes is copied a row (the innermost dimension) at a time.
   */
  #loops(v: Extract<ValuePlan, { kind: 'array' }>, off: Off, p: Place, each: (o: Off, e: Place) => string[], row: (o: Off, e: Place) => string[]): string[] {
    if (off === 'o') throw new GeneratorError('internal: an array inside an array');
    const octets = isOctet(v.element);
    const dims = octets ? v.dims.slice(0, -1) : [...v.dims];
    const elemSize = octets ? v.elementSize * v.dims[v.dims.length - 1]! : v.elementSize;
    if (dims.length === 0) return row(off, p);
    const vars = dims.map((_, i) => `i${i}`);
    const strides = dims.map((_, i) => dims.slice(i + 1).reduce((a, d) => a * d, 1) * elemSize);
    const e = elementOf(p, vars.map((x) => `[${x}]`).join(''));
    const body = [`o := ${offsetExpr(off, vars.map((x, i) => [strides[i]!, x] as const))}`, ...(octets ? row('o', e) : each('o', e))];
    let lines = body;
    for (let i = dims.length - 1; i >= 0; i--) {
      lines = [`for ${vars[i]} := 0; ${vars[i]} < ${dims[i]}; ${vars[i]}++ {`, ...indent(lines), '}'];
    }
    return lines;
  }

  /** Statements reading a bitfield at off into p. */
  decodeBits(f: FieldPlan, off: Off, p: Place): string[] {
    const b = f.bits!;
    const v = f.value;
    const call = (fn: string) => `${fn}(${at(off)}, ${f.size}, ${b.shift}, ${b.width})`;
    const raw = call(b.signed ? 'cbSbits' : 'cbBits');
    switch (v.kind) {
      case 'bool': return [`${p.v} = ${call('cbBits')} != 0`];
      case 'int':
        if (v.size === 16) throw new GeneratorError(`a bitfield of ${v.c} (128 bits) is not supported`);
        return [`${p.v} = ${this.type(v)}(${raw})`];
      case 'enum': return [`${p.v} = ${this.typeName(v.key)}(${raw})`];
      default: throw new GeneratorError(`a bitfield of ${v.c}`);
    }
  }

  /** A statement writing the bitfield in p at off (read-modify-write of the bytes it touches, truncated to its width as in C). */
  encodeBits(f: FieldPlan, off: Off, p: Place): string[] {
    const b = f.bits!;
    const x = f.value.kind === 'bool' ? `uint64(cbBool(${p.v}))` : `uint64(${p.v})`;
    return [`cbSetBits(${at(off)}, ${f.size}, ${b.shift}, ${b.width}, ${x})`];
  }

  /**
   * The name of a codec variable (coolbpf.Codec[T]) for a value. Structs and
   * unions have theirs beside their type (cbCodec<Type>); the others are made
   * once each, named after a lower-case description (cbCodec_u64,
   * cbCodec_cstring16, cbCodec_array1) or the enum (cbCodec_<Enum>), which no
   * exported type name can equal.
   */
  codec(v: ValuePlan): string {
    let name: string;
    switch (v.kind) {
      case 'struct': case 'union': return `cbCodec${this.typeName(v.key)}`;
      case 'enum': name = `cbCodec_${this.typeName(v.key)}`; break;
      case 'int': name = `cbCodec_${v.signed ? 'i' : 'u'}${v.size * 8}`; break;
      case 'bool': name = 'cbCodec_bool'; break;
      case 'float': name = `cbCodec_f${v.size * 8}`; break;
      case 'pointer': name = 'cbCodec_pointer'; break;
      case 'string': name = `cbCodec_cstring${v.size}`; break;
      case 'opaque': name = `cbCodec_bytes${v.size}`; break;
      case 'array': {
        const type = this.type(v);
        const found = [...this.codecs.values()].find((c) => c.type === type);
        if (found) return found.name;
        name = `cbCodec_array${++this.#arrays}`;
        break;
      }
    }
    return this.#hoist(name, v);
  }

  #hoist(name: string, v: ValuePlan): string {
    if (!this.codecs.has(name)) {
      const fn = name.replace(/^cbCodec/, '');
      // the entry first, so a nested codec's lines do not reorder it
      const entry: CodecView = {
        name,
        type: this.type(v),
        size: v.size,
        decodeName: `cbDecode${fn}`,
        encodeName: `cbEncode${fn}`,
        decode: [],
        encode: [],
        decl: `var ${name} = coolbpf.Codec[${this.type(v)}]{Size: ${v.size}, Decode: cbDecode${fn}, Encode: cbEncode${fn}}`,
      };
      this.codecs.set(name, entry);
      const saved = this.uses;
      this.uses = this.typesUses; // printed in types.go
      (entry.decode as string[]).push(...this.decode(v, 0, deref));
      (entry.encode as string[]).push(...this.encode(v, 0, deref));
      this.uses = saved;
    }
    return name;
  }
}

/** Every `char[n]` size a value uses. */
function collectStrings(v: ValuePlan, into: Set<number>): void {
  if (v.kind === 'string') into.add(v.size);
  else if (v.kind === 'array') collectStrings(v.element, into);
}

export function buildView(model: ObjectModel, options: GoGenOptions, abiVersion: number): GoView {
  const plan = planLayout(model);
  const packageName = goPackageName(options.objectName);
  const modulePath = goModulePath(options.objectName);
  const top = new NameScope({ identifiers: true, reserved: RESERVED_TOP });

  // The object's types first: they are the API every object has.
  const base = goExported(options.objectName);
  const loaded = top.claim(base, 'Object');
  const opened = top.claim(`${loaded}Opened`);
  const mapsType = top.claim(`${loaded}Maps`);
  const programsType = top.claim(`${loaded}Programs`);
  const openedProgramsType = top.claim(`${loaded}OpenedPrograms`);

  // Section types next.
  const exposed = model.dataSections.filter((s) => s.kind !== 'kconfig' && s.variables.some((v) => v.linkage === 'global'));
  const sectionNames = exposed.map((s) => {
    const n = goExported(s.name);
    const values = top.claim(n, 'Values');
    const type = top.claim(`${n}Section`);
    const readOnly = s.writable.afterLoad ? null : top.claim(`${n}ReadOnlySection`);
    return { values, type, readOnly };
  });

  // char[n] types, for every size any exposed value uses.
  const strings = new Set<number>();
  for (const t of plan.ordered) if (t.kind !== 'enum') for (const f of t.fields) collectStrings(f.value, strings);
  for (const s of exposed) for (const v of s.variables) if (v.linkage === 'global') collectStrings(plan.value(v.type), strings);
  for (const m of model.maps) {
    if (m.key) collectStrings(plan.value(m.key), strings);
    if (m.value) collectStrings(plan.value(m.value), strings);
  }
  for (const e of model.events) collectStrings(plan.value(e.type), strings);
  const cstrings: CStringView[] = [...strings].sort((a, b) => a - b).map((size) => ({ name: top.claim(`CString${size}`), must: '', size }));
  for (const c of cstrings) (c as { must: string }).must = top.claim(`Must${c.name}`);
  const cstring = (size: number): string => {
    const c = cstrings.find((x) => x.size === size);
    if (!c) throw new GeneratorError(`internal: no CString type for char[${size}]`);
    return c.name;
  };

  // C types: structs, unions, enums, named before anonymous.
  const typeNames = new Map<string, string>();
  for (const anonymous of [false, true]) {
    for (const kind of ['struct', 'union', 'enum'] as const) {
      const list = plan.ordered.filter((p) => p.kind === kind && p.anonymous === anonymous).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0));
      for (const t of list) typeNames.set(t.key, top.claim(goExported(t.name), kind[0]!.toUpperCase() + kind.slice(1)));
    }
  }
  const typeName = (key: string): string => {
    const n = typeNames.get(key);
    if (!n) throw new GeneratorError(`internal: no name for '${key}' (an anonymous member's type used by value?)`);
    return n;
  };
  // enumerators, then the layout variables
  const enumConsts = new Map<string, string[]>();
  for (const t of plan.ordered) if (t.kind === 'enum') enumConsts.set(t.key, t.values.map((v) => top.claim(goExported(v.name), 'Value')));
  const layoutNames = new Map<string, string>();
  for (const t of plan.ordered) layoutNames.set(t.key, top.claim(`${typeName(t.key)}Layout`));

  const code = new Code(plan, typeName, cstring, plan.byteOrder === 'little' ? 'LittleEndian' : 'BigEndian');

  const structs: StructView[] = [];
  const enums: EnumView[] = [];
  for (const t of plan.ordered) {
    within(`type '${t.c}'`, () => {
      if (t.kind === 'enum') enums.push(enumView(t, typeName(t.key), enumConsts.get(t.key)!, layoutNames.get(t.key)!));
      else structs.push(structView(t, typeName(t.key), layoutNames.get(t.key)!, code));
    });
  }

  // Sections, maps and programs: members of the object types.
  const members = new NameScope({ identifiers: true, reserved: RESERVED_MEMBERS });
  const sections = exposed.map((s, i) => within(`section '${s.name}'`, () => sectionView(s, sectionNames[i]!, members.claim(goExported(s.name)), code)));
  const mapScope = new NameScope({ identifiers: true });
  const maps = model.maps.map((m, i) => within(`map '${m.name}'`, () => mapView(m, model, mapScope.claim(goExported(m.name)), i, code)));
  const progScope = new NameScope({ identifiers: true });
  const programs = model.programs.map((p) => within(`program '${p.name}'`, () => programView(p, progScope.claim(goExported(p.name)))));
  // enum codecs are made only where a map or section uses them; every struct has one
  for (const e of enums) (e as { codec: string | null }).codec = code.codecs.has(`cbCodec_${e.name}`) ? `cbCodec_${e.name}` : null;

  const newOpened: string[] = [];
  const newLoaded: string[] = [];
  if (sections.length || maps.length) newLoaded.push('var err error');
  if (sections.length) {
    newOpened.push('var err error', 'var s *coolbpf.Section');
    newLoaded.push('var s *coolbpf.Section');
  }
  const usesMap = maps.some((m) => m.make.some((l) => l.includes('m, err = ')));
  const usesEvents = maps.some((m) => m.make.some((l) => l.includes('r, err = ')));
  if (usesMap) newLoaded.push('var m *coolbpf.RawMap');
  if (usesEvents) newLoaded.push('var r *coolbpf.RawEvents');
  for (const s of sections) {
    for (const [list, make] of [[newOpened, s.newFunc], [newLoaded, s.loadedNew]] as const) {
      list.push(`if s, err = obj.Section(${goString(s.cName)}); err != nil {`, '\treturn nil, err', '}', `x.${s.member} = ${make}(s)`);
    }
  }
  for (const m of maps) newLoaded.push(...m.make);
  for (const p of programs) {
    newLoaded.push(`x.Programs.${p.name} = ${p.make}`);
    newOpened.push(`x.Programs.${p.name} = ${p.setup}`);
  }

  const header = goHeader(options);
  const view: Omit<GoView, 'typesImports' | 'objectImports'> = {
    header,
    packageName,
    modulePath,
    runtimeImport: `${modulePath}/coolbpf`,
    objectFile: goComment(options.objectFile),
    shaLit: goString(options.sha256),
    abiVersion,
    littleEndian: plan.byteOrder === 'little',
    packageDoc: packageDoc(options, model, packageName, loaded),
    cstrings,
    enums,
    structs,
    codecs: [...code.codecs.values()],
    layouts: structs.map((s) => s.layoutName),
    enumLayouts: enums.map((e) => e.layoutName),
    sections,
    maps,
    programs,
    loaded,
    opened,
    mapsType,
    programsType,
    openedProgramsType,
    newLoaded,
    newOpened,
    embedName: goString(packageName),
    readers: maps.filter((m) => m.reader !== null).map((m) => m.reader!),
  };
  const typesImports = [
    ...(code.typesUses.has('binary') ? ['"encoding/binary"'] : []),
    ...(code.typesUses.has('math') ? ['"math"'] : []),
    ...(enums.length ? ['"strconv"'] : []),
  ];
  const objectImports = [
    '_ "embed"',
    ...(code.objectUses.has('binary') ? ['"encoding/binary"'] : []),
    ...(code.objectUses.has('math') ? ['"math"'] : []),
    '"os"',
    '"sort"',
  ];
  return { ...view, typesImports, objectImports };
}

function packageDoc(options: GoGenOptions, model: ObjectModel, pkg: string, loaded: string): string[] {
  const hidden = model.dataSections
    .filter((s) => s.kind === 'kconfig' || !s.variables.some((v) => v.linkage === 'global'))
    .map((s) => `${s.name} (${s.kind === 'kconfig' ? 'externs libbpf fills in' : s.variables.length ? `static only: ${s.variables.map((v) => v.name).join(', ')}` : 'no variables'})`);
  const lines = [
    `Package ${pkg} is the typed Go wrapper of ${goComment(options.objectFile)} (${model.object.byteOrder}-endian), over the coolbpf`,
    'runtime in ./coolbpf and the bpf.so embedded in the package.',
    '',
    `	x, err := ${pkg}.Init(nil) // open + load + attach; or Open, then Load, then Attach`,
    '	if err != nil { … }',
    '	defer x.Close()',
    '',
    `Init and Open take *Options: where bpf.so is (else $COOLBPF_BPF_SO, else the copy`,
    'embedded here), libbpf\'s options, programs to load or leave out, and functions that',
    'change the initial values of the globals before load. The loaded ' + loaded + ' has Maps',
    '(typed: Get/Set/Update/Delete/Has/Iterate; per-CPU values one per possible CPU), event',
    'readers (Consume, Read, Subscribe under a context.Context), Programs with their attach',
    'calls, and the data sections, whose globals are read and written in place.',
    '',
    'Types have their exact C layout: integers of the same width (128-bit ones',
    'coolbpf.Int128/Uint128), char[n] a CString<n> ([n]byte with String and Set), arrays Go',
    'arrays, enums named integer types with constants, bitfields plain fields (truncated',
    'to their width when written, as in C), pointers uint64 addresses never dereferenced,',
    'bytes with no Go type [n]byte with a comment saying why. Members that share bytes',
    '(unions, and anonymous unions flattened into their struct as C11 reaches them) are',
    'read and written through methods (X() and SetX(v)); a setter writes only its member\'s',
    'bytes, as C does. Every type is comparable with ==, has MarshalBinary and',
    'UnmarshalBinary, and a <Type>Layout variable with its size, alignment and field offsets.',
    ...(hidden.length ? ['', goComment(`Not exposed: ${hidden.join('; ')}.`)] : []),
  ];
  return lines.map((l) => (l === '' ? '//' : l.startsWith('\t') ? `//${l}` : `// ${l}`));
}

function enumView(t: EnumPlan, name: string, consts: readonly string[], layoutName: string): EnumView {
  const bits = t.size * 8;
  const base = `${t.signed ? 'int' : 'uint'}${bits}`;
  const inRange = (x: bigint) => (t.signed ? BigInt.asIntN(bits, x) : BigInt.asUintN(bits, x));
  const seen = new Set<bigint>();
  const cases: { name: string; c: string }[] = [];
  t.values.forEach((v, i) => {
    const x = inRange(v.value);
    if (!seen.has(x)) cases.push({ name: consts[i]!, c: goString(v.name) });
    seen.add(x);
  });
  return {
    name,
    doc: goComment(`${name} is ${t.c} (${t.size} bytes, ${t.signed ? 'signed' : 'unsigned'}). Any other value C lets the enum hold is a ${name} too.`),
    base,
    consts: t.values.map((v, i) => ({ doc: goComment(`${consts[i]} is ${v.name} (${v.value}).`), name: consts[i]!, literal: String(inRange(v.value)) })),
    cases,
    format: t.signed ? 'strconv.FormatInt(int64(e), 10)' : 'strconv.FormatUint(uint64(e), 10)',
    layoutName,
    layout: compositeLines(
      `var ${layoutName} = coolbpf.EnumLayout{Name: ${goString(name)}, Key: ${goString(t.key)}, C: ${goString(t.c)}, Size: ${t.size}, Signed: ${t.signed}, Values: `,
      'coolbpf.EnumValue',
      t.values.map((v, i) => `{C: ${goString(v.name)}, Go: ${goString(consts[i]!)}, Bits: ${BigInt.asUintN(64, v.value)}, Signed: ${t.signed}},`),
    ),
    codec: null,
  };
}

/** `head[]T{` + one element a line + `}}`, or `head[]T{}}` when there are none, as gofmt has them. */
function compositeLines(head: string, elem: string, items: readonly string[]): string[] {
  if (items.length === 0) return [`${head}[]${elem}{}}`];
  return [`${head}[]${elem}{`, ...items.map((i) => `\t${i}`), '}}'];
}

function fieldDoc(goName: string, f: FieldPlan, where: string): string {
  const pos = f.bits ? `${f.value.c} : ${f.bits.width}, bits ${f.bits.bitOffset}..${f.bits.bitOffset + f.bits.width - 1}` : `${f.value.c}, at ${f.offset}`;
  const pointer = f.value.kind === 'pointer' ? '; an address, never dereferenced' : '';
  const opaque = f.value.kind === 'opaque' ? '; bytes' : '';
  const note = f.note ? ` (${f.note})` : '';
  return goComment(`${goName} ${where} ${f.cName} (${pos}${pointer}${opaque})${note}.`);
}

function padding(t: StructPlan): string[] {
  const n = t.padding.length;
  if (n === 0) return [];
  const bytes = t.padding.reduce((a, r) => a + r.size, 0);
  if (n > 4) return [`${bytes} bytes of padding in ${n} holes`];
  return [`padding ${t.padding.map((r) => (r.size === 1 ? `${r.offset}` : `${r.offset}..${r.offset + r.size - 1}`)).join(', ')}`];
}

function structView(t: StructPlan, name: string, layoutName: string, code: Code): StructView {
  const scope = new NameScope({ identifiers: true, reserved: STRUCT_METHODS });
  const overlays = t.body.filter((n): n is OverlayPlan => n.kind === 'overlay');
  const inOverlay = new Map<FieldPlan, OverlayPlan>();
  for (const o of overlays) for (const f of fieldsOf([o])) inOverlay.set(f, o);
  const goNames = new Map<FieldPlan, string>();
  for (const f of t.fields) goNames.set(f, scope.claim(goExported(f.name)));
  const setters = new Map<FieldPlan, string>();
  for (const f of t.fields) if (inOverlay.has(f)) setters.set(f, scope.claim(`Set${goNames.get(f)!}`));
  const storage = (o: OverlayPlan) => `cbU${o.offset}`;

  const fields: FieldLine[] = [];
  const decode: string[] = t.size > 0 ? [`_ = b[${t.size - 1}]`] : [];
  const encode: string[] = t.size > 0 ? [`_ = b[${t.size - 1}]`] : [];
  for (const n of t.body) {
    if (n.kind === 'field') {
      const f = n.field;
      const g = goNames.get(f)!;
      fields.push({ doc: fieldDoc(g, f, 'is'), name: g, type: code.type(f.value) });
      const p = field(`v.${g}`);
      decode.push(...(f.bits ? code.decodeBits(f, f.offset, p) : code.decode(f.value, f.offset, p)));
      encode.push(...(f.bits ? code.encodeBits(f, f.offset, p) : code.encode(f.value, f.offset, p)));
    } else {
      const names = fieldsOf([n]).map((f) => goNames.get(f)!);
      const what = n.c === t.c ? `the bytes of ${t.c}` : `the bytes of an anonymous union (${names.join(', ')})`;
      fields.push({ doc: goComment(`${storage(n)} holds ${what}, at ${n.offset}: read and write them with ${names.map((x) => `${x}()`).join(', ')} and their setters.`), name: storage(n), type: `[${n.size}]byte` });
      decode.push(`copy(v.${storage(n)}[:], ${at(n.offset)})`);
      encode.push(`copy(${at(n.offset)}, v.${storage(n)}[:])`);
    }
  }

  // getters and setters of the members that share bytes
  const methods: string[] = [];
  for (const o of overlays) {
    const all = fieldsOf([o]);
    for (const f of all) {
      const g = goNames.get(f)!;
      const s = setters.get(f)!;
      const rel = f.offset - o.offset;
      const others = all.filter((x) => x !== f).map((x) => goNames.get(x)!);
      const type = code.type(f.value);
      const x = field('x');
      const dec = f.bits ? code.decodeBits(f, rel, x) : code.decode(f.value, rel, x);
      const enc = f.bits ? code.encodeBits(f, rel, x) : code.encode(f.value, rel, x);
      const getter = dec.length === 1 && dec[0]!.startsWith('x = ') ? [`return ${dec[0]!.slice(4)}`] : [`var x ${type}`, ...dec, 'return x'];
      const zero = !f.bits && (f.value.kind === 'struct' || f.value.kind === 'union' || f.value.kind === 'array') ? [`cbZero(b[${rel}:${rel + f.size}])`] : [];
      methods.push(
        `// ${fieldDoc(g, f, 'reads')}`,
        goComment(`// It shares bytes with ${others.length ? others.join(', ') : 'nothing else'}.`),
        `func (v ${name}) ${g}() ${type} {`,
        `\tb := v.${storage(o)}[:]`,
        ...indent(getter),
        '}',
        '',
        goComment(`// ${s} writes ${f.cName}: only its own bytes${f.bits ? ' (bits)' : ''} change, as in C (those of ${others.length ? others.join(', ') : 'no other member'} keep theirs).`),
        `func (v *${name}) ${s}(x ${type}) {`,
        `\tb := v.${storage(o)}[:]`,
        ...indent([...zero, ...enc]),
        '}',
        '',
      );
    }
  }
  if (methods.length) methods.pop();

  const facts = [`${t.size} bytes`, `align ${t.align}`, ...(t.packed ? ['packed'] : []), ...padding(t)];
  const docLines = [goComment(`// ${name} is ${t.c} (${facts.join(', ')}).`)];
  if (t.kind === 'union') docLines.push('//', '// A union: its members share the bytes; read one with its method, write one with', '// its setter (only that member\'s bytes change, as in C).');
  for (const s of t.skipped) docLines.push(goComment(`// Not represented: ${s}.`));

  const layoutFields = t.fields.map((f) => {
    const parts = [`Name: ${goString(f.name)}`, `CPath: ${goString(f.cPath ?? '')}`, `Go: ${goString(goNames.get(f)!)}`];
    if (inOverlay.has(f)) parts.push('Method: true');
    parts.push(`Offset: ${f.offset}`, `Size: ${f.size}`);
    if (f.bits) parts.push('Bitfield: true', `BitOffset: ${f.bits.bitOffset}`, `BitWidth: ${f.bits.width}`);
    return `{${parts.join(', ')}},`;
  });
  return {
    name,
    key: t.key,
    c: goString(t.c),
    cDoc: goComment(t.c),
    docLines,
    fields,
    size: t.size,
    decode,
    encode,
    methods,
    layoutName,
    layout: compositeLines(
      `var ${layoutName} = coolbpf.TypeLayout{Name: ${goString(name)}, Key: ${goString(t.key)}, C: ${goString(t.c)}, Union: ${t.kind === 'union'}, Size: ${t.size}, Align: ${t.align}, Packed: ${t.packed}, Fields: `,
      'coolbpf.FieldLayout',
      layoutFields,
    ),
    codec: `cbCodec${name}`,
    codecDecl: `var cbCodec${name} = coolbpf.Codec[${name}]{Size: ${t.size}, Decode: cbDecode${name}, Encode: cbEncode${name}}`,
  };
}

function sectionView(s: DataSectionModel, names: { values: string; type: string; readOnly: string | null }, member: string, code: Code): SectionView {
  const scope = new NameScope({ identifiers: true, reserved: SECTION_METHODS });
  const globals = s.variables.filter((v) => v.linkage === 'global');
  const statics = s.variables.filter((v) => v.linkage !== 'global').map((v) => v.name);
  const read: string[] = [];
  const vars = globals.map((v) =>
    within(`global '${v.name}'`, () => {
      const value = code.plan.value(v.type);
      const name = scope.claim(goExported(v.name));
      const note = value.kind === 'opaque' ? `; bytes: ${value.reason}` : value.kind === 'pointer' ? '; an address, never dereferenced' : '';
      const codec = code.codec(value);
      code.uses = code.objectUses; // Read() is printed in object.go
      read.push(...code.decode(value, v.offset, field(`x.${name}`)));
      code.uses = code.typesUses;
      return {
        doc: goComment(`${name} is ${v.type.c} ${v.name} (at ${v.offset}${note}).`),
        name,
        type: code.type(value),
        make: `coolbpf.NewVar(s, ${v.offset}, ${codec})`,
        makeReadOnly: `coolbpf.NewReadOnlyVar(s, ${v.offset}, ${codec})`,
      };
    }),
  );
  const when = [s.writable.beforeLoad ? 'settable before load' : 'not settable before load', s.writable.afterLoad ? 'writable after load' : 'read-only after load'];
  const doc = [`${s.name} (${s.kind}, ${s.size} bytes): ${when.join(', ')}.`];
  if (statics.length) doc.push(`Not exposed (static, private to the object): ${statics.join(', ')}.`);
  const newFunc = `cbNew${names.type}`;
  const newReadOnlyFunc = names.readOnly ? `cbNew${names.readOnly}` : null;
  return {
    cName: s.name,
    doc: goComment(doc.join(' ')),
    values: names.values,
    type: names.type,
    readOnlyType: names.readOnly,
    loadedType: names.readOnly ?? names.type,
    member,
    size: s.size,
    vars,
    read,
    changed: vars.map((v) => ({ name: v.name })),
    newFunc,
    newReadOnlyFunc,
    loadedNew: newReadOnlyFunc ?? newFunc,
  };
}

function mapView(m: MapModel, model: ObjectModel, name: string, index: number, code: Code): MapView {
  void index;
  const facts = `${m.type}, ${m.maxEntries} entries${m.flagNames.length ? `, flags ${m.flagNames.join(' ')}` : ''}${m.pinning !== 'none' ? `, pinned ${m.pinning}` : ''}`;
  const lit = goString(m.name);
  const getMap = [`if m, err = obj.Map(${lit}); err != nil {`, '\treturn nil, err', '}'];
  const getEvents = [`if r, err = obj.Events(${lit}, cbReaderOptions(readers, ${lit})); err != nil {`, '\treturn nil, err', '}'];
  const raw = (why: string): MapView => ({
    name,
    reader: null,
    type: '*coolbpf.RawMap',
    doc: [goComment(`// ${name} is ${m.name}: ${facts}; ${why}.`)],
    make: [...getMap, `x.Maps.${name} = m`],
  });
  if (m.type === 'ringbuf' || m.type === 'perf_event_array') {
    const ev = model.events.find((e) => e.map === m.name);
    if (ev) {
      const v = within('event type', () => code.plan.value(ev.type));
      return {
        name,
        reader: lit,
        type: `*coolbpf.Events[${code.type(v)}]`,
        doc: [goComment(`// ${name} is ${m.name}: ${facts}; records are ${ev.type.c}. Its reader is opened at load, so no record`), '// BPF sends after load is missed.'],
        make: [...getEvents, `x.Maps.${name} = coolbpf.NewEvents(r, ${code.codec(v)})`],
      };
    }
    if (m.type === 'ringbuf') {
      return {
        name,
        reader: lit,
        type: '*coolbpf.RawEvents',
        doc: [goComment(`// ${name} is ${m.name}: ${facts}; the record type is unknown, so records are raw bytes`), '// (coolbpf-gen --event MAP=TYPE names it). Its reader is opened at load.'],
        make: [...getEvents, `x.Maps.${name} = r`],
      };
    }
    return raw('the record type is unknown (coolbpf-gen --event MAP=TYPE names it), so this is the raw map: Object().Events opens a reader');
  }
  if (m.type === 'user_ringbuf') return raw('a user ring buffer, written from user space: the runtime has no typed writer for it yet, so this is the raw map');
  if (m.type === 'struct_ops') return raw('struct_ops maps are attached by the object, not read as key/value pairs');
  if (m.keySize === 0) return raw(`a ${m.type} map has no keys, so it has no typed key/value view: the raw map`);
  const opaque = (size: number): ValuePlan => ({ kind: 'opaque', c: '', size, reason: '' });
  const key = m.key ? within('key type', () => code.plan.value(m.key!)) : opaque(m.keySize);
  const value = m.value ? within('value type', () => code.plan.value(m.value!)) : opaque(m.valueSize);
  const kc = code.codec(key);
  const vc = code.codec(value);
  const kt = code.type(key);
  const vt = code.type(value);
  const cls = m.perCpu ? 'PerCPUMap' : 'Map';
  const doc = [goComment(`// ${name} is ${m.name}: ${facts}; key ${m.key ? m.key.c : `${m.keySize} bytes`}, value ${m.value ? m.value.c : `${m.valueSize} bytes`}${m.perCpu ? ' (one per possible CPU)' : ''}.`)];
  if (!m.key || !m.value) doc.push('// (The object declares only sizes for what is a byte array here.)');
  if (m.inner) doc.push(goComment(`// Values are inner maps (${m.inner.type}): an fd to update, an id on lookup.`));
  return {
    name,
    reader: null,
    type: `*coolbpf.${cls}[${kt}, ${vt}]`,
    doc,
    make: [...getMap, `x.Maps.${name} = coolbpf.New${cls}(m, ${kc}, ${vc})`],
  };
}

function programView(p: ProgramModel, name: string): ProgramView {
  const k = p.kind;
  const lit = goString;
  const args = `obj, ${lit(p.name)}, ${lit(p.section)}`;
  const base = { name, cName: p.name, setup: `coolbpf.NewProgramSetup(${args}, ${p.autoload})` };
  const what = k ? `${k.progType} program` : 'a program libbpf does not know the section of';
  const t = k?.target ?? null;
  const fam = k?.family ?? '';
  const mk = (cls: string, extra: string, d: string): ProgramView => ({
    ...base,
    type: `*coolbpf.${cls}`,
    make: `coolbpf.New${cls}(${args}${extra})`,
    doc: goComment(`${name} is ${p.name}, SEC("${p.section}"): ${d}.`),
  });
  if (fam === 'tracepoint') {
    const tt = t?.kind === 'tracepoint' ? t : null;
    return mk('TracepointProgram', `, ${lit(tt?.category ?? '')}, ${lit(tt?.name ?? '')}`, tt ? `tracepoint ${tt.category}/${tt.name} (Attach, or AttachTracepoint)` : 'a tracepoint program; AttachTracepoint names the tracepoint');
  }
  if (fam === 'raw_tracepoint' || fam === 'raw_tracepoint.w') {
    const tt = t?.kind === 'raw-tracepoint' ? t : null;
    return mk('RawTracepointProgram', `, ${lit(tt?.name ?? '')}`, tt ? `raw tracepoint ${tt.name} (Attach, or AttachRawTracepoint)` : 'a raw tracepoint program; AttachRawTracepoint names it');
  }
  if (fam === 'kprobe' || fam === 'kretprobe') {
    const tt = t?.kind === 'kernel-function' ? t : null;
    return mk('KprobeProgram', `, ${fam === 'kretprobe'}, ${lit(tt?.name ?? '')}, ${tt?.offset ?? 0}`, `${fam} ${tt ? `of ${tt.name}${tt.offset ? `+${tt.offset}` : ''} (Attach, or AttachKprobe)` : '(AttachKprobe names the function)'}`);
  }
  if (fam === 'uprobe' || fam === 'uretprobe') {
    const tt = t?.kind === 'user-function' ? t : null;
    return mk('UprobeProgram', `, ${fam === 'uretprobe'}, ${lit(tt?.binary ?? '')}, ${lit(tt?.function ?? '')}, ${tt?.offset ?? 0}`,
      `${fam} ${tt ? `of ${tt.binary}:${tt.function ?? ''}${tt.offset ? `+${tt.offset}` : ''} (Attach, or AttachUprobe)` : '(AttachUprobe names the binary and function)'}`);
  }
  if (fam === 'xdp' || fam === 'xdp.frags') return mk('XDPProgram', '', 'an XDP program; AttachXDP names the interface');
  if (fam === 'tc' || fam === 'tcx' || fam === 'classifier') {
    const m = /\/(ingress|egress)$/.exec(p.section);
    const dir = m ? (m[1] === 'ingress' ? 'coolbpf.TCIngress' : 'coolbpf.TCEgress') : 'coolbpf.TCNone';
    return mk('TCProgram', `, ${dir}`, `a ${fam} program; AttachTC names the interface${m ? ` (direction ${m[1]})` : ' and direction'}`);
  }
  if (k?.needs === 'cgroup') return mk('CgroupProgram', '', `a ${what}; AttachCgroup names the cgroup`);
  if (k?.needs === 'perf-event') return mk('PerfEventProgram', '', `a ${what}; AttachPerfEvent takes the perf event`);
  const by = k?.autoAttach ? 'attached by the object\'s Attach' : k?.needs ? `needs a ${k.needs} target, which the runtime has no attach call for` : 'not attachable';
  return { ...base, type: '*coolbpf.Program', make: `coolbpf.NewProgram(${args})`, doc: goComment(`${name} is ${p.name}, SEC("${p.section}"): ${what}, ${by}.`) };
}
