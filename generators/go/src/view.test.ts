/**
 * Names and shapes: Go's naming rules (exported names from C names, the
 * package name against keywords and predeclared identifiers, collisions
 * after casing), and a hand-built model full of hazards (C names that clash
 * with the generated API, with methods, with each other after casing;
 * nested anonymous unions; maps with no typed view). The output must be
 * gofmt's format and build and vet.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectModel } from '@coolbpf/model';
import { hostile } from '@coolbpf/gen-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { materialize } from './cases.testutil.js';
import { go, gofmtList, noGo } from './gotool.testutil.js';
import { generateGo, goExported, goModulePath, goPackageName } from './index.js';

describe('Go names', () => {
  it('exported names: words capitalized, all-capital words lower-cased after the first letter, mixed case kept', () => {
    expect(goExported('target_tgid')).toBe('TargetTgid');
    expect(goExported('GL_RED')).toBe('GlRed');
    expect(goExported('r_u8')).toBe('RU8');
    expect(goExported('myHTTP_x')).toBe('MyHTTPX');
    expect(goExported('lt_anon__anon1__anon2')).toBe('LtAnonAnon1Anon2');
    expect(goExported('.data.custom')).toBe('DataCustom');
    expect(goExported('__u8')).toBe('U8');
    expect(goExported('1st')).toBe('X1st');
    expect(goExported('_')).toBe('X');
  });

  it('package names: lower case letters and digits; keywords, predeclared identifiers, main and init escaped', () => {
    expect(goPackageName('hello')).toBe('hello');
    expect(goPackageName('My-Prog_2')).toBe('myprog2');
    expect(goPackageName('type')).toBe('type_');
    expect(goPackageName('func')).toBe('func_');
    expect(goPackageName('string')).toBe('string_');
    expect(goPackageName('len')).toBe('len_');
    expect(goPackageName('main')).toBe('main_');
    expect(goPackageName('init')).toBe('init_');
    expect(goPackageName('9lives')).toBe('bpf9lives');
    expect(goPackageName('__')).toBe('bpf');
    expect(goModulePath('My Prog')).toBe('coolbpf.local/my-prog');
    expect(goModulePath('...')).toBe('coolbpf.local/bpf-object');
  });
});

const { u32, u16, ref, member: m, struct: s, enum32, map, xdpProgram, tracepointProgram, nestTypes, untypedMaps, dataSection, hostileObject } = hostile;

const model: ObjectModel = hostileObject({
  programs: [xdpProgram('delete'), tracepointProgram('Delete')],
  maps: [
    map('options', 'hash', ref('struct', 'event'), ref('union', 'event'), 12, 4),
    map('Options', 'percpu_array', u32, ref('enum', 'event'), 4, 4, true),
    ...untypedMaps(),
  ],
  dataSections: [
    dataSection('.data', 'data', [['read', u32]]),
    dataSection('.data.my-sec', 'data', [['section', ref('struct', 'options')], ['update', ref('struct', 'error')]]),
    dataSection('.rodata', 'rodata', [['maps', u32]]),
    dataSection('.bss', 'bss', [['hidden', u32]], 'static'),
  ],
  types: [
    // fields that collide after casing, and with the methods every struct has
    s('struct', 'event', 12, [m('foo_bar', u32, 0, 4), m('fooBar', u16, 4, 2), m('marshal_binary', u16, 6, 2), m('type', u32, 8, 4)]),
    s('union', 'event', 4, [m('a', u32, 0, 4), m('b', u16, 0, 2)]),
    enum32('event', [['EVENT', '1'], ['default', '4294967295'], ['ALIAS', '1']]),
    s('struct', 'options', 4, [m('x', u32, 0, 4)]),
    s('struct', 'error', 4, [m('y', u32, 0, 4)]),
    s('struct', 'program', 4, [m('z', u32, 0, 4)]),
    // struct nest's inner members x and set_x: x's setter would be SetX
    ...nestTypes('x', 'set_x'),
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-go-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('names on a hostile model', () => {
  const files = generateGo(model, { objectName: 'type', objectFile: 'type.bpf.o', sha256: 'ab'.repeat(32), version: '9.9.9' });
  const types_ = files.get('types.go')!;
  const object = files.get('object.go')!;

  it('names the package after the object, escaping a keyword', () => {
    expect(types_).toMatch(/\npackage type_\n/);
    expect(files.get('go.mod')).toContain('module coolbpf.local/type\n');
    expect(object).toContain('"coolbpf.local/type/coolbpf"');
  });

  it('gives C types exported names, with kind suffixes on collisions, never the API\'s names', () => {
    expect(types_).toContain('type Event struct {'); // struct event
    expect(types_).toContain('type EventUnion struct {');
    expect(types_).toContain('type EventEnum uint32');
    expect(types_).toContain('type OptionsStruct struct {'); // Options is the API's
    expect(types_).toContain('type ErrorStruct struct {'); // Error too
    expect(types_).toContain('type Program struct {'); // no API name: stays
    expect(object).toContain('type Type struct {'); // the object's type
    expect(object).toContain('type TypeOpened struct {');
  });

  it('keeps fields apart after casing and from the methods, and enumerators apart from types', () => {
    expect(types_).toMatch(/\tFooBar uint32\n/);
    expect(types_).toMatch(/\tFooBar_2 uint16\n/);
    expect(types_).toMatch(/\tMarshalBinary_2 uint16\n/);
    expect(types_).toMatch(/\tType uint32\n/); // a keyword in C's lower case is fine capitalized
    expect(types_).toContain('const EventValue EventEnum = 1');
    expect(types_).toContain('const Default EventEnum = 4294967295');
    expect(types_).toContain('const Alias EventEnum = 1');
    // String names each value once (a duplicate case would not compile)
    expect(types_.match(/case EventValue:/g)).toHaveLength(1);
    expect(types_).not.toContain('case Alias:');
  });

  it('flattens nested anonymous unions into methods on the struct, setters renamed where they clash', () => {
    expect(types_).toContain('func (v Nest) Wide() uint64 {');
    expect(types_).toContain('func (v Nest) X() uint16 {');
    expect(types_).toContain('func (v Nest) SetX() uint16 {'); // the member set_x
    expect(types_).toContain('func (v *Nest) SetX_2(x uint16) {'); // x's setter
    expect(types_).toContain('func (v *Nest) SetSetX(x uint16) {');
    expect(types_).toContain('func (v Nest) Hb() [2]uint8 {');
  });

  it('gives sections, maps and programs member names away from the API\'s and each other', () => {
    expect(object).toContain('\tRead_2 uint32\n'); // .data's global read: Read is a method
    expect(object).toContain('\tSection_2 OptionsStruct\n');
    expect(object).toContain('\tUpdate_2 ErrorStruct\n');
    expect(object).toContain('\tMaps uint32\n'); // a global named maps: the object's Maps is another struct's field
    expect(object).toMatch(/\tOptions \*coolbpf\.Map\[Event, EventUnion\]\n/);
    expect(object).toMatch(/\tOptions_2 \*coolbpf\.PerCPUMap\[uint32, EventEnum\]\n/);
    expect(object).toMatch(/\tPerf \*coolbpf\.RawMap\n/);
    expect(object).toMatch(/\tQ \*coolbpf\.RawMap\n/);
    expect(object).toMatch(/\tRaw \*coolbpf\.Map\[\[3\]byte, \[5\]byte\]\n/);
    expect(object).toMatch(/\tDelete \*coolbpf\.XDPProgram\n/);
    expect(object).toMatch(/\tDelete_2 \*coolbpf\.TracepointProgram\n/);
    expect(object).toContain('\tDataMySec func(*DataMySec) error\n');
  });

  it.skipIf(noGo !== null)('is gofmt\'s format, and builds and vets', () => {
    const pkg = materialize(join(dir, 'hostile'), files);
    expect(gofmtList(pkg)).toEqual([]);
    const r = go(pkg, ['vet', './...']);
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
  });
});
