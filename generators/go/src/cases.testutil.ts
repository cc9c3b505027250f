/** The objects the tests generate for (every fixture, each byte order, and examples/hello), and generated packages laid out as the CLI lays them out. */
import { copyFileSync, mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { ObjectModel } from '@coolbpf/model';
import { ABI_VERSION } from '@coolbpf/gen-core';
import { FIXTURES, fixtureCase, helloCase, modelOf, optionsOf, repoRoot, type Case } from '@coolbpf/gen-core/testing';
import { goRuntimeFiles } from './environment.js';
import { generateGo } from './index.js';
import { buildView, type GoView } from './view.js';

export { FIXTURES, fixtureCase, helloCase, repoRoot, type Case };

export function generate(c: Case, golden = false): { model: ObjectModel; files: Map<string, string>; view: GoView } {
  const model = modelOf(c);
  const o = optionsOf(c, model, golden);
  return { model, files: generateGo(model, o), view: buildView(model, o, ABI_VERSION) };
}

/**
 * Writes a generated package to `dir` as the CLI lays it out (DIR/go/…):
 * the generated files, the runtime in coolbpf/, and a bpf.so (`so`, or an
 * empty stand-in: enough to build, and to use the types without loading).
 */
export function materialize(dir: string, files: ReadonlyMap<string, string>, so?: string): string {
  const pkg = join(dir, 'go');
  for (const [p, text] of files) {
    mkdirSync(dirname(join(pkg, p)), { recursive: true });
    writeFileSync(join(pkg, p), text);
  }
  for (const f of goRuntimeFiles()) {
    mkdirSync(dirname(join(pkg, f.to)), { recursive: true });
    copyFileSync(f.from, join(pkg, f.to));
  }
  if (so) copyFileSync(so, join(pkg, 'bpf.so'));
  else writeFileSync(join(pkg, 'bpf.so'), '');
  return pkg;
}
