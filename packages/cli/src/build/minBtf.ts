import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { readBtfFile, within } from '@coolbpf/reader';
import { BuildError } from './errors.js';
import { failureReason, runTool, type Tool } from './exec.js';
import type { KernelBtf } from './vmlinux.js';

/** The minimal BTF's file name in the scratch directory (and in DIR), next to bpf.o. */
export const MIN_BTF_FILE = 'min.btf';

/** `bpftool --version`'s first line: the minimal BTF is bpftool's output, so its version is part of the cache key. */
export function bpftoolVersion(tool: Tool, cwd: string): string {
  const r = runTool(tool, ['--version'], { cwd });
  if (r.status !== 0) throw new BuildError(`\`--version\` failed (${failureReason(r)})`, [tool.name]);
  return r.stdout.split('\n')[0]!.trim();
}

/**
 * `bpftool gen min_core_btf`: the kernel's BTF cut down to the types the
 * object's CO-RE relocations touch, written as `min.btf` into `scratch`
 * (which holds `bpf.o`). Embedded in bpf.so, it stands in for
 * /sys/kernel/btf/vmlinux on kernels built without BTF.
 */
export function makeMinBtf(bpftool: Tool, btf: KernelBtf, scratch: string, objectFile: string): Uint8Array {
  // bpftool reads raw BTF only; KernelBtf holds it decompressed
  const input = join(scratch, 'kernel.btf');
  writeFileSync(input, btf.bytes);
  try {
    const r = runTool(bpftool, ['gen', 'min_core_btf', 'kernel.btf', MIN_BTF_FILE, objectFile], { cwd: scratch });
    if (r.status !== 0) throw new BuildError(`\`gen min_core_btf\` against ${btf.label} failed (${failureReason(r)})`, [bpftool.name]);
  } finally {
    rmSync(input, { force: true });
  }
  const bytes = readFileSync(join(scratch, MIN_BTF_FILE));
  // what bpftool wrote must be BTF libbpf can parse, or the runtime would fail on the user's machine
  within(`${MIN_BTF_FILE} made by ${bpftool.name}`, () => readBtfFile(bytes));
  return bytes;
}
