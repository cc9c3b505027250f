/**
 * What gen-go reads from disk, read once when the module loads, so that
 * generateGo() itself touches no files: its templates.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
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

/**
 * Where the Go runtime's sources are: bindings-go/ of the repository this
 * generator is part of (package coolbpf, standard library only).
 */
export const RUNTIME_SOURCE_DIR = join(packageDir, '..', '..', 'bindings-go');

/**
 * The runtime files a generated package carries in coolbpf/ (the .go files
 * but tests, and the C headers the cgo preamble includes), as absolute
 * paths and paths under DIR/go/. Listed when asked, so a runtime that
 * changes is picked up.
 */
export function goRuntimeFiles(): { from: string; to: string }[] {
  if (!existsSync(join(RUNTIME_SOURCE_DIR, 'go.mod'))) {
    throw new Error(`@coolbpf/gen-go: the Go runtime is not where it should be (${RUNTIME_SOURCE_DIR})`);
  }
  return readdirSync(RUNTIME_SOURCE_DIR)
    .filter((f) => (f.endsWith('.go') && !f.endsWith('_test.go')) || f.endsWith('.h'))
    .sort()
    .map((f) => ({ from: join(RUNTIME_SOURCE_DIR, f), to: `coolbpf/${f}` }));
}
