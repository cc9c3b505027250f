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

/** Public names of the prelude and the fixed API, and the globals generated code uses: C types never get these. */
const RESERVED_TOP = [
  // prelude exports and the fixed API
  'FieldLayout', 'StructCodec', 'Program', 'ProgramSetup', 'TracepointProgram', 'RawTracepointProgram', 'KprobeProgram',
  'UprobeProgram', 'XdpProgram', 'TcProgram', 'CgroupProgram', 'PerfEventProgram', 'InitOptions', 'open', 'init',
  'OBJECT_SHA256', 'ABI_VERSION',
  // globals and built-in types the generated code names
  'Array', 'ArrayLike', 'BigInt', 'DataView', 'Disposable', 'Error', 'Map', 'Math', 'Number', 'Object', 'Omit', 'Partial',
  'RangeError', 'Readonly', 'Record', 'String', 'Symbol', 'TextDecoder', 'TextEncoder', 'TypeError', 'Uint8Array', 'URL',
  'Boolean', 'Promise', 'Iterable', 'IterableIterator', 'AsyncIterable', 'AsyncIterator', 'globalThis', 'process',
];

/** Members of the skeleton classes and keys of InitOptions besides the sections. */
const RESERVED_MEMBERS = ['object', 'maps', 'programs', 'attach', 'destroy', 'load', 'soPath', 'autoload', 'btfPath', 'logLevel', 'logFd'];

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
  readonly local: string;
  readonly doc: readonly string[];
  readonly vars: readonly { key: string; access: string; type: string; codec: string; offset: number; doc: string }[];
  readonly beforeLoad: boolean;
  readonly afterLoad: boolean;
  readonly loadedType: string;
}

export interface MapView {
  readonly key: string;
  readonly nameLit: string;
  readonly type: string;
  readonly make: string;
  readonly doc: readonly string[];
}

export interface ProgramView {
  readonly key: string;
  readonly access: string;
  readonly nameLit: string;
  readonly sectionLit: string;
  readonly autoload: boolean;
  readonly type: string;
  readonly make: string;
  readonly doc: string;
}

export interface IndexView {
  readonly header: string;
  readonly moduleDoc: readonly string[];
  readonly objectFile: string;
  readonly shaLit: string;
  readonly abiVersion: number;
  readonly littleEndian: string;
  readonly enums: readonly EnumView[];
  readonly structs: readonly StructView[];
  readonly hoisted: readonly { name: string; expr: string }[];
  readonly sections: readonly SectionView[];
  readonly maps: readonly MapView[];
  readonly programs: readonly ProgramView[];
  readonly loadedClass: string;
  readonly openedClass: string;
  readonly mapsClass: string;
  readonly programsClass: string;
  readonly openedProgramsClass: string;
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
  const mapsClass = top.claim(`${loadedClass}Maps`);
  const programsClass = top.claim(`${loadedClass}Programs`);
  const openedProgramsClass = top.claim(`${loadedClass}OpenedPrograms`);

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
    within(`section '${s.name}'`, () => sectionView(s, sectionIfaces[i]!, `$${sectionIfaces[i]!}`, members.claim(camelCase(s.name)), `$init${i + 1}`, c)),
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
    shaLit: quote(options.sha256),
    abiVersion,
    littleEndian: String(plan.byteOrder === 'little'),
    enums,
    structs,
    hoisted: [...hoisted].map(([expr, name]) => ({ name, expr })),
    sections,
    maps,
    programs,
    loadedClass,
    openedClass,
    mapsClass,
    programsClass,
    openedProgramsClass,
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
    `Typed wrapper of ${doc(options.objectFile)} (${model.object.byteOrder}-endian) over the coolbpf runtime in ../runtime.`,
    '',
    `  const ${camelCase(options.objectName) || 'obj'} = init({ rodata: { … }, soPath: … });  // open + load + attach`,
    '  // or: const opened = open(); opened.rodata.x = …; const loaded = opened.load(); loaded.attach();',
    '',
    'Values: C integers of up to 32 bits are numbers, 64- and 128-bit ones bigints; pointers are',
    'bigint addresses (never dereferenced); `char[n]` is a string (UTF-8 up to the first NUL);',
    'arrays are arrays (the innermost dimension of an unsigned 8-bit array is a Uint8Array);',
    'enums are a const object of their values plus a type; bytes with no value type are a',
    'Uint8Array with a comment saying why. Encoding zeroes padding; a bitfield write changes',
    'only its own bits (truncated to its width, as in C). Anonymous struct and union members',
    'are flattened as C11 reaches them (`s.lo`, not `s.<anon>.lo`).',
    '',
    'Unions: decoding fills every member (they share the bytes). Encoding takes the members',
    'set (not undefined): one member is written as given; several (a decoded value, or a',
    'copy of one) are written in declaration order and must all read back as given, else',
    'RangeError: to change a member of a decoded union, pass an object with only that member.',
    '',
    `Globals (${cls}.rodata, .data, .bss, …) are getters and setters over the section's bytes:`,
    'every read decodes a fresh copy, so assign whole values (`bss.hist = [...]`), not elements.',
    '',
    'Every struct and union codec carries its layout (`size`, `align`, `fields`), as the C',
    'compiler laid the type out.',
    ...notExposed,
  ];
}

