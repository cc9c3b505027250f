import { ByteView, ByteWriter } from '../bytes.js';
import { btfEndianness } from '../btf/wire.js';
import type { Btf } from '../btf/btf.js';
import type { EncodedBtf } from '../btf/encode.js';
import type { Type } from '../btf/types.js';
import { BtfExtError } from '../errors.js';

// On-disk layout of .BTF.ext (libbpf's libbpf_internal.h: btf_ext_header and
// the *_info records). Instruction offsets are in bytes, as clang writes them.

const HEADER_MIN = 24; // up to line_info_len
const HEADER_CORE = 32; // with core_relo_off/len
const FUNC_INFO_SIZE = 8;
const LINE_INFO_SIZE = 16;
const CORE_RELO_SIZE = 16;
/** Bounds work on corrupted counts: no section has more records than this. */
const MAX_RECORDS = 1 << 24;

export const CORE_RELO_KINDS = [
  'field_byte_offset', 'field_byte_size', 'field_exists', 'field_signed', 'field_lshift_u64', 'field_rshift_u64',
  'type_id_local', 'type_id_target', 'type_exists', 'type_size', 'enumval_exists', 'enumval_value', 'type_matches',
] as const;
export type CoreReloKind = (typeof CORE_RELO_KINDS)[number];

export interface FuncInfo {
  /** byte offset of the function's first instruction in its section */
  readonly insnOff: number;
  /** a Func in well-formed BTF */
  readonly func: Type;
}

export interface LineInfo {
  readonly insnOff: number;
  readonly fileName: string;
  readonly line: string;
  readonly lineNumber: number;
  readonly column: number;
}

export interface CoreRelo {
  readonly insnOff: number;
  /** the root type the access string starts from */
  readonly type: Type;
  /** e.g. "0:1:2": index into an array of the root, then member indices */
  readonly accessString: string;
  readonly kind: CoreReloKind;
}

export interface ExtSection<R> {
  /** the ELF section of the program these records describe */
  readonly section: string;
  readonly records: readonly R[];
}

export interface BtfExt {
  readonly funcInfo: readonly ExtSection<FuncInfo>[];
  readonly lineInfo: readonly ExtSection<LineInfo>[];
  readonly coreRelos: readonly ExtSection<CoreRelo>[];
}

