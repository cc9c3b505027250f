import { describe, expect, it } from 'vitest';
import { Metrics } from './metrics.js';

describe('Metrics', () => {
  it('writes Prometheus text with counters, gauges and a cumulative histogram', () => {
    const m = new Metrics();
    m.compiled('ok', 0.3);
    m.compiled('ok', 3);
    m.compiled('error', 0.05);
    m.cacheHits = 4;
    m.answered(200);
    m.answered(503);
    const t = m.text({ queueDepth: 2, running: 1, btfCount: 3 });
    expect(t).toContain('# TYPE coolbpf_compiles_total counter\n');
    expect(t).toContain('coolbpf_compiles_total{result="ok"} 2\n');
    expect(t).toContain('coolbpf_compiles_total{result="error"} 1\n');
    expect(t).toContain('coolbpf_cache_hits_total 4\n');
    expect(t).toContain('coolbpf_queue_depth 2\n');
    expect(t).toContain('coolbpf_http_requests_total{status="503"} 1\n');
    expect(t).toContain('# TYPE coolbpf_compile_duration_seconds histogram\n');
    expect(t).toContain('coolbpf_compile_duration_seconds_bucket{le="0.1"} 1\n');
    expect(t).toContain('coolbpf_compile_duration_seconds_bucket{le="0.5"} 2\n');
    expect(t).toContain('coolbpf_compile_duration_seconds_bucket{le="+Inf"} 3\n');
    expect(t).toContain('coolbpf_compile_duration_seconds_count 3\n');
    expect(t).toContain('coolbpf_compile_duration_seconds_sum 3.35\n');
    // every sample line is NAME{labels} VALUE
    for (const l of t.trimEnd().split('\n')) expect(l).toMatch(/^(# (HELP|TYPE) coolbpf_\w+ .+|coolbpf_\w+(\{[^}]*\})? [0-9.e+-]+)$/);
  });
});
