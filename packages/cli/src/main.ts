#!/usr/bin/env node
import { homedir, endianness } from 'node:os';
import { CoolbpfError, looksSplit, readBtfFile, ReadError, type Btf } from '@coolbpf/reader';
import { parseArgs, parseEvents, UsageError } from './args.js';
import type { BuildContext } from './build/context.js';
import { ToolOutputError } from './build/errors.js';
import { build, parseBuildArgs } from './commands/build.js';
import { check, parseCheckArgs } from './commands/check.js';
import { btfCommand } from './commands/btf.js';
import { parseServeArgs, serve } from './commands/serve.js';
import { definesFromCflags, remoteBuild } from './remote/client.js';
import { gen, parseGenArgs } from './commands/gen.js';
import { inspect } from './commands/inspect.js';
import { readInputFile as readFile } from './files.js';

const USAGE = `usage: coolbpf-gen <command> [options]

commands:
  inspect FILE [--json] [--event MAP=TYPE]... [--base FILE]
      describe a BPF object (.bpf.o) or a raw BTF file (vmlinux, module, .btf.gz)
      --json          the whole object model (or, for BTF, every type) as JSON
      --event M=T     event type of ring buffer / perf event array map M
      --base FILE     base BTF of a split (module) BTF file; default /sys/kernel/btf/vmlinux

  build PROG.bpf.c --out DIR [--btf FILE] [-I DIR]... [--cflags "..."] [--lang LIST] [--min-btf]
        [--remote URL [--kernel REL] [--token T]]
      compile a BPF C program with CO-RE into DIR/bpf.o, and link DIR/bpf.so
      (the object embedded in the C runtime) with DIR/include/coolbpf.h
      --out DIR       output directory, created if missing; nothing is written on failure
      --btf FILE      kernel BTF to make vmlinux.h from (raw or .btf.gz);
                      default /sys/kernel/btf/vmlinux
      -I DIR          add an include directory (repeatable)
      --cflags "..."  more clang flags, split into words like a shell does
      --lang LIST     wrappers to generate: node,python,go,rust or none (default none)
      --min-btf       also write DIR/min.btf, the part of the --btf kernel BTF the
                      object's CO-RE relocations need (bpftool gen min_core_btf),
                      and embed it in bpf.so: used where /sys/kernel/btf/vmlinux
                      is absent
      --remote URL    build on a coolbpf-gen server instead (same DIR; no clang needed here)
      --kernel REL    with --remote: the target kernel's release (default: uname -r)
      --token T       with --remote: bearer token (default $COOLBPF_TOKEN); --cflags
                      may then hold only -DNAME[=VALUE]

  gen PROG.bpf.o --out DIR [--lang LIST] [--min-btf [--btf FILE]]
      the same outputs from an object compiled elsewhere; --min-btf cuts the
      minimal BTF from --btf FILE (default /sys/kernel/btf/vmlinux)

  check PROG.bpf.o [--btf FILE]... [--json]
      whether every CO-RE relocation of every program resolves on each kernel
      BTF (raw or .btf.gz; default /sys/kernel/btf/vmlinux), as libbpf would
      resolve it: a programs x kernels table and one line per failure; exit
      status 1 when something does not resolve
      --json          every relocation with its resolved value on each kernel

  serve [--port 7655] [--host 127.0.0.1] [--store DIR] [--btf FILE[=RELEASE]]... [--token T]
        [--jobs N] [--queue N] [--timeout S] [--memory MB] [--cache-mb MB]
      the build server (as root: each compile runs as nobody in a sandbox); the BTF store
      starts with this kernel's and the --btf files; default store $COOLBPF_CACHE/server,
      jobs = cores, queue = 16 x jobs, timeout 120 s and memory 4096 MB per compile,
      4096 MB of cached archives

  btf add FILE [--release REL] [--arch A] [--store DIR | --remote URL]
      store a kernel's BTF: raw, .btf.gz, or a vmlinux (its .BTF, or pahole -J of its DWARF)
  btf list [--store DIR | --remote URL]
  btf fetch REL --remote URL [--arch A] [--out FILE]
      download a kernel's BTF from a server (default FILE: REL.btf)

local builds and gen do nothing when DIR is up to date (same inputs, outputs intact).
environment: CLANG, BPFTOOL, CC override the tools; vmlinux.h is cached in
$COOLBPF_CACHE (default $XDG_CACHE_HOME/coolbpf, else ~/.cache/coolbpf).
`;

function withFile<T>(path: string, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (e instanceof CoolbpfError && e.where[0] !== path) throw e.within(path);
    throw e;
  }
}

