/**
 * The generated codecs, run in JavaScript without the kernel or bpf.so: the
 * package is imported with an empty runtime module (the codecs use none of
 * it) and the section classes get a stand-in BpfObject over the object's
 * own section images.
 *
 * - clang's encoding of fully initialized globals (every bitfield near its
 *   limits, packed, both byte orders) decodes to the C initializers, and
 *   encoding the initializers gives clang's bytes exactly;
 * - every struct and union of every fixture round-trips values built from
 *   its layout plan, and a decoded value re-encodes to the same bytes;
 * - union, string and array rules; enums exact to 64 bits.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type LayoutPlan, type StructPlan, type ValuePlan } from '@coolbpf/gen-core';
import { BITS_FULL, FULL_GLOBALS, globalBytes } from '@coolbpf/gen-core/testing';
import type { ObjectModel } from '@coolbpf/model';
import { readElf } from '@coolbpf/reader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, importPackage, materialize, type Case } from './cases.testutil.js';

interface Codec<T = unknown> {
  size: number;
  align: number;
  fields: Record<string, { offset: number; size: number; bitOffset?: number; bitWidth?: number }>;
  decode(v: DataView, o: number): T;
  encode(v: DataView, o: number, x: T): void;
}

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-node-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  readonly c: Case;
  readonly model: ObjectModel;
  readonly plan: LayoutPlan;
  readonly mod: Record<string, unknown>;
  readonly typeNames: ReadonlyMap<string, string>;
  readonly bytes: Uint8Array;
  codec(key: string): Codec<any>;
}

async function load(c: Case, tag: string): Promise<Loaded> {
  const { model, files, typeNames } = generate(c);
  const mod = await importPackage(materialize(join(dir, tag), files, 'js'));
  return {
    c,
    model,
    plan: planLayout(model),
    mod,
    typeNames,
    bytes: readFileSync(c.file),
    codec(key) {
      const name = typeNames.get(key);
      if (!name) throw new Error(`no generated type for ${key}`);
      return mod[name] as Codec<any>;
    },
  };
}

/** A stand-in for the runtime's BpfObject: section images from the ELF file, setInitial writing into them. */
function fakeObject(l: Loaded) {
  const elf = readElf(l.bytes);
  const images = new Map<string, Uint8Array>();
  const image = (name: string) => {
    let b = images.get(name);
    if (!b) {
      const size = l.model.dataSections.find((s) => s.name === name)!.size;
      const s = elf.section(name);
      b = new Uint8Array(size);
      if (s && s.data.length) b.set(s.data.subarray(0, size));
      images.set(name, b);
    }
    return b;
  };
  const initial: [string, number, number[]][] = [];
  const autoload: [string, boolean][] = [];
  return {
    initial,
    autoload,
    section: (name: string) => new DataView(image(name).buffer),
    setInitial: (name: string, offset: number, bytes: Uint8Array) => {
      initial.push([name, offset, [...bytes]]);
      image(name).set(bytes, offset);
    },
    setAutoload: (name: string, on: boolean) => void autoload.push([name, on]),
  };
}

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength);
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

// ---- clang's encoding of the C initializers of packages/fixtures/bpf/layout.bpf.c ----

