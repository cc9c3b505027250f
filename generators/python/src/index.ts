/**
 * @coolbpf/gen-python: the typed Python package for a BPF object.
 *
 * generatePython(model, options) returns the files of `DIR/python/` by
 * path: pyproject.toml, the in-tree build backend _coolbpf_build.py (pip
 * installs the package offline), <module>/__init__.py (the generated
 * module) and <module>/py.typed. The runtime (<module>/_coolbpf/, see
 * runtimeFiles()) and bpf.so are the CLI's to put beside them. Pure: same
 * model and options, same bytes; nothing read or written.
 */
import { ABI_VERSION, compileTemplate, createHandlebars, GeneratorError } from '@coolbpf/gen-core';
import type { ObjectModel } from '@coolbpf/model';
import { TEMPLATES } from './environment.js';
import { buildView, type ModuleView, type PackageView, type PythonGenOptions } from './view.js';

export { RUNTIME_DIR, runtimeFiles, runtimeSources } from './environment.js';
export { buildView, MAX_LINE, memberBase, moduleName, pyIdentifier, type PythonGenOptions } from './view.js';

function template(name: string): string {
  const t = TEMPLATES.get(name);
  if (t === undefined) throw new GeneratorError(`gen-python: no template '${name}.hbs'`);
  return t;
}

const hb = createHandlebars();
const renderModule = compileTemplate<ModuleView & { docLines: readonly string[] }>(hb, template('__init__.py'));
const renderPyproject = compileTemplate<PackageView>(hb, template('pyproject.toml'));
const renderBackend = compileTemplate<PackageView>(hb, template('_coolbpf_build.py'));

/**
 * Output hygiene for Python: no trailing spaces, at most two blank lines in a
 * row (PEP 8's two between top-level definitions), none at the start, one
 * newline at the end.
 */
export function tidyPython(text: string): string {
  const lines = text.split('\n').map((l) => l.replace(/[ \t]+$/, ''));
  const out: string[] = [];
  let blanks = 0;
  for (const l of lines) {
    if (l === '') {
      blanks++;
      if (out.length === 0 || blanks > 2) continue;
    } else blanks = 0;
    out.push(l);
  }
  while (out.length && out[out.length - 1] === '') out.pop();
  return `${out.join('\n')}\n`;
}

/** The files of DIR/python/, by path relative to it. */
export function generatePython(model: ObjectModel, options: PythonGenOptions): Map<string, string> {
  const abi = options.abiVersion ?? ABI_VERSION;
  const { module, pkg } = buildView(model, options, abi);
  const doc = module.docLines.map((l) => l.replace(/\\/g, '\\\\').replace(/"""/g, '\\"\\"\\"'));
  const docLines = [`"""${doc[0]}`, ...doc.slice(1), '"""'];
  return new Map([
    ['pyproject.toml', tidyPython(renderPyproject(pkg))],
    ['_coolbpf_build.py', tidyPython(renderBackend(pkg))],
    [`${pkg.module}/__init__.py`, tidyPython(renderModule({ ...module, docLines }))],
    [`${pkg.module}/py.typed`, ''],
  ]);
}
