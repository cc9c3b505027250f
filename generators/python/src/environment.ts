/**
 * Everything gen-python reads from disk, read once when the module loads, so
 * that generatePython() itself touches no files: the templates, and where the
 * Python runtime (bindings-python/coolbpf) is, which the CLI copies into every
 * generated package as <module>/_coolbpf/.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Template sources by name (file name without `.hbs`). */
export const TEMPLATES: ReadonlyMap<string, string> = new Map(
  readdirSync(join(packageDir, 'templates'))
    .filter((f) => f.endsWith('.hbs'))
    .sort()
    .map((f) => [f.slice(0, -'.hbs'.length), readFileSync(join(packageDir, 'templates', f), 'utf8')]),
);

/** The directory of the coolbpf Python runtime package (bindings-python/coolbpf). */
export const RUNTIME_DIR = join(packageDir, '..', '..', 'bindings-python', 'coolbpf');

/**
 * The runtime's files a generated package carries, by path relative to the
 * runtime directory: its modules and py.typed (no caches).
 */
export function runtimeFiles(): { from: string; name: string }[] {
  if (!existsSync(join(RUNTIME_DIR, '__init__.py'))) {
    throw new Error(`@coolbpf/gen-python: the coolbpf Python runtime is missing (no ${join(RUNTIME_DIR, '__init__.py')})`);
  }
  return readdirSync(RUNTIME_DIR)
    .filter((f) => (f.endsWith('.py') || f === 'py.typed') && statSync(join(RUNTIME_DIR, f)).isFile())
    .sort()
    .map((f) => ({ from: join(RUNTIME_DIR, f), name: f }));
}

/** The runtime's sources by file name (for tests that lay a package out without the CLI). */
export function runtimeSources(): Map<string, string> {
  return new Map(runtimeFiles().map((f) => [f.name, readFileSync(f.from, 'utf8')]));
}
