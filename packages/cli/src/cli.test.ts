import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fixturePath } from '@coolbpf/fixtures';
import { buildModel } from '@coolbpf/model';
import { Btf, encodeBtf, Int, readElf, Typedef } from '@coolbpf/reader';
import { afterAll, describe, expect, it } from 'vitest';

const main = join(dirname(fileURLToPath(import.meta.url)), '..', 'dist', 'main.js');
const sharedBtf = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..', '..', 'shared', 'btf', 'debian-6.1.0-47-cloud-amd64.btf.gz');
const dir = mkdtempSync(join(tmpdir(), 'coolbpf-cli-'));
const u32 = new Int('unsigned int', 4, { signed: false, char: false, bool: false });
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [main, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

function file(name: string, bytes: Uint8Array | string): string {
  const p = join(dir, name);
  writeFileSync(p, bytes);
  return p;
}

/** A copy of a fixture with `patch` applied to the bytes of one section. */
function patched(section: string, patch: (data: DataView, bytes: Uint8Array) => void, name = 'events'): string {
  const bytes = new Uint8Array(readFileSync(fixturePath(name)));
  const sec = readElf(bytes).section(section)!;
  const data = bytes.subarray(sec.offset, sec.offset + sec.size);
  patch(new DataView(data.buffer, data.byteOffset, data.byteLength), data);
  return file(`${name}-${section.replace(/\W/g, '')}-${Math.random().toString(36).slice(2)}.o`, bytes);
}

/** Offset (within .BTF) of the first type record of a kind, found by walking the type section. */
function firstTypeOfKind(dv: DataView, kind: number): number {
  const hdr = dv.getUint32(4, true);
  const typeLen = dv.getUint32(12, true);
  const extra = (k: number, vlen: number) => ([1, 14, 17].includes(k) ? 4 : k === 3 ? 12 : [4, 5, 15, 19].includes(k) ? vlen * 12 : [6, 13].includes(k) ? vlen * 8 : 0);
  for (let off = hdr; off < hdr + typeLen; ) {
    const info = dv.getUint32(off + 4, true);
    const k = (info >>> 24) & 0x1f;
    if (k === kind) return off;
    off += 12 + extra(k, info & 0xffff);
  }
  throw new Error(`no type of kind ${kind}`);
}

describe('inspect on objects', () => {
  it('summarizes programs, maps, globals and events', () => {
    const r = run('inspect', fixturePath('events'), '--event', 'events=struct event', '--event', 'perf_events=exit_event');
    expect(r.status).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/BPF object, little-endian, license GPL, 6 CO-RE relocations/);
    expect(r.stdout).toMatch(/handle_openat +tracepoint +syscalls\/sys_enter_openat +auto-attach/);
    expect(r.stdout).toMatch(/counts +hash +key __u32 \(4\) +value __u64 \(8\) +max 10240/);
    expect(r.stdout).toMatch(/\.rodata \(rodata, \d+ bytes, writable before load, read-only after\)/);
    expect(r.stdout).toMatch(/events +ringbuf +struct event +\(--event\)/);
    expect(r.stdout).toMatch(/perf_events +perf_event_array +struct exit_event/);
  });

  it('prints the model as JSON, the same on every run and equal to the library model', () => {
    const a = run('inspect', fixturePath('maps'), '--json');
    const b = run('inspect', fixturePath('maps'), '--json');
    expect(a.status).toBe(0);
    expect(a.stdout).toBe(b.stdout);
    expect(JSON.parse(a.stdout)).toEqual(buildModel(readFileSync(fixturePath('maps'))));
  });

  it('describes a big-endian object the same way, but for byte order and bitfield shifts', () => {
    const le = JSON.parse(run('inspect', fixturePath('globals', 'bpfel'), '--json').stdout);
    const be = JSON.parse(run('inspect', fixturePath('globals', 'bpfeb'), '--json').stdout);
    expect(be.object.byteOrder).toBe('big');
    expect(be.dataSections).toEqual(le.dataSections);
    expect(be.maps).toEqual(le.maps);
  });
});

