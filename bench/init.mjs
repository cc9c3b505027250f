#!/usr/bin/env node
// init() latency benchmark: coolbpf_init(NULL) of a bpf.so (open + load +
// attach), and init() of the generated Node package, against a
// bpftool-generated skeleton of the same bpf.o (X__open_and_load() +
// X__attach(), linked with the system libbpf), each round a fresh process,
// alternating. See docs/BENCHMARKS.md.
//
//   bench/init/init-coolbpf.c   dlopen(bpf.so) (timed apart), coolbpf_init, coolbpf_destroy
//   bench/init/init-skel.c      X__open_and_load + X__attach, X__destroy
//   bench/init/init-node.mjs    node start-up, import of the package, addon +
//                               bpf.so dlopen (each timed apart), then
//                               init({ rodata }) and destroy()
//
// Objects: examples/hello (CO-RE relocations, so libbpf reads vmlinux BTF;
// a ringbuf and a hash map; a tracepoint) and the ring buffer benchmark's
// object (no CO-RE; a 16 MiB ringbuf; a tracepoint). Both are built with
// `coolbpf-gen build --lang node` into bench/build/init/.
//
// Each process inits K times (--per-process): the first init is the cold
// one (libbpf probes kernel features on first use in a process), which is
// the headline; the later ones are reported as "warm". destroy is timed
// apart (reported, never part of an init figure).

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  BUILD, cc, coolbpfBuild, dier, machineFacts, mdTable, median, pct, REPO, requireTools, runJson, skeleton, times,
} from './lib.mjs';

const TARGET = 1.1;
/** the kinds of process, in the order they alternate */
const ALL_KINDS = ['coolbpf', 'skeleton', 'node'];
const die = dier('init');

// nodeRodata: what init-node.mjs passes to init({ rodata }) (open + set .rodata + load + attach)
const OBJECTS = {
  hello: { source: 'examples/hello/hello.bpf.c', what: '`examples/hello` (1 tracepoint, ringbuf 256 KiB + hash map, 2 CO-RE relocations)', nodeRodata: ['only_uid=-1n'] },
  ringbuf: { source: 'bench/ringbuf/ringbuf.bpf.c', what: '`bench/ringbuf` (1 tracepoint, ringbuf 16 MiB, no CO-RE)', nodeRodata: ['producer_tgid=pid'] },
};

const USAGE = `usage: node bench/init.mjs [options]

  --rounds R         measured processes of each kind per object (default 21)
  --warmup W         unmeasured processes of each kind first (default 2)
  --per-process K    inits per process: the 1st is cold, the rest warm (default 3)
  --objects LIST     comma-separated: ${Object.keys(OBJECTS).join(', ')} (default all)
  --kinds LIST       comma-separated: ${ALL_KINDS.join(', ')} (default all; skeleton,
                     the peer, is always run)
  --markdown         print only the markdown block for docs/BENCHMARKS.md
                     (default: a plain table, then that block)
  --json             print the results as JSON
  --from FILE        print the table and markdown of results saved with --json
                     (runs nothing)
  -h, --help         this text
`;

function parseArgs(argv) {
  const o = { rounds: 21, warmup: 2, perProcess: 3, objects: Object.keys(OBJECTS), kinds: ALL_KINDS, markdown: false, json: false };
  const count = (name, v, min, max = 1e9) => {
    if (v === undefined || !/^\d+$/.test(v) || Number(v) < min || Number(v) > max) die(`${name} needs an integer in ${min}..${max}`);
    return Number(v);
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    switch (a) {
      case '--rounds': o.rounds = count(a, argv[++i], 1); break;
      case '--warmup': o.warmup = count(a, argv[++i], 0); break;
      case '--per-process': o.perProcess = count(a, argv[++i], 1, 1000); break;
      case '--objects': o.objects = (argv[++i] ?? die('--objects needs a list')).split(',').filter(Boolean); break;
      case '--kinds': o.kinds = (argv[++i] ?? die('--kinds needs a list')).split(',').filter(Boolean); break;
      case '--markdown': o.markdown = true; break;
      case '--json': o.json = true; break;
      case '--from': o.from = argv[++i] ?? die('--from needs a file'); break;
      case '-h': case '--help': process.stdout.write(USAGE); process.exit(0);
      default: die(`unknown option '${a}' (try --help)`);
    }
  }
  for (const n of o.objects) if (!OBJECTS[n]) die(`--objects: unknown object '${n}' (known: ${Object.keys(OBJECTS).join(', ')})`);
  if (o.objects.length === 0) die('--objects: empty list');
  for (const k of o.kinds) if (!ALL_KINDS.includes(k)) die(`--kinds: unknown kind '${k}' (known: ${ALL_KINDS.join(', ')})`);
  o.kinds = ALL_KINDS.filter((k) => k === 'skeleton' || o.kinds.includes(k));
  if (o.markdown && o.json) die('--markdown and --json are exclusive');
  if (o.from && o.json) die('--from prints what --json saved: not both');
  return o;
}

