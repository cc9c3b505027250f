/**
 * Line layouts that match rustfmt's defaults (max_width 100, fn_call_width
 * and array_width 60, struct_lit_width 18) for the few expression shapes
 * generated code uses, so the output is already formatted: rustfmt --check
 * passes on it (the tests check this on every fixture). Each helper returns
 * whole lines; `indent` is in spaces.
 */

export const MAX_WIDTH = 100;
const CALL_WIDTH = 60;
const ARRAY_WIDTH = 60;
const STRUCT_LIT_WIDTH = 18;

const pad = (n: number): string => ' '.repeat(n);

/**
 * `head(args)tail` on one line when the arguments take at most 60 columns
 * and the line fits, else one argument per line with a trailing comma.
 */
export function call(indent: number, head: string, args: readonly string[], tail = ''): string[] {
  const inner = args.join(', ');
  const one = `${pad(indent)}${head}(${inner})${tail}`;
  if (args.length === 0 || (inner.length <= CALL_WIDTH && one.length <= MAX_WIDTH)) return [one];
  return [`${pad(indent)}${head}(`, ...args.map((a) => `${pad(indent + 4)}${a},`), `${pad(indent)})${tail}`];
}

/** `head[elems]tail`: one line when the elements take at most 60 columns and it fits, else one per line. */
export function array(indent: number, head: string, elems: readonly string[], tail = ''): string[] {
  const inner = elems.join(', ');
  const one = `${pad(indent)}${head}[${inner}]${tail}`;
  if (elems.length === 0 || (inner.length <= ARRAY_WIDTH && one.length <= MAX_WIDTH)) return [one];
  return [`${pad(indent)}${head}[`, ...elems.map((e) => `${pad(indent + 4)}${e},`), `${pad(indent)}]${tail}`];
}

/** `Name { a: x, b: y }tail` when short (rustfmt's struct_lit_width), else one field per line. */
export function structLit(indent: number, head: string, fields: readonly string[], tail = ''): string[] {
  const inner = fields.join(', ');
  const one = `${pad(indent)}${head} { ${inner} }${tail}`;
  if (fields.length === 0) return [`${pad(indent)}${head} {}${tail}`];
  if (inner.length <= STRUCT_LIT_WIDTH && one.length <= MAX_WIDTH) return [one];
  return [`${pad(indent)}${head} {`, ...fields.map((f) => `${pad(indent + 4)}${f},`), `${pad(indent)}}${tail}`];
}

/**
 * A function's signature line(s) up to and including ` {`: on one line when
 * it fits, else the parameters one per line.
 */
export function fnSig(indent: number, head: string, params: readonly string[], ret: string | null): string[] {
  const r = ret ? ` -> ${ret}` : '';
  const one = `${pad(indent)}${head}(${params.join(', ')})${r} {`;
  if (one.length <= MAX_WIDTH) return [one];
  return [`${pad(indent)}${head}(`, ...params.map((p) => `${pad(indent + 4)}${p},`), `${pad(indent)})${r} {`];
}

/** `if let Some(v) = expr {` (rustfmt moves a long right-hand side to its own line). */
export function ifLet(indent: number, pattern: string, expr: string): string[] {
  const one = `${pad(indent)}if let ${pattern} = ${expr} {`;
  if (one.length <= MAX_WIDTH) return [one];
  return [`${pad(indent)}if let ${pattern} =`, `${pad(indent + 4)}${expr}`, `${pad(indent)}{`];
}

/** `assert!(offset_of!(T, f) == n);` in a const block, broken the way rustfmt breaks it when long. */
export function assertOffset(indent: number, type: string, field: string, offset: number): string[] {
  const one = `${pad(indent)}assert!(offset_of!(${type}, ${field}) == ${offset});`;
  if (one.length <= MAX_WIDTH) return [one];
  return [
    `${pad(indent)}assert!(`,
    `${pad(indent + 4)}offset_of!(`,
    `${pad(indent + 8)}${type},`,
    `${pad(indent + 8)}${field}`,
    `${pad(indent + 4)}) == ${offset}`,
    `${pad(indent)});`,
  ];
}

/** A Rust string literal. */
export function str(s: string): string {
  let out = '"';
  for (const ch of s) {
    const c = ch.codePointAt(0)!;
    if (ch === '"') out += '\\"';
    else if (ch === '\\') out += '\\\\';
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (c < 0x20 || c === 0x7f) out += `\\u{${c.toString(16)}}`;
    else out += ch;
  }
  return `${out}"`;
}

/** A C string literal (`c"…"`, Rust 1.77): no NUL inside. */
export function cstr(s: string): string {
  return `c${str(s)}`;
}

/** A doc comment's text on one line. */
export function docText(s: string): string {
  return s.replace(/\s*\n\s*/g, ' ');
}
