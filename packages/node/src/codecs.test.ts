// Codecs and CoolbpfError, without the kernel.
import { describe, expect, it } from 'vitest';
import { codecs, hostLittleEndian, makeCodecs, type Codec } from './codecs.js';
import { CoolbpfError, errnoName } from './errors.js';

function roundTrip<T>(c: Codec<T>, value: T, size = c.size): { back: T; bytes: number[] } {
  const view = new DataView(new ArrayBuffer(size + 3)); // at an odd offset
  c.encode(view, 3, value);
  return { back: c.decode(view, 3), bytes: [...new Uint8Array(view.buffer, 3, c.size)] };
}

describe('codecs', () => {
  it('scalars round-trip in little-endian order', () => {
    expect(roundTrip(codecs.u8, 0xfe)).toEqual({ back: 0xfe, bytes: [0xfe] });
    expect(roundTrip(codecs.i8, -2)).toEqual({ back: -2, bytes: [0xfe] });
    expect(roundTrip(codecs.u16, 0x1234)).toEqual({ back: 0x1234, bytes: [0x34, 0x12] });
    expect(roundTrip(codecs.i16, -0x8000).back).toBe(-0x8000);
    expect(roundTrip(codecs.u32, 0xdeadbeef)).toEqual({ back: 0xdeadbeef, bytes: [0xef, 0xbe, 0xad, 0xde] });
    expect(roundTrip(codecs.i32, -1).bytes).toEqual([0xff, 0xff, 0xff, 0xff]);
    expect(roundTrip(codecs.u64, 0xfedcba9876543210n).back).toBe(0xfedcba9876543210n);
    expect(roundTrip(codecs.u64, 1n).bytes).toEqual([1, 0, 0, 0, 0, 0, 0, 0]);
    expect(roundTrip(codecs.i64, -5n).back).toBe(-5n);
    expect(roundTrip(codecs.bool, true)).toEqual({ back: true, bytes: [1] });
    expect(roundTrip(codecs.bool, false).back).toBe(false);
    expect(roundTrip(codecs.f32, 1.5).back).toBe(1.5);
    expect(roundTrip(codecs.f64, Math.PI).back).toBe(Math.PI);
    expect(codecs.littleEndian).toBe(true);
    expect(hostLittleEndian).toBe(true);
  });

  it('integers out of range throw RangeError instead of wrapping', () => {
    const v = new DataView(new ArrayBuffer(8));
    expect(() => codecs.u8.encode(v, 0, 256)).toThrow(RangeError);
    expect(() => codecs.u8.encode(v, 0, -1)).toThrow(RangeError);
    expect(() => codecs.u32.encode(v, 0, 1.5)).toThrow(RangeError);
    expect(() => codecs.i32.encode(v, 0, 2 ** 31)).toThrow(/not an integer in \[-2147483648, 2147483647\]/);
    expect(() => codecs.u64.encode(v, 0, -1n)).toThrow(RangeError);
    expect(() => codecs.u64.encode(v, 0, 1n << 64n)).toThrow(RangeError);
    expect(() => codecs.i64.encode(v, 0, 1n << 63n)).toThrow(RangeError);
    // an exact integer number is accepted for a 64-bit field
    codecs.u64.encode(v, 0, 7 as unknown as bigint);
    expect(codecs.u64.decode(v, 0)).toBe(7n);
  });

  it('bool decodes any non-zero byte as true', () => {
    const v = new DataView(new Uint8Array([0, 2]).buffer);
    expect(codecs.bool.decode(v, 0)).toBe(false);
    expect(codecs.bool.decode(v, 1)).toBe(true);
  });

  it('cstring: up to the first NUL, UTF-8, NUL-padded, RangeError when too long', () => {
    const c = codecs.cstring(8);
    expect(c.size).toBe(8);
    const v = new DataView(new ArrayBuffer(8));
    new Uint8Array(v.buffer).fill(0x41);
    c.encode(v, 0, 'bash');
    expect([...new Uint8Array(v.buffer)]).toEqual([0x62, 0x61, 0x73, 0x68, 0, 0, 0, 0]);
    expect(c.decode(v, 0)).toBe('bash');
    c.encode(v, 0, 'héllo'); // 6 bytes of UTF-8
    expect(c.decode(v, 0)).toBe('héllo');
    c.encode(v, 0, '12345678'); // exactly n: no NUL, as C's char[8] allows
    expect(c.decode(v, 0)).toBe('12345678');
    expect(() => c.encode(v, 0, '123456789')).toThrow(RangeError);
    expect(() => c.encode(v, 0, 'ééééé')).toThrow(/cstring\(8\): a string of 10 bytes does not fit in char\[8\]/);
    // bytes after the NUL do not matter
    const w = new DataView(new Uint8Array([0x68, 0x69, 0, 0x7a, 0x7a, 0x7a, 0, 0]).buffer);
    expect(c.decode(w, 0)).toBe('hi');
  });

  it('bytes copies on decode and zero-pads on encode', () => {
    const c = codecs.bytes(4);
    const v = new DataView(new Uint8Array([1, 2, 3, 4]).buffer);
    const got = c.decode(v, 0);
    v.setUint8(0, 9);
    expect([...got]).toEqual([1, 2, 3, 4]);
    c.encode(v, 0, new Uint8Array([7, 8]));
    expect([...new Uint8Array(v.buffer)]).toEqual([7, 8, 0, 0]);
    expect(() => c.encode(v, 0, new Uint8Array(5))).toThrow(RangeError);
  });

  it('array nests for multi-dimensional arrays and zero-fills short input', () => {
    const grid = codecs.array(codecs.array(codecs.u16, 3), 2);
    expect(grid.size).toBe(12);
    const { back } = roundTrip(grid, [[1, 2, 3], [4, 5, 6]]);
    expect(back).toEqual([[1, 2, 3], [4, 5, 6]]);
    const v = new DataView(new ArrayBuffer(12));
    new Uint8Array(v.buffer).fill(0xff);
    grid.encode(v, 0, [[1, 2, 3]]);
    expect(grid.decode(v, 0)).toEqual([[1, 2, 3], [0, 0, 0]]);
    expect(() => grid.encode(v, 0, [[1], [2], [3]])).toThrow(RangeError);
  });

  it('makeCodecs(false) reads and writes big-endian', () => {
    const be = makeCodecs(false);
    expect(roundTrip(be.u32, 0x01020304).bytes).toEqual([1, 2, 3, 4]);
    expect(roundTrip(be.u64, 0x0102n).bytes).toEqual([0, 0, 0, 0, 0, 0, 1, 2]);
  });
});

