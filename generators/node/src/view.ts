/**
 * The TypeScript view: everything the templates print, decided here. Names
 * (escaped, collision-free, deterministic), type spellings, codec
 * expressions and the lines of each codec's decode/encode come from the
 * language-neutral layout plan of @coolbpf/gen-core.
 */
import {
  GeneratorError,
  NameScope,
  TS_PROPERTY_RESERVED,
  camelCase,
  fieldsOf,
  headerLine,
  headerText,
  pascalCase,
  planLayout,
  quote,
  within,
  type EnumPlan,
  type FieldPlan,
  type LayoutPlan,
  type NodePlan,
  type OverlayPlan,
  type StructPlan,
  type TypePlan,
  type ValuePlan,
} from '@coolbpf/gen-core';
import type { DataSectionModel, MapModel, ObjectModel, ProgramModel } from '@coolbpf/model';

export interface NodeGenOptions {
  /** names the package and the skeleton class: 'hello' → package "hello", class Hello */
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

/** What the runtime's index exports that the generated module re-exports (values, then types). */
export const RUNTIME_REEXPORTS = {
  values: ['CoolbpfError', 'BPF_ANY', 'BPF_NOEXIST', 'BPF_EXIST', 'BPF_F_LOCK'],
  types: [
    'Codec', 'StructCodec', 'FieldLayout', 'Union', 'Link', 'EventStats', 'EventOptions', 'MapInfo', 'ObjectState', 'BpfObject',
    'RawMap', 'RawEvents', 'TypedMap', 'PerCpuMap', 'TypedEvents', 'Program', 'ProgramSetup', 'TracepointProgram',
    'RawTracepointProgram', 'KprobeProgram', 'UprobeProgram', 'XdpProgram', 'TcProgram', 'CgroupProgram', 'PerfEventProgram',
  ],
} as const;

/** Public names of the fixed API (the runtime's re-exports included), and the globals generated code uses: C types never get these. */
const RESERVED_TOP = [
  // the fixed API
  ...RUNTIME_REEXPORTS.values, ...RUNTIME_REEXPORTS.types, 'InitOptions', 'open', 'init', 'OBJECT_SHA256', 'ABI_VERSION',
  // globals and built-in types the generated code names
  'Array', 'ArrayLike', 'BigInt', 'DataView', 'Disposable', 'Error', 'Map', 'Math', 'Number', 'Object', 'Omit', 'Partial',
  'RangeError', 'Readonly', 'Record', 'String', 'Symbol', 'TextDecoder', 'TextEncoder', 'TypeError', 'Uint8Array', 'URL',
  'Boolean', 'Promise', 'Iterable', 'IterableIterator', 'AsyncIterable', 'AsyncIterator', 'globalThis', 'process',
];

/** Members of the skeleton classes and keys of InitOptions besides the sections. */
const RESERVED_MEMBERS = ['object', 'state', 'maps', 'programs', 'attach', 'destroy', 'load', 'soPath', 'autoload', 'perfPages', 'btfPath', 'logLevel', 'logFd'];

const IDENT = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/** A property as declared (`foo`, `'a.b'`) and as accessed (`.foo`, `['a.b']`). */
interface Prop {
  readonly name: string;
  readonly key: string;
  readonly access: string;
}

function propScope(): NameScope {
  return new NameScope({ keywords: TS_PROPERTY_RESERVED, identifiers: false, escape: (n) => `${n}_` });
}

function prop(scope: NameScope, wanted: string): Prop {
  const name = scope.claim(wanted);
  return IDENT.test(name) ? { name, key: name, access: `.${name}` } : { name, key: quote(name), access: `[${quote(name)}]` };
}

/** ` + 8`, or nothing for 0 */
function plus(n: number): string {
  return n === 0 ? '' : ` + ${n}`;
}

function indent(lines: readonly string[], by = '  '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

/** A doc comment's text: no comment terminator inside. */
function doc(s: string): string {
  return s.replace(/\*\//g, '*\\/');
}

export interface StructView {
  readonly name: string;
  /** the C spelling, as a string literal */
  readonly typeLit: string;
  readonly docLines: readonly string[];
  readonly typeLines: readonly string[];
  readonly alts: readonly { name: string; entries: readonly { names: string; decode: readonly { key: string; expr: string }[]; encode: readonly string[] }[] }[];
  readonly size: number;
  readonly align: number;
  readonly layout: readonly { key: string; layout: string }[];
  readonly decode: readonly { key: string; expr: string }[];
  readonly encode: readonly string[];
}

export interface EnumView {
  readonly name: string;
  readonly c: string;
  readonly docLines: readonly string[];
  readonly values: readonly { key: string; literal: string }[];
  readonly base: 'number' | 'bigint';
}

export interface SectionView {
  readonly section: string;
  readonly sectionLit: string;
  readonly iface: string;
  readonly className: string;
  readonly prop: string;
  readonly doc: readonly string[];
  readonly vars: readonly { key: string; type: string; codec: string; offset: number; doc: string }[];
  readonly beforeLoad: boolean;
  readonly afterLoad: boolean;
  readonly loadedType: string;
}

export interface MapView {
  readonly key: string;
  readonly type: string;
  /** the runtime's MapSpec for it */
  readonly spec: string;
  readonly doc: readonly string[];
  /** a perf event array (InitOptions.perfPages sizes its reader) */
  readonly perf: boolean;
}

export interface ProgramView {
  readonly key: string;
  readonly type: string;
  /** the runtime's ProgramSpec for it */
  readonly spec: string;
  readonly doc: string;
}

export interface IndexView {
  readonly header: string;
  readonly moduleDoc: readonly string[];
  readonly objectFile: string;
  readonly objectFileLit: string;
  readonly shaLit: string;
  readonly abiVersion: number;
  readonly littleEndian: string;
  /** the runtime's re-exports: one line of values, lines of types */
  readonly reexportValues: string;
  readonly reexportTypes: readonly string[];
  /** the statement taking what the module uses from the runtime's layout(), in lines (none when it uses nothing) */
  readonly layoutImports: readonly string[];
  readonly hasTypes: boolean;
  readonly enums: readonly EnumView[];
  readonly structs: readonly StructView[];
  readonly hoisted: readonly { name: string; expr: string }[];
  readonly sections: readonly SectionView[];
  /** the sections' option names, as an array literal */
  readonly sectionProps: string;
  readonly maps: readonly MapView[];
  /** the property names of perf event arrays */
  readonly perfMaps: readonly string[];
  readonly programs: readonly ProgramView[];
  readonly loadedClass: string;
  readonly openedClass: string;
  readonly mapsType: string;
  readonly programsType: string;
}

export interface PackageView {
  readonly name: string;
  readonly description: string;
  readonly header: string;
}

/** npm package name from the object name: lower case, URL-safe. */
export function packageName(objectName: string): string {
  const n = objectName.toLowerCase().replace(/[^a-z0-9._~-]+/g, '-').replace(/^[._-]+/, '').replace(/-+$/, '');
  return n || 'bpf-object';
}

export interface NodeView {
  readonly index: IndexView;
  readonly pkg: PackageView;
  /** the TypeScript name of each struct, union and enum that got one, by model key */
  readonly typeNames: ReadonlyMap<string, string>;
}

export function buildView(model: ObjectModel, options: NodeGenOptions, abiVersion: number): NodeView {
  const plan = planLayout(model);
  const top = NameScope.identifiers('typescript', RESERVED_TOP);

  // The skeleton's names first: they are the API every object has.
  const base = pascalCase(options.objectName);
  const loadedClass = top.claim(base, 'Object');
  const openedClass = top.claim(`${loadedClass}Opened`);
  const mapsType = top.claim(`${loadedClass}Maps`);
  const programsType = top.claim(`${loadedClass}Programs`);

  // Section interfaces next, then C types: structs, unions, enums, named before anonymous.
  const exposed = model.dataSections.filter((s) => s.kind !== 'kconfig' && s.variables.some((v) => v.linkage === 'global'));
  const sectionIfaces = exposed.map((s) => top.claim(pascalCase(s.name), 'Section'));
  const typeNames = new Map<string, string>();
  const kindOrder = ['struct', 'union', 'enum'] as const;
  for (const anonymous of [false, true]) {
    for (const kind of kindOrder) {
      for (const t of plan.ordered.filter((p) => p.kind === kind && p.anonymous === anonymous).sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) {
        typeNames.set(t.key, top.claim(pascalCase(t.name), kind[0]!.toUpperCase() + kind.slice(1)));
      }
    }
  }
  const typeName = (key: string): string => {
    const n = typeNames.get(key);
    if (!n) throw new GeneratorError(`internal: no name for '${key}' (an anonymous member's type used by value?)`);
    return n;
  };

  const hoisted = new Map<string, string>();
  const hoist = (expr: string): string => {
    let n = hoisted.get(expr);
    if (!n) {
      n = `$k${hoisted.size + 1}`;
      hoisted.set(expr, n);
    }
    return n;
  };

  const c = new Codecs(plan, typeName, hoist);
  let altCount = 0;

  const structs: StructView[] = [];
  const enums: EnumView[] = [];
  for (const t of plan.ordered) {
    within(`type '${t.c}'`, () => {
      if (t.kind === 'enum') enums.push(enumView(t, typeName(t.key)));
      else structs.push(structView(t, typeName(t.key), c, () => `$alts${++altCount}`));
    });
  }

  // Sections.
  const members = new NameScope({ reserved: RESERVED_MEMBERS, identifiers: true, keywords: TS_PROPERTY_RESERVED });
  const sections: SectionView[] = exposed.map((s, i) =>
    within(`section '${s.name}'`, () => sectionView(s, sectionIfaces[i]!, `$${sectionIfaces[i]!}`, members.claim(camelCase(s.name)), c)),
  );

  // Maps.
  const mapScope = propScope();
  const maps = model.maps.map((m) => within(`map '${m.name}'`, () => mapView(m, model, prop(mapScope, m.name), c)));

  // Programs.
  const progScope = propScope();
  const programs = model.programs.map((p) => within(`program '${p.name}'`, () => programView(p, prop(progScope, p.name))));

  const header = headerLine(options);
  const index: IndexView = {
    header,
    moduleDoc: moduleDoc(options, model, loadedClass),
    objectFile: doc(options.objectFile),
    objectFileLit: quote(options.objectFile),
    shaLit: quote(options.sha256),
    abiVersion,
    littleEndian: String(plan.byteOrder === 'little'),
    reexportValues: RUNTIME_REEXPORTS.values.join(', '),
    reexportTypes: wrap([...RUNTIME_REEXPORTS.types], 110),
    layoutImports: destructure(c.imports(), '$rt.layout($LE)'),
    hasTypes: enums.length + structs.length > 0,
    enums,
    structs,
    hoisted: [...hoisted].map(([expr, name]) => ({ name, expr })),
    sections,
    sectionProps: `[${sections.map((x) => quote(x.prop)).join(', ')}]`,
    maps,
    perfMaps: maps.filter((m) => m.perf).map((m) => m.key),
    programs,
    loadedClass,
    openedClass,
    mapsType,
    programsType,
  };
  const pkg: PackageView = {
    name: packageName(options.objectName),
    description: `Typed Node.js wrapper of ${options.objectFile} (generated by coolbpf-gen ${options.version})`,
    header: headerText(options),
  };
  return { index, pkg, typeNames };
}

function moduleDoc(options: NodeGenOptions, model: ObjectModel, cls: string): string[] {
  const hidden = model.dataSections
    .filter((s) => s.kind === 'kconfig' || !s.variables.some((v) => v.linkage === 'global'))
    .map((s) => `${s.name} (${s.kind === 'kconfig' ? 'externs libbpf fills in' : s.variables.length ? `static only: ${s.variables.map((v) => v.name).join(', ')}` : 'no variables'})`);
  const notExposed = hidden.length ? ['', doc(`Not exposed: ${hidden.join('; ')}.`)] : [];
  return [
    `Typed wrapper of ${doc(options.objectFile)} (${model.object.byteOrder}-endian) over the coolbpf runtime in ../runtime`,
    `(@coolbpf/node, also exported as "${packageName(options.objectName)}/runtime"), which does the work: this module only describes the object.`,
    '',
    `  const ${camelCase(options.objectName) || 'obj'} = init({ rodata: { … }, soPath: … });  // open + load + attach`,
    '  // or: const opened = open(); opened.rodata.x = …; const loaded = opened.load(); loaded.attach();',
    '',
    'Values: C integers of up to 32 bits are numbers, 64- and 128-bit ones bigints; pointers are',
    'bigint addresses (never dereferenced); `char[n]` is a string (UTF-8 up to the first NUL);',
    'arrays are arrays (the innermost dimension of an unsigned 8-bit array is a Uint8Array);',
    'enums are a const object of their values plus a type; bytes with no value type are a',
    'Uint8Array with a comment saying why. Anonymous struct and union members are flattened as',
    'C11 reaches them (`s.lo`, not `s.<anon>.lo`).',
    '',
    'Encoding refuses what C would change silently: an integer out of its type\'s range, or too',
    'wide for its bitfield, is a RangeError naming the field. Padding is zeroed. Unions: decoding',
    'fills every member; encoding takes the members set (not undefined): one is written as given,',
    'several must all read back as given, else RangeError (to change a member of a decoded union,',
    'pass an object with only that member).',
    '',
    `Globals (${cls}.rodata, .data, .bss, …) are getters and setters over the section's bytes:`,
    'every read decodes a fresh copy, so assign whole values (`bss.hist = [...]`), not elements.',
    'Event readers (ring buffers, perf event arrays) are opened at load and closed by destroy().',
    '',
    'Every struct and union codec carries its layout (`size`, `align`, `fields`). Sizes and offsets',
    'are the C compiler\'s; `align` is what BTF implies (BTF does not record `aligned(N)`).',
    ...notExposed,
  ];
}

/** Items joined by ', ' into lines of at most `width` characters (each line but the last ends with a comma). */
function wrap(items: readonly string[], width: number): string[] {
  const lines: string[] = [];
  let line = '';
  for (const item of items) {
    if (line && line.length + item.length + 2 > width) {
      lines.push(`${line},`);
      line = item;
    } else line = line ? `${line}, ${item}` : item;
  }
  if (line) lines.push(line);
  return lines;
}

/** `const { a, b } = from;` in one line when it is short, else one line per wrapped run of names. */
function destructure(names: readonly string[], from: string): string[] {
  if (names.length === 0) return [];
  const one = `const { ${names.join(', ')} } = ${from};`;
  if (one.length <= 120) return [one];
  return ['const {', ...wrap(names, 110).map((l) => `  ${l}`), `} = ${from};`];
}

/** What generated code takes from the runtime's layout(), in this order, and its local name. */
const LAYOUT_MEMBERS: readonly (readonly [member: string, local: string])[] = [
  ['u8', '$u8'], ['i8', '$i8'], ['u16', '$u16'], ['i16', '$i16'], ['u32', '$u32'], ['i32', '$i32'], ['u64', '$u64'], ['i64', '$i64'],
  ['u128', '$u128'], ['i128', '$i128'], ['bool', '$bool'], ['f32', '$f32'], ['f64', '$f64'], ['cstring', '$cstr'], ['bytes', '$bytes'],
  ['array', '$arr'], ['zero', '$zero'], ['getBits', '$getBits'], ['getBitsN', '$getBitsN'], ['setBits', '$setBits'],
  ['overlay', '$overlay'], ['struct', '$struct'],
];

/** TypeScript types and codec expressions of value plans; remembers what it takes from the runtime's layout(). */
class Codecs {
  readonly #used = new Set<string>();

  constructor(
    readonly plan: LayoutPlan,
    readonly typeName: (key: string) => string,
    readonly hoist: (expr: string) => string,
  ) {}

  /** A helper of the runtime's layout(), by its local name ('$u32', '$struct', …), marked as used. */
  use(local: string): string {
    this.#used.add(local);
    return local;
  }

  /** `member: $local` for every layout() member used, in a fixed order. */
  imports(): string[] {
    return LAYOUT_MEMBERS.filter(([, local]) => this.#used.has(local)).map(([m, local]) => `${m}: ${local}`);
  }

  type(v: ValuePlan): string {
    switch (v.kind) {
      case 'int': return v.size <= 4 ? 'number' : 'bigint';
      case 'bool': return 'boolean';
      case 'float': return 'number';
      case 'pointer': return 'bigint';
      case 'enum': return this.typeName(v.key);
      case 'string': return 'string';
      case 'opaque': return 'Uint8Array';
      case 'struct': case 'union': return this.typeName(v.key);
      case 'array':
        if (isOctet(v.element)) return `Uint8Array${'[]'.repeat(v.dims.length - 1)}`;
        return `${this.type(v.element)}${'[]'.repeat(v.dims.length)}`;
    }
  }

  /** The codec as an expression that is cheap to evaluate (array and string codecs are made once, at module level). */
  codec(v: ValuePlan): string {
    const e = this.#expr(v);
    return /^[$A-Za-z_][$\w]*$/.test(e) ? e : this.hoist(e);
  }

  #expr(v: ValuePlan): string {
    switch (v.kind) {
      case 'int': return this.use(intCodec(v.size, v.signed));
      case 'bool': return this.use('$bool');
      case 'float': return this.use(v.size === 4 ? '$f32' : '$f64');
      case 'pointer': return this.use('$u64');
      case 'enum': return this.use(intCodec(v.size, v.signed));
      case 'string': return `${this.use('$cstr')}(${v.size})`;
      case 'opaque': return `${this.use('$bytes')}(${v.size})`;
      case 'struct': case 'union': return this.typeName(v.key);
      case 'array': {
        const dims = [...v.dims];
        let e: string;
        if (isOctet(v.element)) e = `${this.use('$bytes')}(${dims.pop()!})`;
        else e = this.#expr(v.element);
        for (const d of dims.reverse()) e = `${this.use('$arr')}(${e}, ${d})`;
        return e;
      }
    }
  }

  /** An expression reading the field from `$v` at `$o`. */
  decode(f: FieldPlan): string {
    const at = `$o${plus(f.offset)}`;
    if (!f.bits) return `${this.codec(f.value)}.decode($v, ${at})`;
    const b = f.bits;
    const args = `$v, ${at}, ${f.size}, ${b.shift}, ${b.width}, ${b.signed}`;
    const kind = bitKind(f.value);
    if (kind === 'bigint') return `${this.use('$getBits')}(${args})`;
    const n = f.size <= 4 ? `${this.use('$getBitsN')}(${args})` : `Number(${this.use('$getBits')}(${args}))`;
    return kind === 'boolean' ? `${n} !== 0` : n;
  }

  /** A statement writing `x` (an expression) as the field `name` at `$o`. */
  encode(f: FieldPlan, x: string, name: string): string {
    const at = `$o${plus(f.offset)}`;
    const what = quote(name);
    if (!f.bits) return `${this.codec(f.value)}.encode($v, ${at}, ${x}, ${what});`;
    const b = f.bits;
    const value = bitKind(f.value) === 'boolean' ? `${x} ? 1 : 0` : x;
    return `${this.use('$setBits')}($v, ${at}, ${f.size}, ${b.shift}, ${b.width}, ${b.signed}, ${value}, ${what});`;
  }
}

function intCodec(size: number, signed: boolean): string {
  return `$${signed ? 'i' : 'u'}${size * 8}`;
}

function isOctet(v: ValuePlan): boolean {
  return v.kind === 'int' && v.size === 1 && !v.signed;
}

function bitKind(v: ValuePlan): 'number' | 'bigint' | 'boolean' {
  if (v.kind === 'bool') return 'boolean';
  if ((v.kind === 'int' || v.kind === 'enum') && v.size > 4) return 'bigint';
  return 'number';
}

function enumView(t: EnumPlan, name: string): EnumView {
  const scope = propScope();
  const big = t.size === 8;
  return {
    name,
    c: doc(t.c),
    docLines: ['/**', ` * ${doc(t.c)} (${t.size} bytes, ${t.signed ? 'signed' : 'unsigned'})`, ' */'],
    values: t.values.map((v) => ({ key: prop(scope, v.name).key, literal: big ? `${v.value}n` : String(v.value) })),
    base: big ? 'bigint' : 'number',
  };
}

function fieldDoc(f: FieldPlan): string {
  const where = f.bits ? `${f.value.c} : ${f.bits.width}, at bit ${f.bits.bitOffset}` : `${f.value.c} at ${f.offset}`;
  const pointer = f.value.kind === 'pointer' ? ': an address, never dereferenced' : '';
  const note = f.note ? ` (${f.note})` : '';
  return doc(`${where}${pointer}${note}`);
}

function structView(t: StructPlan, name: string, c: Codecs, altName: () => string): StructView {
  const scope = propScope();
  const props = new Map<FieldPlan, Prop>();
  for (const f of t.fields) props.set(f, prop(scope, f.name));
  const p = (f: FieldPlan): Prop => props.get(f)!;
  const inOverlay = new Set<FieldPlan>();
  const mark = (nodes: readonly NodePlan[], inside: boolean) => {
    for (const n of nodes) {
      if (n.kind === 'field') {
        if (inside) inOverlay.add(n.field);
      } else for (const a of n.alternatives) mark(a.nodes, true);
    }
  };
  mark(t.body, false);

  // The type: an interface, or (with overlays) an object type & $Union<…> of the alternatives.
  const literal = (nodes: readonly NodePlan[]): string[] => {
    const fields = nodes.filter((n): n is { kind: 'field'; field: FieldPlan } => n.kind === 'field');
    const overlays = nodes.filter((n): n is OverlayPlan => n.kind === 'overlay');
    const parts: string[][] = [];
    if (fields.length || !overlays.length) {
      parts.push(['{', ...indent(fields.flatMap(({ field: f }) => [`/** ${fieldDoc(f)} */`, `${p(f).key}: ${c.type(f.value)};`])), '}']);
    }
    for (const o of overlays) {
      const alts = o.alternatives.map((a) => {
        const l = literal(a.nodes);
        return [`| ${l[0]}`, ...indent(l.slice(1))];
      });
      parts.push(['$rt.Union<', ...indent(alts.flat()), '>']);
    }
    const out: string[] = [];
    for (const part of parts) {
      if (out.length) out[out.length - 1] += ` & ${part[0]}`;
      else out.push(part[0]!);
      out.push(...part.slice(1));
    }
    return out;
  };
  const body = literal(t.body);
  const typeLines = t.hasOverlay ? [`export type ${name} = ${body[0]}`, ...body.slice(1, -1), `${body[body.length - 1]};`] : [`export interface ${name} ${body[0]}`, ...body.slice(1)];

  // Encoding: zero everything first when some bytes belong to no field's value (padding, bits between bitfields).
  const alts: StructView['alts'][number][] = [];
  const encodeNodes = (nodes: readonly NodePlan[], x: string): string[] =>
    nodes.map((n) => {
      if (n.kind === 'field') return c.encode(n.field, `${x}${p(n.field).access}${inOverlay.has(n.field) ? '!' : ''}`, p(n.field).name);
      const altsConst = altName();
      const entries = n.alternatives.map((a) => ({
        names: `[${a.fields.map((f) => quote(p(f).name)).join(', ')}]`,
        decode: a.fields.map((f) => ({ key: p(f).key, expr: c.decode(f) })),
        encode: [] as string[],
      }));
      alts.push({ name: altsConst, entries });
      // fill in after the const is listed, so nested overlays' consts come after their parent's
      n.alternatives.forEach((a, i) => entries[i]!.encode.push(...encodeNodes(a.nodes, '$x')));
      return `${c.use('$overlay')}($v, $o, ${x}, ${n.offset}, ${n.size}, ${quote(overlayWhat(n, t))}, ${altsConst});`;
    });
  const needsZero = t.padding.length > 0 || t.hasBitfields;
  const encode = [...(needsZero && t.size > 0 ? [`${c.use('$zero')}($v, $o, ${t.size});`] : []), ...encodeNodes(t.body, '$x')];
  c.use('$struct');

  const layout = t.fields.map((f) => ({
    key: p(f).key,
    layout: `offset: ${f.offset}, size: ${f.size}${f.bits ? `, bitOffset: ${f.bits.bitOffset}, bitWidth: ${f.bits.width}` : ''}`,
  }));
  const facts = [`${t.size} bytes`, `align ${t.align}`, ...(t.packed ? ['packed'] : []), ...padding(t)];
  const docLines = ['/**', ` * ${doc(t.c)} (${facts.join(', ')})`];
  if (t.kind === 'union') docLines.push(' *', ' * A union: decoding gives every member; encoding takes one (see the module comment).');
  for (const s of t.skipped) docLines.push(` * Not represented: ${doc(s)}.`);
  docLines.push(' */');

  return {
    name,
    typeLit: quote(t.c),
    docLines,
    typeLines,
    alts,
    size: t.size,
    align: t.align,
    layout,
    decode: t.fields.map((f) => ({ key: p(f).key, expr: c.decode(f) })),
    encode,
  };
}

function padding(t: StructPlan): string[] {
  const n = t.padding.length;
  if (n === 0) return [];
  const bytes = t.padding.reduce((a, r) => a + r.size, 0);
  if (n > 4) return [`${bytes} bytes of padding in ${n} holes`];
  return [`padding ${t.padding.map((r) => (r.size === 1 ? `${r.offset}` : `${r.offset}..${r.offset + r.size - 1}`)).join(', ')}`];
}

/** The union an overlay is, for messages: the type itself, or (the struct's codec names the struct in front) an anonymous member by its fields. */
function overlayWhat(o: OverlayPlan, t: StructPlan): string {
  if (o.c === t.c) return t.c;
  const names = fieldsOf([o]).map((f) => f.name);
  return `anonymous union (${names.join(', ')})`;
}

function sectionView(s: DataSectionModel, iface: string, className: string, propName: string, c: Codecs): SectionView {
  const scope = propScope();
  const globals = s.variables.filter((v) => v.linkage === 'global');
  const statics = s.variables.filter((v) => v.linkage !== 'global').map((v) => v.name);
  const vars = globals.map((v) =>
    within(`global '${v.name}'`, () => {
      const value = c.plan.value(v.type);
      const pr = prop(scope, v.name);
      const note = value.kind === 'opaque' ? ` (bytes: ${value.reason})` : value.kind === 'pointer' ? ': an address, never dereferenced' : '';
      return { key: pr.key, type: c.type(value), codec: c.codec(value), offset: v.offset, doc: doc(`${v.type.c} at ${v.offset}${note}`) };
    }),
  );
  const when = [s.writable.beforeLoad ? 'settable before load' : 'not settable before load', s.writable.afterLoad ? 'writable after load' : 'read-only after load'];
  const text = [`${s.name} (${s.kind}, ${s.size} bytes): ${when.join(', ')}.`];
  if (statics.length) text.push(`Not exposed (static, private to the object): ${statics.join(', ')}.`);
  return {
    section: doc(s.name),
    sectionLit: quote(s.name),
    iface,
    className,
    prop: propName,
    doc: text.map(doc),
    vars,
    beforeLoad: s.writable.beforeLoad,
    afterLoad: s.writable.afterLoad,
    loadedType: s.writable.afterLoad ? iface : `Readonly<${iface}>`,
  };
}

/** What a map is, for its doc comment: type, size (in what the type counts), flags, pinning. */
function mapFacts(m: MapModel): string {
  const size =
    m.type === 'ringbuf' || m.type === 'user_ringbuf' ? bytes(m.maxEntries)
    : m.type === 'perf_event_array' ? (m.maxEntries === 0 ? 'one buffer per possible CPU' : `${m.maxEntries} CPU slot${m.maxEntries === 1 ? '' : 's'}`)
    : `${m.maxEntries} entries`;
  return `${m.type}, ${size}${m.flagNames.length ? `, flags ${m.flagNames.join(' ')}` : ''}${m.pinning !== 'none' ? `, pinned ${m.pinning}` : ''}`;
}

/** A ring buffer's size: 256 KiB, 4 MiB, or bytes. */
function bytes(n: number): string {
  if (n > 0 && n % (1 << 20) === 0) return `${n / (1 << 20)} MiB`;
  if (n > 0 && n % 1024 === 0) return `${n / 1024} KiB`;
  return `${n} bytes`;
}

function mapView(m: MapModel, model: ObjectModel, pr: Prop, c: Codecs): MapView {
  const name = quote(m.name);
  const facts = mapFacts(m);
  const base = { key: pr.key, perf: m.type === 'perf_event_array' };
  if (m.type === 'ringbuf' || m.type === 'perf_event_array') {
    const kind = quote(m.type);
    const ev = model.events.find((e) => e.map === m.name);
    if (ev) {
      const v = within('event type', () => c.plan.value(ev.type));
      return {
        ...base,
        type: `$rt.TypedEvents<${c.type(v)}>`,
        spec: `$rt.eventMap(${name}, ${kind}, ${c.codec(v)})`,
        doc: [doc(`${m.name}: ${facts}; records are ${ev.type.c}; the reader is opened at load`)],
      };
    }
    return {
      ...base,
      type: '$rt.RawEvents',
      spec: `$rt.rawEventMap(${name}, ${kind})`,
      doc: [
        doc(`${m.name}: ${facts}; the record type is unknown, so records are raw bytes`),
        m.type === 'ringbuf'
          ? '(coolbpf-gen --event MAP=TYPE names it); the reader is opened at load'
          : '(coolbpf-gen --event MAP=TYPE names it); the reader is opened on first use: with no record type it may be an array of counters',
      ],
    };
  }
  const rawOnly = (why: string): MapView => ({ ...base, type: '$rt.RawMap', spec: `$rt.rawMap(${name})`, doc: [doc(`${m.name}: ${facts}; ${why}`)] });
  if (m.type === 'user_ringbuf') return rawOnly('a user ring buffer, written from user space: the runtime has no typed writer for it yet, so this is the raw map');
  if (m.type === 'struct_ops') return rawOnly('struct_ops maps are attached by the object, not read as key/value pairs');
  if (m.keySize === 0) return rawOnly(`a ${m.type} map has no keys, so it has no typed key/value view: the raw map`);
  const key = m.key ? within('key type', () => c.plan.value(m.key!)) : null;
  const value = m.value ? within('value type', () => c.plan.value(m.value!)) : null;
  const kc = key ? c.codec(key) : c.codec({ kind: 'opaque', c: '', size: m.keySize, reason: '' });
  const vc = value ? c.codec(value) : c.codec({ kind: 'opaque', c: '', size: m.valueSize, reason: '' });
  const kt = key ? c.type(key) : 'Uint8Array';
  const vt = value ? c.type(value) : 'Uint8Array';
  const [cls, fn] = m.perCpu ? ['PerCpuMap', 'perCpuMap'] : ['TypedMap', 'typedMap'];
  const lines = [doc(`${m.name}: ${facts}; key ${m.key ? m.key.c : `${m.keySize} bytes`}, value ${m.value ? m.value.c : `${m.valueSize} bytes`}${m.perCpu ? ' (one per possible CPU)' : ''}`)];
  if (!m.key || !m.value) lines.push('(the object declares only sizes for what is a Uint8Array here)');
  if (m.inner) lines.push(doc(`values are inner maps (${m.inner.type}): an fd to update, an id on lookup`));
  return { ...base, type: `$rt.${cls}<${kt}, ${vt}>`, spec: `$rt.${fn}(${name}, ${kc}, ${vc})`, doc: lines };
}

function programView(p: ProgramModel, pr: Prop): ProgramView {
  const k = p.kind;
  const lit = (s: string) => quote(s);
  const args = `${lit(p.name)}, ${lit(p.section)}`;
  const what = k ? `${k.progType} program` : 'a program libbpf does not know the section of';
  const t = k?.target ?? null;
  const by = k?.autoAttach ? 'attached by attach() of the object' : k?.needs ? `needs a ${k.needs} target, which the runtime has no attach call for` : 'not attachable';
  const fam = k?.family ?? '';
  /** auto: whether attach() works (the section names the target); null for classes with no attach() */
  const mk = (cls: string, fn: string, extra: string, auto: boolean | null, d: string): ProgramView => ({
    key: pr.key,
    type: auto === false ? `Omit<$rt.${cls}, 'attach'>` : `$rt.${cls}`,
    spec: `$rt.${fn}(${args}${extra})`,
    doc: doc(`SEC("${p.section}"): ${d}`),
  });
  if (fam === 'tracepoint') {
    const tt = t?.kind === 'tracepoint' ? t : null;
    return mk('TracepointProgram', 'tracepointProgram', `, ${tt ? `[${lit(tt.category)}, ${lit(tt.name)}]` : 'null'}`, tt !== null, tt ? `tracepoint ${tt.category}/${tt.name}` : 'a tracepoint program; attachTracepoint() names the tracepoint');
  }
  if (fam === 'raw_tracepoint' || fam === 'raw_tracepoint.w') {
    const tt = t?.kind === 'raw-tracepoint' ? t : null;
    return mk('RawTracepointProgram', 'rawTracepointProgram', `, ${tt ? lit(tt.name) : 'null'}`, tt !== null, tt ? `raw tracepoint ${tt.name}` : 'a raw tracepoint program; attachRawTracepoint() names it');
  }
  if (fam === 'kprobe' || fam === 'kretprobe') {
    const tt = t?.kind === 'kernel-function' ? t : null;
    const ret = fam === 'kretprobe';
    return mk('KprobeProgram', 'kprobeProgram', `, ${ret}, ${tt ? `{ function: ${lit(tt.name)}, offset: ${tt.offset} }` : 'null'}`, tt !== null, `${fam} ${tt ? `of ${tt.name}${tt.offset ? `+${tt.offset}` : ''}` : '(attachKprobe() names the function)'}`);
  }
  if (fam === 'uprobe' || fam === 'uretprobe') {
    const tt = t?.kind === 'user-function' ? t : null;
    const ret = fam === 'uretprobe';
    const target = tt ? `{ binary: ${lit(tt.binary)}, function: ${tt.function === null ? 'null' : lit(tt.function)}, offset: ${tt.offset} }` : 'null';
    return mk('UprobeProgram', 'uprobeProgram', `, ${ret}, ${target}`, tt !== null, `${fam} ${tt ? `of ${tt.binary}:${tt.function ?? ''}${tt.offset ? `+${tt.offset}` : ''}` : '(attachUprobe() names the binary and function)'}`);
  }
  if (fam === 'xdp' || fam === 'xdp.frags') return mk('XdpProgram', 'xdpProgram', '', null, 'an XDP program; attachXdp() names the interface');
  if (fam === 'tc' || fam === 'tcx' || fam === 'classifier') {
    const m = /\/(ingress|egress)$/.exec(p.section);
    return mk('TcProgram', 'tcProgram', `, ${m ? lit(m[1]!) : 'null'}`, null, `a ${fam} program; attachTc() names the interface${m ? ` (direction ${m[1]})` : ' and direction'}`);
  }
  if (k?.needs === 'cgroup') return mk('CgroupProgram', 'cgroupProgram', '', null, `a ${what}; attachCgroup() names the cgroup`);
  if (k?.needs === 'perf-event') return mk('PerfEventProgram', 'perfEventProgram', '', null, `a ${what}; attachPerfEvent() takes the perf event`);
  return { key: pr.key, type: '$rt.Program', spec: `$rt.program(${args})`, doc: doc(`SEC("${p.section}"): ${what}, ${by}`) };
}

export type { TypePlan };
