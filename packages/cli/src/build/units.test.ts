import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@coolbpf/fixtures';
import { buildModel } from '@coolbpf/model';
import { encodeBtf, Int, Typedef } from '@coolbpf/reader';
import { afterAll, describe, expect, it } from 'vitest';
import { parseArgs, UsageError } from '../args.js';
import { parseBuildArgs } from '../commands/build.js';
import { parseGenArgs } from '../commands/gen.js';
import { cacheKey } from './cacheKey.js';
import { clangArgv, hostSearchDirs, type ClangInputs } from './clang.js';
import { dependenciesOf, parseDepfile } from './depfile.js';
import { BuildError } from './errors.js';
import { buildKey, genKey, type BuildKeyInputs, type GenKeyInputs } from './keys.js';
import { parseLanguages } from './languages.js';
import { linkArgv, shimCompileArgv } from './link.js';
import { formatManifest, parseManifest, type Manifest } from './manifest.js';
import { cacheRoot, vmlinuxCachePath } from './paths.js';
import { loadRuntime } from './runtime.js';
import { splitShellWords } from './shellWords.js';
import { objectName, shimSource } from './shim.js';
import { checkByteOrder, targetArch } from './target.js';

const scratch = mkdtempSync(join(tmpdir(), 'coolbpf-units-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('parseArgs with short options', () => {
  const spec = { I: { value: true, repeat: true, short: true }, out: { value: true } };
  it('takes -I DIR and -IDIR, in order', () => {
    expect(parseArgs(['-I', 'a', 'x.c', '-Ib', '--out', 'o'], spec, 't').values.get('I')).toEqual(['a', 'b']);
  });
  it('rejects a short option without a value, an unknown one, and --I', () => {
    expect(() => parseArgs(['-I'], spec, 't')).toThrow("t: option '-I' needs a value");
    expect(() => parseArgs(['-x'], spec, 't')).toThrow("t: unknown option '-x'");
    expect(() => parseArgs(['--I', 'a'], spec, 't')).toThrow("t: unknown option '--I'");
  });
  it('does not take Object.prototype names for options', () => {
    expect(() => parseArgs(['--constructor'], spec, 't')).toThrow("t: unknown option '--constructor'");
  });
});

describe('build and gen arguments', () => {
  it('parses every build option', () => {
    const o = parseBuildArgs(['p.bpf.c', '--out', 'd', '--btf=k.btf.gz', '-I', 'inc', '-Iinc2', '--cflags', `-DX='a b' -O1`, '--lang', 'none', '--min-btf']);
    expect(o).toEqual({ source: 'p.bpf.c', out: 'd', btf: 'k.btf.gz', includeDirs: ['inc', 'inc2'], cflags: ['-DX=a b', '-O1'], langSpec: 'none', languages: [], minBtf: true });
  });
  it('defaults to the running kernel, no languages and no minimal BTF', () => {
    expect(parseBuildArgs(['p.bpf.c', '--out', 'd'])).toMatchObject({ btf: '/sys/kernel/btf/vmlinux', includeDirs: [], cflags: [], languages: [], minBtf: false });
  });
  it('gen --min-btf cuts from --btf FILE, else from the running kernel', () => {
    expect(parseGenArgs(['a.o', '--out', 'd'])).toMatchObject({ minBtf: null });
    expect(parseGenArgs(['a.o', '--out', 'd', '--min-btf'])).toMatchObject({ minBtf: '/sys/kernel/btf/vmlinux' });
    expect(parseGenArgs(['a.o', '--out', 'd', '--min-btf', '--btf', 'k.btf.gz'])).toMatchObject({ minBtf: 'k.btf.gz' });
  });
  const bad: [string, () => unknown, string][] = [
    ['no --out', () => parseBuildArgs(['p.bpf.c']), 'build: --out DIR is required'],
    ['two sources', () => parseBuildArgs(['a.c', 'b.c', '--out', 'd']), 'build: expected one PROG.bpf.c, got 2'],
    ['an unknown flag', () => parseBuildArgs(['a.c', '--out', 'd', '--frob']), "build: unknown option '--frob'"],
    ['gen without --out', () => parseGenArgs(['a.o']), 'gen: --out DIR is required'],
    ['gen with -I', () => parseGenArgs(['a.o', '--out', 'd', '-I', 'x']), "gen: unknown option '-I'"],
    ['gen --btf without --min-btf', () => parseGenArgs(['a.o', '--out', 'd', '--btf', 'k.btf']), 'gen: --btf FILE is only used with --min-btf'],
    ['--min-btf with a value', () => parseBuildArgs(['a.c', '--out', 'd', '--min-btf=yes']), "build: option '--min-btf' takes no value"],
  ];
  for (const [what, fn, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(fn).toThrow(UsageError);
      expect(fn).toThrow(message);
    });
  }
});

