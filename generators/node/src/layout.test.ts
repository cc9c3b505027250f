/**
 * The layout every generated codec carries (size, align, field offsets and
 * sizes) against the C compiler: a host C program over the object's types
 * (`bpftool btf dump … format c`, as @coolbpf/model's layout test does)
 * prints sizeof, _Alignof and offsetof/sizeof of every non-bitfield member.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { planLayout, type LayoutPlan, type StructPlan } from '@coolbpf/gen-core';
import { afterAll, describe, expect, it } from 'vitest';
import { FIXTURES, fixtureCase, generate, importPackage, materialize } from './cases.testutil.js';

const has = (tool: string) => {
  try {
    execFileSync('sh', ['-c', `command -v ${tool}`], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
};
const CC = ['clang-16', 'clang', 'cc'].find(has);
const why = !CC ? 'no C compiler (run scripts/setup.sh)' : !has('bpftool') ? 'bpftool is not installed (run scripts/setup.sh)' : null;
if (why) console.log(`skipping the layout checks against the C compiler: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-node-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Meta {
  size: number;
  align: number;
  fields: Record<string, { offset: number; size: number; bitOffset?: number }>;
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

      const lines = ['#define BPF_NO_PRESERVE_ACCESS_INDEX', '#include "types.h"', '#include <stdio.h>', '#include <stddef.h>', 'int main(void) {'];
      for (const t of structs) {
        const T = cType(plan, t);
        expect(T, `${t.key}: no C spelling`).not.toBeNull();
        lines.push(`  printf("size|${t.key}|%zu|%zu\\n", sizeof(${T}), _Alignof(${T}));`);
        for (const f of t.fields) {
          if (f.bits || !f.cPath) continue;
          const size = f.size === 0 ? '0' : `sizeof(((${T} *)0)->${f.cPath})`;
          lines.push(`  printf("field|${t.key}|${f.name}|%zu|%zu\\n", offsetof(${T}, ${f.cPath}), (size_t)${size});`);
        }
      }
      lines.push('  return 0;', '}');
      writeFileSync(join(work, 'types.h'), execFileSync('bpftool', ['btf', 'dump', 'file', c.file, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
      writeFileSync(join(work, 'probe.c'), lines.join('\n'));
      execFileSync(CC!, ['-w', '-O0', ...(CC!.startsWith('clang') ? ['-mlong-double-64'] : []), '-o', join(work, 'probe'), join(work, 'probe.c')], { cwd: work });
      const out = execFileSync(join(work, 'probe'), { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n');

      let fields = 0;
      for (const line of out) {
        const [what, key, ...rest] = line.split('|');
        const t = structs.find((s) => s.key === key)!;
        const meta = mod[typeNames.get(key!)!] as Meta;
        if (what === 'size') {
          expect([key, meta.size]).toEqual([key, Number(rest[0])]);
          if (!t.packed) expect([key, 'align', meta.align]).toEqual([key, 'align', Number(rest[1])]);
          // every field has layout metadata, bitfields with their bit position
          expect(Object.keys(meta.fields)).toHaveLength(t.fields.length);
          for (const f of t.fields) if (f.bits) expect(meta.fields[f.name]!.bitOffset).toBe(f.bits.bitOffset);
          continue;
        }
        const [field, offset, size] = rest;
        expect([key, field, meta.fields[field!]]).toEqual([key, field, expect.objectContaining({ offset: Number(offset), size: Number(size) })]);
        fields++;
      }
      expect(out.filter((l) => l.startsWith('size|'))).toHaveLength(structs.length);
      if (name === 'layout') expect(fields).toBeGreaterThanOrEqual(60);
    });
  }
});
