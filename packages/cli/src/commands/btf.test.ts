import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { readBtfFile, Struct } from '@coolbpf/reader';
import { afterAll, describe, expect, it } from 'vitest';
import { releaseFromName } from './btf.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'bin', 'coolbpf-gen.js');
const repoRoot = resolve(here, '..', '..', '..', '..');
const sharedBtf = resolve(repoRoot, '../shared/btf/debian-6.1.0-47-cloud-amd64.btf.gz');
const dir = mkdtempSync(join(tmpdir(), 'coolbpf-btf-cmd-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const onPath = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const missing = ['gcc', 'pahole', 'llvm-objcopy'].filter((t) => !onPath(t));
if (missing.length) console.log(`skipping btf add from DWARF: ${missing.join(', ')} missing`);

function run(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [bin, ...args], { cwd: dir, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe('btf add / list (local store)', () => {
  const store = join(dir, 'store');

  it.skipIf(missing.length > 0)('turns a DWARF-only ELF into BTF with pahole -J and stores it', () => {
    writeFileSync(
      join(dir, 'dw.c'),
      'struct coolbpf_probe_a { int x; long y; };\nstruct coolbpf_probe_b { struct coolbpf_probe_a a[3]; char *name; };\nstruct coolbpf_probe_b global_b;\nint main(void) { return global_b.a[0].x; }\n',
    );
    execFileSync('gcc', ['-g', '-O0', '-o', join(dir, 'vmlinux-9.9.9-dwarf'), join(dir, 'dw.c')]);
    const r = run(['btf', 'add', 'vmlinux-9.9.9-dwarf', '--store', store]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toMatch(/^coolbpf-gen: stored BTF for 9\.9\.9-dwarf \(x86_64\), \d+ bytes, sha256 [0-9a-f]{64}\n$/);
    const btf = readBtfFile(readFileSync(join(store, 'btf', 'x86_64', '9.9.9-dwarf.btf')));
    const b = btf.find('coolbpf_probe_b', 'struct');
    expect(b).toBeInstanceOf(Struct);
    expect((b as Struct).members.map((m) => m.name)).toEqual(['a', 'name']);
    expect((btf.find('coolbpf_probe_a', 'struct') as Struct).members.map((m) => m.name)).toEqual(['x', 'y']);
    const list = run(['btf', 'list', '--store', store]);
    expect(list.stdout).toMatch(/^9\.9\.9-dwarf +x86_64 +\d+ +[0-9a-f]{12} +\S+ +vmlinux-9\.9\.9-dwarf$/m);
  });

  it.skipIf(missing.length > 0)('says so for an ELF without DWARF', () => {
    execFileSync('gcc', ['-O0', '-o', join(dir, 'nodebug'), join(dir, 'dw.c')]);
    const r = run(['btf', 'add', 'nodebug', '--release', 'x', '--store', store]);
    expect(r.status).toBe(1);
    expect(r.stderr.trimEnd().split('\n').pop()).toMatch(/^coolbpf-gen: error: nodebug: (no \.BTF after pahole -J|pahole -J failed)/);
  });

  it('stores gzipped raw BTF as raw, named from the file', () => {
    const src = sharedBtfOrSkip();
    if (!src) return;
    const r = run(['btf', 'add', src, '--release', '6.1.0-47-cloud-amd64', '--store', store]);
    expect(r.status, r.stderr).toBe(0);
    expect(readFileSync(join(store, 'btf', 'x86_64', '6.1.0-47-cloud-amd64.btf')).equals(gunzipSync(readFileSync(src)))).toBe(true);
  });

  it('refuses bad input in one line', () => {
    writeFileSync(join(dir, 'junk.btf'), 'junk');
    const j = run(['btf', 'add', 'junk.btf', '--store', store]);
    expect(j.status).toBe(1);
    expect(j.stderr).toBe('coolbpf-gen: error: junk.btf: not kernel BTF (bad magic (not BTF))\n');
    const rel = run(['btf', 'add', 'junk.btf', '--release', '../x', '--store', store]);
    expect(rel.stderr).toContain("kernel release '../x'");
    expect(run(['btf', 'frob']).stderr).toContain("btf: expected add, list or fetch, not 'frob'");
    expect(run(['btf', 'fetch', '6.1']).stderr).toContain('btf fetch: --remote URL is required');
    expect(run(['build', 'x.bpf.c', '--out', 'o', '--kernel', '6.1']).stderr).toContain('build: --kernel needs --remote URL');
  });

  it('names releases from file names', () => {
    expect(releaseFromName('/a/6.1.0-47-cloud-amd64.btf.gz')).toBe('6.1.0-47-cloud-amd64');
    expect(releaseFromName('vmlinux-6.8.0')).toBe('6.8.0');
  });
});

function sharedBtfOrSkip(): string | null {
  try {
    readFileSync(sharedBtf);
    return sharedBtf;
  } catch {
    console.log(`skipping: ${sharedBtf} is absent`);
    return null;
  }
}
