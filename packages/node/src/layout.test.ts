// What generated packages are built from, without the kernel: layout()'s
// codecs, bitfields, unions and struct codecs (errors that name the field),
// section objects over a stand-in object, program and map tables, and the
// checks of open().
import { describe, expect, it } from 'vitest';
import { CoolbpfError } from './errors.js';
import { layout, type Alternative, type StructCodec } from './layout.js';
import type { BpfObject } from './object.js';
import { makePrograms, programSetups, tracepointProgram, xdpProgram, TracepointProgram, XdpProgram } from './programs.js';
import { section } from './sections.js';
import { eventMap, makeMaps, openSkeleton, OpenedSkeleton, rawEventMap, rawMap, typedMap } from './skeleton.js';

const view = (n: number) => new DataView(new ArrayBuffer(n));
const message = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    return `${(e as Error).constructor.name}: ${(e as Error).message}`;
  }
  throw new Error('expected an exception');
};

describe('layout()', () => {
  const le = layout(true);
  const be = layout(false);

  it('is made once per byte order, and reads and writes in that order', () => {
    expect(layout(true)).toBe(le);
    expect(Object.isFrozen(le)).toBe(true);
    const v = view(4);
    be.u32.encode(v, 0, 0x01020304);
    expect([...new Uint8Array(v.buffer)]).toEqual([1, 2, 3, 4]);
    le.u32.encode(v, 0, 0x01020304);
    expect([...new Uint8Array(v.buffer)]).toEqual([4, 3, 2, 1]);
  });

  it('128-bit integers: both byte orders, exact to the limits, and range-checked', () => {
    for (const l of [le, be]) {
      const v = view(16);
      for (const x of [-(2n ** 127n), -1n, 0n, 2n ** 127n - 1n]) {
        l.i128.encode(v, 0, x);
        expect(l.i128.decode(v, 0)).toBe(x);
      }
      l.u128.encode(v, 0, 2n ** 128n - 1n);
      expect(l.u128.decode(v, 0)).toBe(2n ** 128n - 1n);
      expect(() => l.u128.encode(v, 0, -1n, 'x')).toThrow(/^x: -1n is not an integer in \[0, 340282366920938463463374607431768211455\] \(u128\)$/);
    }
    const v = view(16);
    be.u128.encode(v, 0, 1n);
    expect(new Uint8Array(v.buffer)[15]).toBe(1);
  });

  it('integers: a caller-given name and the range in the RangeError; without a name, the codec', () => {
    const v = view(8);
    expect(message(() => le.u8.encode(v, 0, 256, 'r_u8'))).toBe('RangeError: r_u8: 256 is not an integer in [0, 255] (u8)');
    expect(message(() => le.u16.encode(v, 0, 1.5))).toBe('RangeError: u16: 1.5 is not an integer in [0, 65535]');
    expect(message(() => le.u64.encode(v, 0, -1n, 'n'))).toBe('RangeError: n: -1n is not an integer in [0, 18446744073709551615] (u64)');
    expect(message(() => le.f64.encode(v, 0, '1' as unknown as number, 'f'))).toBe('TypeError: f: expected a number, got string (f64)');
    expect(message(() => le.cstring(4).encode(v, 0, 'abcde', 'comm'))).toBe('RangeError: comm: a string of 5 bytes does not fit in char[4]');
  });

  it('a string that does not fit leaves the bytes as they were', () => {
    const v = view(4);
    le.cstring(4).encode(v, 0, 'ab');
    expect(() => le.cstring(4).encode(v, 0, 'abcdé')).toThrow(RangeError);
    expect([...new Uint8Array(v.buffer)]).toEqual([0x61, 0x62, 0, 0]);
  });

  it('arrays put the index in the path of an element\'s error', () => {
    const grid = le.array(le.array(le.i16, 3), 2);
    const v = view(12);
    expect(message(() => grid.encode(v, 0, [[0, 0, 0], [0, 32768]], 'r_grid'))).toBe('RangeError: r_grid[1][1]: 32768 is not an integer in [-32768, 32767] (i16)');
    expect(message(() => grid.encode(v, 0, [[0, 0, 0], [0, 32768]]))).toBe('RangeError: [1][1]: 32768 is not an integer in [-32768, 32767] (i16)');
  });

  it('bitfields: read and written in both byte orders; only their bits change; a value that does not fit is refused', () => {
    for (const l of [le, be]) {
      const v = view(8);
      new Uint8Array(v.buffer).fill(0xff);
      // 5 bits at shift 3 of 2 bytes, as a number, and 40 bits at shift 4 of 8 bytes, as a bigint
      l.setBits(v, 0, 2, 3, 5, false, 0);
      expect(l.getBitsN(v, 0, 2, 3, 5, false)).toBe(0);
      expect(l.getBitsN(v, 0, 2, 0, 3, false)).toBe(7); // the neighbours kept
      expect(l.getBitsN(v, 0, 2, 8, 8, false)).toBe(0xff);
      l.setBits(v, 0, 2, 3, 5, true, -16);
      expect(l.getBitsN(v, 0, 2, 3, 5, true)).toBe(-16);
      l.setBits(v, 0, 8, 4, 40, true, -(2n ** 39n));
      expect(l.getBits(v, 0, 8, 4, 40, true)).toBe(-(2n ** 39n));
      l.setBits(v, 0, 8, 4, 40, false, 12345); // a number for a wide field
      expect(l.getBits(v, 0, 8, 4, 40, false)).toBe(12345n);
    }
    const v = view(8);
    expect(message(() => le.setBits(v, 0, 1, 0, 3, false, 8, 'mode'))).toBe('RangeError: mode: 8 does not fit in a 3-bit unsigned bitfield [0, 7]');
    expect(message(() => le.setBits(v, 0, 1, 0, 3, true, -5, 'd'))).toBe('RangeError: d: -5 does not fit in a 3-bit signed bitfield [-4, 3]');
    expect(() => le.setBits(v, 0, 1, 0, 3, false, 1.5)).toThrow(RangeError);
    expect(() => le.setBits(v, 0, 8, 0, 64, false, 2n ** 64n)).toThrow(RangeError);
    expect([...new Uint8Array(v.buffer)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]); // refused: nothing written
  });

  // struct outer { __u8 tag; struct inner { __u16 a; } in[2]; union { __u32 w; __u8 b[4]; }; } (12 bytes)
  interface Inner { a: number }
  const Inner: StructCodec<Inner> = le.struct<Inner>({
    type: 'struct inner', size: 2, align: 2, fields: { a: { offset: 0, size: 2 } },
    decode: (v, o) => ({ a: le.u16.decode(v, o) }),
    encode: (v, o, x) => le.u16.encode(v, o, x.a, 'a'),
  });
  type Outer = { tag: number; in: Inner[] } & ({ w: number; b?: Uint8Array } | { w?: number; b: Uint8Array });
  const arr2 = le.array(Inner, 2);
  const bytes4 = le.bytes(4);
  const alts: readonly Alternative<Outer>[] = [
    { names: ['w'], decode: (v, o) => ({ w: le.u32.decode(v, o + 8) }), encode: (v, o, x) => le.u32.encode(v, o + 8, x.w!, 'w') },
    { names: ['b'], decode: (v, o) => ({ b: bytes4.decode(v, o + 8) }), encode: (v, o, x) => bytes4.encode(v, o + 8, x.b!, 'b') },
  ];
  const Outer = le.struct<Outer>({
    type: 'struct outer', size: 12, align: 4,
    fields: { tag: { offset: 0, size: 1 }, in: { offset: 2, size: 4 }, w: { offset: 8, size: 4 }, b: { offset: 8, size: 4 } },
    decode: (v, o) => ({ tag: le.u8.decode(v, o), in: arr2.decode(v, o + 2), w: le.u32.decode(v, o + 8), b: bytes4.decode(v, o + 8) }),
    encode: (v, o, x) => {
      le.zero(v, o, 12);
      le.u8.encode(v, o, x.tag, 'tag');
      arr2.encode(v, o + 2, x.in, 'in');
      le.overlay(v, o, x, 8, 4, 'anonymous union (w, b)', alts);
    },
  });

  it('struct(): a frozen codec with its layout; decode is the generated one', () => {
    expect(Object.isFrozen(Outer) && Object.isFrozen(Outer.fields) && Object.isFrozen(Outer.fields['tag'])).toBe(true);
    expect([Outer.type, Outer.size, Outer.align, Outer.fields['in']]).toEqual(['struct outer', 12, 4, { offset: 2, size: 4 }]);
    const v = view(12);
    Outer.encode(v, 0, { tag: 1, in: [{ a: 2 }], w: 0x04030201 });
    expect(Outer.decode(v, 0)).toEqual({ tag: 1, in: [{ a: 2 }, { a: 0 }], w: 0x04030201, b: Uint8Array.of(1, 2, 3, 4) });
  });

  it('struct(): errors carry the path from the outermost value: type or caller\'s name, fields, indexes', () => {
    const v = view(12);
    const ok: Outer = { tag: 1, in: [], w: 1 };
    expect(message(() => Outer.encode(v, 0, { ...ok, tag: 256 }))).toBe('RangeError: struct outer.tag: 256 is not an integer in [0, 255] (u8)');
    expect(message(() => Outer.encode(v, 0, { ...ok, in: [{ a: 0 }, { a: -1 }] }))).toBe('RangeError: struct outer.in[1].a: -1 is not an integer in [0, 65535] (u16)');
    expect(message(() => Outer.encode(v, 0, { ...ok, in: [{ a: 0 }, { a: -1 }] }, 'cfg'))).toBe('RangeError: cfg.in[1].a: -1 is not an integer in [0, 65535] (u16)');
    expect(message(() => Outer.encode(v, 0, { ...ok, w: 2 ** 32 }))).toBe('RangeError: struct outer.w: 4294967296 is not an integer in [0, 4294967295] (u32)');
    expect(message(() => Outer.encode(v, 0, { tag: 1, in: [] } as unknown as Outer))).toBe('RangeError: struct outer: anonymous union (w, b): no member set (set one of: w, b)');
    expect(message(() => Outer.encode(v, 0, { tag: 1, in: [], w: 1, b: Uint8Array.of(9, 9, 9, 9) }))).toMatch(/^RangeError: struct outer: anonymous union \(w, b\): members w, b are set and disagree/);
    expect(message(() => Outer.encode(v, 0, { tag: 1, in: [undefined as unknown as Inner], w: 1 }))).toMatch(/^TypeError: struct outer\.in\[0\]: Cannot read properties of undefined/);
  });
});

