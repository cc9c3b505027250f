/**
 * Which instructions of a program the verifier can reach once CO-RE values
 * are patched in. libbpf poisons an instruction whose relocation does not
 * resolve, and the load fails only if the verifier reaches it; the usual
 * guard, `if (bpf_core_field_exists(p->f)) … p->f …`, compiles to a
 * constant the relocation sets to 0 and a conditional jump on it, which the
 * verifier follows one way only. This follows constants the same way
 * (path-sensitively, through moves, ALU ops and jumps) and nothing else:
 * every value it does not know is taken to go either way, so what it calls
 * unreachable the verifier never visits either.
 */

/** What a relocation does to its instruction: a value patched in, or poison. */
export type Patch = { readonly value: bigint } | 'poison';

const LD = 0, LDX = 1, ST = 2, STX = 3, ALU = 4, JMP = 5, JMP32 = 6, ALU64 = 7;
const MODE_IMM = 0x00, MODE_ATOMIC = 0xc0;
const MASK64 = (1n << 64n) - 1n;
/** States explored before giving up (then everything counts as reachable). */
const MAX_STEPS = 200_000;

interface Insn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  readonly off: number;
  readonly imm: number;
}

/** A register: a known 64-bit value, or null when unknown. */
type Regs = readonly (bigint | null)[];

function decode(bytes: Uint8Array, little: boolean, i: number): Insn {
  const dv = new DataView(bytes.buffer, bytes.byteOffset + i * 8, 8);
  const regs = dv.getUint8(1);
  return {
    code: dv.getUint8(0),
    dst: little ? regs & 0xf : regs >> 4,
    src: little ? regs >> 4 : regs & 0xf,
    off: dv.getInt16(2, little),
    imm: dv.getInt32(4, little),
  };
}

const u64 = (v: bigint) => v & MASK64;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u32 = (v: bigint) => v & 0xffffffffn;
const s32 = (v: bigint) => BigInt.asIntN(32, v);

function alu(op: number, a: bigint, b: bigint, wide: boolean): bigint | null {
  const w = wide ? (v: bigint) => u64(v) : (v: bigint) => u32(v);
  const bits = wide ? 64n : 32n;
  a = w(a);
  b = w(b);
  switch (op) {
    case 0x00: return w(a + b);
    case 0x10: return w(a - b);
    case 0x20: return w(a * b);
    case 0x30: return b === 0n ? 0n : w(a / b);
    case 0x40: return a | b;
    case 0x50: return a & b;
    case 0x60: return w(a << (b & (bits - 1n)));
    case 0x70: return a >> (b & (bits - 1n));
    case 0x80: return w(-a);
    case 0x90: return b === 0n ? a : a % b;
    case 0xa0: return a ^ b;
    case 0xb0: return b;
    case 0xc0: return w((wide ? s64(a) : s32(a)) >> (b & (bits - 1n)));
    default: return null;
  }
}

/** The outcome of a conditional jump on known operands. */
function taken(op: number, a: bigint, b: bigint, wide: boolean): boolean | null {
  const w = wide ? u64 : u32;
  const s = wide ? s64 : s32;
  const ua = w(a), ub = w(b), sa = s(a), sb = s(b);
  switch (op) {
    case 0x10: return ua === ub;
    case 0x20: return ua > ub;
    case 0x30: return ua >= ub;
    case 0x40: return (ua & ub) !== 0n;
    case 0x50: return ua !== ub;
    case 0x60: return sa > sb;
    case 0x70: return sa >= sb;
    case 0xa0: return ua < ub;
    case 0xb0: return ua <= ub;
    case 0xc0: return sa < sb;
    case 0xd0: return sa <= sb;
    default: return null;
  }
}

/**
 * Instruction indices (relative to `start`) reachable from the program's
 * first instruction, or null when the program is too large or odd to follow
 * (then callers must assume everything is reachable). `patches` are keyed
 * by instruction index relative to `start`.
 */
