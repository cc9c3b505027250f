/**
 * The Python view: everything the templates print, decided here. Names
 * (escaped, collision-free, deterministic), type spellings, codec
 * expressions and the lines of every class come from the language-neutral
 * layout plan of @coolbpf/gen-core. The generated module describes each
 * struct as a dataclass plus a layout (offsets, bitfields, overlays) that
 * the runtime compiles into struct.Struct codecs when the module loads.
 */
import {
  GeneratorError,
  KEYWORDS,
  NameScope,
  fieldsOf,
  headerLine,
  headerText,
  pascalCase,
  planLayout,
  within,
  type EnumPlan,
  type FieldPlan,
  type LayoutPlan,
  type NodePlan,
  type OverlayPlan,
  type StructPlan,
  type ValuePlan,
} from '@coolbpf/gen-core';
import type { DataSectionModel, MapModel, ObjectModel, ProgramModel } from '@coolbpf/model';

export interface PythonGenOptions {
  /** names the module and the skeleton class: 'hello' → module hello, class Hello */
  readonly objectName: string;
  /** the object file as the user named it, for the header */
  readonly objectFile: string;
  /** SHA-256 of the object (bpf.so must embed the same one) */
  readonly sha256: string;
  /** coolbpf-gen's version, for the header and the package version */
  readonly version: string;
  /** COOLBPF_ABI_VERSION the code checks bpf.so for; default gen-core's ABI_VERSION */
  readonly abiVersion?: number;
}

/** Longest line the generated Python has (PEP 8's limit for teams that agree on more than 79). */
export const MAX_LINE = 99;

/** Names the module itself binds or uses at its top level: C types never get these. */
const RESERVED_TOP = [
  // the fixed API and what the module re-exports from the runtime
  'open', 'init', 'OBJECT_SHA256', 'ABI_VERSION', 'CoolbpfError', 'Link', 'BPF_ANY', 'BPF_NOEXIST', 'BPF_EXIST',
  'BPF_F_LOCK', 'FieldLayout', 'EventStats',
  // what the module imports, and builtins it names
  'annotations', 'enum', 'os', 'dataclass', 'field', 'Path', 'ClassVar', 'NoReturn', 'TypedDict', 'Any',
  'int', 'float', 'bool', 'str', 'bytes', 'list', 'dict', 'tuple', 'set', 'object', 'type', 'property', 'super',
  'None', 'Exception', 'BaseException', 'AttributeError', 'TypeError', 'ValueError', 'KeyError', 'OverflowError',
  'NotImplemented', 'Ellipsis', 'staticmethod', 'classmethod', 'isinstance', 'len', 'range', 'print', 'memoryview',
  'bytearray', 'getattr', 'setattr', 'hasattr', 'iter', 'next', 'repr', 'sorted', 'min', 'max',
];

/** Attributes of every generated struct class (the runtime's Struct) and names its class body uses. */
const RESERVED_STRUCT_MEMBERS = [
  'SIZE', 'ALIGN', 'FIELDS', 'from_bytes', 'to_bytes', 'pack_into', 'field', 'dataclass', 'int', 'float', 'bool',
  'str', 'bytes', 'list', 'None', 'ClassVar', 'enum', '_cb',
];

/** Members of the skeleton classes besides the sections. */
const RESERVED_SKELETON = ['object', 'maps', 'programs', 'attach', 'destroy', 'close', 'load'];

/** Enum members that would replace an Enum's own attributes. */
const RESERVED_ENUM = ['name', 'value', 'mro', '_cb'];

