#!/usr/bin/env node
// tcp-jitter overhead benchmark: throughput of a bulk TCP transfer on
// loopback (bench/tcp-jitter/bulk.c: 1 MiB writes, 256 KiB reads) without
// and with examples/tcp-jitter attached (its Node app, every socket: no
// --port filter, so every segment and every read goes through the BPF
// programs), alternating in one run; the ratio of the medians. See
// docs/BENCHMARKS.md.

import { spawn } from 'node:child_process';
import { loadavg } from 'node:os';
import { join } from 'node:path';
import { BUILD, cc, dier, machineFacts, mdTable, median, pct, REPO, requireTools, run, runJson } from './lib.mjs';

const TARGET_LOSS = 0.05;
const EXAMPLE = join(REPO, 'examples', 'tcp-jitter');
const die = dier('tcp-jitter');

const USAGE = `usage: node bench/tcp-jitter.mjs [options]

  --rounds R     measured rounds, each one transfer without and one with the tool (default 21)
  --warmup W     unmeasured rounds first (default 2)
  --seconds S    length of each transfer (default 2)
  --markdown     print only the markdown block for docs/BENCHMARKS.md
  --json         print the results as JSON
  -h, --help     this text
`;

function parseArgs(argv) {
  const o = { rounds: 21, warmup: 2, seconds: 2, markdown: false, json: false };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    const num = (min) => {
      const v = Number(argv[++i]);
      if (!Number.isFinite(v) || v < min) die(`${a} needs a number >= ${min}`);
      return v;
    };
    if (a === '--rounds') o.rounds = Math.round(num(1));
    else if (a === '--warmup') o.warmup = Math.round(num(0));
    else if (a === '--seconds') o.seconds = num(0.1);
    else if (a === '--markdown') o.markdown = true;
    else if (a === '--json') o.json = true;
    else if (a === '-h' || a === '--help') { process.stdout.write(USAGE); process.exit(0); }
    else die(`unknown argument ${a}\n${USAGE}`);
  }
  return o;
}

/** Starts the tool; resolves once it says it is attached. */
function attach() {
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
  return {
    ready,
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

  const transfer = async () => {
    const r = await runJson(bulk, [String(o.seconds)]);
    return (r.bytes / r.seconds) * 8 / 1e9; // Gbit/s
  };
  const without = [], withTool = [], ratios = [];
  let reads = 0, reports = 0;
  const attached = async () => {
    const tool = attach();
    try {
      await tool.ready;
      const gbps = await transfer();
      return { gbps, ...(await tool.stop()) };
    } finally {
      tool.kill();
    }
  };
  for (let round = 0; round < o.warmup + o.rounds; round++) {
    // which goes first alternates, so a drift in the machine's load favours neither
    let a, b;
    if (round % 2 === 0) { a = await transfer(); b = await attached(); }
    else { b = await attached(); a = await transfer(); }
    if (round < o.warmup) continue;
    reads += b.reads;
    reports += b.reports;
    without.push(a);
    withTool.push(b.gbps);
    ratios.push(b.gbps / a);
    if (!o.json && !o.markdown) process.stderr.write(`round ${round - o.warmup + 1}/${o.rounds}: ${a.toFixed(2)} / ${b.gbps.toFixed(2)} Gbit/s without / with\n`);
  }
  const result = { load: loadavg(), facts: machineFacts(), options: o, without, with: withTool, ratios, reads, reports };
  if (o.json) { console.log(JSON.stringify(result)); return; }
  print(result);
}

function print(r) {
  const g = (x) => `${x.toFixed(2)} Gbit/s`;
  const ratio = median(r.with) / median(r.without);
  const loss = 1 - ratio;
  const rows = [
    ['transfer', 'median', 'p10', 'min – max'],
    ['without tcp-jitter', g(median(r.without)), g(pct(r.without, 10)), `${r.without.length ? Math.min(...r.without).toFixed(2) : 0} – ${Math.max(...r.without).toFixed(2)} Gbit/s`],
    ['with tcp-jitter attached', g(median(r.with)), g(pct(r.with, 10)), `${Math.min(...r.with).toFixed(2)} – ${Math.max(...r.with).toFixed(2)} Gbit/s`],
  ];
  const md = [
    `#### ${r.facts.date.slice(0, 10)} — ${r.facts.cpu}, ${r.facts.cores} cores, Linux ${r.facts.kernel}`,
    '',
    `- ${r.options.rounds} measured rounds after ${r.options.warmup} warmups; each round one ${r.options.seconds} s transfer without the tool and one with it attached (started before the transfer, stopped after), the order alternating from round to round; the machine's load average was ${r.load.map((x) => x.toFixed(1)).join(', ')} (1, 5, 15 min) at the end`,
    `- The tool: \`node examples/tcp-jitter/node/dist/cli.js --json\` (no port filter, default 100 ms threshold); it counted ${r.reads} reads in its histograms and reported ${r.reports} slow reads`,
    `- Measured ${r.facts.date}; Node ${r.facts.node}; ${r.facts.cc}`,
    '',
    mdTable(rows),
    '',
    `- Throughput with / without (ratio of medians): **${ratio.toFixed(3)}** (loss ${(loss * 100).toFixed(1)} %); median of per-round ratios ${median(r.ratios).toFixed(3)}`,
    `- Target < ${TARGET_LOSS * 100} % loss: **${loss < TARGET_LOSS ? 'met' : 'not met'}**`,
  ].join('\n');
  console.log(md);
}

main().catch((e) => die(e.stack ?? String(e)));
