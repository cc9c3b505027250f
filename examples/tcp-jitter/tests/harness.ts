// Helpers of the end-to-end tests: the four apps, child processes read line
// by line (and killed on every path), network namespaces joined by a veth pair.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const dir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const peer = join(dir, 'tests', 'peer.py');

export interface App {
  lang: string;
  cmd: string;
  args: string[];
  env: NodeJS.ProcessEnv;
  /** why this app cannot run here, if it cannot */
  missing?: string;
}

const cargoBin = join(process.env.HOME || '/root', '.cargo', 'bin');

function has(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): boolean {
  return spawnSync(cmd, args, { env, stdio: 'ignore' }).status === 0;
}

function built(path: string, toolchain: boolean, what: string): string | undefined {
  if (!toolchain) return `${what} is not installed`;
  return existsSync(path) ? undefined : `${path} was not built (npm run build)`;
}

/** Each language's app, as a user runs it. */
export function apps(): App[] {
  const goBin = join(dir, 'build', 'tcp-jitter-go');
  const rustBin = join(dir, 'build', 'rust-target', 'release', 'tcp-jitter');
  const nodeCli = join(dir, 'node', 'dist', 'cli.js');
  const pyEnv = { ...process.env, PYTHONPATH: `${join(dir, 'build', 'python')}:${join(dir, 'python')}` };
  return [
    { lang: 'node', cmd: process.execPath, args: [nodeCli], env: process.env, missing: built(nodeCli, true, 'node') },
    { lang: 'python', cmd: 'python3', args: ['-m', 'tcpjitter'], env: pyEnv,
      missing: has('python3', ['--version']) ? undefined : 'python3 is not installed' },
    { lang: 'go', cmd: goBin, args: [], env: process.env, missing: built(goBin, has('go', ['version']), 'go') },
    { lang: 'rust', cmd: rustBin, args: [], env: process.env,
      missing: built(rustBin, has('cargo', ['--version'], { ...process.env, PATH: `${process.env.PATH ?? ''}:${cargoBin}` }), 'cargo') },
  ];
}

/** Why the end-to-end tests cannot run here (not root, no tcp tracepoints), if they cannot. */
export function e2eUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'not root (loading BPF programs and making network namespaces need root)';
  // the programs attach as BTF tracepoints: what they need is the kernel's
  // BTF naming them (btf_trace_<name>), not tracefs
  const btf = '/sys/kernel/btf/vmlinux';
  if (!existsSync(btf)) return `${btf} is absent (the programs attach as BTF tracepoints)`;
  const names = readFileSync(btf);
  const missing = ['tcp_probe', 'tcp_rcv_space_adjust'].filter((t) => !names.includes(`\0btf_trace_${t}\0`));
  if (missing.length) return `the kernel's BTF has no tracepoint ${missing.join(', ')}`;
  if (!has('ip', ['-V'])) return 'iproute2 (ip) is not installed';
  return undefined;
}

const children = new Set<Proc>();

/** A child process whose output is kept as lines. */
export class Proc {
  readonly child: ChildProcessWithoutNullStreams;
  readonly out: string[] = [];
  readonly err: string[] = [];
  readonly exited: Promise<number | null>;
  #waiters: (() => void)[] = [];

