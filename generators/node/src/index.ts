/**
 * @coolbpf/gen-node: the typed Node.js package for a BPF object.
 *
 * generateNode(model, options) returns the files of `DIR/node/` by path:
 * package.json, src/index.ts (the generated TypeScript), and dist/index.js
 * + dist/index.d.ts compiled from it in memory. The runtime (`runtime/`) and
 * `bpf.so` are put beside them by the CLI. Pure: same model and options,
 * same bytes; nothing read or written.
 */
import { ABI_VERSION, compileTemplate, createHandlebars, GeneratorError, headerLine, tidy } from '@coolbpf/gen-core';
import type { ObjectModel } from '@coolbpf/model';
import { compile } from './compile.js';
import { RUNTIME_DECLARATIONS, TEMPLATES } from './environment.js';
import { buildView, type IndexView, type NodeGenOptions, type PackageView } from './view.js';

export { GeneratedCodeError, COMPILER_OPTIONS } from './compile.js';
export { RUNTIME_DECLARATIONS } from './environment.js';
export { buildView, packageName, type NodeGenOptions } from './view.js';

export interface GenerateNodeOptions extends NodeGenOptions {
  /**
   * The runtime's declarations to type-check against, by path under runtime/
   * (`index.d.ts`, …); default: @coolbpf/node's built ones.
   */
  readonly runtimeDeclarations?: ReadonlyMap<string, string>;
}

function template(name: string): string {
  const t = TEMPLATES.get(name);
  if (t === undefined) throw new GeneratorError(`gen-node: no template '${name}.hbs'`);
  return t;
}

const hb = createHandlebars();
const renderIndex = compileTemplate<IndexView>(hb, template('index.ts'));
const renderPackage = compileTemplate<PackageView>(hb, template('package.json'));

/** The files of DIR/node/, by path relative to it. */
export function generateNode(model: ObjectModel, options: GenerateNodeOptions): Map<string, string> {
  const abi = options.abiVersion ?? ABI_VERSION;
  const { index, pkg } = buildView(model, options, abi);
  const source = tidy(renderIndex(index));
  const packageJson = tidy(renderPackage(pkg));
  const { js, dts } = compile({ source, packageJson, runtime: options.runtimeDeclarations ?? RUNTIME_DECLARATIONS.files });
  const header = headerLine(options);
  const withHeader = (text: string) => (text.startsWith(header) ? text : `${header}\n${text}`);
  return new Map([
    ['package.json', packageJson],
    ['src/index.ts', source],
    ['dist/index.js', withHeader(js)],
    ['dist/index.d.ts', withHeader(dts)],
  ]);
}