/** A stand-in BpfObject: section images, setInitial into them, a destroy that detaches them. */
function fakeObject(sizes: Record<string, number>) {
  const images = new Map(Object.entries(sizes).map(([n, s]) => [n, new Uint8Array(s)]));
  let state: 'opened' | 'loaded' | 'destroyed' = 'opened';
  const object = {
    get state() {
      return state;
    },
    section(name: string) {
      if (state === 'destroyed') throw new CoolbpfError(`section('${name}'): the object was destroyed`, 'EDESTROYED');
      return new DataView(images.get(name)!.buffer);
    },
    setInitial(name: string, offset: number, bytes: Uint8Array) {
      if (state !== 'opened') throw new CoolbpfError('setInitial: loaded', 'ESTATE');
      images.get(name)!.set(bytes, offset);
    },
    setAutoload: (_name: string, _on: boolean) => {},
    load() {
      state = 'loaded';
    },
    destroy() {
      state = 'destroyed';
      for (const [n, b] of images) {
        structuredClone(b.buffer, { transfer: [b.buffer] });
        images.set(n, new Uint8Array(0));
      }
    },
  };
  return { object: object as unknown as BpfObject, images };
}

describe('section()', () => {
  interface Bss { count: bigint; name: string }
  const le = layout(true);
  const Bss = section<Bss>('.bss', { beforeLoad: true, afterLoad: true }, { count: [le.u64, 0], name: [le.cstring(8), 8] });
  const Ro = section<{ id: number }>('.rodata', { beforeLoad: true, afterLoad: false }, { id: [le.u32, 0] });

  it('getters and setters on the prototype: before load through setInitial, after load on the live bytes', () => {
    const { object, images } = fakeObject({ '.bss': 16, '.rodata': 4 });
    const opened = Bss.view(object, false);
    opened.count = 5n;
    opened.name = 'x';
    expect([opened.count, opened.name]).toEqual([5n, 'x']);
    expect(Object.keys(Object.getOwnPropertyDescriptors(Object.getPrototypeOf(opened))).sort()).toEqual(['constructor', 'count', 'name']);
    expect(Object.isFrozen(opened)).toBe(true);
    object.load();
    const loaded = Bss.view(object, true);
    loaded.count = 7n;
    expect(new DataView(images.get('.bss')!.buffer).getBigUint64(0, true)).toBe(7n);
    expect(message(() => (Ro.view(object, true).id = 1))).toBe('TypeError: .rodata is read-only after load (id)');
    // refused values write nothing
    expect(message(() => (loaded.name = 'too long!'))).toBe('RangeError: name: a string of 9 bytes does not fit in char[8]');
    expect(message(() => (loaded.count = -1n))).toMatch(/^RangeError: count: -1n is not an integer/);
    expect([loaded.count, loaded.name]).toEqual([7n, 'x']);
  });

  it('every access after destroy is EDESTROYED, also through a view read before', () => {
    const { object } = fakeObject({ '.bss': 16, '.rodata': 4 });
    object.load();
    const bss = Bss.view(object, true);
    const ro = Ro.view(object, true);
    expect([bss.count, ro.id]).toEqual([0n, 0]);
    object.destroy();
    for (const f of [() => bss.count, () => (bss.count = 1n), () => ro.id, () => (ro.id = 1)]) {
      expect(f).toThrow(expect.objectContaining({ name: 'CoolbpfError', code: 'EDESTROYED' }));
    }
  });
});

