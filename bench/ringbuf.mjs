#!/usr/bin/env node
// Ring buffer consumer benchmark: bpf.so's coolbpf_events_read, and the
// generated Node package's typed events, against libbpf's ring_buffer__poll,
// on the same BPF program and producer, in one session, alternating. See
// docs/BENCHMARKS.md.
//
//   bench/ringbuf/ringbuf.bpf.c    one 64-byte record per getppid() of the producer
//   bench/ringbuf/consumer-coolbpf.c   dlopen(bpf.so), coolbpf_events_read
//   bench/ringbuf/consumer-libbpf.c    bpftool skeleton of the same bpf.o, -lbpf,
//                                      ring_buffer__poll / ring_buffer__consume
//   bench/ringbuf/consumer-node.mjs    the generated package (--lang node):
//                                      init(), for await (… of events.iterate())
//                                      ("node") or events.subscribe(cb)
//                                      ("node-subscribe"); events.drain() in burst
//   bench/ringbuf/python/consumer.py   the generated package (--lang python),
//                                      pip-installed: init(), events.poll(cb,
//                                      0.1) (stream) / events.drain() (burst)
//   bench/ringbuf/go/cmd/coolbpf       the generated package (--lang go):
//                                      Init(), Maps.Events.Consume(ctx, fn)
//   bench/ringbuf/go/cmd/cilium        Go's peer: cilium/ebpf 0.9.1 (Debian's
//                                      golang-github-cilium-ebpf-dev) loading
//                                      the same bpf.o, ringbuf.Reader.ReadInto
//   bench/ringbuf/rust/                the generated crate (--lang rust):
//                                      init(), events.poll(100 ms, f) / drain(f)
//   bench/ringbuf/producer.c           the producer as a program, for the
//                                      consumers that spawn it
//
// Everything is built into bench/build/ringbuf/ (bpf.so and the Node package
// by `coolbpf-gen build --lang node,python,go,rust`), then each consumer runs
// as its own process, which forks the producer (the C consumers) or spawns
// producer.c's program, the same loop (the others). A consumer whose toolchain
// is missing (python venv, go, cargo) is left out with the reason printed.
// Two modes:
//
//   stream  the producer calls getppid() N times flat out while the consumer
//           reads, sleeping in epoll whenever it has caught up (the headline)
//   burst   the producer fills the ring BATCH records at a time while the
//           consumer waits; the consumer then drains what is waiting without
//           sleeping, and only the drains are measured (the reader's own
//           per-record cost, without wakeups)

import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILD, cc, coolbpfBuild, coolbpfModel, dier, globalOffset, machineFacts, mdTable, median, REPO, requireTools,
  run, runJson, skeleton, times, which,
} from './lib.mjs';

const TARGET = 1.0;
/** the Node consumer (for await … iterate(), stream) against libbpf */
const NODE_TARGET = 2.0;
/** each consumer's target against libbpf, stream mode (issue 3, 4 and 5) */
const TARGETS = { coolbpf: TARGET, node: NODE_TARGET, python: 4.0, go: 1.5, rust: 1.2 };
/** the Go package against cilium/ebpf's reader, stream mode */
const GO_PEER_TARGET = 1.0;
const die = dier('ringbuf');

const ALL_CONSUMERS = ['coolbpf', 'libbpf', 'node', 'node-subscribe', 'python', 'go', 'rust', 'go-cilium'];
const NODE_API = { node: 'iterate', 'node-subscribe': 'subscribe' };
const isNode = (c) => c in NODE_API;
const GO_ENV = { GOPROXY: 'off', GOFLAGS: '-mod=mod', GOTOOLCHAIN: 'local', GOTELEMETRY: 'off' };
const CARGO_PATH = `${process.env.PATH ?? ''}:${join(process.env.HOME || '/root', '.cargo', 'bin')}`;

