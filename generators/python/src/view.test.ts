/**
 * Naming and shapes on a hand-built model full of hazards (see
 * hostile.testutil.ts). python.test.ts also imports the result and runs
 * mypy --strict on it.
 */
import type { ObjectModel } from '@coolbpf/model';
import { describe, expect, it } from 'vitest';
import { hostileModel } from './hostile.testutil.js';
import { generatePython, memberBase, moduleName, pyIdentifier } from './index.js';
import { enumMemberBase, wrap } from './view.js';

describe('names on a hostile model', () => {
  const files = generatePython(hostileModel, { objectName: 'program', objectFile: 'program.bpf.o', sha256: 'ab'.repeat(32), version: '9.9.9' });
  const src = files.get('program/__init__.py')!;

  it('lays out the package: pyproject.toml, the build backend, the module, py.typed', () => {
    expect([...files.keys()]).toEqual(['pyproject.toml', '_coolbpf_build.py', 'program/__init__.py', 'program/py.typed']);
    expect(files.get('pyproject.toml')).toContain('name = "program"');
    expect(files.get('_coolbpf_build.py')).toContain('MODULE = "program"');
  });

  it('gives C types PascalCase names, with kind suffixes on collisions, never the module\'s own names', () => {
    expect(src).toContain('class Event(_cb.Struct):'); // struct event
    expect(src).toContain('class EventUnion(_cb.Struct):');
    expect(src).toContain('class EventEnum(enum.IntEnum):');
    expect(src).toContain('class Data:'); // the .data section's class…
    expect(src).toContain('class DataStruct(_cb.Struct):'); // …so struct data gets a suffix
    expect(src).toContain('class AnyStruct(_cb.Struct):'); // Any: a name the module could import
    expect(src).toContain('class PathStruct(_cb.Struct):'); // Path: imported from pathlib
    expect(src).toContain('class Program:'); // the skeleton
    expect(src).toContain('class ProgramOpened:');
    expect(src).toContain('class DataMySec:'); // .data.my-sec
  });

  it('escapes keywords and soft keywords, and renames what would shadow builtins, API names or be mangled', () => {
    for (const line of [
      '    class_: int = 0', '    type_: int = 0', '    match_: int = 0', '    int_: int = 0', '    bytes_: int = 0',
      '    _reserved: int = 0', '    cb_x: int = 0', '    from_bytes_: int = 0', '    SIZE_: int = 0', '    field_: int = 0',
      '    list_: int = 0', '    Event_: int = 0', '    _: int = 0',
    ]) expect(src).toContain(`\n${line}\n`);
    // the C names stay in the layout
    expect(src).toContain('_cb.field("class_", "class", 0, _cb_k.u32)');
    expect(src).toContain('_cb.field("_reserved", "__reserved", 16, _cb_k.u32)');
    // enum members Enum would take for itself
    for (const line of ['    name_ = 1', '    value_ = 2', '    _MAX = 3', '    X_ = 4', '    class_ = 5', '    None_ = 4294967295']) expect(src).toContain(`\n${line}\n`);
  });

  it('names maps, programs, sections and globals as attributes', () => {
    expect(src).toContain('self.class_: _cb.TypedMap[Event, EventUnion] = _cb.TypedMap(');
    expect(src).toContain('self._proto__: _cb.PerCpuMap[int, EventEnum | int] = _cb.PerCpuMap(');
    expect(src).toContain('self.cb_m: _cb.RawEvents = obj.events("_cb_m", obj.perf_pages.get("_cb_m", 0))');
    expect(src).toContain('self.q: _cb.RawMap = obj.map("q")');
    expect(src).toContain('self.raw: _cb.TypedMap[bytes, bytes] = _cb.TypedMap(obj.map("raw"), _cb_k');
    expect(src).toContain('self.delete: _cb.XdpProgram = _cb.XdpProgram(obj, "delete", "xdp")');
    expect(src).toContain('self.import_: _cb.TracepointProgram = _cb.TracepointProgram(\n            obj,\n            "import",');
    expect(src).toContain('self.import_ = _cb.ProgramSetup(obj, "import", "?tp/a/b", False)');
    expect(src).toContain('    def default(self) -> DataStruct:');
    expect(src).toContain('    def class_(self) -> AnyStruct:');
    expect(src).toContain('    def value_(self) -> int:'); // the setters' parameter is `value`
    expect(src).toContain('self._cb_s.set(_cb_k.u32, 8, value, "value", self._cb_loaded)');
    expect(src).toContain('self.data_my_sec = DataMySec(obj.section(".data.my-sec"), True)');
    expect(src).toContain('    data_my_sec: DataMySecInit | None = None,');
    expect(src).toContain('Not exposed: .bss (static only: hidden).');
  });

  it('flattens nested anonymous unions into overlays', () => {
    expect(src).toMatch(/class Nest\(_cb\.Struct\):[\s\S]*?tag: int = 0[\s\S]*?wide: int \| None = None[\s\S]*?lo: int \| None = None[\s\S]*?hi: int \| None = None[\s\S]*?hb: bytes \| None = None/);
    expect(src).toContain('_cb.overlay(8, 8, "anonymous union (wide, lo, hi, hb) in struct nest", [');
    expect(src).toContain('_cb.overlay(10, 2, "anonymous union (hi, hb) in struct nest", [');
  });

  it('names the module after the object', () => {
    expect(moduleName('My Prog!')).toBe('my_prog');
    expect(moduleName('___')).toBe('bpf_object');
    expect(moduleName('2fast')).toBe('bpf_2fast');
    expect(moduleName('class')).toBe('class_bpf');
    expect(moduleName('coolbpf')).toBe('coolbpf_bpf');
  });

  it('makes identifiers and attribute names', () => {
    expect(pyIdentifier('a.b-c$')).toBe('a_b_c_');
    expect(pyIdentifier('9x')).toBe('_9x');
    expect(memberBase('__x')).toBe('_x');
    expect(memberBase('___x__')).toBe('_x__');
    expect(memberBase('_cb_codec')).toBe('cb_codec');
    expect(memberBase('_x')).toBe('_x');
    expect(enumMemberBase('_X_')).toBe('X_');
    expect(enumMemberBase('__MAX_BPF_ATTACH_TYPE')).toBe('_MAX_BPF_ATTACH_TYPE');
    expect(wrap('a bb ccc dddd', 6)).toEqual(['a bb', 'ccc', 'dddd']);
  });
});

describe('errors', () => {
  it('names the map and type a model problem is in', () => {
    const bad: ObjectModel = { ...hostileModel, maps: [{ ...hostileModel.maps[0]!, name: 'counts', value: { kind: 'struct', c: 'struct gone', key: 'struct gone' } }] };
    expect(() => generatePython(bad, { objectName: 'x', objectFile: 'x.bpf.o', sha256: 'ab'.repeat(32), version: '1' })).toThrow("map 'counts': value type: the model declares no type 'struct gone'");
  });
});
