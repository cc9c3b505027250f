/**
 * Everything gen-node reads from disk, read once when the module loads, so
 * that generateNode() itself touches no files: the templates, TypeScript's
 * standard library declarations and @types/node (to type-check generated
 * code), and the runtime's declarations (@coolbpf/node's built dist/*.d.ts).
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const packageDir = join(dirname(fileURLToPath(import.meta.url)), '..');

function readTree(dir: string, keep: (file: string) => boolean): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string) => {
    for (const e of readdirSync(d).sort()) {
      const p = join(d, e);
      if (statSync(p).isDirectory()) {
        if (e !== 'node_modules') walk(p);
      } else if (keep(e)) out.set(relative(dir, p).split('\\').join('/'), readFileSync(p, 'utf8'));
    }
  };
  walk(dir);
  return out;
}

/** Template sources by name (file name without `.hbs`). */
export const TEMPLATES: ReadonlyMap<string, string> = new Map(
  readdirSync(join(packageDir, 'templates'))
    .filter((f) => f.endsWith('.hbs'))
    .sort()
    .map((f) => [f.slice(0, -'.hbs'.length), readFileSync(join(packageDir, 'templates', f), 'utf8')]),
);

/** TypeScript's lib.*.d.ts (without the DOM ones), by file name. */
export const TS_LIB: ReadonlyMap<string, string> = (() => {
  const dir = dirname(require.resolve('typescript'));
  const out = new Map<string, string>();
  for (const f of readdirSync(dir).sort()) {
    if (/^lib\..*\.d\.ts$/.test(f) && !/^lib\.(dom|webworker|scripthost)/.test(f)) out.set(f, readFileSync(join(dir, f), 'utf8'));
  }
  return out;
})();

/** @types/node's files (its package.json and every .d.ts), by path inside the package. */
export const TYPES_NODE: ReadonlyMap<string, string> = (() => {
  const dir = dirname(require.resolve('@types/node/package.json'));
  return readTree(dir, (f) => f.endsWith('.d.ts') || f === 'package.json');
})();

/** Where the built @coolbpf/node keeps its declarations. */
function runtimeDist(): string {
  const dist = join(dirname(require.resolve('@coolbpf/node/package.json')), 'dist');
  if (!existsSync(join(dist, 'index.d.ts'))) {
    throw new Error(`@coolbpf/gen-node: the @coolbpf/node runtime is not built (no ${join(dist, 'index.d.ts')}); run \`npm run build\``);
  }
  return dist;
}

/**
 * The runtime's .d.ts files by path relative to the runtime directory
 * (`index.d.ts`, …): generated code is compiled against exactly the runtime
 * the CLI copies beside it, never a stand-in.
 */
export const RUNTIME_DECLARATIONS: { readonly files: ReadonlyMap<string, string> } = (() => {
  const dist = runtimeDist();
  return { files: readTree(dist, (f) => f.endsWith('.d.ts') && !f.includes('.test')) };
})();