describe('parseLanguages', () => {
  it('reads a comma list, or none', () => {
    expect(parseLanguages(undefined)).toEqual([]);
    expect(parseLanguages('none')).toEqual([]);
    expect(parseLanguages('node,python, go,rust')).toEqual(['node', 'python', 'go', 'rust']);
  });
  it('names what is wrong', () => {
    expect(() => parseLanguages('node,java')).toThrow("--lang node,java: unknown language 'java' (expected a comma list of node, python, go, rust, or none)");
    expect(() => parseLanguages('none,go')).toThrow("--lang none,go: 'none' cannot be combined with languages");
    expect(() => parseLanguages('go,,rust')).toThrow('empty language name');
    expect(() => parseLanguages('')).toThrow('empty language name');
    expect(() => parseLanguages('go,go')).toThrow("'go' given twice");
  });
});

describe('splitShellWords', () => {
  const cases: [string, string[]][] = [
    ['', []],
    ['  -O1   -g ', ['-O1', '-g']],
    [`-DX='a b' "-DY=\\"q\\" $HOME"`, ['-DX=a b', '-DY="q" $HOME']],
    ['a\\ b c\\\\d', ['a b', 'c\\d']],
    [`''`, ['']],
    [`-I'dir with space'/x`, ['-Idir with space/x']],
  ];
  for (const [input, words] of cases) it(`splits ${JSON.stringify(input)}`, () => expect(splitShellWords(input, '--cflags')).toEqual(words));
  it('rejects unbalanced quotes and a trailing backslash', () => {
    expect(() => splitShellWords(`-DX='a`, '--cflags')).toThrow("--cflags '-DX='a': unterminated single quote");
    expect(() => splitShellWords(`-DX="a`, '--cflags')).toThrow('unterminated double quote');
    expect(() => splitShellWords('a\\', '--cflags')).toThrow('ends with a backslash');
  });
});

describe('depfiles', () => {
  it('reads clang\'s escapes and continuation lines', () => {
    expect(parseDepfile('bpf.o: t.c sp\\ ace/x\\ y.h h\\#x/$$d.h \\\n  /usr/include/a.h\n')).toEqual(['t.c', 'sp ace/x y.h', 'h#x/$d.h', '/usr/include/a.h']);
  });
  const hasClang = spawnSync('clang-16', ['--version']).status === 0;
  if (!hasClang) console.log('skipping the clang depfile check: clang-16 is not installed');
  it.skipIf(!hasClang)('matches what clang writes', () => {
    const dir = mkdtempSync(join(scratch, 'dep-'));
    writeFileSync(join(dir, 'we ird#$.h'), 'int a;\n');
    writeFileSync(join(dir, 't.c'), '#include "we ird#$.h"\n');
    execFileSync('clang-16', ['-c', 't.c', '-o', 't.o', '-MD', '-MF', 't.d', '-MT', 'bpf.o'], { cwd: dir });
    expect(parseDepfile(readFileSync(join(dir, 't.d'), 'utf8'))).toEqual(['t.c', 'we ird#$.h']);
  });
  it('keeps absolute headers other than the source and what is in scratch, sorted and unique', () => {
    const dep = 'bpf.o: src/p.bpf.c /s/vmlinux/vmlinux.h inc/b.h /usr/include/a.h inc/b.h\n';
    expect(dependenciesOf(dep, '/w', 'src/p.bpf.c', '/s')).toEqual(['/usr/include/a.h', '/w/inc/b.h']);
  });
});

