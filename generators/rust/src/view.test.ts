/** Names and shapes on a hostile model (its crate is also compiled, warnings denied, in cargo.test.ts). */
import { describe, expect, it } from 'vitest';
import { HOSTILE } from './hostile.testutil.js';
import { crateName, generateRust, snakeCase } from './index.js';
import { call, fnSig, array } from './format.js';

describe('helpers', () => {
  it('snake_case and crate names', () => {
    expect(snakeCase('.data.custom')).toBe('data_custom');
    expect(snakeCase('.rodata')).toBe('rodata');
    expect(snakeCase('.data.my-sec')).toBe('data_my_sec');
    expect(snakeCase('myHTTPThing')).toBe('my_httpthing');
    expect(crateName('hello')).toBe('hello');
    expect(crateName('My-Prog.v2')).toBe('my_prog_v2');
    expect(crateName('2fast')).toBe('bpf_2fast');
    expect(crateName('coolbpf')).toBe('coolbpf_object');
    expect(crateName('std')).toBe('std_object');
    expect(crateName('type')).toBe('type_object');
  });

  it('lays out calls, arrays and signatures as rustfmt does', () => {
    expect(call(8, 'f', ['a', 'b'], ';')).toEqual(['        f(a, b);']);
    const long = [`"${'x'.repeat(30)}"`, 'y'.repeat(30)];
    expect(call(8, 'f', long, ';')).toEqual(['        f(', `            ${long[0]},`, `            ${long[1]},`, '        );']);
    expect(array(0, 'x = &', ['1', '2'], ';')).toEqual(['x = &[1, 2];']);
    expect(fnSig(4, 'pub fn x', ['&self'], 'u32')).toEqual(['    pub fn x(&self) -> u32 {']);
    const ret = `Result<TypedMap<'a, ${'A'.repeat(40)}, ${'B'.repeat(30)}>>`;
    expect(fnSig(4, 'pub fn x', ['&self'], ret)).toEqual(['    pub fn x(', '        &self,', `    ) -> ${ret} {`]);
  });
});

describe('names on a hostile model', () => {
  const files = generateRust(HOSTILE, { objectName: 'program', objectFile: 'program.bpf.o', sha256: 'ab'.repeat(32), version: '9.9.9' });
  const src = files.get('src/lib.rs')!;

  it('gives C types PascalCase names, with kind suffixes on collisions, never the API, runtime or prelude names', () => {
    expect(src).toContain('pub struct Event {'); // struct event
    expect(src).toContain('pub struct EventUnion {');
    expect(src).toContain('pub struct EventEnum(pub u32);');
    expect(src).toContain('pub struct OptionStruct {'); // not std's Option
    expect(src).toContain('pub struct ResultStruct {'); // not coolbpf's Result
    expect(src).toContain('pub struct Self_ {'); // Self cannot be a raw identifier
    expect(src).toContain('pub struct ProgramObject {'); // the object is called program: Program is the runtime's
    expect(src).toContain('pub struct ProgramObjectOpened {');
    expect(src).not.toContain('pub struct Option {');
  });

  it('keeps C names of fields, escaping keywords as raw identifiers and the cb_ prefix', () => {
    expect(src).toContain('    pub r#type: u32,');
    expect(src).toContain('    pub self_: u16,'); // self cannot be raw
    expect(src).toContain('    pub _cb_x: u16,');
    expect(src).toMatch(/s\.add\("type", &self\.r#type\);/);
    expect(src).toContain('f.take("cb_x")?');
  });

  it('bitfield accessors: getters and setters that would collide get other names', () => {
    expect(src).toContain('pub fn a(&self) -> u32 {');
    expect(src).toContain('pub fn set_a(&mut self, v: u32) {');
    expect(src).toContain('pub fn set_a_2(&self) -> u32 {');
    expect(src).toContain('pub fn r#match(&self) -> u32 {');
    expect(src).toContain('pub fn set_match(&mut self, v: u32) {');
  });

  it('enums: constants named as C names them (a clash with name() and Self renamed), duplicates kept, matched once', () => {
    expect(src).toContain('pub const name_2: EventEnum = EventEnum(1);');
    expect(src).toContain('pub const Self_: EventEnum = EventEnum(4294967295);');
    expect(src).toContain('pub const ALIAS: EventEnum = EventEnum(1);');
    expect(src.match(/ {12}1 => Some\("name"\),/g)).toHaveLength(1);
    expect(src).not.toContain('1 => Some("ALIAS")');
  });

  it('sections, maps and programs: methods named after C names, escaped, never the views\' own', () => {
    expect(src).toContain('pub struct DataMySec<');
    expect(src).toContain('pub fn data_my_sec(&self)');
    expect(src).toContain('pub fn new_2(&self) -> OptionStruct {'); // a global called new
    expect(src).toContain('pub fn to_value_2(&self) -> ResultStruct {');
    expect(src).toContain('pub fn r#loop(&self) -> u32 {');
    expect(src).toContain('pub fn set_loop(&self, v: u32) {');
    expect(src).toContain("pub fn r#type(&self) -> Result<TypedMap<'a, Event, EventUnion>> {");
    expect(src).toContain("pub fn new_2(&self) -> Result<PerCpuMap<'a, u32, EventEnum>> {");
    expect(src).toContain("pub fn raw(&self) -> Result<TypedMap<'a, [u8; 3], [u8; 5]>> {");
    expect(src).toContain("pub fn q(&self) -> Result<RawMap<'a>> {");
    expect(src).toContain("pub fn perf(&self) -> Result<&'a EventReader> {");
    expect(src).toContain("pub fn r#fn(&self) -> coolbpf::XdpProgram<'a> {");
    expect(src).toContain('        object.events_with("perf", pages.perf.unwrap_or(0))?;'); // perf buffers are read from load on
    expect(src).toContain('Some("malloc"),');
  });

  it('nested anonymous unions flatten into accessors over one byte array, checked when several members are given', () => {
    expect(src).toMatch(/pub fn wide\(&self\) -> u64 \{\n {8}coolbpf::pod::read_at\(&self\.cb_union1, 0\)/);
    expect(src).toMatch(/pub fn hb\(&self\) -> \[u8; 2\] \{\n {8}coolbpf::pod::read_at\(&self\.cb_union1, 2\)/);
    expect(src).toContain('"anonymous union (wide, lo, hi, hb) in struct nest",');
    expect(src).toContain('    pub cb_align: [u64; 0],');
  });
});
