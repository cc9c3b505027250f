import { readFileSync } from 'node:fs';
import { fixturePath } from '@coolbpf/fixtures';
import { Btf, CoolbpfError, encodeBtf, Int, Member, Pointer, readObject, STT, Struct, Var } from '@coolbpf/reader';
import { describe, expect, it } from 'vitest';
import { events } from './events.js';
import { LayoutCollector } from './layout.js';
import { buildModel } from './model.js';
import type { MapModel, ObjectModel } from './types.js';

const model = (name: string, endian: 'bpfel' | 'bpfeb' = 'bpfel', opts = {}): ObjectModel => buildModel(readFileSync(fixturePath(name, endian)), opts);

describe('programs', () => {
  const m = model('progs');
  const byName = new Map(m.programs.map((p) => [p.name, p]));
  const row = (n: string) => {
    const p = byName.get(n)!;
    return [p.section, p.kind?.family, p.kind?.progType, p.kind?.expectedAttachType, p.kind?.target, p.kind?.autoAttach, p.kind?.needs, p.kind?.sleepable];
  };

  it('reads each SEC() the way libbpf does', () => {
    expect(row('handle_openat_tp')).toEqual(['tp/syscalls/sys_enter_openat', 'tracepoint', 'tracepoint', null, { kind: 'tracepoint', category: 'syscalls', name: 'sys_enter_openat' }, true, null, false]);
    expect(row('handle_sched_switch')).toEqual(['tp_btf/sched_switch', 'tp_btf', 'tracing', 'trace_raw_tp', { kind: 'btf-tracepoint', name: 'sched_switch' }, true, null, false]);
    expect(row('handle_kprobe_generic')).toEqual(['kprobe', 'kprobe', 'kprobe', null, null, false, 'kernel-function', false]);
    expect(row('handle_readline_sleepable')).toEqual(['uprobe.s//bin/bash:readline', 'uprobe', 'kprobe', null, { kind: 'user-function', binary: '/bin/bash', function: 'readline', offset: 0 }, true, null, true]);
    expect(row('handle_xdp')).toEqual(['xdp', 'xdp', 'xdp', 'xdp', null, false, 'interface', false]);
    expect(row('handle_connect4')).toEqual(['cgroup/connect4', 'cgroup', 'cgroup_sock_addr', 'cgroup_inet4_connect', null, false, 'cgroup', false]);
    expect(row('handle_iter_task')).toEqual(['iter/task', 'iter', 'tracing', 'trace_iter', { kind: 'iterator', name: 'task' }, true, null, false]);
    expect(row('handle_syscall')).toEqual(['syscall', 'syscall', 'syscall', null, null, false, 'test-run', true]);
    expect(row('fixture_ssthresh')?.[6]).toBe('struct-ops-map');
  });

  it('lists every global function of every program section, and no .text subprogram', () => {
    const obj = readObject(readFileSync(fixturePath('progs')));
    const text = obj.elf.section('.text')!;
    const expected = obj.elf.symbols
      .filter((s) => s.type === STT.FUNC && s.sectionIndex !== null && s.sectionIndex !== text.index && (obj.elf.sections[s.sectionIndex]!.flags & 4n))
      .map((s) => [s.name, s.size / 8]);
    expect(m.programs.map((p) => [p.name, p.instructions]).sort()).toEqual(expected.sort());
    expect(m.programs.length).toBeGreaterThan(35);
  });

  it('counts CO-RE relocations per program, within the object total', () => {
    expect(m.object.coreRelocations).toBe(readObject(readFileSync(fixturePath('progs'))).ext!.coreRelos.reduce((n, s) => n + s.records.length, 0));
    const perProgram = m.programs.reduce((n, p) => n + p.coreRelocations, 0);
    expect(perProgram).toBeGreaterThan(20);
    expect(perProgram).toBeLessThanOrEqual(m.object.coreRelocations);
    expect(m.object.kernelVersion).toBe(0x060100);
    expect(m.object.license).toBe('GPL');
  });
});

