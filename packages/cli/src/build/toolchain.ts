import type { BuildContext } from './context.js';
import { hostSearchDirs } from './clang.js';
import { BuildError } from './errors.js';
import { failureReason, findTool, runTool, type Tool } from './exec.js';

const SETUP_HINT = 'install it (scripts/setup.sh does)';

export interface Clang {
  readonly tool: Tool;
  /** first line of `clang --version`: outputs change with it, so it is part of the cache key */
  readonly version: string;
  /** the host's `#include <...>` search list, see clangArgv */
  readonly systemDirs: readonly string[];
}

// `clang -v -E` costs ~50 ms; a process that builds many times (the build
// server's workers) asks once per environment
const clangs = new Map<string, Clang>();

export function findClang(ctx: BuildContext): Clang {
  const memo = JSON.stringify([ctx.env.CLANG ?? '', ctx.env.PATH ?? '']);
  const known = clangs.get(memo);
  if (known) return known;
  const found = probeClang(ctx);
  clangs.set(memo, found);
  return found;
}

function probeClang(ctx: BuildContext): Clang {
  // clang-16 first: it is what the fixtures and setup.sh use; a bare `clang` may be older
  const tool = findTool(ctx.env, { name: 'clang', envVar: 'CLANG', candidates: ['clang-16', 'clang'], hint: SETUP_HINT });
  const version = firstLine(tool, ['--version'], ctx.cwd);
  const r = runTool(tool, ['-v', '-E', '-x', 'c', '/dev/null', '-o', '/dev/null'], { cwd: ctx.cwd });
  if (r.status !== 0) throw new BuildError(`\`-v -E\` failed (${failureReason(r)})`, [tool.name]);
  return { tool, version, systemDirs: hostSearchDirs(r.stderr) };
}

export function findBpftool(ctx: BuildContext): Tool {
  return findTool(ctx.env, { name: 'bpftool', envVar: 'BPFTOOL', candidates: ['bpftool'], extraDirs: ['/usr/sbin', '/sbin'], hint: SETUP_HINT });
}

/** llvm-strip, which drops DWARF from bpf.o: libbpf reads only BTF, and the
 * DWARF of vmlinux types a program touches can be most of the object. */
export function findStrip(ctx: BuildContext): Tool {
  return findTool(ctx.env, { name: 'llvm-strip', envVar: 'LLVM_STRIP', candidates: ['llvm-strip-16', 'llvm-strip'], hint: SETUP_HINT });
}

export interface Cc {
  readonly tool: Tool;
  readonly version: string;
}

/** The host C compiler, which compiles the shim and links bpf.so. */
export function findCc(ctx: BuildContext): Cc {
  const tool = findTool(ctx.env, { name: 'cc', envVar: 'CC', candidates: ['cc', 'gcc', 'clang'], hint: SETUP_HINT });
  return { tool, version: firstLine(tool, ['--version'], ctx.cwd) };
}

function firstLine(tool: Tool, args: string[], cwd: string): string {
  const r = runTool(tool, args, { cwd });
  if (r.status !== 0) throw new BuildError(`\`${args.join(' ')}\` failed (${failureReason(r)})`, [tool.name]);
  return r.stdout.split('\n')[0]!.trim();
}