/** TypeScript types and codec expressions of value plans. */
class Codecs {
  constructor(
    readonly plan: LayoutPlan,
    readonly typeName: (key: string) => string,
    readonly hoist: (expr: string) => string,
  ) {}

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
      case 'int': return intCodec(v.size, v.signed);
      case 'bool': return '$bool';
      case 'float': return v.size === 4 ? '$f32' : '$f64';
      case 'pointer': return '$u64';
      case 'enum': return intCodec(v.size, v.signed);
      case 'string': return `$cstr(${v.size})`;
      case 'opaque': return `$bytes(${v.size})`;
      case 'struct': case 'union': return this.typeName(v.key);
      case 'array': {
        const dims = [...v.dims];
        let e: string;
        if (isOctet(v.element)) e = `$bytes(${dims.pop()!})`;
        else e = this.#expr(v.element);
        for (const d of dims.reverse()) e = `$arr(${e}, ${d})`;
        return e;
      }
    }
  }

  /** An expression reading the field from `$v` at `$o`. */
  decode(f: FieldPlan): string {
    const at = `$o${plus(f.offset)}`;
    if (!f.bits) return `${this.codec(f.value)}.decode($v, ${at})`;
    const b = f.bits;
    const args = `$v, ${at}, ${f.size}, ${b.shift}, ${b.width}`;
    const kind = bitKind(f.value);
    if (kind === 'bigint') return `$getBits(${args}, ${b.signed})`;
    const n = f.size <= 4 ? `$getBitsN(${args}, ${b.signed})` : `Number($getBits(${args}, ${b.signed}))`;
    return kind === 'boolean' ? `${n} !== 0` : n;
  }

  /** A statement writing `x` (an expression) as the field at `$o`. */
  encode(f: FieldPlan, x: string): string {
    const at = `$o${plus(f.offset)}`;
    if (!f.bits) return `${this.codec(f.value)}.encode($v, ${at}, ${x});`;
    const b = f.bits;
    const args = `$v, ${at}, ${f.size}, ${b.shift}, ${b.width}`;
    const kind = bitKind(f.value);
    if (kind === 'bigint') return `$setBits(${args}, ${x});`;
    const n = kind === 'boolean' ? `${x} ? 1 : 0` : x;
    return f.size <= 4 ? `$setBitsN(${args}, ${n});` : `$setBits(${args}, BigInt(Math.trunc(${n})));`;
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
      parts.push(['$Union<', ...indent(alts.flat()), '>']);
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
      if (n.kind === 'field') return c.encode(n.field, `${x}${p(n.field).access}${inOverlay.has(n.field) ? '!' : ''}`);
      const altsConst = altName();
      const entries = n.alternatives.map((a) => ({
        names: `[${a.fields.map((f) => quote(p(f).name)).join(', ')}]`,
        decode: a.fields.map((f) => ({ key: p(f).key, expr: c.decode(f) })),
        encode: [] as string[],
      }));
      alts.push({ name: altsConst, entries });
      // fill in after the const is listed, so nested overlays' consts come after their parent's
      n.alternatives.forEach((a, i) => entries[i]!.encode.push(...encodeNodes(a.nodes, '$x')));
      return `$overlay($v, $o, ${x}, ${n.offset}, ${n.size}, ${quote(overlayWhat(n, t))}, ${altsConst});`;
    });
  const needsZero = t.padding.length > 0 || t.hasBitfields;
  const encode = [...(needsZero && t.size > 0 ? [`$zero($v, $o, ${t.size});`] : []), ...encodeNodes(t.body, '$x')];

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

