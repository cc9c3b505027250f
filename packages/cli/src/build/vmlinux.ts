import { closeSync, mkdirSync, openSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { looksSplit, readBtfFile, within } from '@coolbpf/reader';
import { BuildError } from './errors.js';
import { failureReason, runTool, type Tool } from './exec.js';
import { fsReason, readInputFile, sha256Hex } from '../files.js';
import { vmlinuxCachePath } from './paths.js';

export const DEFAULT_BTF = '/sys/kernel/btf/vmlinux';

/** The kernel BTF a build targets, decompressed. */
export interface KernelBtf {
  /** the path as the user gave it */
  readonly label: string;
  readonly bytes: Uint8Array;
  /** of the decompressed bytes: the same kernel gives the same key, compressed or not */
  readonly sha256: string;
}

const MAX_INFLATED = 1 << 30;

/** Reads raw BTF, gunzipping it (bpftool cannot read .btf.gz). Only the magic is checked here; see vmlinuxHeader. */
export function readKernelBtf(path: string): KernelBtf {
  let bytes = readInputFile(path);
  if (bytes[0] === 0x1f && bytes[1] === 0x8b) {
    try {
      bytes = gunzipSync(bytes, { maxOutputLength: MAX_INFLATED });
    } catch (e) {
      throw new BuildError(`gzip data is corrupt or larger than ${MAX_INFLATED} bytes (${(e as Error).message})`, [path]);
    }
  }
  const magic = bytes.length >= 2 && ((bytes[0] === 0x9f && bytes[1] === 0xeb) || (bytes[0] === 0xeb && bytes[1] === 0x9f));
  if (!magic) throw new BuildError('not raw BTF (want a kernel BTF file such as /sys/kernel/btf/vmlinux, optionally gzip-compressed)', [path]);
  return { label: path, bytes, sha256: sha256Hex(bytes) };
}

/**
 * vmlinux.h for the BTF, from the cache or made by bpftool and cached.
 * Dumping vmlinux takes bpftool a second or so and the result depends only
 * on the BTF, so every build for the same kernel shares it.
 */
export function vmlinuxHeader(btf: KernelBtf, cacheRoot: string, scratchDir: string, bpftool: () => Tool): { path: string; cached: boolean } {
  const path = vmlinuxCachePath(cacheRoot, btf.sha256);
  if (readable(path)) return { path, cached: true };
  if (looksSplit(btf.bytes)) throw new BuildError("split BTF (a kernel module's); vmlinux.h needs the kernel's own BTF", [btf.label]);
  // bpftool's messages about bad BTF are vaguer than the reader's
  within(btf.label, () => readBtfFile(btf.bytes));
  const tool = bpftool();
  // the bytes that were hashed, not the file again: it may have changed since
  const input = join(scratchDir, 'vmlinux.btf');
  writeFileSync(input, btf.bytes);
  try {
    mkdirSync(dirname(path), { recursive: true });
  } catch (e) {
    throw new BuildError(`cannot create the cache directory: ${fsReason(e)}`, [dirname(path)]);
  }
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    const fd = openSync(tmp, 'w');
    let r;
    try {
      r = runTool(tool, ['btf', 'dump', 'file', input, 'format', 'c'], { cwd: scratchDir, stdoutFd: fd });
    } finally {
      closeSync(fd);
    }
    if (r.status !== 0) throw new BuildError(`\`btf dump\` of ${btf.label} failed (${failureReason(r)})`, [tool.name]);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    if (e instanceof BuildError) throw e;
    throw new BuildError(`cannot write ${path}: ${fsReason(e)}`, ['vmlinux.h cache']);
  } finally {
    rmSync(input, { force: true });
  }
  return { path, cached: false };
}

function readable(path: string): boolean {
  try {
    closeSync(openSync(path, 'r'));
    return true;
  } catch {
    return false;
  }
}
