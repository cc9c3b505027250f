// Whether this machine can run the kernel tests, and why not.
import { accessSync, constants } from 'node:fs';

/** The reason the kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `BPF needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'loading BPF needs root (run the tests as root, as CI does)';
  try {
    accessSync('/sys/kernel/btf/vmlinux', constants.R_OK);
  } catch {
    return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  }
  return undefined;
}

export function skipNote(what: string, reason: string): void {
  console.log(`skipped: ${what}: ${reason}`);
}