function overlayWhat(o: OverlayPlan, t: StructPlan): string {
  if (o.c === t.c) return t.c;
  const names = fieldsOf([o]).map((f) => f.name);
  return `anonymous union (${names.join(', ')}) in ${t.c}`;
}

function sectionView(s: DataSectionModel, iface: string, className: string, propName: string, local: string, c: Codecs): SectionView {
  const scope = propScope();
  const globals = s.variables.filter((v) => v.linkage === 'global');
  const statics = s.variables.filter((v) => v.linkage !== 'global').map((v) => v.name);
  const vars = globals.map((v) =>
    within(`global '${v.name}'`, () => {
      const value = c.plan.value(v.type);
      const pr = prop(scope, v.name);
      const note = value.kind === 'opaque' ? ` (bytes: ${value.reason})` : value.kind === 'pointer' ? ': an address, never dereferenced' : '';
      return { key: pr.key, access: pr.access, type: c.type(value), codec: c.codec(value), offset: v.offset, doc: doc(`${v.type.c} at ${v.offset}${note}`) };
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
    local,
    doc: text.map(doc),
    vars,
    beforeLoad: s.writable.beforeLoad,
    afterLoad: s.writable.afterLoad,
    loadedType: s.writable.afterLoad ? iface : `Readonly<${iface}>`,
  };
}

function mapView(m: MapModel, model: ObjectModel, pr: Prop, c: Codecs): MapView {
  const raw = `this.#object.map(${quote(m.name)})`;
  const facts = `${m.type}, ${m.maxEntries} entries${m.flagNames.length ? `, flags ${m.flagNames.join(' ')}` : ''}${m.pinning !== 'none' ? `, pinned ${m.pinning}` : ''}`;
  const base = { key: pr.key, nameLit: quote(m.name) };
  if (m.type === 'ringbuf' || m.type === 'perf_event_array') {
    const ev = model.events.find((e) => e.map === m.name);
    if (ev) {
      const v = within('event type', () => c.plan.value(ev.type));
      return {
        ...base,
        type: `$rt.TypedEvents<${c.type(v)}>`,
        make: `new $rt.TypedEvents(this.#object.events(${quote(m.name)}), ${c.codec(v)}, $LE)`,
        doc: [doc(`${m.name}: ${facts}; records are ${ev.type.c}`)],
      };
    }
    return {
      ...base,
      type: '$rt.RawEvents',
      make: `this.#object.events(${quote(m.name)})`,
      doc: [doc(`${m.name}: ${facts}; the record type is unknown, so records are raw bytes`), '(coolbpf-gen --event MAP=TYPE names it)'],
    };
  }
  const rawOnly = (why: string): MapView => ({ ...base, type: '$rt.RawMap', make: raw, doc: [doc(`${m.name}: ${facts}; ${why}`)] });
  if (m.type === 'user_ringbuf') return rawOnly('a user ring buffer, written from user space: the runtime has no typed writer for it yet, so this is the raw map');
  if (m.type === 'struct_ops') return rawOnly('struct_ops maps are attached by the object, not read as key/value pairs');
  if (m.keySize === 0) return rawOnly(`a ${m.type} map has no keys, so it has no typed key/value view: the raw map`);
  const key = m.key ? within('key type', () => c.plan.value(m.key!)) : null;
  const value = m.value ? within('value type', () => c.plan.value(m.value!)) : null;
  const kc = key ? c.codec(key) : c.codec({ kind: 'opaque', c: '', size: m.keySize, reason: '' });
  const vc = value ? c.codec(value) : c.codec({ kind: 'opaque', c: '', size: m.valueSize, reason: '' });
  const kt = key ? c.type(key) : 'Uint8Array';
  const vt = value ? c.type(value) : 'Uint8Array';
  const cls = m.perCpu ? 'PerCpuMap' : 'TypedMap';
  const lines = [doc(`${m.name}: ${facts}; key ${m.key ? m.key.c : `${m.keySize} bytes`}, value ${m.value ? m.value.c : `${m.valueSize} bytes`}${m.perCpu ? ' (one per possible CPU)' : ''}`)];
  if (!m.key || !m.value) lines.push('(the object declares only sizes for what is a Uint8Array here)');
  if (m.inner) lines.push(doc(`values are inner maps (${m.inner.type}): an fd to update, an id on lookup`));
  return { ...base, type: `$rt.${cls}<${kt}, ${vt}>`, make: `new $rt.${cls}(${raw}, ${kc}, ${vc}, $LE)`, doc: lines };
}

function programView(p: ProgramModel, pr: Prop): ProgramView {
  const k = p.kind;
  const lit = (s: string) => quote(s);
  const args = `object, ${lit(p.name)}, ${lit(p.section)}`;
  const base = { key: pr.key, access: pr.access, nameLit: lit(p.name), sectionLit: lit(p.section), autoload: p.autoload };
  const what = k ? `${k.progType} program` : 'a program libbpf does not know the section of';
  const t = k?.target ?? null;
  const by = k?.autoAttach ? 'attached by attach() of the object' : k?.needs ? `needs a ${k.needs} target, which the runtime has no attach call for` : 'not attachable';
  const fam = k?.family ?? '';
  /** auto: whether attach() works (the section names the target); null for classes with no attach() */
  const mk = (cls: string, extra: string, auto: boolean | null, d: string): ProgramView => ({
    ...base,
    type: auto === false ? `Omit<${cls}, 'attach'>` : cls,
    make: `new ${cls}(${args}${extra})`,
    doc: doc(`SEC("${p.section}"): ${d}`),
  });
  if (fam === 'tracepoint') {
    const tt = t?.kind === 'tracepoint' ? t : null;
    return mk('TracepointProgram', `, ${tt ? `[${lit(tt.category)}, ${lit(tt.name)}]` : 'null'}`, tt !== null, tt ? `tracepoint ${tt.category}/${tt.name}` : 'a tracepoint program; attachTracepoint() names the tracepoint');
  }
  if (fam === 'raw_tracepoint' || fam === 'raw_tracepoint.w') {
    const tt = t?.kind === 'raw-tracepoint' ? t : null;
    return mk('RawTracepointProgram', `, ${tt ? lit(tt.name) : 'null'}`, tt !== null, tt ? `raw tracepoint ${tt.name}` : 'a raw tracepoint program; attachRawTracepoint() names it');
  }
  if (fam === 'kprobe' || fam === 'kretprobe') {
    const tt = t?.kind === 'kernel-function' ? t : null;
    const ret = fam === 'kretprobe';
    return mk('KprobeProgram', `, ${ret}, ${tt ? `{ function: ${lit(tt.name)}, offset: ${tt.offset} }` : 'null'}`, tt !== null, `${fam} ${tt ? `of ${tt.name}${tt.offset ? `+${tt.offset}` : ''}` : '(attachKprobe() names the function)'}`);
  }
  if (fam === 'uprobe' || fam === 'uretprobe') {
    const tt = t?.kind === 'user-function' ? t : null;
    const ret = fam === 'uretprobe';
    const target = tt ? `{ binary: ${lit(tt.binary)}, function: ${tt.function === null ? 'null' : lit(tt.function)}, offset: ${tt.offset} }` : 'null';
    return mk('UprobeProgram', `, ${ret}, ${target}`, tt !== null, `${fam} ${tt ? `of ${tt.binary}:${tt.function ?? ''}${tt.offset ? `+${tt.offset}` : ''}` : '(attachUprobe() names the binary and function)'}`);
  }
  if (fam === 'xdp' || fam === 'xdp.frags') return mk('XdpProgram', '', null, 'an XDP program; attachXdp() names the interface');
  if (fam === 'tc' || fam === 'tcx' || fam === 'classifier') {
    const m = /\/(ingress|egress)$/.exec(p.section);
    return mk('TcProgram', `, ${m ? lit(m[1]!) : 'null'}`, null, `a ${fam} program; attachTc() names the interface${m ? ` (direction ${m[1]})` : ' and direction'}`);
  }
  if (k?.needs === 'cgroup') return mk('CgroupProgram', '', null, `a ${what}; attachCgroup() names the cgroup`);
  if (k?.needs === 'perf-event') return mk('PerfEventProgram', '', null, `a ${what}; attachPerfEvent() takes the perf event`);
  return { ...base, type: 'Program', make: `new Program(${args})`, doc: doc(`SEC("${p.section}"): ${what}, ${by}`) };
}

export type { TypePlan };
