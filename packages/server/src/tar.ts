import { badRequest } from './errors.js';
import { checkRelativePath } from './paths.js';

/**
 * The artifact archive: POSIX ustar (`tar -tf` lists it), regular files
 * only, each path checked with checkRelativePath, modes 0644 or 0755,
 * uid/gid/mtime 0 so equal inputs give equal bytes. Paths over 100
 * characters use the ustar prefix field.
 */
/**
 * The archive entry holding clang's warnings of a successful compile, when
 * there were any: not an output, the client prints it as a local build would.
 */
export const WARNINGS_ENTRY = 'coolbpf-clang-warnings.txt';

export interface TarEntry {
  readonly path: string;
  readonly mode: number;
  readonly bytes: Uint8Array;
}

const BLOCK = 512;
const MAX_SIZE = 0o77777777777; // 11 octal digits

function octal(n: number, width: number): string {
  return `${n.toString(8).padStart(width - 1, '0')}\0`;
}

function splitName(path: string): [string, string] {
  if (Buffer.byteLength(path) <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i);
    const name = path.slice(i + 1);
    if (Buffer.byteLength(prefix) <= 155 && Buffer.byteLength(name) <= 100) return [prefix, name];
  }
  throw new Error(`tar: path too long for ustar: ${path}`);
}

function header(e: TarEntry): Buffer {
  const h = Buffer.alloc(BLOCK);
  const [prefix, name] = splitName(e.path);
  h.write(name, 0, 100, 'utf8');
  h.write(octal(e.mode & 0o777, 8), 100, 'ascii');
  h.write(octal(0, 8), 108, 'ascii');
  h.write(octal(0, 8), 116, 'ascii');
  if (e.bytes.length > MAX_SIZE) throw new Error(`tar: ${e.path} is too large`);
  h.write(octal(e.bytes.length, 12), 124, 'ascii');
  h.write(octal(0, 12), 136, 'ascii');
  h.write('        ', 148, 'ascii');
  h.write('0', 156, 'ascii');
  h.write('ustar\0', 257, 'ascii');
  h.write('00', 263, 'ascii');
  h.write(prefix, 345, 155, 'utf8');
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'ascii');
  return h;
}

export function encodeTar(entries: readonly TarEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const e of entries) {
    parts.push(header(e), Buffer.from(e.bytes.buffer, e.bytes.byteOffset, e.bytes.length));
    const pad = (BLOCK - (e.bytes.length % BLOCK)) % BLOCK;
    if (pad) parts.push(Buffer.alloc(pad));
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

function field(b: Buffer, off: number, len: number): string {
  const s = b.subarray(off, off + len);
  const nul = s.indexOf(0);
  return s.subarray(0, nul < 0 ? len : nul).toString('utf8');
}

function number(b: Buffer, off: number, len: number, what: string): number {
  const s = field(b, off, len).trim();
  if (!/^[0-7]+$/.test(s)) throw badRequest(`archive: bad ${what} field`);
  return parseInt(s, 8);
}

/**
 * The entries of an archive made by encodeTar, or a 400-style error for
 * anything else: bad checksums, truncation, links, devices, unsafe paths,
 * a path given twice.
 */
export function decodeTar(data: Uint8Array): TarEntry[] {
  const b = Buffer.from(data.buffer, data.byteOffset, data.length);
  const out: TarEntry[] = [];
  const seen = new Set<string>();
  let off = 0;
  for (;;) {
    if (off + BLOCK > b.length) throw badRequest('archive: truncated (no end marker)');
    const h = b.subarray(off, off + BLOCK);
    if (h.every((x) => x === 0)) return out;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    if (number(h, 148, 8, 'checksum') !== sum) throw badRequest(`archive: bad header checksum at offset ${off}`);
    const type = field(h, 156, 1);
    const prefix = field(h, 345, 155);
    const name = field(h, 0, 100);
    const path = checkRelativePath(prefix ? `${prefix}/${name}` : name, 'archive entry');
    if (type !== '0' && type !== '') throw badRequest(`archive entry '${path}': not a regular file (type '${type}')`);
    if (seen.has(path)) throw badRequest(`archive entry '${path}' given twice`);
    seen.add(path);
    const size = number(h, 124, 12, 'size');
    const mode = number(h, 100, 8, 'mode') & 0o755;
    off += BLOCK;
    if (off + size > b.length) throw badRequest(`archive entry '${path}': truncated`);
    out.push({ path, mode, bytes: new Uint8Array(b.subarray(off, off + size)) });
    off += Math.ceil(size / BLOCK) * BLOCK;
  }
}
