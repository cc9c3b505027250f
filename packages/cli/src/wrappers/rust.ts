import { generateRust, runtimeFiles } from '@coolbpf/gen-rust';
import { BuildError } from '../build/errors.js';
import type { LanguagePackage, WrapperInputs } from './types.js';

/** The Rust runtime's sources a generated crate carries in coolbpf/ (its
 * Cargo.toml is generated, with a package name of its own per crate). */
export function rustRuntimeFiles(): { from: string; to: string }[] {
  try {
    return runtimeFiles();
  } catch (e) {
    throw new BuildError(`${(e as Error).message} (the coolbpf repository's bindings-rust)`, ['--lang rust']);
  }
}

export function rustPackage(i: WrapperInputs): LanguagePackage {
  const generated = generateRust(i.model, { objectName: i.objectName, objectFile: i.objectFile, sha256: i.model.object.sha256, version: i.version });
  return { dir: 'rust', generated, copies: rustRuntimeFiles() };
}
