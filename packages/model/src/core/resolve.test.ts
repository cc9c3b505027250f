import { describe, expect, it } from 'vitest';
import {
  ArrayType, Btf, encodeBtf, Enum, Int, Member, Pointer, Struct, Typedef, Union, type CoreRelo, type CoreReloKind, type Type,
} from '@coolbpf/reader';
import { resolveRelo } from './resolve.js';
import { essentialName } from './names.js';

// Local (object) types are hand-built; target types go through the encoder
// and decoder, as a kernel's BTF does.
const int = (name: string, size: number, signed: boolean) => new Int(name, size, { signed, char: false, bool: false });
const u16 = int('unsigned short', 2, false);
const u32 = int('unsigned int', 4, false);
const s32 = int('int', 4, true);
const u64 = int('unsigned long long', 8, false);
const s64 = int('long long', 8, true);

function target(...roots: Type[]): Btf {
  return Btf.decode(encodeBtf(roots).bytes);
}
const LDX = 0x61; // ldxw: class 1

function resolve(root: Type, accessString: string, kind: CoreReloKind, t: Btf, insnClass?: number) {
  const localBtf = Btf.decode(encodeBtf([root]).bytes);
  const relo: CoreRelo = { insnOff: 0, type: localBtf.findAll(root.name)[0] ?? root, accessString, kind };
  return resolveRelo({ btf: localBtf, endianness: 'little' }, relo, t, insnClass);
}

// struct sock { struct sock_common __sk_common; u32 sk_mark; } as a program's vmlinux.h has it
const localCommon = new Struct('sock_common', 8, [new Member('skc_family', u16, 0), new Member('skc_foo', u32, 32)]);
const localSock = new Struct('sock', 16, [new Member('__sk_common', localCommon, 0), new Member('sk_mark', u32, 64)]);

