#!/usr/bin/env node
// Benchmarks a full vmlinux decode as a whole process:
//
//   coolbpf-gen inspect FILE --json > /dev/null
//   bpftool btf dump file FILE format raw > /dev/null
//
// run alternately in one session (warmups first), plus the in-process time of
// decoding, listing and materializing every type with @coolbpf/reader.
// Node >= 20, no dependencies. See docs/BENCHMARKS.md.
//
// Wall clock is measured in this process with process.hrtime.bigint() from
// spawn() to the child's exit. Node cannot report a child's rusage, so each
// command is wrapped in a timer that can: GNU time (`/usr/bin/time -o FILE
// -f '%U %S %M'`, which also gives peak RSS) when present, else bash's `time`
// keyword (user and sys only). Both commands get the same wrapper, so its
// small start-up cost (a few milliseconds) is paid equally on both sides.

import { spawn, execFileSync } from 'node:child_process';
import { accessSync, constants, closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { availableParallelism, cpus, release, tmpdir } from 'node:os';
import { delimiter, dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const REPO = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OURS_BIN = join(REPO, 'node_modules', '.bin', 'coolbpf-gen');
const READER = join(REPO, 'packages', 'reader', 'dist', 'index.js');
const TARGET = 1.0;

const USAGE = `usage: node bench/inspect-vmlinux.mjs [options]

  --runs N       measured runs of each command (default 21)
  --warmup N     warmup runs of each command (default 3)
  --file PATH    raw BTF file to decode (default /sys/kernel/btf/vmlinux)
  --timer T      how child CPU time is collected: auto (default), gnu-time
                 (/usr/bin/time: user, sys, peak RSS), bash (time keyword:
                 user, sys) or none (wall clock only)
  --markdown     print a markdown block for docs/BENCHMARKS.md
  --json         print the results as JSON
  -h, --help     this text
`;

// ---------------------------------------------------------------- arguments

function die(msg) {
  process.stderr.write(`inspect-vmlinux: ${msg}\n`);
  process.exit(1);
}

function parseArgs(argv) {
  const o = { runs: 21, warmup: 3, file: '/sys/kernel/btf/vmlinux', timer: 'auto', markdown: false, json: false };
  const count = (name, v, min) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) die(`${name} needs an integer >= ${min}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--runs': o.runs = count(a, argv[++i], 1); break;
      case '--warmup': o.warmup = count(a, argv[++i], 0); break;
      case '--file': o.file = argv[++i] ?? die('--file needs a path'); break;
      case '--timer': o.timer = argv[++i] ?? die('--timer needs a value'); break;
      case '--markdown': o.markdown = true; break;
      case '--json': o.json = true; break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0);
      default: die(`unknown option '${a}' (try --help)`);
    }
  }
  if (!['auto', 'gnu-time', 'bash', 'none'].includes(o.timer)) die(`--timer: expected auto, gnu-time, bash or none, got '${o.timer}'`);
  if (o.markdown && o.json) die('--markdown and --json are exclusive');
  return o;
}

// ------------------------------------------------------------------- tools

function which(cmd) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    if (!dir) continue;
    const p = join(dir, cmd);
    try { accessSync(p, constants.X_OK); return p; } catch { /* next */ }
  }
  return null;
}

function isExecutable(p) {
  try { accessSync(p, constants.X_OK); return true; } catch { return false; }
}

function pickTimer(want) {
  const gnuOk = () => {
    if (!isExecutable('/usr/bin/time')) return false;
    try { execFileSync('/usr/bin/time', ['-f', '%U %S %M', 'true'], { stdio: 'ignore' }); return true; } catch { return false; }
  };
  const bash = which('bash');
  if (want === 'gnu-time') return gnuOk() ? 'gnu-time' : die('/usr/bin/time (GNU time) not found or not GNU');
  if (want === 'bash') return bash ? 'bash' : die('bash not found');
  if (want === 'none') return 'none';
  return gnuOk() ? 'gnu-time' : bash ? 'bash' : 'none';
}

/** argv that runs cmd and writes "user sys [maxrss_kb]" to timeFile. */
function wrap(timer, timeFile, cmd) {
  switch (timer) {
    case 'gnu-time': return ['/usr/bin/time', ['-o', timeFile, '-f', '%U %S %M', ...cmd]];
    case 'bash':
      // The time keyword reports on the shell's stderr: send that to the file
      // and give the command the real stderr back on fd 4.
      return ['bash', ['-c', 'TIMEFORMAT="%3U %3S"; { time "$@" 2>&4 ; } 4>&2 2>"$0"', timeFile, ...cmd]];
    default: return [cmd[0], cmd.slice(1)];
  }
}

// ------------------------------------------------------------- measurement

/** Runs one command with stdout to /dev/null; resolves to { wallMs, cpuMs?, rssKb? }. */
function runOnce(label, cmd, ctx) {
  const [exe, args] = wrap(ctx.timer, ctx.timeFile, cmd);
  return new Promise((resolveRun, reject) => {
    const t0 = process.hrtime.bigint();
    let t1 = 0n;
    const child = spawn(exe, args, { stdio: ['ignore', ctx.devNull, 'pipe'] });
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d) => { if (stderr.length < 4000) stderr += d; });
    child.on('error', reject);
    child.on('exit', () => { t1 = process.hrtime.bigint(); });
    child.on('close', (code, signal) => {
      if (code !== 0) {
        const why = signal ? `killed by ${signal}` : `exit status ${code}`;
        const first = stderr.trim().split('\n').filter((l) => !/^Command exited with non-zero status/.test(l))[0] ?? '';
        reject(new Error(`${label} failed (${why}): ${cmd.join(' ')}${first ? ` -- ${first}` : ''}`));
        return;
      }
      const r = { wallMs: Number(t1 - t0) / 1e6 };
      if (ctx.timer !== 'none') {
        const f = readFileSync(ctx.timeFile, 'utf8').trim().split('\n').pop().trim().split(/\s+/).map(Number);
        if (f.length < 2 || f.some((x) => !Number.isFinite(x))) {
          reject(new Error(`could not read CPU time of ${label} from ${ctx.timer}`));
          return;
        }
        r.cpuMs = Math.round((f[0] + f[1]) * 1000);
        if (ctx.timer === 'gnu-time' && f.length >= 3) r.rssKb = f[2];
      }
      resolveRun(r);
    });
  });
}

/** Captures a command's stdout (for the one-off sanity check). */
function capture(cmd) {
  return execFileSync(cmd[0], cmd.slice(1), { maxBuffer: 1 << 30, stdio: ['ignore', 'pipe', 'pipe'] });
}

// ------------------------------------------------------------------- stats

const sorted = (xs) => [...xs].sort((a, b) => a - b);
function median(xs) {
  const s = sorted(xs);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}
/** Nearest-rank percentile. */
function pct(xs, p) {
  const s = sorted(xs);
  return s[Math.min(s.length - 1, Math.max(0, Math.ceil((p / 100) * s.length) - 1))];
}
function summarize(runs) {
  const wall = runs.map((r) => r.wallMs);
  const out = { median: median(wall), min: Math.min(...wall), p90: pct(wall, 90) };
  if (runs[0].cpuMs !== undefined) out.cpuMedian = median(runs.map((r) => r.cpuMs));
  if (runs[0].rssKb !== undefined) out.rssMedianMiB = median(runs.map((r) => r.rssKb)) / 1024;
  return out;
}

// -------------------------------------------------------------- in process

async function inProcess(bytes, runs, warmup) {
  const { readBtfFile } = await import(pathToFileURL(READER).href);
  const time = (fn) => { const t0 = process.hrtime.bigint(); fn(); return Number(process.hrtime.bigint() - t0) / 1e6; };
  let sink = 0;

  const decode = [];
  for (let i = 0; i < warmup + runs; i++) {
    const ms = time(() => { sink += readBtfFile(bytes).count; });
    if (i >= warmup) decode.push(ms);
  }

  const btf = readBtfFile(bytes);
  const listing = [];
  for (let i = 0; i < warmup + runs; i++) {
    const ms = time(() => { sink += btf.listing().count; });
    if (i >= warmup) listing.push(ms);
  }

  const materialize = [];
  for (let i = 0; i < warmup + runs; i++) {
    const fresh = readBtfFile(bytes); // not timed
    const ms = time(() => { for (const t of fresh.types()) if (t) sink++; });
    if (i >= warmup) materialize.push(ms);
  }
  if (sink === 0) throw new Error('nothing decoded');
  return {
    decode: median(decode),
    listing: median(listing),
    materialize: median(materialize),
    count: btf.count,
  };
}

// ------------------------------------------------------------------ facts

function facts(file, count, timer) {
  let cpu = 'unknown';
  try {
    const m = /^model name\s*:\s*(.+)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'));
    if (m) cpu = m[1].trim();
  } catch { /* not Linux */ }
  let bpftool = 'unknown';
  try { bpftool = capture(['bpftool', 'version']).toString().split('\n')[0].trim(); } catch { /* reported later */ }
  return {
    date: new Date().toISOString(),
    kernel: release(),
    cpu,
    cores: typeof availableParallelism === 'function' ? availableParallelism() : cpus().length,
    node: process.version,
    nodeFlags: process.execArgv.join(' '),
    bpftool,
    file,
    types: count,
    timer,
  };
}

// --------------------------------------------------------------- reporting

const ms = (x) => `${x.toFixed(1)} ms`;
const ratio = (x) => `${x.toFixed(2)}×`;

function markdown(r) {
  const f = r.facts;
  const o = r.process.ours, b = r.process.bpftool;
  const hasCpu = o.cpuMedian !== undefined, hasRss = o.rssMedianMiB !== undefined;
  const head = ['command', 'median', 'min', 'p90', ...(hasCpu ? ['CPU (user+sys) median'] : []), ...(hasRss ? ['peak RSS median'] : [])];
  const row = (name, s) => [name, ms(s.median), ms(s.min), ms(s.p90), ...(hasCpu ? [ms(s.cpuMedian)] : []), ...(hasRss ? [`${s.rssMedianMiB.toFixed(1)} MiB`] : [])];
  const table = (rows) => rows.map((cells) => `| ${cells.join(' | ')} |`).join('\n');
  const sep = head.map((_, i) => (i === 0 ? '---' : '---:'));
  const met = r.process.ratioOfMedians <= TARGET;
  return `#### ${f.date.slice(0, 10)} — ${f.cpu}, ${f.cores} cores, Linux ${f.kernel}

- File: \`${f.file}\`, ${f.types} types
- Node ${f.node} (in-process figures measured with ${f.nodeFlags ? `\`node ${f.nodeFlags}\`` : 'default node flags'}), ${f.bpftool}
- Measured ${f.date}; ${r.runs} runs of each command, alternating, after ${r.warmup} warmups of each; stdout to /dev/null; CPU time via ${f.timer === 'gnu-time' ? 'GNU time (10 ms resolution)' : f.timer === 'bash' ? "bash's time keyword" : 'nothing (wall clock only)'}

Whole process (wall clock):

${table([head, sep, row('`coolbpf-gen inspect FILE --json`', o), row('`bpftool btf dump file FILE format raw`', b)])}

- Ratio of medians (coolbpf-gen / bpftool): **${ratio(r.process.ratioOfMedians)}**
- Median of per-pair ratios: ${ratio(r.process.medianPairRatio)}
- Target ≤ ${TARGET.toFixed(1)}× bpftool: **${met ? 'met' : 'not met'}**

In process (\`@coolbpf/reader\`, file already in memory; medians of ${r.runs} runs after ${r.warmup} warmups):

${table([['step', 'median'], ['---', '---:'], ['decode (`readBtfFile(bytes)`)', ms(r.inProcess.decode)], ['full listing (`btf.listing()`)', ms(r.inProcess.listing)], ['materialize every type (`for (const t of btf.types())`, fresh decode, decode not timed)', ms(r.inProcess.materialize)]])}
`;
}

function text(r) {
  const f = r.facts;
  const line = (name, s) =>
    `  ${name.padEnd(12)} median ${ms(s.median).padStart(9)}  min ${ms(s.min).padStart(9)}  p90 ${ms(s.p90).padStart(9)}` +
    (s.cpuMedian !== undefined ? `  cpu ${ms(s.cpuMedian).padStart(9)}` : '') +
    (s.rssMedianMiB !== undefined ? `  rss ${s.rssMedianMiB.toFixed(1)} MiB` : '');
  return [
    `date     ${f.date}`,
    `kernel   ${f.kernel}`,
    `cpu      ${f.cpu} (${f.cores} cores)`,
    `node     ${f.node}${f.nodeFlags ? ` ${f.nodeFlags}` : ''}`,
    `bpftool  ${f.bpftool}`,
    `file     ${f.file} (${f.types} types)`,
    `runs     ${r.runs} alternating after ${r.warmup} warmups; cpu time via ${f.timer}`,
    '',
    'whole process (wall clock):',
    line('coolbpf-gen', r.process.ours),
    line('bpftool', r.process.bpftool),
    `  ratio of medians ${ratio(r.process.ratioOfMedians)}, median of per-pair ratios ${ratio(r.process.medianPairRatio)}; target <= ${TARGET.toFixed(1)}x: ${r.process.ratioOfMedians <= TARGET ? 'met' : 'NOT met'}`,
    '',
    'in process (medians):',
    `  decode       ${ms(r.inProcess.decode)}`,
    `  listing      ${ms(r.inProcess.listing)}`,
    `  materialize  ${ms(r.inProcess.materialize)}`,
    '',
  ].join('\n');
}

// -------------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));

  // Everything needed, or one line and exit 1.
  if (!which('bpftool')) die('bpftool not found on PATH (install it: apt-get install bpftool, or npm run setup)');
  if (!isExecutable(OURS_BIN)) die(`${OURS_BIN} missing or not executable (build first: npm run setup)`);
  try { accessSync(READER, constants.R_OK); } catch { die(`${READER} missing (build first: npm run setup)`); }
  if (!which('node')) die('node not found on PATH (the coolbpf-gen shebang runs `env node`)');
  let bytes;
  try { bytes = readFileSync(o.file); } catch (e) { die(`cannot read ${o.file}: ${e.code ?? e.message}`); }
  const timer = pickTimer(o.timer);

  const ours = [OURS_BIN, 'inspect', o.file, '--json'];
  const theirs = ['bpftool', 'btf', 'dump', 'file', o.file, 'format', 'raw'];
  const log = (s) => process.stderr.write(`${s}\n`);

  // Sanity check: both list the same number of types, so the work compares.
  let oursCount, theirCount;
  try {
    oursCount = JSON.parse(capture(ours).toString('utf8')).count;
    theirCount = capture(theirs).toString('latin1').match(/^\[\d+\]/gm)?.length ?? 0;
  } catch (e) {
    die(`a command failed: ${String(e.stderr ?? e.message).trim().split('\n')[0]}`);
  }
  if (oursCount !== theirCount) die(`coolbpf-gen lists ${oursCount} types but bpftool ${theirCount}: not the same work`);

  const dir = mkdtempSync(join(tmpdir(), 'coolbpf-bench-'));
  const devNull = openSync('/dev/null', 'w');
  const ctx = { timer, timeFile: join(dir, 'time'), devNull };
  const oursRuns = [], theirRuns = [];
  try {
    log(`inspect-vmlinux: ${o.warmup} warmups + ${o.runs} runs of each command, alternating`);
    for (let i = 0; i < o.warmup + o.runs; i++) {
      const a = await runOnce('coolbpf-gen', ours, ctx);
      const b = await runOnce('bpftool', theirs, ctx);
      if (i >= o.warmup) { oursRuns.push(a); theirRuns.push(b); }
      if (process.stderr.isTTY) process.stderr.write(`\r  ${i + 1}/${o.warmup + o.runs}`);
    }
    if (process.stderr.isTTY) process.stderr.write('\n');
  } catch (e) {
    die(e.message);
  } finally {
    closeSync(devNull);
    rmSync(dir, { recursive: true, force: true });
  }

  log('inspect-vmlinux: in-process decode');
  const ip = await inProcess(bytes, o.runs, o.warmup);

  const po = summarize(oursRuns), pb = summarize(theirRuns);
  const result = {
    facts: facts(o.file, ip.count, timer),
    runs: o.runs,
    warmup: o.warmup,
    target: TARGET,
    process: {
      ours: po,
      bpftool: pb,
      ratioOfMedians: po.median / pb.median,
      medianPairRatio: median(oursRuns.map((r, i) => r.wallMs / theirRuns[i].wallMs)),
      targetMet: po.median / pb.median <= TARGET,
      command: { ours: ours.join(' '), bpftool: theirs.join(' ') },
    },
    inProcess: { decode: ip.decode, listing: ip.listing, materialize: ip.materialize },
  };

  if (o.json) process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
  else if (o.markdown) process.stdout.write(markdown(result));
  else process.stdout.write(text(result));
}

main().catch((e) => die(e?.message ?? String(e)));
