// Events against the kernel: ring buffer and perf buffer through
// TypedEvents (async iteration with AbortSignal, subscribe, drain), the raw
// record format, stats, and ending on destroy.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CoolbpfError } from './errors.js';
import { TypedEvents } from './events.js';
import { buildHelper, buildObject, Helper, kernelSkipReason, KIND, RT_SRC, RtEvent, skipNote, tempDir, until, type Built } from './kernel.testutil.js';
import { loadLibrary, type BpfObject, type Library } from './object.js';

const skip = kernelSkipReason();
if (skip) skipNote('events', skip);

const tick = (ms = 20): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe.skipIf(skip !== undefined)('events', () => {
  const tmp = tempDir('coolbpf-node-events-');
  let rt: Built, lib: Library, helperPath: string, helper: Helper;
  let o: BpfObject;
  beforeAll(async () => {
    rt = buildObject(RT_SRC, join(tmp.dir, 'rt'));
    lib = loadLibrary(rt.bpfSo, { abiVersion: 1, sha256: rt.sha256 });
    helperPath = buildHelper(tmp.dir);
    helper = await Helper.start(helperPath);
  });
  afterAll(async () => {
    await helper?.stop();
    tmp.remove();
  });
  /** rt loaded and attached, reporting process `pid` with `tag` */
  function initRt(pid: number, tag = 0): BpfObject {
    const x = lib.open();
    x.setInitial('.rodata', rt.offsets['.rodata:target_tgid']!, new Uint8Array(new Uint32Array([pid]).buffer));
    x.setInitial('.rodata', rt.offsets['.rodata:tag']!, new Uint8Array(new Uint32Array([tag]).buffer));
    x.load();
    x.attach();
    return x;
  }
  beforeEach(() => {
    o = initRt(helper.pid, 5);
  });
  afterEach(() => o.destroy());

  it('ring buffer: for await with an AbortSignal gets every event, and ends cleanly on abort while waiting', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    const ac = new AbortController();
    const got: RtEvent[] = [];
    let ended = false;
    const loop = (async () => {
      for await (const e of ev.iterate({ signal: ac.signal })) got.push(e);
      ended = true;
    })();
    await helper.run('ppid 3');
    await helper.run('pgid 1');
    await helper.run('sid 1');
    await until(() => got.length === 5, 5000, '5 events');
    expect(got.map((e) => e.kind)).toEqual([KIND.TP, KIND.TP, KIND.TP, KIND.TP_BTF, KIND.RAW_TP]);
    expect(got.every((e) => e.pid === helper.pid && e.tag === 5 && e.flag === 0x100n)).toBe(true);
    expect(got.map((e) => e.value)).toEqual([0n, 0n, 0n, 121n, 124n]);
    await tick();
    expect(ended).toBe(false); // waiting for more
    ac.abort();
    await loop; // no AbortError
    expect(ended).toBe(true);
    expect(ev.stats()).toEqual({ records: 5n, lost: 0n });
  });

  it('an already aborted signal ends at once; break ends the loop; a second loop picks up where it stopped', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    for await (const _ of ev.iterate({ signal: AbortSignal.abort() })) throw new Error('nothing expected');
    await helper.run('ppid 4');
    const first: RtEvent[] = [];
    for await (const e of ev) {
      first.push(e);
      if (first.length === 2) break;
    }
    const rest: RtEvent[] = [];
    for await (const e of ev.iterate({ signal: AbortSignal.timeout(300) })) rest.push(e);
    expect(first.length + rest.length).toBe(4);
  });

  it('iteration ends cleanly when the object is destroyed', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    let n = 0;
    const loop = (async () => {
      for await (const _ of ev) n++;
    })();
    await helper.run('ppid 2');
    await until(() => n === 2, 5000, '2 events');
    o.destroy();
    await loop;
    expect(ev.raw.closed).toBe(true);
    expect(() => ev.drain()).toThrow(/events 'rt_events': read\(\): the object was destroyed/);
  });

  it('subscribe: a callback per event with cpu 0 for a ring buffer, until stop(); done resolves', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    const got: [RtEvent, number][] = [];
    const sub = ev.subscribe((e, cpu) => got.push([e, cpu]));
    await helper.run('ppid 1000');
    await until(() => got.length === 1000, 5000, '1000 events');
    expect(got.every(([e, cpu]) => e.kind === KIND.TP && cpu === 0)).toBe(true);
    sub.stop();
    await sub.done;
    await helper.run('ppid 1');
    await tick(50);
    expect(got.length).toBe(1000);
    expect(ev.stats().records).toBe(1000n);
  });

  it('subscribe: the signal stops it; a throwing callback stops it and rejects done with the error', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    const ac = new AbortController();
    let n = 0;
    const sub = ev.subscribe(() => n++, { signal: ac.signal });
    await helper.run('ppid 2');
    await until(() => n === 2, 5000, '2 events');
    ac.abort();
    await sub.done;

    const boom = new Error('boom');
    let calls = 0;
    const bad = ev.subscribe(() => {
      calls++;
      throw boom;
    });
    const rejected = expect(bad.done).rejects.toBe(boom); // handled before it rejects
    await helper.run('ppid 3');
    await rejected;
    expect(calls).toBe(1);
    // the two records after the failing one are still there for the next reader
    expect(ev.drain().length).toBe(2);
  });

  const taskset = spawnSync('taskset', ['--version']).status === 0;
  if (!taskset) skipNote('events: perf buffer per CPU', 'taskset (util-linux) is not installed: the CPU is not pinned');
  it('perf buffer: events with the CPU they came from', async () => {
    const cpus = lib.possibleCpus();
    const results: { cpu: number; got: [RtEvent, number][] }[] = [];
    for (const cpu of taskset ? [...new Set([0, cpus - 1])] : [-1]) {
      const pinned = await Helper.start(helperPath, cpu >= 0 ? ['taskset', '-c', String(cpu)] : []);
      const x = initRt(pinned.pid, 9);
      try {
        const ev = new TypedEvents(x.events('rt_pevents', { perfPages: 8 }), RtEvent, true);
        const got: [RtEvent, number][] = [];
        const sub = ev.subscribe((e, c) => got.push([e, c]));
        await pinned.run('ppid 3');
        await until(() => got.length === 3, 5000, '3 perf events');
        sub.stop();
        expect(ev.stats()).toEqual({ records: 3n, lost: 0n });
        results.push({ cpu, got });
      } finally {
        x.destroy();
        await pinned.stop();
      }
    }
    for (const { cpu, got } of results) {
      for (const [e, c] of got) {
        expect(e.kind).toBe(KIND.TP);
        expect(e.tag).toBe(9);
        expect(c).toBe(e.cpu); // the record's CPU is the one the program ran on
        if (cpu >= 0) expect(c).toBe(cpu);
      }
    }
  });

  it.skipIf(!taskset)('perf buffer: the read after a wakeup returns the records of every CPU (the ABI: "until none are left")', async () => {
    // A reader that found nothing waits for the next wakeup, and a perf
    // buffer announces a sample once: a read that skips a CPU's buffer
    // strands its records until some later sample.
    const cpus = lib.possibleCpus();
    for (let cpu = 0; cpu < cpus; cpu++) {
      const pinned = await Helper.start(helperPath, ['taskset', '-c', String(cpu)]);
      const x = initRt(pinned.pid, 1);
      try {
        const raw = x.events('rt_pevents', { perfPages: 8 });
        for (let i = 0; i < cpus; i++) expect(raw.read(new Uint8Array(4096))).toBe(0);
        await pinned.run('ppid 2');
        expect(await raw.waitReadable(AbortSignal.timeout(2000))).toBe(true);
        const buf = new Uint8Array(4096);
        const n = raw.read(buf);
        const v = new DataView(buf.buffer);
        const cpusSeen: number[] = [];
        for (let at = 0; at < n; at += 8 + ((v.getUint32(at, true) + 7) & ~7)) cpusSeen.push(v.getUint32(at + 4, true));
        expect(cpusSeen, `the records of CPU ${cpu} in the first read after the wakeup`).toEqual([cpu, cpu]);
      } finally {
        x.destroy();
        await pinned.stop();
      }
    }
  });

  it('perf buffer through async iteration', async () => {
    const ev = new TypedEvents(o.events('rt_pevents'), RtEvent, true);
    const got: RtEvent[] = [];
    const ac = new AbortController();
    const timeout = setTimeout(() => ac.abort(), 5000); // fail, not hang, if events go missing
    const loop = (async () => {
      for await (const e of ev.iterate({ signal: ac.signal })) {
        got.push(e);
        if (got.length === 20) ac.abort();
      }
    })();
    await helper.run('ppid 20');
    await loop;
    clearTimeout(timeout);
    expect(got.length).toBe(20);
  });

  it('drain(): what one read gives, without waiting; max leaves the rest for later', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    expect(ev.drain()).toEqual([]);
    await helper.run('ppid 5');
    const two = ev.drain(2);
    expect(two.length).toBe(2);
    expect(ev.drain().length).toBe(3);
    expect(ev.drain()).toEqual([]);
  });

  it('small batches and records larger than the batch still deliver everything', async () => {
    const ev = new TypedEvents(o.events('rt_events'), RtEvent, true);
    await helper.run('ppid 10');
    const got: RtEvent[] = [];
    // 16 bytes: smaller than one record (8 + 32): the buffer grows by itself
    for await (const e of ev.iterate({ batchBytes: 16, signal: AbortSignal.timeout(500) })) {
      got.push(e);
      if (got.length === 10) break;
    }
    expect(got.length).toBe(10);
    await expect(ev.iterate({ batchBytes: 3 })[Symbol.asyncIterator]().next()).rejects.toThrow(RangeError);
  });

  it('RawEvents.read: whole records {u32 size, u32 cpu, data, pad to 8}; ENOSPC when the first does not fit', async () => {
    const raw = o.events('rt_events');
    expect(raw.fd).toBeGreaterThan(0);
    expect(raw.map).toBe('rt_events');
    const buf = new Uint8Array(4096);
    expect(raw.read(buf)).toBe(0);
    await helper.run('ppid 3');
    const small = new Uint8Array(16);
    const e = (() => {
      try {
        raw.read(small);
      } catch (err) {
        return err as CoolbpfError;
      }
      return undefined;
    })();
    expect(e).toBeInstanceOf(CoolbpfError);
    expect(e!.code).toBe('ENOSPC');
    expect(e!.message).toBe("events_read: map 'rt_events': the next record does not fit in 16 bytes: No space left on device (errno 28)");
    expect(raw.read(new Uint8Array(40))).toBe(40); // exactly one
    const n = raw.read(buf);
    expect(n).toBe(80);
    const v = new DataView(buf.buffer);
    for (let at = 0; at < n; at += 40) {
      expect([v.getUint32(at, true), v.getUint32(at + 4, true)]).toEqual([32, 0]);
      expect(RtEvent.decode(v, at + 8)).toMatchObject({ kind: KIND.TP, pid: helper.pid });
    }
    expect(raw.stats()).toEqual({ records: 3n, lost: 0n });
    raw.close();
    raw.close();
    expect(() => raw.read(buf)).toThrow("events 'rt_events': read(): the reader is closed");
    expect(raw.stats()).toEqual({ records: 3n, lost: 0n }); // kept after close
  });

  it('a record shorter than the event type is an EMISMATCH, not garbage', async () => {
    const Big = { ...RtEvent, size: 40 };
    const ev = new TypedEvents(o.events('rt_events'), Big, true);
    await helper.run('ppid 1');
    expect(() => ev.drain()).toThrow(/a record of 32 bytes is shorter than the 40-byte event type/);
  });
});
