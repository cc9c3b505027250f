/**
 * @coolbpf/gen-rust: the typed Rust crate for a BPF object.
 *
 * generateRust(model, options) returns the generated files of `DIR/rust/`
 * by path: Cargo.toml, src/lib.rs, and coolbpf/Cargo.toml (the vendored
 * runtime's manifest, with a package name of its own). The runtime's
 * sources (`runtimeFiles()`, copied from bindings-rust into coolbpf/) and
 * `bpf.so` are put beside them by the CLI. Pure: same model and options,
 * same bytes; nothing read or written.
 */
import { ABI_VERSION, compileTemplate, createHandlebars, GeneratorError, tidy } from '@coolbpf/gen-core';
import type { ObjectModel } from '@coolbpf/model';
import { TEMPLATES } from './environment.js';
import { buildView, type CargoView, type LibView, type RustGenOptions } from './view.js';

export { RUNTIME_DIR, runtimeFiles } from './environment.js';
export { buildView, crateName, snakeCase, type RustGenOptions } from './view.js';

function template(name: string): string {
  const t = TEMPLATES.get(name);
  if (t === undefined) throw new GeneratorError(`gen-rust: no template '${name}.hbs'`);
  return t;
}

const hb = createHandlebars();
const renderLib = compileTemplate<LibView>(hb, template('lib.rs'));
const renderCargo = compileTemplate<CargoView>(hb, template('Cargo.toml'));
const renderRuntimeCargo = compileTemplate<CargoView>(hb, template('runtime-Cargo.toml'));

/** The generated files of DIR/rust/, by path relative to it. */
export function generateRust(model: ObjectModel, options: RustGenOptions): Map<string, string> {
  const abi = options.abiVersion ?? ABI_VERSION;
  const { lib, cargo } = buildView(model, options, abi);
  return new Map([
    ['Cargo.toml', tidy(renderCargo(cargo))],
    ['coolbpf/Cargo.toml', tidy(renderRuntimeCargo(cargo))],
    ['src/lib.rs', tidy(renderLib(lib))],
  ]);
}
