/**
 * The layout every generated type carries (<Type>Layout: size, alignment,
 * field offsets and sizes, bitfield positions), as the generated package
 * itself reports it (Layouts(), through the probe), against the C compiler:
 * a host C program over the object's types (`bpftool btf dump … format c`)
 * prints sizeof, _Alignof and offsetof/sizeof of every non-bitfield member.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type LayoutPlan, type StructPlan } from '@coolbpf/gen-core';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, materialize } from './cases.testutil.js';
import { noGo } from './gotool.testutil.js';
import { buildProbe, runProbe } from './probe.testutil.js';

const has = (tool: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};
const CC = ['clang-16', 'clang', 'cc'].find(has);
const why = noGo ?? (!CC ? 'no C compiler (run scripts/setup.sh)' : !has('bpftool') ? 'bpftool is not installed (run scripts/setup.sh)' : null);
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

/** How C names a planned type: its tag, or for an anonymous type the type of the member that holds it. */
function cType(plan: LayoutPlan, t: StructPlan, seen = new Set<string>()): string | null {
  if (!t.anonymous) return t.c;
  if (seen.has(t.key)) return null;
  seen.add(t.key);
  for (const p of plan.all) {
    if (p.kind === 'enum') continue;
    for (const f of p.fields) {
      let v = f.value;
      let index = '';
      if (v.kind === 'array') {
        index = '[0]'.repeat(v.dims.length);
        v = v.element;
      }
      if ((v.kind === 'struct' || v.kind === 'union') && v.key === t.key && f.cPath && !f.bits) {
        const parent = cType(plan, p, seen);
        if (parent) return `__typeof__(((${parent} *)0)->${f.cPath}${index})`;
      }
    }
  }
  return t.name; // a typedef of an anonymous struct
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

      const lines = ['#define BPF_NO_PRESERVE_ACCESS_INDEX', '#include "types.h"', '#include <stdio.h>', '#include <stddef.h>', 'int main(void) {'];
      for (const t of structs) {
        const T = cType(plan, t);
        expect(T, `${t.key}: no C spelling`).not.toBeNull();
        lines.push(`  printf("size|${t.key}|%zu|%zu\\n", sizeof(${T}), _Alignof(${T}));`);
        for (const f of layouts.get(t.key)!.Fields) {
          if (f.Bitfield || !f.CPath) continue;
          const size = f.Size === 0 ? '0' : `sizeof(((${T} *)0)->${f.CPath})`;
          lines.push(`  printf("field|${t.key}|${f.Name}|%zu|%zu\\n", offsetof(${T}, ${f.CPath}), (size_t)${size});`);
        }
      }
      lines.push('  return 0;', '}');
      writeFileSync(join(work, 'types.h'), execFileSync('bpftool', ['btf', 'dump', 'file', c.file, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
      writeFileSync(join(work, 'probe.c'), lines.join('\n'));
      execFileSync(CC!, ['-w', '-O0', ...(CC!.startsWith('clang') ? ['-mlong-double-64'] : []), '-o', join(work, 'probe'), join(work, 'probe.c')], { cwd: work });
      const probe = execFileSync(join(work, 'probe'), { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n');

      let fields = 0;
      for (const line of probe) {
        const [what, key, ...rest] = line.split('|');
        const t = structs.find((s) => s.key === key)!;
        const l = layouts.get(key!)!;
        if (what === 'size') {
          expect([key, l.Size]).toEqual([key, Number(rest[0])]);
          if (!t.packed) expect([key, 'align', l.Align]).toEqual([key, 'align', Number(rest[1])]);
          // every field has layout metadata, bitfields with their bit position
          expect(l.Fields).toHaveLength(t.fields.length);
          for (const f of t.fields) {
            const g = l.Fields.find((x) => x.Name === f.name)!;
            if (f.bits) expect([key, f.name, g.Bitfield, g.BitOffset, g.BitWidth]).toEqual([key, f.name, true, f.bits.bitOffset, f.bits.width]);
          }
          continue;
        }
        const [field, offset, size] = rest;
        const g = l.Fields.find((x) => x.Name === field)!;
        expect([key, field, g.Offset, g.Size]).toEqual([key, field, Number(offset), Number(size)]);
        fields++;
      }
      expect(probe.filter((l) => l.startsWith('size|'))).toHaveLength(structs.length);
      if (name === 'layout') expect(fields).toBeGreaterThanOrEqual(60);
    });
  }
});
