import type { Btf } from '@coolbpf/reader';
import { CoolbpfError } from '@coolbpf/reader';

/**
 * A relocation libbpf itself would refuse (malformed access string, a kind
 * it cannot apply to this type): loading fails whatever the kernel, so the
 * checker reports it as an error, not as an unresolved relocation.
 */
export class CoreReloError extends CoolbpfError {
  override readonly name: string = 'CoreReloError';
}

/** The kernel side of a check: its BTF, and a label for messages. */
export interface CoreTarget {
  readonly label: string;
  readonly btf: Btf;
}

/**
 * How a relocation comes out on one kernel, as libbpf decides it:
 * `resolved` (the instruction is patched with a value), `unresolved` (no
 * candidate matched and the relocation kind needs one: libbpf poisons the
 * instruction, and loading fails if the verifier reaches it), `error`
 * (libbpf refuses the relocation and loading fails outright: ambiguous
 * candidates, a bitfield no load can read, a malformed record).
 */
export type ReloStatus = 'resolved' | 'unresolved' | 'error';
