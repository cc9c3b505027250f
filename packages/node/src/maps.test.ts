// Maps against the kernel: TypedMap CRUD with a hand-written struct codec,
// PerCpuMap, and iteration by batch lookup and by next_key, also while the
// map changes.
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { codecs, type Codec } from './codecs.js';
import { CoolbpfError } from './errors.js';
import { buildHelper, buildObject, Helper, kernelSkipReason, RT_SRC, skipNote, tempDir, type Built } from './kernel.testutil.js';
import { BPF_EXIST, BPF_NOEXIST, PerCpuMap, RawMap, TypedMap } from './maps.js';
import { loadLibrary, type BpfObject, type Library } from './object.js';

const skip = kernelSkipReason();
if (skip) skipNote('maps', skip);

/** struct kv_value { __u64 a; __u32 b; char name[8]; } — 24 bytes with its tail padding */
interface Kv { a: bigint; b: number; name: string }
const name8 = codecs.cstring(8);
const Kv: Codec<Kv> = {
  size: 24,
  decode: (v, o) => ({ a: codecs.u64.decode(v, o), b: codecs.u32.decode(v, o + 8), name: name8.decode(v, o + 12) }),
  encode: (v, o, x) => {
    codecs.u64.encode(v, o, x.a);
    codecs.u32.encode(v, o + 8, x.b);
    name8.encode(v, o + 12, x.name);
  },
};

function thrown(f: () => unknown): CoolbpfError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof CoolbpfError)) throw e;
    return e;
  }
  throw new Error('expected a CoolbpfError');
}

/** The same map without batch lookup, as on a kernel that lacks it. */
function withoutBatch(raw: RawMap): RawMap {
  return {
    name: raw.name,
    info: () => raw.info(),
    fd: () => raw.fd(),
    lookup: (k: Uint8Array, out: Uint8Array, f?: number) => raw.lookup(k, out, f),
    update: (k: Uint8Array, v: Uint8Array, f?: number) => raw.update(k, v, f),
    delete: (k: Uint8Array) => raw.delete(k),
    nextKey: (k: Uint8Array | null, out: Uint8Array) => raw.nextKey(k, out),
    lookupBatch: () => null,
  } as unknown as RawMap;
}