/** A C name as a Python identifier: illegal characters become `_`, a leading digit gets `_`. */
export function pyIdentifier(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_]/g, '_');
  if (s === '') s = '_';
  if (/^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

/**
 * A C member name as a Python attribute: `__x` would be name-mangled in a
 * class body, so leading underscores shrink to one; the reserved prefix
 * `_cb_` of generated internals becomes `cb_`.
 */
export function memberBase(name: string): string {
  let s = pyIdentifier(name);
  if (/^__+[^_]/.test(s) || /^__+$/.test(s)) s = `_${s.replace(/^_+/, '')}`;
  if (s === '_') s = '_';
  if (s.startsWith('_cb_')) s = s.slice(1);
  return s;
}

/** A scope of attribute names: Python keywords escaped (`class` → `class_`), names reserved. */
export function memberScope(reserved: Iterable<string> = []): NameScope {
  return new NameScope({ keywords: KEYWORDS.python, identifiers: false, escape: (n) => `${n}_`, reserved });
}

/** An enum member's name: as for members, and a `_sunder_` name (reserved by enum) loses its first underscore. */
export function enumMemberBase(name: string): string {
  let s = memberBase(name);
  if (/^_[^_].*[^_]_$|^_[^_]_$/.test(s)) s = s.slice(1);
  return s;
}

/** A Python string literal (double quotes; JSON's escapes are Python's too). */
export function pyStr(s: string): string {
  return JSON.stringify(s);
}

/** Text inside a triple-quoted docstring. */
export function docText(s: string): string {
  return s.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"');
}

/** Words wrapped into lines of at most `width` characters (a word longer than that stands alone). */
export function wrap(text: string, width: number): string[] {
  const out: string[] = [];
  let line = '';
  for (const w of text.split(/\s+/).filter((x) => x !== '')) {
    if (line && line.length + 1 + w.length > width) {
      out.push(line);
      line = w;
    } else line = line ? `${line} ${w}` : w;
  }
  if (line) out.push(line);
  return out.length ? out : [''];
}

const pyBool = (b: boolean): string => (b ? 'True' : 'False');

/** The Python module (and distribution) name of an object: lower case, an identifier. */
export function moduleName(objectName: string): string {
  let s = objectName.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (s === '') s = 'bpf_object';
  if (/^[0-9]/.test(s)) s = `bpf_${s}`;
  if (KEYWORDS.python.has(s) || ['coolbpf', 'test', 'tests'].includes(s)) s = `${s}_bpf`;
  return s;
}

function indent(lines: readonly string[], by = '    '): string[] {
  return lines.map((l) => (l === '' ? l : by + l));
}

/** A docstring at `pad`: one line when it fits, else the summary, a blank line and the rest. */
function docstring(lines: readonly string[], pad: string): string[] {
  const text = lines.map(docText);
  if (text.length === 1 && pad.length + 6 + text[0]!.length <= MAX_LINE) return [`${pad}"""${text[0]}"""`];
  const out = [`${pad}"""${text[0]}`];
  for (const l of text.slice(1)) out.push(l === '' ? '' : `${pad}${l}`);
  out.push(`${pad}"""`);
  return out;
}

/** Paragraphs (of words) as docstring lines wrapped for `pad`, a blank line between paragraphs. */
function paragraphs(paras: readonly string[], pad: string): string[] {
  const out: string[] = [];
  for (const p of paras) {
    if (out.length) out.push('');
    out.push(...wrap(p, MAX_LINE - pad.length));
  }
  return out;
}

export interface ModuleView {
  readonly header: string;
  readonly docLines: readonly string[];
  readonly imports: readonly string[];
  readonly all: readonly string[];
  readonly constants: readonly string[];
  /** top-level definitions, each a list of lines; printed two blank lines apart */
  readonly blocks: readonly (readonly string[])[];
}

export interface PackageView {
  readonly header: string;
  readonly module: string;
  readonly distribution: string;
  readonly version: string;
  readonly description: string;
}

export interface PythonView {
  readonly module: ModuleView;
  readonly pkg: PackageView;
  /** the Python name of each struct, union and enum that got one, by model key */
  readonly typeNames: ReadonlyMap<string, string>;
}

/** Python types, codec expressions and defaults of value plans; hoists codecs made once. */
class Py {
  readonly #hoisted = new Map<string, string>();
  #pending: { name: string; expr: string }[] = [];

  constructor(
    readonly plan: LayoutPlan,
    readonly typeName: (key: string) => string,
  ) {}

  /** Codec definitions hoisted since the last call, in order: to print before their first use. */
  flush(): string[] {
    const out = this.#pending.map((h) => `${h.name} = ${h.expr}`);
    this.#pending = [];
    return out;
  }

  #hoist(expr: string): string {
    let n = this.#hoisted.get(expr);
    if (!n) {
      n = `_cb_k${this.#hoisted.size + 1}`;
      this.#hoisted.set(expr, n);
      this.#pending.push({ name: n, expr });
    }
    return n;
  }

  type(v: ValuePlan): string {
    switch (v.kind) {
      case 'int':
      case 'pointer':
        return 'int';
      case 'bool': return 'bool';
      case 'float': return 'float';
      case 'enum': return `${this.typeName(v.key)} | int`;
      case 'string': return 'str';
      case 'opaque': return 'bytes';
      case 'struct':
      case 'union':
        return this.typeName(v.key);
      case 'array': {
        let t = isOctet(v.element) ? 'bytes' : this.type(v.element);
        const dims = isOctet(v.element) ? v.dims.length - 1 : v.dims.length;
        for (let i = 0; i < dims; i++) t = `list[${t}]`;
        return t;
      }
    }
  }

  codec(v: ValuePlan): string {
    switch (v.kind) {
      case 'int':
        if (v.size === 16) return `_cb_k.${v.signed ? 'i' : 'u'}128`;
        return `_cb_k.${v.signed ? 'i' : 'u'}${v.size * 8}`;
      case 'bool': return '_cb_k.boolean';
      case 'float': return v.size === 4 ? '_cb_k.f32' : '_cb_k.f64';
      case 'pointer': return '_cb_k.ptr';
      case 'enum':
        return this.#hoist(`_cb_k.enum(${this.typeName(v.key)}, ${v.size}, ${pyBool(v.signed)}, ${pyStr(v.c.replace(/\b(const|volatile)\s+/g, ''))})`);
      case 'string': return this.#hoist(`_cb_k.cstr(${v.size})`);
      case 'opaque': return this.#hoist(`_cb_k.octets(${v.size}, ${pyStr(v.c)})`);
      case 'struct':
      case 'union':
        return `_cb_${this.typeName(v.key)}`;
      case 'array': {
        const dims = [...v.dims];
        let e = isOctet(v.element) ? this.#hoist(`_cb_k.octets(${dims.pop()!})`) : this.codec(v.element);
        for (const d of dims.reverse()) e = this.#hoist(`_cb_k.array(${e}, [${d}])`);
        return e;
      }
    }
  }

  /** The default of a dataclass field of this value: C's zero. */
  default(v: ValuePlan): string {
    switch (v.kind) {
      case 'int':
      case 'pointer':
      case 'enum':
        return '0';
      case 'bool': return 'False';
      case 'float': return '0.0';
      case 'string': return '""';
      case 'opaque': return `bytes(${v.size})`;
      case 'struct':
      case 'union':
        return `field(default_factory=${this.typeName(v.key)})`;
      case 'array': {
        const dims = [...v.dims];
        let fill: string;
        if (isOctet(v.element)) fill = `bytes(${dims.pop()!})`;
        else if (v.element.kind === 'struct' || v.element.kind === 'union') {
          return `field(default_factory=_cb.array_of(${this.typeName(v.element.key)}, ${dims.join(', ')}))`;
        } else fill = this.default(v.element);
        if (dims.length === 0) return fill;
        const f = fill === '0' ? '' : `, fill=${fill}`;
        return `field(default_factory=_cb.zeros(${dims.join(', ')}${f}))`;
      }
    }
  }
}

