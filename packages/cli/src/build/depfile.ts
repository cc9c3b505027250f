import { isAbsolute, resolve } from 'node:path';

/**
 * The prerequisites in a Makefile-syntax depfile as clang writes it with
 * `-MD -MF F -MT T`: `T: a.c b.h \` continued over lines, spaces in names
 * as `\ `, `#` as `\#`, `$` as `$$`. The target is skipped by position, so
 * pass a `-MT` without colons or blanks. The rule ends at the first line
 * not continued with a backslash.
 */
export function parseDepfile(text: string): string[] {
  const colon = text.indexOf(':');
  if (colon < 0) return [];
  const body = text.slice(colon + 1);
  const out: string[] = [];
  let cur = '';
  const flush = () => {
    if (cur) out.push(cur);
    cur = '';
  };
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    const next = body[i + 1];
    if (c === '\\' && (next === '\n' || (next === '\r' && body[i + 2] === '\n'))) {
      flush();
      i += next === '\r' ? 2 : 1;
    } else if (c === '\\' && (next === ' ' || next === '#')) {
      cur += next;
      i++;
    } else if (c === '$' && next === '$') {
      cur += '$';
      i++;
    } else if (c === '\n') {
      break;
    } else if (c === ' ' || c === '\t' || c === '\r') {
      flush();
    } else cur += c;
  }
  flush();
  return out;
}

/**
 * Files clang read besides the source, as absolute paths: the cache key
 * covers their contents. vmlinux.h (in scratch) is left out: the BTF's
 * hash already covers it, and its path changes every run.
 */
export function dependenciesOf(depfile: string, cwd: string, source: string, scratch: string): string[] {
  const src = resolve(cwd, source);
  const set = new Set<string>();
  for (const d of parseDepfile(depfile)) {
    const abs = isAbsolute(d) ? d : resolve(cwd, d);
    if (abs === src || abs.startsWith(`${scratch}/`)) continue;
    set.add(abs);
  }
  return [...set].sort();
}
