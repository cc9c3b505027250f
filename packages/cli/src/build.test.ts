import { execFileSync, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { fixturePath } from '@coolbpf/fixtures';
import { buildModel } from '@coolbpf/model';
import { Btf, encodeBtf, Int, readElf, Typedef } from '@coolbpf/reader';
import { runtime } from '@coolbpf/runtime-c';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'coolbpf-gen.js');
const repoRoot = resolve(here, '..', '..', '..');
const hello = join(repoRoot, 'examples', 'hello', 'hello.bpf.c');
const sharedBtf = resolve(repoRoot, '../shared/btf/debian-6.1.0-47-cloud-amd64.btf.gz');
const dir = mkdtempSync(join(tmpdir(), 'coolbpf-build-'));
// a cache of our own: the first build makes vmlinux.h, later ones find it
const cache = join(dir, 'cache');
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status === 0;
}
const missing = [
  ...['clang-16', 'bpftool', 'cc'].filter((t) => !onPath(t)),
  ...(existsSync('/sys/kernel/btf/vmlinux') ? [] : ['/sys/kernel/btf/vmlinux']),
];
if (missing.length) console.log(`skipping the build and gen tests: ${missing.join(', ')} missing`);

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

function run(args: string[], options: { cwd?: string; env?: Record<string, string> } = {}): Run {
  const r = spawnSync(process.execPath, [bin, ...args], {
    cwd: options.cwd ?? dir,
    env: { ...process.env, COOLBPF_CACHE: cache, ...options.env },
    encoding: 'utf8',
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function ok(args: string[], options?: Parameters<typeof run>[1]): Run {
  const r = run(args, options);
  if (r.status !== 0) throw new Error(`coolbpf-gen ${args.join(' ')} failed:\n${r.stderr}`);
  expect(r.stdout).toBe('');
  return r;
}

const sha256 = (path: string) => createHash('sha256').update(readFileSync(path)).digest('hex');
const lines = (s: string) => s.trimEnd().split('\n');
const scratchLeft = (out: string) => (existsSync(out) ? readdirSync(out).filter((n) => n.startsWith('.coolbpf-tmp-')) : []);

describe.skipIf(missing.length > 0)('build', () => {
  const out1 = join(dir, 'out1');
  let first: Run;
  beforeAll(() => {
    // a scratch directory left by a killed run (pid beyond pid_max) is cleaned up
    mkdirSync(join(out1, '.coolbpf-tmp-999999999-dead'), { recursive: true });
    first = ok(['build', hello, '--out', 'out1']);
  });

  it('writes bpf.o, bpf.so and include/coolbpf.h, one progress line per step', () => {
    expect(lines(first.stderr)).toEqual([
      'coolbpf-gen: [1/3] vmlinux.h from /sys/kernel/btf/vmlinux',
      `coolbpf-gen: [2/3] clang-16 ${hello} -> out1/bpf.o`,
      'coolbpf-gen: [3/3] bpf.so',
      'coolbpf-gen: wrote out1/bpf.o, out1/bpf.so, out1/include/coolbpf.h',
    ]);
    const model = buildModel(readFileSync(join(out1, 'bpf.o')));
    expect(model.programs.map((p) => p.name)).toEqual(['handle_exec']);
    expect(model.maps.map((m) => m.name)).toEqual(['events', 'exec_counts']);
    expect(readFileSync(join(out1, 'include', 'coolbpf.h'))).toEqual(readFileSync(runtime.header));
    expect(scratchLeft(out1)).toEqual([]);
  });

  it('keeps BTF and drops DWARF from bpf.o', () => {
    const sections = readElf(new Uint8Array(readFileSync(join(out1, 'bpf.o')))).sections.map((s) => s.name);
    expect(sections).toEqual(expect.arrayContaining(['.BTF', '.BTF.ext']));
    expect(sections.filter((n) => n.startsWith('.debug') || n.startsWith('.rel.debug'))).toEqual([]);
  });

  it('links bpf.so against libc, libelf and libz only', () => {
    const libs = execFileSync('ldd', [join(out1, 'bpf.so')], { encoding: 'utf8' })
      .split('\n').map((l) => l.trim().split(/\s+/)[0]!).filter(Boolean)
      .filter((l) => !l.startsWith('linux-vdso') && !/ld-linux/.test(l));
    expect(libs.sort()).toEqual(['libc.so.6', 'libelf.so.1', 'libz.so.1']);
  });

  it('exports only coolbpf_* symbols', () => {
    const syms = execFileSync('nm', ['-D', '--defined-only', join(out1, 'bpf.so')], { encoding: 'utf8' })
      .split('\n').filter(Boolean).map((l) => l.trim().split(/\s+/))
      // the version script's node (COOLBPF_1) shows as an absolute symbol: a version, not code or data
      .filter(([, type]) => type !== 'A')
      .map((f) => f[2]!.replace(/@.*$/, ''));
    expect(syms.length).toBeGreaterThan(10);
    expect(syms.filter((s) => !s.startsWith('coolbpf_'))).toEqual([]);
    expect(syms).toContain('coolbpf_object_sha256');
  });

  it('ships without DWARF (a quarter of the size), the symbol table kept', () => {
    const sections = execFileSync('readelf', ['-SW', join(out1, 'bpf.so')], { encoding: 'utf8' });
    expect(sections).not.toMatch(/\.debug_/);
    expect(sections).toContain('.symtab');
    expect(statSync(join(out1, 'bpf.so')).size).toBeLessThan(600 * 1024);
  });

  it('does nothing when run again with the same inputs', () => {
    const files = ['bpf.o', 'bpf.so', 'include/coolbpf.h', '.coolbpf-build.json'].map((f) => join(out1, f));
    const before = files.map((f) => statSync(f).mtimeMs);
    const r = ok(['build', hello, '--out', 'out1']);
    expect(r.stderr).toBe('coolbpf-gen: out1 is up to date\n');
    expect(files.map((f) => statSync(f).mtimeMs)).toEqual(before);
  });

  it('rebuilds an output that was changed or removed', () => {
    rmSync(join(out1, 'include', 'coolbpf.h'));
    const r = ok(['build', hello, '--out', 'out1']);
    expect(r.stderr).toMatch(/\[1\/3\] vmlinux\.h from \/sys\/kernel\/btf\/vmlinux \(cached\)/);
    expect(existsSync(join(out1, 'include', 'coolbpf.h'))).toBe(true);
  });

  it('gives byte-identical outputs in another directory', () => {
    ok(['build', hello, '--out', join(dir, 'elsewhere', 'deeper')]);
    for (const f of ['bpf.o', 'bpf.so', 'include/coolbpf.h']) expect(sha256(join(dir, 'elsewhere', 'deeper', f))).toBe(sha256(join(out1, f)));
  });

  it('rebuilds when a header the source includes changes', () => {
    const src = join(dir, 'src');
    mkdirSync(join(src, 'inc'), { recursive: true });
    writeFileSync(join(src, 'inc', 'knob.h'), 'const volatile int knob = 1;\n');
    writeFileSync(join(src, 'prog.bpf.c'), readFileSync(hello, 'utf8').replace('#include <bpf/bpf_core_read.h>', '#include <bpf/bpf_core_read.h>\n#include "knob.h"'));
    const args = ['build', 'src/prog.bpf.c', '--out', 'knob-out', '-I', 'src/inc'];
    ok(args);
    const o1 = sha256(join(dir, 'knob-out', 'bpf.o'));
    expect(ok(args).stderr).toBe('coolbpf-gen: knob-out is up to date\n');
    writeFileSync(join(src, 'inc', 'knob.h'), 'const volatile int knob = 2;\n');
    const r = ok(args);
    expect(r.stderr).toMatch(/\[2\/3\] clang-16 src\/prog\.bpf\.c -> knob-out\/bpf\.o/);
    expect(sha256(join(dir, 'knob-out', 'bpf.o'))).not.toBe(o1);
    expect(buildModel(readFileSync(join(dir, 'knob-out', 'bpf.o'))).dataSections.flatMap((d) => d.variables.map((v) => v.name))).toContain('knob');
    // and --cflags are part of the key too
    expect(ok([...args, '--cflags', '-DUNUSED=1']).stderr).toMatch(/\[3\/3\] bpf\.so/);
  });

  it('shows warnings without failing', () => {
    writeFileSync(join(dir, 'warn.bpf.c'), readFileSync(hello, 'utf8').replace('__u32 uid = ', 'int unused_var;\n\t__u32 uid = '));
    const r = ok(['build', 'warn.bpf.c', '--out', 'warn-out']);
    expect(r.stderr).toMatch(/^warn\.bpf\.c:\d+:\d+: warning: unused variable 'unused_var'/m);
    expect(existsSync(join(dir, 'warn-out', 'bpf.so'))).toBe(true);
  });
});

describe.skipIf(missing.length > 0)('build for another kernel (--btf)', () => {
  if (!existsSync(sharedBtf)) console.log(`skipping the --btf test: ${sharedBtf} does not exist`);
  it.skipIf(!existsSync(sharedBtf))('makes that kernel\'s vmlinux.h from gzip-compressed BTF and builds hello with it', () => {
    const r = ok(['build', hello, '--out', 'btf-out', '--btf', sharedBtf]);
    expect(lines(r.stderr)[0]).toBe(`coolbpf-gen: [1/3] vmlinux.h from ${sharedBtf}`);
    const header = join(cache, 'vmlinux', `${createHash('sha256').update(gunzipSync(readFileSync(sharedBtf))).digest('hex')}.h`);
    expect(readFileSync(header, 'utf8')).toMatch(/^#ifndef __VMLINUX_H__/);
    expect(buildModel(readFileSync(join(dir, 'btf-out', 'bpf.o'))).programs.map((p) => p.name)).toEqual(['handle_exec']);
    expect(lines(ok(['build', hello, '--out', 'btf-out', '--btf', sharedBtf]).stderr)).toEqual(['coolbpf-gen: btf-out is up to date']);
  });
});

describe.skipIf(missing.length > 0)('a source that does not compile', () => {
  beforeAll(() => {
    mkdirSync(join(dir, 'bad'), { recursive: true });
    writeFileSync(join(dir, 'bad', 'broken.bpf.c'), '#include "vmlinux.h"\n\nint f(void) {\n\treturn 1 +;\n}\n');
  });

  it('prints clang\'s errors under the path given, one summary line, and writes nothing', () => {
    const r = run(['build', 'bad/broken.bpf.c', '--out', 'bad-out']);
    expect(r.status).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/^bad\/broken\.bpf\.c:4:12: error: expected expression$/m);
    expect(lines(r.stderr).at(-1)).toBe('coolbpf-gen: error: bad/broken.bpf.c: compilation failed');
    expect(existsSync(join(dir, 'bad-out'))).toBe(false);
  });

  it('leaves the outputs of an earlier build as they were', () => {
    writeFileSync(join(dir, 'bad', 'ok.bpf.c'), readFileSync(hello));
    ok(['build', 'bad/ok.bpf.c', '--out', 'keep-out']);
    const before = ['bpf.o', 'bpf.so', '.coolbpf-build.json'].map((f) => sha256(join(dir, 'keep-out', f)));
    const r = run(['build', 'bad/broken.bpf.c', '--out', 'keep-out']);
    expect(r.status).toBe(1);
    expect(['bpf.o', 'bpf.so', '.coolbpf-build.json'].map((f) => sha256(join(dir, 'keep-out', f)))).toEqual(before);
    expect(scratchLeft(join(dir, 'keep-out'))).toEqual([]);
  });
});

describe.skipIf(missing.length > 0)('gen', () => {
  it('links bpf.so around a fixture object', () => {
    const r = ok(['gen', fixturePath('maps', 'bpfel'), '--out', 'gen-maps']);
    expect(lines(r.stderr)).toEqual([
      `coolbpf-gen: [1/1] bpf.so from ${fixturePath('maps', 'bpfel')}`,
      'coolbpf-gen: wrote gen-maps/bpf.o, gen-maps/bpf.so, gen-maps/include/coolbpf.h',
    ]);
    expect(readFileSync(join(dir, 'gen-maps', 'bpf.o'))).toEqual(readFileSync(fixturePath('maps', 'bpfel')));
    expect(existsSync(join(dir, 'gen-maps', 'bpf.so'))).toBe(true);
    expect(ok(['gen', fixturePath('maps', 'bpfel'), '--out', 'gen-maps']).stderr).toBe('coolbpf-gen: gen-maps is up to date\n');
  });

  it('refuses garbage before writing anything', () => {
    writeFileSync(join(dir, 'garbage.o'), 'not an object\n');
    const r = run(['gen', 'garbage.o', '--out', 'gen-garbage']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('coolbpf-gen: error: garbage.o: neither an ELF object nor raw BTF (unknown magic)\n');
    expect(existsSync(join(dir, 'gen-garbage'))).toBe(false);
  });

  it('refuses an object of the other byte order', () => {
    const r = run(['gen', fixturePath('maps', 'bpfeb'), '--out', 'gen-be']);
    expect(r.status).toBe(1);
    expect(lines(r.stderr)).toHaveLength(1);
    expect(r.stderr).toMatch(/maps\.bpfeb\.o: big-endian BPF object; a bpf\.so for this .* host can only load little-endian ones/);
    expect(existsSync(join(dir, 'gen-be'))).toBe(false);
  });
});

describe.skipIf(missing.length > 0)('two bpf.so in one process', () => {
  it('keep their own objects', () => {
    ok(['build', hello, '--out', 'two-hello']);
    ok(['gen', fixturePath('events'), '--out', 'two-events']);
    const c = join(dir, 'dlopen.c');
    writeFileSync(c, `#include <dlfcn.h>
#include <stdio.h>
#include <stdint.h>
#include <stddef.h>
int main(int argc, char **argv) {
	for (int i = 1; i < argc; i++) {
		void *h = dlopen(argv[i], RTLD_NOW | RTLD_LOCAL);
		if (!h) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
		const char *(*sha)(void) = (const char *(*)(void))dlsym(h, "coolbpf_object_sha256");
		const void *(*data)(size_t *) = (const void *(*)(size_t *))dlsym(h, "coolbpf_object_data");
		if (!sha || !data) { fprintf(stderr, "%s\\n", dlerror()); return 1; }
		size_t size = 0;
		const void *p = data(&size);
		printf("%s %zu %u\\n", sha(), size, (unsigned)((uintptr_t)p % 8));
	}
	return 0;
}
`);
    execFileSync('cc', ['-o', join(dir, 'dlopen'), c, '-ldl']);
    const a = join(dir, 'two-hello');
    const b = join(dir, 'two-events');
    const got = lines(execFileSync(join(dir, 'dlopen'), [join(a, 'bpf.so'), join(b, 'bpf.so')], { encoding: 'utf8' }));
    const want = [a, b].map((d) => `${sha256(join(d, 'bpf.o'))} ${statSync(join(d, 'bpf.o')).size} 0`);
    expect(got).toEqual(want);
    expect(got[0]).not.toBe(got[1]);
  });
});

describe('bad input: one line, exit status 1, nothing written', () => {
  const emptyCache = join(dir, 'empty-cache');
  const file = (name: string, bytes: Uint8Array) => {
    writeFileSync(join(dir, name), bytes);
    return join(dir, name);
  };
  const splitBtf = () => {
    const base = encodeBtf([new Int('unsigned int', 4, { signed: false, char: false, bool: false })]);
    const baseBtf = Btf.decode(base.bytes);
    return file('module.btf', encodeBtf([new Typedef('mod_t', baseBtf.typeById(1))], { base: baseBtf }).bytes);
  };
  const cases: [string, () => string[], RegExp, Record<string, string>?][] = [
    ['a missing source', () => ['build', 'nope.bpf.c', '--out', 'x'], /^coolbpf-gen: error: nope\.bpf\.c: no such file$/],
    ['a source that is not C', () => ['build', fixturePath('maps'), '--out', 'x'], /: not a C source file \(expected PROG\.bpf\.c\)$/],
    ['a source that is a directory', () => { mkdirSync(join(dir, 'adir.c'), { recursive: true }); return ['build', 'adir.c', '--out', 'x']; }, /^coolbpf-gen: error: adir\.c: is a directory$/],
    ['--btf that is not BTF', () => ['build', hello, '--out', 'x', '--btf', fixturePath('maps')], /^coolbpf-gen: error: .*maps\.bpfel\.o: not raw BTF/],
    ['--btf that is truncated', () => ['build', hello, '--out', 'x', '--btf', file('trunc.btf', readFileSync('/sys/kernel/btf/vmlinux').subarray(0, 4096))], /^coolbpf-gen: error: .*trunc\.btf: type section .* runs past the end/],
    ['--btf that is a module\'s split BTF', () => ['build', hello, '--out', 'x', '--btf', splitBtf()], /^coolbpf-gen: error: .*module\.btf: split BTF \(a kernel module's\); vmlinux\.h needs the kernel's own BTF$/],
    ['--btf that is missing', () => ['build', hello, '--out', 'x', '--btf', 'nope.btf'], /^coolbpf-gen: error: nope\.btf: no such file$/],
    ['no clang', () => ['build', hello, '--out', 'x'], /^coolbpf-gen: error: clang: cannot run \/nonexistent\/clang-16: not found$/, { CLANG: '/nonexistent/clang-16' }],
    ['no clang on PATH', () => ['build', hello, '--out', 'x'], /^coolbpf-gen: error: clang: not found \(looked for clang-16, clang on PATH; install it \(scripts\/setup\.sh does\), or set CLANG\)$/, { PATH: join(dir, 'no-such-dir') }],
    ['no bpftool', () => ['build', hello, '--out', 'x'], /^coolbpf-gen: error: bpftool: cannot run \/nonexistent\/bpftool: not found$/, { BPFTOOL: '/nonexistent/bpftool', COOLBPF_CACHE: emptyCache }],
    ['an unknown flag', () => ['build', hello, '--out', 'x', '--frobnicate'], /^coolbpf-gen: error: build: unknown option '--frobnicate'$/],
    ['an unknown short flag', () => ['build', hello, '--out', 'x', '-W'], /^coolbpf-gen: error: build: unknown option '-W'$/],
    ['no --out', () => ['build', hello], /^coolbpf-gen: error: build: --out DIR is required$/],
    ['--out that is a file', () => ['build', hello, '--out', hello], /^coolbpf-gen: error: .*hello\.bpf\.c: not a directory$/],
    ['an unterminated --cflags quote', () => ['build', hello, '--out', 'x', '--cflags', "-DX='a"], /^coolbpf-gen: error: --cflags '-DX='a': unterminated single quote$/],
    ['an unknown language', () => ['build', hello, '--out', 'x', '--lang', 'cobol'], /^coolbpf-gen: error: --lang cobol: unknown language 'cobol' \(expected a comma list of node, python, go, rust, or none\)$/],
    ['gen of raw BTF', () => ['gen', '/sys/kernel/btf/vmlinux', '--out', 'x'], /^coolbpf-gen: error: \/sys\/kernel\/btf\/vmlinux: raw BTF, not a BPF object/],
    ['gen of a missing object', () => ['gen', 'nope.o', '--out', 'x'], /^coolbpf-gen: error: nope\.o: no such file$/],
    ['gen with no cc', () => ['gen', fixturePath('maps'), '--out', 'x'], /^coolbpf-gen: error: cc: cannot run \/nonexistent\/cc: not found$/, { CC: '/nonexistent/cc' }],
  ];
  for (const [what, args, message, env] of cases) {
    it(what, () => {
      const r = run(args(), { env });
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const l = lines(r.stderr).filter((s) => !/^coolbpf-gen: \[\d\/\d\]/.test(s));
      expect(l).toHaveLength(1);
      expect(l[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
      expect(existsSync(join(dir, 'x'))).toBe(false);
    });
  }
});

describe.skipIf(missing.length > 0)('the cache', () => {
  it('is written atomically under COOLBPF_CACHE', () => {
    const files = readdirSync(join(cache, 'vmlinux'));
    expect(files.length).toBeGreaterThan(0);
    expect(files.every((f) => /^[0-9a-f]{64}\.h$/.test(f))).toBe(true);
  });
});

