/**
 * Where the pieces of the coolbpf C runtime are, for linking a bpf.so.
 * Every path is absolute. The archives exist after `npm run build` (which
 * builds the position-independent libbpf once, see libbpf-pic.sh).
 */
export interface RuntimeC {
  /** Directory holding coolbpf.h, the ABI every bpf.so exports. */
  readonly includeDir: string;
  /** include/coolbpf.h */
  readonly header: string;
  /** The runtime's objects (PIC, hidden visibility except the coolbpf_* API); link with --whole-archive. */
  readonly runtimeArchive: string;
  /** libbpf built with -fPIC from Debian's source package. */
  readonly libbpfArchive: string;
  /** libbpf's public headers (bpf/libbpf.h, bpf/bpf_helpers.h, ...) matching libbpfArchive. */
  readonly libbpfIncludeDir: string;
  /** Linker version script: exports coolbpf_* only. */
  readonly versionScript: string;
  /** System libraries bpf.so links against, as linker flags. */
  readonly systemLibs: readonly string[];
  /** Text of build/VERSION: libbpf version and runtime digest, for build caches. */
  readonly fingerprint: () => string;
}

export declare const runtime: RuntimeC;
