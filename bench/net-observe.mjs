#!/usr/bin/env node
// net-observe overhead: requests per second of a Node http server (the one
// of examples/net-observe/tests/http-server.mjs, a child process) driven by
// a load process (bench/net-observe/load.mjs: keep-alive POSTs of 64 bytes),
// with and without net-observe (its Node app, examples/net-observe/node/cli.mjs
// --pid SERVER --json) attached: one long load, in windows with the app
// attached, each between two without it (bench/windows.mjs); the mean loss
// with its 95 % confidence interval. See docs/BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { dier, machineFacts, mdTable, median, pct, REPO, run } from './lib.mjs';
import { alternate, compare, meanLoss, verdict, workload } from './windows.mjs';

const TARGET_LOSS = 0.05;
const die = dier('net-observe');
const EXAMPLE = join(REPO, 'examples', 'net-observe');

/** the command of each language's app (PYTHONPATH for Python is set in start()) */
const APPS = {
  node: [process.execPath, join(EXAMPLE, 'node', 'cli.mjs')],
  python: [join(REPO, 'bindings-python', '.venv', 'bin', 'python'), '-m', 'netobserve'],
  go: [join(EXAMPLE, 'build', 'bin', 'net-observe-go')],
  rust: [join(EXAMPLE, 'build', 'bin', 'net-observe-rust')],
};

const USAGE = `usage: node bench/net-observe.mjs [options]

  --rounds R        measured rounds, each a window with the app between two
                    without it (default 40)
  --warmup W        unmeasured rounds first (default 2)
  --seconds S       length of each window (default 1.5)
  --settle S        wait after the app is ready or has exited before a window
                    starts (default 0.3)
  --connections C   concurrent keep-alive connections of the load (default 8)
  --app A           which app attaches: node, python, go, rust (default node;
                    go and rust need npm run build with their toolchains)
  --idle            also rounds with net-observe attached but filtering on a
                    pid that makes no syscalls (1, init): the cost of the
                    syscall tracepoints themselves, every program returning
                    at its pid check
  --json            print the results as JSON
  -h, --help        this text
`;

function parseArgs(argv) {
  const o = { rounds: 40, warmup: 2, seconds: 1.5, settle: 0.3, connections: 8, app: 'node', idle: false, json: false };
  const count = (name, v, min, max) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) die(`${name} needs an integer in ${min}..${max}`);
    return Number(v);
  };
  const seconds = (name, v, min) => {
    if (v === undefined || !Number.isFinite(Number(v)) || Number(v) < min || Number(v) > 600) die(`${name} needs a number of seconds in ${min}..600`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds') o.rounds = count(a, argv[++i], 2, 1000);
    else if (a === '--warmup') o.warmup = count(a, argv[++i], 0, 1000);
    else if (a === '--seconds') o.seconds = seconds(a, argv[++i], 0.2);
    else if (a === '--settle') o.settle = seconds(a, argv[++i], 0);
    else if (a === '--connections') o.connections = count(a, argv[++i], 1, 1000);
    else if (a === '--app') { o.app = argv[++i]; if (!APPS[o.app]) die(`--app: one of ${Object.keys(APPS).join(', ')}`); }
    else if (a === '--idle') o.idle = true;
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); process.exit(0); }
    else die(`unknown option ${a}\n${USAGE}`);
  }
  return o;
}

