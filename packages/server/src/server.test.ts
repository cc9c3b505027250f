import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createBuildServer, type BuildServer, type CompileJob, type CompileOutcome, type Compiler } from './server.js';
import { decodeTar } from './tar.js';
import { smallBtf } from './testBtf.testutil.js';

/** A compiler that echoes the submission back, after `gate` if one is set. */
class FakeCompiler implements Compiler {
  readonly toolchain = 'fake 1';
  readonly arches = ['x86_64'] as const;
  jobs: CompileJob[] = [];
  gate: Promise<void> | null = null;
  seen: string[] = [];
  async compile(job: CompileJob): Promise<CompileOutcome> {
    this.jobs.push(job);
    this.seen.push(readFileSync(join(job.srcDir, job.request.source.path), 'utf8'));
    if (this.gate) await this.gate;
    if (job.request.source.text.includes('ERROR')) return { ok: false, result: 'error', message: 'compilation failed', diagnostics: 'p.bpf.c:1:1: error: nope\n' };
    if (job.request.source.text.includes('THROW')) throw new Error('compiler broke');
    const warnings = job.request.source.text.includes('WARN') ? 'p.bpf.c:1:1: warning: careful\n' : '';
    return { ok: true, files: [{ path: 'bpf.o', mode: 0o644, bytes: Buffer.from(`obj:${job.request.source.text}`) }], warnings };
  }
}

let store: string;
let fake: FakeCompiler;
let bs: BuildServer;
let base: string;

async function start(o: { token?: string; concurrency?: number; maxQueued?: number; maxRequestBytes?: number; timeouts?: { headers: number; request: number } } = {}): Promise<void> {
  bs = createBuildServer({ store, compiler: fake, defaultArch: 'x86_64', concurrency: o.concurrency ?? 2, maxQueued: o.maxQueued ?? 4, token: o.token, maxRequestBytes: o.maxRequestBytes, timeouts: o.timeouts });
  await new Promise<void>((r) => bs.server.listen(0, '127.0.0.1', r));
  base = `http://127.0.0.1:${(bs.server.address() as AddressInfo).port}`;
  bs.store.add(smallBtf(), { release: '6.1.0-test', arch: 'x86_64', source: 'test' });
}

beforeEach(() => {
  store = mkdtempSync(join(tmpdir(), 'coolbpf-server-'));
  // a job directory a killed server left behind
  mkdirSync(join(store, 'jobs', 'job-stale'), { recursive: true });
  fake = new FakeCompiler();
});
afterEach(async () => {
  await bs.close();
  rmSync(store, { recursive: true, force: true });
});

const request = (text = 'int x;', extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  source: { path: 'p.bpf.c', text },
  target: { release: '6.1.0-test' },
  arch: 'x86_64',
  ...extra,
});
// eslint-disable-next-line @typescript-eslint/no-explicit-any
const json = async (r: Response): Promise<any> => r.json();
const post = (body: unknown, headers: Record<string, string> = {}): Promise<Response> =>
  fetch(`${base}/compile`, { method: 'POST', body: typeof body === 'string' ? body : JSON.stringify(body), headers: { 'Content-Type': 'application/json', ...headers } });