const USAGE = `usage: node bench/ringbuf.mjs [options]

  --events N      records per run (default 2000000)
  --rounds R      measured runs of each consumer per mode, alternating (default 9)
  --warmup W      unmeasured runs of each consumer first (default 1)
  --mode M        stream, burst or both (default both)
  --batch B       burst mode: records per burst, at most what the 16 MiB ring
                  holds (default 200000)
  --timeout MS    stream mode: read/poll timeout (default 100)
  --pin C,P       run the consumer on CPU C and the producer on CPU P
                  (default: no pinning; the Node consumer through taskset)
  --consumers L   comma-separated: ${ALL_CONSUMERS.join(', ')}
                  (default all; node-subscribe runs in stream mode only)
  --markdown      print only the markdown block for docs/BENCHMARKS.md
                  (default: a plain table, then that block)
  --json          print the results as JSON
  --from FILE     print the table and markdown of results saved with --json
                  (runs nothing)
  -h, --help      this text
`;

function parseArgs(argv) {
  const o = { events: 2000000, rounds: 9, warmup: 1, mode: 'both', batch: 200000, timeout: 100, pin: '', consumers: ALL_CONSUMERS, markdown: false, json: false };
  const count = (name, v, min) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min) die(`${name} needs an integer >= ${min}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--events': o.events = count(a, argv[++i], 1); break;
      case '--rounds': o.rounds = count(a, argv[++i], 1); break;
      case '--warmup': o.warmup = count(a, argv[++i], 0); break;
      case '--mode': o.mode = argv[++i] ?? die('--mode needs a value'); break;
      case '--batch': o.batch = count(a, argv[++i], 1); break;
      case '--timeout': o.timeout = count(a, argv[++i], 1); break;
      case '--pin': o.pin = argv[++i] ?? die('--pin needs C,P'); break;
      case '--consumers': o.consumers = (argv[++i] ?? die('--consumers needs a list')).split(',').filter(Boolean); break;
      case '--markdown': o.markdown = true; break;
      case '--json': o.json = true; break;
      case '--from': o.from = argv[++i] ?? die('--from needs a file'); break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0);
      default: die(`unknown option '${a}' (try --help)`);
    }
  }
  if (!['stream', 'burst', 'both'].includes(o.mode)) die(`--mode: expected stream, burst or both, got '${o.mode}'`);
  for (const c of o.consumers) if (!ALL_CONSUMERS.includes(c)) die(`--consumers: unknown consumer '${c}' (known: ${ALL_CONSUMERS.join(', ')})`);
  if (!o.consumers.includes('libbpf')) die('--consumers: libbpf is the peer every ratio is against, keep it');
  o.consumers = ALL_CONSUMERS.filter((c) => o.consumers.includes(c));
  if (o.pin && !/^\d+,\d+$/.test(o.pin)) die(`--pin: expected CONSUMER_CPU,PRODUCER_CPU, got '${o.pin}'`);
  // 72 bytes a record in the ring (8 of header): the burst must fit in 16 MiB
  if (o.batch * 72 > 16 * 1024 * 1024) die(`--batch ${o.batch}: ${o.batch * 72} bytes do not fit in the 16 MiB ring`);
  if (o.markdown && o.json) die('--markdown and --json are exclusive');
  if (o.from && o.json) die('--from prints what --json saved: not both');
  return o;
}

// -------------------------------------------------------------------- build

function build(o) {
  const dir = join(BUILD, 'ringbuf');
  const src = join(REPO, 'bench', 'ringbuf');
  const out = coolbpfBuild('bench/ringbuf/ringbuf.bpf.c', 'bench/build/ringbuf/obj', { lang: 'node,python,go,rust' });
  const model = coolbpfModel(out.object);
  const offsets = {
    tgid: globalOffset(model, '.rodata', 'producer_tgid'),
    produced: globalOffset(model, '.bss', 'produced'),
    dropped: globalOffset(model, '.bss', 'dropped'),
  };
  const ringbuf = model.maps.find((m) => m.name === 'events');
  if (!ringbuf || ringbuf.type !== 'ringbuf') throw new Error('the object has no ringbuf map named events');
  skeleton(out.object, 'ringbuf', join(dir, 'ringbuf.skel.h'));
  const coolbpf = join(dir, 'consumer-coolbpf');
  const libbpf = join(dir, 'consumer-libbpf');
  cc(['-I', src, '-I', out.include, '-o', coolbpf, join(src, 'consumer-coolbpf.c'), '-ldl']);
  cc(['-I', src, '-I', dir, '-o', libbpf, join(src, 'consumer-libbpf.c'), '-lbpf']);
  const producer = join(dir, 'producer');
  cc(['-I', src, '-o', producer, join(src, 'producer.c')]);
  const bin = { coolbpf, libbpf, producer, node: join(src, 'consumer-node.mjs') };
  const missing = {};
  for (const [c, make] of Object.entries(LANGUAGE_BUILDS)) {
    if (!o.consumers.includes(c)) continue;
    const r = make(dir, out);
    if (typeof r === 'string') bin[c] = r;
    else missing[c] = r.why;
  }
  return { out, offsets, ringSize: ringbuf.maxEntries, bin, missing };
}

/**
 * Each language consumer's build: its program's path, or { why } it cannot
 * be built here (the consumer is then left out, the reason printed).
 */
const LANGUAGE_BUILDS = {
  python(dir, out) {
    // the generated package, pip-installed (offline: it has no dependencies)
    // into a directory the consumer gets on PYTHONPATH, as a user's program would
    const pip = join(REPO, 'bindings-python', '.venv', 'bin', 'pip');
    if (!existsSync(pip)) return { why: `no ${pip} (npm run setup makes the venv)` };
    const lib = join(dir, 'pylib');
    rmSync(lib, { recursive: true, force: true });
    run(pip, ['install', '-q', '--no-index', '--disable-pip-version-check', '--target', lib, join(out.dir, 'python')]);
    return lib;
  },
  go(dir) {
    if (!which('go')) return { why: 'no go on PATH (npm run setup installs golang-go)' };
    const exe = join(dir, 'consumer-go');
    run('go', ['build', '-o', exe, './cmd/coolbpf'], { cwd: join(REPO, 'bench', 'ringbuf', 'go'), env: GO_ENV });
    return exe;
  },
  'go-cilium'(dir) {
    if (!which('go')) return { why: 'no go on PATH (npm run setup installs golang-go)' };
    if (!existsSync('/usr/share/gocode/src/github.com/cilium/ebpf/ringbuf')) {
      return { why: "cilium/ebpf is not installed (apt-get install golang-github-cilium-ebpf-dev; it is only the benchmark's peer)" };
    }
    // cilium/ebpf 0.9.1 attaches tracepoints through debugfs's tracing directory
    if (!existsSync('/sys/kernel/debug/tracing/events')) {
      try { run('mount', ['-t', 'debugfs', 'debugfs', '/sys/kernel/debug']); } catch (e) {
        return { why: `cilium/ebpf 0.9.1 needs /sys/kernel/debug/tracing, and mounting debugfs failed: ${e.message.split('\n').pop()}` };
      }
    }
    const exe = join(dir, 'consumer-go-cilium');
    run('go', ['build', '-o', exe, './cmd/cilium'], { cwd: join(REPO, 'bench', 'ringbuf', 'go'), env: GO_ENV });
    return exe;
  },
  rust(dir) {
    const env = { PATH: CARGO_PATH, CARGO_TARGET_DIR: join(dir, 'rust-target') };
    try { run('cargo', ['--version'], { env }); } catch { return { why: 'no cargo (rustup puts it in ~/.cargo/bin)' }; }
    run('cargo', ['build', '--release', '--offline', '--quiet'], { cwd: join(REPO, 'bench', 'ringbuf', 'rust'), env });
    return join(dir, 'rust-target', 'release', 'consumer-rust');
  },
};

// ---------------------------------------------------------------------- run

function argvFor(b, consumer, mode, o) {
  if (isNode(consumer)) {
    const args = [b.bin.node, b.out.node.entry, b.bin.producer, mode, String(o.events), String(o.batch), NODE_API[consumer]];
    // the C consumers pin themselves (BENCH_PIN, common.h); node goes through taskset
    return o.pin ? ['taskset', ['-c', o.pin.split(',')[0], process.execPath, ...args]] : [process.execPath, args];
  }
  const spawned = [b.bin.producer, mode, String(o.events), String(o.batch)];
  // the others pin themselves (BENCH_PIN) only in C: go through taskset
  const pinned = (cmd, args) => (o.pin ? ['taskset', ['-c', o.pin.split(',')[0], cmd, ...args]] : [cmd, args]);
  if (consumer === 'python') return pinned(join(REPO, 'bindings-python', '.venv', 'bin', 'python'), [join(REPO, 'bench', 'ringbuf', 'python', 'consumer.py'), ...spawned]);
  if (consumer === 'go' || consumer === 'rust') return pinned(b.bin[consumer], spawned);
  if (consumer === 'go-cilium') return pinned(b.bin[consumer], [b.out.object, ...spawned]);
  if (consumer === 'coolbpf') {
    return [b.bin.coolbpf, [b.out.sharedObject, mode, String(o.events), String(o.batch), String(b.offsets.tgid),
      String(b.offsets.produced), String(b.offsets.dropped), String(o.timeout)]];
  }
  return [b.bin.libbpf, [mode, String(o.events), String(o.batch), String(o.timeout)]];
}

/** the consumers of a mode, in the order they alternate */
const consumersOf = (o, mode) => o.consumers.filter((c) => mode === 'stream' || c !== 'node-subscribe');

async function runMode(b, mode, o, log) {
  const pin = o.pin ? { BENCH_PIN: o.pin } : {};
  const envOf = (c) => (c === 'python' ? { ...pin, PYTHONPATH: b.bin.python, PYTHONDONTWRITEBYTECODE: '1' } : pin);
  const consumers = consumersOf(o, mode);
  const runs = Object.fromEntries(consumers.map((c) => [c, []]));
  const total = o.warmup + o.rounds;
  for (let i = 0; i < total; i++) {
    for (const c of consumers) {
      const [cmd, args] = argvFor(b, c, mode, o);
      const r = await runJson(cmd, args, { env: envOf(c) });
      if (i >= o.warmup) runs[c].push(r);
    }
    log(`  ${mode}: round ${i + 1}/${total}${i < o.warmup ? ' (warmup)' : ''}`);
  }
  return runs;
}

function summarize(runs) {
  const cpuNs = (r) => ((r.user_us + r.sys_us) * 1000) / r.delivered;
  return {
    runs: runs.length,
    delivered: runs.map((r) => r.delivered),
    lost: runs.reduce((s, r) => s + r.lost, 0),
    cpuNsPerEvent: median(runs.map(cpuNs)),
    cpuNsMin: Math.min(...runs.map(cpuNs)),
    cpuNsMax: Math.max(...runs.map(cpuNs)),
    userMs: median(runs.map((r) => r.user_us / 1000)),
    sysMs: median(runs.map((r) => r.sys_us / 1000)),
    wallMs: median(runs.map((r) => r.wall_us / 1000)),
    eventsPerSec: median(runs.map((r) => r.delivered / (r.wall_us / 1e6))),
    sleeps: median(runs.map((r) => r.nvcsw)),
    // null: the consumer's API does not show its reads (Go's Consume, cilium's ReadInto)
    reads: runs.some((r) => r.reads === null) ? null : median(runs.map((r) => r.reads)),
    producerCpuMs: median(runs.map((r) => r.producer_cpu_us / 1000)),
    all: runs.map((r) => ({ cpuNsPerEvent: cpuNs(r), wallMs: r.wall_us / 1000, sleeps: r.nvcsw, reads: r.reads })),
  };
}

/** Every consumer's summary, and each one's ratios against libbpf: of medians, and the median of per-round ratios. */
function compare(runs) {
  const s = Object.fromEntries(Object.entries(runs).map(([c, rs]) => [c, summarize(rs)]));
  const perEvent = (r) => (r.user_us + r.sys_us) / r.delivered;
  const ratios = {};
  for (const c of Object.keys(runs)) {
    if (c === 'libbpf') continue;
    const pair = runs[c].map((r, i) => perEvent(r) / perEvent(runs.libbpf[i]));
    ratios[c] = { ratio: s[c].cpuNsPerEvent / s.libbpf.cpuNsPerEvent, medianPairRatio: median(pair) };
  }
  // Go's own peer: the generated Go package against cilium/ebpf's reader
  if (runs.go && runs['go-cilium']) {
    const pair = runs.go.map((r, i) => perEvent(r) / perEvent(runs['go-cilium'][i]));
    ratios.goCilium = { ratio: s.go.cpuNsPerEvent / s['go-cilium'].cpuNsPerEvent, medianPairRatio: median(pair) };
  }
  return { ...s, consumers: Object.keys(runs), ratios };
}

// ---------------------------------------------------------------- reporting

const f1 = (x) => x.toFixed(1);
const mevs = (x) => `${(x / 1e6).toFixed(2)} M/s`;

function label(c, mode) {
  switch (c) {
    case 'coolbpf': return '`coolbpf_events_read` (bpf.so)';
    case 'libbpf': return mode === 'burst' ? '`ring_buffer__consume` (libbpf)' : '`ring_buffer__poll` (libbpf)';
    case 'node': return mode === 'burst' ? '`events.drain()` (Node package)' : '`for await (… of events.iterate())` (Node package)';
    case 'node-subscribe': return '`events.subscribe(cb)` (Node package)';
    case 'python': return mode === 'burst' ? '`events.drain()` (Python package)' : '`events.poll(cb, 0.1)` (Python package)';
    case 'go': return '`Events.Consume(ctx, fn)` (Go package)';
    case 'rust': return mode === 'burst' ? '`events.drain(f)` (Rust crate)' : '`events.poll(100 ms, f)` (Rust crate)';
    default: return '`ringbuf.Reader.ReadInto` (cilium/ebpf 0.9.1, Go)';
  }
}

function modeRows(r) {
  return [
    ['consumer', 'events delivered (each run)', 'lost (all runs)', 'CPU / event (median)', 'min – max', '÷ libbpf', 'user / sys (median)', r.mode === 'burst' ? 'wall, drains only (median)' : 'wall (median)', 'events/s (median)', 'sleeps (median)', 'reads (median)'],
    ...r.consumers.map((c) => {
      const s = r[c];
      const dl = Math.min(...s.delivered) === Math.max(...s.delivered) ? String(s.delivered[0]) : `${Math.min(...s.delivered)}–${Math.max(...s.delivered)}`;
      return [label(c, r.mode),
        dl, String(s.lost), `${f1(s.cpuNsPerEvent)} ns`, `${f1(s.cpuNsMin)} – ${f1(s.cpuNsMax)} ns`, c === 'libbpf' ? '1' : times(r.ratios[c].ratio),
        `${f1(s.userMs)} / ${f1(s.sysMs)} ms`, `${f1(s.wallMs)} ms`, mevs(s.eventsPerSec), String(s.sleeps), s.reads === null ? '—' : String(s.reads)];
    }),
  ];
}

const ratioName = (c, mode) => ({
  coolbpf: 'coolbpf', node: mode === 'burst' ? 'Node `drain()`' : 'Node `iterate()`', 'node-subscribe': 'Node `subscribe()`',
  python: 'Python', go: 'Go', rust: 'Rust', 'go-cilium': 'cilium/ebpf (Go)',
})[c];

/** The verdict lines of a mode: every ratio against libbpf, and the targets (stream mode). */
function verdicts(r, mode, { md }) {
  const lines = [];
  for (const c of r.consumers) {
    if (c === 'libbpf') continue;
    const q = r.ratios[c], t = TARGETS[c];
    const met = q.ratio <= t;
    lines.push(md
      ? `- ${ratioName(c, mode)} ÷ libbpf, ratio of medians of CPU per event: **${times(q.ratio)}**; median of per-round ratios ${times(q.medianPairRatio)}` +
        (mode === 'stream' && t !== undefined ? `; target ≤ ${t.toFixed(1)}×: **${met ? 'met' : 'not met'}**` : '')
      : `  ${c} / libbpf: ratio of medians ${times(q.ratio)}, median of per-round ratios ${times(q.medianPairRatio)}` +
        (mode === 'stream' && t !== undefined ? `; target <= ${t.toFixed(1)}x: ${met ? 'met' : 'NOT met'}` : ''));
  }
  const g = r.ratios.goCilium;
  if (g) {
    const met = g.ratio <= GO_PEER_TARGET;
    lines.push(md
      ? `- Go ÷ cilium/ebpf, ratio of medians of CPU per event: **${times(g.ratio)}**; median of per-round ratios ${times(g.medianPairRatio)}` +
        (mode === 'stream' ? `; target ≤ ${GO_PEER_TARGET.toFixed(1)}×: **${met ? 'met' : 'not met'}**` : '')
      : `  go / go-cilium: ratio of medians ${times(g.ratio)}, median of per-round ratios ${times(g.medianPairRatio)}` +
        (mode === 'stream' ? `; target <= ${GO_PEER_TARGET.toFixed(1)}x: ${met ? 'met' : 'NOT met'}` : ''));
  }
  return lines.join('\n');
}

function markdown(res) {
  const f = res.facts, o = res.options;
  const hasNode = o.consumers.some(isNode);
  const parts = [`#### ${f.date.slice(0, 10)} — ${f.cpu}, ${f.cores} cores, Linux ${f.kernel}

- Peer: libbpf's \`ring_buffer\` API, ${f.systemLibbpf}, through a \`${f.bpftool}\` skeleton of the same \`bpf.o\`; bpf.so has libbpf built from the source of ${f.runtimeLibbpf} inside${hasNode ? `
- Node: the package \`coolbpf-gen build --lang node\` generated for the same \`bpf.o\` (its \`init()\` and typed \`maps.events\`, \`struct record\` decoded to \`{ seq: bigint, payload: Uint8Array }\`), Node ${f.node} with no flags; it spawns the producer (\`producer.c\`, the same loop) where the C consumers fork it` : ''}${o.consumers.some((c) => ['python', 'go', 'rust'].includes(c)) ? `
- Python, Go, Rust: the packages \`--lang python,go,rust\` generated for the same \`bpf.o\`, each used as its README shows (\`init()\` with \`producer_tgid\` in \`.rodata\`, the typed events of \`events\`: every record decoded into the language's \`struct record\` type); ${f.python ?? 'python3'} (the pip-installed package), ${f.go ?? 'go'} (\`go build\`), ${f.rustc ?? 'rustc'} (\`cargo build --release\`); each spawns the producer as Node does` : ''}${o.consumers.includes('go-cilium') ? `
- Go's peer: cilium/ebpf ${f.cilium ?? '0.9.1'} (Debian's \`golang-github-cilium-ebpf-dev\`) loading the same \`bpf.o\` itself and reading with \`ringbuf.Reader.ReadInto\` and one reused \`Record\` (its documented loop; the consumer reads \`seq\` from the raw bytes, no decoding), built with the same Go` : ''}
- ${o.events} records of 64 bytes per run, 16 MiB ring; ${o.rounds} measured run${o.rounds === 1 ? '' : 's'} of each consumer per mode after ${o.warmup} warmup${o.warmup === 1 ? '' : 's'}, alternating (${consumersOf(o, 'stream').join(', ')}, ${consumersOf(o, 'stream')[0]}, …), each run a fresh process; ${o.pin ? `consumer pinned to CPU ${o.pin.split(',')[0]}, producer to CPU ${o.pin.split(',')[1]}` : 'no CPU pinning'}
- CPU time: \`getrusage(RUSAGE_SELF)\` of the consumer process (user + sys of all its threads${hasNode ? ', for Node \`process.resourceUsage()\`, so GC and V8\'s helper threads count' : ''}; the sum is the scheduler's precise run time, only the split between the two is sampled), from just before the producer starts to just after the last record; the producer is another process; "sleeps" are the consumer's voluntary context switches
- Measured ${f.date}; ${f.cc}; Node ${f.node}`];
  for (const mode of ['stream', 'burst']) {
    const r = res[mode];
    if (!r) continue;
    const title = mode === 'stream'
      ? `Stream (producer flat out, consumer reads (C: with a ${o.timeout} ms timeout) and sleeps when caught up${hasNode ? '; Node sleeps in its event loop' : ''}):`
      : `Burst (reader cost alone: ${o.batch}-record bursts already in the ring, drained without sleeping, only the drains measured):`;
    parts.push(`${title}\n\n${mdTable(modeRows({ ...r, mode }))}\n\n${verdicts(r, mode, { md: true })}`);
  }
  return `${parts.join('\n\n')}\n`;
}

