// errors: what fails, with which code, naming what; a failed init leaves
// nothing loaded.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { beforeAll, describe, expect, it } from 'vitest';
import type * as Gen from '../build/errors/node/dist/index.js';
import {
  bpfFdCounts, built, coolbpfError, type CoolbpfErrorLike, expected, held, kernelSkipReason, loadRuntime, loadScenario,
  programsNamed, skipNote, thrown, trigger,
} from './harness.js';

interface Case { id: string; expect: Record<string, unknown>; triggers: number; [k: string]: unknown }
const E = expected<{ cases: Case[] }>('errors');
const spec = (id: string): Case => E.cases.find((c) => c.id === id)!;

const sha256 = (file: string): string => createHash('sha256').update(readFileSync(file)).digest('hex');

const skip = kernelSkipReason();
if (skip) skipNote('errors', skip);

describe.skipIf(skip !== undefined)('errors', () => {
  let g: typeof Gen;
  let rt: Awaited<ReturnType<typeof loadRuntime>>;
  const pid = process.pid;
  beforeAll(async () => {
    g = await loadScenario<typeof Gen>('errors');
    rt = await loadRuntime('errors');
  });

  /** Runs a failing init and checks that it left nothing: no new BPF fds here, none of our programs in the kernel. */
  async function failsCleanly(f: () => unknown, code: string): Promise<CoolbpfErrorLike> {
    const fds = bpfFdCounts();
    const before = held();
    const e = coolbpfError(f, code);
    expect(bpfFdCounts()).toEqual(fds);
    expect(held()).toEqual(before);
    // what a failed init loaded before failing is freed (after an RCU grace period)
    expect(await programsNamed('er_')).toEqual([]);
    return e;
  }

  it('verifier: a program the verifier rejects: EACCES naming it, with the verifier log; nothing stays loaded', async () => {
    const c = spec('verifier');
    const want = c.expect as { code: string; messageNames: string[]; verifierLog: string[] };
    const e = await failsCleanly(() => g.init({ rodata: { target_tgid: pid }, autoload: { er_bad: true } }), want.code);
    expect(e).toBeInstanceOf(rt.CoolbpfError);
    expect(e.errno).toBe(13);
    for (const n of want.messageNames) expect(e.message.split('\n')[0]).toContain(n);
    for (const l of want.verifierLog) expect(e.detail).toContain(l);
    expect(e.message).toContain(e.detail);

    // step by step: the same from load(), which cannot be retried
    const opened = g.open({ rodata: { target_tgid: pid } });
    try {
      opened.programs.er_bad.autoload = true;
      coolbpfError(() => opened.load(), want.code);
      const again = coolbpfError(() => opened.load(), 'ESTATE');
      expect(again.message).toMatch(/destroy\(\)/);
    } finally {
      opened.destroy();
    }
  });

  it('missing-tracepoint-auto: a tracepoint that does not exist, from SEC(): ENOENT naming the program and the tracepoint; nothing stays loaded', async () => {
    const c = spec('missing-tracepoint-auto');
    const want = c.expect as { code: string; messageNames: string[] };
    const e = await failsCleanly(() => g.init({ rodata: { target_tgid: pid }, autoload: { er_no_tp: true } }), want.code);
    for (const n of want.messageNames) expect(e.message).toContain(n);
  });

  it('missing-tracepoint-explicit: a tracepoint that does not exist, attached explicitly: ENOENT naming it; the object stays usable', () => {
    const c = spec('missing-tracepoint-explicit');
    const want = c.expect as { code: string; messageNames: string[]; 'bss.ok_hits': number };
    const [category, name] = c['target'] as [string, string];
    using x = g.init({ rodata: { target_tgid: pid } });
    const e = coolbpfError(() => x.programs.er_manual.attachTracepoint(category, name), want.code);
    for (const n of want.messageNames) expect(e.message).toContain(n);
    expect(x.object.state).toBe('attached');
    trigger(c.triggers);
    expect(x.bss.ok_hits).toBe(BigInt(want['bss.ok_hits']));
  });

  it('not-loaded: attaching a program that was not loaded: an error naming it', () => {
    const want = spec('not-loaded').expect as { code: string; messageNames: string[] };
    using x = g.init({ rodata: { target_tgid: pid } });
    const e = coolbpfError(() => x.programs.er_no_tp.attachTracepoint('syscalls', 'sys_enter_getppid'), want.code);
    for (const n of want.messageNames) expect(e.message).toContain(n);
  });

  it('maps: a missing key is undefined, not an error; NOEXIST on an existing key is EEXIST naming the map', () => {
    const c = spec('maps');
    const want = c.expect as { has: boolean; delete: boolean; 'NOEXIST on existing': string; messageNames: string[] };
    const k = c['key'] as number;
    using x = g.init({ rodata: { target_tgid: pid } });
    const kv = x.maps.er_kv;
    expect(kv.get(k)).toBeUndefined();
    expect(kv.has(k)).toBe(want.has);
    expect(kv.delete(k)).toBe(want.delete);
    kv.set(k, 1n);
    const e = coolbpfError(() => kv.set(k, 2n, 1), want['NOEXIST on existing']);
    for (const n of want.messageNames) expect(e.message).toContain(n);
    expect(kv.get(k)).toBe(1n);
  });

  it('wrong-so: a bpf.so built from another object: EMISMATCH naming both SHA-256s (soPath and $COOLBPF_BPF_SO); a missing one: ENOENT', () => {
    const c = spec('wrong-so');
    const other = built(c['otherScenario'] as string);
    const ours = sha256(built('errors').bpfO), theirs = sha256(other.bpfO);
    expect(g.OBJECT_SHA256).toBe(ours);
    expect(theirs).not.toBe(ours);
    const check = (e: CoolbpfErrorLike) => {
      expect(e.message).toContain(ours);
      expect(e.message).toContain(theirs);
      expect(e.message).toContain(other.bpfSo);
    };
    check(coolbpfError(() => g.open({ soPath: other.bpfSo }), 'EMISMATCH'));
    const saved = process.env['COOLBPF_BPF_SO'];
    process.env['COOLBPF_BPF_SO'] = other.bpfSo;
    try {
      check(coolbpfError(() => g.init({ rodata: { target_tgid: pid } }), 'EMISMATCH'));
    } finally {
      if (saved === undefined) delete process.env['COOLBPF_BPF_SO'];
      else process.env['COOLBPF_BPF_SO'] = saved;
    }
    const missing = `${other.dir}/no-such-bpf.so`;
    expect(coolbpfError(() => g.open({ soPath: missing }), c.expect['missingFile'] as string).message).toContain(missing);
    // the right one still works
    using x = g.init({ rodata: { target_tgid: pid } });
    trigger(1);
    expect(x.bss.ok_hits).toBe(1n);
  });

  it('fentry: runs where the kernel allows it, else skipped with the reason', (ctx) => {
    const c = spec('fentry');
    let x: Gen.Errors;
    try {
      x = g.init({ rodata: { target_tgid: pid }, autoload: { er_fentry: true } });
    } catch (e) {
      const err = e as CoolbpfErrorLike;
      if (err.name === 'CoolbpfError' && ['EPERM', 'ENOTSUPP', 'EOPNOTSUPP', 'ESRCH'].includes(err.code)) {
        skipNote('errors: fentry', `the kernel refused it: ${err.code}: ${err.message.split('\n')[0]}`);
        ctx.skip();
      }
      throw e;
    }
    using _ = x;
    trigger(c.triggers);
    expect(x.bss.fentry_hits).toBeGreaterThanOrEqual(BigInt(c.triggers));
  });

  it('exports: the generated package exports CoolbpfError and the update flags', () => {
    // typed: the package's own declarations have them
    const { CoolbpfError, BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK } = g;
    expect(CoolbpfError).toBe(rt.CoolbpfError);
    expect([BPF_ANY, BPF_NOEXIST, BPF_EXIST, BPF_F_LOCK]).toEqual([0, 1, 2, 4]);
    expect(thrown(() => g.open({ soPath: '/nonexistent' }))).toBeInstanceOf(CoolbpfError);
    // and its package.json exports the runtime for the rest
    const pkg = JSON.parse(readFileSync(`${built('errors').node}/package.json`, 'utf8')) as { exports: Record<string, unknown> };
    expect(pkg.exports['./runtime']).toEqual({ types: './runtime/index.d.ts', default: './runtime/index.js' });
    using x = g.init({ rodata: { target_tgid: pid } });
    x.maps.er_kv.set(1, 1n, BPF_NOEXIST);
    const e = thrown(() => x.maps.er_kv.set(1, 2n, BPF_NOEXIST));
    expect(e).toBeInstanceOf(CoolbpfError);
    expect((e as InstanceType<typeof CoolbpfError>).code).toBe('EEXIST');
  });
});
