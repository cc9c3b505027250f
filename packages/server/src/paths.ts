import { closeSync, constants, fstatSync, mkdirSync, openSync, writeSync, lstatSync } from 'node:fs';
import { join } from 'node:path';
import { badRequest } from './errors.js';

/** Longest path a submission or an archive may name, and longest component. */
export const MAX_PATH = 255;
const MAX_COMPONENT = 100;
const COMPONENT = /^[A-Za-z0-9_][A-Za-z0-9_.+-]*$/;

/**
 * A relative path a client may name (a submitted header, an archive entry):
 * slash-separated components of [A-Za-z0-9_.+-], none empty, `.` or `..`,
 * none starting with `.` or `-`; no absolute paths, backslashes, NULs. Returns it
 * unchanged or throws a 400 naming what is wrong.
 */
export function checkRelativePath(p: unknown, what: string): string {
  if (typeof p !== 'string' || p.length === 0) throw badRequest(`${what}: expected a non-empty relative path`);
  if (p.length > MAX_PATH) throw badRequest(`${what}: path longer than ${MAX_PATH} characters`);
  if (p.startsWith('/')) throw badRequest(`${what} '${printable(p)}': absolute paths are not allowed`);
  for (const c of p.split('/')) {
    if (c === '..' || c === '.') throw badRequest(`${what} '${printable(p)}': '${c}' components are not allowed`);
    if (c.length > MAX_COMPONENT) throw badRequest(`${what} '${printable(p)}': a component is longer than ${MAX_COMPONENT} characters`);
    if (!COMPONENT.test(c)) throw badRequest(`${what} '${printable(p)}': components must be [A-Za-z0-9_.+-], not empty and not starting with '.' or '-'`);
  }
  return p;
}

/** For messages: control characters and non-ASCII as \xNN, at most 80 characters. */
export function printable(s: string): string {
  // eslint-disable-next-line no-control-regex
  const t = s.slice(0, 80).replace(/[^\x20-\x7e]/g, (ch) => `\\x${ch.charCodeAt(0).toString(16).padStart(2, '0')}`);
  return s.length > 80 ? `${t}…` : t;
}

export interface SubmittedFile {
  /** checked with checkRelativePath */
  readonly path: string;
  readonly bytes: Uint8Array;
  /** 0o644 unless given */
  readonly mode?: number;
}

/**
 * Writes files into `root` (a fresh directory of ours), never following a
 * symlink: directories are made one component at a time and must be real
 * directories, files are created exclusively with O_NOFOLLOW, so a name
 * given twice, or anything already there, is an error rather than a write
 * somewhere else.
 */
export function writeTree(root: string, files: readonly SubmittedFile[], dirMode = 0o755): void {
  for (const f of files) {
    const parts = checkRelativePath(f.path, 'file').split('/');
    let dir = root;
    for (const c of parts.slice(0, -1)) {
      dir = join(dir, c);
      try {
        mkdirSync(dir, { mode: dirMode });
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      }
      if (!lstatSync(dir).isDirectory()) throw badRequest(`file '${f.path}': '${c}' is also a file`);
    }
    let fd: number;
    try {
      fd = openSync(join(dir, parts[parts.length - 1]!), constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, f.mode ?? 0o644);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw badRequest(`file '${f.path}' given twice`);
      throw e;
    }
    try {
      if (!fstatSync(fd).isFile()) throw badRequest(`file '${f.path}': not a regular file`);
      let off = 0;
      while (off < f.bytes.length) off += writeSync(fd, f.bytes, off);
    } finally {
      closeSync(fd);
    }
  }
}