describe('inspect on raw BTF', () => {
  it('lists the running kernel\'s types as JSON', () => {
    const r = run('inspect', '/sys/kernel/btf/vmlinux', '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.types.length).toBe(j.count);
    expect(j.types[0].id).toBe(1);
    expect(j.types.find((t: { name: string; kind: string }) => t.name === 'task_struct' && t.kind === 'struct').size).toBeGreaterThan(1000);
  });

  if (!existsSync(sharedBtf)) console.log(`skipping the gzip BTF test: ${sharedBtf} does not exist`);
  it.skipIf(!existsSync(sharedBtf))('reads a gzip-compressed BTF file', () => {
    const r = run('inspect', sharedBtf);
    expect(r.status).toBe(0);
    expect(r.stdout).toMatch(/raw BTF, little-endian, 94975 types/);
  });

  it('reads split BTF on an explicit base', () => {
    const base = encodeBtf([new Typedef('base_t', u32)]);
    const basePath = file('base.btf', base.bytes);
    const baseBtf = Btf.decode(base.bytes);
    // the module's types follow the base's ids (u32 is 1, base_t is 2)
    const mod = encodeBtf([new Typedef('mod_t', baseBtf.find('base_t', 'typedef')!)], { base: baseBtf });
    const r = run('inspect', file('mod.btf', mod.bytes), '--base', basePath, '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.split).toBe(true);
    expect(j.types).toEqual([{ id: 3, kind: 'typedef', name: 'mod_t', size: null }]);
  });
});

describe('split BTF without --base', () => {
  it('is read on top of the running kernel\'s vmlinux, as /sys/kernel/btf/<module> is', () => {
    const vmlinux = Btf.decode(readFileSync('/sys/kernel/btf/vmlinux'));
    const task = vmlinux.find('task_struct', 'struct')!;
    const mod = encodeBtf([new Typedef('coolbpf_task_t', task)], { base: vmlinux });
    const r = run('inspect', file('module.btf', mod.bytes), '--json');
    expect(r.status).toBe(0);
    const j = JSON.parse(r.stdout);
    expect(j.firstId).toBe(vmlinux.end);
    expect(j.types).toEqual([{ id: vmlinux.end, kind: 'typedef', name: 'coolbpf_task_t', size: null }]);
    expect(run('inspect', file('module2.btf', mod.bytes)).stdout).toMatch(/raw BTF, little-endian, 1 type \(1 named\), split BTF on a base of \d+ types/);
  });
});

describe('bad input: one line, exit status 1, no stack trace', () => {
  const elf32 = () => { const b = new Uint8Array(readFileSync(fixturePath('events'))); b[4] = 1; return file('elf32.o', b); };
  const truncated = () => { const b = readFileSync(fixturePath('events')); return file('trunc.o', b.subarray(0, Math.floor(b.length * 0.6))); };
  const noBtf = () => {
    const out = join(dir, 'nobtf.o');
    copyFileSync(fixturePath('events'), out);
    execFileSync('llvm-objcopy-16', ['--remove-section', '.BTF', '--remove-section', '.BTF.ext', out]);
    return out;
  };
  const loop = () => {
    const box: { b?: Typedef } = {};
    const a = new Typedef('a', { resolve: () => box.b! });
    box.b = new Typedef('b', a);
    return file('loop.btf', encodeBtf([a]).bytes);
  };

  const cases: [string, () => string[], RegExp][] = [
    ['a missing file', () => ['inspect', join(dir, 'nope.o')], /nope\.o: no such file$/],
    ['a directory', () => ['inspect', dir], /: is a directory$/],
    ['an empty file', () => ['inspect', file('empty', '')], /empty: neither an ELF object nor raw BTF/],
    ['a text file', () => ['inspect', file('text.o', 'hello world\n')], /text\.o: neither an ELF object nor raw BTF/],
    ['an ELF for another machine', () => ['inspect', '/bin/true'], /\/bin\/true: ELF for x86-64, not BPF \(e_machine 62, want 247\)/],
    ['an ELF32 object', () => ['inspect', elf32()], /elf32\.o: ELF32 object; BPF objects are ELF64/],
    ['a truncated object', () => ['inspect', truncated()], /trunc\.o: .*runs past the end of the file/],
    ['an object without .BTF', () => ['inspect', noBtf()], /nobtf\.o: no \.BTF section \(was it compiled with clang -g\?\)/],
    ['a string section past the end', () => ['inspect', patched('.BTF', (dv) => dv.setUint32(20, 0x7fffffff, true))], /section '\.BTF': string section .* runs past the end/],
    ['a type id out of range', () => ['inspect', patched('.BTF', (dv) => dv.setUint32(firstTypeOfKind(dv, 2) + 8, 0xfffff, true))], /section '\.BTF': type \[\d+\] ptr: its type refers to type id 1048575, but there are only \d+/],
    ['a name offset out of range', () => ['inspect', patched('.BTF', (dv) => dv.setUint32(firstTypeOfKind(dv, 4), 0xffffff, true))], /section '\.BTF': type \[\d+\] struct: name offset 16777215 is outside the string section/],
    ['an absurd member count', () => ['inspect', patched('.BTF', (dv) => { const o = firstTypeOfKind(dv, 4); dv.setUint32(o + 4, (dv.getUint32(o + 4, true) & ~0xffff) | 0xffff, true); })], /section '\.BTF': type \[\d+\] .*(runs? past the end|refers to type id|outside the string section|unknown kind)/],
    ['an unknown BTF kind', () => ['inspect', patched('.BTF', (dv) => { const o = firstTypeOfKind(dv, 2); dv.setUint32(o + 4, 31 << 24, true); })], /section '\.BTF': type \[\d+\]: unknown kind 31/],
    ['a bad .BTF.ext record size', () => ['inspect', patched('.BTF.ext', (dv) => dv.setUint32(dv.getUint32(4, true) + dv.getUint32(8, true), 0, true))], /section '\.BTF\.ext': func_info: record size 0 is invalid/],
    ['a typedef loop in raw BTF', () => ['inspect', loop()], /loop\.btf: type \[1\] typedef 'a': reference loop/],
    ['corrupt gzip', () => ['inspect', file('bad.gz', Buffer.concat([gzipSync(Buffer.from('x')).subarray(0, 10), Buffer.from('garbage')]))], /bad\.gz: gzip data is corrupt/],
    ['an unknown option', () => ['inspect', '--frobnicate', fixturePath('events')], /^coolbpf-gen: inspect: unknown option '--frobnicate'$/],
    ['an --event for a missing map', () => ['inspect', fixturePath('events'), '--event', 'nosuch=struct event'], /--event nosuch=struct event: no map 'nosuch' \(maps: counts, events, exec_start, perf_events\)/],
    ['an --event for a non-event map', () => ['inspect', fixturePath('events'), '--event', 'counts=struct event'], /map 'counts' is a hash, not a ring buffer or perf event array/],
    ['an --event type that is not there', () => ['inspect', fixturePath('events'), '--event', 'events=struct nope'], /no struct 'nope' in the object's BTF/],
    ['an unknown command', () => ['frob'], /^coolbpf-gen: unknown command 'frob'/],
  ];
  for (const [what, args, message] of cases) {
    it(what, () => {
      const r = run(...args());
      expect(r.status).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr.trimEnd().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^coolbpf-gen: /);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/internal error|\n\s+at /);
    });
  }
});
