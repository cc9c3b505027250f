// The Node column's harness: whether the kernel tests can run here, the
// scenarios' generated packages (built by global-setup.ts into build/<name>/,
// imported from there), expect.json, the trigger, and what the kernel and
// this process hold (BPF ids behind our file descriptors, the kernel's lists).
import { execFileSync, spawnSync } from 'node:child_process';
import { accessSync, constants, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const pkgDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const buildDir = join(pkgDir, 'build');

// ---- whether the kernel tests can run ---------------------------------------

/** The reason the scenarios cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `BPF needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'loading BPF needs root (run the tests as root, as CI does)';
  try {
    accessSync('/sys/kernel/btf/vmlinux', constants.R_OK);
  } catch {
    return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  }
  try {
    accessSync('/sys/kernel/tracing/events/syscalls/sys_enter_getppid', constants.R_OK);
  } catch {
    return 'no syscalls/sys_enter_getppid tracepoint (tracefs not mounted at /sys/kernel/tracing, or no syscall tracepoints)';
  }
  return undefined;
}

/** Prints why a test or a scenario is skipped (vitest shows skips, not reasons). */
export function skipNote(what: string, reason: string): void {
  console.log(`skipped: ${what}: ${reason}`);
}

// ---- scenarios -----------------------------------------------------------------

/** A scenario's expect.json. */
export function expected<T>(scenario: string): T {
  return JSON.parse(readFileSync(join(pkgDir, 'scenarios', scenario, 'expect.json'), 'utf8')) as T;
}

/** Paths of a built scenario. */
export function built(scenario: string): { dir: string; bpfO: string; bpfSo: string; node: string } {
  const dir = join(buildDir, scenario);
  return { dir, bpfO: join(dir, 'bpf.o'), bpfSo: join(dir, 'bpf.so'), node: join(dir, 'node') };
}

/** Imports a scenario's generated package (the type: `typeof import('../build/<name>/node/dist/index.js')`). */
export async function loadScenario<M>(scenario: string): Promise<M> {
  return (await import(/* @vite-ignore */ pathToFileURL(join(built(scenario).node, 'dist', 'index.js')).href)) as M;
}

/** The runtime copy inside a scenario's generated package (for its CoolbpfError class). */
export async function loadRuntime(scenario: string): Promise<typeof import('../build/lifecycle/node/runtime/index.js')> {
  return (await import(/* @vite-ignore */ pathToFileURL(join(built(scenario).node, 'runtime', 'index.js')).href)) as
    typeof import('../build/lifecycle/node/runtime/index.js');
}

/** Every unsigned 64-bit value and wide signed value in expect.json is a decimal string. */
export const big = (s: string | number): bigint => BigInt(s);

// ---- the trigger -------------------------------------------------------------------

/**
 * Makes n getppid(2) system calls from this process: Node's process.ppid is
 * a getter that calls getppid(2) on every read (lifecycle checks this against
 * the tracepoint).
 */
export function trigger(n = 1): void {
  for (let i = 0; i < n; i++) void process.ppid;
}

// ---- errors ---------------------------------------------------------------------------

export interface CoolbpfErrorLike extends Error {
  code: string;
  errno: number;
  detail: string;
}

/** What f() threw (fails the test if it returned). */
export function thrown(f: () => unknown): unknown {
  try {
    f();
  } catch (e) {
    return e;
  }
  throw new Error('expected an exception, the call returned');
}

/** The CoolbpfError f() threw, with the given code (fails the test otherwise). */
export function coolbpfError(f: () => unknown, code: string): CoolbpfErrorLike {
  const e = thrown(f);
  if (!(e instanceof Error) || e.name !== 'CoolbpfError') throw new Error(`expected a CoolbpfError ${code}, got: ${String(e)}`, { cause: e });
  const c = e as CoolbpfErrorLike;
  if (c.code !== code) throw new Error(`expected a CoolbpfError ${code}, got ${c.code}: ${c.message}`, { cause: e });
  return c;
}

// ---- what this process holds, what the kernel has ---------------------------------------

/** The BPF objects behind this process's file descriptors, by kernel id, and the fds by kind. */
export interface Held {
  programs: number[];
  maps: number[];
  links: number[];
  /** fds by what they point at: 'anon_inode:bpf-prog', 'anon_inode:[perf_event]', 'anon_inode:[eventpoll]', … */
  kinds: Record<string, number>;
}

export function held(): Held {
  const out: Held = { programs: [], maps: [], links: [], kinds: {} };
  for (const fd of readdirSync('/proc/self/fd')) {
    let target: string;
    try {
      target = readlinkSync(`/proc/self/fd/${fd}`);
    } catch {
      continue; // closed meanwhile (the readdir's own fd)
    }
    if (!target.startsWith('anon_inode:')) continue;
    out.kinds[target] = (out.kinds[target] ?? 0) + 1;
    const id = (key: string): number | undefined => {
      try {
        const m = new RegExp(`^${key}:\\s*(\\d+)`, 'm').exec(readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8'));
        return m ? Number(m[1]) : undefined;
      } catch {
        return undefined;
      }
    };
    const push = (list: number[], v: number | undefined) => v !== undefined && !list.includes(v) && list.push(v);
    if (target === 'anon_inode:bpf-prog') push(out.programs, id('prog_id'));
    else if (target === 'anon_inode:bpf-map') push(out.maps, id('map_id'));
    else if (target === 'anon_inode:bpf_link') push(out.links, id('link_id'));
  }
  for (const l of [out.programs, out.maps, out.links]) l.sort((a, b) => a - b);
  return out;
}

/** BPF fds this process holds now, by kind (programs, maps, links, perf events, epoll instances). */
export function bpfFdCounts(): Record<string, number> {
  const k = held().kinds;
  const pick = (n: string) => k[n] ?? 0;
  return {
    programs: pick('anon_inode:bpf-prog'),
    maps: pick('anon_inode:bpf-map'),
    links: pick('anon_inode:bpf_link'),
    perfEvents: pick('anon_inode:[perf_event]'),
    epoll: pick('anon_inode:[eventpoll]'),
  };
}

interface KernelEntry { id: number; name?: string }

function bpftool(what: 'prog' | 'map' | 'link'): KernelEntry[] {
  return JSON.parse(execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8', maxBuffer: 1 << 28 }) || '[]') as KernelEntry[];
}

export interface KernelLists {
  programs: KernelEntry[];
  maps: KernelEntry[];
  links: KernelEntry[];
}

export function kernelLists(): KernelLists {
  return { programs: bpftool('prog'), maps: bpftool('map'), links: bpftool('link') };
}

/**
 * Which of these kernel ids are still in the kernel's lists, once none is or
 * after timeoutMs: the kernel frees programs, maps and links after an RCU
 * grace period (and some links defer their release), not at once.
 */
export async function stillInKernel(ids: { programs: number[]; maps: number[]; links: number[] }, timeoutMs = 10_000):
  Promise<{ programs: number[]; maps: number[]; links: number[] }> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = kernelLists();
    const left = {
      programs: ids.programs.filter((id) => l.programs.some((p) => p.id === id)),
      maps: ids.maps.filter((id) => l.maps.some((m) => m.id === id)),
      links: ids.links.filter((id) => l.links.some((k) => k.id === id)),
    };
    if ((left.programs.length === 0 && left.maps.length === 0 && left.links.length === 0) || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Names of programs in the kernel's list now (bpftool shows at most 15 characters). */
export function kernelProgramNames(): string[] {
  return bpftool('prog').map((p) => String(p.name ?? ''));
}

/**
 * The kernel's programs whose names start with a scenario's prefix, once
 * there are none or after timeoutMs (programs are freed after an RCU grace
 * period). Scenario programs have prefixes no other package uses.
 */
export async function programsNamed(prefix: string, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = kernelProgramNames().filter((n) => n.startsWith(prefix));
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 50));
  }
}

// ---- CPUs ------------------------------------------------------------------------------

/** The CPUs this process's main thread may run on (taskset's list). */
export function allowedCpus(): number[] {
  const out = execFileSync('taskset', ['-c', '-p', String(process.pid)], { encoding: 'utf8' });
  const list = out.slice(out.lastIndexOf(':') + 1).trim();
  const cpus: number[] = [];
  for (const part of list.split(',')) {
    const [a, b] = part.split('-').map(Number);
    for (let c = a!; c <= (b ?? a!); c++) cpus.push(c);
  }
  return cpus;
}

export function hasTaskset(): boolean {
  return spawnSync('taskset', ['--version']).status === 0;
}

/**
 * Runs f with this process's main thread (the one that makes the system
 * calls) pinned to one CPU, then restores its affinity. The kernel moves the
 * thread to that CPU before taskset returns.
 */
export function onCpu<T>(cpu: number, f: () => T): T {
  const before = allowedCpus();
  execFileSync('taskset', ['-c', '-p', String(cpu), String(process.pid)], { stdio: 'ignore' });
  try {
    return f();
  } finally {
    execFileSync('taskset', ['-c', '-p', before.join(','), String(process.pid)], { stdio: 'ignore' });
  }
}

/** Resolves once pred() holds, or rejects after timeoutMs. */
export async function until(pred: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}
