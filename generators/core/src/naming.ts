/**
 * Names in generated code: per-language keyword tables, escaping, case
 * conversion, and scopes that hand out collision-free names in a defined
 * order, so the same model always gives the same names.
 *
 * Two rules keep user names and generated internals apart:
 * - every internal identifier of generated code starts with the language's
 *   reserved prefix (`$` in TypeScript), and a name taken from the object that
 *   happens to start with it gets an `_` in front;
 * - fixed public names of the generated API (the skeleton class, section
 *   interfaces, helper types, globals the code uses) are reserved in a scope
 *   before any name from the object is claimed, so a C type that would clash
 *   gets a suffix instead.
 */

export type Language = 'typescript' | 'python' | 'go' | 'rust';

const words = (s: string): ReadonlySet<string> => new Set(s.trim().split(/\s+/));

/**
 * Words that cannot name a binding (variable, function, class, type) in each
 * language. TypeScript's list also has the strict-mode and module reserved
 * words, TypeScript's own type keywords and the names strict mode forbids as
 * bindings.
 */
export const KEYWORDS: Readonly<Record<Language, ReadonlySet<string>>> = {
  typescript: words(`
    break case catch class const continue debugger default delete do else enum export extends false finally
    for function if import in instanceof new null return super switch this throw true try typeof var void
    while with implements interface let package private protected public static yield await
    any boolean never number object string symbol unknown bigint undefined arguments eval
    as async declare from get set of satisfies type readonly keyof infer is asserts namespace module require global
    NaN Infinity`),
  python: words(`
    False None True and as assert async await break class continue def del elif else except finally for from
    global if import in is lambda nonlocal not or pass raise return try while with yield match case type`),
  go: words(`
    break default func interface select case defer go map struct chan else goto package switch const
    fallthrough if range type continue for import return var true false nil iota`),
  rust: words(`
    as break const continue crate else enum extern false fn for if impl in let loop match mod move mut pub ref
    return self Self static struct super trait true type unsafe use where while async await dyn abstract become
    box do final macro override priv typeof unsized virtual yield try gen union`),
};

/** Reserved prefix of generated internals, per language. */
export const RESERVED_PREFIX: Readonly<Record<Language, string>> = {
  typescript: '$',
  python: '_cb_',
  go: 'cb_',
  rust: 'cb_',
};

/** Property names that must not be used as-is on JavaScript objects and classes. */
export const TS_PROPERTY_RESERVED: ReadonlySet<string> = words('__proto__ constructor');

export function isKeyword(lang: Language, name: string): boolean {
  return KEYWORDS[lang].has(name);
}

/** A keyword made usable: `class` → `class_` (Rust: `r#type`, or `self_` where raw identifiers are not allowed). */
export function escapeKeyword(lang: Language, name: string): string {
  if (!isKeyword(lang, name)) return name;
  if (lang === 'rust' && !['crate', 'self', 'Self', 'super'].includes(name)) return `r#${name}`;
  return `${name}_`;
}

/** Any string made into an ASCII identifier: other characters become `_`, a leading digit gets `_` before it. */
export function legalIdentifier(name: string): string {
  let s = name.replace(/[^A-Za-z0-9_$]/g, '_');
  if (s === '') s = '_';
  if (/^[0-9]/.test(s)) s = `_${s}`;
  return s;
}

/** The words of a C name: split at `_` and at anything not a letter or digit; empty parts dropped. */
export function wordsOf(name: string): string[] {
  return name.split(/[^A-Za-z0-9]+/).filter((w) => w !== '');
}

/** `layout_anon__anon1` → `LayoutAnonAnon1`; capitals inside a word are kept (`myHTTP_x` → `MyHTTPX`). */
export function pascalCase(name: string): string {
  const parts = wordsOf(name);
  if (parts.length === 0) return 'Anonymous';
  const s = parts.map((w) => w[0]!.toUpperCase() + w.slice(1)).join('');
  return /^[0-9]/.test(s) ? `_${s}` : s;
}

/** `.data.custom` → `dataCustom`, `exec_counts` → `execCounts`. */
export function camelCase(name: string): string {
  const p = pascalCase(name);
  if (p.startsWith('_')) return p;
  return p[0]!.toLowerCase() + p.slice(1);
}

export interface ScopeOptions {
  /** words that cannot be used and are escaped (see escapeKeyword) */
  readonly keywords?: ReadonlySet<string>;
  /** names starting with this get `_` in front, leaving the prefix to generated internals */
  readonly reservedPrefix?: string;
  /** names the generated code itself uses in this scope */
  readonly reserved?: Iterable<string>;
  /** make names legal identifiers first (off for property names, which the view may quote) */
  readonly identifiers?: boolean;
  /** how a keyword is escaped; default appends `_` */
  readonly escape?: (name: string) => string;
}

/**
 * Hands out unique names in one scope (a module's top level, the members of
 * one struct, …). The result depends only on the order of the calls, which
 * callers make deterministic by walking the model in its defined order.
 */
export class NameScope {
  readonly #taken = new Set<string>();
  readonly #keywords: ReadonlySet<string>;
  readonly #prefix: string;
  readonly #identifiers: boolean;
  readonly #escape: (name: string) => string;

  constructor(options: ScopeOptions = {}) {
    this.#keywords = options.keywords ?? new Set();
    this.#prefix = options.reservedPrefix ?? '';
    this.#identifiers = options.identifiers ?? true;
    this.#escape = options.escape ?? ((n) => `${n}_`);
    for (const r of options.reserved ?? []) this.#taken.add(r);
  }

  /** A scope for bindings of `lang`: its keywords escaped, its reserved prefix kept for internals. */
  static identifiers(lang: Language, reserved: Iterable<string> = []): NameScope {
    return new NameScope({ keywords: KEYWORDS[lang], reservedPrefix: RESERVED_PREFIX[lang], reserved, escape: (n) => escapeKeyword(lang, n) });
  }

  /** Marks a name as used by generated code: claims of it get another name. */
  reserve(name: string): void {
    this.#taken.add(name);
  }

  taken(name: string): boolean {
    return this.#taken.has(name);
  }

  /** What `claim` would start from: legal, not a keyword, not in the reserved prefix. */
  base(wanted: string): string {
    let n = this.#identifiers ? legalIdentifier(wanted) : wanted;
    if (this.#prefix && n.startsWith(this.#prefix)) n = `_${n}`;
    if (this.#keywords.has(n)) n = this.#escape(n);
    return n;
  }

  /**
   * A free name for `wanted`: itself when free, else `wanted + suffix`, else
   * with a number appended (`2`, `3`, … after the suffix, or after `_`).
   */
  claim(wanted: string, suffix = ''): string {
    const n = this.base(wanted);
    const candidates = [n];
    if (suffix) candidates.push(`${n}${suffix}`);
    for (const c of candidates) {
      if (!this.#taken.has(c)) {
        this.#taken.add(c);
        return c;
      }
    }
    const stem = suffix ? `${n}${suffix}` : `${n}_`;
    for (let i = 2; ; i++) {
      const c = `${stem}${i}`;
      if (!this.#taken.has(c)) {
        this.#taken.add(c);
        return c;
      }
    }
  }
}
