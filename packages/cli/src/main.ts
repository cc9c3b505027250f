#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { CoolbpfError, looksSplit, readBtfFile, type Btf } from '@coolbpf/reader';
import { parseArgs, parseEvents, UsageError } from './args.js';
import { inspect } from './commands/inspect.js';

const USAGE = `usage: coolbpf-gen <command> [options]

commands:
  inspect FILE [--json] [--event MAP=TYPE]... [--base FILE]
      describe a BPF object (.bpf.o) or a raw BTF file (vmlinux, module, .btf.gz)
      --json          the whole object model (or, for BTF, every type) as JSON
      --event M=T     event type of ring buffer / perf event array map M
      --base FILE     base BTF of a split (module) BTF file; default /sys/kernel/btf/vmlinux
`;

/** Reads a file, turning fs errors into one line. */
function readFile(path: string): Uint8Array {
  try {
    return readFileSync(path);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const why = err.code === 'ENOENT' ? 'no such file' : err.code === 'EISDIR' ? 'is a directory' : err.code === 'EACCES' ? 'permission denied' : err.message;
    throw new CoolbpfError(why, [path]);
  }
}

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

function main(argv: string[]): number {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case 'inspect':
        write(runInspect(rest));
        return 0;
      case undefined: case '-h': case '--help': case 'help':
        write(USAGE);
        return command === undefined ? 1 : 0;
      default:
        throw new UsageError(`unknown command '${command}' (try: coolbpf-gen --help)`);
    }
  } catch (e) {
    if (e instanceof CoolbpfError) {
      process.stderr.write(`coolbpf-gen: ${e.message}\n`);
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
process.exitCode = main(process.argv.slice(2));
