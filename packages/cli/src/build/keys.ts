import { cacheKey } from './cacheKey.js';

/** Everything a `build` output depends on; equal inputs give byte-equal outputs. */
export interface BuildKeyInputs {
  readonly version: string;
  /** relative paths in the argv and the depfile are relative to it */
  readonly cwd: string;
  readonly source: string;
  readonly sourceSha256: string;
  readonly btfSha256: string;
  readonly arch: string;
  readonly clangVersion: string;
  /** with the scratch directory as a placeholder; holds include dirs, cflags, target arch and host search list */
  readonly clangArgv: readonly string[];
  readonly ccVersion: string;
  readonly runtimeFingerprint: string;
  /** languages asked for and the digest of their generators and runtimes */
  readonly wrappers: string;
  /** headers the source included, absolute, with their SHA-256 (null: gone) */
  readonly dependencies: readonly (readonly [string, string | null])[];
  /** --min-btf: bpftool's version (it makes the embedded BTF, from the BTF above), or null without */
  readonly minBtf: string | null;
}

export function buildKey(i: BuildKeyInputs): string {
  return cacheKey([
    ['generator', `coolbpf-gen ${i.version}`],
    ['command', 'build'],
    ['cwd', i.cwd],
    ['source', i.source],
    ['source sha256', i.sourceSha256],
    ['btf sha256', i.btfSha256],
    ['arch', i.arch],
    ['clang', i.clangVersion],
    ['clang argv', JSON.stringify(i.clangArgv)],
    ['cc', i.ccVersion],
    ['runtime', i.runtimeFingerprint],
    ['wrappers', i.wrappers],
    ['min btf', i.minBtf ?? 'none'],
    ...i.dependencies.map(([path, sha]) => [`dependency ${path}`, sha ?? 'missing'] as const),
  ]);
}

export interface GenKeyInputs {
  readonly version: string;
  readonly objectSha256: string;
  /** both go into the shim */
  readonly objectName: string;
  readonly from: string;
  readonly arch: string;
  readonly ccVersion: string;
  readonly runtimeFingerprint: string;
  readonly wrappers: string;
  /** --min-btf: the kernel BTF's SHA-256 and bpftool's version, or null without */
  readonly minBtf: { readonly btfSha256: string; readonly bpftool: string } | null;
}

export function genKey(i: GenKeyInputs): string {
  return cacheKey([
    ['generator', `coolbpf-gen ${i.version}`],
    ['command', 'gen'],
    ['object sha256', i.objectSha256],
    ['object name', i.objectName],
    ['from', i.from],
    ['arch', i.arch],
    ['cc', i.ccVersion],
    ['runtime', i.runtimeFingerprint],
    ['wrappers', i.wrappers],
    ['min btf', i.minBtf ? `${i.minBtf.btfSha256} ${i.minBtf.bpftool}` : 'none'],
  ]);
}