// -------------------------------------------------------------------- build

function build(names) {
  const dir = join(BUILD, 'init');
  const src = join(REPO, 'bench', 'init');
  const built = {};
  for (const name of names) {
    const out = coolbpfBuild(OBJECTS[name].source, `bench/build/init/${name}/obj`, { lang: 'node' });
    const header = join(dir, name, `${name}.skel.h`);
    skeleton(out.object, name, header);
    const skel = join(dir, name, 'init-skel');
    cc([`-DSKEL_HEADER="${name}.skel.h"`, `-DSKEL=${name}`, '-I', join(dir, name), '-o', skel, join(src, 'init-skel.c'), '-lbpf']);
    built[name] = { out, skel };
  }
  const coolbpf = join(dir, 'init-coolbpf');
  cc(['-I', built[names[0]].out.include, '-o', coolbpf, join(src, 'init-coolbpf.c'), '-ldl']);
  return { built, coolbpf, node: join(src, 'init-node.mjs') };
}

// ---------------------------------------------------------------------- run

/** Runs a driver; adds the wall clock from spawn to exit (exec, dynamic linking, init, destroy). */
async function timed(cmd, args) {
  const t0 = process.hrtime.bigint();
  const r = await runJson(cmd, args);
  r.processMs = Number(process.hrtime.bigint() - t0) / 1e6;
  return r;
}

function argvFor(b, kind, name, o) {
  switch (kind) {
    case 'coolbpf': return [b.coolbpf, [b.built[name].out.sharedObject, String(o.perProcess)]];
    case 'skeleton': return [b.built[name].skel, [String(o.perProcess)]];
    default: return [process.execPath, [b.node, b.built[name].out.node.entry, String(o.perProcess), ...OBJECTS[name].nodeRodata]];
  }
}

async function measure(b, o, log) {
  const runs = Object.fromEntries(o.objects.map((n) => [n, Object.fromEntries(o.kinds.map((k) => [k, []]))]));
  const total = o.warmup + o.rounds;
  for (let i = 0; i < total; i++) {
    for (const name of o.objects) {
      for (const kind of o.kinds) {
        const r = await timed(...argvFor(b, kind, name, o));
        if (r.init_us.length !== o.perProcess) throw new Error(`${kind} reported ${r.init_us.length} inits, expected ${o.perProcess}`);
        if (i >= o.warmup) runs[name][kind].push(r);
      }
    }
    if (process.stderr.isTTY) process.stderr.write(`\rinit: round ${i + 1}/${total}${i < o.warmup ? ' (warmup)' : ''}   `);
  }
  if (process.stderr.isTTY) process.stderr.write('\n');
  else log(`${total} rounds done`);
  return runs;
}

function summarize(runs) {
  const cold = runs.map((r) => r.init_us[0] / 1000);
  const warm = runs.flatMap((r) => r.init_us.slice(1).map((x) => x / 1000));
  const out = {
    cold: { median: median(cold), p90: pct(cold, 90), min: Math.min(...cold), max: Math.max(...cold), all: cold },
    warm: warm.length ? { median: median(warm), p90: pct(warm, 90), n: warm.length } : null,
    processMs: median(runs.map((r) => r.processMs)),
    destroyMs: median(runs.flatMap((r) => r.destroy_us.map((x) => x / 1000))),
  };
  if (runs[0].dlopen_us !== undefined) out.dlopenMs = median(runs.map((r) => r.dlopen_us / 1000));
  // node: its start-up and the package's import, before anything of coolbpf runs
  if (runs[0].boot_us !== undefined) out.bootMs = median(runs.map((r) => r.boot_us / 1000));
  if (runs[0].import_us !== undefined) out.importMs = median(runs.map((r) => r.import_us / 1000));
  return out;
}

