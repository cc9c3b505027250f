import { UsageError } from '../args.js';

export const LANGUAGES = ['node', 'python', 'go', 'rust'] as const;
export type Language = (typeof LANGUAGES)[number];

const EXPECTED = `expected a comma list of ${LANGUAGES.join(', ')}, or none`;

/** `--lang node,go` → ['node', 'go']; `none` (the default) → []. */
export function parseLanguages(spec: string | undefined): Language[] {
  if (spec === undefined) return [];
  const items = spec.split(',').map((s) => s.trim());
  if (items.some((s) => s === '')) throw new UsageError(`--lang '${spec}': empty language name (${EXPECTED})`);
  if (items.includes('none')) {
    if (items.length > 1) throw new UsageError(`--lang ${spec}: 'none' cannot be combined with languages`);
    return [];
  }
  const out: Language[] = [];
  for (const item of items) {
    if (!(LANGUAGES as readonly string[]).includes(item)) throw new UsageError(`--lang ${spec}: unknown language '${item}' (${EXPECTED})`);
    if (out.includes(item as Language)) throw new UsageError(`--lang ${spec}: '${item}' given twice`);
    out.push(item as Language);
  }
  return out;
}
