import Handlebars from 'handlebars';

/**
 * A handlebars environment of its own (helpers and partials do not leak
 * between languages). Templates only print: the single helper formats a
 * value as JSON; anything that needs a decision is a field of the view.
 */
export function createHandlebars(partials: Readonly<Record<string, string>> = {}): typeof Handlebars {
  const hb = Handlebars.create();
  hb.registerHelper('json', (v: unknown) => JSON.stringify(v));
  for (const [name, source] of Object.entries(partials)) hb.registerPartial(name, source);
  return hb;
}

/** Compiles a template that prints text as-is (no HTML escaping) and throws on a field the view lacks. */
export function compileTemplate<V>(hb: typeof Handlebars, source: string): (view: V) => string {
  return hb.compile<V>(source, { noEscape: true, strict: true });
}

/**
 * Output hygiene shared by every language: no trailing spaces, no runs of
 * blank lines, no blank lines at the start, exactly one newline at the end.
 */
export function tidy(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  const out: string[] = [];
  for (const l of lines) {
    if (l === '' && (out.length === 0 || out[out.length - 1] === '')) continue;
    out.push(l);
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** A JavaScript/TypeScript string literal in single quotes; control characters, quotes and backslashes escaped. */
export function quote(s: string): string {
  const body = s.replace(/[\\'\x00-\x1f\x7f\u2028\u2029]/g, (c) => {
    switch (c) {
      case '\\': return '\\\\';
      case "'": return "\\'";
      case '\n': return '\\n';
      case '\r': return '\\r';
      case '\t': return '\\t';
      default: return `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`;
    }
  });
  return `'${body}'`;
}
