// One object through the whole ABI on the running kernel: open, set .rodata,
// load, attach (tracepoint, tp_btf, raw_tp automatically; uprobe with an
// explicit target), trigger each program, and read what arrived.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRt, type Built, type CallResult, type Json, runDriver } from './harness.js';
import { kernelSkipReason, skipNote } from './kernel.js';

const skip = kernelSkipReason();
if (skip) skipNote('bpf.so on the running kernel', skip);

interface Ev { size: number; rcpu: number; kind: number; tag: number; pid: number; cpu: number; value: number; flag: number }
const KIND = { tp: 1, tpBtf: 2, rawTp: 3, uprobe: 4 };
const TAG = 0xc0ffee;

describe.skipIf(skip !== undefined)('bpf.so on the running kernel', () => {
  let b: Built;
  let r: Json;
  const ok = (k: string) => expect(r[k], k).toEqual({ ret: 0, errno: 0, error: '' });
  const res = (k: string) => r[k] as CallResult;

  beforeAll(async () => {
    b = buildRt();
    r = await runDriver(b, 'smoke', [`tag=${TAG}`]);
  });
  afterAll(() => b && rmSync(b.dir, { recursive: true, force: true }));

  it('types the event maps from COOLBPF_EVENT', () => {
    expect(b.events).toEqual({ rt_events: ['struct rt_event', 'annotation'], rt_pevents: ['struct rt_event', 'annotation'] });
  });

  it('opens, sets .rodata, loads and attaches every auto-attachable program and a uprobe', () => {
    for (const k of ['open', 'set_tgid', 'set_tag', 'load', 'attach', 'attach_uprobe', 'events_open', 'perf_open']) ok(k);
    expect(r['abi']).toBe(1);
    expect(r['events_fd']).toBeGreaterThan(2);
  });

  it('delivers each program\'s events through the ring buffer, in order, with their contents', () => {
    const evs = r['events'] as Ev[];
    expect(evs.map((e) => e.kind)).toEqual([KIND.tp, KIND.tp, KIND.tp, KIND.tpBtf, KIND.tpBtf, KIND.rawTp, KIND.uprobe, KIND.uprobe]);
    const pids = new Set(evs.map((e) => e.pid));
    expect(pids.size).toBe(1);
    expect(evs.every((e) => e.size === 32 && e.rcpu === 0)).toBe(true);
    // syscall numbers for tp_btf (getpgid) and raw_tp (getsid), the uprobe's argument
    expect(evs.map((e) => e.value)).toEqual([0, 0, 0, 121, 121, 124, 42, 43]);
    expect(r['rb_records']).toBe(8);
    expect(r['rb_lost']).toBe(0);
    expect(r['empty_read']).toBe(0);
  });

  it('.rodata set before load changes what the programs do, and is frozen after', () => {
    expect((r['events'] as Ev[]).every((e) => e.tag === TAG)).toBe(true);
    expect(r['rodata_tag']).toBe(TAG);
    expect(res('set_after_load').ret).toBe(-16);
    expect(res('set_after_load').error).toMatch(/section '\.rodata': the object is already loaded/);
  });

  it('.data written live reaches the programs; .bss counters are read live', () => {
    // the first event was made before the write, the rest after
    expect((r['events'] as Ev[]).map((e) => e.flag)).toEqual([0x100, 0x200, 0x200, 0x200, 0x200, 0x200, 0x200, 0x200]);
    expect(r['hits_tp']).toBe(3);
    expect(r['hits_uprobe']).toBe(2);
  });

  it('reads whole records only: a buffer with room for one gets one, a smaller one gets ENOSPC', () => {
    expect(r['small_read']).toBe(40); // 8-byte header + 32 bytes
    expect(res('tiny_read').ret).toBe(-28);
    expect(res('tiny_read').error).toMatch(/map 'rt_events': the next record does not fit in 16 bytes/);
  });

  it('delivers perf buffer samples with their CPU', () => {
    const evs = r['perf'] as Ev[];
    expect(evs.map((e) => e.kind)).toEqual([KIND.tp, KIND.tp, KIND.tp]);
    // perf pads raw samples so size + data is 8-aligned: 32 bytes arrive as 36
    expect(evs.every((e) => e.size === 36 && e.rcpu === e.cpu && e.tag === TAG)).toBe(true);
    expect(r['pb_records']).toBe(3);
    expect(r['pb_lost']).toBe(0);
  });

  it('reads per-CPU values, one 8-aligned slot per possible CPU', () => {
    expect(r['pcpu_per_cpu']).toBe(1);
    expect(r['pcpu_buffer']).toBe(8 * (r['cpus'] as number));
    ok('pcpu_lookup');
    expect(r['pcpu_sum']).toBe(3);
    expect(res('pcpu_wrong_size').ret).toBe(-22);
    expect(res('pcpu_wrong_size').error).toMatch(/map 'rt_pcpu': the value buffer is 8 bytes, the map needs \d+/);
  });

  it('creates, reads, iterates, batch-reads and deletes hash map entries', () => {
    ok('kv_insert');
    expect(res('kv_insert_again')).toMatchObject({ ret: -17, errno: 17 });
    expect(res('kv_insert_again').error).toMatch(/map 'rt_kv' \(BPF_NOEXIST: the key exists\)/);
    expect(res('kv_exist_missing')).toMatchObject({ ret: -2, errno: 2 });
    ok('kv_any');
    ok('kv_lookup');
    expect(r['kv_a']).toBe(2 ** 40 + 5);
    expect(r['kv_b']).toBe(7);
    expect(r['kv_name']).toBe('one');
    expect(r['kv_iter']).toBe(2);
    expect(res('kv_batch').ret).toBe(1); // the last (only) batch
    expect(r['kv_batch_count']).toBe(2);
    ok('kv_delete');
    expect(res('kv_delete_again')).toMatchObject({ ret: -2, errno: 2 });
    expect(res('kv_lookup_deleted').error).toMatch(/map 'rt_kv': no such key/);
    expect(res('no_map').error).toMatch(/map 'nope': the object has no map of that name/);
    expect(res('ringbuf_batch')).toMatchObject({ ret: -95 });
  });

  it('detaches an explicit link once', () => {
    ok('detach');
    expect(res('detach_again').error).toMatch(/no link with id 0/);
  });
});

describe.skipIf(skip !== undefined)('init() and tracefs', () => {
  let b: Built;
  beforeAll(() => {
    b = buildRt();
  });
  afterAll(() => b && rmSync(b.dir, { recursive: true, force: true }));

  it('mounts tracefs when it is missing, so tracepoints attach', async () => {
    // a private mount namespace without tracefs, nor debugfs (whose tracing/
    // libbpf would use instead): the machine's mounts stay
    const unmounted = ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      'umount /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null; ' +
      'test ! -e /sys/kernel/tracing/events || exit 3; test ! -e /sys/kernel/debug/tracing/events || exit 4; exec "$@"', 'sh'];
    const r = await runDriver(b, 'live', [], { wrap: unmounted });
    expect(r['init']).toEqual({ ret: 0, errno: 0, error: '' });
    expect(r['tracefs']).toBe(1);
  });
});
