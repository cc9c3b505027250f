// tcp-jitter's core, usable as a library: options, event formatting and the
// delay histogram. The CLI (cli.ts) wires it to the BPF program.

/** What the command line sets. */
export interface Options {
  /** report reads at least this late (milliseconds) */
  thresholdMs: number;
  /** only sockets with this local or remote port (0: all) */
  port: number;
  /** stop after this many seconds (0: run until Ctrl-C / SIGTERM) */
  durationS: number;
  /** print the histogram every this many seconds too (0: only on exit) */
  intervalS: number;
  /** JSON lines instead of text */
  json: boolean;
}

export const USAGE = `usage: tcp-jitter [--threshold MS] [--port N] [--duration S] [--interval S] [--json]
  --threshold MS  report reads at least MS milliseconds after the data was queued (default 100)
  --port N        only sockets whose local or remote port is N
  --duration S    stop after S seconds (default: until Ctrl-C)
  --interval S    print the delay histogram every S seconds too (default: only on exit)
  --json          one JSON object per line`;

function number(flag: string, value: string | undefined, max: number): number {
  const n = value === undefined || value.trim() === '' ? NaN : Number(value);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new Error(`${flag}: expected a number from 0 to ${max}, got ${value ?? 'nothing'}`);
  return n;
}

/** Parses the arguments after the program name; throws Error with a message for the user. */
export function parseOptions(argv: readonly string[]): Options {
  const o: Options = { thresholdMs: 100, port: 0, durationS: 0, intervalS: 0, json: false };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    switch (arg) {
      case '--threshold': o.thresholdMs = number(arg, argv[++i], 3_600_000); break;
      case '--port': o.port = number(arg, argv[++i], 65535); break;
      case '--duration': o.durationS = number(arg, argv[++i], 31_536_000); break;
      case '--interval': o.intervalS = number(arg, argv[++i], 31_536_000); break;
      case '--json': o.json = true; break;
      default: throw new Error(`unknown argument: ${arg}`);
    }
  }
  if (!Number.isInteger(o.port)) throw new Error(`--port: expected an integer, got ${o.port}`);
  return o;
}

/** One slow read, as the BPF program reports it. */
export interface SlowRead {
  ts_ns: bigint;
  delay_ns: bigint;
  pid: number;
  queue_cpu: number;
  read_cpu: number;
  family: number;
  sport: number;
  dport: number;
  saddr: Uint8Array;
  daddr: Uint8Array;
  comm: string;
}

const AF_INET6 = 10;

/** An address as text: dotted quad, or IPv6 with the longest run of zero groups as "::". */
export function formatAddr(family: number, addr: Uint8Array): string {
  if (family !== AF_INET6) return Array.from(addr.subarray(0, 4)).join('.');
  const groups: number[] = [];
  for (let i = 0; i < 16; i += 2) groups.push((addr[i]! << 8) | addr[i + 1]!);
  if (groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff) {
    return `::ffff:${Array.from(addr.subarray(12, 16)).join('.')}`;
  }
  let best = -1, bestLen = 0;
  for (let i = 0; i < 8;) {
    if (groups[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen && j - i > 1) { best = i; bestLen = j - i; }
    i = j;
  }
  const hex = (gs: number[]): string => gs.map((g) => g.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

function endpoint(family: number, addr: string, port: number): string {
  return family === AF_INET6 ? `[${addr}]:${port}` : `${addr}:${port}`;
}

/** The line printed for one slow read (text, or a JSON object with --json). */
export function formatEvent(ev: SlowRead, json: boolean): string {
  const local = formatAddr(ev.family, ev.saddr);
  const remote = formatAddr(ev.family, ev.daddr);
  const delayMs = Number(ev.delay_ns) / 1e6;
  if (json) {
    return JSON.stringify({
      ts_ns: Number(ev.ts_ns), pid: ev.pid, comm: ev.comm, family: ev.family === AF_INET6 ? 'ipv6' : 'ipv4',
      local, lport: ev.sport, remote, rport: ev.dport, delay_ms: Math.round(delayMs * 1000) / 1000,
      queue_cpu: ev.queue_cpu, read_cpu: ev.read_cpu,
    });
  }
  return `slow read: pid ${ev.pid} (${ev.comm}) ${endpoint(ev.family, local, ev.sport)} <- ` +
    `${endpoint(ev.family, remote, ev.dport)} delay ${delayMs.toFixed(3)} ms ` +
    `queued on cpu ${ev.queue_cpu}, read on cpu ${ev.read_cpu}`;
}

/** Bounds (microseconds, inclusive) of histogram slot i: slot 0 is 0..1, slot i>0 is 2^i..2^(i+1)-1. */
export function slotBounds(i: number): [number, number] {
  return [i === 0 ? 0 : 2 ** i, 2 ** (i + 1) - 1];
}

const BAR = 40;

/** The delay histogram: text lines from the first to the last non-empty slot, or one JSON object. */
export function renderHistogram(counts: readonly bigint[], json: boolean): string {
  const nonEmpty = counts.map((c, i) => (c > 0n ? i : -1)).filter((i) => i >= 0);
  if (json) {
    return JSON.stringify({
      histogram: nonEmpty.map((i) => {
        const [lo, hi] = slotBounds(i);
        return { lo_us: lo, hi_us: hi, count: Number(counts[i]) };
      }),
    });
  }
  if (nonEmpty.length === 0) return 'delay histogram: no reads yet';
  const first = nonEmpty[0]!, last = nonEmpty[nonEmpty.length - 1]!;
  const max = counts.reduce((m, c) => (c > m ? c : m), 0n);
  const lines = [`${'delay (us)'.padStart(25)} : count      distribution`];
  for (let i = first; i <= last; i++) {
    const [lo, hi] = slotBounds(i);
    const c = counts[i] ?? 0n;
    const stars = Number((c * BigInt(BAR) + max - 1n) / max);
    lines.push(`${String(lo).padStart(12)} -> ${String(hi).padEnd(10)} : ${String(c).padEnd(10)} |${'*'.repeat(stars).padEnd(BAR)}|`);
  }
  return lines.join('\n');
}
