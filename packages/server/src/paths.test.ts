import { lstatSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync, existsSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { checkRelativePath, printable, writeTree } from './paths.js';

describe('checkRelativePath', () => {
  it('accepts plain relative paths', () => {
    for (const p of ['a.h', 'inc/common.h', 'I0/bpf/x-y_z+1.h', 'a'.repeat(100)]) expect(checkRelativePath(p, 'header')).toBe(p);
  });
  it.each([
    ['', 'non-empty'],
    ['/etc/passwd', 'absolute'],
    ['../x.h', "'..'"],
    ['a/../../x.h', "'..'"],
    ['./x.h', "'.'"],
    ['a//b.h', 'components'],
    ['a/', 'components'],
    ['.hidden.h', 'components'],
    ['-fplugin.h', 'components'],
    ['a\\b.h', 'components'],
    ['a\0b.h', 'components'],
    ['x y.h', 'components'],
    ['a'.repeat(101), 'component is longer'],
    [`${'a/'.repeat(128)}x`, 'longer than 255'],
  ])('refuses %j', (p, why) => {
    let err: unknown;
    try {
      checkRelativePath(p, 'header');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(400);
    expect((err as HttpError).message).toContain(why);
  });
  it('refuses non-strings', () => {
    expect(() => checkRelativePath(42, 'header')).toThrow(/non-empty relative path/);
  });
  it('shows control characters escaped', () => {
    expect(printable('a\nb\0')).toBe('a\\x0ab\\x00');
  });
});

describe('writeTree', () => {
  let root: string;
  let outside: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'coolbpf-tree-'));
    outside = mkdtempSync(join(tmpdir(), 'coolbpf-outside-'));
  });
  afterEach(() => {
    rmSync(root, { recursive: true, force: true });
    rmSync(outside, { recursive: true, force: true });
  });

  it('writes files and directories', () => {
    writeTree(root, [
      { path: 'p.bpf.c', bytes: Buffer.from('int x;') },
      { path: 'inc/a/b.h', bytes: Buffer.from('#pragma once') },
    ]);
    expect(readFileSync(join(root, 'inc/a/b.h'), 'utf8')).toBe('#pragma once');
    expect(statSync(join(root, 'p.bpf.c')).mode & 0o777).toBe(0o644);
  });

  it('refuses a name given twice, and a file used as a directory', () => {
    expect(() => writeTree(root, [{ path: 'a.h', bytes: Buffer.from('1') }, { path: 'a.h', bytes: Buffer.from('2') }])).toThrow(/given twice/);
    expect(readFileSync(join(root, 'a.h'), 'utf8')).toBe('1');
    expect(() => writeTree(root, [{ path: 'a.h/b.h', bytes: Buffer.from('') }])).toThrow();
  });

  it('never writes through a symlink, as a file or as a directory', () => {
    symlinkSync(join(outside, 'target.h'), join(root, 'link.h'));
    symlinkSync(outside, join(root, 'dir'));
    expect(() => writeTree(root, [{ path: 'link.h', bytes: Buffer.from('x') }])).toThrow();
    expect(() => writeTree(root, [{ path: 'dir/x.h', bytes: Buffer.from('x') }])).toThrow(/also a file/);
    expect(existsSync(join(outside, 'target.h'))).toBe(false);
    expect(existsSync(join(outside, 'x.h'))).toBe(false);
    expect(lstatSync(join(root, 'link.h')).isSymbolicLink()).toBe(true);
  });

  it('checks every path before writing it', () => {
    writeFileSync(join(outside, 'keep'), 'safe');
    expect(() => writeTree(root, [{ path: `../${outside.split('/').pop()}/keep`, bytes: Buffer.from('x') }])).toThrow(/'\.\.'/);
    expect(readFileSync(join(outside, 'keep'), 'utf8')).toBe('safe');
  });
});