for (const endian of ['bpfel', 'bpfeb'] as const) {
  describe(`layout fixture (${endian}): clang's initialized globals`, () => {
    let l: Loaded;
    beforeAll(async () => {
      l = await load(fixtureCase('layout', endian), `layout-${endian}`);
    });

    for (const [name, key, want] of FULL_GLOBALS) {
      it(`${name} decodes to the C initializer, and encoding the initializer gives clang's bytes`, () => {
        const g = globalBytes(l.bytes, l.model, '.data', name);
        const c = l.codec(key);
        expect(c.size).toBe(g.length);
        expect(c.decode(view(g), 0)).toEqual(want);
        const ours = new Uint8Array(c.size + 8).fill(0xee);
        c.encode(view(ours), 4, want);
        expect(hex(ours.subarray(4, 4 + c.size))).toBe(hex(g));
        expect(ours[3]).toBe(0xee);
        expect(ours[4 + c.size]).toBe(0xee);
      });
    }

    it('reads and writes globals through the section classes (a stand-in object, before and after load)', () => {
      const obj = fakeObject(l);
      const opened = new (l.mod.LayoutOpened as new (o: unknown) => any)(obj);
      expect(opened.data.layout_bits_full).toEqual(BITS_FULL);
      expect(opened.data.layout_comm).toBe('layout');
      expect(opened.data.layout_flex_global).toEqual({ len: 3, data: new Uint8Array(0) });
      expect(opened.bss.layout_matrix).toEqual([[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]);
      opened.data.layout_comm = 'hi';
      expect(obj.initial).toEqual([['.data', 800, [0x68, 0x69, ...new Array(14).fill(0)]]]);
      expect(opened.data.layout_comm).toBe('hi');
      opened.data.layout_bits_full = { ...BITS_FULL, g: 5 };
      expect(opened.data.layout_bits_full).toEqual({ ...BITS_FULL, g: 5 });
      const loaded = new (l.mod.Layout as new (o: unknown) => any)(obj);
      loaded.bss.layout_items = [{ a: 1, b: 2 }];
      expect(loaded.bss.layout_items).toEqual([{ a: 1, b: 2 }, { a: 0, b: 0 }, { a: 0, b: 0 }, { a: 0, b: 0 }]);
      expect(() => (opened.data.layout_comm = 'x'.repeat(17))).toThrow(RangeError);
    });
  });
}

// ---- round trips of every type of every fixture ----

/** A value for a plan, varied by `seed`, within each type's range. */
function sample(plan: LayoutPlan, v: ValuePlan, seed: number, alt: number): unknown {
  switch (v.kind) {
    case 'int': {
      const bits = v.size * 8;
      const u = (BigInt(seed) * 0x9e3779b97f4a7c15n + 0x1234n) & ((1n << BigInt(bits)) - 1n);
      const x = v.signed ? BigInt.asIntN(bits, u) : u;
      return v.size <= 4 ? Number(x) : x;
    }
    case 'bool': return seed % 2 === 0;
    case 'float': return v.size === 4 ? Math.fround(seed + 0.5) : seed + 0.25;
    case 'pointer': return 0xffff888800000000n + BigInt(seed);
    case 'enum': {
      const e = plan.get(v.key);
      if (e.kind !== 'enum' || e.values.length === 0) return v.size === 8 ? 0n : 0;
      const x = e.values[seed % e.values.length]!.value;
      return v.size === 8 ? x : Number(x);
    }
    case 'string': return 'abcdefghijklmnop'.slice(0, Math.max(0, Math.min(v.size - 1, 1 + (seed % 7))));
    case 'opaque': return Uint8Array.from({ length: v.size }, (_, i) => (seed + i) & 0xff);
    case 'array': {
      const build = (dims: readonly number[], s: number): unknown => {
        if (dims.length === 1 && v.element.kind === 'int' && v.element.size === 1 && !v.element.signed) return Uint8Array.from({ length: dims[0]! }, (_, i) => (s + i) & 0xff);
        if (dims.length === 0) return sample(plan, v.element, s, alt);
        return Array.from({ length: dims[0]! }, (_, i) => build(dims.slice(1), s * 3 + i));
      };
      return build(v.dims, seed);
    }
    case 'struct':
    case 'union':
      return sampleStruct(plan, plan.struct(v.key), seed, alt);
  }
}

function sampleStruct(plan: LayoutPlan, s: StructPlan, seed: number, alt: number): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  const fill = (nodes: StructPlan['body']) => {
    for (const n of nodes) {
      if (n.kind === 'overlay') {
        fill(n.alternatives[alt % n.alternatives.length]!.nodes);
        continue;
      }
      const f = n.field;
      const s2 = seed + f.offset * 7 + f.name.length;
      if (f.bits) {
        const w = f.bits.width;
        const u = (BigInt(s2) * 0x9e3779b97f4a7c15n) & ((1n << BigInt(w)) - 1n);
        const x = f.bits.signed ? BigInt.asIntN(w, u) : u;
        if (f.value.kind === 'bool') out[f.name] = (x & 1n) === 1n;
        else if (f.value.kind === 'enum' || f.value.kind === 'int') out[f.name] = f.value.size > 4 ? x : Number(x);
      } else out[f.name] = sample(plan, f.value, s2, alt);
    }
  };
  fill(s.body);
  return out;
}