const children = new Set();
const killAll = () => { for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL'); };
process.on('exit', killAll);
for (const sig of ['SIGINT', 'SIGTERM']) process.on(sig, () => { killAll(); process.exit(130); });

/** Starts a child; resolves once `ready(stdout, stderr)` holds. */
function start(cmd, args, ready, what) {
  return new Promise((resolve, reject) => {
    const env = { ...process.env, PYTHONPATH: `${join(EXAMPLE, 'python')}:${join(EXAMPLE, 'build', 'python')}` };
    const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env });
    children.add(child);
    let out = '', err = '';
    const exited = new Promise((r) => child.on('close', (code) => { children.delete(child); r(code); }));
    const check = () => { if (ready(out, err)) resolve({ child, out: () => out, err: () => err, exited }); };
    child.stdout.setEncoding('utf8').on('data', (d) => { out += d; check(); });
    child.stderr.setEncoding('utf8').on('data', (d) => { err += d; check(); });
    void exited.then((code) => reject(new Error(`${what} exited (${code}) before it was ready: ${err.trim()}`)));
  });
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (process.getuid?.() !== 0) die('loading BPF programs needs root (run as root)');
  if (!existsSync(join(EXAMPLE, 'build', 'node', 'dist', 'index.js'))) {
    try { run('bash', [join(EXAMPLE, 'build.sh')]); } catch (e) { die(e.message); }
  }
  const server = await start(process.execPath, [join(EXAMPLE, 'tests', 'http-server.mjs')], (out) => /\d+\n/.test(out), 'the http server');
  const port = Number(server.out().trim());
  const [cmd, ...args] = APPS[o.app];
  if (!existsSync(cmd)) die(`${cmd} is not built (npm run build in examples/net-observe)`);

  const load = workload(process.execPath, [join(REPO, 'bench', 'net-observe', 'load.mjs'), String(port), String(o.connections)], 'the load');
  children.add(load.child);
  await sleep(1000); // connected, the server's code warm
  const attach = async (mode) => {
    const pid = mode === 'idle' ? 1 : server.child.pid;
    const app = await start(cmd, [...args, '--pid', String(pid), '--json'], (_, err) => /ready/.test(err), 'net-observe');
    return {
      async stop() {
        app.child.kill('SIGTERM');
        if (await app.exited !== 0) throw new Error(`net-observe failed: ${app.err()}`);
        const report = JSON.parse(app.out().trim().split('\n').pop());
        return { observed: report.connections.reduce((n, c) => n + c.requests, 0), dropped: report.dropped };
      },
      kill() { app.child.kill('SIGKILL'); },
    };
  };
  const measured = await alternate({ ...o, modes: o.idle ? ['on', 'idle'] : ['on'], start: attach });
  await load.stop();
  server.child.kill('SIGTERM');

  const rate = (from, to) => load.rate(from, to);
  const on = compare(measured.on, rate);
  const idle = o.idle ? compare(measured.idle, rate) : null;
  const loss = meanLoss(on.ratios);
  const seen = measured.on.map((r) => r.report);
  const facts = machineFacts();
  const result = { facts, options: o, on, idle, loss, idleLoss: idle && meanLoss(idle.ratios), target: TARGET_LOSS, met: loss.loss + loss.half < TARGET_LOSS, observed: seen };
  if (o.json) { process.stdout.write(`${JSON.stringify(result, null, 2)}\n`); return; }
  const f0 = (x) => x.toFixed(0);
  const pc = (x) => `${(x * 100).toFixed(1)} %`;
  const row = (name, xs) => [name, f0(median(xs)), f0(pct(xs, 10)), `${f0(Math.min(...xs))} – ${f0(Math.max(...xs))}`];
  const lines = [
    `#### ${facts.date.slice(0, 10)} — ${facts.cpu}, ${facts.cores} cores, Linux ${facts.kernel}`,
    '',
    `- Server: Node http (\`examples/net-observe/tests/http-server.mjs\`), load: ${o.connections} keep-alive connections of 64-byte POSTs (\`bench/net-observe/load.mjs\`), one load throughout; ${o.rounds} measured rounds after ${o.warmup} warmups, each a ${o.seconds} s window with the ${o.app} app attached (\`--pid\` the server) between two ${o.seconds} s windows without it, every window starting ${o.settle} s after the app was ready or had exited; measured ${facts.date}; Node ${facts.node}`,
    '',
    mdTable([
      ['window', 'median req/s', 'p10', 'min – max'],
      row('without net-observe (mean of the windows before and after)', on.without),
      row(`with net-observe attached (${o.app} app, \`--pid\`)`, on.with),
      ...(idle ? [row('attached, filtering on pid 1 (the tracepoints alone)', idle.with)] : []),
    ]),
    '',
    `- Loss of throughput, the mean over the rounds of 1 − with / without: **${pc(loss.loss)} ± ${pc(loss.half)}** (95 % confidence); ratio of the medians ${(median(on.with) / median(on.without)).toFixed(3)}`,
    `- Target < ${TARGET_LOSS * 100} % loss: **${verdict(loss, TARGET_LOSS)}**`,
    ...(idle ? [`- Attached but idle (pid 1): ${pc(result.idleLoss.loss)} ± ${pc(result.idleLoss.half)}`] : []),
    `- Requests net-observe counted per attachment (its whole run, start to stop): median ${f0(median(seen.map((s) => s.observed)))} (min ${Math.min(...seen.map((s) => s.observed))}); ring buffer records dropped: ${seen.reduce((n, s) => n + s.dropped, 0)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => { killAll(); die(e.stack ?? String(e)); });
