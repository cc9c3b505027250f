#!/usr/bin/env node
// Build server benchmark (coolbpf-gen serve). See docs/BENCHMARKS.md.
//
//   1. cached: 32 concurrent clients request an artifact the server has
//      cached (examples/hello, bpf.o + bpf.so + coolbpf.h, ~0.15 MB gzipped
//      archive), each client REQS requests back to back on a keep-alive
//      connection: per-request latency (request sent → last byte received),
//      errors. One such round first (reported on its own: the server's
//      first requests after start, before V8 has compiled its request
//      path), then the measured round. The same downloads from a bare
//      node:http server answering as many bytes (bench/server/bare.mjs),
//      also a first round and a measured one, are the peer.
//   2. cold: 100 concurrent requests for 100 distinct sources (hello plus a
//      unique global), no client retries: how many 200 and 503, anything
//      else, whether /health still answers, the server's peak RSS (VmHWM;
//      the compiles' worker threads are in it, clang runs as children).
//   3. overhead: one cold compile at a time, alternating with the same
//      file compiled locally: plain clang (the argv a local build uses),
//      clang in the server's sandbox alone (bwrap + setpriv + prlimit +
//      timeout), a whole remote request (sandboxed clang + strip + bpf.so
//      link + HTTP), and a local `coolbpf-gen build` process (the same work
//      without a server).
//
// The server is a child process (`coolbpf-gen serve --port 0`) with a
// fresh store; it needs root (its sandbox), bwrap and clang.

import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { Agent, request as httpRequest } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { dier, machineFacts, mdTable, median, pct, REPO, times, which } from './lib.mjs';

const die = dier('server');
const CLI = join(REPO, 'packages', 'cli', 'bin', 'coolbpf-gen.js');
const SOURCE = 'examples/hello/hello.bpf.c';
const TARGET_P99_MS = 20;
const TARGET_OVERHEAD = 1.1;

const USAGE = `usage: node bench/server.mjs [options]

  --clients N      concurrent clients for cached artifacts (default 32)
  --requests N     requests per client (default 50)
  --cold N         concurrent cold compiles of distinct sources (default 100)
  --rounds N       alternating rounds of the overhead comparison (default 11)
  --markdown       print only the markdown block for docs/BENCHMARKS.md
  --json           print the results as JSON
`;

