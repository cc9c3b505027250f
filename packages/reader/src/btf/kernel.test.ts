import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { readBtfFile } from '../object.js';
import { bpftoolTypes, missing, sharedBtf, VMLINUX } from '../tools.testutil.js';
import { Btf } from './btf.js';
import { encodeBtf, reencodeBtf } from './encode.js';
import { Member, Struct, Typedef, Pointer, ArrayType, type Int } from './types.js';

const kernels = [
  { label: 'running kernel (/sys/kernel/btf/vmlinux)', file: VMLINUX },
  { label: "Debian 6.1 cloud kernel (../shared, gzip)", file: sharedBtf },
];

/** bpftool reads only uncompressed files. */
function plainCopy(file: string, dir: string): string {
  if (!file.endsWith('.gz')) return file;
  const out = join(dir, 'vmlinux.btf');
  writeFileSync(out, gunzipSync(readFileSync(file)));
  return out;
}

for (const k of kernels) {
  const why = missing({ tools: ['bpftool'], files: [k.file] });
  if (why) console.log(`skipping ${k.label}: ${why}`);
  describe.skipIf(why !== null)(k.label, () => {
    it('agrees with bpftool on every type: count, kind, name and size', () => {
      const dir = mkdtempSync(join(tmpdir(), 'coolbpf-'));
      try {
        const theirs = bpftoolTypes(plainCopy(k.file, dir));
        const btf = readBtfFile(readFileSync(k.file));
        expect(btf.count).toBe(theirs.length);
        let mismatches = 0;
        for (const t of theirs) {
          const ours = btf.summary(t.id);
          const same = ours.kind === t.kind.toLowerCase() && ours.name === (t.name === '(anon)' ? '' : t.name) && ours.size === (t.size ?? null);
          if (!same && mismatches++ < 5) expect({ id: t.id, ...ours }).toEqual({ id: t.id, kind: t.kind.toLowerCase(), name: t.name, size: t.size ?? null });
        }
        expect(mismatches).toBe(0);
        // materialized types agree with the fast summary
        for (let id = 1; id < btf.end; id += 97) {
          const t = btf.typeById(id);
          expect(t.kind).toBe(btf.summary(id).kind);
          expect(t.name).toBe(btf.summary(id).name);
        }
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    it('round trips byte for byte', () => {
      const raw = readFileSync(k.file);
      const original = k.file.endsWith('.gz') ? gunzipSync(raw) : raw;
      const btf = readBtfFile(raw);
      for (const t of btf.types()) {
        if (t.kind === 'struct' || t.kind === 'union') for (const m of t.members) void m.type;
      }
      expect(Buffer.from(reencodeBtf(btf).bytes).equals(original)).toBe(true);
    });

    it('decodes real structures: task_struct and its fields', () => {
      const btf = readBtfFile(readFileSync(k.file));
      const task = btf.find('task_struct', 'struct') as Struct;
      expect(task.size).toBeGreaterThan(1000);
      const pid = task.members.find((m) => m.name === 'pid')!;
      expect(pid.type.name).toBe('pid_t');
      expect(((pid.type as Typedef).target as Typedef).target.kind).toBe('int');
      const comm = task.members.find((m) => m.name === 'comm')!;
      expect((comm.type as ArrayType).length).toBe(16);
      const parent = task.members.find((m) => m.name === 'real_parent')!;
      expect(((parent.type as Pointer).target as Struct)).toBe(task);
    });
  });
}

const splitWhy = missing({ tools: ['bpftool'], files: [sharedBtf] });
if (splitWhy) console.log(`skipping split BTF: ${splitWhy}`);
describe.skipIf(splitWhy !== null)('split BTF (a module on top of vmlinux)', () => {
  it('encodes module types on the 6.1 base, bpftool reads them, and so do we', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coolbpf-'));
    try {
      const basePath = plainCopy(sharedBtf, dir);
      const base = Btf.decode(readFileSync(basePath));
      // A module struct made of vmlinux types, as pahole --btf_base writes it.
      const u32 = base.find('u32', 'typedef')!;
      const task = base.find('task_struct', 'struct')!;
      const intT = base.find('int', 'int') as Int;
      const mod = new Struct('coolbpf_mod_state', 24, [
        new Member('owner', new Pointer(task), 0),
        new Member('count', u32, 64),
        new Member('flags', intT, 96),
        new Member('hist', new ArrayType(u32, intT, 2), 128),
      ]);
      const split = encodeBtf([mod, new Typedef('coolbpf_mod_state_t', mod)], { base });
      const splitPath = join(dir, 'module.btf');
      writeFileSync(splitPath, split.bytes);

      const theirs = bpftoolTypes(splitPath, basePath);
      const decoded = readBtfFile(readFileSync(splitPath), base);
      expect(decoded.firstId).toBe(base.end);
      expect(theirs.map((t) => [t.id, t.kind.toLowerCase(), t.name === '(anon)' ? '' : t.name])).toEqual(
        [...decoded.entries()].map(([id, t]) => [id, t.kind, t.name]),
      );
      const s = decoded.find('coolbpf_mod_state', 'struct') as Struct;
      expect(((s.members[0]!.type as Pointer).target)).toBe(task);
      // bpftool's own C dump of the module names the base types we pointed at
      const c = execFileSync('bpftool', ['-B', basePath, 'btf', 'dump', 'file', splitPath, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      expect(c).toMatch(/struct coolbpf_mod_state \{\s*struct task_struct \*owner;\s*u32 count;\s*int flags;\s*u32 hist\[2\];\s*\};/);
      expect(Buffer.from(reencodeBtf(decoded).bytes).equals(Buffer.from(split.bytes))).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
