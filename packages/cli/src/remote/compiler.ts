import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker } from 'node:worker_threads';
import { defineArgs, type Arch, type CompileJob, type CompileOutcome, type Compiler, type TarEntry } from '@coolbpf/server';
import { cacheKey } from '../build/cacheKey.js';
import type { BuildContext } from '../build/context.js';
import { LANGUAGES, type Language } from '../build/languages.js';
import { MANIFEST, parseManifest } from '../build/manifest.js';
import { loadRuntime } from '../build/runtime.js';
import { findCc, findClang } from '../build/toolchain.js';
import { VERSION } from '../version.js';
import { wrapperFingerprint } from '../wrappers/fingerprint.js';
import { nodeArch, requestArch } from './arch.js';
import { sandboxHost, type SandboxLimits } from './sandbox.js';
import type { WorkerJob, WorkerResult } from './worker.js';

/** worker.js beside this file; from the sources (vitest) the built one in dist/. */
function workerPath(): string {
  const here = fileURLToPath(new URL('./worker.js', import.meta.url));
  return existsSync(here) ? here : here.replace(/\/src\/remote\/worker\.js$/, '/dist/remote/worker.js');
}

/**
 * The server's compiler: coolbpf-gen build of the submission in a worker
 * thread, clang sandboxed (see sandboxedClang), against the stored BTF, with
 * vmlinux.h cached under the store. Outputs are the files of the build's
 * manifest, i.e. exactly what a local build writes into DIR.
 */
export function localCompiler(ctx: BuildContext, store: string, limits: SandboxLimits): Compiler {
  const clang = findClang(ctx);
  const cc = findCc(ctx);
  const runtime = loadRuntime();
  const host = sandboxHost(clang.tool, ctx.env);
  const arch = requestArch(ctx.arch);
  if (!arch) throw new Error(`the build server does not know this host's architecture (${ctx.arch})`);
  const toolchain = cacheKey([
    ['coolbpf-gen', VERSION],
    ['clang', clang.version],
    ['cc', cc.version],
    ['runtime', runtime.fingerprint],
    ['wrappers', wrapperFingerprint([...LANGUAGES])],
  ]);
  const worker = workerPath();

  return {
    toolchain,
    arches: [arch],
    compile(job: CompileJob): Promise<CompileOutcome> {
      const out = join(job.workDir, 'out');
      const languages = job.request.languages as Language[];
      const data: WorkerJob = {
        options: {
          source: job.request.source.path,
          out,
          btf: job.btfPath,
          includeDirs: job.request.includeDirs,
          // -nostdinc: no search directory but the ones build() names; defines are one argument each
          cflags: ['-nostdinc', ...defineArgs(job.request.defines)],
          langSpec: languages.join(','),
          languages,
        },
        cwd: job.srcDir,
        arch: nodeArch(job.request.arch),
        cacheRoot: store,
        path: ctx.env.PATH ?? '/usr/bin:/bin',
        host,
        limits,
      };
      return new Promise<WorkerResult>((resolve, reject) => {
        const w = new Worker(worker, { workerData: data, resourceLimits: { maxOldGenerationSizeMb: 1024 } });
        let settled = false;
        // clang is limited by the sandbox; this also bounds strip, cc and the generators
        const timer = setTimeout(() => {
          settled = true;
          void w.terminate();
          resolve({ ok: false, kind: 'timeout', message: `compile stopped after ${limits.wallSeconds + 60} s`, output: '' });
        }, (limits.wallSeconds + 60) * 1000);
        w.once('message', (m: WorkerResult) => {
          settled = true;
          clearTimeout(timer);
          resolve(m);
        });
        w.once('error', (e) => {
          clearTimeout(timer);
          if (!settled) reject(e);
          settled = true;
        });
        w.once('exit', (code) => {
          clearTimeout(timer);
          if (!settled) reject(new Error(`compile worker exited with ${code}`));
          settled = true;
        });
      }).then((r): CompileOutcome => {
        if (!r.ok) {
          if (r.kind === 'internal') throw new Error(r.message);
          return { ok: false, result: r.kind, message: r.message, diagnostics: r.output };
        }
        return { ok: true, files: outputsOf(out) };
      });
    },
  };
}

/** The files a build's manifest lists, with their bytes and modes. */
function outputsOf(dir: string): TarEntry[] {
  const m = parseManifest(readFileSync(join(dir, MANIFEST), 'utf8'));
  if (!m) throw new Error('the build wrote no readable manifest');
  return Object.keys(m.outputs)
    .sort()
    .map((path) => {
      const p = join(dir, path);
      return { path, mode: statSync(p).mode & 0o100 ? 0o755 : 0o644, bytes: readFileSync(p) };
    });
}
