#!/usr/bin/env node
// Ring buffer consumer through the generated Node package (`coolbpf-gen build
// ringbuf.bpf.c --lang node`), used as a user would: init({ rodata }) and the
// typed events of skel.maps.events (COOLBPF_EVENT(events, struct record)).
//
//   node consumer-node.mjs PKG_ENTRY PRODUCER stream|burst N BATCH [API]
//
// PKG_ENTRY: the generated package's dist/index.js. PRODUCER: producer.c's
// executable, spawned (Node cannot fork) before init, as the C consumers
// fork theirs: the same getppid() loop, go bytes on its stdin, done bytes on
// its stdout; its pid goes into .rodata. API, stream mode: iterate (the
// default: `for await (const ev of events.iterate())`) or subscribe
// (`events.subscribe(cb)`); burst mode always drains with `events.drain()`
// (the call for callers with their own loop), without waiting.
//
// The window and the checks are the C consumers' (common.h): the process's
// getrusage (process.resourceUsage(): user + sys of every thread, GC and
// the rest included) and the monotonic clock, from just before the go byte
// to just after the last record; exactly N records, seq in order, seq sum
// N(N-1)/2, .bss `dropped` 0. Prints one JSON line with the C consumers'
// fields; exit status 1 when the run is not clean (after printing).
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';

const NAME = 'consumer-node';
/** no record for this long while some are missing: give up (common.h's STALL_MS) */
const STALL_MS = 10000;

function die(msg) {
  process.stderr.write(`${NAME}: ${msg}\n`);
  if (producer && producer.exitCode === null) producer.kill('SIGKILL');
  process.exit(1);
}

let producer = null;

function parseArgs(argv) {
  if (argv.length < 5 || argv.length > 6 || !['stream', 'burst'].includes(argv[2])) {
    die('usage: consumer-node.mjs PKG_ENTRY PRODUCER stream|burst N BATCH [iterate|subscribe]');
  }
  const int = (what, s) => {
    if (!/^\d+$/.test(s)) die(`${what}: not a number: '${s}'`);
    return Number(s);
  };
  const api = argv[5] ?? 'iterate';
  if (!['iterate', 'subscribe'].includes(api)) die(`API: expected iterate or subscribe, got '${api}'`);
  return { entry: argv[0], producerPath: argv[1], burst: argv[2] === 'burst', n: int('N', argv[3]), batch: int('BATCH', argv[4]), api };
}

// ----------------------------------------------------------------- producer