/** What decoding gives back for what was encoded: every key that was set (unions decode more members). */
function expectContains(got: unknown, want: unknown, path: string): void {
  if (want !== null && typeof want === 'object' && !(want instanceof Uint8Array) && !Array.isArray(want)) {
    for (const [k, v] of Object.entries(want)) expectContains((got as Record<string, unknown>)[k], v, `${path}.${k}`);
  } else if (Array.isArray(want)) {
    expect((got as unknown[]).length, path).toBe(want.length);
    want.forEach((w, i) => expectContains((got as unknown[])[i], w, `${path}[${i}]`));
  } else expect(got, path).toEqual(want);
}

describe('every struct and union round-trips', () => {
  for (const name of FIXTURES) {
    it(`fixture ${name}`, async () => {
      const l = await load(fixtureCase(name), `rt-${name}`);
      let checked = 0;
      for (const t of l.plan.ordered) {
        if (t.kind === 'enum') continue;
        const c = l.codec(t.key);
        expect([t.key, c.size]).toEqual([t.key, t.size]);
        for (const [seed, alt] of [[1, 0], [2, 1], [3, 2], [5, 3]] as const) {
          const value = sampleStruct(l.plan, t, seed, alt);
          const buf = new Uint8Array(t.size + 16).fill(0xcc);
          c.encode(view(buf), 8, value);
          expect([t.key, buf[7], buf[8 + t.size]]).toEqual([t.key, 0xcc, 0xcc]);
          const back = c.decode(view(buf), 8);
          expectContains(back, value, t.key);
          // a decoded value (every union member set, all agreeing) encodes to the same bytes
          const again = new Uint8Array(t.size + 16).fill(0xcc);
          c.encode(view(again), 8, back);
          expect([t.key, hex(again)]).toEqual([t.key, hex(buf)]);
          checked++;
        }
      }
      if (['layout', 'kinds', 'globals', 'maps', 'events'].includes(name)) expect(checked).toBeGreaterThan(0);
    });
  }
});

