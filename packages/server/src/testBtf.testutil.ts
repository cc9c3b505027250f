import { readFileSync } from 'node:fs';
import { fixturePath } from '@coolbpf/fixtures';
import { readElf } from '@coolbpf/reader';

/** A small whole (not split) BTF: a fixture object's .BTF section. */
export function smallBtf(name = 'events'): Uint8Array {
  const s = readElf(readFileSync(fixturePath(name, 'bpfel'))).section('.BTF');
  if (!s) throw new Error(`${name}: no .BTF`);
  return new Uint8Array(s.data);
}