function text(res) {
  const f = res.facts, o = res.options;
  const lines = [
    `date     ${f.date}`,
    `kernel   ${f.kernel}`,
    `cpu      ${f.cpu} (${f.cores} cores)`,
    `peer     libbpf ring_buffer, ${f.systemLibbpf}; ${f.bpftool} skeleton`,
    `bpf.so   ${f.runtimeLibbpf}`,
    `node     ${f.node}`,
    `runs     ${o.events} records each; ${o.rounds} measured + ${o.warmup} warmup per consumer and mode, alternating${o.pin ? `; pinned ${o.pin}` : ''}`,
  ];
  for (const mode of ['stream', 'burst']) {
    const r = res[mode];
    if (!r) continue;
    lines.push('', `${mode}:`);
    for (const c of r.consumers) {
      const s = r[c];
      lines.push(`  ${c.padEnd(14)} cpu/event ${`${f1(s.cpuNsPerEvent)} ns`.padStart(9)} (${f1(s.cpuNsMin)}–${f1(s.cpuNsMax)})  user ${f1(s.userMs)} ms  sys ${f1(s.sysMs)} ms  wall ${f1(s.wallMs)} ms  ${mevs(s.eventsPerSec)}  lost ${s.lost}  sleeps ${s.sleeps}  reads ${s.reads}`);
    }
    lines.push(verdicts(r, mode, { md: false }));
  }
  return `${lines.join('\n')}\n`;
}