/** Spawns the producer; resolves once it runs. Done bytes and its result line arrive on its stdout. */
function startProducer(path, n, batch) {
  const child = spawn(path, [String(n), String(batch)], { stdio: ['pipe', 'pipe', 'inherit'] });
  const p = {
    child,
    batchesDone: 0,
    result: null,
    onBatch: null, // called on every done byte
    exited: new Promise((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
  };
  let tail = '';
  child.stdout.setEncoding('latin1').on('data', (d) => {
    if (p.result === null && tail === '') {
      // done bytes, then '\n' and the result line
      let i = 0;
      for (; i < d.length && d[i] === 'd'; i++) p.batchesDone++;
      if (i > 0 && p.onBatch) p.onBatch();
      d = d.slice(i);
    }
    tail += d;
  });
  child.stdout.on('end', () => {
    const line = tail.trim();
    if (line) {
      try { p.result = JSON.parse(line); } catch { die(`the producer printed '${line}'`); }
    }
  });
  return new Promise((resolve, reject) => {
    child.once('spawn', () => resolve(p));
    child.once('error', (e) => reject(new Error(`spawning ${path}: ${e.message}`)));
  });
}

/** Releases the producer for one batch (one byte; libuv writes it at once, or queues it and still sends it). */
const go = (p) => p.child.stdin.write('g');

// ------------------------------------------------------------------ window

/** rusage and clock deltas summed over resume .. pause spans (common.h's struct window). */
function makeWindow() {
  const w = { user_us: 0, sys_us: 0, wall_ns: 0n, nvcsw: 0, nivcsw: 0, r0: null, t0: 0n };
  w.resume = () => {
    w.r0 = process.resourceUsage();
    w.t0 = process.hrtime.bigint();
  };
  w.pause = () => {
    const t1 = process.hrtime.bigint();
    const r1 = process.resourceUsage();
    w.wall_ns += t1 - w.t0;
    w.user_us += r1.userCPUTime - w.r0.userCPUTime;
    w.sys_us += r1.systemCPUTime - w.r0.systemCPUTime;
    w.nvcsw += r1.voluntaryContextSwitches - w.r0.voluntaryContextSwitches;
    w.nivcsw += r1.involuntaryContextSwitches - w.r0.involuntaryContextSwitches;
  };
  return w;
}

// ------------------------------------------------------------------- main

async function main() {
  const o = parseArgs(process.argv.slice(2));
  const batch = o.burst ? (o.batch === 0 || o.batch > o.n ? o.n : o.batch) : o.n;

  // the producer first: its pid goes into .rodata before load
  const p = await startProducer(o.producerPath, o.n, batch);
  producer = p.child;
  const { init } = await import(pathToFileURL(o.entry).href);
  const skel = init({ rodata: { producer_tgid: p.child.pid } });
  const events = skel.maps.events; // TypedEvents<RecordStruct>
  // reads made (the C consumers' `reads`): an own property over RawEvents.read,
  // one extra JS call per read() of up to 256 KiB
  let reads = 0, emptyReads = 0;
  const raw = events.raw;
  const read = raw.read.bind(raw);
  raw.read = (buf) => {
    reads++;
    const got = read(buf);
    if (got === 0) emptyReads++;
    return got;
  };
  // the reader's 256 KiB buffer is made on the first read: make it now, outside
  // the window (the C consumers malloc and touch theirs before it too)
  if (events.drain().length !== 0) die('records before the producer started');
  reads = emptyReads = 0;

  // the tally: every record checked (common.h's tally())
  let delivered = 0, seqSum = 0, nextSeq = 0, outOfOrder = 0;
  const tally = (ev) => {
    const seq = Number(ev.seq); // < 2^53: exact
    seqSum += seq;
    if (seq !== nextSeq) outOfOrder++;
    nextSeq = seq + 1;
    delivered++;
  };
  const produced = () => Number(skel.bss.produced);
  const dropped = () => Number(skel.bss.dropped);

  const w = makeWindow();
  if (!o.burst) {
    // ends the wait when the producer is done and nothing more is coming (lost > 0),
    // or nothing has arrived for STALL_MS
    const stop = new AbortController();
    let lastCount = 0, lastProgress = Date.now(), failure = null;
    const check = () => {
      if (delivered !== lastCount) { lastCount = delivered; lastProgress = Date.now(); }
      if (p.batchesDone > 0 && produced() + dropped() === o.n && delivered === produced()) stop.abort();
      else if (Date.now() - lastProgress > STALL_MS) {
        failure = `no record for ${STALL_MS} ms with ${delivered} of ${o.n} delivered`;
        stop.abort();
      }
    };
    // one check a second while running, every 10 ms once the producer is done
    const slow = setInterval(check, 1000);
    let fast = null;
    p.onBatch = () => { fast ??= setInterval(check, 10); };

    w.resume();
    go(p);
    if (o.api === 'iterate') {
      for await (const ev of events.iterate({ signal: stop.signal })) {
        tally(ev);
        if (delivered === o.n) break;
      }
    } else {
      await new Promise((resolve, reject) => {
        const sub = events.subscribe((ev) => {
          tally(ev);
          if (delivered === o.n) sub.stop();
        }, { signal: stop.signal });
        sub.done.then(resolve, reject);
      });
    }
    w.pause();
    p.onBatch = null;
    clearInterval(slow);
    if (fast) clearInterval(fast);
    if (failure) die(failure);
  } else {
    for (let done = 0; done < o.n;) {
      const b = Math.min(o.n - done, batch);
      const batchDone = new Promise((resolve) => { p.onBatch = resolve; });
      const before = p.batchesDone;
      go(p);
      while (p.batchesDone === before) await batchDone;
      // every record of the batch is committed by now (or dropped)
      const want = produced();
      w.resume();
      while (delivered < want) {
        const evs = events.drain();
        if (evs.length === 0) break;
        for (let i = 0; i < evs.length; i++) tally(evs[i]);
      }
      w.pause();
      done += b;
    }
    p.onBatch = null;
  }

  // reap the producer, check, print (common.h's report())
  const ex = await p.exited;
  if (ex.code !== 0) die(`the producer failed (${ex.signal ? `killed by ${ex.signal}` : `exit status ${ex.code}`})`);
  await new Promise((resolve) => (p.child.stdout.readableEnded ? resolve() : p.child.stdout.once('end', resolve)));
  const prod = produced(), drop = dropped(), n = o.n;
  const stats = events.stats();
  const lost = drop + Math.max(0, n - delivered);
  const wantSum = (n * (n - 1)) / 2; // exact below 2^53: n <= ~1.3e8
  const ok = lost === 0 && delivered === n && prod === n && seqSum === wantSum && outOfOrder === 0 && stats.records === BigInt(delivered);
  const result = {
    consumer: o.api === 'iterate' ? 'node' : `node-${o.api}`, mode: o.burst ? 'burst' : 'stream', n, produced: prod, dropped: drop,
    delivered, lost, seq_sum_ok: seqSum === wantSum, out_of_order: outOfOrder, bad_size: 0,
    user_us: w.user_us, sys_us: w.sys_us, wall_us: Math.round(Number(w.wall_ns) / 1000), nvcsw: w.nvcsw, nivcsw: w.nivcsw,
    reads, empty_reads: emptyReads,
    producer_cpu_us: p.result?.producer_cpu_us ?? -1,
    reader_records: Number(stats.records),
  };
  skel.destroy();
  process.stdout.write(`${JSON.stringify(result)}\n`);
  if (!ok) {
    process.stderr.write(`${NAME}: run not clean: ${lost} lost, ${delivered} of ${n} delivered (${prod} produced), seq sum ${seqSum === wantSum ? 'ok' : 'WRONG'}, ${outOfOrder} out of order, reader counted ${stats.records}\n`);
    process.exitCode = 1;
  }
}

main().catch((e) => die(e?.stack ?? String(e)));
