// globals: .rodata of every scalar kind, set before load and copied by BPF
// into .bss; .data and .data.custom written live and read by BPF; initial
// values of every writable section; .rodata read-only after load.
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Gen from '../build/globals/node/dist/index.js';
import { expected, kernelSkipReason, loadScenario, skipNote, thrown, trigger } from './harness.js';

type Json = string | number | boolean | Json[] | { [k: string]: Json };
interface Case { id: string; expect: Record<string, Json>; triggers: number; [k: string]: unknown }
interface Spec { defaults: Record<string, Json>; values: Record<string, Json>; cases: Case[] }
const E = expected<Spec>('globals');
const spec = (id: string): Case => E.cases.find((c) => c.id === id)!;

type RodataValues = Omit<Gen.Rodata, 'target_tgid'>;
type Mirror = { [K in keyof RodataValues as K extends `r_${infer R}` ? `m_${R}` : never]: RodataValues[K] };

/** expect.json's neutral values as the Node wrapper types them: 64-bit integers bigint, __u8 arrays Uint8Array. */
function nodeValues(v: Record<string, Json>): RodataValues {
  const cfg = v['r_cfg'] as { flags: number[] } & Record<string, Json>;
  return {
    ...(v as unknown as RodataValues),
    r_u64: BigInt(v['r_u64'] as string),
    r_s64: BigInt(v['r_s64'] as string),
    r_wide: BigInt(v['r_wide'] as string),
    r_cfg: { ...(cfg as unknown as Gen.GlConfig), flags: Uint8Array.from(cfg.flags) },
  };
}

const names = (): (keyof RodataValues)[] => Object.keys(E.defaults) as (keyof RodataValues)[];
const rodataOf = (r: Readonly<Gen.Rodata>): RodataValues =>
  Object.fromEntries(names().map((n) => [n, r[n]])) as unknown as RodataValues;
const mirrorOf = (b: Gen.Bss): RodataValues =>
  Object.fromEntries(names().map((n) => [n, b[n.replace(/^r_/, 'm_') as keyof Mirror]])) as unknown as RodataValues;

const skip = kernelSkipReason();
if (skip) skipNote('globals', skip);

