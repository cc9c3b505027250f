import { generateGo, goRuntimeFiles } from '@coolbpf/gen-go';
import { BuildError } from '../build/errors.js';
import type { LanguagePackage, WrapperInputs } from './types.js';

/** The Go runtime's files a generated package carries in coolbpf/ (bindings-go: the .go files but tests, and its C headers). */
export function goRuntime(): { from: string; to: string }[] {
  try {
    return goRuntimeFiles();
  } catch (e) {
    throw new BuildError(String((e as Error).message), ['@coolbpf/gen-go']);
  }
}

/** DIR/go/: a Go module (go.mod, types.go, object.go) with the runtime in coolbpf/ and bpf.so beside it (embedded). */
export function goPackage(i: WrapperInputs): LanguagePackage {
  const generated = generateGo(i.model, { objectName: i.objectName, objectFile: i.objectFile, sha256: i.model.object.sha256, version: i.version });
  return { dir: 'go', generated, copies: goRuntime() };
}
