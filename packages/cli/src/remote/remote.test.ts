/**
 * The build server end to end: `coolbpf-gen serve` in this process (its
 * compiles in worker threads, clang sandboxed), the CLI as a client in
 * child processes. Needs root (the sandbox), bwrap, clang and bpftool.
 */
import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { endianness, homedir, release, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { BuildServer } from '@coolbpf/server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { BuildContext } from '../build/context.js';
import { parseManifest } from '../build/manifest.js';
import { serve } from '../commands/serve.js';

const here = dirname(fileURLToPath(import.meta.url));
const bin = join(here, '..', '..', 'bin', 'coolbpf-gen.js');
const repoRoot = resolve(here, '..', '..', '..', '..');
const sharedBtf = resolve(repoRoot, '../shared/btf/debian-6.1.0-47-cloud-amd64.btf.gz');

const onPath = (t: string): boolean => spawnSync('sh', ['-c', `command -v ${t}`], { env: { PATH: `${process.env.PATH}:/usr/sbin:/sbin` } }).status === 0;
const missing = [
  ...(process.getuid?.() === 0 ? [] : ['root (the sandbox runs compiles as nobody)']),
  ...['clang-16', 'bpftool', 'cc', 'bwrap', 'setpriv', 'prlimit'].filter((t) => !onPath(t)),
  ...(existsSync('/sys/kernel/btf/vmlinux') ? [] : ['/sys/kernel/btf/vmlinux']),
];
if (missing.length) console.log(`skipping the build server tests: ${missing.join(', ')} missing`);

const dir = mkdtempSync(join(tmpdir(), 'coolbpf-remote-'));
// a secret only root can read, in a directory only root can enter: no response may ever carry it
const secretDir = mkdtempSync(join(tmpdir(), 'coolbpf-secret-'));
const secret = `CANARY-${randomBytes(16).toString('hex')}`;
const canary = join(secretDir, 'canary');
writeFileSync(canary, `${secret}\n`, { mode: 0o600 });
chmodSync(secretDir, 0o700);
const TOKEN = 'test-token';

let bs: BuildServer | undefined;
let url = '';
const logs: string[] = [];
const bodies: Buffer[] = [];

beforeAll(async () => {
  if (missing.length) return;
  const ctx: BuildContext = {
    cwd: dir,
    env: { ...process.env, COOLBPF_CACHE: join(dir, 'cache') },
    home: homedir(),
    arch: process.arch,
    hostEndianness: endianness(),
    progress: (l) => logs.push(l),
    passthrough: () => {},
  };
  bs = await serve({ host: '127.0.0.1', port: 0, store: join(dir, 'store'), btf: [], token: TOKEN, jobs: 2, queue: 64, timeout: 60, memoryMb: 4096, cacheMb: 1024 }, ctx);
  url = `http://127.0.0.1:${(bs.server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await bs?.close();
  rmSync(dir, { recursive: true, force: true });
  rmSync(secretDir, { recursive: true, force: true });
});

interface Run {
  status: number | null;
  stdout: string;
  stderr: string;
}

/** The CLI in a child process (asynchronously: the server runs in this one). */
function cli(args: string[], env: Record<string, string> = {}, cwd = repoRoot): Promise<Run> {
  return new Promise((res) => {
    execFile(process.execPath, [bin, ...args], { cwd, env: { ...process.env, COOLBPF_CACHE: join(dir, 'client-cache'), COOLBPF_TOKEN: TOKEN, ...env }, encoding: 'utf8', maxBuffer: 1 << 26 }, (err, stdout, stderr) => {
      res({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** POST /compile with a raw request; every body is kept to check for the canary. */
async function compile(body: unknown): Promise<{ status: number; text: string }> {
  const r = await fetch(`${url}/compile`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { Authorization: `Bearer ${TOKEN}` } });
  const b = Buffer.from(await r.arrayBuffer());
  bodies.push(b);
  return { status: r.status, text: b.toString('latin1') };
}

const req = (text: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  source: { path: 'p.bpf.c', text },
  target: { release: release() },
  arch: 'x86_64',
  ...extra,
});

const filesUnder = (d: string): string[] =>
  readdirSync(d, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath ?? e.path, e.name).slice(d.length + 1))
    .sort();

describe.skipIf(missing.length > 0)('build server', () => {
  it('a remote build gives the same DIR as a local build: byte-identical bpf.o and bpf.so, same files, same manifest format', async () => {
    const local = join(dir, 'local');
    const remote = join(dir, 'remote');
    const l = await cli(['build', 'examples/hello/hello.bpf.c', '--out', local, '--lang', 'node,python']);
    expect(l.status, l.stderr).toBe(0);
    const r = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--out', remote, '--lang', 'node,python']);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toBe('');
    expect(r.stderr).toMatch(/\[1\/3\] examples\/hello\/hello.bpf.c and 0 local headers -> http:\/\/127.0.0.1:\d+ \(kernel .*, x86_64\)/);
    const wrote = (log: string): string => log.trimEnd().split('\n').pop()!.replace(/^coolbpf-gen: (\[3\/3\] )?wrote /, '').split(`${remote}/`).join('').split(`${local}/`).join('');
    expect(wrote(r.stderr)).toBe('bpf.o, bpf.so, include/coolbpf.h, node/, python/');
    expect(wrote(r.stderr)).toBe(wrote(l.stderr));
    expect(filesUnder(remote)).toEqual(filesUnder(local));
    for (const f of ['bpf.o', 'bpf.so', 'include/coolbpf.h', 'python/hello/__init__.py']) {
      expect(readFileSync(join(remote, f)).equals(readFileSync(join(local, f))), f).toBe(true);
    }
    const lm = parseManifest(readFileSync(join(local, '.coolbpf-build.json'), 'utf8'))!;
    const rm = parseManifest(readFileSync(join(remote, '.coolbpf-build.json'), 'utf8'))!;
    expect(rm.outputs).toEqual(lm.outputs);
    expect(Object.keys(rm)).toEqual(Object.keys(lm));
    // the second time it comes from the cache
    const again = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--out', remote, '--lang', 'node,python']);
    expect(again.stderr).toContain(`${remote} is up to date`);
    // with an output gone, the server sends them again, from its cache
    rmSync(join(remote, 'bpf.so'));
    const refill = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--out', remote, '--lang', 'node,python']);
    expect(refill.stderr).toContain('compiled on the server (cached)');
    expect(readFileSync(join(remote, 'bpf.so')).equals(readFileSync(join(local, 'bpf.so')))).toBe(true);
  });

  it('the returned bpf.so loads and delivers events on this kernel', async () => {
    const missingPy = !onPath('python3');
    if (missingPy || !existsSync('/sys/kernel/tracing/events/sched')) {
      console.log('skipping the event check: python3 or tracefs missing');
      return;
    }
    const out = join(dir, 'events');
    const r = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--out', out, '--lang', 'python']);
    expect(r.status, r.stderr).toBe(0);
    const script = [
      'import subprocess, sys',
      'sys.path.insert(0, sys.argv[1])',
      'import hello',
      'with hello.init(so_path=sys.argv[2]) as skel:',
      '    for _ in range(3):',
      '        subprocess.run(["/bin/true"])',
      '        for ev in skel.maps.events.iter(timeout=1.0):',
      '            if ev.comm == "true":',
      '                print("event", ev.pid, ev.comm)',
      '                sys.exit(0)',
      'sys.exit(3)',
    ].join('\n');
    const py = await new Promise<Run>((res) =>
      execFile('python3', ['-c', script, join(out, 'python'), join(out, 'bpf.so')], { encoding: 'utf8', timeout: 30_000 }, (err, stdout, stderr) =>
        res({ status: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
      ),
    );
    expect(py.status, py.stderr).toBe(0);
    expect(py.stdout).toMatch(/^event \d+ true$/m);
  });

  it("prints clang's diagnostics as clang printed them, exits 1 and writes nothing", async () => {
    const src = join(dir, 'bad');
    mkdirSync(src);
    writeFileSync(join(src, 'common.h'), '#pragma once\nint broken = ;\n');
    writeFileSync(join(src, 'bad.bpf.c'), '#include "vmlinux.h"\n#include "common.h"\nint f(void) { return undeclared; }\n');
    const out = join(dir, 'bad-out');
    const r = await cli(['build', 'bad.bpf.c', '--remote', url, '--out', out], {}, src);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain('and 1 local header ->');
    expect(r.stderr).toMatch(/^bad\.bpf\.c:3:\d+: error: /m);
    expect(r.stderr).toMatch(/^In file included from bad\.bpf\.c:2:\n(\.\/)?common\.h:2:14: error: expected expression$/m);
    expect(r.stderr).toMatch(/^bad\.bpf\.c:3:22: error: use of undeclared identifier 'undeclared'/m);
    // no server paths: vmlinux.h is named as the scratch directory holds it
    expect(r.stderr).toMatch(/^vmlinux\/vmlinux\.h:\d+:\d+: note: /m);
    expect(r.stderr).not.toContain('/jobs/');
    expect(r.stderr.trimEnd().split('\n').pop()).toBe(`coolbpf-gen: error: bad.bpf.c: compilation failed (on ${url})`);
    expect(existsSync(out)).toBe(false);
  });

  it("prints clang's warnings of a successful remote build, like a local build", async () => {
    const src = join(dir, 'warn');
    mkdirSync(src);
    writeFileSync(join(src, 'w.bpf.c'), '#include "vmlinux.h"\nint f(void) { int unused; return 0; }\n');
    const local = await cli(['build', 'w.bpf.c', '--out', join(dir, 'warn-local')], {}, src);
    const remote = await cli(['build', 'w.bpf.c', '--remote', url, '--out', join(dir, 'warn-remote')], {}, src);
    expect(remote.status, remote.stderr).toBe(0);
    const warning = (s: string): string => s.split('\n').filter((l) => !l.startsWith('coolbpf-gen: ')).join('\n');
    expect(warning(remote.stderr)).toMatch(/^w\.bpf\.c:2:19: warning: unused variable 'unused' \[-Wunused-variable\]/);
    expect(warning(remote.stderr)).toBe(warning(local.stderr));
    expect(existsSync(join(dir, 'warn-remote', 'coolbpf-clang-warnings.txt'))).toBe(false);
    expect(filesUnder(join(dir, 'warn-remote'))).toEqual(filesUnder(join(dir, 'warn-local')));
  });

  it('one-line errors: unknown kernel, wrong token, no server', async () => {
    const out = join(dir, 'err-out');
    const k = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--kernel', '4.19.0-nope', '--out', out]);
    expect(k.status).toBe(1);
    expect(k.stderr.trimEnd().split('\n').pop()).toBe(`coolbpf-gen: error: ${url}: server: no BTF for kernel release '4.19.0-nope' (x86_64) in the store; upload it with \`coolbpf-gen btf add\` or POST /btf (HTTP 404)`);
    const t = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--out', out], { COOLBPF_TOKEN: 'wrong' });
    expect(t.stderr).toContain('server: missing or wrong bearer token (HTTP 401)');
    // a port nothing listens on
    const { createServer } = await import('node:net');
    const probe = createServer();
    await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
    const port = (probe.address() as AddressInfo).port;
    await new Promise((r) => probe.close(r));
    const n = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', `http://127.0.0.1:${port}`, '--out', out]);
    expect(n.stderr.trimEnd().split('\n').pop()).toBe(`coolbpf-gen: error: http://127.0.0.1:${port}: cannot reach the build server: ECONNREFUSED`);
    expect(existsSync(out)).toBe(false);
  });

  it('stores, lists and fetches BTF; a build for another kernel compiles against its vmlinux.h', async () => {
    if (!existsSync(sharedBtf)) {
      console.log(`skipping the cross-kernel build: ${sharedBtf} is absent`);
      return;
    }
    const add = await cli(['btf', 'add', sharedBtf, '--release', '6.1.0-47-cloud-amd64', '--remote', url]);
    expect(add.status, add.stderr).toBe(0);
    expect(add.stderr).toMatch(/stored BTF for 6.1.0-47-cloud-amd64 \(x86_64\), \d+ bytes, sha256 [0-9a-f]{64}/);
    const list = await cli(['btf', 'list', '--remote', url]);
    expect(list.stdout).toMatch(/^6\.1\.0-47-cloud-amd64 +x86_64 +\d+ +[0-9a-f]{12} .* upload$/m);
    expect(list.stdout).toContain(release());
    const fetched = join(dir, 'fetched.btf');
    const f = await cli(['btf', 'fetch', '6.1.0-47-cloud-amd64', '--remote', url, '--out', fetched]);
    expect(f.status, f.stderr).toBe(0);
    const { gunzipSync } = await import('node:zlib');
    expect(readFileSync(fetched).equals(gunzipSync(readFileSync(sharedBtf)))).toBe(true);

    const src = join(dir, 'cross');
    mkdirSync(src);
    // struct bpf_iter__kmem_cache came in 6.13: this kernel has it, 6.1 does not
    writeFileSync(join(src, 'k.bpf.c'), '#include "vmlinux.h"\nconst volatile int size = sizeof(struct bpf_iter__kmem_cache);\n');
    const here61 = await cli(['build', 'k.bpf.c', '--remote', url, '--kernel', '6.1.0-47-cloud-amd64', '--out', join(dir, 'k61')], {}, src);
    expect(here61.status).toBe(1);
    expect(here61.stderr).toMatch(/k\.bpf\.c:2:\d+: error: invalid application of 'sizeof' to an incomplete type 'struct bpf_iter__kmem_cache'/);
    const local = await cli(['build', 'k.bpf.c', '--remote', url, '--out', join(dir, 'klocal')], {}, src);
    if (readFileSync('/sys/kernel/btf/vmlinux').includes('bpf_iter__kmem_cache')) expect(local.status, local.stderr).toBe(0);
    const hello61 = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', url, '--kernel', '6.1.0-47-cloud-amd64', '--out', join(dir, 'hello61')]);
    expect(hello61.status, hello61.stderr).toBe(0);
    // the same as a local build with --btf of that kernel
    const l61 = await cli(['build', 'examples/hello/hello.bpf.c', '--btf', sharedBtf, '--out', join(dir, 'hello61-local')]);
    expect(l61.status, l61.stderr).toBe(0);
    expect(readFileSync(join(dir, 'hello61', 'bpf.o')).equals(readFileSync(join(dir, 'hello61-local', 'bpf.o')))).toBe(true);
  });

  it('shares one compile between identical concurrent requests and counts it in /metrics', async () => {
    const text = `#include "vmlinux.h"\nint shared_${randomBytes(4).toString('hex')};\n`;
    const rs = await Promise.all(Array.from({ length: 4 }, () => fetch(`${url}/compile`, { method: 'POST', body: JSON.stringify(req(text)), headers: { Authorization: `Bearer ${TOKEN}` } })));
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    expect(rs.map((r) => r.headers.get('x-coolbpf-cache')).sort()).toEqual(['miss', 'shared', 'shared', 'shared']);
    const m = await (await fetch(`${url}/metrics`, { headers: { Authorization: `Bearer ${TOKEN}` } })).text();
    expect(m).toMatch(/^coolbpf_shared_compiles_total [1-9]\d*$/m);
    expect(m).toMatch(/^coolbpf_compile_duration_seconds_count [1-9]\d*$/m);
  });

  describe('untrusted sources read no server file', () => {
    const cases: [string, Record<string, unknown>, number[]][] = [
      ['absolute #include of a server file', req(`#include "${canary}"\n`), [422]],
      ['#include_next of a server file', req(`#include_next "${canary}"\n`), [422]],
      ['../ traversal in #include', req(`#include "${'../'.repeat(12)}${canary.slice(1)}"\n`), [422]],
      ['../ traversal through an include directory', req(`#include <${'../'.repeat(12)}${canary.slice(1)}>\n`), [422]],
      ['/proc/self/root', req(`#include "/proc/self/root${canary}"\n`), [422]],
      ['/proc/self/environ', req('#include "/proc/self/environ"\n'), [422]],
      ['/proc/self/cwd traversal', req(`#include "/proc/self/cwd/${'../'.repeat(12)}${canary.slice(1)}"\n`), [422]],
      ['.incbin in inline asm', req(`asm(".incbin \\"${canary}\\"");\n`), [422]],
      ['.incbin of /etc/shadow', req('asm(".incbin \\"/etc/shadow\\"");\n'), [422]],
      ['#embed', req(`const char x[] = {\n#embed "${canary}"\n};\n`), [422]],
      ['__has_include probing', req(`#if __has_include("${canary}") || __has_include("/etc/passwd") || __has_include(<shadow>)\n#error FOUND\n#endif\nint x;\n`), [200]],
      ['a submitted header named ../', req('int x;\n', { headers: [{ path: `../${'x'}.h`, text: '' }] }), [400]],
      ['a submitted header with an absolute path', req('int x;\n', { headers: [{ path: canary, text: 'overwritten' }] }), [400]],
      ['an include directory outside the submission', req('int x;\n', { includeDirs: [secretDir] }), [400]],
      ['-fplugin as a define name', req('int x;\n', { defines: ['-fplugin=/tmp/evil.so'] }), [400]],
      ['-Xclang -load as a define name', req('int x;\n', { defines: ['X -Xclang -load -Xclang /tmp/evil.so'] }), [400]],
      // one -DNAME=VALUE argument: the value is a macro's text, never an option (clang would fail to load a missing plugin)
      ['-fplugin in a define value', req('#define S(x) #x\n#define XS(x) S(x)\nconst char flag[] = XS(FLAG);\n', { defines: ['FLAG=-fplugin=/nonexistent/evil.so'] }), [200]],
      ['-Xclang -load in a define value', req('int x;\n', { defines: ['X=1 -Xclang -load -Xclang /nonexistent/evil.so'] }), [200]],
      ['a newline in a define value', req('int x;\n', { defines: [`X=1\n#include "${canary}"`] }), [400]],
      ['a source file named like an option', req('int x;\n', { source: { path: '-fplugin=x.c', text: 'int x;' } }), [400]],
    ];
    it.each(cases)('%s', async (_name, body, statuses) => {
      const r = await compile(body);
      expect(statuses, r.text.slice(0, 400)).toContain(r.status);
      expect(r.text).not.toContain(secret);
      if (r.status === 422) expect(JSON.parse(r.text).diagnostics).toMatch(/error/);
      expect(readFileSync(canary, 'utf8')).toBe(`${secret}\n`);
    });

    it('does not send outputs over its size limit', async () => {
      // 80 MiB of .data: clang makes it, the server keeps it
      const r = await compile(req('char big[80 << 20] = { 1 };\n'));
      expect(r.status).toBe(422);
      expect(JSON.parse(r.text).error).toMatch(/^the outputs are \d+ bytes, over this server's limit of 67108864$/);
    });

    it('gets a 413 for an oversized request and a 400 for garbage, and keeps serving', async () => {
      expect((await compile(req(`int x;\n// ${'x'.repeat(9 << 20)}\n`))).status).toBe(413);
      expect((await compile('{"source": ')).status).toBe(400);
      const h = await fetch(`${url}/health`);
      expect(h.status).toBe(200);
      expect(bodies.every((b) => !b.includes(secret))).toBe(true);
      // a normal compile still works after all of the above
      expect((await compile(req('#include "vmlinux.h"\nint after_attacks;\n'))).status).toBe(200);
    });
  });
});

