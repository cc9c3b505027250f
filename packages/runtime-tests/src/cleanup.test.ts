// Nothing of ours stays in the kernel or in the process after destroy:
// programs, maps and links are gone from the kernel's lists (checked while
// the process still lives, since exiting would free them anyway), and every
// file descriptor is closed.
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRt, type Built, type Json, type KernelLists, kernelLists, kernelListsWhen, runDriver } from './harness.js';
import { kernelSkipReason, skipNote } from './kernel.js';

const skip = kernelSkipReason();
if (skip) skipNote('cleanup after destroy', skip);

describe.skipIf(skip !== undefined)('cleanup after destroy', () => {
  let b: Built;
  let baseline: KernelLists;
  beforeAll(async () => {
    b = buildRt();
    baseline = await kernelListsWhen((l) => nothingOurs(l));
  });
  afterAll(() => b && rmSync(b.dir, { recursive: true, force: true }));

  const ours = (l: KernelLists) => ({
    programs: l.programs.filter((p) => b.programs.includes(p)),
    maps: l.maps.filter((m) => b.maps.includes(m)),
  });
  const nothingOurs = (l: KernelLists) => ours(l).programs.length === 0 && ours(l).maps.length === 0;

  it('lists our programs, maps and links while loaded (so the checks below can see them)', async () => {
    let seen: KernelLists | undefined;
    const r = await runDriver(b, 'live', [], {
      whileHeld: () => {
        seen = kernelLists();
      },
    });
    expect(r['init']).toMatchObject({ ret: 0 });
    expect(ours(seen!).programs.sort()).toEqual(['on_raw_tp', 'on_tp', 'on_tp_btf', 'on_uprobe']);
    expect(ours(seen!).maps).toEqual(expect.arrayContaining(['rt_events', 'rt_pevents', 'rt_kv', 'rt_pcpu', 'rt.rodata', 'rt.data', 'rt.bss']));
    // tracepoint links are perf events, not BPF links; tp_btf and raw_tp are links
    expect(seen!.links).toBeGreaterThanOrEqual(baseline.links + 2);
  });

  it('after 200 init/destroy cycles (with a uprobe and event readers), nothing is left', async () => {
    let after: KernelLists | undefined;
    const r: Json = await runDriver(b, 'cycles', ['n=200'], {
      whileHeld: async () => {
        after = await kernelListsWhen((l) => nothingOurs(l) && l.links === baseline.links);
      },
    });
    expect(r['error']).toBe('');
    expect(r['cycles']).toBe(200);
    expect(r['fds_after']).toBe(r['fds_before']);
    expect(ours(after!)).toEqual({ programs: [], maps: [] });
    expect(after!.links).toBe(baseline.links);
  });
});
