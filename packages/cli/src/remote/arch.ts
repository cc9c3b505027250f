import type { Arch } from '@coolbpf/server';

/** A request's arch (uname -m names) ↔ Node's process.arch. */
const NODE_ARCH: Readonly<Record<Arch, string>> = { x86_64: 'x64', arm64: 'arm64' };

export function nodeArch(a: Arch): string {
  return NODE_ARCH[a];
}

/** The request arch of a Node process.arch, or null for one the server protocol does not know. */
export function requestArch(nodeArchName: string): Arch | null {
  const e = Object.entries(NODE_ARCH).find(([, n]) => n === nodeArchName);
  return e ? (e[0] as Arch) : null;
}
