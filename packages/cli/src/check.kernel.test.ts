import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { readBtfFile, type Struct } from '@coolbpf/reader';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

// `coolbpf-gen check` against real kernels: fixtures/check/*.bpf.c touch
// fields both kernels have, one only 6.18 has, one only 6.1 has, and that
// one again under bpf_core_field_exists(). On the running kernel the
// verdict must be what loading the object actually does, and the values
// must be the ones libbpf patches in.

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', 'bin', 'coolbpf-gen.js');
const fixtures = join(here, '..', 'fixtures', 'check');
const repoRoot = resolve(here, '..', '..', '..');
const debian61 = resolve(repoRoot, '../shared/btf/debian-6.1.0-47-cloud-amd64.btf.gz');
const VMLINUX = '/sys/kernel/btf/vmlinux';

function onPath(tool: string): boolean {
  return spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;
}
function skipReason(): string | undefined {
  if (process.getuid?.() !== 0) return 'loading BPF needs root';
  if (!existsSync(VMLINUX)) return `${VMLINUX} missing`;
  const tools = ['clang-16', 'bpftool', 'cc'].filter((t) => !onPath(t));
  if (tools.length) return `${tools.join(', ')} missing`;
  if (spawnSync('stat', ['-f', '-c', '%T', '/sys/fs/bpf'], { encoding: 'utf8' }).stdout.trim() !== 'bpf_fs') return '/sys/fs/bpf is not a BPF file system';
  return undefined;
}
const skip = skipReason();
if (skip) console.log(`skipping the kernel check tests: ${skip}`);
if (!existsSync(debian61)) console.log(`skipping the Debian 6.1 column: ${debian61} does not exist`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-check-kernel-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

interface Report {
  ok: boolean;
  kernels: string[];
  programs: { name: string; kernels: { ok: boolean; unresolved: number; deadCode: number }[] }[];
  relocations: { insnOff: number; kind: string; access: string; kernels: { status: string; value?: number; deadCode?: boolean; reason?: string }[] }[];
}

function gen(args: string[]) {
  return spawnSync(process.execPath, [bin, ...args], { encoding: 'utf8', cwd: dir, env: { ...process.env, COOLBPF_CACHE: join(dir, 'cache') }, maxBuffer: 1 << 28 });
}

function checkJson(object: string, kernels: string[]): { status: number | null; report: Report } {
  const r = gen(['check', object, ...kernels.flatMap((k) => ['--btf', k]), '--json']);
  if (r.status !== 0 && r.status !== 1) throw new Error(r.stderr);
  return { status: r.status, report: JSON.parse(r.stdout) as Report };
}

interface Loaded {
  ok: boolean;
  /** instruction index → value libbpf patched in, or 'poison' */
  patched: Map<number, number | 'poison'>;
  log: string;
}

/**
 * Loads every program of the object with `bpftool -d prog loadall` (libbpf's
 * debug log says what each relocation became), pinned under a name of ours,
 * then unpins, which unloads them. Nothing stays loaded whatever happens.
 */
function load(object: string, name: string): Loaded {
  const pins = `/sys/fs/bpf/cbchk_${process.pid}_${name}`;
  try {
    const r = spawnSync('bpftool', ['-d', 'prog', 'loadall', object, pins], { encoding: 'utf8', maxBuffer: 1 << 26 });
    const log = r.stdout + r.stderr;
    const patched = new Map<number, number | 'poison'>();
    for (const m of log.matchAll(/relo #\d+: patched insn #(\d+) \([^)]*\) (?:imm64|imm|off) -?\d+ -> (-?\d+)/g)) patched.set(Number(m[1]), Number(m[2]));
    for (const m of log.matchAll(/relo #\d+: substituting insn #(\d+) w\/ invalid insn/g)) patched.set(Number(m[1]), 'poison');
    return { ok: r.status === 0, patched, log };
  } finally {
    rmSync(pins, { recursive: true, force: true });
  }
}

const FIXTURES = ['common', 'newer', 'older', 'guarded'] as const;
// program verdicts: [running 6.18 kernel, Debian 6.1]
const EXPECTED: Record<(typeof FIXTURES)[number], [boolean, boolean]> = {
  common: [true, true],
  newer: [true, false],
  older: [false, true],
  guarded: [true, true],
};

describe.skipIf(skip !== undefined)('check against real kernels', () => {
  beforeAll(() => {
    for (const f of FIXTURES) {
      const r = gen(['build', join(fixtures, `${f}.bpf.c`), '--out', f]);
      if (r.status !== 0) throw new Error(`build ${f} failed:\n${r.stderr}`);
    }
  });

  for (const f of FIXTURES) {
    it(`${f}: the running kernel's verdict is what loading does, with libbpf's values`, () => {
      const object = join(dir, f, 'bpf.o');
      const { status, report } = checkJson(object, [VMLINUX]);
      const loaded = load(object, f);
      expect(report.ok, loaded.log).toBe(loaded.ok);
      expect(report.ok).toBe(EXPECTED[f][0]);
      expect(status).toBe(report.ok ? 0 : 1);
      // one program per object, at the start of its section: libbpf's insn # is insnOff / 8
      let compared = 0;
      for (const relo of report.relocations) {
        const k = relo.kernels[0]!;
        const libbpf = loaded.patched.get(relo.insnOff / 8);
        if (!loaded.ok && libbpf === undefined) continue; // libbpf stopped before it
        expect(libbpf, `${relo.kind} ${relo.access}`).toEqual(k.status === 'unresolved' ? 'poison' : k.value);
        compared++;
      }
      expect(compared).toBe(loaded.ok ? report.relocations.length : loaded.patched.size);
      expect(compared).toBeGreaterThan(0);
    });
  }

  it('the guarded read is dead code on 6.18 and resolves on 6.1; the others fail where their field is missing', () => {
    const kernels = existsSync(debian61) ? [VMLINUX, debian61] : [VMLINUX];
    for (const f of FIXTURES) {
      const { report } = checkJson(join(dir, f, 'bpf.o'), kernels);
      expect(report.programs.map((p) => p.kernels.map((k) => k.ok)), f).toEqual([EXPECTED[f].slice(0, kernels.length)]);
    }
    const guarded = checkJson(join(dir, 'guarded', 'bpf.o'), kernels).report;
    const read = guarded.relocations.find((r) => r.kind === 'field_byte_offset')!;
    expect(read.kernels[0]).toMatchObject({ status: 'unresolved', deadCode: true, reason: "field 'struct task_struct___61.thread_group' not found in struct task_struct" });
    const exists = guarded.relocations.find((r) => r.kind === 'field_exists')!;
    expect(exists.kernels[0]).toMatchObject({ status: 'resolved', value: 0 });
    if (kernels.length > 1) {
      expect(read.kernels[1]).toMatchObject({ status: 'resolved' });
      expect(exists.kernels[1]).toMatchObject({ status: 'resolved', value: 1 });
      const newer = checkJson(join(dir, 'newer', 'bpf.o'), kernels).report;
      expect(newer.relocations.find((r) => r.access === 'struct task_struct.mm_cid')!.kernels[1])
        .toMatchObject({ status: 'unresolved', reason: "field 'struct task_struct.mm_cid' not found in struct task_struct" });
    }
  });

  it('leaves nothing loaded', async () => {
    const ours = () => (JSON.parse(execFileSync('bpftool', ['-j', 'prog', 'show'], { encoding: 'utf8' }) || '[]') as { name?: string }[])
      .filter((p) => FIXTURES.some((f) => p.name === `cbchk_${f}`));
    // unpinned programs are freed after an RCU grace period
    for (let i = 0; i < 30 && ours().length; i++) await new Promise((r) => setTimeout(r, 100));
    expect(ours()).toEqual([]);
  });

  it('every relocation kind in common.bpf.c, with the values the 6.1 BTF gives', () => {
    const { report } = checkJson(join(dir, 'common', 'bpf.o'), existsSync(debian61) ? [VMLINUX, debian61] : [VMLINUX]);
    expect(new Set(report.relocations.map((r) => r.kind))).toEqual(new Set([
      'field_byte_offset', 'field_byte_size', 'field_lshift_u64', 'field_rshift_u64', 'field_signed',
      'type_exists', 'type_size', 'type_matches', 'type_id_target', 'enumval_exists', 'enumval_value',
    ]));
    if (!existsSync(debian61)) return;
    const k61 = readBtfFile(readFileSync(debian61));
    const task = k61.find('task_struct', 'struct') as Struct;
    const at = (kind: string, access: string) => report.relocations.find((r) => r.kind === kind && r.access === access)!.kernels[1]!.value;
    expect(at('type_size', 'struct task_struct')).toBe(task.size);
    expect(at('type_id_target', 'struct task_struct')).toBe(k61.idOf(task));
    expect(at('field_byte_offset', 'struct task_struct.tgid')).toBe(task.members.find((m) => m.name === 'tgid')!.bitOffset / 8);
    const bit = task.members.find((m) => m.name === 'sched_reset_on_fork')!;
    expect(at('field_byte_offset', 'struct task_struct.sched_reset_on_fork')).toBe(Math.floor(bit.bitOffset / 32) * 4);
    expect(at('field_lshift_u64', 'struct task_struct.sched_reset_on_fork')).toBe(64 - (bit.bitOffset % 32 + 1));
  });

  it('the resolved offsets on the running kernel are the ones bpftool reads from its BTF', () => {
    const { report } = checkJson(join(dir, 'common', 'bpf.o'), [VMLINUX]);
    const raw = execFileSync('bpftool', ['btf', 'dump', 'file', VMLINUX, 'format', 'raw'], { encoding: 'utf8', maxBuffer: 1 << 30 });
    const start = raw.indexOf("STRUCT 'task_struct' size=");
    const body = raw.slice(start, raw.indexOf('\n[', start));
    for (const field of ['tgid', 'real_parent', 'pid']) {
      const bits = Number(new RegExp(`\\n\\t'${field}' type_id=\\d+ bits_offset=(\\d+)`).exec(body)![1]);
      const relo = report.relocations.find((r) => r.access === `struct task_struct.${field}`)!;
      expect(relo.kernels[0]!.value, field).toBe(bits / 8);
    }
  });
});
