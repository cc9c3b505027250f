import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { checkObject } from '@coolbpf/model';
import { Btf, readBtfFile, readObject, type Struct } from '@coolbpf/reader';
import { runtime } from '@coolbpf/runtime-c';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// build/gen --min-btf: the minimal BTF bpftool cuts from the target kernel's
// BTF for the object's CO-RE relocations, embedded in bpf.so; then the
// bpf.so loaded where /sys/kernel/btf/vmlinux is hidden (a private mount
// namespace with a tmpfs over /sys/kernel/btf).

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'coolbpf-gen.js');
const fixtures = join(here, '..', 'fixtures');
const source = join(fixtures, 'minbtf', 'minbtf.bpf.c');
const repoRoot = resolve(here, '..', '..', '..');
const debian61 = resolve(repoRoot, '../shared/btf/debian-6.1.0-47-cloud-amd64.btf.gz');
const VMLINUX = '/sys/kernel/btf/vmlinux';

const onPath = (tool: string) => spawnSync('sh', ['-c', `command -v ${tool}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status === 0;
const missing = [...['clang-16', 'bpftool', 'cc', 'readelf'].filter((t) => !onPath(t)), ...(existsSync(VMLINUX) ? [] : [VMLINUX])];
if (missing.length) console.log(`skipping the --min-btf tests: ${missing.join(', ')} missing`);
if (!existsSync(debian61)) console.log(`skipping the cross-kernel --min-btf test: ${debian61} does not exist`);
const kernelSkip = process.getuid?.() !== 0 ? 'loading BPF and mount namespaces need root' : !onPath('unshare') ? 'unshare missing' : undefined;
if (kernelSkip) console.log(`skipping the --min-btf load tests: ${kernelSkip}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-minbtf-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function gen(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, COOLBPF_CACHE: join(dir, 'cache') } });
  if (r.status !== 0) throw new Error(`coolbpf-gen ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stderr;
}
const out = (...p: string[]) => join(dir, ...p);
const bytes = (...p: string[]) => readFileSync(out(...p));

/** The bytes bpf.so holds between coolbpf__min_btf and coolbpf__min_btf_end. */
function embedded(bpfSo: string): Buffer {
  const syms = execFileSync('readelf', ['-sW', bpfSo], { encoding: 'utf8' });
  const symbol = (name: string) => {
    const f = syms.split('\n').map((l) => l.trim().split(/\s+/)).find((c) => c[7] === name);
    if (!f) throw new Error(`no symbol ${name} in ${bpfSo}`);
    return { value: parseInt(f[1]!, 16), section: Number(f[6]) };
  };
  const { value: start, section } = symbol('coolbpf__min_btf');
  const end = symbol('coolbpf__min_btf_end').value;
  // the linker merges .rodata.coolbpf into .rodata: file offset = address - section address + section offset
  const sec = execFileSync('readelf', ['-SW', bpfSo], { encoding: 'utf8' }).split('\n').find((l) => l.replace(/\[\s+/, '[').trim().startsWith(`[${section}]`))!;
  const [addr, offset] = sec.slice(sec.indexOf('PROGBITS') + 8).trim().split(/\s+/).map((h) => parseInt(h, 16));
  return readFileSync(bpfSo).subarray(start - addr! + offset!, end - addr! + offset!);
}

describe.skipIf(missing.length > 0)('build --min-btf', () => {
  let progress: string;
  beforeAll(() => {
    progress = gen('build', source, '--out', 'mb', '--min-btf');
    gen('build', source, '--out', 'plain');
  });

  it('makes min.btf: valid BTF, far smaller than the kernel\'s, with what the relocations need', () => {
    expect(progress).toContain('coolbpf-gen: [3/4] minimal BTF from /sys/kernel/btf/vmlinux\n');
    expect(progress).toContain('wrote mb/bpf.o, mb/min.btf, mb/bpf.so, mb/include/coolbpf.h\n');
    const min = bytes('mb', 'min.btf');
    const full = readFileSync(VMLINUX);
    expect(min.length).toBeLessThan(full.length / 100);
    const btf = Btf.decode(min);
    const task = btf.find('task_struct', 'struct') as Struct;
    expect(task.members.map((m) => m.name).sort()).toEqual(['real_parent', 'tgid']);
    // every relocation resolves against it exactly as against the whole kernel
    const obj = readObject(bytes('mb', 'bpf.o'));
    const onMin = checkObject(obj, [{ label: 'min', btf }]);
    const onFull = checkObject(obj, [{ label: 'full', btf: readBtfFile(full) }]);
    expect(onMin.ok).toBe(true);
    expect(onMin.relocations.map((r) => r.kernels[0]!.value)).toEqual(onFull.relocations.map((r) => r.kernels[0]!.value));
    expect(onMin.relocations.length).toBeGreaterThan(0);
  });

  it('embeds min.btf in bpf.so between the coolbpf__min_btf symbols; without --min-btf they are empty', () => {
    expect(Buffer.compare(embedded(out('mb', 'bpf.so')), bytes('mb', 'min.btf'))).toBe(0);
    expect(embedded(out('plain', 'bpf.so')).length).toBe(0);
    expect(existsSync(out('plain', 'min.btf'))).toBe(false);
  });

  it('is part of the cache key and the manifest; the same inputs give the same bytes', () => {
    const manifest = JSON.parse(bytes('mb', '.coolbpf-build.json').toString()) as { key: string; minBtf?: { from: string; sha256: string }; outputs: Record<string, string> };
    const plain = JSON.parse(bytes('plain', '.coolbpf-build.json').toString()) as typeof manifest;
    expect(manifest.minBtf).toEqual({ from: VMLINUX, sha256: execFileSync('sha256sum', [VMLINUX], { encoding: 'utf8' }).split(' ')[0] });
    expect(plain.minBtf).toBeUndefined();
    expect(manifest.key).not.toBe(plain.key);
    expect(Object.keys(manifest.outputs)).toContain('min.btf');
    expect(gen('build', source, '--out', 'mb', '--min-btf')).toBe('coolbpf-gen: mb is up to date\n');
    gen('build', source, '--out', 'mb2', '--min-btf');
    for (const f of ['bpf.o', 'min.btf', 'bpf.so']) expect(Buffer.compare(bytes('mb2', f), bytes('mb', f)), f).toBe(0);
    // the same directory without the option: rebuilt, and min.btf goes
    expect(gen('build', source, '--out', 'mb2')).toContain('[3/3] bpf.so');
    expect(existsSync(out('mb2', 'min.btf'))).toBe(false);
    expect(embedded(out('mb2', 'bpf.so')).length).toBe(0);
  });

  it('gen --min-btf embeds the same minimal BTF for the same object and kernel', () => {
    const p = gen('gen', out('plain', 'bpf.o'), '--out', 'g', '--min-btf');
    expect(p).toContain('[1/2] minimal BTF from /sys/kernel/btf/vmlinux');
    expect(Buffer.compare(bytes('g', 'min.btf'), bytes('mb', 'min.btf'))).toBe(0);
    expect(Buffer.compare(embedded(out('g', 'bpf.so')), bytes('mb', 'min.btf'))).toBe(0);
    expect(gen('gen', out('plain', 'bpf.o'), '--out', 'g', '--min-btf')).toBe('coolbpf-gen: g is up to date\n');
    expect(gen('gen', out('plain', 'bpf.o'), '--out', 'g')).toContain('[1/1] bpf.so');
  });

  it.skipIf(!existsSync(debian61))('--btf <Debian 6.1> --min-btf embeds the 6.1 subset', () => {
    gen('build', join(fixtures, 'check', 'older.bpf.c'), '--out', 'old61', '--btf', debian61, '--min-btf');
    const min = Btf.decode(embedded(out('old61', 'bpf.so')));
    const task = min.find('task_struct', 'struct') as Struct;
    // thread_group is 6.1's: the running kernel's task_struct no longer has it
    expect(task.members.map((m) => m.name)).toEqual(['thread_group']);
    const k61 = readBtfFile(readFileSync(debian61)).find('task_struct', 'struct') as Struct;
    expect(task.members[0]!.bitOffset).toBe(k61.members.find((m) => m.name === 'thread_group')!.bitOffset);
    expect((readBtfFile(readFileSync(VMLINUX)).find('task_struct', 'struct') as Struct).members.some((m) => m.name === 'thread_group')).toBe(false);
  });

  describe.skipIf(kernelSkip !== undefined)('loading where /sys/kernel/btf/vmlinux is absent', () => {
    let driver: string;
    beforeAll(() => {
      driver = out('driver');
      execFileSync('cc', ['-O1', '-Wall', '-Werror', '-I', runtime.includeDir, '-o', driver, join(fixtures, 'minbtf', 'driver.c'), '-ldl']);
    });
    interface Seen { btf: number; stage: string; error: string; events: number; tgid: number; ppid: number; self: number; parent: number }
    /** The driver in a private mount namespace with an empty tmpfs over /sys/kernel/btf (or, hide false, as is). */
    function drive(bpfSo: string, hide = true): Seen {
      const argv = hide
        ? ['unshare', '-m', '--propagation', 'private', 'sh', '-c', 'mount -t tmpfs cbchk_nobtf /sys/kernel/btf && exec "$0" "$1"', driver, bpfSo]
        : [driver, bpfSo];
      const r = spawnSync(argv[0]!, argv.slice(1), { encoding: 'utf8' });
      if (r.status !== 0) throw new Error(`driver failed (${r.status}):\n${r.stderr}`);
      return JSON.parse(r.stdout) as Seen;
    }

    it('loads, attaches and delivers events with the embedded BTF', () => {
      const s = drive(out('mb', 'bpf.so'));
      expect(s).toMatchObject({ btf: 0, stage: 'done', error: '' });
      expect(s.events).toBeGreaterThanOrEqual(1);
      // the CO-RE offsets came out right: the kernel saw our own tgid and parent
      expect(s.tgid).toBe(s.self);
      expect(s.ppid).toBe(s.parent);
    });

    it('without --min-btf the same program fails to load there, saying why', () => {
      const s = drive(out('plain', 'bpf.so'));
      expect(s).toMatchObject({ btf: 0, stage: 'load', events: 0 });
      expect(s.error).toMatch(/^load: object 'minbtf': .*\nlibbpf: failed to find valid kernel BTF/s);
    });

    it('with /sys/kernel/btf/vmlinux present both load (the kernel BTF wins)', () => {
      for (const so of ['mb', 'plain']) expect(drive(out(so, 'bpf.so'), false), so).toMatchObject({ btf: 1, stage: 'done' });
    });
  });
});