describe('clang command line', () => {
  const inputs: ClangInputs = {
    source: 'src/p.bpf.c',
    output: '/s/bpf.o',
    depfile: '/s/bpf.d',
    vmlinuxDir: '/s/vmlinux',
    includeDirs: ['inc1', '/abs/inc2'],
    libbpfIncludeDir: '/rt/libbpf-include',
    coolbpfIncludeDir: '/rt/include',
    systemDirs: ['/usr/lib/llvm-16/lib/clang/16/include', '/usr/include/x86_64-linux-gnu', '/usr/include'],
    targetArch: 'x86',
    prefixMaps: [['/w', '.'], ['/s', 'coolbpf-gen']],
    cflags: ['-DFOO', '-O1'],
  };
  it('orders includes as vmlinux.h, -I dirs, the source\'s dir, libbpf, coolbpf.bpf.h, then the host list after everything', () => {
    const argv = clangArgv(inputs);
    expect(argv.slice(0, 7)).toEqual(['-g', '-O2', '-target', 'bpf', '-mcpu=v3', '-D__TARGET_ARCH_x86', '-Wall']);
    const includes = argv.flatMap((a, i) => (a === '-I' || a === '-idirafter' ? [`${a} ${argv[i + 1]}`] : []));
    expect(includes).toEqual([
      '-I /s/vmlinux', '-I inc1', '-I /abs/inc2', '-I src', '-I /rt/libbpf-include', '-I /rt/include',
      '-idirafter /usr/lib/llvm-16/lib/clang/16/include', '-idirafter /usr/include/x86_64-linux-gnu', '-idirafter /usr/include',
    ]);
    expect(argv).toContain('-ffile-prefix-map=/s=coolbpf-gen');
    expect(argv.join(' ')).toContain('-MD -MF /s/bpf.d -MT bpf.o -DFOO -O1 -c src/p.bpf.c -o /s/bpf.o');
  });
  it('uses "." for a source in the cwd', () => {
    expect(clangArgv({ ...inputs, source: 'p.bpf.c' }).join(' ')).toContain('-I . -I /rt/libbpf-include');
  });
  it('reads the host search list from clang -v', () => {
    const v = 'clang -cc1 ...\n#include "..." search starts here:\n#include <...> search starts here:\n /usr/lib/llvm-16/lib/clang/16/include\n /usr/local/include\n /usr/include\nEnd of search list.\n';
    expect(hostSearchDirs(v)).toEqual(['/usr/lib/llvm-16/lib/clang/16/include', '/usr/local/include', '/usr/include']);
    expect(hostSearchDirs('nothing')).toEqual([]);
  });
  it('maps Node architectures to __TARGET_ARCH', () => {
    expect(targetArch('x64')).toBe('x86');
    expect(targetArch('arm64')).toBe('arm64');
    expect(() => targetArch('ia32')).toThrow('host architecture ia32: no known __TARGET_ARCH');
    expect(() => targetArch('constructor')).toThrow(BuildError);
  });
});

describe('byte order', () => {
  it('refuses an object the host kernel cannot load', () => {
    expect(() => checkByteOrder('little', 'LE', 'x64', 'a.o')).not.toThrow();
    expect(() => checkByteOrder('big', 'LE', 'x64', 'a.o')).toThrow(/^a\.o: big-endian BPF object; a bpf\.so for this x86-64 host can only load little-endian ones/);
    expect(() => checkByteOrder('little', 'BE', 's390x', 'a.o')).toThrow('-target bpfeb');
  });
});