describe.skipIf(skip !== undefined)('maps', () => {
  const tmp = tempDir('coolbpf-node-maps-');
  let rt: Built, lib: Library, helper: Helper;
  let o: BpfObject;
  beforeAll(async () => {
    rt = buildObject(RT_SRC, join(tmp.dir, 'rt'));
    lib = loadLibrary(rt.bpfSo, { abiVersion: 1, sha256: rt.sha256 });
    helper = await Helper.start(buildHelper(tmp.dir));
  });
  afterAll(async () => {
    await helper?.stop();
    tmp.remove();
  });
  beforeEach(() => {
    o = lib.open();
    o.setInitial('.rodata', rt.offsets['.rodata:target_tgid']!, new Uint8Array(new Uint32Array([helper.pid]).buffer));
    o.load();
  });
  afterEach(() => o.destroy());

  it('TypedMap: set, get, has, delete, update flags, with a struct codec', () => {
    const kv = new TypedMap(o.map('rt_kv'), codecs.u32, Kv, true);
    expect(kv.get(1)).toBeUndefined();
    expect(kv.has(1)).toBe(false);
    expect(kv.delete(1)).toBe(false);
    kv.set(1, { a: 0xffffffffffffn, b: 7, name: 'one' });
    kv.set(2, { a: 2n, b: 0xffffffff, name: 'eightchr' });
    expect(kv.get(1)).toEqual({ a: 0xffffffffffffn, b: 7, name: 'one' });
    expect(kv.get(2)).toEqual({ a: 2n, b: 0xffffffff, name: 'eightchr' });
    expect(kv.has(2)).toBe(true);

    const exists = thrown(() => kv.set(1, { a: 0n, b: 0, name: '' }, BPF_NOEXIST));
    expect(exists.code).toBe('EEXIST');
    expect(exists.message).toBe("map_update: map 'rt_kv' (BPF_NOEXIST: the key exists): File exists (errno 17)");
    expect(thrown(() => kv.set(3, { a: 0n, b: 0, name: '' }, BPF_EXIST)).code).toBe('ENOENT');
    kv.set(1, { a: 9n, b: 9, name: 'nine' }, BPF_EXIST);
    expect(kv.get(1)?.name).toBe('nine');

    expect(kv.delete(1)).toBe(true);
    expect(kv.get(1)).toBeUndefined();
    expect(kv.info()).toMatchObject({ keySize: 4, valueSize: 24, perCpu: false, valueBufferSize: 24 });
    expect(() => kv.set(4, { a: 0n, b: 0, name: 'far too long' })).toThrow(RangeError);
    expect(kv.has(4)).toBe(false); // nothing was written

    // the raw bytes, as the kernel keeps them
    const raw = o.map('rt_kv');
    const out = new Uint8Array(24);
    expect(raw.lookup(new Uint8Array(new Uint32Array([2]).buffer), out)).toBe(true);
    expect([...out.subarray(8, 12)]).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(thrown(() => raw.lookup(new Uint8Array(4), new Uint8Array(20))).message)
      .toMatch(/the value buffer is 20 bytes, the map needs 24/);
    expect(thrown(() => raw.lookup(new Uint8Array(2), out)).message)
      .toBe("map 'rt_kv': lookup(): the key buffer is 2 bytes, it must be at least 4");
  });

  it('TypedMap refuses codecs and map kinds that do not fit', () => {
    const e = thrown(() => new TypedMap(o.map('rt_kv'), codecs.u32, codecs.u64, true));
    expect([e.code, e.message]).toEqual(['EMISMATCH', "TypedMap 'rt_kv': the value type is 8 bytes, the map's values are 24"]);
    expect(thrown(() => new TypedMap(o.map('rt_kv'), codecs.u64, Kv, true)).message).toMatch(/key type is 8 bytes, the map's keys are 4/);
    expect(thrown(() => new TypedMap(o.map('rt_pcpu'), codecs.u32, codecs.u64, true)).message).toMatch(/a per-CPU map: use PerCpuMap/);
    expect(thrown(() => new PerCpuMap(o.map('rt_kv'), codecs.u32, Kv, true)).message).toMatch(/not a per-CPU map: use TypedMap/);
    expect(thrown(() => new TypedMap(o.map('rt_kv'), codecs.u32, Kv, false)).code).toBe('EMISMATCH');
  });

  it('PerCpuMap: one value per possible CPU; the program counts on the CPU it ran on', async () => {
    const cpus = lib.possibleCpus();
    const pc = new PerCpuMap(o.map('rt_pcpu'), codecs.u32, codecs.u64, true);
    expect(pc.cpus).toBe(cpus);
    expect(o.map('rt_pcpu').info()).toMatchObject({ type: 6, perCpu: true, valueSize: 8, valueBufferSize: 8 * cpus });
    expect(pc.get(0)).toEqual(Array(cpus).fill(0n));
    const start = Array.from({ length: cpus }, (_, i) => BigInt(i * 10));
    pc.set(0, start);
    expect(pc.get(0)).toEqual(start);
    expect(() => pc.set(0, Array(cpus + 1).fill(1n))).toThrow(`expected an array of ${cpus} values (one per possible CPU), got ${cpus + 1}`);
    o.attach();
    await helper.run('ppid 5');
    const after = pc.get(0)!;
    expect(after.reduce((a, b) => a + b, 0n) - start.reduce((a, b) => a + b, 0n)).toBe(5n);
    expect([...pc.entries()]).toEqual([[0, after]]);
    expect([...pc.keys()]).toEqual([0]);
    expect(pc.get(1)).toBeUndefined(); // out of the array's range: ENOENT
  });

  const modes = [
    ['batch lookup', (r: RawMap) => r],
    ['next_key', withoutBatch],
  ] as const;

  for (const [mode, wrap] of modes) {
    describe(`iteration by ${mode}`, () => {
      it('every entry once, across several batches', () => {
        const kv = new TypedMap(wrap(o.map('rt_kv')), codecs.u32, Kv, true);
        for (let i = 0; i < 600; i++) kv.set(i, { a: BigInt(i) * 3n, b: i, name: `k${i}` });
        const entries = [...kv];
        expect(entries.length).toBe(600);
        expect(new Set(entries.map(([k]) => k)).size).toBe(600);
        for (const [k, v] of entries) expect(v).toEqual({ a: BigInt(k) * 3n, b: k, name: `k${k}` });
        expect([...kv.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
        expect([...kv.values()].map((v) => v.b).sort((a, b) => a - b)).toEqual(Array.from({ length: 600 }, (_, i) => i));
        expect([...new TypedMap(wrap(o.map('rt_kv')), codecs.u32, Kv, true).entries()].length).toBe(600);
      });

      it('an empty map yields nothing', () => {
        const kv = new TypedMap(wrap(o.map('rt_kv')), codecs.u32, Kv, true);
        expect([...kv]).toEqual([]);
      });

      it('deleting each entry as it is yielded drains the map, each key once', () => {
        const kv = new TypedMap(wrap(o.map('rt_kv')), codecs.u32, Kv, true);
        for (let i = 0; i < 300; i++) kv.set(i, { a: 0n, b: i, name: '' });
        const seen: number[] = [];
        for (const [k] of kv) {
          seen.push(k);
          expect(kv.delete(k)).toBe(true);
        }
        expect(seen.length).toBe(300);
        expect(new Set(seen).size).toBe(300);
        expect([...kv]).toEqual([]);
      });

      it('adding and deleting other entries while iterating ends, and yields no key twice', () => {
        const kv = new TypedMap(wrap(o.map('rt_kv')), codecs.u32, Kv, true);
        for (let i = 0; i < 200; i++) kv.set(i, { a: 0n, b: i, name: '' });
        const seen: number[] = [];
        for (const k of kv.keys()) {
          seen.push(k);
          if (k < 200) {
            kv.set(k + 500, { a: 1n, b: k, name: 'new' }); // may or may not be reached
            kv.delete(199 - k); // may already have been yielded
          }
        }
        expect(new Set(seen).size).toBe(seen.length);
        expect(seen.length).toBeLessThanOrEqual(400);
        // what was never deleted nor added is there, at most once each
        for (let i = 0; i < 100; i++) {
          const orig = seen.includes(i) || seen.includes(199 - i);
          expect(orig).toBe(true);
        }
      });
    });
  }

  it('entries() reads by batch lookup where it can: 600 entries in 3 calls, no next_key', () => {
    const raw = o.map('rt_kv');
    const calls = { batch: 0, next: 0, lookup: 0 };
    const counted = {
      name: raw.name,
      info: () => raw.info(),
      lookup: (k: Uint8Array, out: Uint8Array) => (calls.lookup++, raw.lookup(k, out)),
      update: (k: Uint8Array, v: Uint8Array, f?: number) => raw.update(k, v, f),
      delete: (k: Uint8Array) => raw.delete(k),
      nextKey: (k: Uint8Array | null, out: Uint8Array) => (calls.next++, raw.nextKey(k, out)),
      lookupBatch: (...a: Parameters<RawMap['lookupBatch']>) => (calls.batch++, raw.lookupBatch(...a)),
    } as unknown as RawMap;
    const kv = new TypedMap(counted, codecs.u32, Kv, true);
    for (let i = 0; i < 600; i++) kv.set(i, { a: 0n, b: i, name: '' });
    expect([...kv].length).toBe(600);
    expect(calls).toEqual({ batch: 3, next: 0, lookup: 0 });
  });

  it('lookupBatch returns null where the map type has no batch operations (a ring buffer)', () => {
    const ring = o.map('rt_events');
    expect(ring.info()).toMatchObject({ type: 27, keySize: 0, valueSize: 0 });
    expect(ring.lookupBatch(null, new Uint8Array(8), new Uint8Array(8), new Uint8Array(8), 1)).toBeNull();
    // and on a hash map it reports the batch
    const kv = new TypedMap(o.map('rt_kv'), codecs.u32, Kv, true);
    kv.set(5, { a: 5n, b: 5, name: 'five' });
    const keys = new Uint8Array(4 * 16), values = new Uint8Array(24 * 16);
    const r = o.map('rt_kv').lookupBatch(null, new Uint8Array(8), keys, values, 16);
    expect(r).toEqual({ count: 1, done: true });
    expect(new DataView(keys.buffer).getUint32(0, true)).toBe(5);
    expect(Kv.decode(new DataView(values.buffer), 0)).toEqual({ a: 5n, b: 5, name: 'five' });
  });
});