export function reachable(section: Uint8Array, endianness: 'little' | 'big', start: number, count: number, patches: ReadonlyMap<number, Patch>): Set<number> | null {
  const little = endianness === 'little';
  if ((start + count) * 8 > section.length) return null;
  const seen = new Set<number>();
  const visited = new Set<string>();
  const work: { pc: number; regs: Regs }[] = [{ pc: 0, regs: new Array<bigint | null>(11).fill(null) }];
  let steps = 0;
  while (work.length) {
    const { pc, regs: r0 } = work.pop()!;
    if (pc < 0 || pc >= count) return null; // a jump out of the function: not ours to follow
    const key = `${pc}:${r0.join(',')}`;
    if (visited.has(key)) continue;
    visited.add(key);
    if (++steps > MAX_STEPS) return null;
    seen.add(pc);
    const patch = patches.get(pc);
    const insn = decode(section, little, start + pc);
    const regs = [...r0];
    const next = (to: number, rs: Regs = regs) => work.push({ pc: to, regs: rs });
    if (patch === 'poison') {
      // the verifier fails here; carry on as if it did not, so every poisoned
      // instruction it could reach is reported, not just the first
      regs[insn.dst] = null;
      next(pc + (insn.code === 0x18 ? 2 : 1), regs);
      continue;
    }
    const cls = insn.code & 7;
    const imm = patch ? patch.value : BigInt(insn.imm);
    switch (cls) {
      case ALU: case ALU64: {
        const wide = cls === ALU64;
        const op = insn.code & 0xf0;
        const srcX = (insn.code & 0x08) !== 0;
        // sign-extending moves and signed division (cpu v4) carry their variant in `off`
        const b = srcX ? regs[insn.src]! : wide ? u64(s64(imm)) : u32(imm);
        const a = regs[insn.dst]!;
        const plain = insn.off === 0 || (op !== 0xb0 && op !== 0x30 && op !== 0x90);
        const v = op === 0xd0 || !plain || b === null || (op !== 0xb0 && a === null) ? null : alu(op, a ?? 0n, b, wide);
        regs[insn.dst] = v;
        next(pc + 1);
        break;
      }
      case LD:
        if ((insn.code & 0xe0) === MODE_IMM && insn.code === 0x18) {
          const hi = pc + 1 < count ? decode(section, little, start + pc + 1).imm : 0;
          regs[insn.dst] = insn.src !== 0 ? null : patch ? u64(patch.value) : u64((BigInt(hi >>> 0) << 32n) | BigInt(insn.imm >>> 0));
          seen.add(pc + 1);
          next(pc + 2);
        } else {
          regs[0] = null; // legacy packet loads
          next(pc + 1);
        }
        break;
      case LDX:
        regs[insn.dst] = null;
        next(pc + 1);
        break;
      case ST:
        next(pc + 1);
        break;
      case STX:
        if ((insn.code & 0xe0) === MODE_ATOMIC) {
          regs[insn.src] = null;
          regs[0] = null;
        }
        next(pc + 1);
        break;
      case JMP: case JMP32: {
        const op = insn.code & 0xf0;
        if (op === 0x90) break; // exit
        if (op === 0x80) {
          for (let i = 0; i <= 5; i++) regs[i] = null; // helper, kfunc or subprogram call
          next(pc + 1);
          break;
        }
        if (op === 0x00) {
          next(pc + 1 + (cls === JMP32 ? insn.imm : insn.off));
          break;
        }
        const a = regs[insn.dst]!;
        const b = (insn.code & 0x08) !== 0 ? regs[insn.src]! : u64(s64(imm));
        const t = a === null || b === null ? null : taken(op, a, b, cls === JMP);
        if (t !== false) next(pc + 1 + insn.off);
        if (t !== true) next(pc + 1);
        break;
      }
    }
  }
  return seen;
}
