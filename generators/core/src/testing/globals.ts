/** clang's fully initialized globals of packages/fixtures/bpf/layout.bpf.c: their C initializers, and their bytes in an object. */
import { readFileSync } from 'node:fs';
import type { ObjectModel } from '@coolbpf/model';
import { readElf } from '@coolbpf/reader';

export const BITS_FULL = {
  a: 1, b: 5, c: 17, d: -60, e: 0xabcde, f: 2, g: 301, h: -7, i: -1000,
  j: 0xfedcba9876n, k: -4294967296n, l: 0x8877665544332211n, mode: 5, smode: -2, flag: true, after: 0xa5,
};
export const PACKED_BITS_FULL = { head: 0x5a, wide: 0xf0e0d0c0b0a0908n, tail: 9 };
const LADDER_U = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`u${i + 1}`, i === 0 ? 1n : (1n << BigInt(i)) | 1n]));
const LADDER_S = Object.fromEntries(Array.from({ length: 64 }, (_, i) => [`s${i + 1}`, i === 0 ? -1n : -(1n << BigInt(i - 1)) - 1n]));

/**
 * [global, C type, its initializer]: every bitfield near its limits, packed
 * structs; 64-bit members as bigint, everything else as number or boolean.
 */
export const FULL_GLOBALS: readonly [string, string, Record<string, number | bigint | boolean>][] = [
  ['layout_bits_full', 'struct layout_bits', BITS_FULL],
  ['layout_packed_bits_full', 'struct layout_packed_bits', PACKED_BITS_FULL],
  ['layout_ladder_unsigned_full', 'struct layout_ladder_unsigned', LADDER_U],
  ['layout_ladder_signed_full', 'struct layout_ladder_signed', LADDER_S],
  ['layout_packed_global', 'struct layout_packed', { tag: 1, value: 0x1122334455667788n, port: 80 }],
];

/** A global's bytes in the object's section image. */
export function globalBytes(file: string | Uint8Array, model: ObjectModel, section: string, name: string): Uint8Array {
  const v = model.dataSections.find((x) => x.name === section)!.variables.find((x) => x.name === name)!;
  const bytes = typeof file === 'string' ? readFileSync(file) : file;
  return readElf(bytes).section(section)!.data.subarray(v.offset, v.offset + v.size);
}
