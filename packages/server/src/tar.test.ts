import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeTar, encodeTar } from './tar.js';

const entries = [
  { path: 'bpf.o', mode: 0o644, bytes: new Uint8Array([1, 2, 3]) },
  { path: 'bpf.so', mode: 0o755, bytes: new Uint8Array(1000).fill(7) },
  { path: 'include/coolbpf.h', mode: 0o644, bytes: new Uint8Array(0) },
  { path: `${'d'.repeat(90)}/${'e'.repeat(40)}/f.txt`, mode: 0o644, bytes: new Uint8Array(Buffer.from('long')) },
];

describe('tar', () => {
  it('round-trips and is deterministic', () => {
    const t = encodeTar(entries);
    expect(t.length % 512).toBe(0);
    expect(encodeTar(entries).equals(t)).toBe(true);
    expect(decodeTar(t)).toEqual(entries);
  });

  it('is what tar(1) reads', () => {
    const dir = mkdtempSync(join(tmpdir(), 'coolbpf-tar-'));
    try {
      writeFileSync(join(dir, 'a.tar'), encodeTar(entries));
      const r = spawnSync('tar', ['-xf', 'a.tar'], { cwd: dir, encoding: 'utf8' });
      expect(r.stderr).toBe('');
      expect(readFileSync(join(dir, entries[3]!.path), 'utf8')).toBe('long');
      expect(statSync(join(dir, 'bpf.so')).mode & 0o777).toBe(0o755);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('refuses corrupt, truncated and unsafe archives', () => {
    const t = encodeTar(entries.slice(0, 1));
    const bad = Buffer.from(t);
    bad[10] = 0x41;
    expect(() => decodeTar(bad)).toThrow(/checksum/);
    expect(() => decodeTar(t.subarray(0, 512))).toThrow(/truncated/);
    expect(() => decodeTar(t.subarray(0, 1024 - 1))).toThrow(/truncated/);
    const evil = encodeTar([{ path: 'x', mode: 0o644, bytes: new Uint8Array(1) }]);
    const hack = (name: string, type = '0'): Buffer => {
      const b = Buffer.from(evil);
      b.fill(0, 0, 100);
      b.write(name, 0);
      b.write(type, 156);
      b.write('        ', 148);
      let sum = 0;
      for (let i = 0; i < 512; i++) sum += b[i]!;
      b.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148);
      return b;
    };
    expect(() => decodeTar(hack('../../etc/cron.d/x'))).toThrow(/'\.\.'/);
    expect(() => decodeTar(hack('/etc/passwd'))).toThrow(/absolute/);
    expect(() => decodeTar(hack('link', '2'))).toThrow(/not a regular file/);
    expect(() => decodeTar(Buffer.concat([encodeTar(entries.slice(0, 1)).subarray(0, 1024), encodeTar(entries.slice(0, 1))]))).toThrow(/given twice/);
  });
});
