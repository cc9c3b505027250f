/**
 * Golden tests: generated files compared with checked-in copies. With
 * COOLBPF_UPDATE_GOLDEN=1 in the environment the copies are rewritten
 * instead (and files no longer generated are removed).
 */
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';

export interface GoldenDiff {
  /** generated but not checked in */
  readonly missing: readonly string[];
  /** checked in but no longer generated */
  readonly extra: readonly string[];
  /** both, with different contents: path and the first differing line */
  readonly changed: readonly { readonly path: string; readonly line: number; readonly expected: string; readonly actual: string }[];
}

export function updatingGolden(): boolean {
  return process.env.COOLBPF_UPDATE_GOLDEN === '1';
}

function listFiles(dir: string): string[] {
  if (!existsSync(dir)) return [];
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else out.push(relative(dir, p).split('\\').join('/'));
    }
  };
  walk(dir);
  return out;
}

/** Compares `files` with the copies under `dir` (or rewrites them when updating); returns what differs. */
export function checkGolden(dir: string, files: ReadonlyMap<string, string>, update = updatingGolden()): GoldenDiff {
  const existing = listFiles(dir).filter((f) => f !== '.gitignore');
  if (update) {
    for (const f of existing) if (!files.has(f)) rmSync(join(dir, f));
    for (const [path, text] of files) {
      mkdirSync(dirname(join(dir, path)), { recursive: true });
      writeFileSync(join(dir, path), text);
    }
    return { missing: [], extra: [], changed: [] };
  }
  const missing = [...files.keys()].filter((f) => !existing.includes(f)).sort();
  const extra = existing.filter((f) => !files.has(f));
  const changed: { path: string; line: number; expected: string; actual: string }[] = [];
  for (const [path, text] of [...files].sort(([a], [b]) => (a < b ? -1 : 1))) {
    if (!existing.includes(path)) continue;
    const want = readFileSync(join(dir, path), 'utf8');
    if (want === text) continue;
    const a = want.split('\n');
    const b = text.split('\n');
    let i = 0;
    while (i < a.length && i < b.length && a[i] === b[i]) i++;
    changed.push({ path, line: i + 1, expected: a[i] ?? '<end of file>', actual: b[i] ?? '<end of file>' });
  }
  return { missing, extra, changed };
}