/** Every kind's summary, and the ratios of coolbpf's and node's against the skeleton's. */
function compare(runs) {
  const out = { kinds: Object.keys(runs) };
  for (const k of out.kinds) out[k] = summarize(runs[k]);
  const s = out.skeleton;
  for (const k of out.kinds) {
    if (k === 'skeleton') continue;
    const a = out[k];
    const q = {
      ratio: a.cold.median / s.cold.median,
      ratioP90: a.cold.p90 / s.cold.p90,
      medianPairRatio: median(runs[k].map((r, i) => r.init_us[0] / runs.skeleton[i].init_us[0])),
      warmRatio: a.warm && s.warm ? a.warm.median / s.warm.median : null,
    };
    if (k === 'coolbpf') Object.assign(out, q); // the original fields: coolbpf / skeleton
    else out[`${k}Ratios`] = q;
  }
  return out;
}

// ---------------------------------------------------------------- reporting

const ms = (x) => `${x.toFixed(2)} ms`;

const LABELS = {
  coolbpf: '`coolbpf_init(NULL)` (bpf.so)',
  skeleton: '`X__open_and_load()` + `X__attach()` (skeleton)',
  node: '`init({ rodata })` (Node package)',
};

function ratioLines(r, { md }) {
  const lines = [];
  if (r.coolbpf) {
    lines.push(md
      ? `- coolbpf ÷ skeleton, ratio of cold medians: **${times(r.ratio)}**; p90 ${times(r.ratioP90)}; median of per-round ratios ${times(r.medianPairRatio)}${r.warmRatio ? `; warm ${times(r.warmRatio)}` : ''}; target ≤ ${TARGET.toFixed(1)}×: **${r.ratio <= TARGET ? 'met' : 'not met'}**`
      : `  coolbpf / skeleton: ratio of cold medians ${times(r.ratio)} (p90 ${times(r.ratioP90)}, per-round ${times(r.medianPairRatio)}${r.warmRatio ? `, warm ${times(r.warmRatio)}` : ''}); target <= ${TARGET.toFixed(1)}x: ${r.ratio <= TARGET ? 'met' : 'NOT met'}`);
  }
  if (r.node) {
    const q = r.nodeRatios, n = r.node;
    const first = n.dlopenMs + n.cold.median;
    lines.push(md
      ? `- Node ÷ skeleton, ratio of cold medians: **${times(q.ratio)}**; p90 ${times(q.ratioP90)}; median of per-round ratios ${times(q.medianPairRatio)}${q.warmRatio ? `; warm ${times(q.warmRatio)}` : ''} (no target set)\n` +
        `- Node before its first \`init()\` (medians): start-up to the script ${ms(n.bootMs)}, \`import\` of the package ${ms(n.importMs)}, addon + \`dlopen(bpf.so)\` + checks ${ms(n.dlopenMs)}; a first \`init()\` that loads the library itself takes about ${ms(first)} (${times(first / r.skeleton.cold.median)} the skeleton's cold init)`
      : `  node / skeleton: ratio of cold medians ${times(q.ratio)} (p90 ${times(q.ratioP90)}, per-round ${times(q.medianPairRatio)}${q.warmRatio ? `, warm ${times(q.warmRatio)}` : ''}); node boot ${ms(n.bootMs)}, import ${ms(n.importMs)}, addon + dlopen ${ms(n.dlopenMs)}`);
  }
  return lines.join('\n');
}

