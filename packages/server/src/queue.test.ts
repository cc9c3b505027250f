import { describe, expect, it } from 'vitest';
import { HttpError } from './errors.js';
import { CompileQueue, InFlight } from './queue.js';

function deferred(): { promise: Promise<void>; resolve: () => void } {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

describe('CompileQueue', () => {
  it('runs at most `concurrency` jobs, queues up to maxQueued, refuses the rest with 503', async () => {
    const q = new CompileQueue(2, 1, 7);
    const gates = [deferred(), deferred(), deferred()];
    let active = 0;
    let peak = 0;
    const job = (i: number) => async (): Promise<number> => {
      active++;
      peak = Math.max(peak, active);
      await gates[i]!.promise;
      active--;
      return i;
    };
    const a = q.run(job(0));
    const b = q.run(job(1));
    const c = q.run(job(2));
    expect(q.running).toBe(2);
    expect(q.depth).toBe(1);
    const err = await q.run(job(0)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(HttpError);
    expect((err as HttpError).status).toBe(503);
    expect((err as HttpError).headers['Retry-After']).toBe('7');
    gates[0]!.resolve();
    expect(await a).toBe(0);
    expect(q.depth).toBe(0);
    gates[1]!.resolve();
    gates[2]!.resolve();
    expect(await Promise.all([b, c])).toEqual([1, 2]);
    expect(peak).toBe(2);
    expect(q.running).toBe(0);
  });

  it('frees the slot when a job fails', async () => {
    const q = new CompileQueue(1, 0);
    await expect(q.run(async () => { throw new Error('boom'); })).rejects.toThrow('boom');
    expect(await q.run(async () => 5)).toBe(5);
  });
});

describe('InFlight', () => {
  it('shares one promise per key while it is pending, then forgets it', async () => {
    const f = new InFlight<number>();
    let made = 0;
    const gate = deferred();
    const make = async (): Promise<number> => {
      made++;
      await gate.promise;
      return made;
    };
    const a = f.share('k', make);
    const b = f.share('k', make);
    const c = f.share('other', make);
    expect([a.shared, b.shared, c.shared]).toEqual([false, true, false]);
    expect(b.promise).toBe(a.promise);
    gate.resolve();
    await Promise.all([a.promise, c.promise]);
    expect(f.size).toBe(0);
    expect(f.share('k', async () => 9).shared).toBe(false);
  });
});