  constructor(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env) {
    this.child = spawn(cmd, args, { env });
    children.add(this);
    const lines = (into: string[]) => {
      let rest = '';
      return (d: Buffer) => {
        const parts = (rest + d.toString('utf8')).split('\n');
        rest = parts.pop() ?? '';
        into.push(...parts);
        for (const w of this.#waiters.splice(0)) w();
      };
    };
    this.child.stdout.on('data', lines(this.out));
    this.child.stderr.on('data', lines(this.err));
    this.exited = new Promise((resolve) => {
      this.child.on('error', (e) => { this.err.push(String(e)); resolve(null); });
      this.child.on('close', (code) => { children.delete(this); for (const w of this.#waiters.splice(0)) w(); resolve(code); });
    });
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** The first line of stdout (or stderr) matching re, waiting up to timeoutMs. */
  async waitFor(re: RegExp, stream: 'out' | 'err' = 'out', timeoutMs = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      for (const line of stream === 'out' ? this.out : this.err) {
        const m = line.match(re);
        if (m) return m;
      }
      const left = deadline - Date.now();
      if (left <= 0 || !this.running) {
        throw new Error(`no line matching ${re} (${this.running ? 'timed out' : 'the process exited'}); ` +
          `stdout:\n${this.out.join('\n')}\nstderr:\n${this.err.join('\n')}`);
      }
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiters.push(() => { clearTimeout(t); resolve(); });
      });
    }
  }

  kill(signal: NodeJS.Signals = 'SIGKILL'): void {
    if (this.running) this.child.kill(signal);
  }
}

/** Kills every child still running (afterAll, on every path). */
export async function killAll(): Promise<void> {
  const left = [...children];
  for (const p of left) p.kill();
  await Promise.all(left.map((p) => p.exited));
}

/** A TCP port free right now on loopback. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.on('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const a = s.address();
      s.close(() => (typeof a === 'object' && a ? resolve(a.port) : reject(new Error('no port'))));
    });
  });
}

function ip(...args: string[]): void {
  const r = spawnSync('ip', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`ip ${args.join(' ')}: ${r.stderr.trim()}`);
}

/** Two network namespaces joined by a veth pair: server at `serverAddr` in `server`, client in `client`. */
export interface Netns {
  server: string;
  client: string;
  serverAddr: string;
  clientAddr: string;
  remove(): void;
}

export function makeNetns(tag: string): Netns {
  const server = `${tag}s`, client = `${tag}c`;
  const n: Netns = {
    server, client, serverAddr: '10.199.0.1', clientAddr: '10.199.0.2',
    remove() {
      // deleting a namespace deletes its end of the veth pair, and the pair with it
      for (const ns of [server, client]) spawnSync('ip', ['netns', 'del', ns], { stdio: 'ignore' });
      spawnSync('ip', ['link', 'del', `${tag}x`], { stdio: 'ignore' });
    },
  };
  try {
    ip('netns', 'add', server);
    ip('netns', 'add', client);
    ip('link', 'add', `${tag}x`, 'type', 'veth', 'peer', 'name', `${tag}y`);
    ip('link', 'set', `${tag}x`, 'netns', server);
    ip('link', 'set', `${tag}y`, 'netns', client);
    ip('-n', server, 'addr', 'add', `${n.serverAddr}/24`, 'dev', `${tag}x`);
    ip('-n', client, 'addr', 'add', `${n.clientAddr}/24`, 'dev', `${tag}y`);
    for (const [ns, dev] of [[server, `${tag}x`], [client, `${tag}y`]] as const) {
      ip('-n', ns, 'link', 'set', 'lo', 'up');
      ip('-n', ns, 'link', 'set', dev, 'up');
    }
  } catch (e) {
    n.remove();
    throw e;
  }
  return n;
}

/** What the tool prints for one slow read with --json. */
export interface Report {
  ts_ns: number;
  pid: number;
  comm: string;
  family: 'ipv4' | 'ipv6';
  local: string;
  lport: number;
  remote: string;
  rport: number;
  delay_ms: number;
  queue_cpu: number;
  read_cpu: number;
}

/** The slow-read reports among the tool's JSON lines. */
export function reports(lines: readonly string[]): Report[] {
  return lines.filter((l) => l.startsWith('{"ts_ns"')).map((l) => JSON.parse(l) as Report);
}

/**
 * One exchange: a server (in `ns`, if given) that reads `delayS` seconds
 * after the data is queued, and a client (in `clientNs`) that sends to it.
 * Resolves with the server's pid and the client's port once the server read.
 */
export async function exchange(opts: { host: string; port: number; delayS: number; ns?: string; clientNs?: string }):
  Promise<{ serverPid: number; clientPort: number }> {
  const inNs = (ns: string | undefined, args: string[]): [string, string[]] =>
    ns ? ['ip', ['netns', 'exec', ns, 'python3', ...args]] : ['python3', args];
  const server = new Proc(...inNs(opts.ns, [peer, 'server', opts.host, String(opts.port), String(opts.delayS)]));
  try {
    const listening = await server.waitFor(/^listening (\d+) (\d+)$/);
    const client = new Proc(...inNs(opts.clientNs, [peer, 'client', opts.host, String(opts.port)]));
    try {
      const connected = await client.waitFor(/^connected (\d+)$/);
      await server.waitFor(/^read 1000 \d+$/);
      await client.exited;
      return { serverPid: Number(listening[1]), clientPort: Number(connected[1]) };
    } finally {
      client.kill();
    }
  } finally {
    server.kill();
  }
}

/** The ids of the BPF programs and maps a process holds (its fds' fdinfo; a
 *  tracepoint's perf event fd names its program too, so ids are deduplicated). */
export function bpfIds(pid: number): { progs: number[]; maps: number[] } {
  const ids = { progs: [] as number[], maps: [] as number[] };
  for (const fd of readdirSync(`/proc/${pid}/fdinfo`)) {
    let info: string;
    try { info = readFileSync(`/proc/${pid}/fdinfo/${fd}`, 'utf8'); } catch { continue; }
    const prog = /^prog_id:\s*(\d+)$/m.exec(info), map = /^map_id:\s*(\d+)$/m.exec(info);
    if (prog) ids.progs.push(Number(prog[1]));
    else if (map) ids.maps.push(Number(map[1]));
  }
  return { progs: [...new Set(ids.progs)], maps: [...new Set(ids.maps)] };
}

/** Those of the ids that the kernel still has, waiting up to timeoutMs for them to go (freeing is deferred). */
export async function stillLoaded(ids: { progs: number[]; maps: number[] }, timeoutMs = 10_000): Promise<string[]> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const left = [
      ...ids.progs.filter((id) => spawnSync('bpftool', ['prog', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0).map((id) => `prog ${id}`),
      ...ids.maps.filter((id) => spawnSync('bpftool', ['map', 'show', 'id', String(id)], { stdio: 'ignore' }).status === 0).map((id) => `map ${id}`),
    ];
    if (left.length === 0 || Date.now() > deadline) return left;
    await new Promise((r) => setTimeout(r, 200));
  }
}