// --------------------------------------------------------------------- main

/** The language toolchains' versions, for the report. */
function languageFacts() {
  const first = (cmd, args, env) => { try { return run(cmd, args, { env }).trim().split('\n')[0]; } catch { return undefined; } };
  const py = join(REPO, 'bindings-python', '.venv', 'bin', 'python');
  let cilium;
  try { cilium = run('dpkg-query', ['-W', '-f=${Version}', 'golang-github-cilium-ebpf-dev']).trim(); } catch { /* not installed */ }
  return {
    python: existsSync(py) ? first(py, ['--version']) : undefined,
    go: first('go', ['version'])?.replace(/^go version /, ''),
    rustc: first('rustc', ['--version'], { PATH: CARGO_PATH }),
    cilium,
  };
}

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.from) {
    let saved;
    try { saved = JSON.parse(readFileSync(o.from, 'utf8')); } catch (e) { die(`--from ${o.from}: ${e.message}`); }
    process.stdout.write(o.markdown ? markdown(saved) : `${text(saved)}\n${markdown(saved)}`);
    return;
  }
  requireTools(die);
  const log = (s) => process.stderr.write(`ringbuf: ${s}\n`);
  log('building (coolbpf-gen build --lang node, bpftool gen skeleton, cc)');
  let b;
  try { b = build(o); } catch (e) { die(e.message); }
  if (o.batch * 72 > b.ringSize) die(`--batch ${o.batch} does not fit in the ${b.ringSize}-byte ring`);
  for (const [c, why] of Object.entries(b.missing)) log(`leaving out ${c}: ${why}`);
  o.consumers = o.consumers.filter((c) => !(c in b.missing));

  const res = { facts: { ...machineFacts(), ...languageFacts() }, options: o, targets: TARGETS, goPeerTarget: GO_PEER_TARGET };
  try {
    for (const mode of o.mode === 'both' ? ['stream', 'burst'] : [o.mode]) {
      res[mode] = compare(await runMode(b, mode, o, log));
    }
  } catch (e) {
    die(e.message);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
  else if (o.markdown) process.stdout.write(markdown(res));
  else process.stdout.write(`${text(res)}\n${markdown(res)}`);
}

main().catch((e) => die(e?.stack ?? String(e)));
