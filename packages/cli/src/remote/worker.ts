/**
 * One server compile in a worker thread: coolbpf-gen's own build (which is
 * synchronous, so it must not run on the server's event loop), with clang
 * sandboxed. Each WorkerJob message is answered with one WorkerResult.
 */
import { endianness } from 'node:os';
import { parentPort } from 'node:worker_threads';
import { CoolbpfError } from '@coolbpf/reader';
import { build, type BuildOptions } from '../commands/build.js';
import { ToolOutputError } from '../build/errors.js';
import { SandboxLimitError, sandboxedClang, type SandboxHost, type SandboxLimits } from './sandbox.js';

export interface WorkerJob {
  readonly options: BuildOptions;
  readonly cwd: string;
  /** process.arch style */
  readonly arch: string;
  readonly cacheRoot: string;
  readonly path: string;
  readonly host: SandboxHost;
  readonly limits: SandboxLimits;
}

export type WorkerResult =
  | { readonly ok: true; readonly warnings: string }
  | { readonly ok: false; readonly kind: 'error' | 'timeout' | 'internal'; readonly message: string; readonly output: string };

/** vmlinux.h is in the job's scratch directory: name it as vmlinux/vmlinux.h, not by the server's paths. */
function withoutServerPaths(text: string, job: WorkerJob): string {
  return text.split(`${job.options.out}/`).join('').replace(/\.coolbpf-tmp-[\w-]+\//g, '');
}

function run(job: WorkerJob): WorkerResult {
  let warnings = '';
  try {
    build(job.options, {
      cwd: job.cwd,
      env: { PATH: job.path, COOLBPF_CACHE: job.cacheRoot },
      home: '/nonexistent',
      arch: job.arch,
      hostEndianness: endianness(),
      progress: () => {},
      passthrough: (t) => (warnings += t),
      runClang: sandboxedClang(job.host, job.limits),
    });
    return { ok: true, warnings: withoutServerPaths(warnings, job) };
  } catch (e) {
    if (e instanceof SandboxLimitError) return { ok: false, kind: 'timeout', message: e.message, output: '' };
    if (e instanceof ToolOutputError) return { ok: false, kind: 'error', message: e.reason, output: withoutServerPaths(e.output, job) };
    if (e instanceof CoolbpfError) return { ok: false, kind: 'error', message: e.message, output: '' };
    return { ok: false, kind: 'internal', message: (e as Error)?.stack ?? String(e), output: '' };
  }
}

// one job per message; the thread stays for the next (module loading is paid once)
parentPort?.on('message', (job: WorkerJob) => parentPort?.postMessage(run(job)));
