// maps: every common map kind used from both sides — the test's typed
// get/set/delete/has/iteration, and a BPF program that updates the same
// maps on every getppid(2) of this process.
import { readFileSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import type * as Gen from '../build/maps/node/dist/index.js';
import { allowedCpus, coolbpfError, expected, hasTaskset, kernelSkipReason, loadScenario, onCpu, skipNote, trigger } from './harness.js';

interface Case {
  id: string;
  does: string;
  triggers: number & Record<string, number>;
  expect: Record<string, unknown>;
  [k: string]: unknown;
}
interface Spec {
  updateFlags: { ANY: number; NOEXIST: number; EXIST: number };
  sizes: Record<string, number> & { maps: Record<string, { keySize: number; valueSize: number; maxEntries: number }> };
  cases: Case[];
}
const E = expected<Spec>('maps');
const spec = (id: string): Case => E.cases.find((c) => c.id === id)!;
const F = E.updateFlags;

const skip = kernelSkipReason();
if (skip) skipNote('maps', skip);

/** CPUs in /sys/devices/system/cpu/possible ("0-3,8"). */
function possibleCpus(): number {
  let n = 0;
  for (const part of readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',')) {
    const [a, b] = part.split('-').map(Number);
    n += (b ?? a!) - a! + 1;
  }
  return n;
}