describe('CoolbpfError', () => {
  it('names the errno, keeps the first line as the summary and the rest as detail', () => {
    const e = new CoolbpfError("load: program 'p': Permission denied (errno 13)\n0: (b7) r1 = 1\nR0 invalid mem access", undefined, 13);
    expect(e).toBeInstanceOf(Error);
    expect(e).toBeInstanceOf(CoolbpfError);
    expect(e.name).toBe('CoolbpfError');
    expect(e.code).toBe('EACCES');
    expect(e.errno).toBe(13);
    expect(e.detail).toBe('0: (b7) r1 = 1\nR0 invalid mem access');
    expect(String(e)).toMatch(/^CoolbpfError: load: program 'p'/);
    const s = new CoolbpfError('x', 'ESTATE');
    expect([s.code, s.errno, s.detail]).toEqual(['ESTATE', 0, '']);
  });

  it('errno names', () => {
    expect(errnoName(1)).toBe('EPERM');
    expect(errnoName(2)).toBe('ENOENT');
    expect(errnoName(7)).toBe('E2BIG');
    expect(errnoName(11)).toBe('EAGAIN');
    expect(errnoName(95)).toBe('EOPNOTSUPP');
    expect(errnoName(524)).toBe('ENOTSUPP');
    expect(errnoName(99999)).toBe('EUNKNOWN');
  });
});
