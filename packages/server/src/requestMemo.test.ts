import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { requestKey } from './key.js';
import { RequestMemo } from './requestMemo.js';

const body = (text: string, extra: Record<string, unknown> = {}): Buffer =>
  Buffer.from(JSON.stringify({ source: { path: 'p.bpf.c', text }, target: { release: '6.1.0' }, arch: 'x86_64', ...extra }));

describe('RequestMemo', () => {
  it('answers a repeated body with the same parse and the key requestKey gives', () => {
    const m = new RequestMemo('tc1');
    const a = m.parse(body('int x;'));
    const b = m.parse(body('int x;'));
    expect(b).toBe(a);
    expect(a.request.source.text).toBe('int x;');
    expect(a.key('aa')).toBe(requestKey(a.request, 'aa', 'tc1'));
    // another BTF, another key; and back
    expect(a.key('bb')).toBe(requestKey(a.request, 'bb', 'tc1'));
    expect(a.key('aa')).toBe(requestKey(a.request, 'aa', 'tc1'));
    const c = m.parse(body('int y;'));
    expect(c).not.toBe(a);
    expect(c.key('aa')).not.toBe(a.key('aa'));
  });

  it('drops the least recently used beyond its size, and keeps no big bodies', () => {
    const m = new RequestMemo('tc', 2, 200);
    const a = m.parse(body('a'));
    m.parse(body('b'));
    expect(m.parse(body('a'))).toBe(a);
    m.parse(body('c')); // evicts b, the least recently used
    expect(m.parse(body('a'))).toBe(a);
    const big = body('x'.repeat(300));
    const p = m.parse(big);
    expect(p.request.source.text).toHaveLength(300);
    expect(m.parse(big)).not.toBe(p);
  });

  it('400s a body that is not a request, every time', () => {
    const m = new RequestMemo('tc');
    for (let i = 0; i < 2; i++) {
      expect(() => m.parse(Buffer.from('{nope'))).toThrow(HttpError);
      expect(() => m.parse(Buffer.from('{nope'))).toThrow(/not JSON/);
      expect(() => m.parse(body('int x;', { arch: 'mips' }))).toThrow(/arch/);
    }
  });
});
