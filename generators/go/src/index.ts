/**
 * @coolbpf/gen-go: the typed Go package for a BPF object.
 *
 * generateGo(model, options) returns the files of `DIR/go/` by path: go.mod
 * (module coolbpf.local/<name>, go 1.19, no requirements), types.go (the
 * object's types with their exact C layouts) and object.go (the object, its
 * sections, maps and programs). The runtime (`coolbpf/`, imported as
 * `<module>/coolbpf`) and `bpf.so` (embedded with //go:embed) are put beside
 * them by the CLI. Pure: same model and options, same bytes; nothing read
 * or written. The output is gofmt's format exactly.
 */
import { ABI_VERSION, compileTemplate, createHandlebars, GeneratorError, tidy } from '@coolbpf/gen-core';
import type { ObjectModel } from '@coolbpf/model';
import { TEMPLATES } from './environment.js';
import { buildView, goHeader, type GoGenOptions, type GoView } from './view.js';

export { buildView, goHeader, type GoGenOptions, type GoView } from './view.js';
export { goExported, goModulePath, goPackageName, GO_PREDECLARED } from './names.js';
export { goRuntimeFiles, RUNTIME_SOURCE_DIR } from './environment.js';


function template(name: string): string {
  const t = TEMPLATES.get(name);
  if (t === undefined) throw new GeneratorError(`gen-go: no template '${name}.hbs'`);
  return t;
}

const hb = createHandlebars({ helpers: template('helpers.go') });
const renderTypes = compileTemplate<GoView>(hb, template('types.go'));
const renderObject = compileTemplate<GoView>(hb, template('object.go'));
const renderGoMod = compileTemplate<{ goModHeader: string; modulePath: string }>(hb, template('go.mod'));

/** The files of DIR/go/, by path relative to it. */
export function generateGo(model: ObjectModel, options: GoGenOptions): Map<string, string> {
  const view = buildView(model, options, options.abiVersion ?? ABI_VERSION);
  return new Map([
    ['go.mod', tidy(renderGoMod({ goModHeader: goHeader(options), modulePath: view.modulePath }))],
    ['object.go', tidy(renderObject(view))],
    ['types.go', tidy(renderTypes(view))],
  ]);
}
