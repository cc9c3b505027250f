import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BtfStore } from './btfStore.js';
import { HttpError } from './errors.js';
import { smallBtf } from './testBtf.testutil.js';

describe('BtfStore', () => {
  let root: string;
  beforeEach(() => {
    root = mkdtempSync(join(tmpdir(), 'coolbpf-store-'));
  });
  afterEach(() => rmSync(root, { recursive: true, force: true }));

  it('stores by release and arch, lists, finds by release or sha, replaces', () => {
    const s = new BtfStore(root);
    const btf = smallBtf('events');
    const a = s.add(btf, { release: '6.1.0-47-cloud-amd64', arch: 'x86_64', source: 'test', now: new Date(0) });
    expect(a).toMatchObject({ release: '6.1.0-47-cloud-amd64', arch: 'x86_64', size: btf.length, addedAt: '1970-01-01T00:00:00.000Z', source: 'test' });
    // gzip is accepted and stored raw: same sha
    const b = s.add(gzipSync(btf), { release: '6.1.0-47-cloud-arm64', arch: 'arm64', source: 'gz' });
    expect(b.sha256).toBe(a.sha256);
    expect(s.list().map((e) => `${e.arch}/${e.release}`)).toEqual(['x86_64/6.1.0-47-cloud-amd64', 'arm64/6.1.0-47-cloud-arm64']);
    expect(s.find({ release: '6.1.0-47-cloud-amd64' }, 'x86_64')).toEqual(a);
    expect(s.find({ btf: a.sha256 }, 'arm64').release).toBe('6.1.0-47-cloud-arm64');
    expect(Buffer.from(s.read(a)).equals(Buffer.from(btf))).toBe(true);
    const c = s.add(smallBtf('globals'), { release: '6.1.0-47-cloud-amd64', arch: 'x86_64', source: 'again' });
    expect(c.sha256).not.toBe(a.sha256);
    expect(s.list()).toHaveLength(2);
    expect(readdirSync(join(root, 'btf', 'x86_64')).sort()).toEqual(['6.1.0-47-cloud-amd64.btf', '6.1.0-47-cloud-amd64.json']);
  });

  it("sees another process's add within recheckMs, its own at once", () => {
    let now = 0;
    const server = new BtfStore(root, { recheckMs: 1000, now: () => now });
    const other = new BtfStore(root);
    expect(server.list()).toEqual([]);
    other.add(smallBtf('events'), { release: '6.1.0-a', arch: 'x86_64', source: 'cli' });
    now = 999;
    expect(server.list()).toEqual([]);
    now = 1000;
    expect(server.list().map((e) => e.release)).toEqual(['6.1.0-a']);
    server.add(smallBtf('globals'), { release: '6.1.0-b', arch: 'x86_64', source: 'upload' });
    expect(server.find({ release: '6.1.0-b' }, 'x86_64').source).toBe('upload');
  });

  it('404s for what it does not hold, 400s for bad input', () => {
    const s = new BtfStore(root);
    const err = (() => {
      try {
        s.find({ release: '5.10' }, 'x86_64');
      } catch (e) {
        return e as HttpError;
      }
      return null;
    })();
    expect(err?.status).toBe(404);
    expect(err?.message).toContain("kernel release '5.10'");
    expect(() => s.add(Buffer.from('not btf at all'), { release: 'x', arch: 'x86_64', source: 't' })).toThrow(/not kernel BTF/);
    expect(() => s.add(smallBtf(), { release: '../../etc/x', arch: 'x86_64', source: 't' })).toThrow(/kernel release/);
    expect(() => s.add(smallBtf(), { release: 'x', arch: 'mips' as never, source: 't' })).toThrow(/arch/);
    expect(s.list()).toEqual([]);
  });
});
