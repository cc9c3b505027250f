// perfbuf: the ringbuf scenario's events through a perf event array, with
// the CPU each event came from, and no sample lost.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Gen from '../build/perfbuf/node/dist/index.js';
import { type JsonEvent, nodeEvent } from './events-common.js';
import {
  allowedCpus, bpfFdCounts, built, expected, hasTaskset, kernelSkipReason, loadScenario, onCpu, pkgDir, skipNote, thrown, trigger, until,
} from './harness.js';

interface Case { id: string; triggers: number & Record<string, number>; expect: Record<string, unknown>; [k: string]: unknown }
const E = expected<{ events: JsonEvent[]; cases: Case[] }>('perfbuf');
const spec = (id: string): Case => E.cases.find((c) => c.id === id)!;

const skip = kernelSkipReason() ?? (hasTaskset() ? undefined : 'taskset is not installed (the tests pin the triggering thread to CPUs)');
if (skip) skipNote('perfbuf', skip);

/** Reads with subscribe() until n events came (or fails after 5 s); stops the subscription. */
async function collect(events: Gen.Perfbuf['maps']['pb_events'], n: number, timeoutMs = 5000): Promise<[Gen.PbEvent, number][]> {
  const got: [Gen.PbEvent, number][] = [];
  const sub = events.subscribe((e, cpu) => got.push([e, cpu]));
  try {
    await until(() => got.length >= n, `${n} events`, timeoutMs);
  } finally {
    sub.stop();
    await sub.done;
  }
  return got;
}

describe.skipIf(skip !== undefined)('perfbuf', () => {
  let g: typeof Gen;
  let cpus: number[];
  const pid = process.pid;
  beforeAll(async () => {
    g = await loadScenario<typeof Gen>('perfbuf');
    cpus = allowedCpus();
  });

  // The reader is opened at load (init() here), before the programs are
  // attached: nothing BPF sends is missed, even before maps.pb_events is first used.
  it('before-first-read: events sent right after init(), before maps.pb_events was first used, are delivered', async () => {
    const n = spec('before-first-read').triggers;
    using x = g.init({ rodata: { target_tgid: pid } });
    trigger(n);
    const sentBefore = x.bss.sent, droppedBefore = x.bss.dropped;
    const got = await collect(x.maps.pb_events, n, 1000);
    expect({ sent: sentBefore, dropped: droppedBefore }).toEqual({ sent: BigInt(n), dropped: 0n });
    expect(got.map(([e]) => e.seq)).toEqual(Array.from({ length: n }, (_, i) => BigInt(i)));
  });

  it('contents: events arrive in order with every field exact, and with the CPU they came from', async () => {
    using x = g.init({ rodata: { target_tgid: pid } });
    const cpu = cpus[0]!;
    onCpu(cpu, () => trigger(E.events.length));
    const got = await collect(x.maps.pb_events, E.events.length);
    expect(got).toEqual(E.events.map((e) => [nodeEvent(e, cpu), cpu]));
    expect(x.maps.pb_events.stats()).toEqual({ records: BigInt(E.events.length), lost: 0n });
  });

  it('two-cpus: events from two CPUs: each reported with its CPU, in order within each CPU', async (ctx) => {
    if (cpus.length < 2) {
      skipNote('perfbuf: events from two CPUs', `this process may run on ${cpus.length} CPU only`);
      ctx.skip();
    }
    const c = spec('two-cpus');
    const [a, b] = [c.triggers['a']!, c.triggers['b']!];
    using x = g.init({ rodata: { target_tgid: pid } });
    onCpu(cpus[0]!, () => trigger(a));
    onCpu(cpus[1]!, () => trigger(b));
    const got = await collect(x.maps.pb_events, a + b);
    for (const [e, cpu] of got) expect([e.seq, e.cpu]).toEqual([e.seq, cpu]);
    const seqsOn = (cpu: number) => got.filter(([, c2]) => c2 === cpu).map(([e]) => Number(e.seq));
    expect(seqsOn(cpus[0]!)).toEqual(Array.from({ length: a }, (_, i) => i));
    expect(seqsOn(cpus[1]!)).toEqual(Array.from({ length: b }, (_, i) => a + i));
  });

  it('iterate: an async iteration ends cleanly when its signal aborts', async () => {
    const c = spec('iterate');
    using x = g.init({ rodata: { target_tgid: pid } });
    trigger(c.triggers);
    const ac = new AbortController();
    const seqs: bigint[] = [];
    for await (const ev of x.maps.pb_events.iterate({ signal: ac.signal })) {
      seqs.push(ev.seq);
      if (seqs.length === c.triggers) ac.abort();
    }
    expect(seqs).toEqual([0n, 1n, 2n]);
  });

  it('lost: lost == 0 when the buffers hold everything', async () => {
    const c = spec('lost');
    using x = g.init({ rodata: { target_tgid: pid } });
    onCpu(cpus[0]!, () => trigger(c.triggers));
    const got = await collect(x.maps.pb_events, c.triggers);
    expect(got.map(([e]) => Number(e.seq))).toEqual(Array.from({ length: c.triggers }, (_, i) => i));
    expect(x.maps.pb_events.stats()).toEqual({ records: BigInt(c.expect['stats.records'] as number), lost: BigInt(c.expect['stats.lost'] as number) });
    expect(x.bss.dropped).toBe(0n);
  });

  it('buffer-pages: the reader\'s buffer has the pages per CPU InitOptions.perfPages asks for; a count that is not a power of two is refused', async () => {
    const c = spec('buffer-pages');
    const n = c.triggers;
    const fds = bpfFdCounts();
    {
      using x = g.init({ rodata: { target_tgid: pid }, perfPages: { pb_events: c['pages'] as number } });
      onCpu(cpus[0]!, () => trigger(n));
      const dropped = Number(x.bss.dropped);
      expect(dropped).toBeGreaterThan(0);
      const got = await collect(x.maps.pb_events, n - dropped);
      expect(got.map(([e]) => Number(e.seq))).toEqual(Array.from({ length: n - dropped }, (_, i) => i));
    }
    const e = thrown(() => g.init({ rodata: { target_tgid: pid }, perfPages: { pb_events: c['badPages'] as number } }));
    expect(e).toBeInstanceOf(RangeError);
    expect((e as Error).message).toContain('pb_events');
    expect(bpfFdCounts()).toEqual(fds);
  });

  it('exit: a process that read events (abort, stop) exits by itself, without destroy', async () => {
    const want = spec('exit').expect as { exitCode: number; withinMs: number };
    const child = spawn(process.execPath, [join(pkgDir, 'node', 'exit-child.mjs'), join(built('perfbuf').node, 'dist', 'index.js'), 'pb_events'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '', err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    const code = await new Promise<number | string>((resolve) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        resolve(`still running after ${want.withinMs} ms`);
      }, want.withinMs);
      child.on('exit', (c) => {
        clearTimeout(timer);
        resolve(c ?? -1);
      });
    });
    expect({ code, err }).toEqual({ code: want.exitCode, err: '' });
    expect(JSON.parse(out)).toEqual({ iterated: [0, 1, 2], subscribed: [3, 4] });
  });
});