describe('shim', () => {
  const model = buildModel(readFileSync(fixturePath('maps')));
  const text = shimSource({ version: '9.9.9', from: 'maps.bpfel.o', model, name: 'maps_bpfel', objectFile: 'bpf.o', minBtfFile: null });

  it('says what made it, from what', () => {
    expect(text.split('\n')[0]).toBe(`/* generated by coolbpf-gen 9.9.9 from maps.bpfel.o (sha256 ${model.object.sha256}) — DO NOT EDIT */`);
    expect(text).toContain(`coolbpf__object_sha256[65] = "${model.object.sha256}";`);
    expect(text).toContain('coolbpf__object_name[] = "maps_bpfel";');
    expect(text).toContain('"\\t.incbin \\"bpf.o\\"\\n"');
  });
  it('keeps a file name from ending its comment', () => {
    expect(shimSource({ version: '1', from: 'a*/b\n.o', model, name: 'x', objectFile: 'bpf.o', minBtfFile: null }).split('\n')[0]).toContain('from a*?b?.o (');
  });
  it('compiles to hidden, 8-aligned symbols around the object bytes', () => {
    const dir = mkdtempSync(join(scratch, 'shim-'));
    writeFileSync(join(dir, 'shim.c'), text);
    const obj = readFileSync(fixturePath('maps'));
    writeFileSync(join(dir, 'bpf.o'), obj);
    execFileSync('cc', shimCompileArgv(dir), { cwd: dir });
    const syms = execFileSync('readelf', ['-sW', 'shim.o'], { cwd: dir, encoding: 'utf8' });
    const sym = (name: string) => {
      const f = syms.split('\n').find((l) => l.trim().split(/\s+/)[7] === name)?.trim().split(/\s+/);
      if (!f) throw new Error(`no ${name} in\n${syms}`);
      return { value: parseInt(f[1]!, 16), size: Number(f[2]), type: f[3], bind: f[4], vis: f[5] };
    };
    for (const n of ['coolbpf__object', 'coolbpf__object_end', 'coolbpf__min_btf', 'coolbpf__min_btf_end', 'coolbpf__object_sha256', 'coolbpf__object_name']) {
      expect(sym(n)).toMatchObject({ type: 'OBJECT', bind: 'GLOBAL', vis: 'HIDDEN' });
    }
    expect(sym('coolbpf__object').value % 8).toBe(0);
    expect(sym('coolbpf__object').size).toBe(obj.length);
    expect(sym('coolbpf__object_end').value - sym('coolbpf__object').value).toBe(obj.length);
    expect(sym('coolbpf__min_btf_end').value).toBe(sym('coolbpf__min_btf').value);
    expect(sym('coolbpf__object_sha256').size).toBe(65);
    const sections = execFileSync('readelf', ['-SW', 'shim.o'], { cwd: dir, encoding: 'utf8' });
    expect(sections).toMatch(/\.rodata\.coolbpf +PROGBITS/);
    expect(sections).toMatch(/\.note\.GNU-stack +PROGBITS .* 00 +0 +0 +1$/m);
  });
  it('embeds a minimal BTF between its two symbols, 8-aligned, after the object', () => {
    const dir = mkdtempSync(join(scratch, 'shim-min-'));
    const blob = encodeBtf([new Typedef('u32_t', new Int('unsigned int', 4, { signed: false, char: false, bool: false }))]).bytes;
    writeFileSync(join(dir, 'min.btf'), blob);
    writeFileSync(join(dir, 'bpf.o'), readFileSync(fixturePath('maps')));
    writeFileSync(join(dir, 'shim.c'), shimSource({ version: '1', from: 'maps.o', model, name: 'maps', objectFile: 'bpf.o', minBtfFile: 'min.btf' }));
    execFileSync('cc', shimCompileArgv(dir), { cwd: dir });
    const syms = execFileSync('readelf', ['-sW', 'shim.o'], { cwd: dir, encoding: 'utf8' });
    const value = (name: string) => parseInt(syms.split('\n').find((l) => l.trim().split(/\s+/)[7] === name)!.trim().split(/\s+/)[1]!, 16);
    const start = value('coolbpf__min_btf');
    expect(start % 8).toBe(0);
    expect(value('coolbpf__min_btf_end') - start).toBe(blob.length);
    execFileSync('objcopy', ['-O', 'binary', '--only-section=.rodata.coolbpf', 'shim.o', 'rodata.bin'], { cwd: dir });
    const rodata = readFileSync(join(dir, 'rodata.bin'));
    expect(Buffer.compare(rodata.subarray(start, start + blob.length), Buffer.from(blob))).toBe(0);
  });
  it('names the object after the file', () => {
    expect(objectName('examples/hello/hello.bpf.c')).toBe('hello');
    expect(objectName('/x/maps.bpfel.o')).toBe('maps_bpfel');
    expect(objectName('my-prog.bpf.o')).toBe('my_prog');
    expect(objectName('weird name.o')).toBe('weird_name');
    expect(objectName('.o')).toBe('bpf');
  });
});

describe('link command line', () => {
  it('links the whole runtime, then libbpf and the system libraries, exporting only the ABI', () => {
    expect(linkArgv({ runtimeArchive: '/rt/r.a', libbpfArchive: '/rt/l.a', versionScript: '/rt/v.map', systemLibs: ['-lelf', '-lz'] })).toEqual([
      '-shared', '-o', 'bpf.so', 'shim.o',
      '-Wl,--whole-archive', '/rt/r.a', '-Wl,--no-whole-archive', '/rt/l.a', '-lelf', '-lz',
      '-Wl,--version-script=/rt/v.map', '-Wl,-z,defs', '-Wl,--build-id=sha1', '-Wl,-soname,bpf.so', '-Wl,--strip-debug', '-Wl,--gc-sections',
    ]);
  });
});

