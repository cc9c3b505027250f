#!/usr/bin/env node
// tcp-jitter: one line per slow TCP read, a delay histogram on exit (and every
// --interval seconds). Ctrl-C / SIGTERM print the histogram and exit 0.
import { init, type TcpJitter } from '../../build/node/dist/index.js';
import { formatEvent, parseOptions, renderHistogram, USAGE, type Options } from './jitter.js';

const HIST_SLOTS = 32;

/** delay_hist is per CPU: a slot's count is the sum over the CPUs */
function histogram(skel: TcpJitter): bigint[] {
  const counts: bigint[] = [];
  for (let i = 0; i < HIST_SLOTS; i++) counts.push((skel.maps.delay_hist.get(i) ?? []).reduce((a, b) => a + b, 0n));
  return counts;
}

async function run(o: Options): Promise<void> {
  const skel = init({ rodata: { threshold_ns: BigInt(Math.round(o.thresholdMs * 1e6)), filter_port: o.port } });
  const stop = new AbortController();
  const end = (): void => stop.abort();
  process.on('SIGINT', end);
  process.on('SIGTERM', end);
  const timers: NodeJS.Timeout[] = [];
  if (o.durationS > 0) timers.push(setTimeout(end, o.durationS * 1000));
  if (o.intervalS > 0) timers.push(setInterval(() => console.log(renderHistogram(histogram(skel), o.json)), o.intervalS * 1000));
  try {
    console.error(`tcp-jitter: attached (threshold ${o.thresholdMs} ms, port ${o.port || 'any'})`);
    for await (const ev of skel.maps.events.iterate({ signal: stop.signal })) console.log(formatEvent(ev, o.json));
    console.log(renderHistogram(histogram(skel), o.json));
  } finally {
    for (const t of timers) clearTimeout(t);
    process.off('SIGINT', end);
    process.off('SIGTERM', end);
    skel.destroy();
  }
}

let options: Options;
try {
  options = parseOptions(process.argv.slice(2));
} catch (e) {
  console.error(`tcp-jitter: ${(e as Error).message}\n${USAGE}`);
  process.exit(2);
}
run(options).catch((e: unknown) => {
  console.error(`tcp-jitter: ${e instanceof Error ? e.message : String(e)}`);
  process.exitCode = 1;
});
