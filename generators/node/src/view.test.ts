/**
 * Naming and shapes on a hand-built model full of hazards: C names that are
 * JavaScript keywords or clash with the generated API, with each other after
 * PascalCase, with Object.prototype; nested anonymous unions; maps with no
 * typed view. The output must compile (generateNode type-checks it) and be
 * usable.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ObjectModel } from '@coolbpf/model';
import { hostile } from '@coolbpf/gen-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { importPackage, materialize } from './cases.testutil.js';
import { generateNode, GeneratedCodeError, packageName } from './index.js';

const { u32, u16, ref, member: m, struct: s, enum32, map, xdpProgram, tracepointProgram, nestTypes, untypedMaps, dataSection, hostileObject } = hostile;

const model: ObjectModel = hostileObject({
  programs: [xdpProgram('delete'), tracepointProgram('constructor')],
  maps: [
    map('constructor', 'hash', ref('struct', 'event'), ref('union', 'event'), 8, 4),
    map('__proto__', 'percpu_array', u32, ref('enum', 'event'), 4, 4, true),
    ...untypedMaps(),
  ],
  dataSections: [
    dataSection('.data', 'data', [['x', u32]]),
    dataSection('.data.my-sec', 'data', [['default', ref('struct', 'data')], ['constructor', ref('struct', 'map')]]),
    dataSection('.bss', 'bss', [['hidden', u32]], 'static'),
  ],
  types: [
    s('struct', 'event', 8, [m('class', u32, 0, 4), m('__proto__', u16, 4, 2), m('constructor', u16, 6, 2)]),
    s('union', 'event', 4, [m('a', u32, 0, 4), m('b', u16, 0, 2)]),
    enum32('event', [['__proto__', '1'], ['default', '4294967295']]),
    s('struct', 'data', 4, [m('x', u32, 0, 4)]),
    s('struct', 'map', 4, [m('y', u32, 0, 4)]),
    ...nestTypes(),
  ],
});

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-node-view-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('names on a hostile model', () => {
  const files = generateNode(model, { objectName: 'program', objectFile: 'program.bpf.o', sha256: 'ab'.repeat(32), version: '9.9.9' });
  const src = files.get('src/index.ts')!;

  it('gives C types PascalCase names, with kind suffixes on collisions, never the API names', () => {
    expect(src).toContain('export interface Event {'); // struct event
    expect(src).toContain('export type EventUnion = $rt.Union<');
    expect(src).toContain('export const EventEnum = {');
    expect(src).toContain('export interface Data {'); // the .data section's interface…
    expect(src).toContain('export interface DataStruct {'); // …so struct data gets a suffix
    expect(src).toContain('export interface MapStruct {'); // Map is a global the code uses
    expect(src).toContain('export class ProgramObject extends $rt.LoadedSkeleton {'); // Program is a runtime class the package re-exports
    expect(src).toContain('export class ProgramObjectOpened extends $rt.OpenedSkeleton<ProgramObject> {');
    expect(src).toContain('export interface ProgramObjectMaps {');
    expect(src).toContain('export interface DataMySec {'); // .data.my-sec
  });

  it('keeps C member names, escaping only what objects and classes cannot hold', () => {
    expect(src).toMatch(/\n {2}class: number;\n/);
    expect(src).toMatch(/\n {2}__proto___: number;\n/);
    expect(src).toMatch(/\n {2}constructor_: number;\n/);
    expect(src).toContain('  __proto___: 1,\n  default: 4294967295,\n} as const;');
    expect(src).toContain('  constructor_: MapStruct;\n');
    expect(src).toContain('  constructor_: [MapStruct, 4],\n');
    expect(src).toContain('  default: [DataStruct, 0],\n');
    expect(src).toContain('readonly __proto___: $rt.PerCpuMap<number, EventEnum>;');
    expect(src).toContain('readonly delete: $rt.XdpProgram;');
    expect(src).toContain("  constructor_: $rt.tracepointProgram('constructor', '?tp/a/b', ['a', 'b']),\n");
    expect(src).toContain('  dataMySec?: Partial<DataMySec>;');
    expect(src).toContain('Not exposed'); // nothing from .bss: no interface for it, no member
    expect(src).not.toContain('interface Bss');
  });

  it('types maps with no typed view as raw, and sizes-only maps as bytes', () => {
    expect(src).toContain('readonly perf: $rt.RawEvents;');
    expect(src).toContain("  perf: $rt.rawEventMap('perf', 'perf_event_array'),\n");
    expect(src).toContain('perf: perf_event_array, 1 CPU slot; the record type is unknown');
    expect(src).toContain('    perf?: number;\n'); // InitOptions.perfPages
    expect(src).toContain('readonly q: $rt.RawMap;');
    expect(src).toContain('readonly raw: $rt.TypedMap<Uint8Array, Uint8Array>;');
    expect(src).toContain('readonly constructor_: $rt.TypedMap<Event, EventUnion>;');
  });

  it('names the package after the object', () => {
    expect(JSON.parse(files.get('package.json')!).name).toBe('program');
    expect(packageName('My Prog!')).toBe('my-prog');
    expect(packageName('___')).toBe('bpf-object');
  });

  it('flattens nested anonymous unions into overlays that round-trip', async () => {
    const mod = await importPackage(materialize(join(dir, 'hostile'), files, 'js'));
    const Nest = mod.Nest as { size: number; decode(v: DataView, o: number): any; encode(v: DataView, o: number, x: unknown): void; fields: Record<string, unknown> };
    expect(Object.keys(Nest.fields)).toEqual(['tag', 'wide', 'lo', 'hi', 'hb']);
    const b = new DataView(new ArrayBuffer(16));
    Nest.encode(b, 0, { tag: 1, lo: 0x1122, hi: 0x3344 });
    expect(Nest.decode(b, 0)).toEqual({ tag: 1, wide: 0x33441122n, lo: 0x1122, hi: 0x3344, hb: Uint8Array.of(0x44, 0x33) });
    Nest.encode(b, 0, { tag: 1, lo: 5, hb: Uint8Array.of(1, 2) });
    expect(Nest.decode(b, 0).hi).toBe(0x0201);
    Nest.encode(b, 0, Nest.decode(b, 0));
    expect(() => Nest.encode(b, 0, { ...Nest.decode(b, 0), hi: 9 })).toThrow(RangeError);
    expect(() => Nest.encode(b, 0, { tag: 1 })).toThrow(/^struct nest: anonymous union \(wide, lo, hi, hb\): no member set \(set one of: wide, lo\+hi\+hb\)$/);
  });
});

describe('errors', () => {
  it('throws a typed error with the diagnostics when the generated code does not compile', () => {
    let err: unknown;
    try {
      generateNode(model, { objectName: 'x', objectFile: 'x.bpf.o', sha256: 'ab'.repeat(32), version: '1', runtimeDeclarations: new Map([['index.d.ts', 'export {};\n']]) });
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(GeneratedCodeError);
    expect((err as GeneratedCodeError).diagnostics.length).toBeGreaterThan(0);
    expect((err as GeneratedCodeError).diagnostics[0]).toMatch(/^src\/index\.ts:\d+:\d+: TS\d+: .*'CoolbpfError'/);
  });

  it('names the map and type a model problem is in', () => {
    const bad: ObjectModel = { ...model, maps: [map('counts', 'hash', u32, ref('struct', 'gone'), 4, 4)] };
    expect(() => generateNode(bad, { objectName: 'x', objectFile: 'x.bpf.o', sha256: 'ab'.repeat(32), version: '1' })).toThrow("map 'counts': value type: the model declares no type 'struct gone'");
  });
});
