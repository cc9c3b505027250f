/**
 * The generated types in Go, without the kernel or bpf.so: a probe program
 * in each generated package's module (probe.testutil.ts) decodes and
 * encodes values through the types' UnmarshalBinary/MarshalBinary.
 *
 * - clang's encoding of fully initialized globals (every bitfield near its
 *   limits, packed, both byte orders) decodes to the C initializers, and
 *   encoding the initializers gives clang's bytes exactly;
 * - every struct and union of every fixture round-trips values built from
 *   its layout plan, and a decoded value re-encodes to the same bytes;
 * - unions: a member set through its setter, every member decoded.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type LayoutPlan, type StructPlan, type ValuePlan } from '@coolbpf/gen-core';
import { FULL_GLOBALS, globalBytes } from '@coolbpf/gen-core/testing';
import type { ObjectModel } from '@coolbpf/model';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, materialize, type Case } from './cases.testutil.js';
import { noGo } from './gotool.testutil.js';
import { buildProbe, runProbe, type ProbeOp } from './probe.testutil.js';

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-go-codecs-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Loaded {
  readonly model: ObjectModel;
  readonly plan: LayoutPlan;
  readonly bin: string;
  readonly bytes: Uint8Array;
  /** Go type name by model key */
  readonly names: ReadonlyMap<string, string>;
}

function load(c: Case, tag: string): Loaded {
  const { model, files, view } = generate(c);
  const pkg = materialize(join(dir, tag), files);
  const names = new Map(view.structs.map((s) => [s.key, s.name]));
  return { model, plan: planLayout(model), bin: buildProbe(pkg, view.modulePath, view.structs.map((s) => s.name)), bytes: readFileSync(c.file), names };
}

const global = (l: Loaded, section: string, name: string): Uint8Array => globalBytes(l.bytes, l.model, section, name);

const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
const dec = (x: bigint) => x.toString();

// ---- the C initializers of packages/fixtures/bpf/layout.bpf.c, in neutral form (64-bit as decimal strings) ----

const FULL = FULL_GLOBALS.map(([name, key, want]) => [name, key, Object.fromEntries(Object.entries(want).map(([k, v]) => [k, typeof v === 'bigint' ? dec(v) : v]))] as const);

describe.skipIf(noGo !== null)('the generated Go types', () => {
  for (const endian of ['bpfel', 'bpfeb'] as const) {
    describe(`layout fixture (${endian}): clang's initialized globals`, () => {
      let l: Loaded;
      beforeAll(() => {
        l = load(fixtureCase('layout', endian), `layout-${endian}`);
      });

      it('decode to the C initializers, and encoding the initializers gives clang\'s bytes', () => {
        const ops: ProbeOp[] = [];
        for (const [name, key, want] of FULL) {
          ops.push({ op: 'decode', type: l.names.get(key)!, hex: hex(global(l, '.data', name)) });
          ops.push({ op: 'encode', type: l.names.get(key)!, value: want });
        }
        const out = runProbe(l.bin, ops);
        FULL.forEach(([name, , want], i) => {
          const d = out[2 * i]!, e = out[2 * i + 1]!;
          expect([name, d['error']]).toEqual([name, undefined]);
          expect([name, d['value']]).toEqual([name, want]);
          expect([name, d['hex']]).toEqual([name, hex(global(l, '.data', name))]);
          expect([name, e['hex']]).toEqual([name, hex(global(l, '.data', name))]);
        });
      });
    });
  }

  describe('every struct and union round-trips', () => {
    for (const name of FIXTURES) {
      for (const endian of ['bpfel', 'bpfeb'] as const) {
        it(`fixture ${name} (${endian})`, () => {
          const l = load(fixtureCase(name, endian), `rt-${name}-${endian}`);
          const ops: ProbeOp[] = [];
          const cases: [string, Record<string, unknown>][] = [];
          for (const t of l.plan.ordered) {
            if (t.kind === 'enum') continue;
            for (const [seed, alt] of [[1, 0], [2, 1], [3, 2], [5, 3]] as const) {
              const value = sampleStruct(l.plan, t, seed, alt);
              ops.push({ op: 'encode', type: l.names.get(t.key)!, value });
              cases.push([t.key, value]);
            }
          }
          if (ops.length === 0) return;
          const encoded = runProbe(l.bin, ops);
          const decoded = runProbe(l.bin, encoded.map((e, i) => ({ op: 'decode', type: ops[i]!.op === 'encode' ? (ops[i] as { type: string }).type : '', hex: e['hex'] as string })));
          encoded.forEach((e, i) => {
            const [key, value] = cases[i]!;
            expect([key, e['error']]).toEqual([key, undefined]);
            expect([key, (e['hex'] as string).length / 2]).toEqual([key, l.plan.struct(key).size]);
            expectContains(e['value'], value, key);
            // a decoded value (every union member read) encodes to the same bytes
            expect([key, decoded[i]!['hex']]).toEqual([key, e['hex']]);
          });
          if (['layout', 'kinds', 'globals', 'maps', 'events'].includes(name)) expect(cases.length).toBeGreaterThan(0);
        });
      }
    }
  });

  it('unions: a setter writes only its member\'s bytes, and decoding reads every member', () => {
    const l = load(fixtureCase('layout'), 'unions');
    const named = l.names.get('union layout_named')!;
    const anon = l.names.get('struct layout_anon')!;
    const [u, a] = runProbe(l.bin, [
      { op: 'encode', type: named, value: { halves: [1, 2] } },
      { op: 'encode', type: anon, value: { family: 2, lo: 0x1234, hi: 0x5678, x: 1, y: 2, named: { raw: '7' } } },
    ]);
    expect(u!['value']).toEqual({ raw: dec((2n << 32n) | 1n), halves: [1, 2], bytes: [1, 0, 0, 0, 2, 0, 0, 0] });
    expect(a!['value']).toMatchObject({ family: 2, ipv4: 0x56781234, lo: 0x1234, hi: 0x5678, x: 1, y: 2, named: { raw: '7' } });
    expect((a!['value'] as { ipv6: number[] }).ipv6.slice(0, 4)).toEqual([0x34, 0x12, 0x78, 0x56]);
  });
});

