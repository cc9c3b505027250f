// Shared by the kernel tests: whether they can run, building BPF objects
// with coolbpf-gen, the helper process that makes the system calls the
// test object reports, and codecs for the test object's types.
import { execFileSync, spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createHash } from 'node:crypto';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { createInterface, type Interface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Codec } from './codecs.js';

const here = dirname(fileURLToPath(import.meta.url));
export const pkgDir = join(here, '..');
const repo = join(pkgDir, '..', '..');
/** the runtime tests' object, used by path (see packages/runtime-tests/bpf/rt.bpf.c) */
export const RT_SRC = join(repo, 'packages', 'runtime-tests', 'bpf', 'rt.bpf.c');
export const HELLO_SRC = join(repo, 'examples', 'hello', 'hello.bpf.c');
// by path, not as a dependency: coolbpf-gen depends on this package (it copies
// the runtime into generated packages), so a dependency back would be a cycle
const cliBin = join(repo, 'packages', 'cli', 'bin', 'coolbpf-gen.js');

/** The reason the kernel tests cannot run here, or undefined when they can. */
export function kernelSkipReason(): string | undefined {
  if (process.platform !== 'linux') return `BPF needs Linux (this is ${process.platform})`;
  if (process.getuid?.() !== 0) return 'loading BPF needs root (run the tests as root, as CI does)';
  try {
    accessSync('/sys/kernel/btf/vmlinux', constants.R_OK);
  } catch {
    return 'the kernel has no BTF (/sys/kernel/btf/vmlinux)';
  }
  if (spawnSync('cc', ['--version']).status !== 0) return 'no C compiler (cc) for the helper program';
  return undefined;
}

export function skipNote(what: string, reason: string): void {
  console.log(`skipped: ${what}: ${reason}`);
}

export interface Built {
  dir: string;
  bpfSo: string;
  bpfO: string;
  /** SHA-256 of bpf.o, which bpf.so embeds */
  sha256: string;
  /** offset of each global, by "section:name" */
  offsets: Record<string, number>;
}

export function coolbpfGen(...args: string[]): string {
  const r = spawnSync(process.execPath, [cliBin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  if (r.status !== 0) throw new Error(`coolbpf-gen ${args[0]} failed:\n${r.stderr}`);
  return r.stdout;
}

interface ModelJson {
  dataSections: { name: string; variables: { name: string; offset: number }[] }[];
}

/** Builds a BPF C source into DIR/bpf.so with coolbpf-gen. */
export function buildObject(src: string, dir: string): Built {
  coolbpfGen('build', src, '--out', dir);
  const bpfO = join(dir, 'bpf.o');
  const model = JSON.parse(coolbpfGen('inspect', bpfO, '--json')) as ModelJson;
  const offsets: Record<string, number> = {};
  for (const s of model.dataSections) for (const v of s.variables) offsets[`${s.name}:${v.name}`] = v.offset;
  return {
    dir, bpfSo: join(dir, 'bpf.so'), bpfO, offsets,
    sha256: createHash('sha256').update(readFileSync(bpfO)).digest('hex'),
  };
}

export function tempDir(prefix: string): { dir: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** Compiles test/helper.c into dir. */
export function buildHelper(dir: string): string {
  const out = join(dir, 'helper');
  execFileSync('cc', ['-O1', '-g', '-Wall', '-Wextra', '-Werror', '-o', out, join(pkgDir, 'test', 'helper.c')]);
  return out;
}

/** A running test/helper.c: makes system calls (and calls its probe target) on command. */
export class Helper {
  readonly pid: number;
  readonly #child: ChildProcessWithoutNullStreams;
  readonly #lines: AsyncIterator<string>;
  readonly #rl: Interface;

  private constructor(child: ChildProcessWithoutNullStreams, rl: Interface, lines: AsyncIterator<string>, pid: number) {
    this.#child = child;
    this.#rl = rl;
    this.#lines = lines;
    this.pid = pid;
  }

  /** Starts the helper (through `prefix`, e.g. taskset, which execs it in the same process). */
  static async start(path: string, prefix: string[] = []): Promise<Helper> {
    const [cmd, ...args] = [...prefix, path];
    const child = spawn(cmd!, args, { stdio: ['pipe', 'pipe', 'pipe'] });
    const rl = createInterface({ input: child.stdout });
    const lines = rl[Symbol.asyncIterator]();
    const first = await lines.next();
    const m = /^ready (\d+)$/.exec(String(first.value));
    if (!m) throw new Error(`helper did not start: ${String(first.value)}`);
    return new Helper(child, rl, lines, Number(m[1]));
  }

  /** Runs one command ("ppid 3", "pgid 1", "sid 1", "probe 42 2") and waits for it to finish. */
  async run(command: string): Promise<void> {
    this.#child.stdin.write(`${command}\n`);
    const r = await this.#lines.next();
    if (r.value !== 'ok') throw new Error(`helper: '${command}' answered ${String(r.value)}`);
  }

  async stop(): Promise<void> {
    if (this.#child.exitCode !== null) return;
    const exited = new Promise((r) => this.#child.once('exit', r));
    this.#child.stdin.end();
    await exited;
    this.#rl.close();
  }
}

// ---- the test object's types, as generated code would write them

export interface RtEvent { kind: number; tag: number; pid: number; cpu: number; value: bigint; flag: bigint }
/** struct rt_event { u32 kind, tag, pid, cpu; u64 value, flag; } */
export const RtEvent: Codec<RtEvent> = {
  size: 32,
  decode: (v, o) => ({
    kind: v.getUint32(o, true), tag: v.getUint32(o + 4, true), pid: v.getUint32(o + 8, true), cpu: v.getUint32(o + 12, true),
    value: v.getBigUint64(o + 16, true), flag: v.getBigUint64(o + 24, true),
  }),
  encode: (v, o, e) => {
    v.setUint32(o, e.kind, true);
    v.setUint32(o + 4, e.tag, true);
    v.setUint32(o + 8, e.pid, true);
    v.setUint32(o + 12, e.cpu, true);
    v.setBigUint64(o + 16, e.value, true);
    v.setBigUint64(o + 24, e.flag, true);
  },
};
export const KIND = { TP: 1, TP_BTF: 2, RAW_TP: 3, UPROBE: 4, FENTRY: 5 } as const;

/** Resolves once pred() holds, or rejects after timeoutMs. */
export async function until(pred: () => boolean, timeoutMs = 5000, what = 'condition'): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!pred()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}