function runInspect(argv: string[]): string | Uint8Array {
  const a = parseArgs(argv, { json: {}, event: { value: true, repeat: true }, base: { value: true } }, 'inspect');
  if (a.positional.length !== 1) throw new UsageError(`inspect: expected one FILE, got ${a.positional.length}`);
  const file = a.positional[0]!;
  const bytes = readFile(file);
  let base: Btf | undefined;
  const basePath = a.values.get('base')?.[0] ?? (withFile(file, () => looksSplit(bytes)) ? '/sys/kernel/btf/vmlinux' : undefined);
  if (basePath) base = withFile(basePath, () => readBtfFile(readFile(basePath)));
  return withFile(file, () => inspect(bytes, file, { json: a.flags.has('json'), events: parseEvents(a.values.get('event') ?? []), base }));
}

function runCheck(argv: string[]): number {
  const o = parseCheckArgs(argv);
  const bytes = readFile(o.object);
  const kernels = o.btfs.map((path) => withFile(path, () => {
    const raw = readFile(path);
    if (looksSplit(raw)) throw new ReadError("split BTF (a kernel module's); check needs a kernel's own BTF");
    return { label: path, btf: readBtfFile(raw) };
  }));
  const r = withFile(o.object, () => check(bytes, o.object, kernels, o.json));
  write(r.text);
  // with --json stdout stays JSON; the verdict still gets its line
  if (o.json && !r.ok) process.stderr.write('coolbpf-gen: check: some CO-RE relocations do not resolve (see "ok" in the JSON)\n');
  return r.ok ? 0 : 1;
}

/** Everything build and gen take from this process; progress and tool output go to stderr, stdout stays empty. */
function buildContext(): BuildContext {
  return {
    cwd: process.cwd(),
    env: process.env,
    home: homedir(),
    arch: process.arch,
    hostEndianness: endianness(),
    progress: (line) => process.stderr.write(`coolbpf-gen: ${line}\n`),
    passthrough: (text) => process.stderr.write(text),
  };
}

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  // build, gen, serve and btf report failures as `coolbpf-gen: error: …`, among their progress lines
  const errorPrefix = ['build', 'gen', 'serve', 'btf'].includes(command ?? '') ? 'error: ' : '';
  try {
    switch (command) {
      case 'inspect':
        write(runInspect(rest));
        return 0;
      case 'build': {
        const o = parseBuildArgs(rest);
        const ctx = buildContext();
        if (o.remote) {
          await remoteBuild({ ...o, remote: { url: o.remote.url, token: o.remote.token ?? (ctx.env.COOLBPF_TOKEN || undefined) }, kernel: o.remote.kernel, defines: definesFromCflags(o.cflags) }, ctx);
        } else build(o, ctx);
        return 0;
      }
      case 'gen':
        gen(parseGenArgs(rest), buildContext());
        return 0;
      case 'check':
        return runCheck(rest);
      case 'serve': {
        const ctx = buildContext();
        const bs = await serve(parseServeArgs(rest, ctx), ctx);
        // a log reader that went away (a closed pipe) is no reason to stop, nor to report
        // the failed write, which would fail again, forever
        process.stderr.on('error', () => {});
        // a bug in one request's handling is logged, not fatal: the server keeps serving
        process.on('uncaughtException', (e) => ctx.progress(`internal error: ${e?.stack ?? String(e)}`));
        await new Promise<void>((resolve) => {
          const stop = (sig: string): void => {
            ctx.progress(`${sig}: stopping`);
            void bs.close(5000).then(resolve);
          };
          process.once('SIGINT', () => stop('SIGINT'));
          process.once('SIGTERM', () => stop('SIGTERM'));
        });
        return 0;
      }
      case 'btf':
        write(await btfCommand(rest, buildContext()));
        return 0;
      case undefined: case '-h': case '--help': case 'help':
        write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (try: coolbpf-gen --help)`);
    }
  } catch (e) {
    if (e instanceof CoolbpfError) {
      if (e instanceof ToolOutputError && e.output) process.stderr.write(e.output.endsWith('\n') ? e.output : `${e.output}\n`);
      process.stderr.write(`coolbpf-gen: ${errorPrefix}${e.message}\n`);
      return 1;
    }
    // A bug in coolbpf, not bad input: still one line unless asked for more.
    const err = e as Error;
    process.stderr.write(`coolbpf-gen: internal error: ${err?.message ?? String(e)}${process.env.COOLBPF_DEBUG ? `\n${err?.stack}` : ' (COOLBPF_DEBUG=1 shows where)'}\n`);
    return 1;
  }
}

function write(s: string | Uint8Array): void {
  process.stdout.write(s);
}

// A reader that goes away (`| head`) is not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
  throw e;
});
process.exitCode = await main(process.argv.slice(2));
