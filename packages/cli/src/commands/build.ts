import { mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { describeObject } from '@coolbpf/model';
import { readObject, within } from '@coolbpf/reader';
import { parseArgs, UsageError } from '../args.js';
import { clangArgv, type ClangInputs } from '../build/clang.js';
import type { BuildContext } from '../build/context.js';
import { dependenciesOf } from '../build/depfile.js';
import { BuildError, ToolOutputError } from '../build/errors.js';
import { runTool } from '../build/exec.js';
import { buildKey } from '../build/keys.js';
import { parseLanguages, type Language } from '../build/languages.js';
import { OutputDir, previousManifest, upToDate } from '../build/outputs.js';
import { cacheRoot } from '../build/paths.js';
import { loadRuntime } from '../build/runtime.js';
import { bpftoolVersion, makeMinBtf, MIN_BTF_FILE } from '../build/minBtf.js';
import { makeSharedObject, OBJECT_FILE } from '../build/sharedObject.js';
import { objectName } from '../build/shim.js';
import { splitShellWords } from '../build/shellWords.js';
import { checkByteOrder, targetArch } from '../build/target.js';
import { findBpftool, findCc, findClang, findStrip } from '../build/toolchain.js';
import { DEFAULT_BTF, readKernelBtf, vmlinuxHeader } from '../build/vmlinux.js';
import { fileSha256, fsReason, readInputFile, sha256Hex } from '../files.js';
import { VERSION } from '../version.js';
import { wrapperFingerprint } from '../wrappers/fingerprint.js';
import { writeWrappers } from '../wrappers/write.js';

export interface BuildOptions {
  /** as given, relative to the cwd: clang's diagnostics name it this way */
  readonly source: string;
  readonly out: string;
  readonly btf: string;
  readonly includeDirs: readonly string[];
  readonly cflags: readonly string[];
  readonly langSpec: string | undefined;
  readonly languages: readonly Language[];
  /** embed the minimal BTF of `btf` the object needs, for kernels without /sys/kernel/btf/vmlinux */
  readonly minBtf: boolean;
  /** `--remote URL [--kernel RELEASE] [--token T]`: build on a server, see remoteBuild */
  readonly remote?: { readonly url: string; readonly token: string | undefined; readonly kernel: string | undefined };
}

/** `build PROG.bpf.c --out DIR …` → options. Pure. */
export function parseBuildArgs(argv: readonly string[]): BuildOptions {
  const a = parseArgs(
    argv,
    { out: { value: true }, btf: { value: true }, I: { value: true, repeat: true, short: true }, cflags: { value: true }, lang: { value: true }, 'min-btf': {}, remote: { value: true }, kernel: { value: true }, token: { value: true } },
    'build',
  );
  if (a.positional.length !== 1) throw new UsageError(`build: expected one PROG.bpf.c, got ${a.positional.length}`);
  const out = a.values.get('out')?.[0];
  if (!out) throw new UsageError('build: --out DIR is required');
  const langSpec = a.values.get('lang')?.[0];
  const languages = parseLanguages(langSpec);
  const cflags = a.values.get('cflags')?.[0];
  const url = a.values.get('remote')?.[0];
  const kernel = a.values.get('kernel')?.[0];
  const token = a.values.get('token')?.[0];
  if (!url && (kernel !== undefined || token !== undefined)) throw new UsageError(`build: --${kernel !== undefined ? 'kernel' : 'token'} needs --remote URL`);
  if (url && a.values.has('btf')) throw new UsageError('build: --btf is for local builds; with --remote name the kernel with --kernel RELEASE (upload its BTF with `coolbpf-gen btf add FILE --remote URL`)');
  return {
    ...(url ? { remote: { url, token, kernel } } : {}),
    source: a.positional[0]!,
    out,
    btf: a.values.get('btf')?.[0] ?? DEFAULT_BTF,
    includeDirs: a.values.get('I') ?? [],
    cflags: cflags === undefined ? [] : splitShellWords(cflags, '--cflags'),
    langSpec,
    languages,
    minBtf: a.flags.has('min-btf'),
  };
}

// Stand-ins for the scratch directory in the argv that goes into the cache
// key: it is new on every run, and mapped out of the object anyway.
const SCRATCH = '<scratch>';

/**
 * `coolbpf-gen build`: PROG.bpf.c → DIR/bpf.o, DIR/bpf.so, DIR/include/coolbpf.h,
 * or nothing at all when something fails.
 */
export function build(o: BuildOptions, ctx: BuildContext): void {
  if (!o.source.endsWith('.c')) throw new BuildError('not a C source file (expected PROG.bpf.c)', [o.source]);
  // relative to ctx.cwd, which is not always the process's (the build server's compiles)
  const sourceBytes = readInputFile(resolve(ctx.cwd, o.source), o.source);
  const runtime = loadRuntime();
  const clang = findClang(ctx);
  const cc = findCc(ctx);
  const strip = findStrip(ctx);
  const btf = readKernelBtf(o.btf);
  const outDir = resolve(ctx.cwd, o.out);
  const bpftool = o.minBtf ? findBpftool(ctx) : null;
  const bpftoolVersionLine = bpftool ? bpftoolVersion(bpftool, ctx.cwd) : null;

  const argvFor = (scratch: string, vmlinuxDir: string): string[] => {
    const inputs: ClangInputs = {
      source: o.source,
      output: join(scratch, OBJECT_FILE),
      depfile: join(scratch, 'bpf.d'),
      vmlinuxDir,
      includeDirs: o.includeDirs,
      libbpfIncludeDir: runtime.libbpfIncludeDir,
      coolbpfIncludeDir: runtime.bpfIncludeDir,
      systemDirs: clang.systemDirs,
      targetArch: targetArch(ctx.arch),
      prefixMaps: [
        // debug info records where files were: keep the machine's paths out of it
        ...(ctx.cwd === '/' ? [] : [[ctx.cwd, '.'] as const]),
        ...(runtime.bundledHeaders ? [[runtime.libbpfIncludeDir, 'libbpf'] as const] : []),
        [runtime.bpfIncludeDir, 'coolbpf'] as const,
        [scratch, 'coolbpf-gen'],
      ],
      cflags: o.cflags,
    };
    return clangArgv(inputs);
  };
  const wrappers = wrapperFingerprint(o.languages);
  const keyFor = (dependencies: readonly string[]): string =>
    buildKey({
      version: VERSION,
      cwd: ctx.cwd,
      source: o.source,
      sourceSha256: sha256Hex(sourceBytes),
      btfSha256: btf.sha256,
      arch: ctx.arch,
      clangVersion: clang.version,
      clangArgv: argvFor(SCRATCH, join(SCRATCH, 'vmlinux')),
      ccVersion: cc.version,
      runtimeFingerprint: runtime.fingerprint,
      wrappers,
      dependencies: dependencies.map((d) => [d, fileSha256(d)] as const),
      minBtf: bpftoolVersionLine,
    });

  const previous = previousManifest(outDir);
  if (previous && upToDate(outDir, previous, keyFor(previous.dependencies))) {
    ctx.progress(`${o.out} is up to date`);
    return;
  }

  const out = OutputDir.open(outDir, o.out);
  try {
    const steps = 3 + (o.minBtf ? 1 : 0) + (o.languages.length ? 1 : 0);
    let step = 0;
    const progress = (what: string) => ctx.progress(`[${++step}/${steps}] ${what}`);
    const header = vmlinuxHeader(btf, cacheRoot(ctx.env, ctx.home), out.scratch, () => bpftool ?? findBpftool(ctx));
    progress(`vmlinux.h from ${btf.label}${header.cached ? ' (cached)' : ''}`);
    const vmlinuxDir = join(out.scratch, 'vmlinux');
    linkHeader(header.path, vmlinuxDir);

    progress(`${basename(clang.tool.path)} ${o.source} -> ${join(o.out, OBJECT_FILE)}`);
    const access = { cwd: ctx.cwd, writeDir: out.scratch, readDirs: [dirname(header.path), runtime.libbpfIncludeDir, runtime.bpfIncludeDir, ...clang.systemDirs] };
    const r = (ctx.runClang ?? runTool)(clang.tool, argvFor(out.scratch, vmlinuxDir), { cwd: ctx.cwd }, access);
    if (r.status !== 0) throw new ToolOutputError('compilation failed', [o.source], r.stderr);
    if (r.stderr) ctx.passthrough(r.stderr);
    const stripped = runTool(strip, ['--strip-debug', join(out.scratch, OBJECT_FILE)], { cwd: ctx.cwd });
    if (stripped.status !== 0) throw new ToolOutputError('stripping debug info failed', [o.source], stripped.stderr);
    const dependencies = dependenciesOf(readFileSync(join(out.scratch, 'bpf.d'), 'utf8'), ctx.cwd, o.source, out.scratch);

    const objectBytes = readFileSync(join(out.scratch, OBJECT_FILE));
    const model = within(o.source, () => describeObject(readObject(objectBytes), sha256Hex(objectBytes)));
    checkByteOrder(model.object.byteOrder, ctx.hostEndianness, ctx.arch, o.source);

    if (bpftool) {
      progress(`minimal BTF from ${btf.label}`);
      makeMinBtf(bpftool, btf, out.scratch, OBJECT_FILE);
    }
    progress('bpf.so');
    const name = objectName(o.source);
    const minBtfFile = o.minBtf ? MIN_BTF_FILE : null;
    const made = makeSharedObject(out.scratch, { version: VERSION, from: basename(o.source), name, model, runtime, cc, minBtfFile });
    if (o.languages.length) progress(`wrappers: ${o.languages.join(', ')}`);
    const packages = writeWrappers(out.scratch, o.languages, { model, objectName: name, objectFile: basename(o.source), version: VERSION });
    const files = [OBJECT_FILE, ...(minBtfFile ? [minBtfFile] : []), ...made, ...packages.flatMap((p) => p.files)];
    out.commit(files, {
      generator: 'coolbpf-gen', version: VERSION, command: 'build', key: keyFor(dependencies), dependencies,
      ...(o.minBtf ? { minBtf: { from: btf.label, sha256: btf.sha256 } } : {}),
    }, packages.map((p) => p.dir));
    ctx.progress(`wrote ${[OBJECT_FILE, ...(minBtfFile ? [minBtfFile] : []), ...made, ...packages.map((p) => `${p.dir}/`)].map((f) => join(o.out, f)).join(', ')}`);
  } finally {
    out.close();
  }
}

function linkHeader(cached: string, dir: string): void {
  try {
    mkdirSync(dir);
    // a link, not a copy: vmlinux.h is megabytes, and clang reads through it
    symlinkSync(cached, join(dir, 'vmlinux.h'));
  } catch (e) {
    throw new BuildError(`cannot link vmlinux.h into the scratch directory: ${fsReason(e)}`, [dir]);
  }
}
