/** The objects the tests generate for: every fixture (each byte order) and examples/hello. */
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { ObjectModel } from '@coolbpf/model';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { FIXTURES, fixtureCase, helloCase, modelOf, optionsOf, repoRoot, type Case } from '@coolbpf/gen-core/testing';
import { generateNode } from './index.js';
import { RUNTIME_DECLARATIONS } from './environment.js';
import { buildView } from './view.js';

export { FIXTURES, fixtureCase, helloCase, repoRoot, type Case };

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; typeNames: ReadonlyMap<string, string> } {
  const model = modelOf(c);
  const options = optionsOf(c, model, golden);
  const files = generateNode(model, options);
  const { typeNames } = buildView(model, options, ABI_VERSION);
  return { model, files, typeNames };
}

/** packages/node's built runtime (dist/), the files a generated package's runtime/ holds besides the addon. */
const RUNTIME_DIST = join(repoRoot, 'packages', 'node', 'dist');

/**
 * The runtime's compiled JavaScript, by file name, as the CLI vendors it
 * (without source map references: the maps stay in the repository).
 */
export function runtimeJs(): Map<string, string> {
  const out = new Map<string, string>();
  for (const f of readdirSync(RUNTIME_DIST).sort()) {
    if (f.endsWith('.js')) out.set(f, readFileSync(join(RUNTIME_DIST, f), 'utf8').replace(/^\/\/# sourceMappingURL=.*\n?/m, ''));
  }
  return out;
}

/**
 * Writes a generated package to `dir` as the CLI lays it out (DIR/node/…),
 * with a runtime: `decls` (the declarations only, for tsc) or `js` (the
 * runtime's JavaScript and declarations without the native addon: enough to
 * import the package and use its codecs and classes without bpf.so).
 */
export function materialize(dir: string, files: ReadonlyMap<string, string>, runtime: 'decls' | 'js'): string {
  const pkg = join(dir, 'node');
  for (const [p, text] of files) {
    mkdirSync(dirname(join(pkg, p)), { recursive: true });
    writeFileSync(join(pkg, p), text);
  }
  mkdirSync(join(pkg, 'runtime'), { recursive: true });
  for (const [p, text] of RUNTIME_DECLARATIONS.files) writeFileSync(join(pkg, 'runtime', p), text);
  if (runtime === 'js') for (const [p, text] of runtimeJs()) writeFileSync(join(pkg, 'runtime', p), text);
  return pkg;
}

/** Imports a materialized package's dist/index.js. */
export async function importPackage(pkg: string): Promise<Record<string, unknown>> {
  return (await import(pathToFileURL(join(pkg, 'dist', 'index.js')).href)) as Record<string, unknown>;
}