function isOctet(v: ValuePlan): boolean {
  return v.kind === 'int' && v.size === 1 && !v.signed;
}

export function buildView(model: ObjectModel, options: PythonGenOptions, abiVersion: number): PythonView {
  const plan = planLayout(model);
  const top = NameScope.identifiers('python', RESERVED_TOP);
  const mod = moduleName(options.objectName);

  // The skeleton's names first: they are the API every object has.
  const base = pascalCase(options.objectName);
  const loadedClass = top.claim(base, 'Object');
  const openedClass = top.claim(`${loadedClass}Opened`);
  const mapsClass = top.claim(`${loadedClass}Maps`);
  const programsClass = top.claim(`${loadedClass}Programs`);
  const openedProgramsClass = top.claim(`${loadedClass}OpenedPrograms`);
  const autoloadDict = top.claim(`${loadedClass}Autoload`);

  // Section classes next, then C types: structs, unions, enums, named before anonymous.
  const exposed = model.dataSections.filter((s) => s.kind !== 'kconfig' && s.variables.some((v) => v.linkage === 'global'));
  const sectionNames = exposed.map((s) => {
    const cls = top.claim(pascalCase(s.name), 'Section');
    const ro = s.writable.afterLoad ? null : top.claim(`Readonly${cls}`);
    return { cls, ro, init: top.claim(`${cls}Init`) };
  });
  const typeNames = new Map<string, string>();
  for (const anonymous of [false, true]) {
    for (const kind of ['struct', 'union', 'enum'] as const) {
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
  const py = new Py(plan, typeName);
  const allTypeNames = [...typeNames.values()];

  const blocks: string[][] = [];
  const exported: string[] = [];
  const uses = new Set<string>();

  // Enums, then structs and unions (dependencies first), each with the codecs it needs before it.
  for (const t of plan.ordered) {
    if (t.kind !== 'enum') continue;
    within(`type '${t.c}'`, () => blocks.push(enumBlock(t, typeName(t.key))));
    exported.push(typeName(t.key));
    uses.add('enum');
  }
  for (const t of plan.ordered) {
    if (t.kind === 'enum') continue;
    within(`type '${t.c}'`, () => {
      const { cls, layout } = structBlocks(t, typeName(t.key), py, allTypeNames, uses);
      const hoisted = py.flush();
      if (hoisted.length) blocks.push(hoisted);
      blocks.push(cls, layout);
    });
    exported.push(typeName(t.key));
    uses.add('dataclass');
  }

  // Sections.
  const skeletonScope = memberScope(RESERVED_SKELETON);
  const sections = exposed.map((s, i) =>
    within(`section '${s.name}'`, () => sectionBlocks(s, sectionNames[i]!, skeletonScope.claim(memberBase(s.name.replace(/^\.+/, '')), '_section'), py, allTypeNames)),
  );
  for (const s of sections) {
    const hoisted = py.flush();
    if (hoisted.length) blocks.push(hoisted);
    blocks.push(...s.blocks);
    exported.push(s.names.cls, ...(s.names.ro ? [s.names.ro] : []), s.names.init);
    uses.add('TypedDict');
    if (s.names.ro) uses.add('NoReturn');
  }

  // Maps.
  const mapScope = memberScope(['_cb_object']);
  const maps = model.maps.map((m) => within(`map '${m.name}'`, () => mapView(m, model, mapScope.claim(memberBase(m.name), '_'), py)));
  const hoistedMaps = py.flush();
  if (hoistedMaps.length) blocks.push(hoistedMaps);
  blocks.push([
    `class ${mapsClass}:`,
    ...docstring([`The maps of ${options.objectFile}, made at load (event readers too, so that a perf`, 'buffer keeps what BPF sends before the first read).'], '    '),
    '',
    ...slots(maps.map((m) => m.attr)),
    '',
    '    def __init__(self, obj: _cb.BpfObject) -> None:',
    ...(maps.length ? maps.flatMap((m) => [...m.doc.map((d) => `        #: ${d}`), ...splitCall(`        self.${m.attr}: ${m.type} = `, m.make, '        ')]) : ['        pass']),
  ]);

  // Programs.
  const progScope = memberScope();
  const programs = model.programs.map((p) => within(`program '${p.name}'`, () => programView(p, progScope.claim(memberBase(p.name), '_'))));
  blocks.push([
    `class ${programsClass}:`,
    ...docstring([`The programs of ${options.objectFile} after load, with the attach calls their kind has.`], '    '),
    '',
    ...slots(programs.map((p) => p.attr)),
    '',
    '    def __init__(self, obj: _cb.BpfObject) -> None:',
    ...(programs.length ? programs.flatMap((p) => [...wrap(p.doc, MAX_LINE - 11).map((d) => `        #: ${d}`), ...splitCall(`        self.${p.attr}: ${p.type} = `, p.make, '        ')]) : ['        pass']),
  ]);
  blocks.push([
    `class ${openedProgramsClass}:`,
    ...docstring([`The programs of ${options.objectFile} before load: whether each one loads.`], '    '),
    '',
    ...slots(programs.map((p) => p.attr)),
    '',
    '    def __init__(self, obj: _cb.BpfObject) -> None:',
    ...(programs.length
      ? programs.flatMap((p) => splitCall(`        self.${p.attr} = `, `_cb.ProgramSetup(obj, ${pyStr(p.name)}, ${pyStr(p.section)}, ${pyBool(p.autoload)})`, '        '))
      : ['        pass']),
  ]);
  blocks.push([
    `class ${autoloadDict}(TypedDict, total=False):`,
    ...docstring(['Which programs load (SEC("?...") ones only when set here).'], '    '),
    ...(programs.length ? ['', ...programs.map((p) => `    ${p.attr}: bool`)] : []),
  ]);
  uses.add('TypedDict');

  // The skeleton.
  const secs = sections.map((s) => s);
  blocks.push([
    `class ${openedClass}:`,
    ...docstring([`${options.objectFile} opened: globals can be set and programs left out, until load().`], '    '),
    '',
    '    def __init__(self, obj: _cb.BpfObject) -> None:',
    '        #: the runtime object underneath',
    '        self.object = obj',
    ...secs.flatMap((s) => [
      `        #: ${s.section} before load: its initial values${s.beforeLoad ? ' (settable)' : ''}`,
      `        self.${s.attr} = ${s.names.cls}(obj.section(${pyStr(s.section)}), False)`,
    ]),
    `        self.programs = ${openedProgramsClass}(obj)`,
    '',
    `    def load(self) -> ${loadedClass}:`,
    '        """Loads every program and creates every map (the verifier runs here)."""',
    '        self.object.load()',
    `        return ${loadedClass}(self.object)`,
    '',
    '    def destroy(self) -> None:',
    '        """Unloads everything; idempotent."""',
    '        self.object.destroy()',
    '',
    '    close = destroy',
    '',
    `    def __enter__(self) -> ${openedClass}:`,
    '        return self',
    '',
    '    def __exit__(self, *exc: object) -> None:',
    '        self.object.destroy()',
  ]);
  blocks.push([
    `class ${loadedClass}:`,
    ...docstring([`${options.objectFile} loaded (and attached, when made by init()).`], '    '),
    '',
    '    def __init__(self, obj: _cb.BpfObject) -> None:',
    '        #: the runtime object underneath',
    '        self.object = obj',
    `        self.maps = ${mapsClass}(obj)`,
    ...secs.flatMap((s) => [
      `        #: ${s.section}, live: ${s.afterLoad ? 'reads and writes go to the kernel\'s copy' : 'read-only'}`,
      s.names.ro ? `        self.${s.attr} = ${s.names.ro}(obj.section(${pyStr(s.section)}))` : `        self.${s.attr} = ${s.names.cls}(obj.section(${pyStr(s.section)}), True)`,
    ]),
    `        self.programs = ${programsClass}(obj)`,
    '',
    '    def attach(self) -> None:',
    '        """Attaches every auto-attachable program (the ones whose SEC() names a target)."""',
    '        self.object.attach()',
    '',
    '    def destroy(self) -> None:',
    '        """Detaches and unloads everything; idempotent."""',
    '        self.object.destroy()',
    '',
    '    close = destroy',
    '',
    `    def __enter__(self) -> ${loadedClass}:`,
    '        return self',
    '',
    '    def __exit__(self, *exc: object) -> None:',
    '        self.object.destroy()',
  ]);
  exported.push(loadedClass, openedClass, mapsClass, programsClass, openedProgramsClass, autoloadDict);

  // bpf.so, open() and init().
  blocks.push([
    'def _cb_default_so() -> str:',
    '    here = Path(__file__).resolve().parent',
    '    for p in (here / "bpf.so", here.parent / "bpf.so"):',
    '        if p.exists():',
    '            return str(p)',
    '    return str(here / "bpf.so")',
  ]);
  blocks.push([
    'def _cb_library(so_path: str | os.PathLike[str] | None) -> _cb.Library:',
    '    """bpf.so: so_path, else $COOLBPF_BPF_SO, else the one in this package; checked for',
    '    the ABI version and the object SHA-256."""',
    '    path = so_path if so_path is not None else os.environ.get("COOLBPF_BPF_SO") or _cb_default_so()',
    '    return _cb.load_library(path, ABI_VERSION, OBJECT_SHA256)',
  ]);
  const perfMaps = model.maps.filter((m) => m.type === 'perf_event_array').map((m) => m.name);
  const sectionParams = secs.map((s) => `    ${s.attr}: ${s.names.init} | None = None,`);
  const params = [
    '    *,',
    '    so_path: str | os.PathLike[str] | None = None,',
    '    btf_path: str | None = None,',
    '    log_level: int = 0,',
    '    log_fd: int | None = None,',
    ...sectionParams,
    `    autoload: ${autoloadDict} | None = None,`,
    '    perf_pages: dict[str, int] | None = None,',
  ];
  const paramDoc = [
    '    so_path: the bpf.so to load (default: $COOLBPF_BPF_SO, else the one in this package).',
    '    btf_path: kernel BTF to use instead of /sys/kernel/btf/vmlinux.',
    '    log_level, log_fd: libbpf messages up to this level (0 warnings, 1 info, 2 debug) go to',
    '        this fd (default: nowhere; failures are in the errors).',
    ...secs.map((s) => `    ${s.attr}: initial values of ${s.section}'s globals, written before load.`),
    '    autoload: which programs load (SEC("?...") ones only when set here).',
    `    perf_pages: pages per CPU of a perf event array's reader, by map (a power of two;`,
    `        default 64)${perfMaps.length ? `: ${perfMaps.join(', ')}` : ' (this object has none)'}.`,
  ];
  const passArgs = ['so_path=so_path', 'btf_path=btf_path', 'log_level=log_level', 'log_fd=log_fd', ...secs.map((s) => `${s.attr}=${s.attr}`), 'autoload=autoload', 'perf_pages=perf_pages'];
  blocks.push([
    'def open(',
    ...params,
    `) -> ${openedClass}:`,
    `    """Opens ${docText(options.objectFile)} (nothing is loaded into the kernel yet), applies the`,
    '    initial values of globals and the autoload settings.',
    '',
    ...paramDoc,
    '    """',
    '    obj = _cb.BpfObject(_cb_library(so_path), btf_path, log_level, log_fd)',
    '    try:',
    `        opened = ${openedClass}(obj)`,
    ...secs.map((s) => `        _cb.apply(opened.${s.attr}, ${s.attr}, ${pyStr(s.section)})`),
    '        _cb.apply(opened.programs, autoload, "autoload")',
    `        obj.set_perf_pages(perf_pages, (${perfMaps.map(pyStr).join(', ')}${perfMaps.length === 1 ? ',' : ''}))`,
    '        return opened',
    '    except BaseException:',
    '        obj.destroy()',
    '        raise',
  ]);
  blocks.push([
    'def init(',
    ...params,
    `) -> ${loadedClass}:`,
    '    """open() + load() + attach(): on failure nothing stays loaded. The same options as',
    '    open()."""',
    `    opened = open(`,
    ...passArgs.map((a) => `        ${a},`),
    '    )',
    '    try:',
    '        loaded = opened.load()',
    '        loaded.attach()',
    '        return loaded',
    '    except BaseException:',
    '        opened.destroy()',
    '        raise',
  ]);
  exported.push('open', 'init');

  const reexports = ['BPF_ANY', 'BPF_EXIST', 'BPF_F_LOCK', 'BPF_NOEXIST', 'CoolbpfError', 'EventStats', 'FieldLayout', 'Link'];
  const all = ['ABI_VERSION', 'OBJECT_SHA256', ...reexports, ...exported].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));

  const imports = ['from __future__ import annotations', ''];
  if (uses.has('enum')) imports.push('import enum');
  imports.push('import os');
  if (uses.has('dataclass')) imports.push('from dataclasses import dataclass, field');
  imports.push('from pathlib import Path');
  const typing = ['NoReturn', 'TypedDict'].filter((n) => uses.has(n));
  if (typing.length) imports.push(`from typing import ${typing.join(', ')}`);
  imports.push('', 'from . import _coolbpf as _cb', 'from ._coolbpf import (', ...reexports.map((r) => `    ${r},`), ')');

  const header = headerLine(options, '#');
  const camel = mod;
  const module: ModuleView = {
    header,
    docLines: moduleDoc(options, model, mod, camel, loadedClass),
    imports,
    all,
    constants: [
      '#: SHA-256 of the BPF object this code was generated from; bpf.so must embed the same object.',
      `OBJECT_SHA256 = ${pyStr(options.sha256)}`,
      '#: The bpf.so ABI version this code speaks.',
      `ABI_VERSION = ${abiVersion}`,
      `#: codecs in the object's byte order (${plan.byteOrder}-endian)`,
      `_cb_k = _cb.Codecs(${pyStr(plan.byteOrder === 'little' ? '<' : '>')})`,
    ],
    blocks,
  };
  const pkg: PackageView = {
    header: headerText(options),
    module: mod,
    distribution: mod.replace(/_/g, '-'),
    version: options.version,
    description: `Typed Python wrapper of ${options.objectFile} (generated by coolbpf-gen ${options.version})`,
  };
  return { module, pkg, typeNames };
}

