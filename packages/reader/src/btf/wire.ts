import { ByteView, type Endianness } from '../bytes.js';
import { BtfError } from '../errors.js';
import { KIND, KIND_NAMES, MAX_KIND } from './kinds.js';

// On-disk layout of BTF (include/uapi/linux/btf.h). Private to the reader:
// nothing outside btf/ sees type ids, offsets or info words.

export const BTF_MAGIC = 0xeb9f;
export const BTF_HEADER_LEN = 24;
/** Kernel limit on type ids (BTF_MAX_TYPE); also bounds memory for absurd input. */
export const MAX_TYPES = 0x000fffff;
const MAX_VLEN = 0xffff;

export interface BtfHeader {
  endianness: Endianness;
  version: number;
  flags: number;
  hdrLen: number;
  typeOff: number;
  typeLen: number;
  strOff: number;
  strLen: number;
}

/** Endianness from the magic number, or null when the bytes are not BTF. */
export function btfEndianness(bytes: Uint8Array): Endianness | null {
  if (bytes.length < 2) return null;
  if (bytes[0] === 0x9f && bytes[1] === 0xeb) return 'little';
  if (bytes[0] === 0xeb && bytes[1] === 0x9f) return 'big';
  return null;
}

export function readHeader(bytes: Uint8Array): BtfHeader {
  const endianness = btfEndianness(bytes);
  if (!endianness) throw new BtfError('bad magic (not BTF)');
  const v = new ByteView(bytes, endianness, (r) => new BtfError(`header: ${r}`));
  if (bytes.length < BTF_HEADER_LEN) throw new BtfError(`header truncated (${bytes.length} bytes, need ${BTF_HEADER_LEN})`);
  const h: BtfHeader = {
    endianness, version: v.u8(2), flags: v.u8(3), hdrLen: v.u32(4),
    typeOff: v.u32(8), typeLen: v.u32(12), strOff: v.u32(16), strLen: v.u32(20),
  };
  if (h.version !== 1) throw new BtfError(`unsupported version ${h.version}`);
  if (h.hdrLen < BTF_HEADER_LEN || h.hdrLen > bytes.length) throw new BtfError(`header length ${h.hdrLen} is invalid (${bytes.length} bytes in all)`);
  // Fields past the ones we know must be zero, as the kernel requires.
  for (let i = BTF_HEADER_LEN; i < h.hdrLen; i++) {
    if (bytes[i] !== 0) throw new BtfError(`unknown header field set at byte ${i}`);
  }
  const body = bytes.length - h.hdrLen;
  if (h.typeOff + h.typeLen > body) throw new BtfError(`type section (offset ${h.typeOff}, ${h.typeLen} bytes) runs past the end (${body} bytes after the header)`);
  if (h.strOff + h.strLen > body) throw new BtfError(`string section (offset ${h.strOff}, ${h.strLen} bytes) runs past the end (${body} bytes after the header)`);
  if (h.typeLen % 4 !== 0) throw new BtfError(`type section length ${h.typeLen} is not a multiple of 4`);
  return h;
}

/** Bytes after the 12-byte common header, by kind and vlen. */
function extraSize(kind: number, vlen: number): number {
  switch (kind) {
    case KIND.INT: case KIND.VAR: case KIND.DECL_TAG: return 4;
    case KIND.ARRAY: return 12;
    case KIND.STRUCT: case KIND.UNION: case KIND.DATASEC: case KIND.ENUM64: return vlen * 12;
    case KIND.ENUM: case KIND.FUNC_PROTO: return vlen * 8;
    default: return 0;
  }
}

/** Kinds whose third word is a type id rather than a size. */
const REFERS = new Set<number>([
  KIND.PTR, KIND.TYPEDEF, KIND.VOLATILE, KIND.CONST, KIND.RESTRICT, KIND.FUNC, KIND.FUNC_PROTO, KIND.VAR,
  KIND.DECL_TAG, KIND.TYPE_TAG,
]);

/**
 * The result of one validating pass over the type section: where each type
 * starts, so types can be decoded individually and lazily. Every reference
 * and name offset has been checked, so lazy decoding cannot fail later.
 */
export interface TypeIndex {
  /** byte offset of type (firstId + i) within the type section */
  offsets: Uint32Array;
  view: ByteView;
}

export interface ScanLimits {
  /** id of the first type in this table (1, or the base's count for split BTF) */
  firstId: number;
  /** one past the largest valid string offset (including the base's strings) */
  stringsEnd: number;
  /** true when the string offset is the start of a string (checked lazily by the caller) */
}

