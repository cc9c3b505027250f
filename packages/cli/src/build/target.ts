import { BuildError } from './errors.js';

/**
 * `__TARGET_ARCH_<x>` for a Node `process.arch`: what libbpf's
 * bpf_tracing.h needs to read registers out of a probe's context (the
 * same names libbpf-bootstrap derives from `uname -m`).
 */
const TARGET_ARCH: Readonly<Record<string, string>> = {
  x64: 'x86',
  arm64: 'arm64',
  arm: 'arm',
  s390x: 's390',
  ppc64: 'powerpc',
  riscv64: 'riscv',
  loong64: 'loongarch',
  mips: 'mips',
  mipsel: 'mips',
};

export function targetArch(nodeArch: string): string {
  const t = Object.hasOwn(TARGET_ARCH, nodeArch) ? TARGET_ARCH[nodeArch] : undefined;
  if (!t) throw new BuildError(`no known __TARGET_ARCH for this host (pass --cflags -D__TARGET_ARCH_<arch>)`, [`host architecture ${nodeArch}`]);
  return t;
}

const HOST_NAMES: Readonly<Record<string, string>> = { x64: 'x86-64', arm64: 'arm64', s390x: 's390x', ppc64: 'ppc64' };

/**
 * The kernel runs BPF in its own byte order, so libbpf in a bpf.so can only
 * load an object of the host's byte order: refuse the other one now rather
 * than at load time on the user's machine.
 */
export function checkByteOrder(objectOrder: 'little' | 'big', hostEndianness: 'LE' | 'BE', nodeArch: string, label: string): void {
  const host = hostEndianness === 'LE' ? 'little' : 'big';
  if (objectOrder === host) return;
  const arch = HOST_NAMES[nodeArch] ?? nodeArch;
  throw new BuildError(
    `${objectOrder}-endian BPF object; a bpf.so for this ${arch} host can only load ${host}-endian ones (compile with -target bpf${host === 'little' ? 'el' : 'eb'} or plain -target bpf)`,
    [label],
  );
}