describe('maps', () => {
  const m = model('maps');
  const map = (n: string): MapModel => m.maps.find((x) => x.name === n)!;
  const brief = (x: MapModel) => [x.type, x.key?.c ?? null, x.keySize, x.value?.c ?? null, x.valueSize, x.maxEntries, x.flagNames, x.pinning, x.perCpu];

  it('reads BTF-defined maps of every kind with their definitions', () => {
    expect(brief(map('pinned_hash'))).toEqual(['hash', 'struct maps_key', 8, 'struct maps_value', 16, 1024, ['no_prealloc'], 'by_name', false]);
    expect(brief(map('percpu_array'))).toEqual(['percpu_array', '__u32', 4, 'struct maps_value', 16, 4, [], 'none', true]);
    expect(brief(map('percpu_hash'))).toEqual(['percpu_hash', null, 4, null, 8, 1024, [], 'none', true]);
    expect(brief(map('lpm_trie'))).toEqual(['lpm_trie', 'struct maps_lpm_key', 8, '__u32', 4, 256, ['no_prealloc'], 'none', false]);
    expect(brief(map('events'))).toEqual(['ringbuf', null, 0, null, 0, 262144, [], 'none', false]);
    expect(map('bloom_filter').mapExtra).toBe('3');
    expect(map('lru_hash').numaNode).toBe(0);
    expect(map('pinned_array').flagNames).toEqual(['mmapable']);
    expect(new Set(m.maps.map((x) => x.type)).size).toBeGreaterThanOrEqual(28);
  });

  it('describes the inner map of maps of maps; their values are fds', () => {
    const aom = map('array_of_maps');
    expect(brief(aom)).toEqual(['array_of_maps', '__u32', 4, null, 4, 2, [], 'none', false]);
    expect(aom.inner && brief(aom.inner)).toEqual(['array', '__u32', 4, '__u64', 8, 4, [], 'none', false]);
    expect(map('hash_of_maps').inner?.name).toBe('hash_of_maps.inner');
    // prog_array's 'values' are program slots, not an inner map
    expect(map('prog_array').inner).toBeNull();
    expect(map('prog_array').valueSize).toBe(4);
  });

  it('lists maps in source order', () => {
    const obj = readObject(readFileSync(fixturePath('maps')));
    const sec = obj.elf.section('.maps')!;
    const order = obj.elf.symbols.filter((s) => s.sectionIndex === sec.index && s.type === STT.OBJECT).sort((a, b) => a.value - b.value).map((s) => s.name);
    expect(m.maps.map((x) => x.name)).toEqual(order);
  });

  it('reads legacy maps from the "maps" section', () => {
    const l = model('legacy');
    expect(l.maps.map((x) => [x.name, x.type, x.keySize, x.valueSize, x.maxEntries, x.definedIn, x.key, x.value])).toEqual([
      ['legacy_counts', 'hash', 4, 8, 1024, 'legacy', null, null],
      ['legacy_stats', 'array', 4, 16, 4, 'legacy', null, null],
      ['legacy_events', 'perf_event_array', 4, 4, 0, 'legacy', null, null],
    ]);
  });

  it('names the map and field when a definition is wrong', () => {
    // rename the 'max_entries' field in .BTF's strings: libbpf rejects unknown fields, so must we
    const bytes = new Uint8Array(readFileSync(fixturePath('maps')));
    const btf = readObject(bytes).elf.section('.BTF')!;
    const at = Buffer.from(bytes.subarray(btf.offset, btf.offset + btf.size)).indexOf('\0max_entries\0') + 1;
    bytes.set(Buffer.from('max_entriez'), btf.offset + at);
    expect(() => buildModel(bytes)).toThrow(/^map '\w+': unknown field 'max_entriez' in the map definition$/);
  });
});

