#!/usr/bin/env node
// net-observe: a live table of an application's TCP connections.
//   node cli.mjs [--pid N] [--port N] [--interval MS] [--json]
// --json prints {"connections": [...]} once, at exit (SIGINT/SIGTERM).
import { observe } from './net-observe.mjs';

function parseArgs(argv) {
  const o = { pid: 0, port: 0, interval: 1000, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = () => {
      const v = Number(argv[++i]);
      if (!Number.isInteger(v) || v < 0) throw new Error(`${a} needs a non-negative integer`);
      return v;
    };
    if (a === '--pid') o.pid = num();
    else if (a === '--port') o.port = num();
    else if (a === '--interval') o.interval = num();
    else if (a === '--json') o.json = true;
    else throw new Error(`unknown argument ${a} (usage: cli.mjs [--pid N] [--port N] [--interval MS] [--json])`);
  }
  return o;
}

const ms = (v) => (v === null ? '-' : v.toFixed(3));

export function table(conns) {
  const head = ['PID', 'COMM', 'LOCAL', 'REMOTE', 'PROTO', 'IN', 'OUT', 'REQS', 'P50ms', 'P99ms'];
  const rows = conns.map((c) => [
    String(c.pid), c.comm, `${c.local_addr}:${c.local_port}`, `${c.remote_addr}:${c.remote_port}`,
    c.protocol + (c.closed ? '*' : ''), String(c.bytes_in), String(c.bytes_out), String(c.requests),
    ms(c.p50_ms), ms(c.p99_ms),
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i].length)));
  return [head, ...rows].map((r) => r.map((v, i) => v.padEnd(widths[i])).join('  ').trimEnd()).join('\n');
}

let opts;
try {
  opts = parseArgs(process.argv.slice(2));
} catch (e) {
  process.stderr.write(`net-observe: ${e.message}\n`);
  process.exit(2);
}
let obs;
try {
  obs = observe({ pid: opts.pid, port: opts.port });
} catch (e) {
  process.stderr.write(`net-observe: ${e.message}\n`);
  process.exit(1);
}
process.stderr.write('net-observe: ready\n');

const timer = opts.json ? null : setInterval(() => {
  const out = table(obs.connections());
  process.stdout.write(process.stdout.isTTY ? `\x1b[H\x1b[2J${out}\n` : `${out}\n\n`);
}, opts.interval);

function stop() {
  if (timer) clearInterval(timer);
  const conns = obs.connections();
  const dropped = obs.dropped();
  obs.close();
  if (opts.json) process.stdout.write(JSON.stringify({ connections: conns, dropped }) + '\n');
  else process.stdout.write(table(conns) + '\n');
  process.exitCode = 0;
}
process.once('SIGINT', stop);
process.once('SIGTERM', stop);
