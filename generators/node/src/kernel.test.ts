/**
 * End to end on the running kernel: examples/hello built into bpf.so
 * (coolbpf-gen build), its generated package over the real runtime
 * (packages/node, built), exactly as the CLI will lay it out. Skipped, with
 * the reason, without root, the kernel's BTF, or a built runtime.
 */
import { execFileSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildModel } from '@coolbpf/model';
import { afterAll, describe, expect, it } from 'vitest';
import { importPackage, materialize, repoRoot } from './cases.testutil.js';
import { generateNode } from './index.js';

const runtimeDir = join(repoRoot, 'packages', 'node');
const addon = join(runtimeDir, 'build', 'Release', 'coolbpf_node.node');
const why =
  process.getuid?.() !== 0 ? 'not root'
  : !existsSync('/sys/kernel/btf/vmlinux') ? 'no kernel BTF'
  : !existsSync(join(runtimeDir, 'dist', 'index.js')) || !existsSync(addon) ? 'packages/node is not built'
  : null;
if (why) console.log(`skipping the generated package on the kernel: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-gen-node-kernel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(why !== null)('the generated examples/hello package on the running kernel', () => {
  it('loads through bpf.so, sets and reads globals, reads events and maps, and refuses what it should', async () => {
    execFileSync(process.execPath, [join(repoRoot, 'packages', 'cli', 'bin', 'coolbpf-gen.js'), 'build', join(repoRoot, 'examples', 'hello', 'hello.bpf.c'), '--out', dir], { stdio: 'pipe' });
    const model = buildModel(readFileSync(join(dir, 'bpf.o')), { events: { events: 'struct event' } });
    const files = generateNode(model, { objectName: 'hello', objectFile: 'hello.bpf.o', sha256: model.object.sha256, version: '0.1.0' });
    const pkg = materialize(dir, files, 'js');
    copyFileSync(addon, join(pkg, 'runtime', 'coolbpf_node.node'));
    copyFileSync(join(dir, 'bpf.so'), join(pkg, 'bpf.so'));
    mkdirSync(join(dir, 'other'), { recursive: true });
    const hello = (await importPackage(pkg)) as any;

    const h = hello.init({ rodata: { only_uid: -1n } });
    try {
      expect(h.rodata.only_uid).toBe(-1n);
      expect(() => (h.rodata.only_uid = 0n)).toThrow(TypeError);
      h.bss.dropped = 3n;
      expect(h.bss.dropped).toBe(3n);
      const seen: any[] = [];
      const ac = new AbortController();
      const reading = (async () => {
        for await (const e of h.maps.events.iterate({ signal: ac.signal })) {
          if (e.comm === 'true') seen.push(e);
          if (seen.length >= 3) break;
        }
      })();
      for (let i = 0; i < 5; i++) execFileSync('/bin/true');
      const timer = setTimeout(() => ac.abort(), 5000);
      await reading.catch(() => undefined);
      clearTimeout(timer);
      expect(seen.length).toBe(3);
      expect(seen[0]).toMatchObject({ comm: 'true', uid: 0 });
      expect(typeof seen[0].ts_ns).toBe('bigint');
      expect(h.maps.exec_counts.get('true')).toBeGreaterThanOrEqual(5n);
    } finally {
      h.destroy();
    }

    const o = hello.open();
    o.rodata.only_uid = 4242n;
    expect(o.rodata.only_uid).toBe(4242n);
    o.programs.handle_exec.autoload = false;
    const l = o.load();
    expect(l.rodata.only_uid).toBe(4242n);
    l.destroy();

    // a bpf.so built from another object is refused
    execFileSync(process.execPath, [join(repoRoot, 'packages', 'cli', 'bin', 'coolbpf-gen.js'), 'gen', join(repoRoot, 'packages', 'fixtures', 'build', 'globals.bpfel.o'), '--out', join(dir, 'other')], { stdio: 'pipe' });
    expect(() => hello.init({ soPath: join(dir, 'other', 'bpf.so') })).toThrow(expect.objectContaining({ code: 'EMISMATCH' }));
  });
});
