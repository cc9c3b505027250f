import { describe, expect, it } from 'vitest';
import { reachable, type Patch } from './reach.js';

/** Little-endian BPF instructions: [code, dst, src, off, imm]. */
function insns(...list: [number, number, number, number, number][]): Uint8Array {
  const out = new Uint8Array(list.length * 8);
  const dv = new DataView(out.buffer);
  list.forEach(([code, dst, src, off, imm], i) => {
    dv.setUint8(i * 8, code);
    dv.setUint8(i * 8 + 1, (src << 4) | dst);
    dv.setInt16(i * 8 + 2, off, true);
    dv.setInt32(i * 8 + 4, imm, true);
  });
  return out;
}
const MOV64_K = 0xb7, JEQ_K = 0x15, JNE_K = 0x55, LDXW = 0x61, EXIT = 0x95, ADD64_K = 0x07, JA = 0x05, CALL = 0x85;

// if (bpf_core_field_exists(p->f)) x = p->f;  → r1 = <exists>; if r1 == 0 goto +1; r0 = *(u32 *)(r2 + <off>); exit
const guarded = insns([MOV64_K, 1, 0, 0, 1], [JEQ_K, 1, 0, 1, 0], [LDXW, 0, 2, 8, 0], [EXIT, 0, 0, 0, 0]);

describe('reachable', () => {
  it('follows a patched existence constant one way only', () => {
    const missing = new Map<number, Patch>([[0, { value: 0n }], [2, 'poison']]);
    expect([...reachable(guarded, 'little', 0, 4, missing)!].sort()).toEqual([0, 1, 3]);
    const present = new Map<number, Patch>([[0, { value: 1n }], [2, { value: 16n }]]);
    expect([...reachable(guarded, 'little', 0, 4, present)!].sort()).toEqual([0, 1, 2, 3]);
  });

  it('takes both ways when a value is unknown (loaded, or returned by a call)', () => {
    const code = insns([LDXW, 1, 1, 0, 0], [JEQ_K, 1, 0, 1, 0], [LDXW, 0, 2, 8, 0], [EXIT, 0, 0, 0, 0]);
    expect(reachable(code, 'little', 0, 4, new Map([[2, 'poison']]))!.has(2)).toBe(true);
    const call = insns([MOV64_K, 0, 0, 0, 0], [CALL, 0, 0, 0, 14], [JNE_K, 0, 0, 1, 0], [LDXW, 0, 2, 8, 0], [EXIT, 0, 0, 0, 0]);
    expect(reachable(call, 'little', 0, 5, new Map([[3, 'poison']]))!.has(3)).toBe(true);
  });

  it('computes through ALU ops and unconditional jumps', () => {
    // r1 = 0; r1 += 2; if r1 != 2 goto +2; ja +1; poison; exit
    const code = insns([MOV64_K, 1, 0, 0, 0], [ADD64_K, 1, 0, 0, 2], [JNE_K, 1, 0, 2, 2], [JA, 0, 0, 1, 0], [LDXW, 0, 2, 0, 0], [EXIT, 0, 0, 0, 0]);
    const seen = reachable(code, 'little', 0, 6, new Map([[4, 'poison']]))!;
    expect(seen.has(4)).toBe(false);
    expect(seen.has(5)).toBe(true);
  });

  it('gives up (null) on a jump out of the function', () => {
    expect(reachable(insns([JA, 0, 0, 5, 0]), 'little', 0, 1, new Map())).toBeNull();
  });
});
