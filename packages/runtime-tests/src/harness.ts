// Builds the test object into a bpf.so with coolbpf-gen, compiles the C
// driver that dlopens it, runs scenarios, and reads the kernel's lists of
// BPF programs, maps and links.
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { runtime } from '@coolbpf/runtime-c';

const here = dirname(fileURLToPath(import.meta.url));
const pkg = join(here, '..');
const cliBin = join(dirname(createRequire(import.meta.url).resolve('coolbpf-gen/package.json')), 'bin', 'coolbpf-gen.js');

export interface Built {
  dir: string;
  bpfSo: string;
  bpfO: string;
  driver: string;
  /** off.<global>=<offset> arguments for the driver, from the object model */
  offsets: string[];
  /** program and map names of the object, as the kernel lists them */
  programs: string[];
  maps: string[];
  /** map → [event type, where it came from], as the model has them */
  events: Record<string, [string, string]>;
}

export function coolbpfGen(...args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [cliBin, ...args], { encoding: 'utf8', maxBuffer: 1 << 28 });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

interface ModelJson {
  events: { map: string; type: { c: string }; source: string }[];
  programs: { name: string }[];
  maps: { name: string }[];
  dataSections: { name: string; variables: { name: string; offset: number }[] }[];
}

/** Builds bpf/rt.bpf.c into a fresh directory readable by every user (the
 * no-capabilities test runs the driver as nobody). */
export function buildRt(): Built {
  const dir = mkdtempSync(join(tmpdir(), 'coolbpf-rt-'));
  chmodSync(dir, 0o755);
  const out = join(dir, 'rt');
  mkdirSync(out);
  const b = coolbpfGen('build', join(pkg, 'bpf', 'rt.bpf.c'), '--out', out);
  if (b.status !== 0) throw new Error(`coolbpf-gen build failed:\n${b.stderr}`);
  const driver = join(dir, 'driver');
  execFileSync('cc', ['-O1', '-g', '-Wall', '-Wextra', '-Werror', '-I', runtime.includeDir, '-o', driver,
    join(pkg, 'c', 'driver.c'), '-ldl']);
  const inspect = coolbpfGen('inspect', join(out, 'bpf.o'), '--json');
  if (inspect.status !== 0) throw new Error(`coolbpf-gen inspect failed:\n${inspect.stderr}`);
  const model = JSON.parse(inspect.stdout) as ModelJson;
  const offsets = model.dataSections.flatMap((s) => s.variables.map((v) => `off.${v.name}=${v.offset}`));
  // libbpf names data-section maps "<object name>.rodata"; coolbpf-gen names
  // the object after the source file
  const prefix = 'rt';
  const maps = [
    ...model.maps.map((m) => m.name),
    ...model.dataSections.filter((s) => ['.rodata', '.data', '.bss'].includes(s.name)).map((s) => `${prefix}${s.name}`),
  ];
  return { dir, bpfSo: join(out, 'bpf.so'), bpfO: join(out, 'bpf.o'), driver, offsets, programs: model.programs.map((p) => p.name), maps,
    events: Object.fromEntries(model.events.map((e) => [e.map, [e.type.c, e.source]])) };
}

export type Json = Record<string, unknown>;
export interface CallResult { ret: number; errno: number; error: string }

/** What the kernel has loaded right now. */
export interface KernelLists { programs: string[]; maps: string[]; links: number }

function bpftoolList(what: string): Json[] {
  return JSON.parse(execFileSync('bpftool', ['-j', what, 'show'], { encoding: 'utf8' }) || '[]') as Json[];
}

export function kernelLists(): KernelLists {
  return {
    programs: bpftoolList('prog').map((p) => String(p['name'] ?? '')),
    maps: bpftoolList('map').map((m) => String(m['name'] ?? '')),
    links: bpftoolList('link').length,
  };
}

/**
 * The kernel's lists once `settled` holds for them, or the last lists seen
 * after `timeoutMs`. The kernel frees programs, maps and links after an RCU
 * grace period (raw_tp and tp_btf links defer their release), so what a
 * process closed leaves the lists shortly after, not at once.
 */
export async function kernelListsWhen(settled: (l: KernelLists) => boolean, timeoutMs = 10_000): Promise<KernelLists> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const l = kernelLists();
    if (settled(l) || Date.now() > deadline) return l;
    await new Promise((r) => setTimeout(r, 50));
  }
}

export interface RunOptions {
  /** awaited while the driver waits after printing its result (--hold) */
  whileHeld?: (result: Json) => void | Promise<void>;
  /** a command prefix, e.g. setpriv with its options */
  wrap?: string[];
}

/** Runs a driver scenario; resolves with the JSON object it printed. */
export function runDriver(b: Built, scenario: string, args: string[] = [], opts: RunOptions = {}): Promise<Json> {
  const argv = [b.driver, b.bpfSo, scenario, ...b.offsets, ...args, ...(opts.whileHeld ? ['--hold'] : [])];
  const [cmd, ...rest] = [...(opts.wrap ?? []), ...argv];
  return new Promise((resolve, reject) => {
    const child = spawn(cmd!, rest, { stdio: ['pipe', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    let result: Json | undefined;
    let failure: unknown;
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const nl = out.indexOf('\n');
      if (result === undefined && nl >= 0) {
        const parsed = (() => {
          try {
            return JSON.parse(out.slice(0, nl)) as Json;
          } catch (e) {
            failure = e;
            return {};
          }
        })();
        result = parsed;
        Promise.resolve()
          .then(() => opts.whileHeld?.(parsed))
          .catch((e: unknown) => (failure ??= e))
          .finally(() => child.stdin.end());
      }
    });
    if (!opts.whileHeld) child.stdin.end();
    child.on('error', reject);
    child.on('close', (code) => {
      if (failure) reject(failure);
      else if (result === undefined) reject(new Error(`driver ${scenario} exited ${code} without a result\n${err}`));
      else if (code !== 0) reject(new Error(`driver ${scenario} exited ${code}\n${err}`));
      else resolve(result);
    });
  });
}
