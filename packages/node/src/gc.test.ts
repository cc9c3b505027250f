// An object nobody destroy()s is destroyed by the garbage collector once
// nothing made from it is reachable (and not while a section view is).
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildObject, kernelSkipReason, pkgDir, RT_SRC, skipNote, tempDir, type Built } from './kernel.testutil.js';

const skip = kernelSkipReason();
if (skip) skipNote('gc', skip);

describe.skipIf(skip !== undefined)('garbage collection', () => {
  const tmp = tempDir('coolbpf-node-gc-');
  let rt: Built;
  beforeAll(() => {
    if (!existsSync(join(pkgDir, 'dist', 'index.js'))) throw new Error('packages/node is not built (npm run build)');
    rt = buildObject(RT_SRC, join(tmp.dir, 'rt'));
  });
  afterAll(() => tmp.remove());

  it('unreachable objects are unloaded; a reachable section view keeps its object', () => {
    const r = spawnSync(process.execPath, ['--expose-gc', join(pkgDir, 'test', 'gc-child.mjs'), rt.bpfSo], { encoding: 'utf8', timeout: 30_000 });
    expect(r.stderr).toBe('');
    expect(r.status).toBe(0);
    const out = JSON.parse(r.stdout) as Record<string, { prog: number; map: number; link: number }>;
    expect(out['before']).toEqual({ prog: 0, map: 0, link: 0 });
    // on_tp, on_tp_btf, on_raw_tp, on_uprobe; 4 maps + 3 data sections
    expect(out['loaded']!.prog).toBe(4);
    expect(out['loaded']!.map).toBeGreaterThanOrEqual(7);
    expect(out['loaded']!.link).toBeGreaterThanOrEqual(3);
    expect(out['whileViewed']).toEqual(out['loaded']);
    expect(out['read']).toBe('true');
    expect(out['after']).toEqual({ prog: 0, map: 0, link: 0 });
  });
});
