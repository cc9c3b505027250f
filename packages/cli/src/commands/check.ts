import { checkObject, type CheckReport, type CoreTarget } from '@coolbpf/model';
import { readInput, ReadError } from '@coolbpf/reader';
import { parseArgs, UsageError } from '../args.js';
import { DEFAULT_BTF } from '../build/vmlinux.js';

export interface CheckOptions {
  readonly object: string;
  /** kernel BTF files, in the order given (columns of the matrix) */
  readonly btfs: readonly string[];
  readonly json: boolean;
}

/** `check PROG.bpf.o --btf A [--btf B]… [--json]` → options. Pure. */
export function parseCheckArgs(argv: readonly string[]): CheckOptions {
  const a = parseArgs(argv, { btf: { value: true, repeat: true }, json: {} }, 'check');
  if (a.positional.length !== 1) throw new UsageError(`check: expected one PROG.bpf.o, got ${a.positional.length}`);
  return { object: a.positional[0]!, btfs: a.values.get('btf') ?? [DEFAULT_BTF], json: a.flags.has('json') };
}

export interface CheckOutput {
  readonly text: string;
  readonly ok: boolean;
}

/**
 * `coolbpf-gen check`: whether the object's CO-RE relocations resolve on
 * each kernel BTF, as a table (or JSON) and a verdict. Pure: the object's
 * bytes and the decoded kernels in, text out.
 */
export function check(objectBytes: Uint8Array, label: string, kernels: readonly CoreTarget[], json: boolean): CheckOutput {
  const input = readInput(objectBytes);
  if (input.kind !== 'object') throw new ReadError('raw BTF, not a BPF object (check takes a .bpf.o compiled by clang -target bpf)');
  const report = checkObject(input.object, kernels);
  return { text: json ? checkJson(label, report) : formatCheck(label, report), ok: report.ok };
}

function checkJson(label: string, report: CheckReport): string {
  // enum64 values are bigints; JSON carries them as decimal strings
  const replacer = (_k: string, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v);
  return `${JSON.stringify({ format: 'coolbpf-check', object: label, ...report }, replacer, 2)}\n`;
}

function formatCheck(label: string, r: CheckReport): string {
  const cols = r.kernels.map((_, i) => `[${i + 1}]`);
  const rows = [['program', 'section', ...cols]];
  for (const p of r.programs) {
    rows.push([p.name, p.section, ...p.kernels.map((k) => (k.ok ? (k.deadCode ? `✓ (${k.deadCode} in dead code)` : '✓') : '✗'))]);
  }
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((row) => row[i]!.length)));
  const lines = [
    `CO-RE check of ${label}: ${r.programs.length} program${r.programs.length === 1 ? '' : 's'}, ${r.relocations.length} relocation${r.relocations.length === 1 ? '' : 's'}, ${r.kernels.length} kernel${r.kernels.length === 1 ? '' : 's'}`,
    ...r.kernels.map((k, i) => `  ${cols[i]} ${k}`),
    '',
    ...rows.map((row) => `  ${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`),
  ];
  const problems: string[] = [];
  for (const relo of r.relocations) {
    relo.kernels.forEach((o, i) => {
      if (o.status === 'resolved') return;
      const where = `${cols[i]} ${o.kernel}: program '${relo.program}' (${relo.section}): ${o.reason} [${relo.kind}]`;
      if (o.status === 'error') problems.push(`✗ ${where}: libbpf refuses this relocation, loading fails`);
      else if (o.deadCode) problems.push(`- ${where}: unresolved, but in code the verifier skips on this kernel (guarded by an existence check): loads`);
      else problems.push(`✗ ${where}: unresolved and reachable, loading fails`);
    });
  }
  if (problems.length) lines.push('', ...problems);
  const failing = r.programs.filter((p) => p.kernels.some((k) => !k.ok)).length;
  lines.push('', r.ok
    ? `ok: every CO-RE relocation resolves, or is in dead code, on ${r.kernels.length === 1 ? 'the kernel' : `all ${r.kernels.length} kernels`}`
    : `FAILED: ${failing} of ${r.programs.length} program${r.programs.length === 1 ? '' : 's'} would not load on some kernel`);
  return `${lines.join('\n')}\n`;
}
