import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { defineArgs, parseCompileRequest } from './request.js';
import { requestKey } from './key.js';

const base = {
  source: { path: 'p.bpf.c', text: 'int x;' },
  headers: [{ path: 'common.h', text: '#define N 1' }],
  target: { release: '6.1.0-47-cloud-amd64' },
  arch: 'x86_64',
  defines: ['DEBUG', 'N=3', 'S="a b"'],
  languages: ['node', 'python'],
};

function refused(body: unknown): string {
  try {
    parseCompileRequest(body);
  } catch (e) {
    expect(e).toBeInstanceOf(HttpError);
    expect((e as HttpError).status).toBe(400);
    return (e as HttpError).message;
  }
  throw new Error('accepted');
}

describe('parseCompileRequest', () => {
  it('takes minBtf as an optional boolean, keyed only when true', () => {
    expect(parseCompileRequest(base).minBtf).toBeUndefined();
    expect(parseCompileRequest({ ...base, minBtf: false }).minBtf).toBeUndefined();
    const withMin = parseCompileRequest({ ...base, minBtf: true });
    expect(withMin.minBtf).toBe(true);
    expect(refused({ ...base, minBtf: 'yes' })).toContain('minBtf: expected true or false');
    const key = (r: unknown): string => requestKey(parseCompileRequest(r), 'b'.repeat(64), 'tc');
    expect(key({ ...base, minBtf: false })).toBe(key(base));
    expect(key({ ...base, minBtf: true })).not.toBe(key(base));
  });

  it('accepts a full request and defaults the optional fields', () => {
    const r = parseCompileRequest(base);
    expect(r.headers).toHaveLength(1);
    expect(r.defines).toEqual(['DEBUG', 'N=3', 'S="a b"']);
    const min = parseCompileRequest({ source: base.source, target: { btf: 'a'.repeat(64) }, arch: 'arm64' });
    expect(min).toMatchObject({ headers: [], includeDirs: [], defines: [], languages: [], target: { btf: 'a'.repeat(64) } });
  });

  it.each([
    [null, 'expected an object'],
    [{ ...base, extra: 1 }, "unknown field 'extra'"],
    [{ ...base, source: { path: '/etc/passwd', text: '' } }, 'absolute'],
    [{ ...base, source: { path: 'p.h', text: '' } }, '.c file'],
    [{ ...base, source: { path: 'p.c', text: 'a\0b' } }, 'NUL'],
    [{ ...base, headers: [{ path: '../x.h', text: '' }] }, "'..'"],
    [{ ...base, headers: [{ path: 'p.bpf.c', text: '' }] }, 'given twice'],
    [{ ...base, headers: 'x' }, 'expected an array'],
    [{ ...base, includeDirs: ['/usr/include'] }, 'absolute'],
    [{ ...base, target: { release: '../../etc' } }, 'kernel release'],
    [{ ...base, target: { release: 'a', btf: 'b' } }, 'target: expected'],
    [{ ...base, target: { btf: 'xyz' } }, 'SHA-256'],
    [{ ...base, arch: 'riscv64' }, 'arch'],
    [{ ...base, defines: ['-fplugin=/tmp/x.so'] }, 'C identifier'],
    [{ ...base, defines: ['X -Xclang -load'] }, 'C identifier'],
    [{ ...base, defines: ['X=1\n#include "/etc/passwd"'] }, 'printable ASCII'],
    [{ ...base, defines: ['X=a'.padEnd(300, 'a')] }, 'printable ASCII'],
    [{ ...base, defines: [42] }, 'strings'],
    [{ ...base, languages: ['cobol'] }, 'language'],
    [{ ...base, languages: ['node', 'node'] }, 'twice'],
  ])('refuses %#: %s', (body, why) => {
    expect(refused(body)).toContain(why);
  });

  it('turns defines into single -D arguments', () => {
    expect(defineArgs(['A', 'B=-fplugin=x.so'])).toEqual(['-DA', '-DB=-fplugin=x.so']);
  });
});

describe('requestKey', () => {
  const r = parseCompileRequest(base);
  const k = requestKey(r, 'b'.repeat(64), 'tc1');
  it('is stable and changes with every input', () => {
    expect(requestKey(parseCompileRequest(structuredClone(base)), 'b'.repeat(64), 'tc1')).toBe(k);
    const variants = [
      requestKey(r, 'c'.repeat(64), 'tc1'),
      requestKey(r, 'b'.repeat(64), 'tc2'),
      requestKey(parseCompileRequest({ ...base, source: { path: 'p.bpf.c', text: 'int y;' } }), 'b'.repeat(64), 'tc1'),
      requestKey(parseCompileRequest({ ...base, headers: [{ path: 'common.h', text: '#define N 2' }] }), 'b'.repeat(64), 'tc1'),
      requestKey(parseCompileRequest({ ...base, defines: ['DEBUG'] }), 'b'.repeat(64), 'tc1'),
      requestKey(parseCompileRequest({ ...base, languages: ['node'] }), 'b'.repeat(64), 'tc1'),
      requestKey(parseCompileRequest({ ...base, arch: 'arm64' }), 'b'.repeat(64), 'tc1'),
      requestKey(parseCompileRequest({ ...base, includeDirs: ['inc'] }), 'b'.repeat(64), 'tc1'),
    ];
    expect(new Set([k, ...variants]).size).toBe(variants.length + 1);
  });
});