describe('data sections', () => {
  const m = model('globals');
  const sec = (n: string) => m.dataSections.find((s) => s.name === n)!;

  it('has every kind of section with what is writable when', () => {
    expect(m.dataSections.map((s) => [s.name, s.kind, s.writable.beforeLoad, s.writable.afterLoad])).toEqual([
      ['.rodata', 'rodata', true, false],
      ['.data', 'data', true, true],
      ['.data.custom', 'data', true, true],
      ['.rodata.custom', 'rodata', true, false],
      ['.bss', 'bss', true, true],
      ['.bss.custom', 'bss', true, true],
      ['.kconfig', 'kconfig', false, false],
    ]);
  });

  it('places each variable at its ELF symbol, within the section', () => {
    const obj = readObject(readFileSync(fixturePath('globals')));
    for (const s of m.dataSections.filter((x) => x.kind !== 'kconfig')) {
      const elfSec = obj.elf.section(s.name)!;
      expect(s.size).toBe(elfSec.size);
      for (const v of s.variables) {
        const sym = obj.elf.symbols.find((y) => y.name === v.name && y.sectionIndex === elfSec.index)!;
        expect([s.name, v.name, v.offset, v.size]).toEqual([s.name, v.name, sym.value, sym.size]);
        expect(v.offset + v.size).toBeLessThanOrEqual(s.size);
      }
      const offsets = s.variables.map((v) => v.offset);
      expect(offsets).toEqual([...offsets].sort((a, b) => a - b));
    }
  });

  it('keeps static variables, marked static, and types each variable', () => {
    const bss = sec('.bss');
    expect(bss.variables.find((v) => v.name === 'static_counter')?.linkage).toBe('static');
    expect(bss.variables.find((v) => v.name === 'counter')).toMatchObject({ linkage: 'global', type: { kind: 'int', size: 8 } });
    expect(sec('.rodata').variables.find((v) => v.name === 'cfg_name')?.type).toMatchObject({ kind: 'array', dims: [16] });
  });

  it('spells multi-dimensional arrays as C declares them, outermost dimension first', () => {
    const bss = model('layout').dataSections.find((s) => s.name === '.bss')!;
    // __u32 layout_matrix[2][3][4]
    expect(bss.variables.find((v) => v.name === 'layout_matrix')?.type).toMatchObject({ kind: 'array', c: '__u32[2][3][4]', dims: [2, 3, 4] });
  });

  it('lays .kconfig out as libbpf does: by alignment, then size, then name', () => {
    expect(sec('.kconfig').variables.map((v) => [v.name, v.offset, v.size, v.linkage])).toEqual([
      ['CONFIG_HZ', 0, 4, 'extern'],
      ['LINUX_KERNEL_VERSION', 4, 4, 'extern'],
      ['CONFIG_BPF_SYSCALL', 8, 1, 'extern'],
    ]);
    expect(sec('.kconfig').size).toBe(9);
  });
});