// ---- values from the layout plan, in neutral form ----

/** A value for a plan, varied by `seed`, within each type's range. */
function sample(plan: LayoutPlan, v: ValuePlan, seed: number, alt: number): unknown {
  switch (v.kind) {
    case 'int': {
      const bits = v.size * 8;
      const u = (BigInt(seed) * 0x9e3779b97f4a7c15n + 0x1234n) & ((1n << BigInt(bits)) - 1n);
      const x = v.signed ? BigInt.asIntN(bits, u) : u;
      return v.size <= 4 ? Number(x) : dec(x);
    }
    case 'bool': return seed % 2 === 0;
    case 'float': return v.size === 4 ? Math.fround(seed + 0.5) : seed + 0.25;
    case 'pointer': return dec(0xffff888800000000n + BigInt(seed));
    case 'enum': {
      const e = plan.get(v.key);
      if (e.kind !== 'enum' || e.values.length === 0) return v.size === 8 ? '0' : 0;
      const bits = v.size * 8;
      const x = v.signed ? BigInt.asIntN(bits, e.values[seed % e.values.length]!.value) : BigInt.asUintN(bits, e.values[seed % e.values.length]!.value);
      return v.size === 8 ? dec(x) : Number(x);
    }
    case 'string': return 'abcdefghijklmnop'.slice(0, Math.max(0, Math.min(v.size - 1, 1 + (seed % 7))));
    case 'opaque': return Array.from({ length: v.size }, (_, i) => (seed + i) & 0xff);
    case 'array': {
      const build = (dims: readonly number[], s: number): unknown => {
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
        else if (f.value.kind === 'enum' || f.value.kind === 'int') out[f.name] = f.value.size > 4 ? dec(x) : Number(x);
      } else out[f.name] = sample(plan, f.value, s2, alt);
    }
  };
  fill(s.body);
  return out;
}

/** What decoding gives back for what was encoded: every key that was set (unions decode more members). */
function expectContains(got: unknown, want: unknown, path: string): void {
  if (want !== null && typeof want === 'object' && !Array.isArray(want)) {
    for (const [k, v] of Object.entries(want)) expectContains((got as Record<string, unknown>)?.[k], v, `${path}.${k}`);
  } else if (Array.isArray(want)) {
    expect((got as unknown[]).length, path).toBe(want.length);
    want.forEach((w, i) => expectContains((got as unknown[])[i], w, `${path}[${i}]`));
  } else expect(got, path).toEqual(want);
}
