import { createHash } from 'node:crypto';
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { CoolbpfError } from '@coolbpf/reader';

/** Reads a file, turning fs errors into one line naming it (as `label`, default the path). */
export function readInputFile(path: string, label = path): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new CoolbpfError(fsReason(e), [label]);
  }
}

/** Why an fs call failed, in a few words: "no such file", "is a directory", … */
export function fsReason(e: unknown): string {
  const err = e as NodeJS.ErrnoException;
  switch (err.code) {
    case 'ENOENT': return 'no such file';
    case 'EISDIR': return 'is a directory';
    case 'ENOTDIR': return 'not a directory';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'ENOSPC': return 'no space left on device';
    case 'EROFS': return 'read-only file system';
    default: return err.message;
  }
}

export function sha256Hex(bytes: Uint8Array | string): string {
  return createHash('sha256').update(bytes).digest('hex');
}

/** SHA-256 of a file's contents, or null when it cannot be read (gone, replaced by a directory …). */
export function fileSha256(path: string): string | null {
  try {
    return sha256Hex(readFileSync(path));
  } catch {
    return null;
  }
}

/** Writes next to `path` and renames, so readers see the old file or the new one, never a part. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}
