#!/usr/bin/env node
// tcp-jitter overhead benchmark: the throughput of one long bulk TCP transfer
// on loopback (bench/tcp-jitter/bulk.c: 1 MiB writes, 256 KiB reads), in
// windows without and with examples/tcp-jitter attached (its Node app, every
// socket: no --port filter, so every segment and every read goes through the
// BPF programs), the tool started and stopped again and again during the
// transfer. Each window with the tool is compared with the windows without
// it just before and just after, so a drift in the machine's speed, which
// on this shared VM is larger than the effect, cancels. See
// docs/BENCHMARKS.md.

import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { BUILD, cc, dier, machineFacts, mdTable, median, pct, REPO, requireTools, run } from './lib.mjs';
import { alternate, compare, meanLoss, verdict, workload } from './windows.mjs';

const TARGET_LOSS = 0.05;
const EXAMPLE = join(REPO, 'examples', 'tcp-jitter');
const die = dier('tcp-jitter');

const USAGE = `usage: node bench/tcp-jitter.mjs [options]

  --rounds R     measured rounds, each one window with the tool between two without (default 40)
  --warmup W     unmeasured rounds first (default 2)
  --seconds S    length of each window (default 1.5)
  --settle S     wait after the tool attached or exited before a window starts (default 0.3)
  --markdown     print only the markdown block for docs/BENCHMARKS.md
  --json         print the results as JSON
  -h, --help     this text
`;

function parseArgs(argv) {
  const o = { rounds: 40, warmup: 2, seconds: 1.5, settle: 0.3, markdown: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < min) die(`${a} needs a number >= ${min}`);
      return v;
    };
    if (a === '--rounds') o.rounds = Math.round(num(2));
    else if (a === '--warmup') o.warmup = Math.round(num(0));
    else if (a === '--seconds') o.seconds = num(0.2);
    else if (a === '--settle') o.settle = num(0);
    else if (a === '--markdown') o.markdown = true;
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); process.exit(0); }
    else die(`unknown argument ${a}\n${USAGE}`);
  }
  return o;
}

/** Starts the tool; resolves once it says it is attached. */
async function attach() {
  const child = spawn(process.execPath, [join(EXAMPLE, 'node', 'dist', 'cli.js'), '--json'], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => { out += d; });
  const exited = new Promise((resolve) => child.on('close', (code) => resolve(code)));
  const ready = new Promise((resolve, reject) => {
    child.stderr.setEncoding('utf8').on('data', (d) => {
      err += d;
      if (err.includes('attached')) resolve();
    });
    exited.then((code) => reject(new Error(`tcp-jitter exited (${code}) before attaching:\n${err}`)));
  });
  await ready;
  return {
    /** SIGTERM; resolves to the histogram's total count of reads and the number of slow-read reports */
    async stop() {
      child.kill('SIGTERM');
      const code = await exited;
      if (code !== 0) throw new Error(`tcp-jitter exited with ${code}:\n${err}`);
      const lines = out.trim().split('\n').map((l) => JSON.parse(l));
      const hist = lines.find((l) => l.histogram);
      return { reads: hist.histogram.reduce((n, s) => n + s.count, 0), reports: lines.filter((l) => l.ts_ns !== undefined).length };
    },
    kill() { child.kill('SIGKILL'); },
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  requireTools(die);
  run(process.execPath, [join(EXAMPLE, 'scripts', 'build.mjs')]);
  const bulk = join(BUILD, 'tcp-jitter', 'bulk');
  run('mkdir', ['-p', join(BUILD, 'tcp-jitter')]);
  cc(['-o', bulk, join(REPO, 'bench', 'tcp-jitter', 'bulk.c')]);

  // its receiver prints what it read in every 50 ms window
  const flow = workload(bulk, ['50'], 'the transfer');
  let rounds;
  try {
    await sleep(1000); // connected, past slow start
    ({ on: rounds } = await alternate({ ...o, start: attach }));
    await flow.stop();
  } finally {
    flow.kill();
  }
  const gbps = (from, to) => (flow.rate(from, to) * 8) / 1e9;
  const { without, with: withTool, ratios } = compare(rounds, gbps);
  if (!o.json && !o.markdown) {
    rounds.forEach((r, i) => process.stderr.write(`round ${i + 1}/${o.rounds}: ${gbps(...r.before).toFixed(2)} / ${withTool[i].toFixed(2)} / ${gbps(...r.after).toFixed(2)} Gbit/s without / with / without\n`));
  }
  const reads = rounds.reduce((n, r) => n + r.report.reads, 0), reports = rounds.reduce((n, r) => n + r.report.reports, 0);
  const result = { load: loadavg(), facts: machineFacts(), options: o, without, with: withTool, ratios, reads, reports };
  if (o.json) { console.log(JSON.stringify(result)); return; }
  print(result);
}

function print(r) {
  const g = (x) => `${x.toFixed(2)} Gbit/s`;
  const span = (xs) => `${Math.min(...xs).toFixed(2)} – ${Math.max(...xs).toFixed(2)} Gbit/s`;
  const m = meanLoss(r.ratios);
  const pc = (x) => `${(x * 100).toFixed(1)} %`;
  const rows = [
    ['window', 'median', 'p10', 'min – max'],
    ['without tcp-jitter (mean of the windows before and after)', g(median(r.without)), g(pct(r.without, 10)), span(r.without)],
    ['with tcp-jitter attached', g(median(r.with)), g(pct(r.with, 10)), span(r.with)],
  ];
  const md = [
    `#### ${r.facts.date.slice(0, 10)} — ${r.facts.cpu}, ${r.facts.cores} cores, Linux ${r.facts.kernel}`,
    '',
    `- One transfer throughout; ${r.options.rounds} measured rounds after ${r.options.warmup} warmups, each a ${r.options.seconds} s window with the tool attached between two ${r.options.seconds} s windows without it, every window starting ${r.options.settle} s after the tool attached or exited; the machine's load average was ${r.load.map((x) => x.toFixed(1)).join(', ')} (1, 5, 15 min) at the end`,
    `- The tool: \`node examples/tcp-jitter/node/dist/cli.js --json\` (no port filter, default 100 ms threshold); it counted ${r.reads} reads in its histograms and reported ${r.reports} slow reads`,
    `- Measured ${r.facts.date}; Node ${r.facts.node}; ${r.facts.cc}`,
    '',
    mdTable(rows),
    '',
    `- Loss, the mean over the rounds of 1 − with / without: **${pc(m.loss)} ± ${pc(m.half)}** (95 % confidence); ratio of the medians ${(median(r.with) / median(r.without)).toFixed(3)}`,
    `- Target < ${TARGET_LOSS * 100} % loss: **${verdict(m, TARGET_LOSS)}**`,
  ].join('\n');
  console.log(md);
}

main().catch((e) => die(e.stack ?? String(e)));
