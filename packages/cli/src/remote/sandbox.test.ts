/**
 * The sandbox itself, with commands that report what they can see and do:
 * who they run as, whether the network is there, which files exist.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sandboxedClang, sandboxHost } from './sandbox.js';

const onPath = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`]).status === 0;
const missing = [...(process.getuid?.() === 0 ? [] : ['root']), ...['bwrap', 'setpriv', 'prlimit', 'clang-16', 'bash'].filter((t) => !onPath(t))];
if (missing.length) console.log(`skipping the sandbox tests: ${missing.join(', ')} missing`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-sandbox-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe.skipIf(missing.length > 0)('sandboxedClang', () => {
  const bash = spawnSync('sh', ['-c', 'command -v bash'], { encoding: 'utf8' }).stdout.trim();
  // bash stands in for clang: same toolchain directories bound, plus bash itself
  const host = (() => {
    const h = sandboxHost({ name: 'clang', path: spawnSync('sh', ['-c', 'command -v clang-16'], { encoding: 'utf8' }).stdout.trim(), args: [] }, process.env);
    return { ...h, clang: bash, toolchainDirs: [...h.toolchainDirs, bash] };
  })();
  const run = sandboxedClang(host, { memoryBytes: 1 << 30, cpuSeconds: 10, wallSeconds: 10 });
  const src = join(dir, 'src');
  const out = join(dir, 'out');
  mkdirSync(src, { mode: 0o755 });
  mkdirSync(out);
  const secret = join(dir, 'secret');
  writeFileSync(secret, 'SECRET', { mode: 0o600 });
  writeFileSync(join(src, 'root-only'), 'x', { mode: 0o600 });
  chmodSync(dir, 0o711);
  const sh = (script: string) => run({ name: 'clang', path: 'clang', args: [] }, ['-c', script], { cwd: src }, { cwd: src, writeDir: out, readDirs: [] });

  // bash builtins only: nothing else of /usr/bin is in the sandbox
  it('runs as nobody, in an empty environment, without /proc', () => {
    const r = sh('echo "$UID $EUID ${GROUPS[*]}"; [ -e /proc/self/status ] || echo no-proc; declare -x');
    expect(r.stdout.split('\n')[0]).toBe('65534 65534 65534');
    expect(r.stdout).toContain('no-proc');
    expect(r.stdout).toMatch(/PATH="\/usr\/bin"/);
    expect(r.stdout).not.toMatch(/HOME=|COOLBPF|SUDO|SSH/);
  });

  it('sees only what is bound: no /etc, no home, no secrets, the submission read-only', () => {
    const r = sh(`echo /*; read -r l < ${secret}; read -r l < /etc/passwd; read -r l < root-only; : > here; : > ${out}/ok && echo wrote`);
    const [top] = r.stdout.split('\n');
    expect(top!.trim().split(' ').sort()).toEqual(['/dev', '/lib', '/lib64', '/tmp', '/usr'].filter((d) => d !== '/tmp' || dir.startsWith('/tmp/')));
    expect(r.stderr).toContain(`${secret}: No such file or directory`);
    expect(r.stderr).toContain('/etc/passwd: No such file or directory');
    expect(r.stderr).toContain('root-only: Permission denied');
    expect(r.stderr).toMatch(/here: (Read-only file system|Permission denied)/);
    expect(r.stdout).toContain('wrote');
    expect(existsSync(join(src, 'here'))).toBe(false);
    expect(existsSync(join(out, 'ok'))).toBe(true);
  });

  it('has no network, not even the host loopback', async () => {
    const server = createServer((s) => s.end('hello\n'));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as AddressInfo).port;
    try {
      // spawnSync blocks this process: the server could not answer anyway, so a connect that
      // succeeded would hang until the wall-clock limit; a refused or unreachable one returns at once
      const r = sh(`exec 3<>/dev/tcp/127.0.0.1/${port} && echo connected || echo refused`);
      expect(r.stdout.trim()).toBe('refused');
      expect(r.stderr).toMatch(/Network is unreachable|Connection refused|Cannot assign/);
    } finally {
      server.close();
    }
  });

  it('kills what runs past its wall-clock limit', () => {
    const quick = sandboxedClang(host, { memoryBytes: 1 << 30, cpuSeconds: 10, wallSeconds: 1 });
    const t0 = Date.now();
    expect(() => quick({ name: 'clang', path: 'clang', args: [] }, ['-c', 'while :; do :; done'], { cwd: src }, { cwd: src, writeDir: out, readDirs: [] })).toThrow(/over its limit of 1 s wall-clock/);
    expect(Date.now() - t0).toBeLessThan(5000);
  });
});
