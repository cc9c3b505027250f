import type { ObjectModel } from '@coolbpf/model';

export interface WrapperInputs {
  readonly model: ObjectModel;
  /** libbpf's object name (from the source or object file name) */
  readonly objectName: string;
  /** the file the object came from, for generated headers */
  readonly objectFile: string;
  /** coolbpf-gen's version, for generated headers */
  readonly version: string;
}

/** One language's package under DIR/<dir>/: generated text, plus files copied
 * in as they are (runtimes); bpf.so is added beside them by writeWrappers. */
export interface LanguagePackage {
  readonly dir: string;
  readonly generated: ReadonlyMap<string, string>;
  readonly copies: readonly { readonly from: string; readonly to: string }[];
}
