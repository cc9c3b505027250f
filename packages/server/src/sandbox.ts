import { dirname } from 'node:path';

/** What a sandboxed command may see and use. Paths are absolute. */
export interface SandboxSpec {
  /** argv[0] absolute, as it will be found inside the sandbox */
  readonly command: readonly string[];
  readonly cwd: string;
  /** bound read-only at the same path: the toolchain, the include directories, the submission */
  readonly readOnly: readonly string[];
  /** bound read-write: the output directory */
  readonly writable: readonly string[];
  /** [target, linkPath]: `/lib` → `usr/lib` on merged-/usr systems */
  readonly symlinks: readonly (readonly [string, string])[];
  readonly uid: number;
  readonly gid: number;
  readonly memoryBytes: number;
  readonly cpuSeconds: number;
  readonly wallSeconds: number;
  readonly maxFileBytes: number;
  /** absolute paths of bwrap, setpriv (also bound into the sandbox), prlimit and timeout */
  readonly tools: { readonly bwrap: string; readonly setpriv: string; readonly prlimit: string; readonly timeout: string };
}

function ancestors(p: string): string[] {
  const out: string[] = [];
  for (let d = dirname(p); d !== '/' && d !== '.'; d = dirname(d)) out.push(d);
  return out;
}

const depth = (p: string): number => p.split('/').length;
const inside = (p: string, dir: string): boolean => p === dir || p.startsWith(`${dir}/`);

/**
 * The argv that runs `command` with a wall-clock limit (SIGKILL), resource
 * limits (address space, CPU seconds, file size), in new network, PID, IPC
 * and UTS namespaces and a mount namespace holding only the listed paths
 * (no /proc, no /etc, no home directories; a minimal /dev), as an
 * unprivileged uid/gid with no capabilities and no_new_privs, its
 * environment cleared. bwrap runs as root so it can bind paths an
 * unprivileged user could not reach; the command itself never is root.
 * Pure: the caller checks the tools exist.
 */
export function sandboxArgv(s: SandboxSpec): string[] {
  for (const p of [...s.readOnly, ...s.writable, s.cwd, ...s.symlinks.map((l) => l[1])]) {
    if (!p.startsWith('/') || p.split('/').includes('..')) throw new Error(`sandboxArgv: not a clean absolute path: ${p}`);
  }
  const ro = [...new Set([...s.readOnly, s.tools.setpriv])];
  const rw = [...new Set(s.writable)];
  // a path inside another one bound the same way is already there; a
  // writable one inside a read-only one is bound over it, after it
  const all = [...ro, ...rw];
  const top = (list: string[]): string[] => list.filter((p) => !list.some((q) => q !== p && inside(p, q)));
  const roTop = top(ro).sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  const rwTop = top(rw).sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  const dirs = [...new Set([...roTop, ...rwTop].flatMap(ancestors))]
    .filter((d) => !all.some((q) => inside(d, q)))
    .sort((a, b) => depth(a) - depth(b) || a.localeCompare(b));
  return [
    s.tools.timeout, '--signal=KILL', `${s.wallSeconds}s`,
    s.tools.prlimit, `--as=${s.memoryBytes}`, `--cpu=${s.cpuSeconds}`, `--fsize=${s.maxFileBytes}`, '--core=0', '--',
    s.tools.bwrap,
    '--unshare-net', '--unshare-pid', '--unshare-ipc', '--unshare-uts', '--unshare-cgroup-try',
    '--die-with-parent', '--new-session', '--clearenv', '--setenv', 'PATH', '/usr/bin',
    '--dev', '/dev',
    // bwrap would make missing parents 0700 root: nobody could not pass them
    ...dirs.flatMap((d) => ['--perms', '0755', '--dir', d]),
    ...s.symlinks.flatMap(([target, link]) => ['--symlink', target, link]),
    ...roTop.flatMap((p) => ['--ro-bind', p, p]),
    ...rwTop.flatMap((p) => ['--bind', p, p]),
    '--chdir', s.cwd,
    s.tools.setpriv, `--reuid=${s.uid}`, `--regid=${s.gid}`, '--clear-groups', '--inh-caps=-all', '--bounding-set=-all', '--no-new-privs', '--',
    ...s.command,
  ];
}