describe('events', () => {
  it('takes event types from --event', () => {
    const m = model('events', 'bpfel', { events: { events: 'struct event', perf_events: 'exit_event' } });
    expect(m.events.map((e) => [e.map, e.mapType, e.type.c, e.source])).toEqual([
      ['events', 'ringbuf', 'struct event', 'option'],
      ['perf_events', 'perf_event_array', 'struct exit_event', 'option'],
    ]);
    expect(m.types.map((t) => t.key)).toEqual(['struct event', 'struct exit_event']);
  });

  it('takes a declared value type, but never a perf event array\'s fd', () => {
    const u32 = new Int('unsigned int', 4, { signed: false, char: false, bool: false });
    const ev = new Struct('ev', 8, [new Member('a', u32, 0), new Member('b', u32, 32)]);
    const btf = Btf.decode(encodeBtf([ev, u32]).bytes);
    const types = new LayoutCollector('little');
    const evRef = types.ref(btf.find('ev', 'struct')!);
    const u32Ref = types.ref(btf.find('unsigned int', 'int')!);
    const base = { keySize: 4, key: null, maxEntries: 0, flags: 0, flagNames: [], pinning: 'none' as const, numaNode: null, mapExtra: null, perCpu: false, inner: null, definedIn: 'btf' as const };
    const maps: MapModel[] = [
      { ...base, name: 'rb', type: 'user_ringbuf', valueSize: 8, value: evRef },
      { ...base, name: 'pe_struct', type: 'perf_event_array', valueSize: 8, value: evRef },
      { ...base, name: 'pe_fd', type: 'perf_event_array', valueSize: 4, value: u32Ref },
    ];
    expect(events(maps, btf, types, {}).map((e) => [e.map, e.type.c, e.source])).toEqual([
      ['rb', 'struct ev', 'map-value'],
      ['pe_struct', 'struct ev', 'map-value'],
    ]);
  });

  it('takes event types from COOLBPF_EVENT annotations, after --event', () => {
    const u32 = new Int('unsigned int', 4, { signed: false, char: false, bool: false });
    const ev = new Struct('ev', 8, [new Member('a', u32, 0), new Member('b', u32, 32)]);
    const other = new Struct('other', 4, [new Member('x', u32, 0)]);
    const annotate = (map: string, t: Struct) => new Var(`__coolbpf_event__${map}`, new Pointer(t), 'static');
    const base = { keySize: 0, key: null, value: null, valueSize: 0, maxEntries: 4096, flags: 0, flagNames: [], pinning: 'none' as const, numaNode: null, mapExtra: null, perCpu: false, inner: null, definedIn: 'btf' as const };
    const maps: MapModel[] = [
      { ...base, name: 'rb', type: 'ringbuf' },
      { ...base, name: 'pe', type: 'perf_event_array' },
      { ...base, name: 'h', type: 'hash' },
    ];
    const run = (vars: Var[], named: Record<string, string> = {}) => {
      const btf = Btf.decode(encodeBtf([ev, other, u32, ...vars]).bytes);
      return events(maps, btf, new LayoutCollector('little'), named).map((e) => [e.map, e.type.c, e.source]);
    };
    expect(run([annotate('rb', ev), annotate('pe', other)])).toEqual([
      ['rb', 'struct ev', 'annotation'],
      ['pe', 'struct other', 'annotation'],
    ]);
    expect(run([annotate('rb', ev)], { rb: 'struct other' })).toEqual([['rb', 'struct other', 'option']]);
    expect(() => run([annotate('nope', ev)])).toThrow("COOLBPF_EVENT(nope, …): no map 'nope' (maps: rb, pe, h)");
    expect(() => run([annotate('h', ev)])).toThrow("COOLBPF_EVENT(h, …): map 'h' is a hash, not a ring buffer or perf event array");
    expect(() => run([new Var('__coolbpf_event__rb', ev, 'static')])).toThrow("COOLBPF_EVENT(rb, …): variable '__coolbpf_event__rb' is not a pointer to the event type");
  });

  it('rejects a malformed --event type with the map named', () => {
    expect(() => model('events', 'bpfel', { events: { events: 'struct 9x' } })).toThrow(CoolbpfError);
    expect(() => model('events', 'bpfel', { events: { events: 'struct 9x' } })).toThrow(/--event events=struct 9x: 'struct 9x' is not a type name/);
  });
});

describe('determinism', () => {
  it('gives the same JSON for the same bytes, and the same model for both byte orders but for byte order, bit shifts and code', () => {
    for (const name of ['progs', 'maps', 'globals', 'layout', 'kinds', 'events', 'legacy']) {
      const a = JSON.stringify(model(name));
      expect(JSON.stringify(model(name))).toBe(a);
      const le = JSON.parse(a) as ObjectModel;
      const be = model(name, 'bpfeb');
      // clang's code (instruction and relocation counts) differs between the targets; the data does not
      const ignored = new Set(['shift', 'sha256', 'byteOrder', 'instructions', 'coreRelocations']);
      const norm = (x: ObjectModel) => JSON.stringify(x, (k, v) => (ignored.has(k) ? null : v));
      expect(norm(be)).toBe(norm(le));
    }
  });
});

describe('absurd nesting', () => {
  it('is refused with a one-line error instead of overflowing the stack', () => {
    const u32 = new Int('unsigned int', 4, { signed: false, char: false, bool: false });
    let t: Struct = new Struct('s0', 4, [new Member('x', u32, 0)]);
    for (let i = 1; i < 5000; i++) t = new Struct(`s${i}`, 4, [new Member('inner', t, 0)]);
    const btf = Btf.decode(encodeBtf([t]).bytes);
    const types = new LayoutCollector('little');
    expect(() => types.ref(btf.find('s4999', 'struct')!)).toThrow(/^type 'struct s4999': member 'inner': .*… \(\d+ more\): .*structs nested more than 256 levels deep$/);
    try {
      types.ref(btf.find('s4999', 'struct')!);
    } catch (e) {
      expect((e as Error).message.length).toBeLessThan(400);
    }
  });
});
