import { describe, expect, it } from 'vitest';
import { sandboxArgv, type SandboxSpec } from './sandbox.js';

const spec: SandboxSpec = {
  command: ['/usr/lib/llvm-16/bin/clang', '-c', 'p.c'],
  cwd: '/store/jobs/job-1/src',
  readOnly: ['/usr/lib/llvm-16', '/usr/lib/x86_64-linux-gnu', '/store/jobs/job-1/src', '/usr/lib/llvm-16/lib'],
  writable: ['/store/jobs/job-1/out/.tmp'],
  symlinks: [['usr/lib', '/lib']],
  uid: 65534,
  gid: 65534,
  memoryBytes: 1 << 30,
  cpuSeconds: 60,
  wallSeconds: 90,
  maxFileBytes: 1 << 28,
  tools: { bwrap: '/usr/bin/bwrap', setpriv: '/usr/bin/setpriv', prlimit: '/usr/bin/prlimit', timeout: '/usr/bin/timeout' },
};

describe('sandboxArgv', () => {
  const a = sandboxArgv(spec);
  const pairs = (flag: string): string[] => a.flatMap((x, i) => (x === flag ? [a[i + 1]!] : []));
  it('limits time and memory, isolates namespaces, drops to the unprivileged user last', () => {
    expect(a.slice(0, 3)).toEqual(['/usr/bin/timeout', '--signal=KILL', '90s']);
    expect(a).toContain(`--as=${1 << 30}`);
    expect(a).toContain('--cpu=60');
    expect(a).toContain('--unshare-net');
    expect(a).toContain('--clearenv');
    expect(a).not.toContain('--proc');
    const setpriv = a.lastIndexOf('/usr/bin/setpriv');
    expect(a.slice(setpriv + 1, setpriv + 3)).toEqual(['--reuid=65534', '--regid=65534']);
    expect(a.slice(-3)).toEqual(spec.command);
  });
  it('binds only what it is given, nested paths once, and makes their parents traversable', () => {
    expect(pairs('--ro-bind').sort()).toEqual(['/store/jobs/job-1/src', '/usr/bin/setpriv', '/usr/lib/llvm-16', '/usr/lib/x86_64-linux-gnu']);
    expect(pairs('--bind')).toEqual(['/store/jobs/job-1/out/.tmp']);
    expect(pairs('--dir')).toEqual(['/store', '/usr', '/store/jobs', '/usr/bin', '/usr/lib', '/store/jobs/job-1', '/store/jobs/job-1/out']);
    expect(pairs('--chdir')).toEqual([spec.cwd]);
  });
  it('refuses relative or dotted paths', () => {
    expect(() => sandboxArgv({ ...spec, readOnly: ['/usr/../etc'] })).toThrow(/clean absolute/);
    expect(() => sandboxArgv({ ...spec, writable: ['tmp'] })).toThrow(/clean absolute/);
  });
});
