// After destroy (or abort, or close), a process using the runtime exits by
// itself: the runtime leaves no handle keeping Node's event loop alive.
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildHelper, buildObject, kernelSkipReason, pkgDir, RT_SRC, skipNote, tempDir, type Built } from './kernel.testutil.js';

const skip = kernelSkipReason();
if (skip) skipNote('exit', skip);

interface Outcome { code: number | null; signal: string | null; stdout: string; stderr: string; exitAfterOutputMs: number }

function runChild(args: string[], timeoutMs: number): Promise<Outcome> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [join(pkgDir, 'test', 'exit-child.mjs'), ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '', stderr = '', printedAt = 0;
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      if (!printedAt && stdout.includes('\n')) printedAt = Date.now();
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr, exitAfterOutputMs: printedAt ? Date.now() - printedAt : -1 });
    });
  });
}

describe.skipIf(skip !== undefined)('the process exits by itself', () => {
  const tmp = tempDir('coolbpf-node-exit-');
  let rt: Built, helper: string;
  beforeAll(() => {
    if (!existsSync(join(pkgDir, 'dist', 'index.js'))) throw new Error('packages/node is not built (npm run build)');
    rt = buildObject(RT_SRC, join(tmp.dir, 'rt'));
    helper = buildHelper(tmp.dir);
  });
  afterAll(() => tmp.remove());

  const expectations: Record<string, Record<string, unknown>> = {
    destroy: { iteratorEnded: true, subscriptionDone: true, state: 'destroyed' },
    abort: { iteratorEnded: true, subscriptionDone: true, state: 'attached' },
    close: { iteratorEnded: true, subscriptionDone: true, state: 'attached' },
    idle: { iterated: 0, subscribed: 0, state: 'attached' },
  };
  for (const [mode, expected] of Object.entries(expectations)) {
    it(`after ${mode}`, async () => {
      const r = await runChild([rt.bpfSo, helper, String(rt.offsets['.rodata:target_tgid']), mode], 15_000);
      expect(r.stderr).toBe('');
      expect(r.signal, 'killed: the process did not exit by itself').toBeNull();
      expect(r.code).toBe(0);
      const out = JSON.parse(r.stdout) as Record<string, unknown>;
      expect(out).toMatchObject(expected);
      if (mode !== 'idle') expect(Number(out['iterated']) + Number(out['subscribed'])).toBe(50);
      expect(r.exitAfterOutputMs).toBeLessThan(3000);
    });
  }

  it('worker threads: one terminated while it waits for events, one that returns after destroy', () => {
    const r = spawnSync(process.execPath, [join(pkgDir, 'test', 'worker-child.mjs'), rt.bpfSo], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.signal).toBeNull();
    expect(r.status).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual({ exits: { terminate: 1, return: 0 }, main: 'destroyed' });
  });
});
