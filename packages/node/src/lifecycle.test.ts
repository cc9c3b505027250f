// BpfObject's lifecycle against the kernel: states and the errors of calls
// out of order or after destroy, verifier and attach failures, the data
// sections' live views, explicit attach.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { codecs } from './codecs.js';
import { CoolbpfError } from './errors.js';
import { TypedEvents } from './events.js';
import { buildHelper, buildObject, Helper, kernelSkipReason, KIND, RT_SRC, RtEvent, skipNote, tempDir, until, type Built } from './kernel.testutil.js';
import { TypedMap } from './maps.js';
import { loadLibrary, type BpfObject, type Library } from './object.js';

const skip = kernelSkipReason();
if (skip) skipNote('lifecycle', skip);

function thrown(f: () => unknown): CoolbpfError {
  try {
    f();
  } catch (e) {
    if (!(e instanceof CoolbpfError)) throw e;
    return e;
  }
  throw new Error('expected a CoolbpfError');
}

const u32 = (n: number): Uint8Array => new Uint8Array(new Uint32Array([n]).buffer);

describe.skipIf(skip !== undefined)('BpfObject lifecycle', () => {
  const tmp = tempDir('coolbpf-node-life-');
  let rt: Built, lib: Library, helperPath: string, helper: Helper;
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
  const off = (k: string): number => rt.offsets[k]!;
  /** rt opened, reporting the helper process */
  function openRt(tag = 0): BpfObject {
    const o = lib.open();
    o.setInitial('.rodata', off('.rodata:target_tgid'), u32(helper.pid));
    o.setInitial('.rodata', off('.rodata:tag'), u32(tag));
    return o;
  }

  it('goes opened → loaded → attached → destroyed; calls out of order throw ESTATE saying what to do', () => {
    const o = openRt();
    expect(o.state).toBe('opened');
    const notLoaded = (f: () => unknown, what: string): void => {
      const e = thrown(f);
      expect([e.code, e.errno, e.message]).toEqual(['ESTATE', 0, `${what}: the object is not loaded yet; call load() first`]);
    };
    notLoaded(() => o.attach(), 'attach()');
    notLoaded(() => o.attachUprobe('on_uprobe', { binary: helperPath, symbol: 'helper_probe_target' }), "attachUprobe('on_uprobe')");
    notLoaded(() => o.attachTracepoint('on_tp', 'syscalls', 'sys_enter_getppid'), "attachTracepoint('on_tp')");
    notLoaded(() => o.events('rt_events'), "events('rt_events')");
    const kv = o.map('rt_kv');
    expect(kv.info()).toMatchObject({ type: 1, keySize: 4, valueSize: 24, maxEntries: 1024, fd: -1, perCpu: false, valueBufferSize: 24 });
    notLoaded(() => kv.fd(), "map 'rt_kv': fd()");
    notLoaded(() => kv.lookup(new Uint8Array(4), new Uint8Array(24)), "map 'rt_kv': lookup()");

    o.load();
    expect(o.state).toBe('loaded');
    expect(kv.info().fd).toBeGreaterThan(0);
    expect(kv.fd()).toBe(kv.info().fd);
    const already = (f: () => unknown, what: string): void => {
      const e = thrown(f);
      expect([e.code, e.message]).toEqual(['ESTATE', `${what}: the object is already loaded; this is possible only between open() and load()`]);
    };
    already(() => o.load(), 'load()');
    already(() => o.setInitial('.rodata', 0, u32(1)), "setInitial('.rodata')");
    already(() => o.setAutoload('bad_prog', true), "setAutoload('bad_prog')");

    o.attach();
    expect(o.state).toBe('attached');
    const twice = thrown(() => o.attach());
    expect([twice.code, twice.message]).toEqual(['ESTATE', "attach(): the object's programs are already attached"]);

    const events = o.events('rt_events');
    const section = o.section('.bss');
    o.destroy();
    expect(o.state).toBe('destroyed');
    o.destroy(); // idempotent
    const gone = (f: () => unknown, what: string): void => {
      const e = thrown(f);
      expect([e.code, e.errno, e.message]).toEqual(['EDESTROYED', 0, `${what}: the object was destroyed`]);
    };
    gone(() => o.load(), 'load()');
    gone(() => o.attach(), 'attach()');
    gone(() => o.setInitial('.data', 0, u32(1)), "setInitial('.data')");
    gone(() => o.section('.data'), "section('.data')");
    gone(() => o.map('rt_pcpu'), "map('rt_pcpu')");
    gone(() => o.events('rt_events'), "events('rt_events')");
    gone(() => o.attachRawTracepoint('on_raw_tp', 'sys_enter'), "attachRawTracepoint('on_raw_tp')");
    gone(() => kv.lookup(new Uint8Array(4), new Uint8Array(24)), "map 'rt_kv': lookup()");
    gone(() => kv.info(), "map 'rt_kv': info()");
    gone(() => events.read(new Uint8Array(64)), "events 'rt_events': read()");
    expect(events.closed).toBe(true);
    expect(() => section.getBigUint64(0, true)).toThrow(TypeError);
  });

  it('Symbol.dispose destroys (using)', () => {
    let kept: BpfObject;
    {
      using o = openRt();
      o.load();
      kept = o;
    }
    expect(kept.state).toBe('destroyed');
  });

  it('a program the verifier rejects: EACCES, the program named, the verifier log in the message and in detail', () => {
    const o = openRt();
    try {
      o.setAutoload('bad_prog', true);
      const e = thrown(() => o.load());
      expect(e.code).toBe('EACCES');
      expect(e.errno).toBe(13);
      const [first] = e.message.split('\n');
      expect(first).toBe("load: program 'bad_prog': Permission denied (errno 13)");
      expect(e.detail).toMatch(/R0 invalid mem access 'map_value_or_null'/);
      expect(e.message).toContain(e.detail);
      expect(e.detail).toMatch(/rt\.bpf\.c:\d+/);
      expect(o.state).toBe('opened');
      const again = thrown(() => o.load());
      expect([again.code, again.message]).toEqual(['ESTATE', 'load(): load() failed on this object; destroy() it and open a new one']);
      const attach = thrown(() => o.attach());
      expect(attach.message).toBe('attach(): load() failed on this object; destroy() it and open a new one');
    } finally {
      o.destroy();
    }
  });

  it('a tracepoint that does not exist: ENOENT naming program and tracepoint; the object stays loaded', () => {
    const o = openRt();
    try {
      o.setAutoload('missing_tp', true);
      o.load();
      const e = thrown(() => o.attach());
      expect(e.code).toBe('ENOENT');
      expect(e.message).toMatch(/^attach: program 'missing_tp': No such file or directory \(errno 2\)/);
      expect(e.message).toMatch(/tracepoint 'syscalls\/sys_enter_coolbpf_nope'/);
      expect(o.state).toBe('loaded');
      // the maps still work
      const kv = new TypedMap(o.map('rt_kv'), codecs.u32, codecs.bytes(24), true);
      expect(kv.get(1)).toBeUndefined();
      // and attaching again gives the same answer
      expect(thrown(() => o.attach()).code).toBe('ENOENT');
    } finally {
      o.destroy();
    }
  });

  it('wrong names and bad arguments say which and why', () => {
    const o = openRt();
    try {
      const e1 = thrown(() => o.setAutoload('nope', true));
      expect([e1.code, e1.message]).toEqual(['ENOENT',
        "set_autoload: program 'nope': the object has no program of that name: No such file or directory (errno 2)"]);
      const e2 = thrown(() => o.section('.data.nope'));
      expect(e2.code).toBe('ENOENT');
      expect(e2.message).toMatch(/section '\.data\.nope': the object has no such data section/);
      expect(thrown(() => o.setInitial('.data', 4096, u32(1))).code).toBe('ERANGE');
      expect(thrown(() => o.map('nope')).message).toMatch(/^map_info: map 'nope': the object has no map of that name/);
      o.load();
      expect(thrown(() => o.events('nope')).code).toBe('ENOENT');
      const ne = thrown(() => o.events('rt_kv'));
      expect([ne.code, ne.message]).toEqual(['EINVAL',
        "events_open: map 'rt_kv': not a ring buffer or perf event array: Invalid argument (errno 22)"]);
      expect(thrown(() => o.events('rt_pevents', { perfPages: 3 })).message).toMatch(/perf_pages 3 is not a power of two/);
      const up = thrown(() => o.attachUprobe('on_uprobe', { binary: '/nonexistent/bin', symbol: 'f' }));
      expect(up.message).toMatch(/program 'on_uprobe' to \/nonexistent\/bin/);
      expect(() => o.attachTc('on_tp', 1, 'sideways' as 'ingress')).toThrow(TypeError);
    } finally {
      o.destroy();
    }
    const b = thrown(() => lib.open({ btfPath: '/nonexistent/vmlinux.btf' }));
    expect([b.code, b.message]).toEqual(['ENOENT', "open: BTF file '/nonexistent/vmlinux.btf': No such file or directory (errno 2)"]);
  });

  it('section(): live views without copies; the same view across load; .rodata frozen; all detached on destroy', async () => {
    const o = openRt(7);
    const data = o.section('.data');
    const bss = o.section('.bss');
    const roBefore = o.section('.rodata');
    expect(o.section('.data')).toBe(data);
    expect(data.byteLength).toBe(8);
    expect(roBefore.getUint32(off('.rodata:target_tgid'), true)).toBe(helper.pid); // setInitial wrote here
    // before load: the initial image (as setInitial)
    expect(data.getBigUint64(off('.data:flag'), true)).toBe(0x100n);
    data.setBigUint64(off('.data:flag'), 0x111n, true);
    o.load();
    // .data and .bss: the same DataView and ArrayBuffer, now the kernel's map
    expect(o.section('.data')).toBe(data);
    expect(o.section('.bss')).toBe(bss);
    expect(data.getBigUint64(off('.data:flag'), true)).toBe(0x111n);
    // .rodata: the view from before load was detached (the memory is read-only now)
    expect(() => roBefore.getUint32(0, true)).toThrow(TypeError);
    const ro = o.section('.rodata');
    expect(ro).not.toBe(roBefore);
    expect(ro.getUint32(off('.rodata:target_tgid'), true)).toBe(helper.pid);
    expect(ro.getUint32(off('.rodata:tag'), true)).toBe(7);
    expect(() => ro.setUint32(0, 1, true)).toThrow(/section '\.rodata' is read-only after load/);
    o.attach();
    const events = new TypedEvents(o.events('rt_events'), RtEvent, true);
    const got: RtEvent[] = [];
    const sub = events.subscribe((e) => got.push(e));
    try {
      await helper.run('ppid 1');
      data.setBigUint64(off('.data:flag'), 0x222n, true); // a live write: the next events carry it
      await helper.run('ppid 2');
      await until(() => got.length === 3, 5000, '3 events');
      expect(got.map((e) => [e.tag, e.flag])).toEqual([[7, 0x111n], [7, 0x222n], [7, 0x222n]]);
      // live reads: the programs' counters
      expect(bss.getBigUint64(off('.bss:hits_tp'), true)).toBe(3n);
      await helper.run('ppid 2');
      expect(bss.getBigUint64(off('.bss:hits_tp'), true)).toBe(5n);
      bss.setBigUint64(off('.bss:hits_tp'), 100n, true);
      await helper.run('ppid 1');
      expect(bss.getBigUint64(off('.bss:hits_tp'), true)).toBe(101n);
    } finally {
      sub.stop();
      o.destroy();
    }
    for (const v of [data, bss]) {
      expect(() => v.getUint8(0)).toThrow(TypeError);
      expect(() => v.setUint8(0, 1)).toThrow(TypeError);
      expect(v.buffer.byteLength).toBe(0);
    }
    // .rodata's copy too: nothing reads an object's globals after destroy
    expect(() => ro.getUint32(0, true)).toThrow(TypeError);
    expect(ro.buffer.byteLength).toBe(0);
    expect(() => o.section('.rodata')).toThrow(expect.objectContaining({ code: 'EDESTROYED' }));
  });

  it('explicit attach: a uprobe on a function of another binary, a tracepoint, a raw tracepoint; Link.detach stops them', async () => {
    const o = openRt();
    o.load();
    const events = new TypedEvents(o.events('rt_events'), RtEvent, true);
    const got: RtEvent[] = [];
    const sub = events.subscribe((e) => got.push(e));
    const bss = o.section('.bss');
    try {
      const up = o.attachUprobe('on_uprobe', { binary: helperPath, symbol: 'helper_probe_target', pid: helper.pid });
      expect(up.attached).toBe(true);
      const tp = o.attachTracepoint('on_tp', 'syscalls', 'sys_enter_getppid');
      const raw = o.attachRawTracepoint('on_raw_tp', 'sys_enter');
      expect(o.state).toBe('loaded'); // attach() (every program) was not called
      await helper.run('probe 42 2');
      await helper.run('ppid 1');
      await helper.run('sid 1');
      await helper.run('pgid 1'); // on_tp_btf is not attached: no event
      await until(() => got.length === 4, 5000, '4 events');
      expect(got.map((e) => [e.kind, Number(e.value), e.pid])).toEqual([
        [KIND.UPROBE, 42, helper.pid], [KIND.UPROBE, 42, helper.pid], [KIND.TP, 0, helper.pid], [KIND.RAW_TP, 124, helper.pid],
      ]);
      expect(bss.getBigUint64(off('.bss:hits_uprobe'), true)).toBe(2n);
      up.detach();
      up.detach(); // idempotent
      expect(up.attached).toBe(false);
      tp[Symbol.dispose]();
      await helper.run('probe 43 1');
      await helper.run('ppid 1');
      await helper.run('sid 1');
      await until(() => got.length === 5, 5000, 'the raw tracepoint event');
      await new Promise((r) => setTimeout(r, 50));
      expect(got.slice(4).map((e) => e.kind)).toEqual([KIND.RAW_TP]);
      expect(bss.getBigUint64(off('.bss:hits_uprobe'), true)).toBe(2n);
      o.destroy();
      raw.detach(); // after destroy: a no-op
      expect(raw.attached).toBe(false);
    } finally {
      sub.stop();
      o.destroy();
    }
  });

  const kprobes = existsSync('/sys/bus/event_source/devices/kprobe');
  if (!kprobes) skipNote('lifecycle: kprobe events', 'this kernel has no kprobes (CONFIG_KPROBES): only the failure is checked');
  it('explicit attach: a kprobe (uprobe and kprobe programs share a type)', async () => {
    const o = openRt();
    try {
      o.load();
      const bss = o.section('.bss');
      if (!kprobes) {
        const e = thrown(() => o.attachKprobe('on_uprobe', { function: '__x64_sys_getpgid' }));
        expect(e.message).toMatch(/^attach_kprobe: program 'on_uprobe' to kernel function '__x64_sys_getpgid': /);
        return;
      }
      const k = o.attachKprobe('on_uprobe', { function: '__x64_sys_getpgid' });
      await helper.run('pgid 3');
      expect(bss.getBigUint64(off('.bss:hits_uprobe'), true)).toBe(3n);
      k.detach();
      await helper.run('pgid 1');
      expect(bss.getBigUint64(off('.bss:hits_uprobe'), true)).toBe(3n);
      const e = thrown(() => o.attachKprobe('on_uprobe', { function: 'coolbpf_no_such_function' }));
      expect(e.message).toMatch(/^attach_kprobe: program 'on_uprobe' to kernel function 'coolbpf_no_such_function'/);
    } finally {
      o.destroy();
    }
  });
});
