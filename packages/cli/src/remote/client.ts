import { readFileSync } from 'node:fs';
import { release } from 'node:os';
import { join, resolve } from 'node:path';
import { decodeTar, writeTree, WARNINGS_ENTRY, type CompileRequest } from '@coolbpf/server';
import type { BuildOptions } from '../commands/build.js';
import type { BuildContext } from '../build/context.js';
import { BuildError, ToolOutputError } from '../build/errors.js';
import { OutputDir, previousManifest, upToDate } from '../build/outputs.js';
import { VERSION } from '../version.js';
import { requestArch } from './arch.js';
import { request, serverError, type Remote } from './http.js';
import { collectSubmission } from './includes.js';

export interface RemoteBuildOptions extends Omit<BuildOptions, 'remote'> {
  readonly remote: Remote;
  /** the target kernel's release; default this machine's (`uname -r`) */
  readonly kernel: string | undefined;
  /** NAME or NAME=VALUE, from -D words of --cflags */
  readonly defines: readonly string[];
}

const MAX_TRIES = 5;

/** `-DNAME[=VALUE]` words → defines; any other flag cannot be sent to a server. */
export function definesFromCflags(cflags: readonly string[]): string[] {
  return cflags.map((w) => {
    if (w.startsWith('-D') && w.length > 2) return w.slice(2);
    throw new BuildError(`--cflags '${w}': a remote build takes only -DNAME[=VALUE] flags`, ['--remote']);
  });
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * `coolbpf-gen build PROG.bpf.c --remote URL --out DIR`: sends the source
 * and its local headers, and writes the archive the server answers into
 * DIR the way a local build does (OutputDir: nothing on failure, the same
 * manifest format). 503s are retried after the server's Retry-After.
 */
export async function remoteBuild(o: RemoteBuildOptions, ctx: BuildContext): Promise<void> {
  if (!o.source.endsWith('.c')) throw new BuildError('not a C source file (expected PROG.bpf.c)', [o.source]);
  const arch = requestArch(ctx.arch);
  if (!arch) throw new BuildError(`no build server target for this host's architecture`, [ctx.arch]);
  const readText = (p: string): string | null => {
    try {
      return readFileSync(p, 'utf8');
    } catch {
      return null;
    }
  };
  const sub = collectSubmission(ctx.cwd, o.source, o.includeDirs, readText);
  const kernel = o.kernel ?? release();
  const body: CompileRequest = {
    source: sub.source,
    headers: sub.headers,
    includeDirs: sub.includeDirs,
    target: { release: kernel },
    arch,
    defines: o.defines,
    languages: o.languages,
    ...(o.minBtf ? { minBtf: true } : {}),
  };
  ctx.progress(`[1/3] ${o.source} and ${sub.headers.length} local header${sub.headers.length === 1 ? '' : 's'} -> ${o.remote.url} (kernel ${kernel}, ${arch})`);
  const outDir = resolve(ctx.cwd, o.out);
  // outputs of an earlier build, intact: the server answers 304 if they are what it would send
  const previous = previousManifest(outDir);
  const held: Record<string, string> = previous && upToDate(outDir, previous, previous.key) ? { 'If-None-Match': `"${previous.key}"` } : {};
  let res: Response;
  for (let attempt = 1; ; attempt++) {
    res = await request(o.remote, '/compile', { method: 'POST', body: JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...held } });
    if (res.status !== 503 || attempt === MAX_TRIES) break;
    const wait = Math.min(Number(res.headers.get('retry-after')) || 5, 60);
    await res.arrayBuffer();
    ctx.progress(`server busy, retrying in ${wait} s (${attempt}/${MAX_TRIES - 1})`);
    await sleep(wait * 1000);
  }
  if (res.status === 422 || res.status === 504) {
    const j = (await res.json().catch(() => ({}))) as { error?: string; diagnostics?: string };
    throw new ToolOutputError(`${j.error ?? 'compilation failed'} (on ${o.remote.url})`, [o.source], j.diagnostics ?? '');
  }
  if (res.status === 304) {
    ctx.progress(`${o.out} is up to date`);
    return;
  }
  if (res.status !== 200) throw await serverError(res, o.remote);
  const key = res.headers.get('x-coolbpf-key') ?? '';
  const cache = res.headers.get('x-coolbpf-cache') ?? 'miss';
  const all = decodeTar(new Uint8Array(await res.arrayBuffer()));
  const warnings = all.find((e) => e.path === WARNINGS_ENTRY);
  if (warnings) ctx.passthrough(Buffer.from(warnings.bytes).toString('utf8'));
  const entries = all.filter((e) => e !== warnings);
  ctx.progress(`[2/3] compiled on the server${cache === 'miss' ? '' : ` (${cache === 'hit' ? 'cached' : 'shared'})`}: ${entries.length} files`);

  const out = OutputDir.open(outDir, o.out);
  try {
    writeTree(out.scratch, entries.map((e) => ({ path: e.path, bytes: e.bytes, mode: e.mode })));
    const dirs = o.languages.filter((l) => entries.some((e) => e.path.startsWith(`${l}/`)));
    out.commit(entries.map((e) => e.path), { generator: 'coolbpf-gen', version: VERSION, command: 'build', key, dependencies: sub.dependencies }, dirs);
    // as a local build says it: each file, a language package as its directory
    const wrote = [...new Set(entries.map((e) => (dirs.some((d) => e.path.startsWith(`${d}/`)) ? `${e.path.split('/')[0]}/` : e.path)))];
    ctx.progress(`[3/3] wrote ${wrote.map((f) => join(o.out, f)).join(', ')}`);
  } finally {
    out.close();
  }
}
