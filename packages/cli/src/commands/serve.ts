import { existsSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { availableParallelism, release } from 'node:os';
import { BtfStore, createBuildServer, type BuildServer } from '@coolbpf/server';
import { parseArgs, UsageError } from '../args.js';
import type { BuildContext } from '../build/context.js';
import { DEFAULT_BTF } from '../build/vmlinux.js';
import { readInputFile } from '../files.js';
import { localCompiler } from '../remote/compiler.js';
import { btfFromFile, hostArch, releaseFromName, storeDir } from './btf.js';

export interface ServeOptions {
  readonly host: string;
  readonly port: number;
  readonly store: string;
  /** FILE[=RELEASE] */
  readonly btf: readonly string[];
  readonly token: string | undefined;
  readonly jobs: number;
  readonly queue: number;
  readonly timeout: number;
  readonly memoryMb: number;
  readonly cacheMb: number;
}

function positiveInt(v: string | undefined, name: string, dflt: number, max: number): number {
  if (v === undefined) return dflt;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > max) throw new UsageError(`serve: --${name} '${v}': expected an integer from 0 to ${max}`);
  return n;
}

export function parseServeArgs(argv: readonly string[], ctx: BuildContext): ServeOptions {
  const spec = { host: { value: true }, port: { value: true }, store: { value: true }, btf: { value: true, repeat: true }, token: { value: true }, jobs: { value: true }, queue: { value: true }, timeout: { value: true }, memory: { value: true }, 'cache-mb': { value: true } };
  const a = parseArgs(argv, spec, 'serve');
  if (a.positional.length) throw new UsageError(`serve: unexpected argument '${a.positional[0]}'`);
  const v = (n: string): string | undefined => a.values.get(n)?.[0];
  const jobs = positiveInt(v('jobs'), 'jobs', availableParallelism(), 1024) || 1;
  return {
    host: v('host') ?? '127.0.0.1',
    port: positiveInt(v('port'), 'port', 7655, 65535),
    store: storeDir(v('store'), ctx),
    btf: a.values.get('btf') ?? [],
    token: v('token') ?? (ctx.env.COOLBPF_TOKEN || undefined),
    jobs,
    queue: positiveInt(v('queue'), 'queue', jobs * 16, 1 << 20),
    timeout: positiveInt(v('timeout'), 'timeout', 120, 3600) || 120,
    memoryMb: positiveInt(v('memory'), 'memory', 4096, 1 << 20) || 4096,
    cacheMb: positiveInt(v('cache-mb'), 'cache-mb', 4096, 1 << 30),
  };
}

/**
 * `coolbpf-gen serve`: seeds the BTF store with this machine's kernel and
 * the --btf files, then serves until the returned server is closed.
 */
export async function serve(o: ServeOptions, ctx: BuildContext): Promise<BuildServer> {
  const arch = hostArch(ctx);
  const store = new BtfStore(o.store);
  const seeds: [string, string][] = existsSync(DEFAULT_BTF) ? [[DEFAULT_BTF, release()]] : [];
  for (const spec of o.btf) {
    const eq = spec.lastIndexOf('=');
    const file = eq < 0 ? spec : spec.slice(0, eq);
    seeds.push([file, eq < 0 ? releaseFromName(file) : spec.slice(eq + 1)]);
  }
  for (const [file, rel] of seeds) {
    const bytes = file === DEFAULT_BTF ? readInputFile(file) : btfFromFile(file, ctx);
    const e = store.add(bytes, { release: rel, arch, source: file });
    ctx.progress(`BTF ${e.release} (${e.arch}) from ${file}`);
  }
  const compiler = localCompiler(ctx, o.store, { memoryBytes: o.memoryMb * (1 << 20), cpuSeconds: o.timeout, wallSeconds: o.timeout });
  const bs = createBuildServer({
    store: o.store,
    compiler,
    token: o.token,
    concurrency: o.jobs,
    maxQueued: o.queue,
    defaultArch: arch,
    compileTimeout: o.timeout,
    maxCacheBytes: o.cacheMb * 2 ** 20,
    log: (line) => ctx.progress(line),
  });
  await new Promise<void>((resolve, reject) => {
    bs.server.once('error', reject);
    bs.server.listen(o.port, o.host, () => resolve());
  });
  const addr = bs.server.address() as AddressInfo;
  const host = addr.family === 'IPv6' ? `[${addr.address}]` : addr.address;
  ctx.progress(`serving on http://${host}:${addr.port} (store ${o.store}, ${o.jobs} compile slot${o.jobs === 1 ? '' : 's'}, queue ${o.queue}${o.token ? ', token required' : ''})`);
  return bs;
}