describe('build server', () => {
  it('compiles, answers an archive, then serves the same request from the cache', async () => {
    await start();
    const r = await post(request('int a;', { headers: [{ path: 'inc/h.h', text: '#define A 1' }] }));
    expect(r.status).toBe(200);
    expect(r.headers.get('content-type')).toBe('application/x-tar');
    expect(r.headers.get('x-coolbpf-cache')).toBe('miss');
    const files = decodeTar(new Uint8Array(await r.arrayBuffer()));
    expect(files.map((f) => [f.path, Buffer.from(f.bytes).toString()])).toEqual([['bpf.o', 'obj:int a;']]);
    expect(fake.seen).toEqual(['int a;']);
    // the job's directory is gone afterwards, and so is the stale one
    expect(existsSync(fake.jobs[0]!.workDir)).toBe(false);
    expect(readdirSync(join(store, 'jobs'))).toEqual([]);
    const again = await post(request('int a;', { headers: [{ path: 'inc/h.h', text: '#define A 1' }] }));
    expect(again.headers.get('x-coolbpf-cache')).toBe('hit');
    expect(again.headers.get('x-coolbpf-key')).toBe(r.headers.get('x-coolbpf-key'));
    expect(fake.jobs).toHaveLength(1);
    // a client that holds the outputs revalidates with the key
    const etag = r.headers.get('etag')!;
    expect(etag).toBe(`"${r.headers.get('x-coolbpf-key')}"`);
    const same = await post(request('int a;', { headers: [{ path: 'inc/h.h', text: '#define A 1' }] }), { 'If-None-Match': etag });
    expect(same.status).toBe(304);
    expect((await same.arrayBuffer()).byteLength).toBe(0);
    expect((await post(request('int b;'), { 'If-None-Match': etag })).status).toBe(200);
    expect(fake.jobs).toHaveLength(2);
    // a different header is a different compile
    await post(request('int a;', { headers: [{ path: 'inc/h.h', text: '#define A 2' }] }));
    expect(fake.jobs).toHaveLength(3);
  });

  it('sends the archive gzipped to a client that takes gzip, plain to one that does not', async () => {
    await start();
    const { request: httpRequest } = await import('node:http');
    const raw = (encoding: string | null): Promise<{ headers: Record<string, unknown>; body: Buffer }> => new Promise((resolve, reject) => {
      const body = JSON.stringify(request('int gz;'));
      const req = httpRequest(`${base}/compile`, { method: 'POST', headers: { 'Content-Type': 'application/json', ...(encoding ? { 'Accept-Encoding': encoding } : {}) } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) }));
      });
      req.on('error', reject);
      req.end(body);
    });
    const gz = await raw('gzip, deflate');
    expect(gz.headers['content-encoding']).toBe('gzip');
    const plain = await raw(null);
    expect(plain.headers['content-encoding']).toBeUndefined();
    expect(plain.headers['x-coolbpf-cache']).toBe('hit');
    expect(gunzipSync(gz.body)).toEqual(plain.body);
    expect(decodeTar(new Uint8Array(plain.body)).map((f) => f.path)).toEqual(['bpf.o']);
  });

  it("carries clang's warnings in the archive, also from the cache; refuses an arch it does not build for", async () => {
    await start();
    for (const cache of ['miss', 'hit']) {
      const r = await post(request('int WARN;'));
      expect(r.headers.get('x-coolbpf-cache')).toBe(cache);
      const files = decodeTar(new Uint8Array(await r.arrayBuffer()));
      expect(files.map((f) => [f.path, Buffer.from(f.bytes).toString()])).toEqual([['bpf.o', 'obj:int WARN;'], ['coolbpf-clang-warnings.txt', 'p.bpf.c:1:1: warning: careful\n']]);
    }
    const arm = await post(request('int a;', { arch: 'arm64' }));
    expect(arm.status).toBe(400);
    expect((await json(arm)).error).toBe('arch arm64: this server builds for x86_64 only');
  });

  it('shares one compile between identical concurrent requests', async () => {
    await start();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const all = Array.from({ length: 5 }, () => post(request('int shared;')));
    await new Promise((r) => setTimeout(r, 100));
    open();
    const rs = await Promise.all(all);
    expect(rs.map((r) => r.status)).toEqual([200, 200, 200, 200, 200]);
    expect(rs.map((r) => r.headers.get('x-coolbpf-cache')).sort()).toEqual(['miss', 'shared', 'shared', 'shared', 'shared']);
    expect(fake.jobs).toHaveLength(1);
  });

  it('answers 503 with Retry-After beyond the queue, and recovers', async () => {
    await start({ concurrency: 1, maxQueued: 1 });
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const first = post(request('int a;'));
    const second = post(request('int b;'));
    await new Promise((r) => setTimeout(r, 100));
    const third = await post(request('int c;'));
    expect(third.status).toBe(503);
    expect(third.headers.get('retry-after')).toBe('5');
    expect((await json(third)).error).toMatch(/server busy/);
    open();
    expect((await first).status).toBe(200);
    expect((await second).status).toBe(200);
    expect((await post(request('int c;'))).status).toBe(200);
    const metrics = await (await fetch(`${base}/metrics`)).text();
    expect(metrics).toContain('coolbpf_overload_total 1\n');
    expect(metrics).toContain('coolbpf_compiles_total{result="ok"} 3\n');
  });

  it('gives clang diagnostics with 422, the reason with 400/404/413, 500 when the compiler breaks, and keeps serving', async () => {
    await start({ maxRequestBytes: 4096 });
    const e = await post(request('ERROR'));
    expect(e.status).toBe(422);
    expect(await json(e)).toEqual({ error: 'compilation failed', diagnostics: 'p.bpf.c:1:1: error: nope\n' });
    const bad = await post('{not json');
    expect(bad.status).toBe(400);
    expect((await json(bad)).error).toMatch(/not JSON/);
    const evil = await post(request('int x;', { headers: [{ path: '../../etc/cron.d/x', text: '' }] }));
    expect(evil.status).toBe(400);
    const unknown = await post(request('int x;', { target: { release: '4.19.0' } }));
    expect(unknown.status).toBe(404);
    expect((await json(unknown)).error).toMatch(/no BTF for kernel release '4.19.0'/);
    const big = await post(request('x'.repeat(10_000)));
    expect(big.status).toBe(413);
    const boom = await post(request('THROW'));
    expect(boom.status).toBe(500);
    expect((await json(boom)).error).toMatch(/compiler broke/);
    expect((await fetch(`${base}/nope`)).status).toBe(404);
    const h = await fetch(`${base}/health`);
    expect(h.status).toBe(200);
    expect((await json(h)).ok).toBe(true);
  });

  it('survives a client that goes away while its compile runs, and still caches the result', async () => {
    await start();
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const ac = new AbortController();
    const stays = post(request('int stays;'));
    const aborted = fetch(`${base}/compile`, { method: 'POST', body: JSON.stringify(request('int left;')), signal: ac.signal }).catch((e: unknown) => (e as Error).name);
    await new Promise((r) => setTimeout(r, 100));
    ac.abort();
    expect(await aborted).toBe('AbortError');
    open();
    expect((await stays).status).toBe(200);
    const again = await post(request('int left;'));
    expect(again.status).toBe(200);
    expect(again.headers.get('x-coolbpf-cache')).toBe('hit');
  });

  it('closes connections that send their headers or body too slowly', async () => {
    await start({ timeouts: { headers: 300, request: 600 } });
    const { connect } = await import('node:net');
    const port = Number(new URL(base).port);
    const answer = (send: (s: import('node:net').Socket) => void): Promise<string> =>
      new Promise((resolve) => {
        const s = connect(port, '127.0.0.1', () => send(s));
        let got = '';
        s.on('data', (c) => (got += c));
        s.on('close', () => resolve(got));
      });
    const t0 = Date.now();
    // headers never finished
    expect(await answer((s) => s.write('POST /compile HTTP/1.1\r\nHost: x\r\n'))).toMatch(/^HTTP\/1.1 408/);
    // headers done, body trickling
    expect(await answer((s) => s.write('POST /compile HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n{'))).toMatch(/^HTTP\/1.1 408|^$/);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect((await fetch(`${base}/health`)).status).toBe(200);
    expect(await (await fetch(`${base}/metrics`)).text()).toMatch(/^coolbpf_http_requests_total\{status="408"\} [12]$/m);
  });

  it('lets a compile run longer than the request timeout once the request is in', async () => {
    await start({ timeouts: { headers: 300, request: 600 } });
    let open!: () => void;
    fake.gate = new Promise((r) => (open = r));
    const slow = post(request('int slow;'));
    setTimeout(open, 2500);
    expect((await slow).status).toBe(200);
  });

  it('needs the bearer token for everything but /health', async () => {
    await start({ token: 's3cret' });
    expect((await fetch(`${base}/health`)).status).toBe(200);
    const no = await post(request());
    expect(no.status).toBe(401);
    expect((await post(request(), { Authorization: 'Bearer wrong!' })).status).toBe(401);
    expect((await fetch(`${base}/btf`)).status).toBe(401);
    expect((await fetch(`${base}/metrics`)).status).toBe(401);
    expect((await post(request(), { Authorization: 'Bearer s3cret' })).status).toBe(200);
  });

  it('uploads, lists and serves BTF', async () => {
    await start();
    const btf = smallBtf('globals');
    const up = await fetch(`${base}/btf?release=6.2.0-up&arch=x86_64`, { method: 'POST', body: btf });
    expect(up.status).toBe(201);
    const entry = await json(up);
    expect(entry).toMatchObject({ release: '6.2.0-up', arch: 'x86_64', size: btf.length, source: 'upload' });
    const list = await json(await fetch(`${base}/btf`));
    expect(list.map((e: { release: string }) => e.release).sort()).toEqual(['6.1.0-test', '6.2.0-up']);
    const got = await fetch(`${base}/btf/6.2.0-up`);
    expect(got.headers.get('x-coolbpf-btf')).toBe(entry.sha256);
    expect(Buffer.from(await got.arrayBuffer()).equals(Buffer.from(btf))).toBe(true);
    expect((await fetch(`${base}/btf/6.2.0-up?arch=arm64`)).status).toBe(404);
    expect((await fetch(`${base}/btf/..%2F..%2Fetc%2Fpasswd`)).status).toBe(400);
    expect((await fetch(`${base}/btf?release=x`, { method: 'POST', body: 'garbage' })).status).toBe(400);
    // compiling against it by its sha
    const r = await post(request('int y;', { target: { btf: entry.sha256 } }));
    expect(r.status).toBe(200);
    expect(fake.jobs[0]!.btf.release).toBe('6.2.0-up');
  });
});