describe('field relocations', () => {
  // the kernel's layout differs: family moved into an anonymous union, mark later, no skc_foo
  const kCommon = new Struct('sock_common', 24, [
    new Member('skc_hash', u32, 0),
    new Member('', new Union('', 4, [new Member('skc_family', u16, 0), new Member('skc_other', u32, 0)]), 64),
  ]);
  const kSock = new Struct('sock', 40, [new Member('__sk_common', kCommon, 0), new Member('sk_pad', u64, 192), new Member('sk_mark', u32, 256)]);
  const k = target(kSock);

  it('follows named members through anonymous ones to the target offset', () => {
    const r = resolve(localSock, '0:0:0', 'field_byte_offset', k);
    expect(r).toMatchObject({ status: 'resolved', value: 8, localValue: 0, fieldSize: 2, access: 'struct sock.__sk_common.skc_family' });
    expect(resolve(localSock, '0:1', 'field_byte_offset', k)).toMatchObject({ status: 'resolved', value: 32, localValue: 8 });
    expect(resolve(localSock, '0:1', 'field_byte_size', k)).toMatchObject({ status: 'resolved', value: 4 });
  });

  it('a missing field is unresolved (the instruction is poisoned), naming the field and where it was looked for', () => {
    const r = resolve(localSock, '0:0:1', 'field_byte_offset', k);
    expect(r.status).toBe('unresolved');
    expect(r.reason).toBe("field 'struct sock.__sk_common.skc_foo' not found in struct sock_common");
    expect(r.value).toBeUndefined();
  });

  it('field existence never fails: 1 when present, 0 when missing', () => {
    expect(resolve(localSock, '0:0:1', 'field_exists', k)).toMatchObject({ status: 'resolved', value: 0 });
    expect(resolve(localSock, '0:0:0', 'field_exists', k)).toMatchObject({ status: 'resolved', value: 1 });
  });

  it('a missing root type is named', () => {
    const r = resolve(localSock, '0:1', 'field_byte_offset', target(u32));
    expect(r).toMatchObject({ status: 'unresolved', reason: "type 'struct sock' not found" });
  });

  it('a flavored local type (sock___old) matches the kernel type by its essential name', () => {
    expect(essentialName('sock___old')).toBe('sock');
    expect(essentialName('a____b')).toBe('a____b'); // the flavor may not start with '_'
    expect(essentialName('task_struct___x___y')).toBe('task_struct___x');
    expect(essentialName('__x___y')).toBe('__x');
    const flavored = new Struct('sock___old', 16, [new Member('__sk_common', localCommon, 0), new Member('sk_mark', u32, 64)]);
    expect(resolve(flavored, '0:1', 'field_byte_offset', k)).toMatchObject({ status: 'resolved', value: 32 });
  });

  it('looks through typedefs and modifiers on both sides', () => {
    const td = new Typedef('sock_t', localSock);
    const kTd = target(new Typedef('sock_t', kSock));
    expect(resolve(td, '0:1', 'field_byte_offset', kTd)).toMatchObject({ status: 'resolved', value: 32 });
  });

  it('a field of an incompatible kind does not match', () => {
    const kBad = target(new Struct('sock', 8, [new Member('__sk_common', new Pointer(u32), 0), new Member('sk_mark', u32, 0)]));
    const r = resolve(localSock, '0:0:0', 'field_byte_offset', kBad);
    expect(r.status).toBe('unresolved');
    expect(r.reason).toBe("field 'struct sock.__sk_common' is unsigned int * in the target, incompatible with struct sock_common");
    // ints of any size and sign are compatible
    const kWide = target(new Struct('sock', 8, [new Member('sk_mark', s64, 0)]));
    expect(resolve(localSock, '0:1', 'field_signed', kWide)).toMatchObject({ status: 'resolved', value: 1, localValue: 0 });
  });

  it('an incompatible namesake inside an anonymous member does not end the search (libbpf order)', () => {
    const anon = new Struct('', 8, [new Member('sk_mark', new Pointer(u32), 0)]);
    const k2 = target(new Struct('sock', 24, [new Member('', anon, 0), new Member('sk_mark', u32, 128)]));
    expect(resolve(localSock, '0:1', 'field_byte_offset', k2)).toMatchObject({ status: 'resolved', value: 16 });
    // at the top level it does
    const k3 = target(new Struct('sock', 24, [new Member('sk_mark', new Pointer(u32), 0), new Member('', new Struct('', 4, [new Member('sk_mark', u32, 0)]), 64)]));
    expect(resolve(localSock, '0:1', 'field_byte_offset', k3)).toMatchObject({ status: 'unresolved', reason: "field 'struct sock.sk_mark' is unsigned int * in the target, incompatible with unsigned int" });
  });

  it('a load cannot be resized from an unsigned to a signed field of another size', () => {
    const kWide = target(new Struct('sock', 8, [new Member('sk_mark', s64, 0)]));
    expect(resolve(localSock, '0:1', 'field_byte_offset', kWide, LDX & 7)).toMatchObject({ status: 'unresolved' });
    // not a load: the offset alone is fine
    expect(resolve(localSock, '0:1', 'field_byte_offset', kWide)).toMatchObject({ status: 'resolved', value: 0, fieldSize: 8 });
    const kU64 = target(new Struct('sock', 8, [new Member('sk_mark', u64, 0)]));
    expect(resolve(localSock, '0:1', 'field_byte_offset', kU64, LDX & 7)).toMatchObject({ status: 'resolved', fieldSize: 8 });
  });

  it('two candidates that disagree are an error, as in libbpf', () => {
    const a = new Struct('sock', 8, [new Member('sk_mark', u32, 0)]);
    const b = new Struct('sock___2', 8, [new Member('sk_mark', u32, 32)]);
    expect(resolve(localSock, '0:1', 'field_byte_offset', target(a, b))).toMatchObject({ status: 'error' });
    const c = new Struct('sock___3', 8, [new Member('sk_mark', u32, 0)]);
    expect(resolve(localSock, '0:1', 'field_byte_offset', target(a, c))).toMatchObject({ status: 'resolved', value: 0 });
  });
});

