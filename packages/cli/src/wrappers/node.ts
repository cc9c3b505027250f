import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { generateNode } from '@coolbpf/gen-node';
import { BuildError } from '../build/errors.js';
import type { LanguagePackage, WrapperInputs } from './types.js';

const require = createRequire(import.meta.url);

/** The Node runtime's files a generated package carries in runtime/: its
 * compiled JS and declarations, and the native addon, which it looks for
 * beside its index.js. Source maps stay out (they point at the repo), and
 * nodePackage() strips the references to them from the JavaScript. */
export function nodeRuntimeFiles(): { from: string; to: string }[] {
  const root = dirname(require.resolve('@coolbpf/node/package.json'));
  const dist = join(root, 'dist');
  const addon = join(root, 'build', 'Release', 'coolbpf_node.node');
  if (!existsSync(join(dist, 'index.js')) || !existsSync(addon)) {
    throw new BuildError('not built (run `npm run build` in the coolbpf repository)', ['@coolbpf/node']);
  }
  const files = readdirSync(dist)
    .filter((f) => (f.endsWith('.js') || f.endsWith('.d.ts')) && !/\.test(util)?\.|\.testutil\./.test(f))
    .sort()
    .map((f) => ({ from: join(dist, f), to: `runtime/${f}` }));
  files.push({ from: addon, to: 'runtime/coolbpf_node.node' });
  return files;
}

/** Compiled JavaScript without its `//# sourceMappingURL=` line: the maps
 * (and the sources they point at) stay in the repository, so the vendored
 * copy must not reference them. */
export function withoutSourceMap(js: string): string {
  return js.replace(/^\/\/# sourceMappingURL=.*(?:\n|$)/gm, '');
}

export function nodePackage(i: WrapperInputs): LanguagePackage {
  const generated = new Map(generateNode(i.model, { objectName: i.objectName, objectFile: i.objectFile, sha256: i.model.object.sha256, version: i.version }));
  const copies: { from: string; to: string }[] = [];
  for (const f of nodeRuntimeFiles()) {
    if (f.to.endsWith('.js')) generated.set(f.to, withoutSourceMap(readFileSync(f.from, 'utf8')));
    else copies.push(f);
  }
  return { dir: 'node', generated, copies };
}
