import { execFileSync } from 'node:child_process';
import { chownSync, existsSync, lstatSync, readlinkSync, realpathSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sandboxArgv } from '@coolbpf/server';
import type { ClangAccess } from '../build/context.js';
import { BuildError } from '../build/errors.js';
import { runTool, type RunOptions, type Tool, type ToolResult } from '../build/exec.js';

/** Limits of one sandboxed clang run. */
export interface SandboxLimits {
  readonly memoryBytes: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
}

/** clang was killed for running out of time or CPU: not the source's fault as a diagnostic would be. */
export class SandboxLimitError extends BuildError {
  override readonly name: string = 'SandboxLimitError';
}

/** The unprivileged identity compiles run as: nobody/nogroup. */
export const SANDBOX_UID = 65534;
export const SANDBOX_GID = 65534;

/** What the sandbox needs from the host, found once. */
export interface SandboxHost {
  readonly tools: { bwrap: string; setpriv: string; prlimit: string; timeout: string };
  /** the real clang binary, its LLVM tree and the directories of the libraries it loads */
  readonly clang: string;
  readonly toolchainDirs: readonly string[];
  readonly symlinks: readonly (readonly [string, string])[];
}

function which(name: string, env: Readonly<Record<string, string | undefined>>): string {
  for (const d of [...(env.PATH ?? '').split(':').filter(Boolean), '/usr/bin', '/bin', '/usr/sbin', '/sbin']) {
    const p = join(d, name);
    if (existsSync(p)) return realpathSync(p);
  }
  throw new BuildError(`not found on PATH (the build server sandboxes clang with it; scripts/setup.sh installs it)`, [name]);
}

/**
 * The host side of the sandbox: the tools, clang's real path, and the
 * directories its dynamic libraries come from (from ldd), so that exactly
 * those are bound into the sandbox.
 */
export function sandboxHost(clang: Tool, env: Readonly<Record<string, string | undefined>>): SandboxHost {
  if (process.getuid?.() !== 0) throw new BuildError('the build server must run as root: it runs each compile as nobody in its own namespaces', ['serve']);
  const tools = { bwrap: which('bwrap', env), setpriv: which('setpriv', env), prlimit: which('prlimit', env), timeout: which('timeout', env) };
  const real = realpathSync(clang.path);
  const dirs = new Set<string>([dirname(dirname(real))]);
  const ldd = execFileSync(which('ldd', env), [real], { encoding: 'utf8' });
  for (const m of ldd.matchAll(/(\/\S+)\s+\(0x/g)) {
    // the directory as the loader names it (through /lib64 → usr/lib64) and the file's real one
    dirs.add(realpathSync(dirname(m[1]!)));
    dirs.add(dirname(realpathSync(m[1]!)));
  }
  const symlinks: [string, string][] = [];
  for (const top of ['/lib', '/lib64']) {
    if (existsSync(top) && lstatSync(top).isSymbolicLink()) symlinks.push([readlinkSync(top), top]);
  }
  return { tools, clang: real, toolchainDirs: [...dirs].sort(), symlinks };
}

/**
 * A BuildContext.runClang that runs clang as nobody, without network, in a
 * mount namespace holding only the toolchain, the submission (read-only),
 * the include directories (read-only) and the scratch directory it writes
 * to, with memory, CPU and wall-clock limits.
 */
export function sandboxedClang(host: SandboxHost, limits: SandboxLimits): (clang: Tool, argv: readonly string[], options: RunOptions, access: ClangAccess) => ToolResult {
  return (_clang, argv, options, access) => {
    // the scratch directory is fresh and ours: hand it to the compile's uid
    chownSync(access.writeDir, SANDBOX_UID, SANDBOX_GID);
    const readOnly = [...host.toolchainDirs, access.cwd, ...access.readDirs.filter((d) => existsSync(d)).map((d) => realpathSync(d))];
    const [path, ...args] = sandboxArgv({
      command: [host.clang, ...argv],
      cwd: access.cwd,
      readOnly,
      writable: [access.writeDir],
      symlinks: host.symlinks,
      uid: SANDBOX_UID,
      gid: SANDBOX_GID,
      memoryBytes: limits.memoryBytes,
      cpuSeconds: limits.cpuSeconds,
      wallSeconds: limits.wallSeconds,
      maxFileBytes: 256 << 20,
      tools: host.tools,
    });
    const r = runTool({ name: 'clang', path: path!, args: [] }, args, options);
    // timeout(1) exits 137 after SIGKILL; SIGXCPU (RLIMIT_CPU) shows as 128+24
    if (r.status === 137 || r.status === 152 || r.signal === 'SIGKILL' || r.signal === 'SIGXCPU') {
      throw new SandboxLimitError(`compile stopped: over its limit of ${limits.wallSeconds} s wall-clock or ${limits.cpuSeconds} s CPU`, ['clang']);
    }
    return r;
  };
}
