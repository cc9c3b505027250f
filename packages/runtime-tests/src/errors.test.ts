// Failures name their cause, and leave nothing loaded and no fd open.
import { spawnSync } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildRt, type Built, type CallResult, type Json, type KernelLists, kernelListsWhen, runDriver } from './harness.js';
import { kernelSkipReason, skipNote } from './kernel.js';

const skip = kernelSkipReason();
if (skip) skipNote('errors', skip);

describe.skipIf(skip !== undefined)('errors', () => {
  let b: Built;
  beforeAll(() => {
    b = buildRt();
  });
  afterAll(() => b && rmSync(b.dir, { recursive: true, force: true }));

  /** Runs one error case; checks that nothing of ours is loaded afterwards. */
  async function errorCase(n: number, wrap?: string[]): Promise<Json> {
    let after: KernelLists | undefined;
    const ours = (l: KernelLists) => [...l.programs.filter((p) => b.programs.includes(p)), ...l.maps.filter((m) => b.maps.includes(m))];
    const whileHeld = async () => {
      after = await kernelListsWhen((l) => ours(l).length === 0);
    };
    const r = await runDriver(b, 'errors', [`case=${n}`], { whileHeld, ...(wrap ? { wrap } : {}) });
    expect(r['fds_after'], 'fds back where they started').toBe(r['fds_before']);
    expect(after!.programs.filter((p) => b.programs.includes(p)), 'programs left loaded').toEqual([]);
    expect(after!.maps.filter((m) => b.maps.includes(m)), 'maps left behind').toEqual([]);
    return r;
  }
  const res = (r: Json, k: string) => r[k] as CallResult;

  it('a program the verifier rejects: names it, with the tail of the verifier log', async () => {
    const r = await errorCase(1);
    const load = res(r, 'load');
    expect(load.ret).toBe(-13);
    const [first, ...log] = load.error.split('\n');
    expect(first).toBe("load: program 'bad_prog': Permission denied (errno 13)");
    expect(log.join('\n')).toMatch(/R0 invalid mem access 'map_value_or_null'/);
    expect(log.join('\n')).toMatch(/rt\.bpf\.c:\d+/); // line info from BTF.ext
  });

  it('a tracepoint that does not exist: names the program and the tracepoint', async () => {
    const r = await errorCase(2);
    expect(res(r, 'load').ret).toBe(0);
    const attach = res(r, 'attach');
    expect(attach.ret).toBe(-2);
    expect(attach.error).toMatch(/^attach: program 'missing_tp': No such file or directory \(errno 2\)/);
    expect(attach.error).toMatch(/tracepoint 'syscalls\/sys_enter_coolbpf_nope'/);
  });

  it('a missing BTF file: names the file', async () => {
    const r = await errorCase(3);
    expect(res(r, 'open').error).toBe("open: BTF file '/nonexistent/vmlinux.btf': No such file or directory (errno 2)");
  });

  it('wrong names and calls out of order: each says which and why', async () => {
    const r = await errorCase(6);
    expect(res(r, 'autoload').error).toMatch(/program 'nope': the object has no program of that name/);
    expect(res(r, 'set_initial').error).toMatch(/section '\.data\.nope': the object has no such data section/);
    expect(res(r, 'set_initial_range').error).toMatch(/1 bytes at offset 4096 do not fit in its 8 bytes/);
    expect(res(r, 'map_fd_before_load').error).toMatch(/map 'rt_kv': the object is not loaded yet/);
    expect(res(r, 'attach_before_load').error).toMatch(/object 'rt' is not loaded yet/);
    expect(res(r, 'events_before_load').error).toMatch(/map 'rt_events': the object is not loaded yet/);
    expect(res(r, 'load').ret).toBe(0);
    expect(res(r, 'attach_uprobe_nobinary').error).toMatch(/program 'on_uprobe' to \/nonexistent\/bin.*failed to open \/nonexistent\/bin/s);
    expect(res(r, 'events_not_events').error).toMatch(/map 'rt_kv': not a ring buffer or perf event array/);
  });

  const setpriv = spawnSync('setpriv', ['--version']).status === 0;
  if (!setpriv) skipNote('errors: without capabilities', 'setpriv (util-linux) is not installed');
  it.skipIf(!setpriv)('without CAP_BPF/CAP_SYS_ADMIN: says the capabilities are missing', async () => {
    const r = await errorCase(4, ['setpriv', '--reuid=65534', '--regid=65534', '--clear-groups', '--inh-caps=-all', '--bounding-set=-all']);
    const init = res(r, 'init');
    expect(init.errno).toBe(1);
    expect(init.error).toMatch(/^load: object 'rt': Operation not permitted \(errno 1\); this process lacks CAP_SYS_ADMIN and CAP_BPF\+CAP_PERFMON/);
  });

  it('fentry loads where the kernel allows it', async (ctx) => {
    const r = await errorCase(5);
    const load = res(r, 'load');
    if (load.ret !== 0) {
      // this VM's kernel refuses fentry programs (EPERM); others lack the trampoline (ENOTSUPP)
      expect(load.error).toMatch(/^load: program 'on_fentry': /);
      skipNote('fentry', `the kernel refused the fentry program: ${load.error.split('\n')[0]}`);
      ctx.skip();
    }
    expect(load.ret).toBe(0);
  });
});
