import { existsSync, readdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { generateNode } from '@coolbpf/gen-node';
import { BuildError } from '../build/errors.js';
import type { LanguagePackage, WrapperInputs } from './types.js';

const require = createRequire(import.meta.url);

/** The Node runtime's files a generated package carries in runtime/: its
 * compiled JS and declarations, and the native addon, which it looks for
 * beside its index.js. Source maps stay out (they point at the repo). */
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

export function nodePackage(i: WrapperInputs): LanguagePackage {
  const generated = generateNode(i.model, { objectName: i.objectName, objectFile: i.objectFile, sha256: i.model.object.sha256, version: i.version });
  return { dir: 'node', generated, copies: nodeRuntimeFiles() };
}
