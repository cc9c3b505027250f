/**
 * The Rust view: everything the templates print, decided here. Names
 * (escaped, collision-free, deterministic), type spellings, the memory
 * layout of every struct and union (fields, explicit padding, bitfield and
 * union storage with accessors), and the code lines, already in rustfmt's
 * layout (see format.ts), all from the language-neutral layout plan of
 * @coolbpf/gen-core.
 *
 * Every generated struct and union is `#[repr(C)]` (`#[repr(C, packed)]`
 * for packed ones) with its C layout exactly: a field per member where Rust
 * has the type, explicit `cb_pad…` fields for padding, a byte array with
 * getter/setter methods where it does not (bitfields, union members), and
 * compile-time assertions of the size, alignment and every offset.
 */
import {
  GeneratorError,
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
import { array, assertOffset, call, cstr, docText, fnSig, ifLet, str } from './format.js';

export interface RustGenOptions {
  /** names the crate and the skeleton types: 'hello' → crate `hello`, type `Hello` */
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

/** The runtime's names the generated crate imports (and re-exports), and other names it uses at the top level. */
export const RUNTIME_IMPORTS = [
  'CBool', 'CharArray', 'Error', 'EventReader', 'Link', 'PerCpuMap', 'RawMap', 'ReadOnly', 'ReadWrite', 'Reflect', 'Result', 'StopToken',
  'TypedEvents', 'TypedMap', 'Value', 'BPF_ANY', 'BPF_EXIST', 'BPF_F_LOCK', 'BPF_NOEXIST',
] as const;

/** Names C types never get: the fixed API, the runtime's names in scope, the std prelude, and the type parameters generated code uses. */
const RESERVED_TOP = [
  ...RUNTIME_IMPORTS,
  'InitOptions', 'Autoload', 'PerfPages', 'OBJECT_SHA256', 'ABI_VERSION', 'EXPECTED', 'BPF_SO', 'TYPES', 'ENUMS', 'open', 'init', 'library',
  'Program', 'ProgramSetup', 'TracepointProgram', 'RawTracepointProgram', 'KprobeProgram', 'UprobeProgram', 'XdpProgram', 'TcProgram',
  'CgroupProgram', 'PerfEventProgram', 'UprobeTarget', 'TcDirection', 'Object', 'OpenOptions', 'Library', 'Section', 'Pod',
  // the std prelude and std/core/alloc
  'Option', 'Some', 'None', 'Ok', 'Err', 'Vec', 'String', 'Box', 'Default', 'Clone', 'Copy', 'Debug', 'PartialEq', 'Eq', 'PartialOrd',
  'Ord', 'Hash', 'Send', 'Sync', 'Sized', 'Unpin', 'Drop', 'Fn', 'FnMut', 'FnOnce', 'Iterator', 'IntoIterator', 'DoubleEndedIterator',
  'ExactSizeIterator', 'Extend', 'ToString', 'ToOwned', 'From', 'Into', 'TryFrom', 'TryInto', 'AsRef', 'AsMut', 'FromIterator',
  'std', 'core', 'alloc', 'coolbpf',
  // type parameters and aliases in generated items
  'A', 'T',
];

/** Methods of the skeleton types, fields of InitOptions besides the sections. */
const RESERVED_MEMBERS = ['object', 'maps', 'programs', 'attach', 'destroy', 'load', 'into_object', 'from_object', 'apply', 'new', 'so_path', 'open', 'autoload'];

/** Methods of section views besides the globals' getters and setters. */
const RESERVED_SECTION = ['new', 'to_value', 'set_value', 'section'];

const INDENT = 4;

/** A field or method name: a legal identifier, keywords as raw identifiers (`r#type`), the `cb_` prefix left to generated internals. */
function identScope(reserved: Iterable<string> = []): NameScope {
  return NameScope.identifiers('rust', reserved);
}

/** `r#type` → `type`: the name inside another name (`set_type`). */
function bare(ident: string): string {
  return ident.startsWith('r#') ? ident.slice(2) : ident;
}

/** snake_case of a name (`.data.custom` → `data_custom`). */
export function snakeCase(name: string): string {
  const s = name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .split(/[^A-Za-z0-9]+/)
    .filter((w) => w !== '')
    .join('_')
    .toLowerCase();
  return s === '' ? 'x' : s;
}

/** The crate's name: lower case, `_` for anything else; never a name Rust or cargo reserves. */
export function crateName(objectName: string): string {
  let n = objectName.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
  if (n === '') n = 'bpf_object';
  if (/^[0-9]/.test(n)) n = `bpf_${n}`;
  if (['coolbpf', 'std', 'core', 'alloc', 'proc_macro', 'test', 'self', 'crate', 'super', 'build'].includes(n) || /^(as|break|const|continue|else|enum|extern|false|fn|for|if|impl|in|let|loop|match|mod|move|mut|pub|ref|return|static|struct|trait|true|type|unsafe|use|where|while|async|await|dyn)$/.test(n)) {
    n = `${n}_object`;
  }
  return n;
}

// ---- views the templates print ---------------------------------------------------

export interface TypeView {
  readonly lines: readonly string[];
}

export interface SectionView {
  /** `.rodata` */
  readonly section: string;
  readonly sectionLit: string;
  /** the view type: `Rodata` */
  readonly type: string;
  /** the initial values struct: `RodataInit` */
  readonly initType: string;
  /** the skeletons' accessor and InitOptions' field: `rodata`, `data_custom` */
  readonly member: string;
  readonly docLines: readonly string[];
  readonly size: number;
  /** the view's struct, impls, and initial values struct */
  readonly lines: readonly string[];
  /** opened skeleton accessor: its return type and the runtime call */
  readonly openedAccess: string;
  readonly openedCall: string;
  readonly loadedAccess: string;
  readonly loadedCall: string;
  readonly beforeLoad: boolean;
  readonly afterLoad: boolean;
  /** lines of HelloOpened::apply() for this section */
  readonly applyLines: readonly string[];
}

export interface MemberView {
  readonly lines: readonly string[];
}

export interface LibView {
  readonly header: string;
  readonly crateDoc: readonly string[];
  readonly crate: string;
  readonly objectFile: string;
  readonly shaLit: string;
  readonly abiVersion: number;
  readonly bigEndian: boolean;
  readonly imports: string;
  readonly enums: readonly TypeView[];
  readonly structs: readonly TypeView[];
  readonly typesLines: readonly string[];
  readonly enumsLines: readonly string[];
  readonly sections: readonly SectionView[];
  readonly initOptionsLines: readonly string[];
  readonly autoloadLines: readonly string[];
  readonly applyProgramLines: readonly string[];
  readonly hasPrograms: boolean;
  readonly mapLines: readonly string[];
  readonly programLines: readonly string[];
  readonly openedProgramLines: readonly string[];
  readonly eagerReaderLines: readonly string[];
  readonly perfPagesLines: readonly string[];
  readonly loaded: string;
  readonly opened: string;
  readonly mapsType: string;
  readonly programsType: string;
  readonly openedProgramsType: string;
  readonly crateLit: string;
}

export interface CargoView {
  readonly header: string;
  readonly crate: string;
  readonly runtimePackage: string;
  /** its library's name: unique too, so that the outputs of several in one target directory do not collide */
  readonly runtimeLib: string;
  readonly description: string;
}

export interface RustView {
  readonly lib: LibView;
  readonly cargo: CargoView;
  /** the Rust name of each struct, union and enum that got one, by model key */
  readonly typeNames: ReadonlyMap<string, string>;
}

// ---- types --------------------------------------------------------------------------

/** Rust spellings and alignments of value plans. */
class Types {
  constructor(
    readonly plan: LayoutPlan,
    readonly typeName: (key: string) => string,
  ) {}

  type(v: ValuePlan): string {
    switch (v.kind) {
      case 'int': return `${v.signed ? 'i' : 'u'}${v.size * 8}`;
      case 'bool': return 'CBool';
      case 'float': return `f${v.size * 8}`;
      case 'pointer': return 'u64';
      case 'enum': return this.typeName(v.key);
      case 'string': return `CharArray<${v.size}>`;
      case 'opaque': return `[u8; ${v.size}]`;
      case 'struct': case 'union': return this.typeName(v.key);
      case 'array': {
        let t = this.type(v.element);
        for (const d of [...v.dims].reverse()) t = `[${t}; ${d}]`;
        return t;
      }
    }
  }

  /** What Rust aligns the type to (the generated structs' alignment equals C's by construction). */
  align(v: ValuePlan): number {
    switch (v.kind) {
      case 'int': case 'float': case 'enum': return v.size;
      case 'pointer': return 8;
      case 'bool': case 'string': case 'opaque': return 1;
      case 'array': return this.align(v.element);
      case 'struct': case 'union': return this.plan.struct(v.key).align;
    }
  }
}

/** The Rust integer type of an int or enum plan's storage. */
function intType(size: number, signed: boolean): string {
  return `${signed ? 'i' : 'u'}${size * 8}`;
}

/** `u64` marker array giving a struct an alignment no field gives it. */
function alignMarker(align: number): string {
  const t: Record<number, string> = { 2: 'u16', 4: 'u32', 8: 'u64', 16: 'u128' };
  const m = t[align];
  if (!m) throw new GeneratorError(`an alignment of ${align} bytes has no Rust marker type`);
  return `[${m}; 0]`;
}

function fieldDoc(f: FieldPlan, extra = ''): string {
  const where = f.bits ? `${f.value.c} : ${f.bits.width}, at bit ${f.bits.bitOffset}` : `${f.value.c} at ${f.offset}`;
  const pointer = f.value.kind === 'pointer' ? ': an address, never dereferenced' : '';
  const note = f.note ? ` (${f.note})` : '';
  return docText(`${where}${pointer}${note}${extra}`);
}

function padding(t: StructPlan): string[] {
  const n = t.padding.length;
  if (n === 0) return [];
  const bytes = t.padding.reduce((a, r) => a + r.size, 0);
  if (n > 4) return [`${bytes} bytes of padding in ${n} holes`];
  return [`padding ${t.padding.map((r) => (r.size === 1 ? `${r.offset}` : `${r.offset}..${r.offset + r.size - 1}`)).join(', ')}`];
}

type Item =
  | { readonly kind: 'field'; readonly offset: number; readonly size: number; readonly align: number; readonly f: FieldPlan; readonly ident: string; readonly ty: string }
  | { readonly kind: 'storage'; readonly offset: number; readonly size: number; readonly align: 1; readonly ident: string; readonly what: string; readonly fields: FieldPlan[] }
  | { readonly kind: 'pad'; readonly offset: number; readonly size: number; readonly align: 1; readonly ident: string };

interface Accessor {
  readonly f: FieldPlan;
  readonly storage: string;
  /** offset of the field's bytes within the storage array */
  readonly at: number;
  readonly getter: string;
  readonly setter: string;
  readonly ty: string;
  readonly doc: string;
}

function structLines(t: StructPlan, name: string, ty: Types, little: boolean): string[] {
  const fieldNames = identScope();
  const idents = new Map<FieldPlan, string>();
  for (const f of t.fields) idents.set(f, fieldNames.claim(f.name));
  const internal = new NameScope({ reserved: [...idents.values()] });
  let storageCount = 0;
  const storageName = (stem: string) => internal.claim(`cb_${stem}${++storageCount}`);

  // ---- items: direct fields, storage (bitfields, union bytes), padding ----
  const items: Item[] = [];
  const accessorsOf = new Map<FieldPlan, { storage: string; at: number }>();
  if (t.kind === 'union') {
    const ident = internal.claim('cb_bytes');
    const fields = [...t.fields];
    items.push({ kind: 'storage', offset: 0, size: t.size, align: 1, ident, what: `the union's bytes`, fields });
    for (const f of fields) accessorsOf.set(f, { storage: ident, at: f.offset });
  } else {
    let bits: { offset: number; end: number; fields: FieldPlan[] } | null = null;
    const closeBits = () => {
      if (!bits) return;
      const ident = storageName('bits');
      items.push({ kind: 'storage', offset: bits.offset, size: bits.end - bits.offset, align: 1, ident, what: `bitfields ${bits.fields.map((f) => f.name).join(', ')}`, fields: bits.fields });
      for (const f of bits.fields) accessorsOf.set(f, { storage: ident, at: f.offset - bits.offset });
      bits = null;
    };
    for (const n of t.body) {
      if (n.kind === 'field' && n.field.bits) {
        const f = n.field;
        if (bits && f.offset < bits.end) {
          bits.end = Math.max(bits.end, f.offset + f.size);
          bits.fields.push(f);
        } else {
          closeBits();
          bits = { offset: f.offset, end: f.offset + f.size, fields: [f] };
        }
        continue;
      }
      closeBits();
      if (n.kind === 'field') {
        const f = n.field;
        items.push({ kind: 'field', offset: f.offset, size: f.size, align: ty.align(f.value), f, ident: idents.get(f)!, ty: ty.type(f.value) });
      } else {
        const fields = fieldsOf([n]);
        const ident = storageName('union');
        items.push({ kind: 'storage', offset: n.offset, size: n.size, align: 1, ident, what: `the bytes of ${overlayWhat(n, t)}`, fields });
        for (const f of fields) accessorsOf.set(f, { storage: ident, at: f.offset - n.offset });
      }
    }
    closeBits();
  }
  items.sort((a, b) => a.offset - b.offset);
  // padding: every byte no item covers
  const laid: Item[] = [];
  let at = 0;
  let pads = 0;
  const pad = (offset: number, size: number) => laid.push({ kind: 'pad', offset, size, align: 1, ident: internal.claim(`cb_pad${++pads}`) });
  for (const it of items) {
    if (it.offset < at) throw new GeneratorError(`${t.c}: member bytes overlap at offset ${it.offset} (internal: the plan's fields cross)`);
    if (it.offset > at) pad(at, it.offset - at);
    laid.push(it);
    at = it.offset + it.size;
  }
  if (at > t.size) throw new GeneratorError(`${t.c}: members extend to byte ${at}, past its size ${t.size}`);
  if (at < t.size) pad(at, t.size - at);

  // ---- Rust's layout of these fields: packed, or repr(C) with an alignment marker ----
  const packed = t.packed;
  let off = 0;
  let maxAlign = 1;
  for (const it of laid) {
    const a = packed ? 1 : it.align;
    maxAlign = Math.max(maxAlign, a);
    off = Math.ceil(off / a) * a;
    if (off !== it.offset) throw new GeneratorError(`${t.c}: Rust would place '${it.kind === 'field' ? it.f.name : it.ident}' at ${off}, C has it at ${it.offset}`);
    off += it.size;
  }
  const marker = !packed && t.align > maxAlign ? alignMarker(t.align) : null;
  const markerIdent = marker ? internal.claim('cb_align') : null;

  // ---- accessors ----
  const methods = identScope(['to_value', 'from_value', 'default', 'new', 'clone', 'fmt', 'eq', 'ne']);
  const accessors: Accessor[] = [];
  for (const f of t.fields) {
    const a = accessorsOf.get(f);
    if (!a) continue;
    const getter = methods.claim(f.name);
    const setter = methods.claim(`set_${bare(getter)}`);
    const valueTy = f.bits ? bitType(f, ty) : ty.type(f.value);
    const inUnion = t.kind === 'union' ? '' : f.bits ? '' : ` (in ${overlayWhatOf(t, f)})`;
    accessors.push({ f, storage: a.storage, at: a.at, getter, setter, ty: valueTy, doc: fieldDoc(f, inUnion) });
  }

  // ---- the declaration ----
  const facts = [`${t.size} bytes`, `align ${t.align}`, ...(packed ? ['packed'] : []), ...padding(t)];
  const lines: string[] = [];
  lines.push('', `/// ${docText(t.c)} (${facts.join(', ')})`);
  if (t.kind === 'union') lines.push('///', '/// A union: its bytes, with a getter and a setter per member (they share the bytes).');
  if (accessors.length && t.kind !== 'union') lines.push('///', '/// Bitfields and members of anonymous unions are methods (`x.a()`, `x.set_a(v)`) over the bytes they share.');
  for (const s of t.skipped) lines.push(`/// Not represented: ${docText(s)}.`);
  lines.push(packed ? '#[repr(C, packed)]' : '#[repr(C)]', '#[derive(Clone, Copy, PartialEq)]', `pub struct ${name} {${marker || laid.length ? '' : '}'}`);
  if (marker) lines.push(`    /// alignment ${t.align}, as C aligns the type`, '    #[doc(hidden)]', `    pub ${markerIdent}: ${marker},`);
  for (const it of laid) {
    if (it.kind === 'field') {
      lines.push(`    /// ${fieldDoc(it.f)}${it.f.value.kind === 'opaque' ? ' (raw bytes)' : ''}`, `    pub ${it.ident}: ${it.ty},`);
    } else if (it.kind === 'storage') {
      lines.push(`    /// ${docText(it.what)} (${it.size} bytes at ${it.offset}): use the methods`, '    #[doc(hidden)]', `    pub ${it.ident}: [u8; ${it.size}],`);
    } else {
      lines.push(`    /// padding (${it.size} byte${it.size === 1 ? '' : 's'} at ${it.offset}): zero`, '    #[doc(hidden)]', `    pub ${it.ident}: [u8; ${it.size}],`);
    }
  }
  if (marker || laid.length) lines.push('}');

  // compile-time proof of the layout
  lines.push('', 'const _: () = {', `    use std::mem::{align_of, ${markerIdent || laid.length ? 'offset_of, ' : ''}size_of};`, `    type T = ${name};`);
  lines.push(`    assert!(size_of::<T>() == ${t.size});`, `    assert!(align_of::<T>() == ${packed ? 1 : t.align});`);
  if (markerIdent) lines.push(...assertOffset(INDENT, 'T', markerIdent, 0));
  for (const it of laid) lines.push(...assertOffset(INDENT, 'T', it.ident, it.offset));
  lines.push('};');

  lines.push('', `// SAFETY: repr(C) with every byte in a field (padding is explicit, see the assertions above),`, '// and every field plain data.');
  lines.push(`unsafe impl coolbpf::Pod for ${name} {}`);

  lines.push('', `impl Default for ${name} {`, '    fn default() -> Self {', '        coolbpf::pod::zeroed()', '    }', '}');

  // accessors
  if (accessors.length) {
    lines.push('', `impl ${name} {`);
    accessors.forEach((a, i) => {
      if (i > 0) lines.push('');
      lines.push(`    /// ${a.doc}`, ...fnSig(INDENT, `pub fn ${a.getter}`, ['&self'], a.ty));
      lines.push(...getterBody(a, little));
      lines.push('    }', '', ...fnSig(INDENT, `pub fn ${a.setter}`, ['&mut self', `v: ${a.ty}`], null));
      lines.push(...setterBody(a, little));
      lines.push('    }');
    });
    lines.push('}');
  }

  lines.push('', `impl std::fmt::Debug for ${name} {`, '    fn fmt(&self, f: &mut std::fmt::Formatter<\'_>) -> std::fmt::Result {', '        coolbpf::value::debug(self, f)', '    }', '}');

  // Reflect: to and from Value, through the typed fields and accessors
  const getterOf = new Map(accessors.map((a) => [a.f, a]));
  lines.push('', `impl coolbpf::Reflect for ${name} {`, '    fn to_value(&self) -> coolbpf::Value {');
  lines.push(`        let ${t.fields.length ? 'mut ' : ''}s = coolbpf::value::StructValue::new();`);
  for (const f of t.fields) {
    const a = getterOf.get(f);
    const expr = a ? `&self.${a.getter}()` : packed ? `&{ self.${idents.get(f)} }` : `&self.${idents.get(f)}`;
    lines.push(...call(8, 's.add', [str(f.name), expr], ';'));
  }
  lines.push('        s.finish()', '    }', '');
  lines.push('    fn from_value(v: &coolbpf::Value) -> coolbpf::Result<Self> {');
  const anyField = t.fields.length > 0;
  lines.push(`        let ${anyField ? 'mut ' : ''}f = coolbpf::value::Fields::new(v, ${str(t.c)})?;`);
  lines.push(`        let ${anyField ? 'mut ' : ''}x: Self = coolbpf::pod::zeroed();`);
  for (const f of t.fields) {
    const a = getterOf.get(f);
    lines.push(...ifLet(8, 'Some(v)', `f.take(${str(f.name)})?`));
    lines.push(a ? `            x.${a.setter}(v);` : `            x.${idents.get(f)} = v;`, '        }');
  }
  for (const o of topOverlays(t.body)) {
    const names = fieldsOf([o]).map((f) => f.name).join(' ');
    lines.push(...call(8, 'f.overlay', [str(overlayWhat(o, t)), str(names), '&coolbpf::Reflect::to_value(&x)'], '?;'));
  }
  lines.push('        f.finish()?;', '        Ok(x)', '    }', '}');

  // C layout
  lines.push('', `impl coolbpf::CType for ${name} {`, `    const C_NAME: &'static str = ${str(t.c)};`, '}');
  lines.push('', `impl coolbpf::CStruct for ${name} {`, '    const LAYOUT: coolbpf::TypeLayout = coolbpf::TypeLayout {');
  lines.push(`        c: ${str(t.c)},`, `        name: ${str(name)},`, `        size: ${t.size},`, `        align: ${t.align},`);
  const elems = t.fields.map((f) =>
    f.bits
      ? `coolbpf::bitfield(${str(f.name)}, ${f.offset}, ${f.size}, ${f.bits.bitOffset}, ${f.bits.width})`
      : `coolbpf::field(${str(f.name)}, ${f.offset}, ${f.size})`,
  );
  lines.push(...arrayOfElems(8, 'fields: &', elems, ','));
  lines.push('    };', '}');
  return lines;
}

/** An array whose elements may themselves be too long for a line (then formatted as calls). */
function arrayOfElems(indent: number, head: string, elems: readonly string[], tail: string): string[] {
  const one = array(indent, head, elems, tail);
  if (one.length === 1) return one;
  const out = [one[0]!];
  for (const e of elems) {
    const m = /^([^(]*)\((.*)\)$/.exec(e);
    if (m && `${' '.repeat(indent + 4)}${e},`.length > 100) out.push(...call(indent + 4, m[1]!, splitArgs(m[2]!), ','));
    else out.push(`${' '.repeat(indent + 4)}${e},`);
  }
  out.push(one[one.length - 1]!);
  return out;
}

/** Splits `"a, b", 1, 2` at top-level commas (outside strings and brackets). */
function splitArgs(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let inStr = false;
  let cur = '';
  for (let i = 0; i < s.length; i++) {
    const c = s[i]!;
    if (inStr) {
      cur += c;
      if (c === '\\') cur += s[++i] ?? '';
      else if (c === '"') inStr = false;
      continue;
    }
    if (c === '"') inStr = true;
    if (c === '(' || c === '[' || c === '{') depth++;
    if (c === ')' || c === ']' || c === '}') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
      continue;
    }
    cur += c;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

function topOverlays(nodes: readonly NodePlan[]): OverlayPlan[] {
  return nodes.filter((n): n is OverlayPlan => n.kind === 'overlay');
}

function overlayWhat(o: OverlayPlan, t: StructPlan): string {
  if (o.c === t.c) return t.c;
  const names = fieldsOf([o]).map((f) => f.name);
  return `anonymous union (${names.join(', ')}) in ${t.c}`;
}

function overlayWhatOf(t: StructPlan, f: FieldPlan): string {
  const find = (nodes: readonly NodePlan[]): OverlayPlan | null => {
    for (const n of nodes) if (n.kind === 'overlay' && fieldsOf([n]).includes(f)) return n;
    return null;
  };
  const o = find(t.body);
  return o ? `the anonymous union (${fieldsOf([o]).map((x) => x.name).join(', ')})` : 'a union';
}

/** The type a bitfield's accessors take and give. */
function bitType(f: FieldPlan, ty: Types): string {
  const v = f.value;
  if (v.kind === 'bool') return 'bool';
  if (v.kind === 'enum') return ty.type(v);
  if (v.kind === 'int') return intType(v.size, v.signed);
  throw new GeneratorError(`a bitfield of ${v.c}`);
}

function getterBody(a: Accessor, little: boolean): string[] {
  const f = a.f;
  if (!f.bits) return call(8, 'coolbpf::pod::read_at', [`&self.${a.storage}`, String(a.at)]);
  if (f.bits.width > 64) throw new GeneratorError(`member '${f.name}': a bitfield of ${f.bits.width} bits (more than 64) has no accessor`);
  const signed = f.bits.signed;
  const args = [`&self.${a.storage}`, String(a.at), String(f.size), String(f.bits.shift), String(f.bits.width), String(little)];
  const fn = signed ? 'coolbpf::pod::get_bits_signed' : 'coolbpf::pod::get_bits';
  const raw = signed ? 'i64' : 'u64';
  const v = f.value;
  if (v.kind === 'bool') return call(8, fn, args, ' != 0');
  const inner = v.kind === 'enum' || v.kind === 'int' ? intType(v.size, v.signed) : raw;
  const cast = inner === raw ? '' : ` as ${inner}`;
  if (v.kind === 'enum') return [...call(8, `let x = ${fn}`, args, `${cast};`), `        ${a.ty}(x)`];
  return call(8, fn, args, cast);
}

function setterBody(a: Accessor, little: boolean): string[] {
  const f = a.f;
  if (!f.bits) return call(8, 'coolbpf::pod::write_at', [`&mut self.${a.storage}`, String(a.at), 'v'], ';');
  const v = f.value;
  let x: string;
  if (v.kind === 'bool') x = 'u64::from(v)';
  else if (v.kind === 'enum') x = v.size === 8 && !v.signed ? 'v.0' : 'v.0 as u64';
  else if (v.kind === 'int') x = v.size === 8 && !v.signed ? 'v' : 'v as u64';
  else throw new GeneratorError(`a bitfield of ${v.c}`);
  const args = [`&mut self.${a.storage}`, String(a.at), String(f.size), String(f.bits!.shift), String(f.bits!.width), String(little), x];
  return call(8, 'coolbpf::pod::set_bits', args, ';');
}

function enumLines(t: EnumPlan, name: string): string[] {
  const repr = intType(t.size, t.signed);
  const consts = identScope(['name']);
  const lines: string[] = [];
  lines.push('', `/// ${docText(t.c)} (${t.size} bytes, ${t.signed ? 'signed' : 'unsigned'}): its values are associated constants; it`);
  lines.push('/// holds any other value C lets the enum hold too.');
  lines.push('#[repr(transparent)]', '#[derive(Clone, Copy, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]', `pub struct ${name}(pub ${repr});`);
  const named = t.values.map((v) => ({ c: v.name, ident: consts.claim(v.name), value: v.value }));
  lines.push('', `impl ${name} {`);
  for (const v of named) lines.push(`    pub const ${v.ident}: ${name} = ${name}(${v.value});`);
  if (named.length) lines.push('');
  lines.push('    /// The name of the value, if it is one of the enum\'s.', '    pub fn name(self) -> Option<&\'static str> {');
  const seen = new Set<bigint>();
  const arms = named.filter((v) => (seen.has(v.value) ? false : (seen.add(v.value), true)));
  if (arms.length === 0) {
    lines.push('        let _ = self;', '        None');
  } else {
    lines.push('        match self.0 {');
    for (const v of arms) lines.push(`            ${v.value} => Some(${str(v.c)}),`);
    lines.push('            _ => None,', '        }');
  }
  lines.push('    }', '}');
  lines.push('', `impl std::fmt::Debug for ${name} {`, '    fn fmt(&self, f: &mut std::fmt::Formatter<\'_>) -> std::fmt::Result {');
  lines.push('        match self.name() {', '            Some(n) => f.write_str(n),', `            None => write!(f, ${str(`${name}({})`)}, self.0),`, '        }', '    }', '}');
  lines.push('', '// SAFETY: a transparent integer.', `unsafe impl coolbpf::Pod for ${name} {}`);
  lines.push('', `impl coolbpf::Reflect for ${name} {`, '    fn to_value(&self) -> coolbpf::Value {', '        coolbpf::Reflect::to_value(&self.0)', '    }', '');
  lines.push('    fn from_value(v: &coolbpf::Value) -> coolbpf::Result<Self> {');
  lines.push(`        let x = coolbpf::value::enum_from_value::<Self, ${repr}>(v)?;`, `        Ok(${name}(x))`);
  lines.push('    }', '}');
  lines.push('', `impl coolbpf::CType for ${name} {`, `    const C_NAME: &'static str = ${str(t.c)};`, '}');
  lines.push('', `impl coolbpf::CEnum for ${name} {`, '    const LAYOUT: coolbpf::EnumLayout = coolbpf::EnumLayout {');
  lines.push(`        c: ${str(t.c)},`, `        name: ${str(name)},`, `        size: ${t.size},`, `        signed: ${t.signed},`);
  lines.push(...arrayOfElems(8, 'values: &', named.map((v) => `(${str(v.c)}, ${v.value})`), ','));
  lines.push('    };', '}');
  return lines;
}

// ---- sections -------------------------------------------------------------------------

function sectionView(s: DataSectionModel, type: string, initType: string, member: string, ty: Types): SectionView {
  const scope = identScope(RESERVED_SECTION);
  const fieldScope = identScope();
  const globals = s.variables.filter((v) => v.linkage === 'global');
  const statics = s.variables.filter((v) => v.linkage !== 'global').map((v) => v.name);
  const vars = globals.map((v) =>
    within(`global '${v.name}'`, () => {
      const value = ty.plan.value(v.type);
      const getter = scope.claim(v.name);
      const setter = scope.claim(`set_${bare(getter)}`);
      const note = value.kind === 'opaque' ? ` (raw bytes: ${value.reason})` : value.kind === 'pointer' ? ': an address, never dereferenced' : '';
      return { name: v.name, getter, setter, field: fieldScope.claim(v.name), ty: ty.type(value), offset: v.offset, doc: docText(`${v.type.c} at ${v.offset}${note}`) };
    }),
  );
  const when = [s.writable.beforeLoad ? 'settable before load' : 'not settable before load', s.writable.afterLoad ? 'writable after load' : 'read-only after load'];
  const docLines = [`${s.name} (${s.kind}, ${s.size} bytes): ${when.join(', ')}.`];
  if (statics.length) docLines.push(`Not exposed (static, private to the object): ${statics.join(', ')}.`);
  const end = Math.max(0, ...globals.map((v) => v.offset + v.size));

  const lines: string[] = [''];
  for (const d of docLines) lines.push(`/// ${docText(d)}`);
  lines.push('///', '/// A live view: every getter reads the section\'s memory (volatile), every setter writes it.');
  lines.push(`pub struct ${type}<'a, A = ReadOnly> {`, '    s: coolbpf::Section<\'a, A>,', '}');
  lines.push('', `impl<'a, A> ${type}<'a, A> {`);
  lines.push(`    /// The view of the section's bytes; \`EMISMATCH\` when it is smaller than this code expects (${end} bytes).`);
  lines.push(`    pub fn new(s: coolbpf::Section<'a, A>) -> Result<Self> {`);
  lines.push(`        let s = s.expect_len(${end})?;`, `        Ok(${type} { s })`, '    }');
  for (const v of vars) {
    lines.push('', `    /// ${v.doc}`, ...fnSig(INDENT, `pub fn ${v.getter}`, ['&self'], v.ty), `        self.s.get(${v.offset})`, '    }');
  }
  lines.push('', '    /// Every global, as a `Value`.', '    pub fn to_value(&self) -> Value {');
  lines.push(`        let ${vars.length ? 'mut ' : ''}s = coolbpf::value::StructValue::new();`);
  for (const v of vars) lines.push(...call(8, 's.add', [str(v.name), `&self.${v.getter}()`], ';'));
  lines.push('        s.finish()', '    }', '}');
  lines.push('', `impl ${type}<'_, ReadWrite> {`);
  for (const v of vars) {
    lines.push(`    /// ${v.doc}`, ...fnSig(INDENT, `pub fn ${v.setter}`, ['&self', `v: ${v.ty}`], null), `        self.s.set(${v.offset}, v);`, '    }', '');
  }
  lines.push('    /// Sets the globals a `Value` gives (`EINVAL` for one the section does not have).', '    pub fn set_value(&self, v: &Value) -> Result<()> {');
  lines.push(`        let ${vars.length ? 'mut ' : ''}f = coolbpf::value::Fields::new(v, ${str(s.name)})?;`);
  for (const v of vars) lines.push(...ifLet(8, 'Some(v)', `f.take(${str(v.name)})?`), `            self.${v.setter}(v);`, '        }');
  lines.push('        f.finish()', '    }', '}');

  lines.push('', `/// Initial values of ${s.name}'s globals, written before load (None: the object's own).`);
  lines.push('#[derive(Clone, Debug, Default)]', `pub struct ${initType} {`);
  for (const v of vars) lines.push(`    /// ${v.doc}`, `    pub ${v.field}: Option<${v.ty}>,`);
  lines.push('}');

  const applyLines: string[] = [];
  if (vars.length) {
    applyLines.push(`        let s = self.${member}()?;`);
    for (const v of vars) applyLines.push(...ifLet(8, 'Some(v)', `o.${member}.${v.field}`), `            s.${v.setter}(v);`, '        }');
  }
  const openedMode = s.writable.beforeLoad ? 'ReadWrite' : 'ReadOnly';
  const loadedMode = s.writable.afterLoad ? 'ReadWrite' : 'ReadOnly';
  return {
    section: s.name,
    sectionLit: str(s.name),
    type,
    initType,
    member,
    docLines,
    size: s.size,
    lines,
    openedAccess: `Result<${type}<'_, ${openedMode}>>`,
    openedCall: `${type}::new(self.object.${s.writable.beforeLoad ? 'section_mut' : 'section'}(${str(s.name)})?)`,
    loadedAccess: `Result<${type}<'_, ${loadedMode}>>`,
    loadedCall: `${type}::new(self.object.${s.writable.afterLoad ? 'section_mut' : 'section'}(${str(s.name)})?)`,
    beforeLoad: s.writable.beforeLoad,
    afterLoad: s.writable.afterLoad,
    applyLines: s.writable.beforeLoad ? applyLines : [],
  };
}

// ---- maps and programs -------------------------------------------------------------------

function mapLines(m: MapModel, model: ObjectModel, method: string, ty: Types): string[] {
  const facts = `${m.type}, ${m.maxEntries} entries${m.flagNames.length ? `, flags ${m.flagNames.join(' ')}` : ''}${m.pinning !== 'none' ? `, pinned ${m.pinning}` : ''}`;
  const out = (doc: string[], ret: string, body: string[]): string[] => [
    '',
    ...doc.map((d) => `    /// ${docText(d)}`),
    ...fnSig(INDENT, `pub fn ${method}`, ['&self'], `Result<${ret}>`),
    ...body,
    '    }',
  ];
  if (m.type === 'ringbuf' || m.type === 'perf_event_array') {
    const ev = model.events.find((e) => e.map === m.name);
    if (ev) {
      const v = within('event type', () => ty.plan.value(ev.type));
      return out([`${m.name}: ${facts}; records are ${ev.type.c}`], `TypedEvents<'a, ${ty.type(v)}>`, call(8, 'TypedEvents::of', ['self.o', str(m.name)]));
    }
    return out(
      [`${m.name}: ${facts}; the record type is unknown, so this is the reader of raw records`, '(`coolbpf-gen --event MAP=TYPE` or `COOLBPF_EVENT(map, type)` names it)'],
      "&'a EventReader",
      call(8, 'self.o.events', [str(m.name)]),
    );
  }
  const raw = (why: string) => out([`${m.name}: ${facts}; ${why}`], "RawMap<'a>", call(8, 'RawMap::of', ['self.o', cstr(m.name)]));
  if (m.type === 'user_ringbuf') return raw('a user ring buffer, written from user space: the runtime has no typed writer for it yet, so this is the raw map');
  if (m.type === 'struct_ops') return raw('struct_ops maps are attached by the object, not read as key/value pairs');
  if (m.keySize === 0) return raw(`a ${m.type} map has no keys, so it has no typed key/value view: the raw map`);
  const key = m.key ? within('key type', () => ty.plan.value(m.key!)) : null;
  const value = m.value ? within('value type', () => ty.plan.value(m.value!)) : null;
  const kt = key ? ty.type(key) : `[u8; ${m.keySize}]`;
  const vt = value ? ty.type(value) : `[u8; ${m.valueSize}]`;
  const cls = m.perCpu ? 'PerCpuMap' : 'TypedMap';
  const doc = [`${m.name}: ${facts}; key ${m.key ? m.key.c : `${m.keySize} bytes`}, value ${m.value ? m.value.c : `${m.valueSize} bytes`}${m.perCpu ? ' (one per possible CPU)' : ''}`];
  if (!m.key || !m.value) doc.push('(the object declares only sizes for what is a byte array here)');
  if (m.inner) doc.push(`values are inner maps (${m.inner.type}): an fd to update, an id on lookup`);
  return out(doc, `${cls}<'a, ${kt}, ${vt}>`, call(8, `${cls}::of`, ['self.o', cstr(m.name)]));
}

function programLines(p: ProgramModel, method: string): string[] {
  const k = p.kind;
  const t = k?.target ?? null;
  const fam = k?.family ?? '';
  const base = ['self.o', str(p.name), str(p.section)];
  const out = (ret: string, doc: string, ctor: string, args: string[]): string[] => [
    '',
    `    /// SEC(${str(p.section)}): ${docText(doc)}`,
    ...fnSig(INDENT, `pub fn ${method}`, ['&self'], `coolbpf::${ret}<'a>`),
    ...call(8, `coolbpf::${ret}::${ctor}`, args),
    '    }',
  ];
  const what = k ? `${k.progType} program` : 'a program libbpf does not know the section of';
  if (fam === 'tracepoint') {
    if (t?.kind === 'tracepoint') return out('TracepointProgram', `tracepoint ${t.category}/${t.name}`, 'with_target', [...base, str(t.category), str(t.name)]);
    return out('TracepointProgram', 'a tracepoint program; attach_tracepoint() names the tracepoint', 'of', base);
  }
  if (fam === 'raw_tracepoint' || fam === 'raw_tracepoint.w') {
    if (t?.kind === 'raw-tracepoint') return out('RawTracepointProgram', `raw tracepoint ${t.name}`, 'with_target', [...base, str(t.name)]);
    return out('RawTracepointProgram', 'a raw tracepoint program; attach_raw_tracepoint() names it', 'of', base);
  }
  if (fam === 'kprobe' || fam === 'kretprobe') {
    const ret = String(fam === 'kretprobe');
    if (t?.kind === 'kernel-function') return out('KprobeProgram', `${fam} of ${t.name}${t.offset ? `+${t.offset}` : ''}`, 'with_target', [...base, ret, str(t.name), String(t.offset)]);
    return out('KprobeProgram', `${fam} (attach_kprobe() names the function)`, 'of', [...base, ret]);
  }
  if (fam === 'uprobe' || fam === 'uretprobe') {
    const ret = String(fam === 'uretprobe');
    if (t?.kind === 'user-function') {
      const fnArg = t.function === null ? 'None' : `Some(${str(t.function)})`;
      return out('UprobeProgram', `${fam} of ${t.binary}:${t.function ?? ''}${t.offset ? `+${t.offset}` : ''}`, 'with_target', [...base, ret, str(t.binary), fnArg, String(t.offset)]);
    }
    return out('UprobeProgram', `${fam} (attach_uprobe() names the binary and function)`, 'of', [...base, ret]);
  }
  if (fam === 'xdp' || fam === 'xdp.frags') return out('XdpProgram', 'an XDP program; attach_xdp() names the interface', 'of', base);
  if (fam === 'tc' || fam === 'tcx' || fam === 'classifier') {
    const m = /\/(ingress|egress)$/.exec(p.section);
    const dir = m ? `Some(coolbpf::TcDirection::${m[1] === 'ingress' ? 'Ingress' : 'Egress'})` : 'None';
    return out('TcProgram', `a ${fam} program; attach_tc() names the interface${m ? ` (direction ${m[1]})` : ' and direction'}`, 'of', [...base, dir]);
  }
  if (k?.needs === 'cgroup') return out('CgroupProgram', `a ${what}; attach_cgroup() names the cgroup`, 'of', base);
  if (k?.needs === 'perf-event') return out('PerfEventProgram', `a ${what}; attach_perf_event() takes the perf event`, 'of', base);
  const by = k?.autoAttach ? 'attached by attach() of the object' : k?.needs ? `needs a ${k.needs} target, which the runtime has no attach call for` : 'not attachable';
  return out('Program', `${what}, ${by}`, 'new', base);
}

function crateDoc(options: RustGenOptions, model: ObjectModel, crate: string, loaded: string, sections: readonly SectionView[]): string[] {
  const hidden = model.dataSections
    .filter((s) => s.kind === 'kconfig' || !s.variables.some((v) => v.linkage === 'global'))
    .map((s) => `${s.name} (${s.kind === 'kconfig' ? 'externs libbpf fills in' : s.variables.length ? `static only: ${s.variables.map((v) => v.name).join(', ')}` : 'no variables'})`);
  const first = sections.find((s) => s.beforeLoad);
  const lines = [
    `Typed wrapper of ${options.objectFile} (${model.object.byteOrder}-endian) over the coolbpf runtime (\`./coolbpf\`).`,
    '',
    '```no_run',
    `# fn main() -> ${crate}::Result<()> {`,
    `let mut obj = ${crate}::init(&${crate}::InitOptions::default())?; // open + load + attach`,
    `// or: let opened = ${crate}::open(&options)?; …; let obj = opened.load()?; obj.attach()?;`,
    ...(first ? [`let globals = obj.${first.member}()?; // live view of ${first.section}`, 'drop(globals);'] : []),
    'obj.destroy(); // or drop it',
    '# Ok(())',
    '# }',
    '```',
    '',
    `\`${loaded}\` owns the loaded object: its maps (\`maps()\`), programs (\`programs()\`) and data`,
    'sections (`rodata()`, `bss()`, …) borrow it, so it cannot be destroyed while they are in use;',
    'after `destroy()` every call is `EDESTROYED`.',
    '',
    'Types: every struct and union has its C layout exactly (`#[repr(C)]`, or `#[repr(C, packed)]`),',
    'checked at compile time; padding is explicit (`cb_pad…` fields, zero in `Default`); bitfields',
    'and members of unions are getter/setter methods over the bytes they share; `_Bool` is',
    '`CBool`, `char[n]` is `CharArray<n>` (`as_str()`), enums are integer newtypes with the values',
    'as constants (C lets an enum hold any value); pointers are `u64` addresses; bytes with no',
    'value type are `[u8; n]` with a comment saying why. Every type is plain data (`coolbpf::Pod`)',
    'and converts to and from a `coolbpf::Value` (`Reflect`).',
    '',
    'bpf.so: `InitOptions::so_path`, else `$COOLBPF_BPF_SO`, else the copy embedded in this crate',
    '(`include_bytes!("../bpf.so")`, loaded through a memfd); checked against `OBJECT_SHA256` and',
    '`ABI_VERSION` (`EMISMATCH` naming both).',
  ];
  if (hidden.length) lines.push('', docText(`Not exposed: ${hidden.join('; ')}.`));
  return lines;
}

// ---- the whole crate ----------------------------------------------------------------------------

export function buildView(model: ObjectModel, options: RustGenOptions, abiVersion: number): RustView {
  const plan = planLayout(model);
  const crate = crateName(options.objectName);
  const top = NameScope.identifiers('rust', RESERVED_TOP);

  const base = pascalCase(options.objectName);
  const loaded = top.claim(base, 'Object');
  const opened = top.claim(`${loaded}Opened`);
  const mapsType = top.claim(`${loaded}Maps`);
  const programsType = top.claim(`${loaded}Programs`);
  const openedProgramsType = top.claim(`${loaded}OpenedPrograms`);

  const exposed = model.dataSections.filter((s) => s.kind !== 'kconfig' && s.variables.some((v) => v.linkage === 'global'));
  const sectionTypes = exposed.map((s) => top.claim(pascalCase(s.name), 'Section'));
  const initTypes = sectionTypes.map((t) => top.claim(`${t}Init`));

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
  const ty = new Types(plan, typeName);
  const little = plan.byteOrder === 'little';

  const enums: TypeView[] = [];
  const structs: TypeView[] = [];
  for (const t of plan.ordered) {
    within(`type '${t.c}'`, () => {
      if (t.kind === 'enum') enums.push({ lines: enumLines(t, typeName(t.key)) });
      else structs.push({ lines: structLines(t, typeName(t.key), ty, little) });
    });
  }
  const structNames = plan.ordered.filter((t) => t.kind !== 'enum').map((t) => `<${typeName(t.key)} as coolbpf::CStruct>::LAYOUT`);
  const enumNames = plan.ordered.filter((t) => t.kind === 'enum').map((t) => `<${typeName(t.key)} as coolbpf::CEnum>::LAYOUT`);

  const members = identScope(RESERVED_MEMBERS);
  const sections = exposed.map((s, i) =>
    within(`section '${s.name}'`, () => sectionView(s, sectionTypes[i]!, initTypes[i]!, members.claim(snakeCase(s.name)), ty)),
  );

  const mapScope = identScope(['new']);
  const mapLinesAll = model.maps.flatMap((m) => within(`map '${m.name}'`, () => mapLines(m, model, mapScope.claim(m.name), ty)));
  const progScope = identScope(['new']);
  const progNames = model.programs.map((p) => progScope.claim(p.name));
  const programLinesAll = model.programs.flatMap((p, i) => within(`program '${p.name}'`, () => programLines(p, progNames[i]!)));
  const openedProgramLines = model.programs.flatMap((p, i) => [
    '',
    `    /// SEC(${str(p.section)})${p.autoload ? '' : ': not loaded unless set_autoload(true)'}`,
    ...fnSig(INDENT, `pub fn ${progNames[i]}`, ['&self'], "coolbpf::ProgramSetup<'a>"),
    ...call(8, 'coolbpf::ProgramSetup::new', ['self.o', str(p.name), str(p.section), String(p.autoload)]),
    '    }',
  ]);
  const autoloadScope = identScope();
  const autoloadFields = model.programs.map((p) => autoloadScope.claim(p.name));
  const autoloadLines = model.programs.flatMap((p, i) => [`    /// ${p.name}: SEC(${str(p.section)})${p.autoload ? '' : ', off unless set'}`, `    pub ${autoloadFields[i]}: Option<bool>,`]);
  const applyProgramLines = model.programs.flatMap((p, i) => [
    ...ifLet(8, 'Some(on)', `o.autoload.${autoloadFields[i]}`),
    `            programs.${progNames[i]}().set_autoload(on)?;`,
    '        }',
  ]);

  const perfScope = identScope();
  const perfMaps = model.maps.filter((m) => m.type === 'perf_event_array').map((m) => ({ m, field: perfScope.claim(m.name) }));
  const eagerReaderLines = perfMaps.flatMap(({ m, field }) => call(8, 'object.events_with', [str(m.name), `pages.${field}.unwrap_or(0)`], '?;'));
  const perfPagesLines = perfMaps.flatMap(({ m, field }) => [`    /// ${m.name}: pages per CPU (a power of two; None: 64)`, `    pub ${field}: Option<usize>,`]);

  const initOptionsLines: string[] = [];
  for (const s of sections) initOptionsLines.push(`    /// initial values of ${s.section}'s globals, written before load`, `    pub ${s.member}: ${s.initType},`);

  const imports = `pub use coolbpf::{\n    ${wrapWords([...RUNTIME_IMPORTS].sort(rustSort), 4)}\n};`;

  const header = headerLine(options);
  const lib: LibView = {
    header,
    crateDoc: crateDoc(options, model, crate, loaded, sections),
    crate,
    crateLit: str(crate),
    objectFile: options.objectFile,
    shaLit: str(options.sha256),
    abiVersion,
    bigEndian: !little,
    imports,
    enums,
    structs,
    typesLines: arrayOfElems(0, 'pub const TYPES: &[coolbpf::TypeLayout] = &', structNames, ';'),
    enumsLines: arrayOfElems(0, 'pub const ENUMS: &[coolbpf::EnumLayout] = &', enumNames, ';'),
    sections,
    initOptionsLines,
    autoloadLines,
    applyProgramLines,
    hasPrograms: model.programs.length > 0,
    mapLines: mapLinesAll,
    programLines: programLinesAll,
    openedProgramLines,
    eagerReaderLines,
    perfPagesLines,
    loaded,
    opened,
    mapsType,
    programsType,
    openedProgramsType,
  };
  const cargo: CargoView = {
    header: headerText(options),
    crate,
    runtimePackage: `coolbpf-for-${crate.replace(/_/g, '-')}`,
    runtimeLib: `coolbpf_for_${crate}`,
    description: `Typed Rust wrapper of ${options.objectFile} (generated by coolbpf-gen ${options.version})`,
  };
  return { lib, cargo, typeNames };
}

/** rustfmt's order of names in a `use` list: case-sensitive ASCII, upper case first ("version sorting"). */
function rustSort(a: string, b: string): number {
  const caps = (x: string) => (/^[A-Z0-9_]+$/.test(x) && /[A-Z]{2}/.test(x) ? 1 : 0);
  if (caps(a) !== caps(b)) return caps(a) - caps(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Words joined with ", " and wrapped at 100 columns (a `use` list as rustfmt lays it out). */
function wrapWords(words: readonly string[], indent: number): string {
  const lines: string[] = [];
  let cur = '';
  for (const w of words) {
    const next = cur === '' ? `${w},` : `${cur} ${w},`;
    if (indent + next.length > 100 && cur !== '') {
      lines.push(cur);
      cur = `${w},`;
    } else cur = next;
  }
  if (cur) lines.push(cur);
  return lines.join(`\n${' '.repeat(indent)}`);
}
