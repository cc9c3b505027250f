import { timingSafeEqual } from 'node:crypto';
import { chmodSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { join } from 'node:path';
import { gunzipSync, gzipSync } from 'node:zlib';
import { ArtifactCache } from './artifacts.js';
import { BtfStore, type BtfEntry } from './btfStore.js';
import { HttpError, badRequest } from './errors.js';
import { Metrics } from './metrics.js';
import { writeTree } from './paths.js';
import { CompileQueue, InFlight } from './queue.js';
import { checkArch, checkRelease, type Arch, type CompileRequest } from './request.js';
import { RequestMemo } from './requestMemo.js';
import { encodeTar, WARNINGS_ENTRY, type TarEntry } from './tar.js';

/** One compile, as the server hands it to the Compiler. */
export interface CompileJob {
  readonly request: CompileRequest;
  readonly btf: BtfEntry;
  readonly btfPath: string;
  /** a fresh directory for this compile alone, removed afterwards */
  readonly workDir: string;
  /** inside workDir: the submission (source and headers), written by the server */
  readonly srcDir: string;
}

export type CompileOutcome =
  | { readonly ok: true; readonly files: readonly TarEntry[]; readonly warnings?: string }
  | { readonly ok: false; readonly result: 'error' | 'timeout'; readonly message: string; readonly diagnostics: string };

/** What turns a submission into outputs; the CLI provides the real one (coolbpf-gen's build). */
export interface Compiler {
  /** changes whenever outputs could: coolbpf-gen, clang, cc, runtime, generators */
  readonly toolchain: string;
  readonly arches: readonly Arch[];
  compile(job: CompileJob): Promise<CompileOutcome>;
  /** releases what it holds (worker threads) */
  close?(): Promise<void>;
}

export interface ServerOptions {
  readonly store: string;
  readonly compiler: Compiler;
  /** when set, every request but GET /health needs `Authorization: Bearer <token>` */
  readonly token?: string;
  readonly concurrency: number;
  /** compiles that may wait for a slot; more get 503 */
  readonly maxQueued: number;
  readonly maxRequestBytes?: number;
  readonly maxBtfBytes?: number;
  /** archives kept on disk, least recently used dropped first (default 4 GiB) */
  readonly maxCacheBytes?: number;
  /** for GET /btf/<release> without ?arch= */
  readonly defaultArch: Arch;
  /** seconds; the socket idle limit is this plus a margin */
  readonly compileTimeout?: number;
  readonly log?: (line: string) => void;
  /** HTTP limits in ms: all headers within `headers` (15 s), the whole request within `request` (60 s), idle keep-alive `keepAlive` (5 s) */
  readonly timeouts?: { readonly headers?: number; readonly request?: number; readonly keepAlive?: number };
}

export interface BuildServer {
  readonly server: Server;
  readonly metrics: Metrics;
  readonly store: BtfStore;
  readonly queue: CompileQueue;
  /** stops listening, ends open connections after `graceMs`, closes the compiler */
  close(graceMs?: number): Promise<void>;
}

const JSON_TYPE = 'application/json';

function send(res: ServerResponse, status: number, body: string | Buffer, headers: Record<string, string | number> = {}): void {
  if (res.headersSent) {
    res.destroy();
    return;
  }
  res.writeHead(status, { 'Content-Length': Buffer.byteLength(body), ...headers });
  res.end(body);
}

function sendJson(res: ServerResponse, status: number, value: unknown, headers: Record<string, string> = {}): void {
  send(res, status, `${JSON.stringify(value)}\n`, { 'Content-Type': JSON_TYPE, ...headers });
}

/** The body, at most `limit` bytes (413 beyond, without reading the rest). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  const declared = Number(req.headers['content-length']);
  if (Number.isFinite(declared) && declared > limit) return Promise.reject(new HttpError(413, `request body of ${declared} bytes is over the limit of ${limit}`));
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > limit) {
        reject(new HttpError(413, `request body is over the limit of ${limit} bytes`));
        req.removeAllListeners('data');
        req.resume();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

/**
 * The build server's HTTP API (Node's http only):
 *   POST /compile            JSON CompileRequest → application/x-tar (see tar.ts), 422 with clang's diagnostics;
 *                            ETag is the cache key, and If-None-Match with it answers 304
 *   GET  /btf                stored BTFs as JSON
 *   POST /btf?release=R&arch=A   raw or gzipped BTF body → 201 and its entry
 *   GET  /btf/<release>[?arch=A] the raw BTF
 *   GET  /health, GET /metrics (Prometheus text)
 * Errors are JSON `{"error": "…"}`. Nothing a request does escapes its handler.
 */
export function createBuildServer(o: ServerOptions): BuildServer {
  const store = new BtfStore(o.store);
  const artifacts = new ArtifactCache(o.store, o.maxCacheBytes);
  const metrics = new Metrics();
  const queue = new CompileQueue(o.concurrency, o.maxQueued);
  const inFlight = new InFlight<{ archive: Buffer; key: string }>();
  const requests = new RequestMemo(o.compiler.toolchain);
  const jobsDir = join(o.store, 'jobs');
  // what a killed server left (one server per store)
  rmSync(jobsDir, { recursive: true, force: true });
  mkdirSync(jobsDir, { recursive: true });
  // the sandboxed compiler (another uid) passes through it to its own job directory
  chmodSync(jobsDir, 0o711);
  const maxRequest = o.maxRequestBytes ?? 8 << 20;
  const maxBtf = o.maxBtfBytes ?? 128 << 20;
  const token = o.token ? Buffer.from(`Bearer ${o.token}`) : null;
  const log = o.log ?? (() => {});

  const authorized = (req: IncomingMessage): boolean => {
    if (!token) return true;
    const got = Buffer.from(req.headers.authorization ?? '');
    return got.length === token.length && timingSafeEqual(got, token);
  };

  async function compileOnce(request: CompileRequest, btf: BtfEntry, key: string): Promise<{ archive: Buffer; key: string }> {
    return queue.run(async () => {
      const workDir = mkdtempSync(join(jobsDir, 'job-'));
      const started = process.hrtime.bigint();
      const seconds = (): number => Number(process.hrtime.bigint() - started) / 1e9;
      try {
        chmodSync(workDir, 0o711);
        const srcDir = join(workDir, 'src');
        mkdirSync(srcDir, { mode: 0o755 });
        const enc = (t: string): Uint8Array => Buffer.from(t, 'utf8');
        writeTree(srcDir, [{ path: request.source.path, bytes: enc(request.source.text) }, ...request.headers.map((h) => ({ path: h.path, bytes: enc(h.text) }))]);
        let outcome: CompileOutcome;
        try {
          outcome = await o.compiler.compile({ request, btf, btfPath: store.path(btf), workDir, srcDir });
        } catch (e) {
          metrics.compiled('failed', seconds());
          throw e;
        }
        metrics.compiled(outcome.ok ? 'ok' : outcome.result, seconds());
        if (!outcome.ok) {
          const status = outcome.result === 'timeout' ? 504 : 422;
          throw new HttpError(status, outcome.message, { diagnostics: outcome.diagnostics });
        }
        const warnings = outcome.warnings ? [{ path: WARNINGS_ENTRY, mode: 0o644, bytes: Buffer.from(outcome.warnings, 'utf8') }] : [];
        // kept and sent gzipped: bpf.so and the wrappers shrink to a third, and
        // a hit is then served without compressing again
        const archive = gzipSync(encodeTar([...outcome.files, ...warnings]));
        artifacts.put(key, archive);
        return { archive, key };
      } finally {
        rmSync(workDir, { recursive: true, force: true });
      }
    });
  }

  async function compile(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const parsed = requests.parse(await readBody(req, maxRequest));
    const { request } = parsed;
    if (!o.compiler.arches.includes(request.arch)) throw badRequest(`arch ${request.arch}: this server builds for ${o.compiler.arches.join(', ')} only`);
    const btf = store.find(request.target, request.arch);
    const key = parsed.key(btf.sha256);
    const headers = (cache: string): Record<string, string> => ({ 'Content-Type': 'application/x-tar', 'X-Coolbpf-Key': key, 'X-Coolbpf-Cache': cache, 'X-Coolbpf-Btf': btf.sha256, ETag: `"${key}"` });
    // the key names the outputs' content: a client holding them needs no bytes
    if (req.headers['if-none-match'] === `"${key}"`) {
      metrics.cacheHits++;
      res.writeHead(304, headers('hit'));
      res.end();
      return;
    }
    // the archive as gzip when the client takes it (fetch does), else plain
    const gzipOk = /\bgzip\b/.test(String(req.headers['accept-encoding'] ?? ''));
    const sendArchive = (gz: Buffer, cache: string): void => {
      if (gzipOk) send(res, 200, gz, { ...headers(cache), 'Content-Encoding': 'gzip', Vary: 'Accept-Encoding' });
      else send(res, 200, gunzipSync(gz), { ...headers(cache), Vary: 'Accept-Encoding' });
    };
    const cached = artifacts.get(key);
    if (cached) {
      metrics.cacheHits++;
      sendArchive(cached, 'hit');
      return;
    }
    const { promise, shared } = inFlight.share(key, () => compileOnce(request, btf, key));
    if (shared) metrics.sharedCompiles++;
    const { archive } = await promise;
    sendArchive(archive, shared ? 'shared' : 'miss');
  }

  async function btfUpload(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    const release = checkRelease(url.searchParams.get('release') ?? req.headers['x-coolbpf-release']);
    const arch = checkArch(url.searchParams.get('arch') ?? req.headers['x-coolbpf-arch'] ?? o.defaultArch);
    const body = await readBody(req, maxBtf);
    const entry = store.add(body, { release, arch, source: 'upload' });
    log(`stored BTF for ${release} (${arch}), ${entry.size} bytes`);
    sendJson(res, 201, entry);
  }

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://server');
    const route = `${req.method} ${url.pathname}`;
    if (route === 'GET /health') {
      sendJson(res, 200, { ok: true, running: queue.running, queued: queue.depth });
      return;
    }
    if (!authorized(req)) throw new HttpError(401, 'missing or wrong bearer token', {}, { 'WWW-Authenticate': 'Bearer' });
    if (route === 'GET /metrics') {
      send(res, 200, metrics.text({ queueDepth: queue.depth, running: queue.running, btfCount: store.list().length }), { 'Content-Type': 'text/plain; version=0.0.4' });
    } else if (route === 'POST /compile') {
      await compile(req, res);
    } else if (route === 'GET /btf') {
      sendJson(res, 200, store.list());
    } else if (route === 'POST /btf') {
      await btfUpload(req, res, url);
    } else if (req.method === 'GET' && url.pathname.startsWith('/btf/')) {
      const release = checkRelease(decodeURIComponent(url.pathname.slice('/btf/'.length)));
      const arch = checkArch(url.searchParams.get('arch') ?? o.defaultArch);
      const e = store.find({ release }, arch);
      send(res, 200, Buffer.from(store.read(e)), { 'Content-Type': 'application/octet-stream', 'X-Coolbpf-Btf': e.sha256 });
    } else {
      throw new HttpError(404, `no such endpoint: ${req.method} ${url.pathname}`);
    }
  }

  // how often slow requests are looked for: the header and request timeouts are checked this often
  const server = createServer({ connectionsCheckingInterval: 1000 }, (req, res) => {
    res.on('finish', () => metrics.answered(res.statusCode));
    handle(req, res).catch((e: unknown) => {
      if (e instanceof HttpError) {
        if (e.status === 503) metrics.overloads++;
        // a body we did not read must not be taken for the next request
        const close: Record<string, string> = e.status === 413 ? { Connection: 'close' } : {};
        sendJson(res, e.status, { error: e.message, ...e.extra }, { ...e.headers, ...close });
        if (e.status === 413) res.on('finish', () => req.destroy());
        return;
      }
      log(`internal error on ${req.method} ${req.url}: ${(e as Error)?.stack ?? String(e)}`);
      sendJson(res, 500, { error: `internal error: ${(e as Error)?.message ?? String(e)}` });
    });
  });
  server.headersTimeout = o.timeouts?.headers ?? 15_000;
  server.requestTimeout = o.timeouts?.request ?? 60_000;
  server.keepAliveTimeout = o.timeouts?.keepAlive ?? 5_000;
  server.timeout = ((o.compileTimeout ?? 120) + 60) * 1000;
  server.maxHeadersCount = 64;
  server.maxConnections = 1024;
  // what the parser or the timeouts refuse before a handler sees it
  server.on('clientError', (e: NodeJS.ErrnoException, socket) => {
    const status = e.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : e.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    metrics.answered(Number(status.slice(0, 3)));
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });
  const close = async (graceMs = 0): Promise<void> => {
    const closed = new Promise<void>((resolve) => server.close(() => resolve()));
    server.closeIdleConnections();
    const timer = setTimeout(() => server.closeAllConnections(), graceMs);
    await closed;
    clearTimeout(timer);
    await o.compiler.close?.();
  };
  return { server, metrics, store, queue, close };
}
