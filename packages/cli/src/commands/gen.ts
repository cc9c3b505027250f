import { writeFileSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { describeObject } from '@coolbpf/model';
import { readInput, ReadError, within } from '@coolbpf/reader';
import { parseArgs, UsageError } from '../args.js';
import type { BuildContext } from '../build/context.js';
import { genKey } from '../build/keys.js';
import { parseLanguages, type Language } from '../build/languages.js';
import { OutputDir, previousManifest, upToDate } from '../build/outputs.js';
import { loadRuntime } from '../build/runtime.js';
import { bpftoolVersion, makeMinBtf, MIN_BTF_FILE } from '../build/minBtf.js';
import { makeSharedObject, OBJECT_FILE } from '../build/sharedObject.js';
import { objectName } from '../build/shim.js';
import { checkByteOrder } from '../build/target.js';
import { findBpftool, findCc } from '../build/toolchain.js';
import { DEFAULT_BTF, readKernelBtf } from '../build/vmlinux.js';
import { readInputFile, sha256Hex } from '../files.js';
import { VERSION } from '../version.js';
import { wrapperFingerprint } from '../wrappers/fingerprint.js';
import { writeWrappers } from '../wrappers/write.js';

export interface GenOptions {
  readonly object: string;
  readonly out: string;
  readonly langSpec: string | undefined;
  readonly languages: readonly Language[];
  /** --min-btf: the kernel BTF to cut the embedded minimal BTF from; null without */
  readonly minBtf: string | null;
}

/** `gen PROG.bpf.o --out DIR …` → options. Pure. */
export function parseGenArgs(argv: readonly string[]): GenOptions {
  const a = parseArgs(argv, { out: { value: true }, lang: { value: true }, 'min-btf': {}, btf: { value: true } }, 'gen');
  if (a.positional.length !== 1) throw new UsageError(`gen: expected one PROG.bpf.o, got ${a.positional.length}`);
  const out = a.values.get('out')?.[0];
  if (!out) throw new UsageError('gen: --out DIR is required');
  const langSpec = a.values.get('lang')?.[0];
  const languages = parseLanguages(langSpec);
  const btf = a.values.get('btf')?.[0];
  if (btf !== undefined && !a.flags.has('min-btf')) throw new UsageError('gen: --btf FILE is only used with --min-btf');
  return { object: a.positional[0]!, out, langSpec, languages, minBtf: a.flags.has('min-btf') ? btf ?? DEFAULT_BTF : null };
}

/**
 * `coolbpf-gen gen`: a BPF object compiled elsewhere → DIR/bpf.o (a copy),
 * DIR/bpf.so, DIR/include/coolbpf.h. The object is read and modelled
 * before anything is written, so bad input leaves DIR alone.
 */
export function gen(o: GenOptions, ctx: BuildContext): void {
  const bytes = readInputFile(o.object);
  const model = within(o.object, () => {
    const input = readInput(bytes);
    if (input.kind !== 'object') throw new ReadError('raw BTF, not a BPF object (gen takes a .bpf.o compiled by clang -target bpf)');
    return describeObject(input.object, sha256Hex(bytes));
  });
  checkByteOrder(model.object.byteOrder, ctx.hostEndianness, ctx.arch, o.object);
  const runtime = loadRuntime();
  const cc = findCc(ctx);
  const name = objectName(o.object);
  const outDir = resolve(ctx.cwd, o.out);
  const wrappers = wrapperFingerprint(o.languages);
  const btf = o.minBtf === null ? null : readKernelBtf(o.minBtf);
  const bpftool = btf ? findBpftool(ctx) : null;
  const bpftoolVersionLine = bpftool ? bpftoolVersion(bpftool, ctx.cwd) : null;
  const key = genKey({
    version: VERSION,
    objectSha256: model.object.sha256,
    objectName: name,
    from: basename(o.object),
    arch: ctx.arch,
    ccVersion: cc.version,
    runtimeFingerprint: runtime.fingerprint,
    wrappers,
    minBtf: btf && bpftoolVersionLine ? { btfSha256: btf.sha256, bpftool: bpftoolVersionLine } : null,
  });
  if (upToDate(outDir, previousManifest(outDir), key)) {
    ctx.progress(`${o.out} is up to date`);
    return;
  }

  const out = OutputDir.open(outDir, o.out);
  try {
    const steps = 1 + (btf ? 1 : 0) + (o.languages.length ? 1 : 0);
    let step = 0;
    const progress = (what: string) => ctx.progress(`[${++step}/${steps}] ${what}`);
    writeFileSync(join(out.scratch, OBJECT_FILE), bytes);
    if (btf && bpftool) {
      progress(`minimal BTF from ${btf.label}`);
      makeMinBtf(bpftool, btf, out.scratch, OBJECT_FILE);
    }
    progress(`bpf.so from ${o.object}`);
    const minBtfFile = btf ? MIN_BTF_FILE : null;
    const made = makeSharedObject(out.scratch, { version: VERSION, from: basename(o.object), name, model, runtime, cc, minBtfFile });
    if (o.languages.length) progress(`wrappers: ${o.languages.join(', ')}`);
    const packages = writeWrappers(out.scratch, o.languages, { model, objectName: name, objectFile: basename(o.object), version: VERSION });
    const files = [OBJECT_FILE, ...(minBtfFile ? [minBtfFile] : []), ...made, ...packages.flatMap((p) => p.files)];
    out.commit(files, {
      generator: 'coolbpf-gen', version: VERSION, command: 'gen', key, dependencies: [],
      ...(btf ? { minBtf: { from: btf.label, sha256: btf.sha256 } } : {}),
    }, packages.map((p) => p.dir));
    ctx.progress(`wrote ${[OBJECT_FILE, ...(minBtfFile ? [minBtfFile] : []), ...made, ...packages.map((p) => `${p.dir}/`)].map((f) => join(o.out, f)).join(', ')}`);
  } finally {
    out.close();
  }
}
