/**
 * Go names: exported identifiers from C names, the package name and the
 * module path. Go's keywords and predeclared identifiers are all lower
 * case, so an exported name never collides with them; only the package name
 * (lower case by convention) has to avoid them.
 */
import { KEYWORDS, wordsOf } from '@coolbpf/gen-core';

/** Go's predeclared identifiers (types, constants, zero value, built-in functions). */
export const GO_PREDECLARED: ReadonlySet<string> = new Set(
  `any bool byte comparable complex64 complex128 error float32 float64 int int8 int16 int32 int64 rune string uint uint8
  uint16 uint32 uint64 uintptr true false iota nil append cap clear close complex copy delete imag len make max min new
  panic print println real recover`.split(/\s+/),
);

/**
 * An exported Go identifier for a C name: its words (split at `_` and at
 * anything not a letter or digit) each capitalized; a word in all capitals
 * becomes capitalized lower case (`GL_RED` → `GlRed`), one in mixed case
 * keeps its capitals (`myHTTP_x` → `MyHTTPX`). A name that would start with a
 * digit, or has no letters or digits at all, gets an `X` in front.
 */
export function goExported(name: string): string {
  const words = wordsOf(name);
  const s = words
    .map((w) => {
      if (w.length > 1 && /[A-Z]/.test(w) && !/[a-z]/.test(w)) return w[0]! + w.slice(1).toLowerCase();
      return w[0]!.toUpperCase() + w.slice(1);
    })
    .join('');
  if (s === '' || /^[0-9]/.test(s)) return `X${s}`;
  return s;
}

/**
 * The Go package name for an object: its letters and digits in lower case
 * (no underscores, as Go names packages); `bpf` in front of a leading digit
 * or for nothing at all; a keyword, a predeclared identifier, `main` or
 * `init` (which would make it a command or cannot be imported) gets `_`
 * after it.
 */
export function goPackageName(objectName: string): string {
  let n = objectName.toLowerCase().replace(/[^a-z0-9]+/g, '');
  if (n === '') n = 'bpf';
  if (/^[0-9]/.test(n)) n = `bpf${n}`;
  if (KEYWORDS.go.has(n) || GO_PREDECLARED.has(n) || n === 'main' || n === 'init') n = `${n}_`;
  return n;
}

/** The module path of the generated package: `coolbpf.local/<name>`, the object name made path-safe. */
export function goModulePath(objectName: string): string {
  const n = objectName.toLowerCase().replace(/[^a-z0-9._-]+/g, '-').replace(/^[._-]+/, '').replace(/[._-]+$/, '');
  return `coolbpf.local/${n || 'bpf-object'}`;
}

/** A Go interpreted string literal. */
export function goString(s: string): string {
  return JSON.stringify(s).replace(/\u2028/g, '\\u2028').replace(/\u2029/g, '\\u2029');
}

/** A comment's text: one line, no comment terminator trouble (// comments end at the line). */
export function goComment(s: string): string {
  return s.replace(/[\r\n]+/g, ' ');
}
