/** Everything that decides the `clang` command line for the BPF object. */
export interface ClangInputs {
  /** the source path as the user gave it, so diagnostics name it that way */
  readonly source: string;
  readonly output: string;
  readonly depfile: string;
  /** directory holding vmlinux.h for the target kernel */
  readonly vmlinuxDir: string;
  /** the user's -I directories, in order */
  readonly includeDirs: readonly string[];
  /** libbpf's headers (bpf/bpf_helpers.h …) */
  readonly libbpfIncludeDir: string;
  /** coolbpf's own BPF-side header (coolbpf.bpf.h) */
  readonly coolbpfIncludeDir: string;
  /** the host compiler's own search list, see hostSearchDirs */
  readonly systemDirs: readonly string[];
  /** `__TARGET_ARCH_<x>` suffix */
  readonly targetArch: string;
  /** absolute prefix → replacement, for paths recorded in debug info */
  readonly prefixMaps: readonly (readonly [string, string])[];
  /** the user's --cflags, last so they can override ours */
  readonly cflags: readonly string[];
}

/** The depfile's target: fixed and colon-free so parseDepfile can skip it by position. */
export const DEPFILE_TARGET = 'bpf.o';

export function clangArgv(i: ClangInputs): string[] {
  const sourceDir = dirnameAsGiven(i.source);
  return [
    '-g', '-O2', '-target', 'bpf', '-mcpu=v3', `-D__TARGET_ARCH_${i.targetArch}`, '-Wall',
    '-I', i.vmlinuxDir,
    ...i.includeDirs.flatMap((d) => ['-I', d]),
    '-I', sourceDir,
    '-I', i.libbpfIncludeDir,
    '-I', i.coolbpfIncludeDir,
    // -target bpf does not search the host's multiarch directory, which holds
    // the <asm/...> headers <linux/types.h> needs; borrow the host list, after
    // everything else, as libbpf-bootstrap does.
    ...i.systemDirs.flatMap((d) => ['-idirafter', d]),
    ...i.prefixMaps.map(([from, to]) => `-ffile-prefix-map=${from}=${to}`),
    '-MD', '-MF', i.depfile, '-MT', DEPFILE_TARGET,
    ...i.cflags,
    '-c', i.source, '-o', i.output,
  ];
}

/** dirname that keeps a relative path relative ("hello.bpf.c" → "."). */
function dirnameAsGiven(p: string): string {
  const slash = p.lastIndexOf('/');
  if (slash < 0) return '.';
  return slash === 0 ? '/' : p.slice(0, slash);
}

/**
 * The `#include <...>` search list from the output of `clang -v -E - </dev/null`
 * (the lines between "<...> search starts here:" and "End of search list.").
 */
export function hostSearchDirs(verboseOutput: string): string[] {
  const lines = verboseOutput.split('\n');
  const start = lines.findIndex((l) => l.startsWith('#include <...> search starts here:'));
  if (start < 0) return [];
  const out: string[] = [];
  for (const l of lines.slice(start + 1)) {
    if (l.startsWith('End of search list.')) break;
    // macOS-style " (framework directory)" suffixes do not occur on Linux, but would not be paths
    const dir = l.trim().replace(/ \(framework directory\)$/, '');
    if (dir.startsWith('/')) out.push(dir);
  }
  return out;
}
