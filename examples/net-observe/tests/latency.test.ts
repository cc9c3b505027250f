// The per-connection latency histogram, read back: slot bounds that invert
// the BPF side's lat_slot(), and percentiles from the counts, the same
// vectors for the Node and the Python library (Go and Rust test theirs with
// their own runners). No kernel needed.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
// @ts-expect-error: a JavaScript module without declarations
import { histPercentileMs, slotBounds } from '../node/net-observe.mjs';
import { buildDir, exampleDir } from './harness.js';

const SLOTS = 104;
const noPython = spawnSync('python3', ['--version']).status === 0 ? undefined : 'python3 is not installed';
if (noPython) console.log(`net-observe latency (python): skipped: ${noPython}`);
const hist = (counts: Record<number, number>): number[] => Array.from({ length: SLOTS }, (_, i) => counts[i] ?? 0);
/** [histogram, p50, p99] */
const vectors: [number[], number | null, number | null][] = [
  [hist({}), null, null],
  [hist({ 10: 100 }), 0.013312, 0.013312],
  [hist({ 2: 98, 40: 2 }), 0.00256, 2.359296],
  [hist({ 103: 1 }), 128849.01888, 128849.01888],
];

/** lat_slot() of net_observe.bpf.c, on u = ns >> 10 */
function latSlot(u: number): number {
  if (u < 4) return u;
  if (u >= 7 * 2 ** 24) return SLOTS - 1;
  const e = Math.floor(Math.log2(u));
  return 4 * (e - 1) + (Math.floor(u / 2 ** (e - 2)) & 3);
}

describe('latency histogram', () => {
  it('slot bounds hold exactly the latencies lat_slot() puts there', () => {
    for (let u = 0; u < 2 ** 20; u++) {
      const [lo, hi] = slotBounds(latSlot(u)) as [number, number];
      if (u < lo || u >= hi) expect.fail(`u=${u}: slot ${latSlot(u)} is [${lo}, ${hi})`);
    }
    expect(slotBounds(SLOTS - 1)).toEqual([7 * 2 ** 24, 8 * 2 ** 24]);
  });

  it('Node: p50 and p99 are the middle of the slot holding the nearest rank', () => {
    for (const [h, p50, p99] of vectors) {
      expect([histPercentileMs(h, 0.5), histPercentileMs(h, 0.99)]).toEqual([p50, p99]);
    }
  });

  it.skipIf(noPython !== undefined)('Python: the same', () => {
    const code = 'import json, sys, netobserve\n'
      + 'print(json.dumps([[netobserve.hist_percentile_ms(h, 0.5), netobserve.hist_percentile_ms(h, 0.99)] for h in json.load(sys.stdin)]))';
    const r = spawnSync('python3', ['-c', code], {
      input: JSON.stringify(vectors.map((v) => v[0])), encoding: 'utf8',
      env: { ...process.env, PYTHONPATH: `${join(exampleDir, 'python')}:${join(buildDir, 'python')}` },
    });
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toEqual(vectors.map(([, p50, p99]) => [p50, p99]));
  });
});