describe('arrays and bitfields', () => {
  const local = new Struct('task', 24, [
    new Member('comm', new ArrayType(int('char', 1, true), u32, 16), 0),
    new Member('flags', u32, 128, 3),
    new Member('prio', s32, 131, 5),
    new Member('tail', new ArrayType(u64, u32, 0), 192),
  ], true);

  it('indexes arrays within the target bounds', () => {
    const k = target(new Struct('task', 40, [new Member('pad', u64, 0), new Member('comm', new ArrayType(int('char', 1, true), u32, 8), 64)]));
    expect(resolve(local, '0:0:3', 'field_byte_offset', k)).toMatchObject({ status: 'resolved', value: 11, localValue: 3, fieldSize: 1 });
    const short = target(new Struct('task', 4, [new Member('comm', new ArrayType(int('char', 1, true), u32, 2), 0)]));
    expect(resolve(local, '0:0:3', 'field_byte_offset', short)).toMatchObject({ status: 'unresolved', reason: "'struct task.comm[3]': index out of range (2 elements in the target)" });
  });

  it('lets a flexible array member be indexed past its length', () => {
    const k = target(new Struct('task', 8, [new Member('tail', new ArrayType(u64, u32, 0), 0)]));
    expect(resolve(local, '0:3:5', 'field_byte_offset', k)).toMatchObject({ status: 'resolved', value: 40 });
  });

  it('computes bitfield offset, size and shifts as libbpf does', () => {
    const k = target(new Struct('task', 16, [new Member('pad', u64, 0), new Member('flags', u32, 64 + 4, 3), new Member('prio', s32, 64 + 30, 5)], true));
    expect(resolve(local, '0:1', 'field_byte_offset', k)).toMatchObject({ status: 'resolved', value: 8 });
    expect(resolve(local, '0:1', 'field_byte_size', k)).toMatchObject({ value: 4 });
    expect(resolve(local, '0:1', 'field_lshift_u64', k)).toMatchObject({ value: 64 - (68 + 3 - 64) });
    expect(resolve(local, '0:1', 'field_rshift_u64', k)).toMatchObject({ value: 61 });
    // prio straddles a 4-byte boundary: the load widens to 8 bytes
    expect(resolve(local, '0:2', 'field_byte_offset', k)).toMatchObject({ value: 8 });
    expect(resolve(local, '0:2', 'field_byte_size', k)).toMatchObject({ value: 8 });
    expect(resolve(local, '0:2', 'field_lshift_u64', k)).toMatchObject({ value: 64 - (94 + 5 - 64) });
    expect(resolve(local, '0:2', 'field_signed', k)).toMatchObject({ value: 1 });
  });
});

describe('type and enum value relocations', () => {
  const color = new Enum('color', 4, [{ name: 'RED', value: 1 }, { name: 'BLUE', value: 2 }], false);

  it('type existence, size and target id; a missing type is 0, not a failure', () => {
    const kSock = new Struct('sock', 40, [new Member('sk_mark', u32, 0)]);
    const k = target(u32, kSock);
    expect(resolve(localSock, '0', 'type_exists', k)).toMatchObject({ status: 'resolved', value: 1 });
    expect(resolve(localSock, '0', 'type_size', k)).toMatchObject({ status: 'resolved', value: 40, localValue: 16 });
    expect(resolve(localSock, '0', 'type_id_target', k)).toMatchObject({ status: 'resolved', value: 2, targetTypeId: 2 });
    const none = target(u32);
    expect(resolve(localSock, '0', 'type_exists', none)).toMatchObject({ status: 'resolved', value: 0, reason: "type 'struct sock' not found" });
    expect(resolve(localSock, '0', 'type_size', none)).toMatchObject({ status: 'resolved', value: 0 });
  });

  it('type_matches wants every local member in the target with a matching type', () => {
    const kSame = target(new Struct('sock', 40, [new Member('x', u64, 0), new Member('__sk_common', new Struct('sock_common', 8, [
      new Member('skc_family', u16, 0), new Member('skc_foo', u32, 32)]), 64), new Member('sk_mark', u32, 192)]));
    expect(resolve(localSock, '0', 'type_matches', kSame)).toMatchObject({ value: 1 });
    const kSigned = target(new Struct('sock', 40, [new Member('__sk_common', localCommon, 0), new Member('sk_mark', s32, 64)]));
    expect(resolve(localSock, '0', 'type_matches', kSigned)).toMatchObject({ status: 'resolved', value: 0 });
    expect(resolve(localSock, '0', 'type_exists', kSigned)).toMatchObject({ value: 1 });
  });

  it('enum values by name; a missing value poisons enumval_value but not enumval_exists', () => {
    const k = target(new Enum('color', 4, [{ name: 'BLUE', value: 7 }], false));
    expect(resolve(color, '1', 'enumval_value', k)).toMatchObject({ status: 'resolved', value: 7, localValue: 2, access: 'enum color::BLUE' });
    expect(resolve(color, '0', 'enumval_exists', k)).toMatchObject({ status: 'resolved', value: 0 });
    expect(resolve(color, '0', 'enumval_value', k)).toMatchObject({ status: 'unresolved', reason: "enum value 'RED' not found in enum color" });
  });

  it('a malformed access string is an error', () => {
    expect(resolve(localSock, '0:9', 'field_byte_offset', target(u32))).toMatchObject({ status: 'error' });
    expect(resolve(localSock, '0:1', 'type_size', target(u32))).toMatchObject({ status: 'error' });
  });
});
