import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { gzipSync } from 'node:zlib';
import { fixturePath } from '@coolbpf/fixtures';
import { ArrayType, Btf, encodeBtf, Int, Member, Pointer, Struct } from '@coolbpf/reader';
import { afterAll, describe, expect, it } from 'vitest';

// `coolbpf-gen check` without a kernel: kernel BTF files are built here,
// the objects are the fixtures. check.kernel.test.ts runs it against real
// kernels and compares with what loading does.

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'coolbpf-gen.js');
const repoRoot = resolve(here, '..', '..', '..');
const dir = mkdtempSync(join(tmpdir(), 'coolbpf-check-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function run(...args: string[]) {
  const r = spawnSync(process.execPath, [bin, 'check', ...args], { encoding: 'utf8', cwd: dir, maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}
function file(name: string, bytes: Uint8Array | string): string {
  writeFileSync(join(dir, name), bytes);
  return name;
}
const u32 = new Int('unsigned int', 4, { signed: false, char: false, bool: false });
const s32 = new Int('int', 4, { signed: true, char: false, bool: false });

const long = new Int('long', 8, { signed: true, char: false, bool: false });
// events.bpf.c reads syscall arguments and task_struct fields through CO-RE;
// this kernel has them (elsewhere than the object's vmlinux.h put them), `empty` has none
const task: Struct = new Struct('task_struct', 64, (): Member[] => [
  new Member('pad', u32, 0), new Member('tgid', s32, 96), new Member('exit_code', s32, 128), new Member('real_parent', new Pointer(task), 192),
]);
const sysEnter = new Struct('trace_event_raw_sys_enter', 72, [new Member('id', long, 0), new Member('args', new ArrayType(long, u32, 6), 128)]);
const full = file('full.btf', encodeBtf([task, sysEnter]).bytes);
const empty = file('empty.btf.gz', gzipSync(encodeBtf([u32]).bytes));
const splitBase = Btf.decode(encodeBtf([u32]).bytes);
const baseU32 = splitBase.find('unsigned int', 'int')!;

interface Report {
  format: string;
  object: string;
  kernels: string[];
  ok: boolean;
  programs: { name: string; section: string; kernels: { kernel: string; ok: boolean; unresolved: number; deadCode: number; errors: number }[] }[];
  relocations: { program: string; section: string; insnOff: number; kind: string; accessString: string; access: string;
    kernels: { kernel: string; status: string; value?: number; localValue?: number; reason?: string }[] }[];
}

describe('check', () => {
  const events = fixturePath('events');

  it('prints a programs x kernels table, one line per failure, and the verdict last; exit 1', () => {
    const r = run(events, '--btf', empty);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('');
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^CO-RE check of .*events\.bpfel\.o: \d+ programs, 6 relocations, 1 kernel$/);
    expect(lines[1]).toBe('  [1] empty.btf.gz');
    expect(r.stdout).toMatch(/\n {2}program +section +\[1\]\n/);
    expect(r.stdout).toMatch(/\n {2}handle_openat +tp\/syscalls\/sys_enter_openat +✗\n {2}handle_exec +tp\/sched\/sched_process_exec +✓\n {2}handle_exit +tp\/sched\/sched_process_exit +✗\n/);
    expect(r.stdout).toContain("✗ [1] empty.btf.gz: program 'handle_exit' (tp/sched/sched_process_exit): type 'struct task_struct' not found [field_byte_offset]: unresolved and reachable, loading fails\n");
    expect(r.stdout.match(/^✗ /gm)).toHaveLength(6);
    expect(lines.at(-1)).toMatch(/^FAILED: \d of \d+ programs would not load on some kernel$/);
  });

  it('exits 0 with an ok line when everything resolves, on every kernel given', () => {
    const r = run(events, '--btf', full, '--btf', full);
    expect(r.status).toBe(0);
    expect(r.stdout).not.toContain('✗');
    expect(r.stdout.trimEnd().split('\n').at(-1)).toBe('ok: every CO-RE relocation resolves, or is in dead code, on all 2 kernels');
  });

  it('--json: the full matrix with each relocation resolved value per kernel', () => {
    const r = run(events, '--btf', full, '--btf', empty, '--json');
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('coolbpf-gen: check: some CO-RE relocations do not resolve (see "ok" in the JSON)\n');
    const j = JSON.parse(r.stdout) as Report;
    expect(j.format).toBe('coolbpf-check');
    expect(j.kernels).toEqual([full, empty]);
    expect(j.ok).toBe(false);
    expect(j.relocations).toHaveLength(6);
    const tgid = j.relocations.find((x) => x.access === 'struct task_struct.tgid' && x.kind === 'field_byte_offset')!;
    expect(tgid.kernels.map((k) => k.kernel)).toEqual([full, empty]);
    expect(tgid.kernels[0]).toMatchObject({ status: 'resolved', value: 12 });
    const args2 = j.relocations.find((x) => x.access === 'struct trace_event_raw_sys_enter.args[2]')!;
    expect(args2.kernels[0]).toMatchObject({ status: 'resolved', value: 16 + 16, fieldSize: 8 });
    expect(tgid.kernels[0]!.localValue).toBeTypeOf('number');
    expect(tgid.kernels[1]).toMatchObject({ status: 'unresolved', reason: "type 'struct task_struct' not found" });
    const exec = j.programs.find((p) => p.name === 'handle_exit')!;
    expect(exec.kernels.map((k) => k.ok)).toEqual([true, false]);
    expect(exec.kernels[1]!.unresolved).toBeGreaterThan(0);
  });

  it('bad input: one line naming the file, exit 1, no stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['missing.o', '--btf', full], /^coolbpf-gen: missing\.o: no such file\n$/],
      [[events, '--btf', 'nope.btf'], /^coolbpf-gen: nope\.btf: no such file\n$/],
      [[full, '--btf', full], /^coolbpf-gen: full\.btf: raw BTF, not a BPF object \(check takes a \.bpf\.o compiled by clang -target bpf\)\n$/],
      [[file('junk.o', 'not an object at all'), '--btf', full], /^coolbpf-gen: junk\.o: .+\n$/],
      [[events, '--btf', file('corrupt.btf', encodeBtf([u32]).bytes.slice(0, 30))], /^coolbpf-gen: corrupt\.btf: .+\n$/],
      [[events, '--btf', file('corrupt.btf.gz', gzipSync(Buffer.from('x')).subarray(0, 10))], /^coolbpf-gen: corrupt\.btf\.gz: gzip data is corrupt.*\n$/],
      [[events, '--btf', events], /^coolbpf-gen: .*events\.bpfel\.o: .+\n$/],
      [[events, '--btf', file('module.btf', encodeBtf([new Struct('m', 4, [new Member('x', baseU32, 0)])], { base: splitBase }).bytes)],
        /^coolbpf-gen: module\.btf: split BTF \(a kernel module's\); check needs a kernel's own BTF\n$/],
      [[], /^coolbpf-gen: check: expected one PROG\.bpf\.o, got 0\n$/],
      [[events, '--bogus'], /^coolbpf-gen: check: unknown option '--bogus'\n$/],
    ];
    for (const [args, want] of cases) {
      const r = run(...args);
      expect(r.status, args.join(' ')).toBe(1);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(want);
    }
  });

  const sharedBtf = resolve(repoRoot, '../shared/btf/debian-6.1.0-47-cloud-amd64.btf.gz');
  if (!existsSync(sharedBtf)) console.log(`skipping the Debian 6.1 check: ${sharedBtf} does not exist`);
  it.skipIf(!existsSync(sharedBtf))('resolves the fixtures against a real kernel BTF (.btf.gz), flavors and dead code included', () => {
    const r = run(fixturePath('progs'), '--btf', sharedBtf, '--json');
    const j = JSON.parse(r.stdout) as Report;
    // progs.bpf.c reads task_struct.__state, guarded by bpf_core_field_exists, else the pre-5.14 "state"
    const old = j.relocations.find((x) => x.access === 'struct task_struct___pre_5_14.state')!;
    expect(old.kernels[0]).toMatchObject({ status: 'unresolved', deadCode: true, reason: "field 'struct task_struct___pre_5_14.state' not found in struct task_struct" });
    const cur = j.relocations.find((x) => x.access === 'struct task_struct___post_5_14.__state' && x.kind === 'field_byte_offset')!;
    expect(cur.kernels[0]).toMatchObject({ status: 'resolved' });
    expect(r.status).toBe(0);
  });
});
