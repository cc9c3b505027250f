import { existsSync } from 'node:fs';
import { join, relative, dirname } from 'node:path';
import { runtime as installed, type RuntimeC } from '@coolbpf/runtime-c';
import { BuildError } from './errors.js';
import type { RuntimeLinkInputs } from './link.js';

/** The C runtime, checked to be built. */
export interface Runtime extends RuntimeLinkInputs {
  readonly header: string;
  /** where `#include <bpf/bpf_helpers.h>` is found */
  readonly libbpfIncludeDir: string;
  /** where `#include <coolbpf.bpf.h>` (COOLBPF_EVENT) is found */
  readonly bpfIncludeDir: string;
  /** libbpfIncludeDir is the runtime's own copy, not the system's /usr/include */
  readonly bundledHeaders: boolean;
  /** build/VERSION: changes whenever the runtime or libbpf does, so it is part of the cache key */
  readonly fingerprint: string;
}

const WHERE = '@coolbpf/runtime-c';
const HOW = 'run `npm run build` (or `make -C packages/runtime-c`) in the coolbpf repository';

export function loadRuntime(rt: RuntimeC = installed): Runtime {
  const root = dirname(rt.includeDir);
  for (const f of [rt.runtimeArchive, rt.libbpfArchive, rt.versionScript, rt.header]) {
    if (!existsSync(f)) throw new BuildError(`not built (${relative(root, f)} is missing; ${HOW})`, [WHERE]);
  }
  let fingerprint: string;
  try {
    fingerprint = rt.fingerprint();
  } catch {
    throw new BuildError(`not built (build/VERSION is missing; ${HOW})`, [WHERE]);
  }
  // the headers are built with the archives; the system's are the next best match
  const bundledHeaders = existsSync(join(rt.libbpfIncludeDir, 'bpf', 'bpf_helpers.h'));
  return {
    header: rt.header,
    libbpfIncludeDir: bundledHeaders ? rt.libbpfIncludeDir : '/usr/include',
    bundledHeaders,
    bpfIncludeDir: rt.includeDir,
    runtimeArchive: rt.runtimeArchive,
    libbpfArchive: rt.libbpfArchive,
    versionScript: rt.versionScript,
    systemLibs: rt.systemLibs,
    fingerprint,
  };
}
