import { describe, expect, it } from 'vitest';
import { collectSubmission, submittedSourcePath } from './includes.js';

const files: Record<string, string> = {
  '/w/prog/p.bpf.c': '#include "vmlinux.h"\n#include <bpf/bpf_helpers.h>\n#include "common.h"\n  #  include "sub/a.h"\n#include <lib.h>\n',
  '/w/prog/common.h': '#pragma once\n#include "sub/a.h"\n',
  '/w/prog/sub/a.h': '#include "b.h"\n',
  '/w/prog/sub/b.h': 'int b;\n',
  '/w/inc/lib.h': '#include "libdetail.h"\n',
  '/w/inc/libdetail.h': '',
  '/w/other/x.h': '',
};
const read = (p: string): string | null => files[p] ?? null;

describe('collectSubmission', () => {
  it('sends the headers found under the source directory and -I directories, each once', () => {
    const s = collectSubmission('/w', 'prog/p.bpf.c', ['inc'], read);
    expect(s.source).toEqual({ path: 'prog/p.bpf.c', text: files['/w/prog/p.bpf.c'] });
    expect(s.headers.map((h) => h.path)).toEqual(['prog/common.h', 'prog/sub/a.h', 'coolbpf-include-0/lib.h', 'prog/sub/b.h', 'coolbpf-include-0/libdetail.h']);
    expect(s.includeDirs).toEqual(['coolbpf-include-0']);
    expect(s.dependencies).toEqual(['/w/inc/lib.h', '/w/inc/libdetail.h', '/w/prog/common.h', '/w/prog/sub/a.h', '/w/prog/sub/b.h']);
  });

  it('refuses a header outside the source directory and -I', () => {
    const r = (p: string): string | null => (p === '/w/prog/q.bpf.c' ? '#include "../other/x.h"\n' : read(p));
    expect(() => collectSubmission('/w', 'prog/q.bpf.c', [], r)).toThrow(/outside the source's directory.*-I \/w\/other/);
    expect(collectSubmission('/w', 'prog/q.bpf.c', ['other'], (p) => (p === '/w/prog/q.bpf.c' ? '#include "x.h"\n' : read(p))).headers.map((h) => h.path)).toEqual(['coolbpf-include-0/x.h']);
  });

  it('names the source as given when that is a clean relative path, else by its base name', () => {
    expect(submittedSourcePath('p.bpf.c')).toBe('p.bpf.c');
    expect(submittedSourcePath('./a/p.bpf.c')).toBe('a/p.bpf.c');
    expect(submittedSourcePath('../a/p.bpf.c')).toBe('p.bpf.c');
    expect(submittedSourcePath('/abs/p.bpf.c')).toBe('p.bpf.c');
  });

  it('reports a missing source', () => {
    expect(() => collectSubmission('/w', 'nope.bpf.c', [], read)).toThrow(/nope.bpf.c: no such file/);
  });
});