describe('program and map tables', () => {
  const object = { setAutoload: () => {} } as unknown as BpfObject;
  const table = { tp: tracepointProgram('tp', 'tp/a/b', ['a', 'b']), opt: tracepointProgram('opt', '?tp/a/c', ['a', 'c']), x: xdpProgram('x', 'xdp') };

  it('programs: one class per entry; before load, autoload as SEC() says (off for "?")', () => {
    const p = makePrograms<{ tp: TracepointProgram; opt: TracepointProgram; x: XdpProgram }>(object, table);
    expect(p.tp).toBeInstanceOf(TracepointProgram);
    expect([p.tp.name, p.tp.section, p.x.constructor]).toEqual(['tp', 'tp/a/b', XdpProgram]);
    const setups = programSetups(object, table);
    expect([setups.tp.autoload, setups.opt.autoload, setups.x.autoload]).toEqual([true, false, true]);
  });

  it('maps: event readers opened at once, the others made on first use, once; perfPages checked', () => {
    const made: string[] = [];
    const events = { map: 'ev', fd: 3 };
    const fake = {
      map: (n: string) => (made.push(`map ${n}`), { name: n, info: () => ({ keySize: 4, valueSize: 8, perCpu: false, valueBufferSize: 8, maxEntries: 1 }) }),
      events: (n: string, o: { perfPages?: number }) => (made.push(`events ${n} ${o.perfPages ?? '-'}`), events),
    } as unknown as BpfObject;
    const le = layout(true);
    const tbl = { ev: eventMap('ev', 'perf_event_array', le.u32), kv: typedMap('kv', le.u32, le.u64), raw: rawMap('raw') };
    type M = { ev: unknown; kv: unknown; raw: unknown };
    const maps = makeMaps<M>(fake, tbl, true, { ev: 8 });
    expect(made).toEqual(['events ev 8']);
    void maps.kv;
    void maps.kv;
    expect(made).toEqual(['events ev 8', 'map kv']);
    expect(Object.keys(maps)).toEqual(['ev', 'kv', 'raw']);
    expect(message(() => makeMaps<M>(fake, tbl, true, { kv: 8 }))).toBe("TypeError: perfPages: 'kv' is not a perf event array (those are: ev)");
    // a perf event array of raw records may be a counters array: opened on first use (a ring buffer at once)
    made.length = 0;
    const raw = makeMaps<{ rb: unknown; pa: unknown }>(fake, { rb: rawEventMap('rb', 'ringbuf'), pa: rawEventMap('pa', 'perf_event_array') }, true, { pa: 2 });
    expect(made).toEqual(['events rb -']);
    void raw.pa;
    expect(made).toEqual(['events rb -', 'events pa 2']);
    expect(message(() => makeMaps<M>(fake, tbl, true, { ev: 3 }))).toBe('RangeError: perfPages.ev: 3 is not a power of two (pages per CPU, e.g. 64)');
  });

  it('open() refuses a perfPages that is not a power of two before it loads anything', () => {
    class Opened extends OpenedSkeleton<never> {
      protected override $loaded(): never {
        throw new Error('unreachable');
      }
    }
    const spec = { file: 'x.bpf.o', expected: { abiVersion: 1, sha256: '00' }, bpfSo: new URL('file:///nonexistent/bpf.so'), sections: [] };
    expect(message(() => openSkeleton(spec, { perfPages: { ev: 0 } }, (o) => new Opened(o)))).toBe('RangeError: perfPages.ev: 0 is not a power of two (pages per CPU, e.g. 64)');
    // and then: no such bpf.so
    expect(() => openSkeleton(spec, {}, (o) => new Opened(o))).toThrow(expect.objectContaining({ code: 'ENOENT' }));
  });
});