export function scanTypes(types: Uint8Array, endianness: Endianness, limits: ScanLimits): TypeIndex {
  const { firstId, stringsEnd } = limits;
  const view = new ByteView(types, endianness, (r) => new BtfError(r));
  // Every type takes at least 12 bytes, which bounds the count before allocating.
  const maxCount = Math.floor(types.length / 12);
  let offsets = new Uint32Array(Math.min(maxCount, 1 << 16));
  let count = 0;
  const dv = view.dv;
  const le = view.le;
  const len = types.length;
  let off = 0;
  while (off < len) {
    const id = firstId + count;
    if (off + 12 > len) throw new BtfError(`type [${id}]: truncated header at offset ${off}`);
    const nameOff = dv.getUint32(off, le);
    const info = dv.getUint32(off + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (kind === 0 || kind > MAX_KIND) throw new BtfError(`type [${id}]: unknown kind ${kind}`);
    if ((info & 0x60ff0000) !== 0) throw new BtfError(`type [${id}] ${KIND_NAMES[kind]}: reserved bits set in info 0x${info.toString(16)}`);
    if (vlen > MAX_VLEN) throw new BtfError(`type [${id}]: vlen ${vlen} too large`);
    if (nameOff >= stringsEnd) throw new BtfError(`type [${id}] ${KIND_NAMES[kind]}: name offset ${nameOff} is outside the string section (${stringsEnd} bytes)`);
    const size = 12 + extraSize(kind, vlen);
    if (off + size > len) throw new BtfError(`type [${id}] ${KIND_NAMES[kind]}: ${size} bytes at offset ${off} run past the end of the type section (${len} bytes)`);
    if (count === offsets.length) {
      if (firstId + count > MAX_TYPES) throw new BtfError(`more than ${MAX_TYPES} types`);
      const next = new Uint32Array(Math.min(maxCount, offsets.length * 2));
      next.set(offsets);
      offsets = next;
    }
    offsets[count++] = off;
    off += size;
  }
  offsets = offsets.subarray(0, count);
  const index: TypeIndex = { offsets, view };
  checkReferences(index, limits, firstId + count);
  return index;
}

/** Every type id and string offset a type record holds is in range. */
function checkReferences(index: TypeIndex, limits: ScanLimits, total: number): void {
  const { offsets, view } = index;
  const { dv, le } = view;
  const { firstId, stringsEnd } = limits;
  for (let i = 0; i < offsets.length; i++) {
    const off = offsets[i]!;
    const id = firstId + i;
    const info = dv.getUint32(off + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const ref = (t: number, what: string) => {
      if (t >= total) throw new BtfError(`type [${id}] ${KIND_NAMES[kind]}: ${what} refers to type id ${t}, but there are only ${total}`);
    };
    const str = (s: number, what: string) => {
      if (s >= stringsEnd) throw new BtfError(`type [${id}] ${KIND_NAMES[kind]}: ${what} name offset ${s} is outside the string section (${stringsEnd} bytes)`);
    };
    if (REFERS.has(kind)) ref(dv.getUint32(off + 8, le), 'its type');
    const x = off + 12;
    switch (kind) {
      case KIND.ARRAY:
        ref(dv.getUint32(x, le), 'element type');
        ref(dv.getUint32(x + 4, le), 'index type');
        break;
      case KIND.STRUCT: case KIND.UNION:
        for (let m = 0; m < vlen; m++) {
          str(dv.getUint32(x + m * 12, le), `member ${m}`);
          ref(dv.getUint32(x + m * 12 + 4, le), `member ${m}`);
        }
        break;
      case KIND.ENUM:
        for (let m = 0; m < vlen; m++) str(dv.getUint32(x + m * 8, le), `value ${m}`);
        break;
      case KIND.ENUM64:
        for (let m = 0; m < vlen; m++) str(dv.getUint32(x + m * 12, le), `value ${m}`);
        break;
      case KIND.FUNC_PROTO:
        for (let m = 0; m < vlen; m++) {
          str(dv.getUint32(x + m * 8, le), `parameter ${m}`);
          ref(dv.getUint32(x + m * 8 + 4, le), `parameter ${m}`);
        }
        break;
      case KIND.DATASEC:
        for (let m = 0; m < vlen; m++) ref(dv.getUint32(x + m * 12, le), `variable ${m}`);
        break;
      case KIND.FUNC:
        if (vlen > 2) throw new BtfError(`type [${id}] func: unknown linkage ${vlen}`);
        break;
      case KIND.VAR: {
        const linkage = dv.getUint32(x, le);
        if (linkage > 2) throw new BtfError(`type [${id}] var: unknown linkage ${linkage}`);
        break;
      }
    }
  }
}