describe.skipIf(skip !== undefined)('globals', () => {
  let g: typeof Gen;
  const pid = process.pid;
  beforeAll(async () => {
    g = await loadScenario<typeof Gen>('globals');
  });

  it('rodata-defaults: .rodata defaults (the C initializers) as read and as BPF saw them', () => {
    using x = g.init({ rodata: { target_tgid: pid } });
    const want = nodeValues(E.defaults);
    expect(rodataOf(x.rodata)).toEqual(want);
    trigger(1);
    expect(x.bss.copies).toBe(1n);
    expect(mirrorOf(x.bss)).toEqual(want);
  });

  it('rodata-init: .rodata of every kind set through init(): read back, and BPF saw the same', () => {
    const want = nodeValues(E.values);
    using x = g.init({ rodata: { target_tgid: pid, ...want } });
    expect(rodataOf(x.rodata)).toEqual(want);
    trigger(1);
    expect(mirrorOf(x.bss)).toEqual(want);
    // values beyond 2^53 and negative 64-bit ones came through exactly
    expect(x.bss.m_u64).toBe(18446744073709551557n);
    expect(x.bss.m_s64).toBe(-9223372036854775807n);
  });

  it('rodata-open: .rodata set one by one on the opened object, read back before load, after load, and by BPF', () => {
    const want = nodeValues(E.values);
    const opened = g.open();
    try {
      opened.rodata.target_tgid = pid;
      for (const n of names()) {
        (opened.rodata as unknown as Record<string, unknown>)[n] = want[n];
        expect([n, opened.rodata[n]]).toEqual([n, want[n]]);
      }
      expect(rodataOf(opened.rodata)).toEqual(want);
      const x = opened.load();
      x.attach();
      expect(rodataOf(x.rodata)).toEqual(want);
      trigger(1);
      expect(mirrorOf(x.bss)).toEqual(want);
    } finally {
      opened.destroy();
    }
  });

  it('rodata-read-only: .rodata is read-only after load', () => {
    using x = g.init({ rodata: { target_tgid: pid } });
    const before = x.rodata.r_u32;
    const e = thrown(() => {
      // @ts-expect-error the loaded object's rodata is Readonly<Rodata>
      x.rodata.r_u32 = 1;
    });
    expect(e).toBeInstanceOf(TypeError);
    expect((e as Error).message).toMatch(/\.rodata.*read-only/);
    expect(thrown(() => ((x.rodata as Gen.Rodata).r_cfg = nodeValues(E.values).r_cfg))).toBeInstanceOf(TypeError);
    expect(x.rodata.r_u32).toBe(before);
    trigger(1);
    expect(x.bss.m_u32).toBe(before);
  });

  it('data-live: .data written live is what BPF reads; BPF\'s writes are read live', () => {
    const c = spec('data-live');
    using x = g.init({ rodata: { target_tgid: pid } });
    expect(x.data.live_in).toBe(BigInt(c.expect['live_in default'] as string));
    x.data.live_in = BigInt(c['liveIn'] as string);
    expect(x.data.live_in).toBe(BigInt(c['liveIn'] as string));
    trigger(c.triggers);
    expect(x.bss.live_seen).toBe(BigInt(c.expect['live_seen'] as string));
    expect(x.data.d_counter).toBe(BigInt(c.expect['d_counter'] as string));
    expect(x.bss.copies).toBe(BigInt(c.expect['copies'] as string));
  });

  it('data-custom: a custom section (.data.custom): defaults, live writes, BPF\'s counts', () => {
    const c = spec('data-custom');
    using x = g.init({ rodata: { target_tgid: pid } });
    expect(x.dataCustom.custom_in).toBe(BigInt(c.expect['custom_in default'] as string));
    expect(x.dataCustom.custom_hits).toBe(0);
    x.dataCustom.custom_in = BigInt(c['customIn'] as string);
    trigger(c.triggers);
    expect(x.bss.custom_seen).toBe(BigInt(c.expect['custom_seen'] as string));
    expect(x.dataCustom.custom_hits).toBe(c.expect['custom_hits']);
  });

  it('initial-values: initial values of .data, .data.custom and .bss given to init()', () => {
    const c = spec('initial-values');
    const i = c['initial'] as Record<string, string>;
    using x = g.init({
      rodata: { target_tgid: pid },
      data: { live_in: BigInt(i['live_in']!) },
      dataCustom: { custom_in: BigInt(i['custom_in']!) },
      bss: { b_initial: BigInt(i['b_initial']!) },
    });
    expect(x.bss.b_initial).toBe(BigInt(c.expect['b_initial'] as string));
    trigger(1);
    expect(x.bss.live_seen).toBe(BigInt(c.expect['live_seen'] as string));
    expect(x.bss.custom_seen).toBe(BigInt(c.expect['custom_seen'] as string));
    expect(x.bss.b_initial).toBe(BigInt(c.expect['b_initial'] as string));
  });

  it('out-of-range: a string longer than its char[n] is refused before load', () => {
    using opened = g.open();
    const e = thrown(() => {
      opened.rodata.r_name = 'x'.repeat(17);
    });
    expect(e).toBeInstanceOf(RangeError);
    expect(opened.rodata.r_name).toBe(E.defaults['r_name']);
  });

  it('out-of-range: integers out of their C type\'s range are refused (RangeError naming the global and the range), not wrapped', () => {
    using opened = g.open();
    const set = (f: (r: Gen.Rodata) => void) => thrown(() => f(opened.rodata));
    const refused = (f: (r: Gen.Rodata) => void, message: string) => {
      const e = set(f);
      expect(e).toBeInstanceOf(RangeError);
      expect((e as Error).message).toBe(message);
    };
    refused((r) => (r.r_u8 = 256), 'r_u8: 256 is not an integer in [0, 255] (u8)');
    refused((r) => (r.r_s8 = -129), 'r_s8: -129 is not an integer in [-128, 127] (i8)');
    refused((r) => (r.r_u16 = 1.5), 'r_u16: 1.5 is not an integer in [0, 65535] (u16)');
    refused((r) => (r.r_u32 = -1), 'r_u32: -1 is not an integer in [0, 4294967295] (u32)');
    refused((r) => (r.r_u64 = -1n), 'r_u64: -1n is not an integer in [0, 18446744073709551615] (u64)');
    refused((r) => (r.r_s64 = 2n ** 63n), 'r_s64: 9223372036854775808n is not an integer in [-9223372036854775808, 9223372036854775807] (i64)');
    // inside a struct and an array: the path to the value
    const cfg = opened.rodata.r_cfg;
    refused((r) => (r.r_cfg = { ...cfg, id: 65536 }), 'r_cfg.id: 65536 is not an integer in [0, 65535] (u16)');
    refused((r) => (r.r_cfg = { ...cfg, path: [{ x: 0, y: 2 ** 31 }] }), 'r_cfg.path[0].y: 2147483648 is not an integer in [-2147483648, 2147483647] (i32)');
    refused((r) => (r.r_grid = [[0, 0, 0], [0, 32768, 0]]), 'r_grid[1][1]: 32768 is not an integer in [-32768, 32767] (i16)');
    // nothing was written
    expect(opened.rodata.r_u8).toBe(E.defaults['r_u8']);
    expect(opened.rodata.r_u64).toBe(BigInt(E.defaults['r_u64'] as string));
    expect(opened.rodata.r_cfg).toEqual(cfg);
  });
});
