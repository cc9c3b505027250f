/**
 * What gen-rust reads from disk, once, when the module loads: its templates,
 * and where the runtime crate (bindings-rust) is, whose sources the CLI
 * copies into every generated crate.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Template sources by name (file name without `.hbs`). */
export const TEMPLATES: ReadonlyMap<string, string> = new Map(
  readdirSync(join(packageDir, 'templates'))
    .filter((f) => f.endsWith('.hbs'))
    .sort()
    .map((f) => [f.slice(0, -'.hbs'.length), readFileSync(join(packageDir, 'templates', f), 'utf8')]),
);

/** The runtime crate's directory: `$COOLBPF_RUST_RUNTIME`, else bindings-rust in this repository. */
export const RUNTIME_DIR: string = process.env.COOLBPF_RUST_RUNTIME || join(packageDir, '..', '..', 'bindings-rust');

/**
 * The runtime's files a generated crate carries under `coolbpf/`: its
 * sources and README (its Cargo.toml is generated: the package gets a name
 * of its own per crate). `from` is absolute, `to` relative to the crate.
 */
export function runtimeFiles(dir: string = RUNTIME_DIR): { from: string; to: string }[] {
  const src = join(dir, 'src');
  if (!existsSync(join(src, 'lib.rs'))) throw new Error(`the Rust runtime is not at ${dir} (no src/lib.rs)`);
  const out: { from: string; to: string }[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) walk(p);
      else if (e.endsWith('.rs')) out.push({ from: p, to: `coolbpf/${relative(dir, p).split('\\').join('/')}` });
    }
  };
  walk(src);
  if (existsSync(join(dir, 'README.md'))) out.push({ from: join(dir, 'README.md'), to: 'coolbpf/README.md' });
  return out;
}