/** Decodes .BTF.ext against the .BTF it belongs to (its strings and types). */
export function decodeBtfExt(bytes: Uint8Array, btf: Btf): BtfExt {
  const endianness = btfEndianness(bytes);
  if (!endianness) throw new BtfExtError('bad magic (not BTF.ext)');
  if (endianness !== btf.endianness) throw new BtfExtError(`byte order ${endianness} differs from .BTF's (${btf.endianness})`);
  const v = new ByteView(bytes, endianness, (r) => new BtfExtError(r));
  if (bytes.length < HEADER_MIN) throw new BtfExtError(`header truncated (${bytes.length} bytes, need ${HEADER_MIN})`);
  const version = v.u8(2);
  if (version !== 1) throw new BtfExtError(`unsupported version ${version}`);
  const hdrLen = v.u32(4);
  if (hdrLen < HEADER_MIN || hdrLen > bytes.length) throw new BtfExtError(`header length ${hdrLen} is invalid (${bytes.length} bytes in all)`);

  const str = (off: number, what: string): string => {
    if (!btf.strings.has(off)) throw new BtfExtError(`${what}: string offset ${off} is outside .BTF's string section (${btf.strings.end} bytes)`);
    return btf.strings.get(off);
  };
  const type = (id: number, what: string): Type => {
    if (id >= btf.end) throw new BtfExtError(`${what}: type id ${id} out of range (${btf.end} types)`);
    return btf.typeById(id);
  };

  function block<R>(label: string, off: number, len: number, minRec: number, rec: (o: number, what: string) => R): ExtSection<R>[] {
    if (len === 0) return [];
    const start = hdrLen + off;
    if (start + len > bytes.length || start < hdrLen) throw new BtfExtError(`${label}: ${len} bytes at offset ${off} run past the end (${bytes.length - hdrLen} bytes after the header)`);
    if (len < 4) throw new BtfExtError(`${label}: too short for a record size`);
    const recSize = v.u32(start);
    if (recSize < minRec || recSize % 4 !== 0) throw new BtfExtError(`${label}: record size ${recSize} is invalid (at least ${minRec}, a multiple of 4)`);
    const end = start + len;
    const out: ExtSection<R>[] = [];
    for (let o = start + 4; o < end; ) {
      if (o + 8 > end) throw new BtfExtError(`${label}: truncated section header at offset ${o - hdrLen}`);
      const section = str(v.u32(o), `${label}`);
      const n = v.u32(o + 4);
      if (n === 0) throw new BtfExtError(`${label}: section '${section}' has no records`);
      if (n > MAX_RECORDS || o + 8 + n * recSize > end) throw new BtfExtError(`${label}: section '${section}': ${n} records of ${recSize} bytes run past the end of the ${label} data`);
      const records: R[] = [];
      for (let r = 0, p = o + 8; r < n; r++, p += recSize) records.push(rec(p, `${label}: section '${section}': record ${r}`));
      out.push({ section, records });
      o += 8 + n * recSize;
    }
    return out;
  }

  const funcInfo = block('func_info', v.u32(8), v.u32(12), FUNC_INFO_SIZE, (o, what) => ({
    insnOff: v.u32(o), func: type(v.u32(o + 4), what),
  }));
  const lineInfo = block('line_info', v.u32(16), v.u32(20), LINE_INFO_SIZE, (o, what) => {
    const col = v.u32(o + 12);
    return {
      insnOff: v.u32(o), fileName: str(v.u32(o + 4), `${what}: file name`), line: str(v.u32(o + 8), `${what}: line`),
      lineNumber: col >>> 10, column: col & 0x3ff,
    };
  });
  const coreRelos = hdrLen >= HEADER_CORE
    ? block('core_relo', v.u32(24), v.u32(28), CORE_RELO_SIZE, (o, what) => {
      const k = v.u32(o + 12);
      const kind = CORE_RELO_KINDS[k];
      if (!kind) throw new BtfExtError(`${what}: unknown relocation kind ${k}`);
      return { insnOff: v.u32(o), type: type(v.u32(o + 4), what), accessString: str(v.u32(o + 8), `${what}: access string`), kind };
    })
    : [];
  return { funcInfo, lineInfo, coreRelos };
}

/**
 * Encodes BTF.ext against an encoded .BTF: strings are added to its table
 * (encode the .BTF.ext before taking the BTF's final bytes if new strings
 * may appear) and type ids come from it.
 */
export function encodeBtfExt(ext: BtfExt, btf: Pick<EncodedBtf, 'strings' | 'idOf'>, endianness: 'little' | 'big'): Uint8Array {
  const s = (x: string) => btf.strings.add(x);
  const body = new ByteWriter(endianness);
  function block<R>(sections: readonly ExtSection<R>[], recSize: number, write: (r: R) => void): [number, number] {
    if (sections.length === 0) return [body.length, 0];
    const start = body.length;
    body.u32(recSize);
    for (const sec of sections) {
      body.u32(s(sec.section));
      body.u32(sec.records.length);
      for (const r of sec.records) write(r);
    }
    return [start, body.length - start];
  }
  const [fOff, fLen] = block(ext.funcInfo, FUNC_INFO_SIZE, (r) => {
    body.u32(r.insnOff);
    body.u32(btf.idOf(r.func));
  });
  const [lOff, lLen] = block(ext.lineInfo, LINE_INFO_SIZE, (r) => {
    body.u32(r.insnOff);
    body.u32(s(r.fileName));
    body.u32(s(r.line));
    body.u32((r.lineNumber << 10) | r.column);
  });
  const [cOff, cLen] = block(ext.coreRelos, CORE_RELO_SIZE, (r) => {
    body.u32(r.insnOff);
    body.u32(btf.idOf(r.type));
    body.u32(s(r.accessString));
    body.u32(CORE_RELO_KINDS.indexOf(r.kind));
  });
  const out = new ByteWriter(endianness);
  out.u16(0xeb9f);
  out.u8(1);
  out.u8(0);
  out.u32(HEADER_CORE);
  for (const x of [fOff, fLen, lOff, lLen, cOff, cLen]) out.u32(x);
  out.bytes(body.finish());
  return out.finish();
}