describe.skipIf(skip !== undefined)('maps', () => {
  let g: typeof Gen;
  let x: Gen.Maps;
  beforeAll(async () => {
    g = await loadScenario<typeof Gen>('maps');
  });
  // a fresh object per test: maps start empty
  const fresh = (): Gen.Maps => (x = g.init({ rodata: { target_tgid: process.pid } }));
  afterEach(() => x?.destroy());

  it('hash-struct-key: hash with a struct key and a struct value, updated from both sides', () => {
    const c = spec('hash-struct-key');
    fresh();
    const key = c['key'] as Gen.MpFlowKey;
    const init = c['initial'] as { packets: string; bytes: string; label: string; delta: number };
    const flows = x.maps.mp_flows;
    flows.set(key, { packets: BigInt(init.packets), bytes: BigInt(init.bytes), label: init.label, delta: init.delta }, F.NOEXIST);
    expect(flows.get(key)).toEqual({ packets: BigInt(init.packets), bytes: BigInt(init.bytes), label: init.label, delta: init.delta });
    trigger(c.triggers);
    const want = c.expect as { packets: string; bytes: string; label: string; delta: number };
    expect(flows.get(key)).toEqual({ packets: BigInt(want.packets), bytes: BigInt(want.bytes), label: want.label, delta: want.delta });
    expect(flows.has(key)).toBe(true);
    const absent = c['absentKey'] as Gen.MpFlowKey;
    expect(flows.get(absent)).toBeUndefined();
    expect(flows.has(absent)).toBe(false);
    // the key decodes as it was written
    expect([...flows.keys()]).toEqual([key]);
    expect(x.bss.triggers).toBe(BigInt(c.triggers));
  });

  it('flags: update flags: NOEXIST on an existing key, EXIST on a missing one; delete and has', () => {
    const c = spec('flags');
    fresh();
    const m = x.maps.mp_small;
    const k = c['key'] as number, missing = c['missing'] as number;
    m.set(k, BigInt(c['value'] as string));
    const e1 = coolbpfError(() => m.set(k, 1n, F.NOEXIST), c.expect['NOEXIST on existing'] as string);
    expect(e1.message).toContain('mp_small');
    coolbpfError(() => m.set(missing, 1n, F.EXIST), c.expect['EXIST on missing'] as string);
    expect(m.get(k)).toBe(BigInt(c['value'] as string)); // the failed updates changed nothing
    expect(m.has(missing)).toBe(false);
    m.set(k, BigInt(c['replacement'] as string), F.EXIST);
    expect(m.get(k)).toBe(BigInt(c['replacement'] as string));
    expect(m.delete(k)).toBe(true);
    expect(m.delete(k)).toBe(false);
    expect(m.get(k)).toBeUndefined();
    expect(m.has(k)).toBe(false);
  });

  it('full: a full hash refuses a new key (E2BIG) and still replaces existing ones', () => {
    const c = spec('full');
    fresh();
    const m = x.maps.mp_small;
    const max = E.sizes.maps['mp_small']!.maxEntries;
    for (let i = 0; i < max; i++) m.set(i, BigInt(i * 10), F.NOEXIST);
    coolbpfError(() => m.set(max, 1n), c.expect['error'] as string);
    m.set(0, 99n);
    expect(m.get(0)).toBe(99n);
    expect([...m.keys()].length).toBe(c.expect['size']);
  });

  it('array: BPF counts in slot n % 4; bounds, delete and flags behave as the kernel says', () => {
    const c = spec('array');
    fresh();
    const a = x.maps.mp_array;
    expect([...a.values()]).toEqual([0n, 0n, 0n, 0n]);
    trigger(c.triggers);
    const want = (c.expect['values'] as string[]).map(BigInt);
    expect([0, 1, 2, 3].map((i) => a.get(i))).toEqual(want);
    expect([...a.entries()]).toEqual(want.map((v, i) => [i, v]));
    expect(new Map(a)).toEqual(new Map(want.map((v, i) => [i, v])));
    expect(a.get(4)).toBeUndefined();
    expect(a.has(4)).toBe(false);
    coolbpfError(() => a.set(4, 1n), c.expect['setPastEnd'] as string);
    coolbpfError(() => a.delete(0), c.expect['delete'] as string);
    coolbpfError(() => a.set(0, 100n, F.NOEXIST), c.expect['NOEXIST'] as string);
    a.set(1, 5n, F.EXIST);
    expect(a.get(1)).toBe(5n);
  });

  it('percpu: per-CPU array and hash: one value per possible CPU, index = CPU, as BPF counted them', (ctx) => {
    const c = spec('percpu');
    const cpus = hasTaskset() ? allowedCpus() : [];
    if (cpus.length < 2) {
      skipNote('maps: per-CPU values by CPU', hasTaskset() ? `this process may run on ${cpus.length} CPU only` : 'taskset is not installed');
      ctx.skip();
    }
    const [a, b] = [cpus[0]!, cpus[1]!];
    fresh();
    const n = possibleCpus();
    const arr = x.maps.mp_pcpu_array, hash = x.maps.mp_pcpu_hash;
    expect(arr.cpus).toBe(n);
    expect(hash.cpus).toBe(n);
    onCpu(a, () => trigger(c.triggers['a']));
    onCpu(b, () => trigger(c.triggers['b']));
    const values = arr.get(0)!;
    expect(values).toHaveLength(n);
    const want = Array.from({ length: n }, (_, i) => (i === a ? BigInt(c.triggers['a']!) : i === b ? BigInt(c.triggers['b']!) : 0n));
    expect(values).toEqual(want);
    expect(values.reduce((s, v) => s + v, 0n)).toBe(BigInt(c.expect['sum'] as string));
    const tallies = hash.get(c['pcpuHashKey'] as number)!;
    expect(tallies).toHaveLength(n);
    expect(tallies[a]).toEqual({ count: BigInt(c.triggers['a']!), cpu: a });
    expect(tallies[b]).toEqual({ count: BigInt(c.triggers['b']!), cpu: b });
    // values set from the test land on their CPUs
    const mine = Array.from({ length: n }, (_, i) => BigInt(100 * (i + 1)));
    arr.set(0, mine);
    expect(arr.get(0)).toEqual(mine);
    onCpu(a, () => trigger(1));
    expect(arr.get(0)).toEqual(mine.map((v, i) => (i === a ? v + 1n : v)));
    expect([...arr.entries()]).toEqual([[0, mine.map((v, i) => (i === a ? v + 1n : v))]]);
    expect(() => arr.set(0, mine.slice(1))).toThrow(RangeError);
  });

  it('lru: LRU hash: entries BPF inserted; never more than max_entries', () => {
    const c = spec('lru');
    fresh();
    const lru = x.maps.mp_lru;
    trigger(c.triggers);
    for (let i = 0; i < c.triggers; i++) expect(lru.get(BigInt(1000 + i))).toBe(BigInt(i * i));
    const inserted = c['inserted'] as number;
    for (let i = 0; i < inserted; i++) lru.set(BigInt(10_000 + i), BigInt(i));
    const keys = [...lru.keys()];
    expect(keys.length).toBeGreaterThan(0);
    expect(keys.length).toBeLessThanOrEqual(c.expect['maxEntries'] as number);
    expect(lru.get(BigInt(10_000 + inserted - 1))).toBe(BigInt(inserted - 1));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('iterate: batch lookup over several batches, next_key for a map without batch operations, deleting while iterating', () => {
    const c = spec('iterate');
    fresh();
    const flows = x.maps.mp_flows;
    const n = c['entries'] as number;
    const want = new Map<string, [Gen.MpFlowKey, Gen.MpFlowStats]>();
    for (let i = 0; i < n; i++) {
      const k = { addr: i, port: i % 65536, proto: 17 };
      const v = { packets: BigInt(i), bytes: BigInt(i * 1000), label: `f${i}`, delta: i === 0 ? 0 : -i };
      flows.set(k, v, F.NOEXIST);
      want.set(JSON.stringify(k), [k, v]);
    }
    const raw = x.object.map('mp_flows');
    const batch = vi.spyOn(raw, 'lookupBatch');
    const entries = [...flows.entries()];
    expect(batch).toHaveBeenCalled();
    expect(batch.mock.results.every((r) => r.type === 'return' && r.value !== null)).toBe(true);
    expect(batch.mock.calls.length).toBeGreaterThan(1); // 600 entries: more than one batch
    batch.mockRestore();
    expect(entries).toHaveLength(n);
    expect(new Map(entries.map(([k, v]) => [JSON.stringify(k), [k, v]]))).toEqual(want);
    expect([...flows.keys()].map((k) => JSON.stringify(k)).sort()).toEqual([...want.keys()].sort());
    expect([...flows.values()].map((v) => v.label).sort()).toEqual([...want.values()].map(([, v]) => v.label).sort());

    // the next_key path, as on a kernel or map type without batch operations
    const noBatch = vi.spyOn(raw, 'lookupBatch').mockReturnValue(null);
    const next = vi.spyOn(raw, 'nextKey');
    const viaNext = [...flows.entries()];
    expect(noBatch).toHaveBeenCalledTimes(1);
    expect(next.mock.calls.length).toBeGreaterThanOrEqual(n);
    noBatch.mockRestore();
    next.mockRestore();
    expect(viaNext).toHaveLength(n);
    expect(new Map(viaNext.map(([k, v]) => [JSON.stringify(k), [k, v]]))).toEqual(want);

    const lpm = x.maps.mp_lpm;
    const prefixes = c['lpm'] as { prefixlen: number; addr: number[]; value: number }[];
    for (const p of prefixes) lpm.set({ prefixlen: p.prefixlen, addr: Uint8Array.from(p.addr) }, p.value);
    const got = [...lpm.entries()];
    const norm = (k: Gen.MpLpmKey, v: number) => JSON.stringify([k.prefixlen, [...k.addr], v]);
    expect(got.map(([k, v]) => norm(k, v)).sort()).toEqual(prefixes.map((p) => JSON.stringify([p.prefixlen, p.addr, p.value])).sort());
    // a longest-prefix lookup, as the kernel does it
    expect(lpm.get({ prefixlen: 32, addr: Uint8Array.from([10, 1, 2, 200]) })).toBe(3);

    // deleting the entry just yielded is safe in both modes
    for (const [k] of flows) flows.delete(k);
    expect([...flows.keys()]).toEqual([]);
    for (const [k] of lpm) lpm.delete(k);
    expect([...lpm.keys()]).toEqual([]);
  });

  it('sizes: the kernel\'s key and value sizes equal the generated types\'', () => {
    fresh();
    for (const [name, want] of Object.entries(E.sizes.maps)) {
      const info = x.object.map(name).info();
      expect([name, info.keySize, info.valueSize, info.maxEntries]).toEqual([name, want.keySize, want.valueSize, want.maxEntries]);
    }
    expect(g.MpFlowKey.size).toBe(E.sizes['struct mp_flow_key']);
    expect(g.MpFlowStats.size).toBe(E.sizes['struct mp_flow_stats']);
    expect(g.MpCpuTally.size).toBe(E.sizes['struct mp_cpu_tally']);
    expect(g.MpLpmKey.size).toBe(E.sizes['struct mp_lpm_key']);
    expect(x.maps.mp_pcpu_hash.cpus).toBe(possibleCpus());
  });
});
