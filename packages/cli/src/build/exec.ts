import { spawnSync } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import { delimiter, join } from 'node:path';
import { splitShellWords } from './shellWords.js';
import { BuildError } from './errors.js';

/** An external program: `name` for messages ("clang"), `path` and leading `args` to run it. */
export interface Tool {
  readonly name: string;
  readonly path: string;
  readonly args: readonly string[];
}

export interface ToolResult {
  readonly stdout: string;
  readonly stderr: string;
  /** null when a signal ended it */
  readonly status: number | null;
  readonly signal: string | null;
}

export interface RunOptions {
  readonly cwd: string;
  /** send stdout to this fd (large outputs, e.g. vmlinux.h) instead of capturing it */
  readonly stdoutFd?: number;
}

/** Runs a tool to completion. Only failing to start it throws; a non-zero exit is the caller's to judge. */
export function runTool(tool: Tool, args: readonly string[], options: RunOptions): ToolResult {
  const r = spawnSync(tool.path, [...tool.args, ...args], {
    cwd: options.cwd,
    stdio: ['ignore', options.stdoutFd ?? 'pipe', 'pipe'],
    encoding: 'utf8',
    maxBuffer: 1 << 30,
  });
  if (r.error) {
    const code = (r.error as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'not found' : code === 'EACCES' ? 'permission denied' : r.error.message;
    throw new BuildError(`cannot run ${tool.path}: ${why}`, [tool.name]);
  }
  return { stdout: r.stdout ?? '', stderr: r.stderr ?? '', status: r.status, signal: r.signal };
}

/** "exit status 2" / "killed by SIGSEGV", and the tool's last line of output if any. */
export function failureReason(r: ToolResult): string {
  const how = r.status === null ? `killed by ${r.signal}` : `exit status ${r.status}`;
  const last = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean).pop();
  return last ? `${how}: ${last}` : how;
}

export interface FindOptions {
  /** for messages: "clang" */
  readonly name: string;
  /** environment variable that overrides the search, like make's CC=…; may hold arguments ("ccache cc") */
  readonly envVar: string;
  /** names tried in order of preference, each over the whole PATH before the next */
  readonly candidates: readonly string[];
  /** searched after PATH (bpftool lives in /usr/sbin, not on a normal user's PATH) */
  readonly extraDirs?: readonly string[];
  /** how to get it, for the error message */
  readonly hint: string;
}

export function findTool(env: Readonly<Record<string, string | undefined>>, o: FindOptions): Tool {
  const override = env[o.envVar];
  if (override) {
    const [path, ...args] = splitShellWords(override, o.envVar);
    if (path) return { name: o.name, path, args };
  }
  const dirs = [...(env.PATH ?? '').split(delimiter).filter(Boolean), ...(o.extraDirs ?? [])];
  for (const c of o.candidates) {
    for (const d of dirs) {
      const p = join(d, c);
      if (isExecutable(p)) return { name: o.name, path: p, args: [] };
    }
  }
  throw new BuildError(`not found (looked for ${o.candidates.join(', ')} on PATH; ${o.hint}, or set ${o.envVar})`, [o.name]);
}

function isExecutable(p: string): boolean {
  try {
    accessSync(p, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}
