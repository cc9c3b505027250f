import { generatePython, moduleName, runtimeFiles } from '@coolbpf/gen-python';
import type { LanguagePackage, WrapperInputs } from './types.js';

/** The Python runtime's files a generated package carries in <module>/_coolbpf/. */
export function pythonRuntimeFiles(module: string): { from: string; to: string }[] {
  return runtimeFiles().map((f) => ({ from: f.from, to: `${module}/_coolbpf/${f.name}` }));
}

/** DIR/python/: pyproject.toml, the in-tree build backend, <module>/ with the generated
 * module and the runtime; writeWrappers puts bpf.so beside pyproject.toml, and the
 * build backend puts it into the package (the module finds either). */
export function pythonPackage(i: WrapperInputs): LanguagePackage {
  const generated = generatePython(i.model, { objectName: i.objectName, objectFile: i.objectFile, sha256: i.model.object.sha256, version: i.version });
  return { dir: 'python', generated, copies: pythonRuntimeFiles(moduleName(i.objectName)) };
}
