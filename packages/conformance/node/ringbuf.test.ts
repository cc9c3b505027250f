// ringbuf: typed events through a BPF ring buffer — exact contents, order,
// async iteration ended by an AbortSignal or destroy, the callback form,
// stats, bulk delivery, and a process that exits by itself afterwards.
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Gen from '../build/ringbuf/node/dist/index.js';
import { type JsonEvent, nodeEvent } from './events-common.js';
import { allowedCpus, built, expected, hasTaskset, kernelSkipReason, loadScenario, onCpu, pkgDir, skipNote, trigger, until } from './harness.js';

interface Case { id: string; triggers: number & Record<string, number>; expect: Record<string, unknown>; [k: string]: unknown }
const E = expected<{ events: JsonEvent[]; cases: Case[] }>('ringbuf');
const spec = (id: string): Case => E.cases.find((c) => c.id === id)!;

const skip = kernelSkipReason();
if (skip) skipNote('ringbuf', skip);

/** Runs f on one CPU when it can (so the events' cpu field is known), else where it runs. */
function onSomeCpu(f: () => void): number | undefined {
  const cpus = hasTaskset() ? allowedCpus() : [];
  if (cpus.length === 0) {
    f();
    return undefined;
  }
  onCpu(cpus[0]!, f);
  return cpus[0]!;
}

describe.skipIf(skip !== undefined)('ringbuf', () => {
  let g: typeof Gen;
  const pid = process.pid;
  beforeAll(async () => {
    g = await loadScenario<typeof Gen>('ringbuf');
  });

  it('contents: events arrive in order with every field exact; an aborted iteration ends cleanly', async () => {
    using x = g.init({ rodata: { target_tgid: pid } });
    const cpu = onSomeCpu(() => trigger(E.events.length));
    const ac = new AbortController();
    const got: Gen.RbEvent[] = [];
    for await (const ev of x.maps.rb_events.iterate({ signal: ac.signal })) {
      got.push(ev);
      if (got.length === E.events.length) ac.abort();
    }
    expect(got).toEqual(E.events.map((e, i) => nodeEvent(e, cpu ?? got[i]!.cpu)));
    expect(x.bss.dropped).toBe(0n);
  });

  it('waiting: an iteration waiting for events gets them as they come', async () => {
    const c = spec('waiting');
    using x = g.init({ rodata: { target_tgid: pid } });
    const ac = new AbortController();
    setTimeout(() => trigger(c.triggers), 20);
    const seqs: bigint[] = [];
    for await (const ev of x.maps.rb_events.iterate({ signal: ac.signal })) {
      seqs.push(ev.seq);
      if (seqs.length === c.triggers) ac.abort();
    }
    expect(seqs).toEqual([0n, 1n, 2n]);
  });

  it('abort-idle: an idle iteration ends cleanly when its signal aborts', async () => {
    const c = spec('abort-idle');
    using x = g.init({ rodata: { target_tgid: pid } });
    const t0 = Date.now();
    const got: unknown[] = [];
    for await (const ev of x.maps.rb_events.iterate({ signal: AbortSignal.timeout(c['timeoutMs'] as number) })) got.push(ev);
    expect(got).toEqual([]);
    expect(Date.now() - t0).toBeGreaterThanOrEqual((c['timeoutMs'] as number) - 5);
    expect(Date.now() - t0).toBeLessThan(5000);
  });

  it('destroy-ends: destroy ends a waiting iteration cleanly', async () => {
    const x = g.init({ rodata: { target_tgid: pid } });
    setTimeout(() => x.destroy(), 30);
    const got: unknown[] = [];
    for await (const ev of x.maps.rb_events) got.push(ev);
    expect(got).toEqual([]);
    expect(x.object.state).toBe('destroyed');
  });

  it('subscribe: a callback per event until stop(); what comes later stays for the next reader', async () => {
    const c = spec('subscribe');
    using x = g.init({ rodata: { target_tgid: pid } });
    const ev = x.maps.rb_events;
    const seen: [bigint, number][] = [];
    const sub = ev.subscribe((e, cpu) => seen.push([e.seq, cpu]));
    trigger(c.triggers['a']);
    await until(() => seen.length >= c.triggers['a']!, 'the subscribed events');
    sub.stop();
    await sub.done;
    trigger(c.triggers['b']);
    await new Promise((r) => setTimeout(r, 50));
    expect(seen).toEqual(Array.from({ length: c.expect['callbacks'] as number }, (_, i) => [BigInt(i), c.expect['cpuArgument']]));
    const later = ev.drain();
    expect(later.map((e) => e.seq)).toEqual(Array.from({ length: c.triggers['b']! }, (_, i) => BigInt(c.triggers['a']! + i)));
    expect(ev.stats()).toEqual({ records: BigInt(c.expect['stats.records'] as number), lost: BigInt(c.expect['stats.lost'] as number) });
  });

  it('bulk: every queued event in order, none dropped', async () => {
    const c = spec('bulk');
    using x = g.init({ rodata: { target_tgid: pid } });
    trigger(c.triggers);
    const ac = new AbortController();
    let next = 0n;
    let outOfOrder = 0;
    for await (const ev of x.maps.rb_events.iterate({ signal: ac.signal, batchBytes: 16 * 1024 })) {
      if (ev.seq !== next) outOfOrder++;
      next = ev.seq + 1n;
      if (next === BigInt(c.triggers)) ac.abort();
    }
    expect(outOfOrder).toBe(0);
    expect(next).toBe(BigInt(c.triggers));
    expect(x.bss.dropped).toBe(0n);
    expect(x.maps.rb_events.stats().records).toBe(BigInt(c.expect['stats.records'] as number));
  });

  it('exit: a process that read events (abort, stop) exits by itself, without destroy', async () => {
    const c = spec('exit');
    const want = c.expect as { exitCode: number; withinMs: number };
    const child = spawn(process.execPath, [join(pkgDir, 'node', 'exit-child.mjs'), join(built('ringbuf').node, 'dist', 'index.js'), 'rb_events'],
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
