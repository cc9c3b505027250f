import { existsSync, mkdtempSync, rmSync, utimesSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ArtifactCache } from './artifacts.js';

const key = (c: string): string => c.repeat(64);
const path = (root: string, k: string): string => join(root, 'artifacts', k.slice(0, 2), `${k}.tar`);

describe('ArtifactCache', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'coolbpf-artifacts-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores by key and finds archives again after a restart', () => {
    const c = new ArtifactCache(root);
    expect(c.get(key('a'))).toBeNull();
    c.put(key('a'), Buffer.from('archive a'));
    expect(c.get(key('a'))?.toString()).toBe('archive a');
    const again = new ArtifactCache(root);
    expect(again.get(key('a'))?.toString()).toBe('archive a');
    expect(again.diskUsed).toBe(9);
    expect(() => c.get('../../etc/passwd')).not.toThrow();
    expect(() => c.put('../x', Buffer.from(''))).toThrow(/bad key/);
  });

  it('keeps at most diskBytes, dropping the least recently used, also across restarts', () => {
    const c = new ArtifactCache(root, 25, 0);
    c.put(key('a'), Buffer.alloc(10));
    c.put(key('b'), Buffer.alloc(10));
    c.get(key('a')); // a is now the most recent
    c.put(key('c'), Buffer.alloc(10));
    expect(c.get(key('b'))).toBeNull();
    expect(existsSync(path(root, key('b')))).toBe(false);
    expect(c.get(key('a'))).not.toBeNull();
    expect(c.diskUsed).toBe(20);
    // the order survives a restart through the files' mtimes
    utimesSync(path(root, key('c')), new Date(1000), new Date(1000));
    const again = new ArtifactCache(root, 15, 0);
    expect(again.get(key('c'))).toBeNull();
    expect(again.get(key('a'))).not.toBeNull();
  });

  it('removes temporary files a killed server left', () => {
    mkdirSync(join(root, 'artifacts', 'aa'), { recursive: true });
    const tmp = `${path(root, key('a'))}.tmp-1-x`;
    writeFileSync(tmp, 'half');
    new ArtifactCache(root);
    expect(existsSync(tmp)).toBe(false);
  });
});
