// Starts what the end-to-end tests need (the app of a language, the peers)
// and makes sure every child dies on every path.
import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const exampleDir = join(dirname(fileURLToPath(import.meta.url)), '..');
export const buildDir = join(exampleDir, 'build');
const cargoPath = `${process.env.PATH ?? ''}:${join(process.env.HOME || '/root', '.cargo', 'bin')}`;

export interface Connection {
  pid: number; comm: string; fd: number; role: string; protocol: string;
  local_addr: string; local_port: number; remote_addr: string; remote_port: number;
  bytes_in: number; bytes_out: number; calls_in: number; calls_out: number; requests: number;
  p50_ms: number | null; p99_ms: number | null; closed: boolean;
}
export interface Report { connections: Connection[]; dropped: number }

export interface App { name: string; command: string[]; env?: NodeJS.ProcessEnv; missing(): string | undefined }

const venvPython = join(exampleDir, '..', '..', 'bindings-python', '.venv', 'bin', 'python');
const has = (cmd: string, args: string[], env?: NodeJS.ProcessEnv) => spawnSync(cmd, args, { env }).status === 0;

export const apps: App[] = [
  {
    name: 'node',
    command: [process.execPath, join(exampleDir, 'node', 'cli.mjs')],
    missing: () => (existsSync(join(buildDir, 'node', 'dist', 'index.js')) ? undefined : 'build/node is not built (npm run build)'),
  },
  {
    name: 'python',
    command: [existsSync(venvPython) ? venvPython : 'python3', '-m', 'netobserve'],
    env: { PYTHONPATH: `${join(exampleDir, 'python')}:${join(buildDir, 'python')}` },
    missing: () => (!has('python3', ['--version']) ? 'no python3'
      : !existsSync(join(buildDir, 'python', 'net_observe', '__init__.py')) ? 'build/python is not built (npm run build)'
      : existsSync(join(exampleDir, 'python', 'netobserve', '__main__.py')) ? undefined : 'python/netobserve is missing'),
  },
  {
    name: 'go',
    command: [join(buildDir, 'bin', 'net-observe-go')],
    missing: () => (!has('go', ['version']) ? 'no Go toolchain (scripts/setup.sh installs golang-go)'
      : existsSync(join(buildDir, 'bin', 'net-observe-go')) ? undefined : 'build/bin/net-observe-go is not built (npm run build)'),
  },
  {
    name: 'rust',
    command: [join(buildDir, 'bin', 'net-observe-rust')],
    missing: () => (!has('cargo', ['--version'], { ...process.env, PATH: cargoPath }) ? 'no cargo (rustup puts it in ~/.cargo/bin)'
      : existsSync(join(buildDir, 'bin', 'net-observe-rust')) ? undefined : 'build/bin/net-observe-rust is not built (npm run build)'),
  },
];

export function notRoot(): string | undefined {
  return process.getuid?.() === 0 ? undefined : 'loading BPF needs root (run the tests as root)';
}

export function redisMissing(): string | undefined {
  for (const c of ['redis-server', 'redis-benchmark', 'redis-cli']) if (!has(c, ['--version'])) return `${c} is not installed (scripts/setup.sh installs redis-server redis-tools)`;
  return undefined;
}

const children = new Set<ChildProcess>();

/** Kills every child still running (afterEach, and process exit). */
export function killAll(): void {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  children.clear();
}
process.on('exit', killAll);

function start(cmd: string[], env?: NodeJS.ProcessEnv): { child: ChildProcess; out: () => string; err: () => string; exited: Promise<number | null> } {
  const child = spawn(cmd[0]!, cmd.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  children.add(child);
  let out = '';
  let err = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => { children.delete(child); resolve(code); }));
  return { child, out: () => out, err: () => err, exited };
}

