import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fixturePath } from '@coolbpf/fixtures';
import { readElf } from '@coolbpf/reader';
import { afterAll, describe, expect, it } from 'vitest';
import { buildModel } from './model.js';
import type { MemberLayout, ObjectModel, StructDecl, TypeRef } from './types.js';

const CLANG = ['clang-16', 'clang'].find((c) => { try { execFileSync('sh', ['-c', `command -v ${c}`]); return true; } catch { return false; } });
const BPFTOOL = (() => { try { execFileSync('sh', ['-c', 'command -v bpftool']); return true; } catch { return false; } })();
const why = !CLANG ? 'clang is not installed (run scripts/setup.sh)' : !BPFTOOL ? 'bpftool is not installed (run scripts/setup.sh)' : null;
if (why) console.log(`skipping layout checks against the C compiler: ${why}`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-layout-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A named (non-bitfield or bitfield) leaf reachable from a root struct, with its absolute position. */
interface Leaf {
  path: string;
  offset: number;
  member: MemberLayout;
}

function decl(m: ObjectModel, key: string): StructDecl | undefined {
  const d = m.types.find((t) => t.key === key);
  return d && d.kind !== 'enum' ? d : undefined;
}

/** Named leaves of a struct, descending through anonymous members and nested named structs. */
function leaves(m: ObjectModel, d: StructDecl, prefix = '', base = 0): Leaf[] {
  const out: Leaf[] = [];
  for (const mem of d.members) {
    const path = mem.name === null ? prefix : `${prefix}${prefix ? '.' : ''}${mem.name}`;
    const abs = base + mem.offset;
    if (mem.name !== null) out.push({ path, offset: abs, member: mem });
    const inner = (mem.type.kind === 'struct' || mem.type.kind === 'union') && !mem.bitfield ? decl(m, mem.type.key) : undefined;
    if (inner) out.push(...leaves(m, inner, path, abs));
  }
  return out;
}

function mask(width: number): bigint {
  return (1n << BigInt(width)) - 1n;
}

/** A value that exercises a bitfield: alternating bits with the top bit set (negative when signed). */
function pattern(width: number, signed: boolean): bigint {
  let v = 0n;
  for (let i = 0; i < width; i += 2) v |= 1n << BigInt(i);
  v |= 1n << BigInt(width - 1);
  v &= mask(width);
  return signed ? BigInt.asIntN(width, v) : v;
}

/** Reads a bitfield exactly as the model tells generators to. */
function readBits(bytes: Uint8Array, at: number, mem: MemberLayout, order: 'little' | 'big'): bigint {
  const b = mem.bitfield!;
  let raw = 0n;
  for (let i = 0; i < mem.size; i++) {
    const byte = BigInt(bytes[at + (order === 'little' ? mem.size - 1 - i : i)]!);
    raw = (raw << 8n) | byte;
  }
  const v = (raw >> BigInt(b.shift)) & mask(b.width);
  return b.signed ? BigInt.asIntN(b.width, v) : v;
}

/** Writes a bitfield into bytes as the model tells generators to. */
function writeBits(bytes: Uint8Array, at: number, mem: MemberLayout, order: 'little' | 'big', value: bigint): void {
  const b = mem.bitfield!;
  let raw = 0n;
  const idx = (i: number) => at + (order === 'little' ? mem.size - 1 - i : i);
  for (let i = 0; i < mem.size; i++) raw = (raw << 8n) | BigInt(bytes[idx(i)]!);
  const m = mask(b.width) << BigInt(b.shift);
  raw = (raw & ~m) | ((BigInt.asUintN(b.width, value) << BigInt(b.shift)) & m);
  for (let i = mem.size - 1; i >= 0; i--) {
    bytes[idx(i)] = Number(raw & 0xffn);
    raw >>= 8n;
  }
}

function cLiteral(v: bigint): string {
  return v < 0n ? `(-${-v}LL)` : `${v}ULL`;
}

/** Generates a host C program printing what the compiler thinks of each root struct's layout. */
function probe(m: ObjectModel, roots: StructDecl[]): string {
  const lines = [
    '#define BPF_NO_PRESERVE_ACCESS_INDEX',
    '#include "types.h"',
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <string.h>',
    'int main(void) {',
  ];
  for (const d of roots) {
    const T = d.c;
    lines.push(`  printf("size|${d.key}|%zu|%zu\\n", sizeof(${T}), _Alignof(${T}));`);
    for (const l of leaves(m, d)) {
      if (!l.member.bitfield) {
        lines.push(`  printf("member|${d.key}|${l.path}|%zu|%zu\\n", offsetof(${T}, ${l.path}), sizeof(((${T} *)0)->${l.path}));`);
        continue;
      }
      const p = pattern(l.member.bitfield.width, l.member.bitfield.signed);
      lines.push(`  { ${T} v; memset(&v, 0, sizeof v); v.${l.path} = ${cLiteral(p)};`);
      const fmt = l.member.bitfield.signed ? '%lld|", (long long)' : '%llu|", (unsigned long long)';
      lines.push(`    printf("bits|${d.key}|${l.path}|${p}|${fmt}v.${l.path});`);
      lines.push('    for (size_t i = 0; i < sizeof v; i++) printf("%02x", ((unsigned char *)&v)[i]); printf("\\n"); }');
    }
  }
  lines.push('  return 0;', '}');
  return lines.join('\n');
}

const objects = ['layout', 'kinds', 'globals', 'maps', 'events'];

describe.skipIf(why !== null)('layout agrees with the C compiler (host, little-endian)', () => {
  for (const name of objects) {
    it(`${name}: sizes, alignments, member offsets, and bitfield reads and writes`, () => {
      const obj = fixturePath(name, 'bpfel');
      // events declares its ring buffer records only through --event
      const m = buildModel(readFileSync(obj), name === 'events' ? { events: { events: 'struct event', perf_events: 'struct exit_event' } } : {});
      const roots = m.types.filter((t): t is StructDecl => t.kind !== 'enum' && !t.anonymous && t.size > 0);
      expect(roots.length).toBeGreaterThan(0);
      const header = execFileSync('bpftool', ['btf', 'dump', 'file', obj, 'format', 'c'], { encoding: 'utf8', maxBuffer: 1 << 28 });
      const work = join(dir, name);
      execFileSync('mkdir', ['-p', work]);
      writeFileSync(join(work, 'types.h'), header);
      writeFileSync(join(work, 'probe.c'), probe(m, roots));
      execFileSync(CLANG!, ['-w', '-O0', '-mlong-double-64', '-o', join(work, 'probe'), join(work, 'probe.c')], { cwd: work });
      const out = execFileSync(join(work, 'probe'), { encoding: 'utf8', maxBuffer: 1 << 26 }).trim().split('\n');

      let bitfields = 0;
      for (const line of out) {
        const [what, key, ...rest] = line.split('|');
        const d = decl(m, key!)!;
        if (what === 'size') {
          expect([key, d.size, d.packed ? 'packed' : d.align]).toEqual([key, Number(rest[0]), d.packed ? 'packed' : Number(rest[1])]);
          continue;
        }
        const l = leaves(m, d).find((x) => x.path === rest[0])!;
        if (what === 'member') {
          expect([key, l.path, l.offset, l.member.size]).toEqual([key, l.path, Number(rest[1]), Number(rest[2])]);
          continue;
        }
        bitfields++;
        const [, want, got, hex] = rest;
        const cBytes = Uint8Array.from(Buffer.from(hex!, 'hex'));
        // reading C's bytes through the model gives what C reads back
        expect([key, l.path, readBits(cBytes, l.offset, l.member, 'little')]).toEqual([key, l.path, BigInt(got!)]);
        // writing through the model gives C's bytes
        const ours = new Uint8Array(d.size);
        writeBits(ours, l.offset, l.member, 'little', BigInt(want!));
        expect([key, l.path, Buffer.from(ours).toString('hex')]).toEqual([key, l.path, Buffer.from(cBytes).toString('hex')]);
      }
      if (name === 'layout') expect(bitfields).toBeGreaterThan(150);
    });
  }
});

/** Every integer and bitfield of a global, decoded from its section bytes with the model. */
function decodeGlobal(m: ObjectModel, bytes: Uint8Array, section: string, varName: string): Record<string, string> {
  const ds = m.dataSections.find((s) => s.name === section)!;
  const v = ds.variables.find((x) => x.name === varName)!;
  const data = readElf(bytes).section(section)!.data;
  const order = m.object.byteOrder;
  const out: Record<string, string> = {};
  const walk = (t: TypeRef, at: number, path: string) => {
    if (t.kind === 'int' || t.kind === 'enum') {
      const size = t.kind === 'int' ? t.size : m.types.find((x) => x.key === t.key)!.size;
      const view = new DataView(data.buffer, data.byteOffset + at, size);
      const le = order === 'little';
      out[path] = String(size === 1 ? view.getUint8(0) : size === 2 ? view.getUint16(0, le) : size === 4 ? view.getUint32(0, le) : size === 8 ? view.getBigUint64(0, le) : 'wide');
    } else if (t.kind === 'struct' || t.kind === 'union') {
      const d = decl(m, t.key)!;
      for (const mem of d.members) {
        const p = `${path}.${mem.name ?? '(anon)'}`;
        if (mem.bitfield) out[p] = String(readBits(data, at + mem.offset, mem, order));
        else walk(mem.type, at + mem.offset, p);
      }
    } else if (t.kind === 'array') {
      const n = t.dims.reduce((a, b) => a * b, 1);
      const each = n ? t.size / n : 0;
      for (let i = 0; i < n; i++) walk(t.element, at + i * each, `${path}[${i}]`);
    }
  };
  walk(v.type, v.offset, varName);
  return out;
}

describe('bitfields of a big-endian object', () => {
  const le = readFileSync(fixturePath('layout', 'bpfel'));
  const be = readFileSync(fixturePath('layout', 'bpfeb'));
  const mLe = buildModel(le);
  const mBe = buildModel(be);

  it('has the same offsets and widths as little-endian, and mirrored shifts', () => {
    const lb = mLe.types.find((t) => t.key === 'struct layout_bits') as StructDecl;
    const bb = mBe.types.find((t) => t.key === 'struct layout_bits') as StructDecl;
    expect(bb.members.map((x) => [x.name, x.offset, x.size, x.bitfield?.width])).toEqual(lb.members.map((x) => [x.name, x.offset, x.size, x.bitfield?.width]));
    expect(bb.members.some((x, i) => x.bitfield && x.bitfield.shift !== lb.members[i]!.bitfield!.shift)).toBe(true);
  });

  for (const v of ['layout_bits_full', 'layout_packed_bits_full', 'layout_ladder_unsigned_full', 'layout_ladder_signed_full']) {
    it(`decodes ${v} (initialized by clang) to the same values in both byte orders`, () => {
      const a = decodeGlobal(mLe, le, '.data', v);
      const b = decodeGlobal(mBe, be, '.data', v);
      expect(b).toEqual(a);
      // every field was initialized to something other than zero
      expect(Object.entries(a).filter(([, x]) => x === '0')).toEqual([]);
      expect(Object.keys(a).length).toBeGreaterThan(2);
    });
  }

  it('decodes the values the C source gave', () => {
    const a = decodeGlobal(mBe, be, '.data', 'layout_bits_full');
    expect(a).toMatchObject({
      'layout_bits_full.a': '1', 'layout_bits_full.d': '-60', 'layout_bits_full.e': String(0xabcde), 'layout_bits_full.h': '-7',
      'layout_bits_full.i': '-1000', 'layout_bits_full.j': String(0xfedcba9876n), 'layout_bits_full.k': '-4294967296',
      'layout_bits_full.l': String(0x8877665544332211n), 'layout_bits_full.mode': '5', 'layout_bits_full.smode': '-2',
      'layout_bits_full.after': String(0xa5),
    });
    const u = decodeGlobal(mBe, be, '.data', 'layout_ladder_unsigned_full');
    for (let n = 1; n <= 64; n++) expect(u[`layout_ladder_unsigned_full.u${n}`]).toBe(String(n === 1 ? 1n : (1n << BigInt(n - 1)) | 1n));
    const s = decodeGlobal(mBe, be, '.data', 'layout_ladder_signed_full');
    for (let n = 1; n <= 64; n++) expect(s[`layout_ladder_signed_full.s${n}`]).toBe(String(n === 1 ? -1n : -(1n << BigInt(n - 2)) - 1n));
  });
});
