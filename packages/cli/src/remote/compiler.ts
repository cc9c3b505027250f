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
export function localCompiler(ctx: BuildContext, store: string, limits: SandboxLimits, maxOutputBytes = 64 * 2 ** 20): Compiler {
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
  const pool = new WorkerPool(workerPath());

  return {
    toolchain,
    arches: [arch],
    close: () => pool.close(),
    compile(job: CompileJob): Promise<CompileOutcome> {
      const out = join(job.workDir, 'out');
      const languages = job.request.languages as Language[];
      const data: WorkerJob = {
        options: {
          source: job.request.source.path,
          out,
          btf: job.btfPath,
          includeDirs: job.request.includeDirs,
          // -nostdinc: no search directory but the ones build() names; no crash reproducers
          // written anywhere; defines are one argument each
          cflags: ['-nostdinc', '-fno-crash-diagnostics', ...defineArgs(job.request.defines)],
          langSpec: languages.join(','),
          languages,
          minBtf: job.request.minBtf === true,
        },
        cwd: job.srcDir,
        arch: nodeArch(job.request.arch),
        cacheRoot: store,
        path: ctx.env.PATH ?? '/usr/bin:/bin',
        host,
        limits,
      };
      return pool.run(data, (limits.wallSeconds + 60) * 1000).then((r): CompileOutcome => {
        if (!r.ok) {
          if (r.kind === 'internal') throw new Error(r.message);
          return { ok: false, result: r.kind, message: r.message, diagnostics: r.output };
        }
        const files = outputsOf(out, maxOutputBytes);
        if (!Array.isArray(files)) return { ok: false, result: 'error', message: files.tooLarge, diagnostics: '' };
        return { ok: true, files, warnings: r.warnings };
      });
    },
  };
}

/**
 * Compile worker threads, kept between jobs. A job's worker is lent to it
 * alone; one that fails, exits or runs over `timeoutMs` (clang is limited
 * by the sandbox; this also bounds strip, cc and the generators) is
 * terminated and not reused.
 */
class WorkerPool {
  readonly #idle: Worker[] = [];
  readonly #all = new Set<Worker>();

  constructor(readonly path: string) {}

  run(job: WorkerJob, timeoutMs: number): Promise<WorkerResult> {
    const w = this.#idle.pop() ?? this.#spawn();
    w.ref();
    return new Promise<WorkerResult>((resolve, reject) => {
      const done = (): void => {
        clearTimeout(timer);
        w.off('message', onMessage);
        w.off('error', onError);
        w.off('exit', onExit);
      };
      const discard = (): void => {
        this.#all.delete(w);
        void w.terminate();
      };
      const onMessage = (m: WorkerResult): void => {
        done();
        w.unref();
        this.#idle.push(w);
        resolve(m);
      };
      const onError = (e: Error): void => {
        done();
        discard();
        reject(e);
      };
      const onExit = (code: number): void => {
        done();
        this.#all.delete(w);
        reject(new Error(`compile worker exited with ${code}`));
      };
      const timer = setTimeout(() => {
        done();
        discard();
        resolve({ ok: false, kind: 'timeout', message: `compile stopped after ${timeoutMs / 1000} s`, output: '' });
      }, timeoutMs);
      w.on('message', onMessage);
      w.on('error', onError);
      w.on('exit', onExit);
      w.postMessage(job);
    });
  }

  #spawn(): Worker {
    const w = new Worker(this.path, { resourceLimits: { maxOldGenerationSizeMb: 1024 } });
    this.#all.add(w);
    return w;
  }

  async close(): Promise<void> {
    const all = [...this.#all];
    this.#all.clear();
    this.#idle.length = 0;
    await Promise.all(all.map((w) => w.terminate()));
  }
}

/** The files a build's manifest lists, with their bytes and modes; too many bytes in all is the source's error. */
function outputsOf(dir: string, maxBytes: number): TarEntry[] | { tooLarge: string } {
  const m = parseManifest(readFileSync(join(dir, MANIFEST), 'utf8'));
  if (!m) throw new Error('the build wrote no readable manifest');
  const total = Object.keys(m.outputs).reduce((n, path) => n + statSync(join(dir, path)).size, 0);
  if (total > maxBytes) return { tooLarge: `the outputs are ${total} bytes, over this server's limit of ${maxBytes}` };
  return Object.keys(m.outputs)
    .sort()
    .map((path) => {
      const p = join(dir, path);
      return { path, mode: statSync(p).mode & 0o100 ? 0o755 : 0o644, bytes: readFileSync(p) };
    });
}