/** `__slots__ = (...)` of a class body, one name a line when they do not fit on one. */
function slots(names: readonly string[]): string[] {
  const one = `    __slots__ = (${names.map(pyStr).join(', ')}${names.length === 1 ? ',' : ''})`;
  if (one.length <= MAX_LINE) return [one];
  return ['    __slots__ = (', ...names.map((n) => `        ${pyStr(n)},`), '    )'];
}

/** `prefix + call`, split after its opening parenthesis when the line would be too long. */
function splitCall(prefix: string, call: string, pad: string): string[] {
  if (prefix.length + call.length <= MAX_LINE) return [prefix + call];
  const open = call.indexOf('(');
  if (open < 0 || !call.endsWith(')')) return [prefix + call];
  const args = splitArgs(call.slice(open + 1, -1));
  return [`${prefix}${call.slice(0, open + 1)}`, ...args.map((a) => `${pad}    ${a},`), `${pad})`];
}

/** Top-level arguments of an argument list (commas inside brackets and strings kept). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let str = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (str) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === '"') str = false;
      continue;
    }
    if (c === '"') str = true;
    else if ('([{'.includes(c)) depth++;
    else if (')]}'.includes(c)) depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim()) out.push(cur.trim());
  return out;
}

function moduleDoc(options: PythonGenOptions, model: ObjectModel, mod: string, local: string, cls: string): string[] {
  const hidden = model.dataSections
    .filter((s) => s.kind === 'kconfig' || !s.variables.some((v) => v.linkage === 'global'))
    .map((s) => `${s.name} (${s.kind === 'kconfig' ? 'externs libbpf fills in' : s.variables.length ? `static only: ${s.variables.map((v) => v.name).join(', ')}` : 'no variables'})`);
  const paras = [
    'Values: C integers are ints (exact to 128 bits, range-checked when written: OverflowError naming the field); pointers are int addresses (never dereferenced); `char[n]` is a str (UTF-8 up to the first NUL); arrays are lists (the innermost dimension of an unsigned 8-bit array is bytes); enums are IntEnum classes, and a field holds the member or, for a value the enum does not name, the int; bytes with no Python value type are bytes, with a comment saying why. Structs and unions are dataclasses with SIZE, ALIGN, FIELDS, from_bytes(), to_bytes() and pack_into(), laid out exactly as C does (encoding zeroes padding; a bitfield write changes only its own bits). Anonymous struct and union members are flattened as C11 reaches them (`s.lo`, not `s.<anon>.lo`).',
    'Unions: decoding fills every member (they share the bytes). Encoding takes the members that are not None: one is written as given; several (a decoded value) are written in declaration order and must all read back as given, else ValueError: to change a member of a decoded union, set the others to None.',
    `Globals (${cls}.rodata, .data, .bss, ...) are properties over the section's bytes: every read decodes a fresh copy, so assign whole values (\`bss.hist = [...]\`), not elements.`,
    ...(hidden.length ? [`Not exposed: ${hidden.join('; ')}.`] : []),
  ];
  return [
    `Typed wrapper of ${options.objectFile} (${model.object.byteOrder}-endian) over the coolbpf runtime in ._coolbpf.`,
    '',
    `    import ${mod}`,
    '',
    `    with ${mod}.init(rodata={...}) as skel:  # open + load + attach`,
    `        ...  # skel.maps, skel.bss, skel.programs`,
    `    # or: opened = ${mod}.open(); opened.rodata.x = ...; loaded = opened.load(); loaded.attach()`,
    '',
    ...paragraphs(paras, ''),
  ];
}

function enumBlock(t: EnumPlan, name: string): string[] {
  const scope = memberScope(RESERVED_ENUM);
  const values = t.values.map((v) => `    ${scope.claim(enumMemberBase(v.name), '_')} = ${v.value}`);
  return [
    `class ${name}(enum.IntEnum):`,
    ...docstring([`${t.c} (${t.size} bytes, ${t.signed ? 'signed' : 'unsigned'})`], '    '),
    ...(values.length ? ['', ...values] : []),
  ];
}

function fieldDoc(f: FieldPlan): string {
  const where = f.bits ? `${f.value.c} : ${f.bits.width}, at bit ${f.bits.bitOffset}` : `${f.value.c} at ${f.offset}`;
  const pointer = f.value.kind === 'pointer' ? ': an address, never dereferenced' : '';
  const note = f.note ? ` (${f.note})` : '';
  return `${where}${pointer}${note}`;
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
  return `anonymous union (${fieldsOf([o]).map((f) => f.name).join(', ')}) in ${t.c}`;
}

function structBlocks(t: StructPlan, name: string, py: Py, typeNames: readonly string[], uses: Set<string>): { cls: string[]; layout: string[] } {
  const scope = memberScope([...RESERVED_STRUCT_MEMBERS, ...typeNames]);
  const attrs = new Map<FieldPlan, string>();
  for (const f of t.fields) attrs.set(f, scope.claim(memberBase(f.name), '_'));
  const a = (f: FieldPlan): string => attrs.get(f)!;
  const inOverlay = new Set<FieldPlan>();
  const mark = (nodes: readonly NodePlan[], inside: boolean): void => {
    for (const n of nodes) {
      if (n.kind === 'field') {
        if (inside) inOverlay.add(n.field);
      } else for (const alt of n.alternatives) mark(alt.nodes, true);
    }
  };
  mark(t.body, false);

  const facts = [`${t.size} bytes`, `align ${t.align}`, ...(t.packed ? ['packed'] : []), ...padding(t)];
  const doc = [`${t.c} (${facts.join(', ')})`];
  const extra: string[] = [];
  if (t.kind === 'union') extra.push('A union: decoding gives every member; encoding takes the ones not None (see the module docstring).');
  for (const s of t.skipped) extra.push(`Not represented: ${s}.`);
  if (extra.length) doc.push('', ...paragraphs(extra, '    '));

  const body: string[] = [];
  for (const f of t.fields) {
    const v = f.value;
    if (f.bits) {
      const ty = v.kind === 'bool' ? 'bool' : v.kind === 'enum' ? py.type(v) : 'int';
      body.push(...wrap(fieldDoc(f), MAX_LINE - 7).map((l) => `    #: ${l}`));
      body.push(inOverlay.has(f) ? `    ${a(f)}: ${ty} | None = None` : `    ${a(f)}: ${ty} = ${v.kind === 'bool' ? 'False' : '0'}`);
      continue;
    }
    body.push(...wrap(fieldDoc(f), MAX_LINE - 7).map((l) => `    #: ${l}`));
    if (inOverlay.has(f)) body.push(`    ${a(f)}: ${py.type(v)} | None = None`);
    else {
      const d = py.default(v);
      if (d.startsWith('field(')) uses.add('field');
      const line = `    ${a(f)}: ${py.type(v)} = ${d}`;
      if (line.length <= MAX_LINE || !d.startsWith('field(')) body.push(line);
      else body.push(`    ${a(f)}: ${py.type(v)} = field(`, `        ${d.slice('field('.length, -1)}`, '    )');
    }
  }
  const cls = ['@dataclass(slots=True)', `class ${name}(_cb.Struct):`, ...docstring(doc, '    ')];
  if (body.length) cls.push('', ...body);

  // The layout, for the runtime to compile.
  const node = (n: NodePlan, pad: string): string[] => {
    if (n.kind === 'field') {
      const f = n.field;
      if (f.bits) {
        const b = f.bits;
        return [`${pad}_cb.bits(${pyStr(a(f))}, ${pyStr(f.cName)}, ${f.offset}, ${f.size}, ${b.shift}, ${b.width}, ${pyBool(b.signed)}, ${b.bitOffset}, ${py.codec(f.value)}),`];
      }
      const line = `${pad}_cb.field(${pyStr(a(f))}, ${pyStr(f.cName)}, ${f.offset}, ${py.codec(f.value)}),`;
      return [line];
    }
    const out = [`${pad}_cb.overlay(${n.offset}, ${n.size}, ${pyStr(overlayWhat(n, t))}, [`];
    for (const alt of n.alternatives) {
      out.push(`${pad}    [`);
      for (const m of alt.nodes) out.push(...node(m, `${pad}        `));
      out.push(`${pad}    ],`);
    }
    out.push(`${pad}]),`);
    return out;
  };
  const head = `_cb_${name} = _cb.layout(${name}, _cb_k, ${pyStr(t.c)}, ${t.size}, ${t.align}, [`;
  if (head.length <= MAX_LINE) {
    const items = t.body.flatMap((n) => node(n, '    '));
    return { cls, layout: items.length ? [head, ...items, '])'] : [`${head}])`] };
  }
  const items = t.body.flatMap((n) => node(n, '        '));
  const args = `    ${name}, _cb_k, ${pyStr(t.c)}, ${t.size}, ${t.align}, [`;
  return { cls, layout: [`_cb_${name} = _cb.layout(`, args, ...items, '    ],', ')'] };
}

interface SectionView {
  readonly section: string;
  readonly attr: string;
  readonly names: { cls: string; ro: string | null; init: string };
  readonly beforeLoad: boolean;
  readonly afterLoad: boolean;
  readonly blocks: string[][];
}

function sectionBlocks(s: DataSectionModel, names: { cls: string; ro: string | null; init: string }, attr: string, py: Py, typeNames: readonly string[]): SectionView {
  const scope = memberScope(['int', 'float', 'bool', 'str', 'bytes', 'list', 'None', 'value', ...typeNames]);
  const globals = s.variables.filter((v) => v.linkage === 'global');
  const statics = s.variables.filter((v) => v.linkage !== 'global').map((v) => v.name);
  const vars = globals.map((v) =>
    within(`global '${v.name}'`, () => {
      const value = py.plan.value(v.type);
      const note = value.kind === 'opaque' ? ` (bytes: ${value.reason})` : value.kind === 'pointer' ? ': an address, never dereferenced' : '';
      return { attr: scope.claim(memberBase(v.name), '_'), cName: v.name, type: py.type(value), codec: py.codec(value), offset: v.offset, doc: `${v.type.c} at ${v.offset}${note}` };
    }),
  );
  const when = [s.writable.beforeLoad ? 'settable before load' : 'not settable before load', s.writable.afterLoad ? 'writable after load' : 'read-only after load'];
  const text = [`${s.name} (${s.kind}, ${s.size} bytes): ${when.join(', ')}.`];
  const more = statics.length ? [`Not exposed (static, private to the object): ${statics.join(', ')}.`] : [];
  const doc = (extra: string[]) => docstring([...text, ...(more.length || extra.length ? ['', ...paragraphs([...more, ...extra], '    ')] : [])], '    ');

  const getter = (v: (typeof vars)[number]) => [
    '    @property',
    `    def ${v.attr}(self) -> ${v.type}:`,
    ...docstring([v.doc], '        '),
    `        return self._cb_s.get(${v.codec}, ${v.offset})`,
  ];
  const rw = [
    `class ${names.cls}:`,
    ...doc(['Before load, reads and writes go to the initial image; after load, to the live section.']),
    '',
    '    __slots__ = ("_cb_s", "_cb_loaded")',
    '',
    '    def __init__(self, section: _cb.Section, loaded: bool) -> None:',
    '        self._cb_s = section',
    '        self._cb_loaded = loaded',
    ...vars.flatMap((v) => [
      '',
      ...getter(v),
      '',
      `    @${v.attr}.setter`,
      `    def ${v.attr}(self, value: ${v.type}) -> None:`,
      ...splitCall('        ', `self._cb_s.set(${v.codec}, ${v.offset}, value, ${pyStr(v.cName)}, self._cb_loaded)`, '        '),
    ]),
  ];
  const blocks = [rw];
  if (names.ro) {
    blocks.push([
      `class ${names.ro}:`,
      ...doc([`After load: read-only (assigning raises AttributeError; mypy refuses it).`]),
      '',
      '    __slots__ = ("_cb_s",)',
      '    _cb_s: _cb.Section',
      '',
      '    def __init__(self, section: _cb.Section) -> None:',
      '        object.__setattr__(self, "_cb_s", section)',
      '',
      '    def __setattr__(self, name: str, value: object) -> NoReturn:',
      '        raise AttributeError(',
      `            f"{name}: ${s.name} is read-only after load (the kernel froze it); set it before"`,
      '            " load, through open() or init()"',
      '        )',
      ...vars.flatMap((v) => ['', ...getter(v)]),
    ]);
  }
  blocks.push([
    `class ${names.init}(TypedDict, total=False):`,
    ...docstring([`Initial values of ${s.name}'s globals, written before load.`], '    '),
    '',
    ...vars.map((v) => `    ${v.attr}: ${v.type}`),
  ]);
  return { section: s.name, attr, names, beforeLoad: s.writable.beforeLoad, afterLoad: s.writable.afterLoad, blocks };
}

interface MapView {
  readonly attr: string;
  readonly type: string;
  readonly make: string;
  readonly doc: readonly string[];
}

function mapView(m: MapModel, model: ObjectModel, attr: string, py: Py): MapView {
  const raw = `obj.map(${pyStr(m.name)})`;
  const facts = `${m.type}, ${m.maxEntries} entries${m.flagNames.length ? `, flags ${m.flagNames.join(' ')}` : ''}${m.pinning !== 'none' ? `, pinned ${m.pinning}` : ''}`;
  const docs = (s: string) => wrap(s, MAX_LINE - 11);
  if (m.type === 'ringbuf' || m.type === 'perf_event_array') {
    const ev = model.events.find((e) => e.map === m.name);
    if (ev) {
      const v = within('event type', () => py.plan.value(ev.type));
      const events = m.type === 'perf_event_array' ? `obj.events(${pyStr(m.name)}, obj.perf_pages.get(${pyStr(m.name)}, 0))` : `obj.events(${pyStr(m.name)})`;
      return { attr, type: `_cb.TypedEvents[${py.type(v)}]`, make: `_cb.TypedEvents(${events}, ${py.codec(v)})`, doc: docs(`${m.name}: ${facts}; records are ${ev.type.c}`) };
    }
    return {
      attr,
      type: '_cb.RawEvents',
      make: m.type === 'perf_event_array' ? `obj.events(${pyStr(m.name)}, obj.perf_pages.get(${pyStr(m.name)}, 0))` : `obj.events(${pyStr(m.name)})`,
      doc: docs(`${m.name}: ${facts}; the record type is unknown, so records are raw bytes (coolbpf-gen --event MAP=TYPE names it)`),
    };
  }
  const rawOnly = (why: string): MapView => ({ attr, type: '_cb.RawMap', make: raw, doc: docs(`${m.name}: ${facts}; ${why}`) });
  if (m.type === 'user_ringbuf') return rawOnly('a user ring buffer, written from user space: the runtime has no typed writer for it yet, so this is the raw map');
  if (m.type === 'struct_ops') return rawOnly('struct_ops maps are attached by the object, not read as key/value pairs');
  if (m.keySize === 0) return rawOnly(`a ${m.type} map has no keys, so it has no typed key/value view: the raw map`);
  const key = m.key ? within('key type', () => py.plan.value(m.key!)) : null;
  const value = m.value ? within('value type', () => py.plan.value(m.value!)) : null;
  const kc = key ? py.codec(key) : py.codec({ kind: 'opaque', c: `${m.keySize} bytes`, size: m.keySize, reason: '' });
  const vc = value ? py.codec(value) : py.codec({ kind: 'opaque', c: `${m.valueSize} bytes`, size: m.valueSize, reason: '' });
  const kt = key ? py.type(key) : 'bytes';
  const vt = value ? py.type(value) : 'bytes';
  const cls = m.perCpu ? 'PerCpuMap' : 'TypedMap';
  const lines = docs(`${m.name}: ${facts}; key ${m.key ? m.key.c : `${m.keySize} bytes`}, value ${m.value ? m.value.c : `${m.valueSize} bytes`}${m.perCpu ? ' (a list: one per possible CPU)' : ''}`);
  if (!m.key || !m.value) lines.push('(the object declares only sizes for what is bytes here)');
  if (m.inner) lines.push(...docs(`values are inner maps (${m.inner.type}): an fd to update, an id on lookup`));
  return { attr, type: `_cb.${cls}[${kt}, ${vt}]`, make: `_cb.${cls}(${raw}, ${kc}, ${vc})`, doc: lines };
}

interface ProgramView {
  readonly attr: string;
  readonly name: string;
  readonly section: string;
  readonly autoload: boolean;
  readonly type: string;
  readonly make: string;
  readonly doc: string;
}

function programView(p: ProgramModel, attr: string): ProgramView {
  const k = p.kind;
  const s = pyStr;
  const args = `obj, ${s(p.name)}, ${s(p.section)}`;
  const base = { attr, name: p.name, section: p.section, autoload: p.autoload };
  const what = k ? `${k.progType} program` : 'a program libbpf does not know the section of';
  const t = k?.target ?? null;
  const by = k?.autoAttach ? 'attached by attach() of the object' : k?.needs ? `needs a ${k.needs} target, which the runtime has no attach call for` : 'not attachable';
  const fam = k?.family ?? '';
  const mk = (cls: string, extra: string, d: string): ProgramView => ({ ...base, type: `_cb.${cls}`, make: `_cb.${cls}(${args}${extra})`, doc: `SEC("${p.section}"): ${d}` });
  if (fam === 'tracepoint') {
    const tt = t?.kind === 'tracepoint' ? t : null;
    return mk('TracepointProgram', `, ${tt ? `(${s(tt.category)}, ${s(tt.name)})` : 'None'}`, tt ? `tracepoint ${tt.category}/${tt.name}` : 'a tracepoint program; attach_tracepoint() names the tracepoint');
  }
  if (fam === 'raw_tracepoint' || fam === 'raw_tracepoint.w') {
    const tt = t?.kind === 'raw-tracepoint' ? t : null;
    return mk('RawTracepointProgram', `, ${tt ? s(tt.name) : 'None'}`, tt ? `raw tracepoint ${tt.name}` : 'a raw tracepoint program; attach_raw_tracepoint() names it');
  }
  if (fam === 'kprobe' || fam === 'kretprobe') {
    const tt = t?.kind === 'kernel-function' ? t : null;
    const ret = fam === 'kretprobe';
    return mk('KprobeProgram', `, ${pyBool(ret)}, ${tt ? `{"function": ${s(tt.name)}, "offset": ${tt.offset}}` : 'None'}`, `${fam} ${tt ? `of ${tt.name}${tt.offset ? `+${tt.offset}` : ''}` : '(attach_kprobe() names the function)'}`);
  }
  if (fam === 'uprobe' || fam === 'uretprobe') {
    const tt = t?.kind === 'user-function' ? t : null;
    const ret = fam === 'uretprobe';
    const target = tt ? `{"binary": ${s(tt.binary)}, "function": ${tt.function === null ? 'None' : s(tt.function)}, "offset": ${tt.offset}}` : 'None';
    return mk('UprobeProgram', `, ${pyBool(ret)}, ${target}`, `${fam} ${tt ? `of ${tt.binary}:${tt.function ?? ''}${tt.offset ? `+${tt.offset}` : ''}` : '(attach_uprobe() names the binary and function)'}`);
  }
  if (fam === 'xdp' || fam === 'xdp.frags') return mk('XdpProgram', '', 'an XDP program; attach_xdp() names the interface');
  if (fam === 'tc' || fam === 'tcx' || fam === 'classifier') {
    const m = /\/(ingress|egress)$/.exec(p.section);
    return mk('TcProgram', `, ${m ? s(m[1]!) : 'None'}`, `a ${fam} program; attach_tc() names the interface${m ? ` (direction ${m[1]})` : ' and direction'}`);
  }
  if (k?.needs === 'cgroup') return mk('CgroupProgram', '', `a ${what}; attach_cgroup() names the cgroup`);
  if (k?.needs === 'perf-event') return mk('PerfEventProgram', '', `a ${what}; attach_perf_event() takes the perf event`);
  return { ...base, type: '_cb.Program', make: `_cb.Program(${args})`, doc: `SEC("${p.section}"): ${what}, ${by}` };
}
