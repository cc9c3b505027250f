import { badRequest } from './errors.js';
import { checkRelativePath, printable } from './paths.js';

/** The architectures a request may target, by their `uname -m` names. */
export const ARCHES = ['x86_64', 'arm64'] as const;
export type Arch = (typeof ARCHES)[number];
export const LANGUAGES = ['node', 'python', 'go', 'rust'] as const;

export interface SourceFile {
  readonly path: string;
  readonly text: string;
}

/** Which kernel to compile for: a release in the BTF store, or a stored BTF by its SHA-256. */
export type Target = { readonly release: string } | { readonly btf: string };

/**
 * POST /compile, validated. New options go in as optional fields with a
 * default that keeps today's output (e.g. `minBtf: false`), and into the
 * cache key (see requestKey).
 */
export interface CompileRequest {
  /** the .bpf.c file: `path` is how diagnostics name it */
  readonly source: SourceFile;
  /** the local headers it includes, by path relative to the source's directory */
  readonly headers: readonly SourceFile[];
  /** directories inside the submission to search for `#include`s (its -I list) */
  readonly includeDirs: readonly string[];
  readonly target: Target;
  readonly arch: Arch;
  /** `NAME` or `NAME=VALUE`, each becomes one `-DNAME=VALUE` argument */
  readonly defines: readonly string[];
  readonly languages: readonly string[];
  /** embed the minimal BTF the object needs in bpf.so (build --min-btf); absent: false */
  readonly minBtf?: boolean;
}

export const LIMITS = {
  headers: 256,
  defines: 64,
  defineValue: 256,
  includeDirs: 16,
};

const RELEASE = /^[A-Za-z0-9][A-Za-z0-9._+~-]{0,127}$/;
const DEFINE_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
// printable ASCII only: no newline, no NUL, nothing a terminal would act on
const DEFINE_VALUE = /^[\x20-\x7e]*$/;
const SHA256 = /^[0-9a-f]{64}$/;
const FIELDS = new Set(['source', 'headers', 'includeDirs', 'target', 'arch', 'defines', 'languages', 'minBtf']);

/** A kernel release as the store keys it (`uname -r`): no slashes, no leading dot. */
export function checkRelease(r: unknown): string {
  if (typeof r !== 'string' || !RELEASE.test(r)) throw badRequest(`kernel release '${printable(String(r))}': expected [A-Za-z0-9._+~-], at most 128 characters, starting with a letter or digit`);
  return r;
}

export function checkArch(a: unknown): Arch {
  if (typeof a !== 'string' || !(ARCHES as readonly string[]).includes(a)) throw badRequest(`arch '${printable(String(a))}': expected one of ${ARCHES.join(', ')}`);
  return a as Arch;
}

/** `NAME` or `NAME=VALUE`: a C identifier, and a value of printable ASCII. */
export function checkDefine(d: unknown): string {
  if (typeof d !== 'string') throw badRequest('defines: expected strings');
  const eq = d.indexOf('=');
  const name = eq < 0 ? d : d.slice(0, eq);
  const value = eq < 0 ? '' : d.slice(eq + 1);
  if (!DEFINE_NAME.test(name)) throw badRequest(`define '${printable(d)}': the name must be a C identifier of at most 64 characters`);
  if (value.length > LIMITS.defineValue || !DEFINE_VALUE.test(value)) throw badRequest(`define '${printable(d)}': the value must be printable ASCII of at most ${LIMITS.defineValue} characters`);
  return d;
}

function object(v: unknown, what: string): Record<string, unknown> {
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw badRequest(`${what}: expected an object`);
  return v as Record<string, unknown>;
}

function array(v: unknown, what: string, max: number): unknown[] {
  if (v === undefined) return [];
  if (!Array.isArray(v)) throw badRequest(`${what}: expected an array`);
  if (v.length > max) throw badRequest(`${what}: more than ${max}`);
  return v;
}

function sourceFile(v: unknown, what: string): SourceFile {
  const o = object(v, what);
  const path = checkRelativePath(o.path, what);
  if (typeof o.text !== 'string') throw badRequest(`${what} '${path}': text must be a string`);
  if (o.text.includes('\0')) throw badRequest(`${what} '${path}': contains a NUL character`);
  return { path, text: o.text };
}

/** A parsed JSON body → a CompileRequest, or a 400 naming the first thing wrong. Pure. */
export function parseCompileRequest(body: unknown): CompileRequest {
  const o = object(body, 'request');
  for (const k of Object.keys(o)) if (!FIELDS.has(k)) throw badRequest(`request: unknown field '${printable(k)}'`);
  const source = sourceFile(o.source, 'source');
  if (!source.path.endsWith('.c')) throw badRequest(`source '${source.path}': expected a .c file`);
  const headers = array(o.headers, 'headers', LIMITS.headers).map((h) => sourceFile(h, 'header'));
  const seen = new Set([source.path]);
  for (const h of headers) {
    if (seen.has(h.path)) throw badRequest(`header '${h.path}' given twice`);
    seen.add(h.path);
  }
  const includeDirs = array(o.includeDirs, 'includeDirs', LIMITS.includeDirs).map((d) => checkRelativePath(d, 'include dir'));
  const t = object(o.target, 'target');
  let target: Target;
  if (t.release !== undefined && t.btf === undefined) target = { release: checkRelease(t.release) };
  else if (t.btf !== undefined && t.release === undefined) {
    if (typeof t.btf !== 'string' || !SHA256.test(t.btf)) throw badRequest('target.btf: expected the SHA-256 (64 lowercase hex digits) of a stored BTF');
    target = { btf: t.btf };
  } else throw badRequest('target: expected {"release": …} or {"btf": …}');
  const arch = checkArch(o.arch);
  const defines = array(o.defines, 'defines', LIMITS.defines).map(checkDefine);
  const languages = array(o.languages, 'languages', LANGUAGES.length).map((l) => {
    if (typeof l !== 'string' || !(LANGUAGES as readonly string[]).includes(l)) throw badRequest(`language '${printable(String(l))}': expected one of ${LANGUAGES.join(', ')}`);
    return l;
  });
  if (new Set(languages).size !== languages.length) throw badRequest('languages: one given twice');
  if (o.minBtf !== undefined && typeof o.minBtf !== 'boolean') throw badRequest('minBtf: expected true or false');
  return { source, headers, includeDirs, target, arch, defines, languages, ...(o.minBtf ? { minBtf: true } : {}) };
}

/** `-DNAME=VALUE` arguments for the defines: one argv entry each, never through a shell. */
export function defineArgs(defines: readonly string[]): string[] {
  return defines.map((d) => `-D${d}`);
}
