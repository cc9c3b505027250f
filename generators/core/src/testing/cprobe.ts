/**
 * The layouts of an object's types as the C compiler sees them: a host C
 * program over the object's types (`bpftool btf dump … format c`, as
 * @coolbpf/model's layout test does) prints sizeof, _Alignof and
 * offsetof/sizeof of every non-bitfield member, for the generators' tests to
 * hold their generated layouts against.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { LayoutPlan, StructPlan } from '../plan.js';
import { has } from './cases.js';

/** The host C compiler the probe is built with. */
export const CC: string | undefined = ['clang-16', 'clang', 'cc'].find(has);

/** Why the probe cannot run here (no C compiler, no bpftool), or null. */
export const noCProbe: string | null = !CC ? 'no C compiler (run scripts/setup.sh)' : !has('bpftool') ? 'bpftool is not installed (run scripts/setup.sh)' : null;

/** How C names a planned type: its tag, or for an anonymous type the type of the member that holds it. */
export function cType(plan: LayoutPlan, t: StructPlan, seen = new Set<string>()): string | null {
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

/** A member the probe measures: `id` is what its line reports it by. */
export interface ProbeField {
  readonly id: string;
  readonly cPath: string | null;
  readonly size: number;
  readonly bitfield: boolean;
}

/** One line of the probe's output, in the order of the structs given (a size line, then its fields). */
export type CLayoutLine =
  | { readonly what: 'size'; readonly key: string; readonly size: number; readonly align: number }
  | { readonly what: 'field'; readonly key: string; readonly field: string; readonly offset: number; readonly size: number };

/**
 * Builds and runs the probe in `work` for `structs` of `objectFile`'s plan.
 * `fieldsOf` says which members to measure and what to call them (by
 * default the plan's fields, by name); bitfields and members without a C
 * path are skipped. Throws when a type has no C spelling.
 */
export function cLayouts(
  objectFile: string,
  plan: LayoutPlan,
  structs: readonly StructPlan[],
  work: string,
  fieldsOf: (t: StructPlan) => readonly ProbeField[] = (t) => t.fields.map((f) => ({ id: f.name, cPath: f.cPath, size: f.size, bitfield: f.bits !== null })),
): CLayoutLine[] {
  if (!CC) throw new Error(noCProbe!);
  mkdirSync(work, { recursive: true });
  const lines = ['#define BPF_NO_PRESERVE_ACCESS_INDEX', '#include "types.h"', '#include <stdio.h>', '#include <stddef.h>', 'int main(void) {'];
  for (const t of structs) {
    const T = cType(plan, t);
    if (T === null) throw new Error(`${t.key}: no C spelling`);
    lines.push(`  printf("size|${t.key}|%zu|%zu\\n", sizeof(${T}), _Alignof(${T}));`);
    for (const f of fieldsOf(t)) {
      if (f.bitfield || !f.cPath) continue;
      const size = f.size === 0 ? '0' : `sizeof(((${T} *)0)->${f.cPath})`;
      lines.push(`  printf("field|${t.key}|${f.id}|%zu|%zu\\n", offsetof(${T}, ${f.cPath}), (size_t)${size});`);
    }
  }
  lines.push('  return 0;', '}');
  writeFileSync(join(work, 'types.h'), execFileSync('bpftool', ['btf', 'dump', 'file', objectFile, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
  writeFileSync(join(work, 'probe.c'), lines.join('\n'));
  execFileSync(CC, ['-w', '-O0', ...(CC.startsWith('clang') ? ['-mlong-double-64'] : []), '-o', join(work, 'probe'), join(work, 'probe.c')], { cwd: work });
  const out = execFileSync(join(work, 'probe'), { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n');
  return out.filter(Boolean).map((line) => {
    const [what, key, ...rest] = line.split('|');
    return what === 'size'
      ? { what, key: key!, size: Number(rest[0]), align: Number(rest[1]) }
      : { what: 'field', key: key!, field: rest[0]!, offset: Number(rest[1]), size: Number(rest[2]) };
  });
}
