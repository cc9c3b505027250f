import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { BuildContext } from '../build/context.js';
import { parseServeArgs } from './serve.js';

const ctx = (env: Record<string, string> = {}): BuildContext => ({
  cwd: '/', env, home: '/home/u', arch: 'x64', hostEndianness: 'LE', progress: () => {}, passthrough: () => {},
});

describe('parseServeArgs', () => {
  it('has defaults: loopback, port 7655, a store in the cache, a slot per core', () => {
    const o = parseServeArgs([], ctx());
    expect(o).toEqual({
      host: '127.0.0.1', port: 7655, store: '/home/u/.cache/coolbpf/server', btf: [], token: undefined,
      jobs: availableParallelism(), queue: 16 * availableParallelism(), timeout: 120, memoryMb: 4096, cacheMb: 4096,
    });
  });

  it('takes every option, and the token from $COOLBPF_TOKEN', () => {
    const o = parseServeArgs(['--port', '0', '--host', '0.0.0.0', '--store', '/s', '--btf', 'a.btf', '--btf', 'b.btf=6.1', '--jobs', '3', '--queue', '0', '--timeout', '9', '--memory', '512', '--cache-mb', '10'], ctx({ COOLBPF_TOKEN: 't' }));
    expect(o).toEqual({ host: '0.0.0.0', port: 0, store: '/s', btf: ['a.btf', 'b.btf=6.1'], token: 't', jobs: 3, queue: 0, timeout: 9, memoryMb: 512, cacheMb: 10 });
    expect(parseServeArgs(['--token', 'x'], ctx({ COOLBPF_TOKEN: 't' })).token).toBe('x');
  });

  it('refuses what it does not understand', () => {
    expect(() => parseServeArgs(['--port', '70000'], ctx())).toThrow("serve: --port '70000': expected an integer from 0 to 65535");
    expect(() => parseServeArgs(['--jobs', 'many'], ctx())).toThrow(/--jobs 'many'/);
    expect(() => parseServeArgs(['extra'], ctx())).toThrow("serve: unexpected argument 'extra'");
    expect(() => parseServeArgs(['--nope'], ctx())).toThrow("serve: unknown option '--nope'");
  });
});
