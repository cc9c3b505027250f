/**
 * The layout every generated type carries (<Type>Layout: size, alignment,
 * field offsets and sizes, bitfield positions), as the generated package
 * itself reports it (Layouts(), through the probe), against the C compiler:
 * a host C program over the object's types (`bpftool btf dump … format c`)
 * prints sizeof, _Alignof and offsetof/sizeof of every non-bitfield member.
 */
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type StructPlan } from '@coolbpf/gen-core';
import { cLayouts, noCProbe } from '@coolbpf/gen-core/testing';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, materialize } from './cases.testutil.js';
import { noGo } from './gotool.testutil.js';
import { buildProbe, runProbe } from './probe.testutil.js';

const why = noGo ?? noCProbe;
if (why) console.log(`skipping the Go layouts against the C compiler: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-go-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface GoLayout {
  Name: string;
  Key: string;
  Size: number;
  Align: number;
  Packed: boolean;
  Fields: { Name: string; CPath: string; Go: string; Method: boolean; Offset: number; Size: number; Bitfield: boolean; BitOffset: number; BitWidth: number }[];
}

describe.skipIf(why !== null)('generated Go layouts agree with the C compiler (host, little-endian)', () => {
  for (const name of FIXTURES) {
    it(`fixture ${name}: size, alignment, offset and size of every non-bitfield field, every bitfield's position`, () => {
      const c = fixtureCase(name);
      const { model, files, view } = generate(c);
      const work = join(dir, name);
      mkdirSync(work, { recursive: true });
      const pkg = materialize(work, files);
      const [out] = runProbe(buildProbe(pkg, view.modulePath, view.structs.map((s) => s.name)), [{ op: 'layouts' }]);
      const layouts = new Map(((out!['layouts'] ?? []) as GoLayout[]).map((l) => [l.Key, l]));
      const plan = planLayout(model);
      const structs = plan.ordered.filter((t): t is StructPlan => t.kind !== 'enum');
      expect([...layouts.keys()].sort()).toEqual(structs.map((t) => t.key).sort());
      if (structs.length === 0) return;

      // the fields as the generated package lists them: their C paths must be the compiler's
      const probe = cLayouts(c.file, plan, structs, work, (t) => layouts.get(t.key)!.Fields.map((f) => ({ id: f.Name, cPath: f.CPath, size: f.Size, bitfield: f.Bitfield })));

      let fields = 0;
      for (const line of probe) {
        const { key } = line;
        const t = structs.find((s) => s.key === key)!;
        const l = layouts.get(key)!;
        if (line.what === 'size') {
          expect([key, l.Size]).toEqual([key, line.size]);
          if (!t.packed) expect([key, 'align', l.Align]).toEqual([key, 'align', line.align]);
          // every field has layout metadata, bitfields with their bit position
          expect(l.Fields).toHaveLength(t.fields.length);
          for (const f of t.fields) {
            const g = l.Fields.find((x) => x.Name === f.name)!;
            if (f.bits) expect([key, f.name, g.Bitfield, g.BitOffset, g.BitWidth]).toEqual([key, f.name, true, f.bits.bitOffset, f.bits.width]);
          }
          continue;
        }
        const { field, offset, size } = line;
        const g = l.Fields.find((x) => x.Name === field)!;
        expect([key, field, g.Offset, g.Size]).toEqual([key, field, offset, size]);
        fields++;
      }
      expect(probe.filter((l) => l.what === 'size')).toHaveLength(structs.length);
      if (name === 'layout') expect(fields).toBeGreaterThanOrEqual(60);
    });
  }
});
