/**
 * The layout every generated codec carries (size, align, field offsets and
 * sizes) against the C compiler: a host C program over the object's types
 * (`bpftool btf dump … format c`, as @coolbpf/model's layout test does)
 * prints sizeof, _Alignof and offsetof/sizeof of every non-bitfield member.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type StructPlan } from '@coolbpf/gen-core';
import { cLayouts, noCProbe as why } from '@coolbpf/gen-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, importPackage, materialize } from './cases.testutil.js';

if (why) console.log(`skipping the layout checks against the C compiler: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-node-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Meta {
  size: number;
  align: number;
  fields: Record<string, { offset: number; size: number; bitOffset?: number }>;
}

describe.skipIf(why !== null)('generated layouts agree with the C compiler (host, little-endian)', () => {
  for (const name of FIXTURES) {
    it(`fixture ${name}: size, alignment, offset and size of every non-bitfield field`, async () => {
      const c = fixtureCase(name);
      const { model, files, typeNames } = generate(c);
      const work = join(dir, name);
      mkdirSync(work, { recursive: true });
      const mod = await importPackage(materialize(work, files, 'js'));
      const plan = planLayout(model);
      const structs = plan.ordered.filter((t): t is StructPlan => t.kind !== 'enum');
      if (structs.length === 0) return;

      const out = cLayouts(c.file, plan, structs, work);

      let fields = 0;
      for (const line of out) {
        const { key } = line;
        const t = structs.find((s) => s.key === key)!;
        const meta = mod[typeNames.get(key)!] as Meta;
        if (line.what === 'size') {
          expect([key, meta.size]).toEqual([key, line.size]);
          if (!t.packed) expect([key, 'align', meta.align]).toEqual([key, 'align', line.align]);
          // every field has layout metadata, bitfields with their bit position
          expect(Object.keys(meta.fields)).toHaveLength(t.fields.length);
          for (const f of t.fields) if (f.bits) expect(meta.fields[f.name]!.bitOffset).toBe(f.bits.bitOffset);
          continue;
        }
        const { field, offset, size } = line;
        expect([key, field, meta.fields[field]]).toEqual([key, field, expect.objectContaining({ offset, size })]);
        fields++;
      }
      expect(out.filter((l) => l.what === 'size')).toHaveLength(structs.length);
      if (name === 'layout') expect(fields).toBeGreaterThanOrEqual(60);
    });
  }
});