function parseArgs(argv) {
  const o = { clients: 32, requests: 50, cold: 100, rounds: 11, markdown: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 1) die(`${a} needs a positive integer`);
      return v;
    };
    if (a === '--clients') o.clients = num();
    else if (a === '--requests') o.requests = num();
    else if (a === '--cold') o.cold = num();
    else if (a === '--rounds') o.rounds = num();
    else if (a === '--markdown') o.markdown = true;
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); process.exit(0); }
    else die(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

/** POST /compile over an agent; resolves with status, bytes and latency in ms. */
function post(url, agent, body, headers = {}) {
  return new Promise((resolve) => {
    const t0 = process.hrtime.bigint();
    const req = httpRequest(`${url}/compile`, { method: 'POST', agent, headers: { 'Content-Type': 'application/json', 'Content-Length': Buffer.byteLength(body), 'Accept-Encoding': 'gzip', ...headers } }, (res) => {
      let bytes = 0;
      res.on('data', (c) => (bytes += c.length));
      res.on('end', () => resolve({ status: res.statusCode, bytes, ms: Number(process.hrtime.bigint() - t0) / 1e6, cache: res.headers['x-coolbpf-cache'], etag: res.headers.etag }));
      res.on('error', (e) => resolve({ status: 0, error: e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    });
    req.on('error', (e) => resolve({ status: 0, error: e.message, ms: Number(process.hrtime.bigint() - t0) / 1e6 }));
    req.end(body);
  });
}

function requestBody(release, text, defines = []) {
  return JSON.stringify({ source: { path: SOURCE, text }, target: { release }, arch: 'x86_64', defines });
}

function startServer(store) {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI, 'serve', '--port', '0', '--store', store], { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (c) => {
      err += c;
      const m = /serving on (http:\/\/\S+)/.exec(err);
      if (m) resolve({ child, url: m[1], log: () => err });
    });
    child.on('exit', (code) => reject(new Error(`coolbpf-gen serve exited ${code}:\n${err}`)));
  });
}

/**
 * o.clients concurrent clients, each o.requests requests back to back on its
 * keep-alive connection of `agent`; `ok(r)` says whether an answer is right.
 */
async function downloads(url, agent, body, o, headers, ok) {
  const lat = [];
  let errors = 0;
  const t0 = process.hrtime.bigint();
  await Promise.all(Array.from({ length: o.clients }, async () => {
    for (let i = 0; i < o.requests; i++) {
      const r = await post(url, agent, body, headers);
      if (!ok(r)) errors++;
      lat.push(r.ms);
    }
  }));
  const seconds = Number(process.hrtime.bigint() - t0) / 1e9;
  return { ...summary(lat), errors, requestsPerSecond: lat.length / seconds };
}

/**
 * The first round of downloads after a server starts (its request path not
 * yet compiled by V8), then the measured one: the same number of requests
 * again on the same connections.
 */
async function firstThenSteady(url, agent, body, o, headers, ok) {
  const first = await downloads(url, agent, body, o, headers, ok);
  return { ...(await downloads(url, agent, body, o, headers, ok)), first };
}

/** The same downloads from bench/server/bare.mjs: what node:http itself does with bodies of that size here. */
async function bareServer(size, o, body) {
  const child = spawn(process.execPath, [join(REPO, 'bench', 'server', 'bare.mjs'), String(size)], { stdio: ['ignore', 'pipe', 'inherit'] });
  try {
    const port = await new Promise((resolve, reject) => {
      child.stdout.once('data', (c) => resolve(Number(String(c).trim())));
      child.once('exit', (code) => reject(new Error(`bare server exited ${code}`)));
    });
    const url = `http://127.0.0.1:${port}`;
    const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
    for (let i = 0; i < o.clients; i++) await post(url, agent, body);
    const result = await firstThenSteady(url, agent, body, o, {}, (r) => r.status === 200 && r.bytes === size);
    agent.destroy();
    return result;
  } finally {
    child.kill('SIGTERM');
  }
}

const peakRss = (pid) => Number(/VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
const summary = (xs) => ({ n: xs.length, median: median(xs), p50: pct(xs, 50), p90: pct(xs, 90), p99: pct(xs, 99), max: Math.max(...xs), min: Math.min(...xs) });

function wall(cmd, args, opts = {}) {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { cwd: REPO, stdio: ['ignore', 'ignore', 'pipe'], ...opts });
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed: ${r.stderr}`);
  return ms;
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) die('the build server needs root (its sandbox runs compiles as nobody)');
  for (const t of ['bwrap', 'clang-16', 'bpftool', 'cc']) if (!which(t) && !which(`/usr/sbin/${t}`)) die(`${t} not found (npm run setup installs it)`);
  const facts = machineFacts();
  const work = mkdtempSync(join(tmpdir(), 'coolbpf-bench-server-'));
  const store = join(work, 'store');
  const { child, url } = await startServer(store);
  // whatever ends this process ends the server too
  process.on('exit', () => child.kill('SIGKILL'));
  const results = { facts, options: o };
  try {
    const release = JSON.parse((await (await fetch(`${url}/btf`)).text()))[0].release;
    const text = readFileSync(join(REPO, SOURCE), 'utf8');

    // 1. cached
    const warm = await post(url, undefined, requestBody(release, text));
    if (warm.status !== 200) throw new Error(`first compile failed: HTTP ${warm.status}`);
    const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
    const body = requestBody(release, text);
    for (let i = 0; i < o.clients; i++) await post(url, agent, body); // open the connections
    // full downloads, then revalidations (If-None-Match: the key → 304, what a client holding the outputs sends)
    const hit = (status, bytes) => (r) => r.status === status && r.cache === 'hit' && r.bytes === bytes;
    results.cached = { ...(await firstThenSteady(url, agent, body, o, {}, hit(200, warm.bytes))), archiveBytes: warm.bytes };
    results.revalidated = await downloads(url, agent, body, o, { 'If-None-Match': warm.etag }, hit(304, 0));
    agent.destroy();
    results.bare = await bareServer(warm.bytes, o, body);

    // 2. cold burst
    const burstAgent = new Agent({ keepAlive: false, maxSockets: Infinity });
    const tb = process.hrtime.bigint();
    const burst = await Promise.all(Array.from({ length: o.cold }, (_, i) => post(url, burstAgent, requestBody(release, `${text}\nint bench_cold_${process.pid}_${i};\n`))));
    const burstSeconds = Number(process.hrtime.bigint() - tb) / 1e9;
    const count = (s) => burst.filter((r) => r.status === s).length;
    const health = await fetch(`${url}/health`).then((r) => r.status).catch(() => 0);
    results.cold = {
      n: o.cold, ok: count(200), busy: count(503), other: burst.filter((r) => r.status !== 200 && r.status !== 503).map((r) => r.status || r.error),
      seconds: burstSeconds, okLatency: summary(burst.filter((r) => r.status === 200).map((r) => r.ms)), health, serverPeakRssMb: peakRss(child.pid),
    };

    // 3. overhead, alternating
    const vmlinuxDir = join(work, 'vmlinux');
    const header = readdirSync(join(store, 'vmlinux')).find((f) => f.endsWith('.h'));
    spawnSync('mkdir', ['-p', vmlinuxDir]);
    spawnSync('ln', ['-sf', join(store, 'vmlinux', header), join(vmlinuxDir, 'vmlinux.h')]);
    const { runtime } = await import(join(REPO, 'packages', 'runtime-c', 'index.js'));
    const clangArgs = (outDir) => ['-g', '-O2', '-target', 'bpf', '-mcpu=v3', '-D__TARGET_ARCH_x86', '-Wall', '-I', vmlinuxDir, '-I', 'examples/hello', '-I', runtime.libbpfIncludeDir, '-I', runtime.includeDir, '-c', SOURCE, '-o', join(outDir, 'bpf.o')];
    const { sandboxHost, sandboxedClang } = await import(join(REPO, 'packages', 'cli', 'dist', 'remote', 'sandbox.js'));
    const clangPath = which('clang-16');
    const host = sandboxHost({ name: 'clang', path: clangPath, args: [] }, process.env);
    const sandboxed = sandboxedClang(host, { memoryBytes: 4 * 2 ** 30, cpuSeconds: 120, wallSeconds: 120 });
    const rows = { clang: [], sandboxed: [], remote: [], local: [] };
    for (let round = -1; round < o.rounds; round++) {
      const out = mkdtempSync(join(work, 'o-'));
      const a = wall(clangPath, clangArgs(out));
      const sbOut = mkdtempSync(join(work, 's-'));
      const t1 = process.hrtime.bigint();
      const r = sandboxed({ name: 'clang', path: clangPath, args: [] }, clangArgs(sbOut), { cwd: REPO }, { cwd: REPO, writeDir: sbOut, readDirs: [vmlinuxDir, join(store, 'vmlinux'), runtime.libbpfIncludeDir, runtime.includeDir] });
      const b = Number(process.hrtime.bigint() - t1) / 1e6;
      if (r.status !== 0) throw new Error(`sandboxed clang failed (status ${r.status}, signal ${r.signal}): ${r.stderr}`);
      const rr = await post(url, undefined, requestBody(release, text, [`BENCH_NONCE=${process.pid}_${round}`]));
      if (rr.status !== 200 || rr.cache !== 'miss') throw new Error(`remote cold compile: HTTP ${rr.status} ${rr.cache}`);
      const d = wall(process.execPath, [CLI, 'build', SOURCE, '--out', join(work, `l-${round}`), '--cflags', `-DBENCH_NONCE=${process.pid}_${round}`], { env: { ...process.env, COOLBPF_CACHE: store } });
      if (round >= 0) {
        rows.clang.push(a);
        rows.sandboxed.push(b);
        rows.remote.push(rr.ms);
        rows.local.push(d);
      }
    }
    results.overhead = Object.fromEntries(Object.entries(rows).map(([k, v]) => [k, summary(v)]));
    results.overhead.sandboxRatio = median(rows.sandboxed) / median(rows.clang);
    results.overhead.remoteVsClang = median(rows.remote) / median(rows.clang);
    results.overhead.remoteVsLocal = median(rows.remote) / median(rows.local);
    results.alive = await fetch(`${url}/health`).then((r) => r.status === 200).catch(() => false);
    results.metrics = await fetch(`${url}/metrics`).then((r) => r.text());
  } finally {
    child.kill('SIGTERM');
    await new Promise((r) => { child.once('exit', r); setTimeout(r, 3000); });
    if (child.exitCode === null) child.kill('SIGKILL');
    rmSync(work, { recursive: true, force: true });
  }
  if (o.json) { process.stdout.write(`${JSON.stringify(results, null, 2)}\n`); return; }
  process.stdout.write(`${markdown(results)}\n`);
}

const ms = (x) => `${x.toFixed(2)} ms`;
const s = (x) => `${(x / 1000).toFixed(2)} s`;

function markdown(r) {
  const f = r.facts;
  const c = r.cached;
  const k = r.cold;
  const ov = r.overhead;
  const line = (name, x, fmt) => [name, fmt(x.median), fmt(x.p90), `${fmt(x.min)} – ${fmt(x.max)}`];
  return [
    `#### ${f.date.slice(0, 10)} — ${f.cpu.split(' ').slice(0, 2).join(' ')}, ${f.cores} cores, Linux ${f.kernel}`,
    '',
    `- Server: \`coolbpf-gen serve --port 0\` as a child process, fresh store, default limits (${f.cores} compile slots, queue ${16 * f.cores}); clients in the benchmark process (node:http); measured ${f.date}; Node ${f.node}`,
    '',
    `**Cached artifacts**: ${r.options.clients} concurrent clients × ${r.options.requests} requests (keep-alive), \`examples/hello\`, archive ${(c.archiveBytes / 1e6).toFixed(2)} MB; each server first answers one such round (its first ${r.options.clients * r.options.requests} requests after start, the last two rows), then the measured one:`,
    '',
    mdTable([
      ['', 'requests', 'p50', 'p90', 'p99', 'max', 'errors', 'throughput'],
      ...[
        ['archive downloaded (200)', c, c.archiveBytes],
        ['revalidated (If-None-Match → 304)', r.revalidated, 0],
        ['peer: bare `node:http` answering the same number of bytes', r.bare, c.archiveBytes],
        ['archive downloaded, first round after the server started', c.first, c.archiveBytes],
        ['peer, first round after it started', r.bare.first, c.archiveBytes],
      ].map(([name, x, bytes]) => [name, String(x.n), ms(x.p50), ms(x.p90), ms(x.p99), ms(x.max), String(x.errors), `${x.requestsPerSecond.toFixed(0)} req/s (${((x.requestsPerSecond * bytes) / 1e6).toFixed(0)} MB/s)`]),
    ]),
    '',
    `- Downloads: p99 ${ms(c.p99)}, target ≤ ${TARGET_P99_MS} ms with zero errors: **${c.p99 <= TARGET_P99_MS && c.errors === 0 ? 'met' : 'not met'}**; ratio of medians to the bare peer ${times(c.p50 / r.bare.p50)}, of throughputs ${times(c.requestsPerSecond / r.bare.requestsPerSecond)}`,
    `- Revalidations: p99 ${ms(r.revalidated.p99)}, target ≤ ${TARGET_P99_MS} ms with zero errors: **${r.revalidated.p99 <= TARGET_P99_MS && r.revalidated.errors === 0 ? 'met' : 'not met'}**`,
    '',
    `**Cold burst**: ${k.n} concurrent requests for ${k.n} distinct sources, no client retries: **${k.ok} compiled, ${k.busy} answered 503** (Retry-After), ${k.other.length ? `other: ${k.other.join(', ')}` : 'nothing else'}; all answered in ${k.seconds.toFixed(1)} s; /health afterwards: ${k.health}; server peak RSS ${k.serverPeakRssMb.toFixed(0)} MB (worker threads included, clang processes not).`,
    '',
    `**Cold-compile overhead**, one compile at a time, ${r.options.rounds} rounds alternating:`,
    '',
    mdTable([
      ['', 'median', 'p90', 'min – max'],
      line('plain `clang-16` (a local build\'s argv)', ov.clang, s),
      line('the same clang in the server\'s sandbox', ov.sandboxed, s),
      line('remote cold compile (HTTP request → archive)', ov.remote, s),
      line('local `coolbpf-gen build` process', ov.local, s),
    ]),
    '',
    `- Sandboxed clang / plain clang: **${times(ov.sandboxRatio)}** (target ≤ ${TARGET_OVERHEAD}×: **${ov.sandboxRatio <= TARGET_OVERHEAD ? 'met' : 'not met'}**)`,
    `- Whole remote compile / plain clang: ${times(ov.remoteVsClang)}; / local \`coolbpf-gen build\`: ${times(ov.remoteVsLocal)}`,
    `- Server alive at the end: ${r.alive ? 'yes' : 'NO'}`,
  ].join('\n');
}

main().catch((e) => die(e.stack ?? String(e)));
