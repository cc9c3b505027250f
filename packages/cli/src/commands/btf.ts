import { mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { isElf } from '@coolbpf/reader';
import { BtfStore, checkArch, checkRelease, HttpError, type Arch, type BtfEntry } from '@coolbpf/server';
import { parseArgs, UsageError } from '../args.js';
import type { BuildContext } from '../build/context.js';
import { BuildError } from '../build/errors.js';
import { failureReason, findTool, runTool } from '../build/exec.js';
import { cacheRoot } from '../build/paths.js';
import { fsReason, readInputFile } from '../files.js';
import { requestArch } from '../remote/arch.js';
import { request, serverError, type Remote } from '../remote/http.js';

/** `--store DIR`, default $COOLBPF_CACHE/server. */
export function storeDir(given: string | undefined, ctx: BuildContext): string {
  return given ?? join(cacheRoot(ctx.env, ctx.home), 'server');
}

/** `6.1.0-47-cloud-amd64` from `6.1.0-47-cloud-amd64.btf.gz` or `vmlinux-6.1.0-47-cloud-amd64`. */
export function releaseFromName(file: string): string {
  return basename(file).replace(/\.gz$/, '').replace(/\.btf$/, '').replace(/^vmlinux-/, '');
}

export function hostArch(ctx: BuildContext): Arch {
  const a = requestArch(ctx.arch);
  if (!a) throw new BuildError('unknown host architecture: pass --arch', [ctx.arch]);
  return a;
}

/**
 * Kernel BTF from a file: raw or gzipped BTF as it is; from an ELF (vmlinux)
 * its .BTF section, which pahole -J first makes from the DWARF of a kernel
 * built without BTF. Both tools work on a copy (pahole writes into the file).
 */
export function btfFromFile(file: string, ctx: BuildContext): Uint8Array {
  const bytes = readInputFile(file);
  if (!isElf(bytes)) return bytes;
  const hint = "install it (scripts/setup.sh does; pahole is Debian's dwarves package)";
  const objcopy = findTool(ctx.env, { name: 'llvm-objcopy', envVar: 'LLVM_OBJCOPY', candidates: ['llvm-objcopy-16', 'llvm-objcopy'], hint });
  const dir = mkdtempSync(join(tmpdir(), 'coolbpf-btf-'));
  try {
    const copy = join(dir, 'vmlinux');
    const out = join(dir, 'btf');
    writeFileSync(copy, bytes);
    const dump = (): boolean => runTool(objcopy, ['--dump-section', `.BTF=${out}`, copy, join(dir, 'discard')], { cwd: dir }).status === 0;
    if (dump()) return readInputFile(out, file);
    const pahole = findTool(ctx.env, { name: 'pahole', envVar: 'PAHOLE', candidates: ['pahole'], hint });
    const r = runTool(pahole, ['-J', copy], { cwd: dir });
    if (r.status !== 0) throw new BuildError(`pahole -J failed (${failureReason(r)})`, [file]);
    if (!dump()) throw new BuildError('no .BTF after pahole -J (does the file have DWARF debug info?)', [file]);
    return readInputFile(out, file);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

function formatEntries(list: readonly BtfEntry[]): string {
  if (!list.length) return 'no BTF stored\n';
  const rows = list.map((e) => [e.release, e.arch, String(e.size), e.sha256.slice(0, 12), e.addedAt, e.source]);
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return `${rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n')}\n`;
}

function remoteOf(values: Map<string, string[]>, ctx: BuildContext): Remote | null {
  const url = values.get('remote')?.[0];
  return url ? { url, token: values.get('token')?.[0] ?? ctx.env.COOLBPF_TOKEN } : null;
}

/** A store error (bad release, not BTF: its message names what) as a one-line build error. */
function storeCall<T>(fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof HttpError) throw new BuildError(e.message, []);
    throw e;
  }
}

/**
 * `btf add FILE [--release R] [--arch A] [--store DIR | --remote URL]`,
 * `btf list [--store DIR | --remote URL]`, `btf fetch RELEASE --remote URL [--arch A] [--out FILE]`.
 * Returns what goes to stdout.
 */
export async function btfCommand(argv: readonly string[], ctx: BuildContext): Promise<string> {
  const [sub, ...rest] = argv;
  const a = parseArgs(rest, { release: { value: true }, arch: { value: true }, store: { value: true }, remote: { value: true }, token: { value: true }, out: { value: true } }, `btf ${sub ?? ''}`.trim());
  const remote = remoteOf(a.values, ctx);
  const arch = storeCall(() => checkArch(a.values.get('arch')?.[0] ?? hostArch(ctx)));
  const store = (): BtfStore => {
    if (remote) throw new UsageError(`btf ${sub}: give --store or --remote, not both`);
    return new BtfStore(storeDir(a.values.get('store')?.[0], ctx));
  };
  switch (sub) {
    case 'add': {
      if (a.positional.length !== 1) throw new UsageError(`btf add: expected one FILE, got ${a.positional.length}`);
      const file = a.positional[0]!;
      const release = storeCall(() => checkRelease(a.values.get('release')?.[0] ?? releaseFromName(file)));
      const bytes = btfFromFile(file, ctx);
      let e: BtfEntry;
      if (remote) {
        const res = await request(remote, `/btf?release=${encodeURIComponent(release)}&arch=${arch}`, { method: 'POST', body: bytes });
        if (res.status !== 201) throw await serverError(res, remote);
        e = (await res.json()) as BtfEntry;
      } else {
        const s = store();
        e = storeCall(() => s.add(bytes, { release, arch, source: basename(file) }));
      }
      ctx.progress(`stored BTF for ${e.release} (${e.arch}), ${e.size} bytes, sha256 ${e.sha256}`);
      return '';
    }
    case 'list': {
      if (a.positional.length) throw new UsageError('btf list: takes no arguments');
      if (!remote) return formatEntries(store().list());
      const res = await request(remote, '/btf');
      if (res.status !== 200) throw await serverError(res, remote);
      return formatEntries((await res.json()) as BtfEntry[]);
    }
    case 'fetch': {
      if (a.positional.length !== 1) throw new UsageError(`btf fetch: expected one RELEASE, got ${a.positional.length}`);
      if (!remote) throw new UsageError('btf fetch: --remote URL is required');
      const release = storeCall(() => checkRelease(a.positional[0]));
      const out = a.values.get('out')?.[0] ?? `${release}.btf`;
      const res = await request(remote, `/btf/${encodeURIComponent(release)}?arch=${arch}`);
      if (res.status !== 200) throw await serverError(res, remote);
      const bytes = new Uint8Array(await res.arrayBuffer());
      const tmp = `${out}.tmp-${process.pid}`;
      try {
        writeFileSync(tmp, bytes);
        renameSync(tmp, out);
      } catch (e) {
        throw new BuildError(`cannot write: ${fsReason(e)}`, [out]);
      } finally {
        rmSync(tmp, { force: true });
      }
      ctx.progress(`wrote ${out} (${bytes.length} bytes, kernel ${release}, ${arch})`);
      return '';
    }
    default:
      throw new UsageError(`btf: expected add, list or fetch${sub ? `, not '${sub}'` : ''}`);
  }
}
