/** Prometheus text exposition (format 0.0.4) of the server's counters. */
export const DURATION_BUCKETS = [0.1, 0.25, 0.5, 1, 2, 5, 10, 30, 60, 120];

export type CompileResult = 'ok' | 'error' | 'timeout' | 'failed';

export class Metrics {
  readonly compiles = new Map<CompileResult, number>();
  readonly requests = new Map<number, number>();
  cacheHits = 0;
  sharedCompiles = 0;
  overloads = 0;
  readonly #buckets = DURATION_BUCKETS.map(() => 0);
  #count = 0;
  #sum = 0;

  compiled(result: CompileResult, seconds: number): void {
    this.compiles.set(result, (this.compiles.get(result) ?? 0) + 1);
    this.#count++;
    this.#sum += seconds;
    DURATION_BUCKETS.forEach((le, i) => {
      if (seconds <= le) this.#buckets[i]!++;
    });
  }

  answered(status: number): void {
    this.requests.set(status, (this.requests.get(status) ?? 0) + 1);
  }

  /** `gauges` are read at scrape time: queue depth, compiles running. */
  text(gauges: { queueDepth: number; running: number; btfCount: number }): string {
    const lines: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]): void => {
      lines.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) lines.push(`${name}${labels} ${v}`);
    };
    const results: CompileResult[] = ['ok', 'error', 'timeout', 'failed'];
    metric('coolbpf_compiles_total', 'counter', 'Compiles run, by result (error: the source did not compile; failed: the server could not run it).',
      results.map((r) => [`{result="${r}"}`, this.compiles.get(r) ?? 0]));
    metric('coolbpf_cache_hits_total', 'counter', 'Compile requests answered from the artifact cache.', [['', this.cacheHits]]);
    metric('coolbpf_shared_compiles_total', 'counter', 'Compile requests that joined an identical compile in flight.', [['', this.sharedCompiles]]);
    metric('coolbpf_overload_total', 'counter', 'Requests refused with 503 because the queue was full.', [['', this.overloads]]);
    metric('coolbpf_http_requests_total', 'counter', 'HTTP requests answered, by status.',
      [...this.requests].sort((a, b) => a[0] - b[0]).map(([s, n]) => [`{status="${s}"}`, n]));
    metric('coolbpf_queue_depth', 'gauge', 'Compiles waiting for a slot.', [['', gauges.queueDepth]]);
    metric('coolbpf_compiles_running', 'gauge', 'Compiles running now.', [['', gauges.running]]);
    metric('coolbpf_btf_stored', 'gauge', 'Kernel BTFs in the store.', [['', gauges.btfCount]]);
    metric('coolbpf_compile_duration_seconds', 'histogram', 'Wall-clock time of compiles, queueing excluded.', [
      ...DURATION_BUCKETS.map((le, i): [string, number] => [`_bucket{le="${le}"}`, this.#buckets[i]!]),
      ['_bucket{le="+Inf"}', this.#count],
      ['_sum', Number(this.#sum.toFixed(6))],
      ['_count', this.#count],
    ]);
    return `${lines.join('\n')}\n`;
  }
}