async function until(what: string, ok: () => boolean, ms: number, exited?: Promise<unknown>): Promise<void> {
  let done = false;
  void exited?.then(() => (done = true));
  const end = Date.now() + ms;
  while (!ok()) {
    if (done) throw new Error(`exited before ${what}`);
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

/**
 * Waits until the server's end of (serverPort, clientPort) is closed: no
 * socket of that pair in CLOSE_WAIT (the peer closed, the server not yet)
 * or ESTABLISHED in /proc/net/tcp.
 */
export async function serverClosed(serverPort: number, clientPort: number, table = '/proc/net/tcp'): Promise<void> {
  const hex = (p: number) => p.toString(16).toUpperCase().padStart(4, '0');
  const open = () => readFileSync(table, 'utf8').split('\n').some((line) => {
    const f = line.trim().split(/\s+/);
    return f[1]?.endsWith(`:${hex(serverPort)}`) && f[2]?.endsWith(`:${hex(clientPort)}`) && (f[3] === '08' || f[3] === '01');
  });
  await until('the server to close the connection', () => !open(), 20_000);
}

/** serverClosed for a server's IPv6 socket (dual-stack: its IPv4 peers too). */
export const serverClosed6 = (serverPort: number, clientPort: number) => serverClosed(serverPort, clientPort, '/proc/net/tcp6');

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Starts a language's app with these arguments and --json; stop() sends SIGTERM and parses the report. */
export async function startApp(app: App, args: string[]): Promise<{ stop(): Promise<Report> }> {
  const p = start([...app.command, ...args, '--json'], app.env);
  try {
    await until(`${app.name} app's "ready"`, () => /ready/.test(p.err()), 60_000, p.exited);
  } catch (e) {
    p.child.kill('SIGKILL');
    throw new Error(`${(e as Error).message}: ${p.err()}`);
  }
  return {
    async stop() {
      p.child.kill('SIGTERM');
      const timer = setTimeout(() => p.child.kill('SIGKILL'), 20_000);
      const code = await p.exited;
      clearTimeout(timer);
      if (code !== 0) throw new Error(`${app.name} app exited with ${code}: ${p.err()}`);
      const line = p.out().trim().split('\n').pop() ?? '';
      return JSON.parse(line) as Report;
    },
  };
}

/** The Node http server of tests/http-server.mjs on host, in a child process. */
export async function startHttpServer(host = '127.0.0.1'): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const p = start([process.execPath, join(exampleDir, 'tests', 'http-server.mjs')], { HOST: host });
  await until('the http server', () => /\d+\n/.test(p.out()), 20_000, p.exited);
  return {
    pid: p.child.pid!, port: Number(p.out().trim()),
    async stop() { p.child.kill('SIGTERM'); await p.exited; },
  };
}

/** n sequential keep-alive POSTs over one connection; what the client's socket sent and received. */
export async function driveHttp(port: number, n: number): Promise<{ localPort: number; bytesWritten: number; bytesRead: number; responses: number }> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  const sockets = new Set<net.Socket>();
  let responses = 0;
  try {
    for (let i = 0; i < n; i++) {
      const body = Buffer.alloc(10 + 13 * i, 'q');
      await new Promise<void>((resolve, reject) => {
        const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: `/r${i}`, agent, headers: { 'content-length': body.length } }, (res) => {
          let got = 0;
          res.on('data', (d: Buffer) => (got += d.length));
          res.on('end', () => (got === body.length * 2 + 1 ? (responses++, resolve()) : reject(new Error(`response ${i}: ${got} bytes`))));
        });
        req.on('socket', (s) => sockets.add(s));
        req.on('error', reject);
        req.end(body);
      });
    }
    if (sockets.size !== 1) throw new Error(`the client used ${sockets.size} connections, not one`);
    const s = [...sockets][0]!;
    const r = { localPort: s.localPort!, bytesWritten: s.bytesWritten, bytesRead: s.bytesRead, responses };
    await new Promise<void>((resolve) => { s.once('close', () => resolve()); agent.destroy(); });
    return r;
  } finally {
    agent.destroy();
  }
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const { port } = s.address() as net.AddressInfo; s.close(() => resolve(port)); });
  });
}

function redisCli(port: number, args: string[]): string {
  const r = spawnSync('redis-cli', ['-p', String(port), ...args], { encoding: 'utf8', timeout: 20_000 });
  if (r.status !== 0) throw new Error(`redis-cli ${args.join(' ')}: ${r.stderr}`);
  return r.stdout;
}

/** The server's own count of commands it ran (the INFO asking is not counted in its answer). */
export function redisCommands(port: number): number {
  const m = /total_commands_processed:(\d+)/.exec(redisCli(port, ['info', 'stats']));
  if (!m) throw new Error('no total_commands_processed in INFO stats');
  return Number(m[1]);
}

/** redis-server from Debian on a free port, without persistence. */
export async function startRedis(): Promise<{ pid: number; port: number; stop(): Promise<void> }> {
  const port = await freePort();
  const p = start(['redis-server', '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no']);
  await until('redis-server', () => {
    const r = spawnSync('redis-cli', ['-p', String(port), 'ping'], { encoding: 'utf8' });
    return r.stdout.trim() === 'PONG';
  }, 20_000, p.exited);
  return { pid: p.child.pid!, port, async stop() { p.child.kill('SIGTERM'); await p.exited; } };
}

export function redisBenchmark(port: number, n: number): void {
  const r = spawnSync('redis-benchmark', ['-p', String(port), '-n', String(n), '-c', '1', '-t', 'set,get', '-q'], { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) throw new Error(`redis-benchmark: ${r.stderr}`);
}