function markdown(res) {
  const f = res.facts, o = res.options;
  const hasNode = o.kinds.includes('node');
  const parts = [`#### ${f.date.slice(0, 10)} — ${f.cpu}, ${f.cores} cores, Linux ${f.kernel}

- Peer: \`${f.bpftool}\` \`gen skeleton\` of the same \`bpf.o\`, \`X__open_and_load()\` + \`X__attach()\`, linked with ${f.systemLibbpf} (\`-lbpf\`); bpf.so has libbpf built from the source of ${f.runtimeLibbpf} inside (\`packages/runtime-c/build/VERSION\`)
- ${o.rounds} measured processes of each kind per object after ${o.warmup} warmup${o.warmup === 1 ? '' : 's'}, alternating (${o.kinds.join(', ')}, ${o.kinds[0]}, …); each process inits ${o.perProcess} time${o.perProcess > 1 ? 's' : ''}: the **first (cold) init** is the headline, ${o.perProcess > 1 ? 'the later ones are "warm"' : 'no warm figures'}; destroy timed apart, never part of init
- coolbpf's \`dlopen(bpf.so)\` is timed apart and not in the ratio (the skeleton's libbpf.so is mapped by ld.so before \`main\`)${hasNode ? `; so is Node's: the package's \`loadLibrary\` (\`require\` of the native addon, \`dlopen(bpf.so)\`, ABI and SHA-256 checks) runs before the first \`init()\`, which then finds it loaded; Node ${f.node}, no flags, \`init({ rodata })\` sets one \`.rodata\` value the C drivers leave at its default` : ''}; "process" is spawn to exit as seen by the driver
- Measured ${f.date}; ${f.cc}; Node ${f.node}`];
  for (const name of o.objects) {
    const r = res.objects[name];
    const warm = r.skeleton.warm !== null;
    const rows = [
      ['init', 'cold median', 'cold p90', 'cold min – max', ...(warm ? ['warm median'] : []), 'dlopen (median)', 'destroy (median, not timed in init)', 'process (median)'],
      ...r.kinds.map((k) => {
        const s = r[k];
        return [LABELS[k], ms(s.cold.median), ms(s.cold.p90), `${s.cold.min.toFixed(2)} – ${s.cold.max.toFixed(2)} ms`,
          ...(warm ? [s.warm ? ms(s.warm.median) : '—'] : []), s.dlopenMs !== undefined ? ms(s.dlopenMs) : '—', ms(s.destroyMs), ms(s.processMs)];
      }),
    ];
    parts.push(`Object ${OBJECTS[name].what}:

${mdTable(rows)}

${ratioLines(r, { md: true })}`);
  }
  return `${parts.join('\n\n')}\n`;
}

function text(res) {
  const f = res.facts, o = res.options;
  const lines = [
    `date     ${f.date}`,
    `kernel   ${f.kernel}`,
    `cpu      ${f.cpu} (${f.cores} cores)`,
    `peer     ${f.bpftool} skeleton, ${f.systemLibbpf}`,
    `bpf.so   ${f.runtimeLibbpf}`,
    `node     ${f.node}`,
    `runs     ${o.rounds} processes of each kind per object after ${o.warmup} warmup${o.warmup === 1 ? '' : 's'}, alternating; ${o.perProcess} init(s) per process (1st cold)`,
  ];
  for (const name of o.objects) {
    const r = res.objects[name];
    lines.push('', `${name}:`);
    for (const k of r.kinds) {
      const s = r[k];
      lines.push(`  ${k.padEnd(9)} cold median ${ms(s.cold.median).padStart(9)}  p90 ${ms(s.cold.p90).padStart(9)}  min ${ms(s.cold.min).padStart(9)}` +
        (s.warm ? `  warm ${ms(s.warm.median).padStart(9)}` : '') + (s.dlopenMs !== undefined ? `  dlopen ${ms(s.dlopenMs)}` : '') + `  destroy ${ms(s.destroyMs)}  process ${ms(s.processMs)}`);
    }
    lines.push(ratioLines(r, { md: false }));
  }
  return `${lines.join('\n')}\n`;
}

// --------------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  if (o.from) {
    let saved;
    try { saved = JSON.parse(readFileSync(o.from, 'utf8')); } catch (e) { die(`--from ${o.from}: ${e.message}`); }
    process.stdout.write(o.markdown ? markdown(saved) : `${text(saved)}\n${markdown(saved)}`);
    return;
  }
  requireTools(die);
  const log = (s) => process.stderr.write(`init: ${s}\n`);
  log('building (coolbpf-gen build, bpftool gen skeleton, cc)');
  let b;
  try { b = build(o.objects); } catch (e) { die(e.message); }
  const res = { facts: machineFacts(), options: o, target: TARGET, objects: {} };
  try {
    const runs = await measure(b, o, log);
    for (const name of o.objects) res.objects[name] = compare(runs[name]);
  } catch (e) {
    die(e.message);
  }
  if (o.json) process.stdout.write(`${JSON.stringify(res, null, 2)}\n`);
  else if (o.markdown) process.stdout.write(markdown(res));
  else process.stdout.write(`${text(res)}\n${markdown(res)}`);
}

main().catch((e) => die(e?.stack ?? String(e)));
