/** Paths of the runtime pieces a bpf.so is linked from (see @coolbpf/runtime-c). */
export interface RuntimeLinkInputs {
  readonly runtimeArchive: string;
  readonly libbpfArchive: string;
  readonly versionScript: string;
  readonly systemLibs: readonly string[];
}

/** File names inside the scratch directory, where cc runs, so no absolute path reaches the outputs. */
export const SHIM_C = 'shim.c';
export const SHIM_O = 'shim.o';
export const SHARED_OBJECT = 'bpf.so';

export function shimCompileArgv(scratchDir: string): string[] {
  return ['-O2', '-fPIC', `-ffile-prefix-map=${scratchDir}=.`, '-c', SHIM_C, '-o', SHIM_O];
}

export function linkArgv(rt: RuntimeLinkInputs): string[] {
  return [
    '-shared', '-o', SHARED_OBJECT, SHIM_O,
    // every runtime object, not just those shim.o references: the ABI is what callers use
    '-Wl,--whole-archive', rt.runtimeArchive, '-Wl,--no-whole-archive',
    rt.libbpfArchive,
    ...rt.systemLibs,
    `-Wl,--version-script=${rt.versionScript}`,
    // an undefined symbol is a link error now, not a dlopen error on the user's machine
    '-Wl,-z,defs',
    // derived from the contents, so equal inputs give byte-equal files
    '-Wl,--build-id=sha1',
    '-Wl,-soname,bpf.so',
    // libbpf's and the runtime's DWARF is three quarters of the file, and
    // bpf.so is copied into every package (embedded in Go and Rust ones);
    // the symbol table stays
    '-Wl,--strip-debug',
    // libbpf and the runtime are compiled a section per function: what
    // nothing reaches from the exported coolbpf_* API is left out (a fifth
    // of the file)
    '-Wl,--gc-sections',
  ];
}
