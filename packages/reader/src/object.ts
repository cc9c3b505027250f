import { gunzipSync } from 'node:zlib';
import { Btf } from './btf/btf.js';
import { btfEndianness } from './btf/wire.js';
import { decodeBtfExt, type BtfExt } from './btfext/ext.js';
import { isElf, readElf, type ElfFile } from './elf/elf.js';
import { BtfError, ReadError, within } from './errors.js';

/** A compiled BPF object: its ELF, its BTF and (when present) BTF.ext. */
export interface BpfObject {
  readonly elf: ElfFile;
  readonly btf: Btf;
  readonly ext: BtfExt | null;
  /** contents of the "license" section */
  readonly license: string | null;
  /** contents of the "version" section (the kernel version it was built for) */
  readonly kernelVersion: number | null;
}

/** Decompressed input may not exceed this: a gzip bomb fails instead of eating memory. */
const MAX_INFLATED = 1 << 30;

export function readObject(bytes: Uint8Array): BpfObject {
  const elf = readElf(bytes);
  const btfSec = elf.section('.BTF');
  if (!btfSec) throw new ReadError('no .BTF section (was it compiled with clang -g?)');
  const btf = within(`section '.BTF'`, () => Btf.decode(btfSec.data));
  const extSec = elf.section('.BTF.ext');
  const ext = extSec ? within(`section '.BTF.ext'`, () => decodeBtfExt(extSec.data, btf)) : null;
  const lic = elf.section('license');
  const license = lic ? cString(lic.data) : null;
  const ver = elf.section('version');
  let kernelVersion: number | null = null;
  if (ver) {
    if (ver.data.length !== 4) throw new ReadError(`section 'version': ${ver.data.length} bytes, want 4`);
    kernelVersion = new DataView(ver.data.buffer, ver.data.byteOffset, 4).getUint32(0, elf.endianness === 'little');
  }
  return { elf, btf, ext, license, kernelVersion };
}

/** Reads a raw BTF file (e.g. /sys/kernel/btf/vmlinux), gzip-compressed or not; `base` for split BTF. */
export function readBtfFile(bytes: Uint8Array, base?: Btf): Btf {
  return Btf.decode(inflate(bytes), base ? { base } : {});
}

export type Input =
  | { readonly kind: 'object'; readonly object: BpfObject }
  | { readonly kind: 'btf'; readonly btf: Btf };

/** Reads whatever the bytes are: a BPF object or raw BTF, optionally gzip-compressed. */
export function readInput(bytes: Uint8Array, base?: Btf): Input {
  const raw = inflate(bytes);
  if (isElf(raw)) return { kind: 'object', object: readObject(raw) };
  if (btfEndianness(raw)) return { kind: 'btf', btf: Btf.decode(raw, base ? { base } : {}) };
  throw new ReadError('neither an ELF object nor raw BTF (unknown magic)');
}

/** True when the bytes are BTF that needs a base (its first string is not the empty string). */
export function looksSplit(bytes: Uint8Array): boolean {
  const raw = inflate(bytes);
  const e = btfEndianness(raw);
  if (!e || raw.length < 24) return false;
  const dv = new DataView(raw.buffer, raw.byteOffset, raw.byteLength);
  const le = e === 'little';
  const hdr = dv.getUint32(4, le);
  const strOff = dv.getUint32(16, le);
  const strLen = dv.getUint32(20, le);
  const at = hdr + strOff;
  return strLen > 0 && at < raw.length && raw[at] !== 0;
}

function inflate(bytes: Uint8Array): Uint8Array {
  if (bytes.length < 2 || bytes[0] !== 0x1f || bytes[1] !== 0x8b) return bytes;
  try {
    return gunzipSync(bytes, { maxOutputLength: MAX_INFLATED });
  } catch (e) {
    throw new BtfError(`gzip data is corrupt or larger than ${MAX_INFLATED} bytes (${(e as Error).message})`);
  }
}

function cString(b: Uint8Array): string {
  const end = b.indexOf(0);
  return new TextDecoder().decode(end < 0 ? b : b.subarray(0, end));
}