describe.skipIf(missing.length > 0)('coolbpf-gen serve as a process', () => {
  it('stops on SIGTERM, also when whoever read its log is gone', async () => {
    const { spawn } = await import('node:child_process');
    const child = spawn(process.execPath, [bin, 'serve', '--port', '0', '--store', join(dir, 'store-process')], { stdio: ['ignore', 'ignore', 'pipe'] });
    try {
      const addr = await new Promise<string>((resolve, reject) => {
        let err = '';
        child.stderr!.on('data', (c) => {
          err += c;
          const m = /serving on (http:\/\/\S+)/.exec(err);
          if (m) resolve(m[1]!);
        });
        child.once('exit', (code) => reject(new Error(`serve exited ${code}: ${err}`)));
      });
      expect((await fetch(`${addr}/health`)).status).toBe(200);
      // the log's reader goes away; the server's next line ("SIGTERM: stopping") meets a closed pipe
      child.stderr!.destroy();
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      const code = await Promise.race([exited, new Promise<string>((r) => setTimeout(() => r('still running'), 10_000))]);
      expect(code).toBe(0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
  });
});

describe.skipIf(missing.length > 0)('build server limits', () => {
  let small: BuildServer | undefined;
  let smallUrl = '';
  beforeAll(async () => {
    const ctx: BuildContext = {
      cwd: dir,
      env: process.env,
      home: homedir(),
      arch: process.arch,
      hostEndianness: endianness(),
      progress: () => {},
      passthrough: () => {},
    };
    // seeded with --btf FILE=RELEASE as well as the running kernel
    const btf = existsSync(sharedBtf) ? [`${sharedBtf}=6.1.0-seeded`] : [];
    small = await serve({ host: '127.0.0.1', port: 0, store: join(dir, 'store-small'), btf, token: undefined, jobs: 1, queue: 0, timeout: 3, memoryMb: 1024, cacheMb: 64 }, ctx);
    smallUrl = `http://127.0.0.1:${(small.server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await small?.close();
  });

  it('is seeded with its own kernel and the --btf files', async () => {
    const list = (await (await fetch(`${smallUrl}/btf`)).json()) as { release: string; source: string }[];
    expect(list).toContainEqual(expect.objectContaining({ release: release(), source: '/sys/kernel/btf/vmlinux' }));
    if (existsSync(sharedBtf)) expect(list).toContainEqual(expect.objectContaining({ release: '6.1.0-seeded', source: sharedBtf }));
  });

  // 2^26 tokens from 26 lines of macros: far more time and memory than the limits allow
  const bomb = [...Array.from({ length: 27 }, (_, i) => (i === 0 ? '#define A0 1+' : `#define A${i} A${i - 1} A${i - 1}`)), 'int y = A26 1;'].join('\n');

  it('a client told 503 waits for Retry-After and tries again', async () => {
    const busy = fetch(`${smallUrl}/compile`, { method: 'POST', body: JSON.stringify(req(`${bomb}\n// busy\n`)) });
    await new Promise((r) => setTimeout(r, 300));
    const out = join(dir, 'retried');
    const r = await cli(['build', 'examples/hello/hello.bpf.c', '--remote', smallUrl, '--out', out]);
    expect(r.status, r.stderr).toBe(0);
    expect(r.stderr).toContain('coolbpf-gen: server busy, retrying in 5 s (1/4)');
    expect(existsSync(join(out, 'bpf.so'))).toBe(true);
    expect((await busy).status).not.toBe(200);
  });

  it('stops a compile that runs over its time or memory, and keeps serving', async () => {
    const started = Date.now();
    const r = await fetch(`${smallUrl}/compile`, { method: 'POST', body: JSON.stringify(req(`${bomb}\n`)) });
    const body = (await r.json()) as { error: string; diagnostics: string };
    expect([504, 422], JSON.stringify(body).slice(0, 300)).toContain(r.status);
    if (r.status === 504) expect(body.error).toMatch(/over its limit of 3 s wall-clock or 3 s CPU/);
    else expect(body.diagnostics).toMatch(/out of memory|Killed|LLVM ERROR|Allocation failed/i);
    expect(Date.now() - started).toBeLessThan(30_000);
    expect((await fetch(`${smallUrl}/health`)).status).toBe(200);
    const metrics = await (await fetch(`${smallUrl}/metrics`)).text();
    expect(metrics).toMatch(/^coolbpf_compiles_total\{result="(timeout|error)"\} [1-9]$/m);
    expect((await fetch(`${smallUrl}/compile`, { method: 'POST', body: JSON.stringify(req('int fine;\n')) })).status).toBe(200);
  });
});
