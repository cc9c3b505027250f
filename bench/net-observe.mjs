#!/usr/bin/env node
// net-observe overhead: requests per second of a Node http server (the one
// of examples/net-observe/tests/http-server.mjs, a child process) driven by
// a load process (bench/net-observe/load.mjs: keep-alive POSTs of 64 bytes),
// with and without net-observe (its Node app, examples/net-observe/node/cli.mjs
// --pid SERVER --json) attached, alternating rounds in one run (off, on, then
// on, off, …); the median of the per-round on/off ratios. See docs/BENCHMARKS.md.
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { dier, machineFacts, mdTable, median, REPO, run, runJson } from './lib.mjs';

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

  --rounds R        measured rounds of each mode (default 7)
  --seconds S       length of each round (default 4)
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
  const o = { rounds: 7, seconds: 4, connections: 8, app: 'node', idle: false, json: false };
  const count = (name, v, min, max) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) die(`${name} needs an integer in ${min}..${max}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--rounds') o.rounds = count(a, argv[++i], 1, 1000);
    else if (a === '--seconds') o.seconds = count(a, argv[++i], 1, 600);
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
  const load = () => runJson(process.execPath, [join(REPO, 'bench', 'net-observe', 'load.mjs'), String(port), String(o.connections), String(o.seconds)]);

  const rounds = { off: [], on: [], idle: [] };
  const seen = [];
  const one = async (mode) => {
    if (mode === 'off') {
      const r = await load();
      rounds.off.push(r.requests / r.seconds);
      return;
    }
    const [cmd, ...args] = APPS[o.app];
    if (!existsSync(cmd)) die(`${cmd} is not built (npm run build in examples/net-observe)`);
    const pid = mode === 'idle' ? 1 : server.child.pid;
    const app = await start(cmd, [...args, '--pid', String(pid), '--json'], (_, err) => /ready/.test(err), 'net-observe');
    const r = await load();
    app.child.kill('SIGTERM');
    if (await app.exited !== 0) throw new Error(`net-observe failed: ${app.err()}`);
    const report = JSON.parse(app.out().trim().split('\n').pop());
    const observed = report.connections.reduce((n, c) => n + c.requests, 0);
    if (mode === 'on') seen.push({ observed, dropped: report.dropped });
    rounds[mode].push(r.requests / r.seconds);
  };
  // one unmeasured round of each first
  await load();
  for (let i = 0; i < o.rounds; i++) {
    const order = [...(i % 2 ? ['on', 'off'] : ['off', 'on']), ...(o.idle ? ['idle'] : [])];
    for (const m of order) {
      await one(m);
      process.stderr.write(`net-observe bench: round ${i + 1}/${o.rounds} ${m}: ${rounds[m].at(-1).toFixed(0)} req/s\n`);
    }
  }
  server.child.kill('SIGTERM');

  const off = median(rounds.off), on = median(rounds.on);
  // each round's on/off pair ran back to back: the median of their ratios
  // follows what the tool costs even when the machine's speed drifts
  // between rounds (a shared VM), which the ratio of medians does not
  const pairs = rounds.on.map((x, i) => x / rounds.off[i]);
  const loss = 1 - median(pairs);
  const facts = machineFacts();
  const result = { facts, options: o, rounds, medians: { off, on }, pairs, loss, target: TARGET_LOSS, met: loss < TARGET_LOSS, observed: seen };
  if (o.json) { process.stdout.write(`${JSON.stringify(result, null, 2)}\n`); return; }
  const f0 = (x) => x.toFixed(0);
  const row = (name, xs) => [name, f0(median(xs)), f0(Math.min(...xs)), f0(Math.max(...xs)), xs.map(f0).join(', ')];
  const lines = [
    `#### ${facts.date.slice(0, 10)} — ${facts.cpu}, ${facts.cores} cores, Linux ${facts.kernel}`,
    '',
    `- Server: Node http (\`examples/net-observe/tests/http-server.mjs\`), load: ${o.connections} keep-alive connections of 64-byte POSTs (\`bench/net-observe/load.mjs\`), ${o.rounds} rounds × ${o.seconds} s of each mode, alternating; measured ${facts.date}; Node ${facts.node}`,
    '',
    mdTable([
      ['', 'median req/s', 'min', 'max', 'rounds'],
      row('without net-observe', rounds.off),
      row(`with net-observe attached (${o.app} app, \`--pid\`)`, rounds.on),
      ...(o.idle ? [row(`attached, filtering on pid 1 (the tracepoints alone)`, rounds.idle)] : []),
    ]),
    '',
    `- On/off ratio per round (each pair back to back): ${pairs.map((x) => x.toFixed(3)).join(', ')}`,
    `- Loss of throughput (1 − median of the per-round ratios): **${(loss * 100).toFixed(1)} %** (target < ${TARGET_LOSS * 100} %: **${loss < TARGET_LOSS ? 'met' : 'not met'}**); 1 − ratio of the medians: ${((1 - on / off) * 100).toFixed(1)} %`,
    ...(o.idle ? [`- Attached but idle (pid 1): 1 − median of the per-round ratios to off: ${((1 - median(rounds.idle.map((x, i) => x / rounds.off[i]))) * 100).toFixed(1)} %`] : []),
    `- Requests net-observe counted per attached round: ${seen.map((s) => s.observed).join(', ')}; ring buffer records dropped: ${seen.reduce((n, s) => n + s.dropped, 0)}`,
  ];
  process.stdout.write(`${lines.join('\n')}\n`);
}

main().catch((e) => { killAll(); die(e.stack ?? String(e)); });