describe('cache key and manifest', () => {
  it('changes with any part, and part boundaries matter', () => {
    const k = cacheKey([['a', 'bc'], ['d', 'e']]);
    expect(k).toMatch(/^[0-9a-f]{64}$/);
    expect(cacheKey([['a', 'bc'], ['d', 'e']])).toBe(k);
    expect(cacheKey([['a', 'b'], ['d', 'e']])).not.toBe(k);
    expect(cacheKey([['a', 'b'], ['cd', 'e']])).not.toBe(k);
    expect(cacheKey([['a', 'bcd=1:e']])).not.toBe(k);
  });
  it('covers every input of build and gen', () => {
    const b: BuildKeyInputs = {
      version: '1', cwd: '/w', source: 'p.bpf.c', sourceSha256: 's', btfSha256: 'b', arch: 'x64', clangVersion: 'c',
      clangArgv: ['-O2'], ccVersion: 'g', runtimeFingerprint: 'r', wrappers: 'none', dependencies: [['/a.h', 'h']], minBtf: null,
    };
    const k = buildKey(b);
    const variants: Partial<BuildKeyInputs>[] = [
      { version: '2' }, { cwd: '/x' }, { source: 'q.bpf.c' }, { sourceSha256: 't' }, { btfSha256: 'c' }, { arch: 'arm64' },
      { clangVersion: 'd' }, { clangArgv: ['-O1'] }, { ccVersion: 'h' }, { runtimeFingerprint: 's' }, { wrappers: 'node abc' },
      { dependencies: [['/a.h', 'i']] }, { dependencies: [['/a.h', null]] }, { dependencies: [] },
      { minBtf: 'bpftool v7.1.0' }, { minBtf: 'bpftool v7.2.0' },
    ];
    expect(new Set([k, ...variants.map((v) => buildKey({ ...b, ...v }))]).size).toBe(variants.length + 1);
    const g: GenKeyInputs = { version: '1', objectSha256: 'o', objectName: 'n', from: 'f.o', arch: 'x64', ccVersion: 'g', runtimeFingerprint: 'r', wrappers: 'none', minBtf: null };
    const gv: Partial<GenKeyInputs>[] = [
      { version: '2' }, { objectSha256: 'p' }, { objectName: 'm' }, { from: 'g.o' }, { arch: 'arm64' }, { ccVersion: 'h' }, { runtimeFingerprint: 's' }, { wrappers: 'node abc' },
      { minBtf: { btfSha256: 'k', bpftool: 'v1' } }, { minBtf: { btfSha256: 'l', bpftool: 'v1' } }, { minBtf: { btfSha256: 'k', bpftool: 'v2' } },
    ];
    expect(new Set([genKey(g), ...gv.map((v) => genKey({ ...g, ...v }))]).size).toBe(gv.length + 1);
  });
  it('round-trips a manifest and refuses anything else', () => {
    const m: Manifest = { generator: 'coolbpf-gen', version: '0.1.0', command: 'build', key: 'k', dependencies: ['/a.h'], outputs: { 'bpf.o': 'x' } };
    expect(parseManifest(formatManifest(m))).toEqual(m);
    const withMin: Manifest = { ...m, minBtf: { from: '/sys/kernel/btf/vmlinux', sha256: 'abc' } };
    expect(parseManifest(formatManifest(withMin))).toEqual(withMin);
    expect(parseManifest('{')).toBeNull();
    expect(parseManifest('null')).toBeNull();
    expect(parseManifest(JSON.stringify({ ...m, generator: 'other' }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...m, outputs: ['x'] }))).toBeNull();
    expect(parseManifest(JSON.stringify({ ...m, dependencies: [1] }))).toBeNull();
  });
  it('puts the vmlinux.h cache where the shell default says', () => {
    expect(cacheRoot({ COOLBPF_CACHE: '/c' }, '/home/u')).toBe('/c');
    expect(cacheRoot({ COOLBPF_CACHE: '', XDG_CACHE_HOME: '/x' }, '/home/u')).toBe('/x/coolbpf');
    expect(cacheRoot({}, '/home/u')).toBe('/home/u/.cache/coolbpf');
    expect(vmlinuxCachePath('/c', 'ab')).toBe('/c/vmlinux/ab.h');
  });
});

describe('runtime', () => {
  it('says how to build it when it is not built', () => {
    const rt = {
      includeDir: '/nope/include', header: '/nope/include/coolbpf.h', runtimeArchive: '/nope/build/libcoolbpf-runtime.a',
      libbpfArchive: '/nope/build/libbpf.a', libbpfIncludeDir: '/nope/build/libbpf-include', versionScript: '/nope/src/coolbpf.map',
      systemLibs: [], fingerprint: () => { throw new Error('ENOENT'); },
    };
    expect(() => loadRuntime(rt)).toThrow(/^@coolbpf\/runtime-c: not built \(build\/libcoolbpf-runtime\.a is missing; run `npm run build`/);
  });
});