describe('semantics', () => {
  let l: Loaded;
  let k: Loaded;
  let g: Loaded;
  beforeAll(async () => {
    l = await load(fixtureCase('layout'), 'sem-layout');
    k = await load(fixtureCase('kinds'), 'sem-kinds');
    g = await load(fixtureCase('globals', 'bpfeb'), 'sem-globals');
  });

  it('unions: one member written as given, the rest zeroed; a decoded value re-encodes; disagreeing members throw', () => {
    const u = l.codec('union layout_named');
    const b = new Uint8Array(8).fill(0xff);
    u.encode(view(b), 0, { halves: [1] });
    expect(u.decode(view(b), 0)).toEqual({ raw: 1n, halves: [1, 0], bytes: Uint8Array.from([1, 0, 0, 0, 0, 0, 0, 0]) });
    const d = u.decode(view(b), 0);
    u.encode(view(b), 0, { ...d });
    expect(u.decode(view(b), 0).raw).toBe(1n);
    expect(() => u.encode(view(b), 0, { ...d, raw: 2n })).toThrow(/union layout_named: members raw, halves, bytes are set and disagree \('raw' does not read back as given\); set exactly one/);
    expect(() => u.encode(view(b), 0, {})).toThrow(/union layout_named: no member set \(set one of: raw, halves, bytes\)/);
    // a flattened anonymous union: its alternatives sit among the struct's fields
    const anon = l.codec('struct layout_anon');
    const a = new Uint8Array(anon.size);
    anon.encode(view(a), 0, { family: 2, lo: 0x1234, hi: 0x5678, x: 1, y: 2, named: { raw: 7n } });
    const back = anon.decode(view(a), 0);
    expect(back).toMatchObject({ family: 2, ipv4: 0x56781234, lo: 0x1234, hi: 0x5678, x: 1, y: 2, named: { raw: 7n } });
    expect(back.ipv6.subarray(0, 4)).toEqual(Uint8Array.from([0x34, 0x12, 0x78, 0x56]));
    expect(() => anon.encode(view(a), 0, { ...back, ipv4: 1 })).toThrow(/^struct layout_anon: anonymous union \(ipv4, ipv6, lo, hi\): members .* disagree/);
    expect(anon.fields).toMatchObject({ ipv4: { offset: 4, size: 4 }, ipv6: { offset: 4, size: 16 }, hi: { offset: 6, size: 2 }, named: { offset: 24, size: 8 } });
  });

  it('strings: NUL-terminated UTF-8, NUL-padded, too long throws; arrays: shorter zero-filled, longer throw', () => {
    const arrays = l.codec('struct layout_arrays');
    const b = new Uint8Array(arrays.size).fill(0xaa);
    const value = { m: [], comm: 'héllo', items: [{ a: 1, b: 2 }], grid: [Uint8Array.of(1, 2)], ptrs: [5n] };
    arrays.encode(view(b), 0, value);
    const d = arrays.decode(view(b), 0);
    expect(d.comm).toBe('héllo');
    expect(d.m).toEqual([[[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]], [[0, 0, 0, 0], [0, 0, 0, 0], [0, 0, 0, 0]]]);
    expect(d.items).toEqual([{ a: 1, b: 2 }, { a: 0, b: 0 }, { a: 0, b: 0 }]);
    expect(d.grid).toEqual([Uint8Array.of(1, 2, 0, 0, 0), new Uint8Array(5)]);
    expect(d.ptrs).toEqual([5n, 0n]);
    expect(b[134]).toBe(0); // padding zeroed
    expect(() => arrays.encode(view(b), 0, { ...value, comm: 'x'.repeat(17) })).toThrow(/^struct layout_arrays\.comm: a string of 17 bytes does not fit in char\[16\]$/);
    expect(() => arrays.encode(view(b), 0, { ...value, ptrs: [1n, 2n, 3n] })).toThrow(/^struct layout_arrays\.ptrs: 3 elements do not fit in an array of 2$/);
    expect(() => arrays.encode(view(b), 0, { ...value, grid: [new Uint8Array(6)] })).toThrow(/^struct layout_arrays\.grid\[0\]: 6 bytes do not fit in 5$/);
    // integers out of range are refused, naming the field (and the element) and the range
    expect(() => arrays.encode(view(b), 0, { ...value, items: [{ a: 1, b: 2 }, { a: 1, b: 256 }] })).toThrow(/^struct layout_arrays\.items\[1\]\.b: 256 is not an integer in \[0, 255\] \(u8\)$/);
    expect(() => arrays.encode(view(b), 0, { ...value, ptrs: [-1n] })).toThrow(/^struct layout_arrays\.ptrs\[0\]: -1n is not an integer in \[0, 18446744073709551615\] \(u64\)$/);
    const full = 'abcdefghijklmnop'; // exactly 16 bytes: no NUL needed
    arrays.encode(view(b), 0, { ...value, comm: full });
    expect(arrays.decode(view(b), 0).comm).toBe(full);
  });

  it('bitfields: a write changes only its own bits; a value that does not fit the width is refused (C would truncate it)', () => {
    const bits = l.codec('struct layout_bits');
    const b = new Uint8Array(bits.size);
    bits.encode(view(b), 0, BITS_FULL);
    bits.encode(view(b), 0, { ...BITS_FULL, c: 0x1f, d: -64 });
    expect(bits.decode(view(b), 0)).toEqual({ ...BITS_FULL, c: 0x1f, d: -64 });
    expect(() => bits.encode(view(b), 0, { ...BITS_FULL, c: 0x20 })).toThrow(/^struct layout_bits\.c: 32 does not fit in a 5-bit unsigned bitfield \[0, 31\]$/);
    expect(() => bits.encode(view(b), 0, { ...BITS_FULL, d: 64 })).toThrow(/^struct layout_bits\.d: 64 does not fit in a 7-bit signed bitfield \[-64, 63\]$/);
    expect(() => bits.encode(view(b), 0, { ...BITS_FULL, d: -65 })).toThrow(RangeError);
    expect(() => bits.encode(view(b), 0, { ...BITS_FULL, a: 1.5 })).toThrow(/struct layout_bits\.a: 1\.5 does not fit/);
    expect(() => bits.encode(view(b), 0, { ...BITS_FULL, j: 1n << 40n })).toThrow(/struct layout_bits\.j: 1099511627776n does not fit in a 40-bit unsigned bitfield/);
    expect(() => bits.encode(view(b), 0, { ...BITS_FULL, k: -(1n << 32n) - 1n })).toThrow(/struct layout_bits\.k: .* 33-bit signed/);
    expect(bits.fields).toMatchObject({ g: { offset: 8, size: 2, bitOffset: 66, bitWidth: 9 }, l: { offset: 32, size: 8, bitOffset: 256, bitWidth: 64 } });
  });

  it('enums: const objects with exact values, negative and 64-bit (bigint)', () => {
    expect(l.mod.LayoutSignedMode).toEqual({ LAYOUT_NEG: -2, LAYOUT_POS: 1 });
    expect(k.mod.KindsColor).toEqual({ KINDS_RED: -2, KINDS_GREEN: 0, KINDS_BLUE: 7 });
    expect(k.mod.KindsBigSigned).toEqual({ KINDS_BIG_NEG: -4294967296n, KINDS_BIG_POS: 9223372036854775807n });
    expect(k.mod.KindsBigUnsigned).toEqual({ KINDS_HUGE_SMALL: 1n, KINDS_HUGE: 9223372036854775809n });
    const all = k.codec('struct kinds_all');
    const b = new Uint8Array(all.size);
    const v = sampleStruct(k.plan, k.plan.struct('struct kinds_all'), 1, 0);
    v.color = -2;
    v.big_signed = -4294967296n;
    v.big_unsigned = 9223372036854775809n;
    (v.ints as Record<string, unknown>).i128 = -(2n ** 127n);
    (v.ints as Record<string, unknown>).u128 = 2n ** 128n - 1n;
    all.encode(view(b), 0, v);
    expect(all.decode(view(b), 0)).toMatchObject({ color: -2, big_signed: -4294967296n, big_unsigned: 9223372036854775809n, ints: { i128: -(2n ** 127n), u128: 2n ** 128n - 1n } });
  });

  it('globals of a big-endian object decode to their C initializers through the section classes', () => {
    const obj = fakeObject(g);
    const opened = new (g.mod.GlobalsOpened as new (o: unknown) => any)(obj);
    expect({ ...Object.fromEntries(['cfg_threshold', 'cfg_target_pid', 'cfg_enabled', 'cfg_mode', 'cfg_name', 'cfg_ports', 'cfg_limits'].map((n) => [n, opened.rodata[n]])) }).toEqual({
      cfg_threshold: 1000n, cfg_target_pid: -1, cfg_enabled: true, cfg_mode: (g.mod.CfgMode as Record<string, number>).CFG_MODE_SAMPLE, cfg_name: 'globals',
      cfg_ports: [22, 80, 443, 8080], cfg_limits: { max_events: 64, port: 53, verbose: 1, min_latency_ns: -5n },
    });
    expect([opened.data.data_value, opened.data.data_delta, opened.data.data_tag, opened.data.data_limits]).toEqual([0xdeadbeefcafen, -7, 'tag', { max_events: 8, port: 1, verbose: 0, min_latency_ns: 0n }]);
    expect([opened.dataCustom.custom_data_value, opened.dataCustom.custom_data_array, opened.rodataCustom.custom_rodata_value]).toEqual([7, [1n, 2n], 11]);
    expect(Object.keys(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(opened.bss))).sort()).toEqual(['bss_hist', 'bss_last_limits', 'constructor', 'counter', 'hidden_counter']);
    opened.rodata.cfg_target_pid = 1234;
    expect(obj.initial).toEqual([['.rodata', 8, [0, 0, 0x04, 0xd2]]]);
    opened.programs.globals_prog.autoload = false;
    expect(obj.autoload).toEqual([['globals_prog', false]]);
    const loaded = new (g.mod.Globals as new (o: unknown) => any)(obj);
    expect(loaded.rodata.cfg_target_pid).toBe(1234);
    expect(() => (loaded.rodata.cfg_target_pid = 1)).toThrow(/\.rodata is read-only after load/);
    loaded.bss.counter = 5n;
    expect(loaded.bss.counter).toBe(5n);
    expect(obj.initial).toHaveLength(1);
  });
});
