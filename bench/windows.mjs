// What attaching a tool costs a running workload, measured in windows of one
// long run (bench/tcp-jitter.mjs, bench/net-observe.mjs). The workload runs
// throughout and prints what it did in short windows; the tool is started and
// stopped again and again, and each window with it attached is compared with
// the windows without it just before and just after. On this shared VM a
// workload's speed wanders between regimes lasting a second or two, more than
// the tools change it; neighbours under two seconds apart share the regime,
// separate runs seconds apart often do not.

import { spawn } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';

/** CLOCK_MONOTONIC in seconds: the clock of process.hrtime, and of clock_gettime(CLOCK_MONOTONIC) in C */
export const monotonic = () => Number(process.hrtime.bigint()) / 1e9;

/**
 * Starts a workload that prints one line per window on stdout: `START END
 * COUNT`, START and END in monotonic() seconds, COUNT what it did in between
 * (bytes, requests), until SIGTERM. `rate(from, to)` is COUNT per second over
 * the windows wholly inside [from, to]; it throws when they cover less than
 * half of it (the workload stalled or stopped). `stop()` sends SIGTERM and
 * throws unless the workload then exits 0.
 */
export function workload(cmd, args, what) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  const windows = [];
  let rest = '', err = '';
  child.stdout.setEncoding('utf8').on('data', (d) => {
    const lines = (rest + d).split('\n');
    rest = lines.pop();
    for (const l of lines) {
      const w = l.trim().split(/\s+/).map(Number);
      if (w.length === 3 && w.every(Number.isFinite)) windows.push(w);
    }
  });
  child.stderr.setEncoding('utf8').on('data', (d) => { if (err.length < 8000) err += d; });
  const exited = new Promise((resolve) => child.on('close', (code, signal) => resolve({ code, signal })));
  const failure = () => (err ? `: ${err.trim()}` : '');
  return {
    child,
    rate(from, to) {
      let count = 0, seconds = 0;
      for (const [t0, t1, n] of windows) {
        if (t0 >= from && t1 <= to) { count += n; seconds += t1 - t0; }
      }
      if (seconds < (to - from) / 2) throw new Error(`${what} reported ${seconds.toFixed(3)} s of a ${(to - from).toFixed(3)} s window${failure()}`);
      return count / seconds;
    },
    async stop() {
      child.kill('SIGTERM');
      const { code, signal } = await exited;
      if (code !== 0) throw new Error(`${what} exited with ${signal ?? code}${failure()}`);
    },
    kill() { child.kill('SIGKILL'); },
  };
}

/**
 * The alternation. A window without the tool, then per round and per mode:
 * `start(mode)` (resolves once the tool is attached, to `{ stop, kill }`),
 * a window with it, `stop()` (resolves to what the tool reported, or
 * throws), a window without it. Every window begins `settle` seconds after
 * the tool attached or exited and lasts `seconds`. Returns, per mode, the
 * measured rounds: `{ on, before, after, report }`, each window a
 * [from, to] interval of monotonic().
 */
export async function alternate({ rounds, warmup, settle, seconds, modes = ['on'], start }) {
  const window = async () => {
    await sleep(settle * 1000);
    const from = monotonic();
    await sleep(seconds * 1000);
    return [from, monotonic()];
  };
  const measured = Object.fromEntries(modes.map((m) => [m, []]));
  let before = await window();
  for (let round = 0; round < warmup + rounds; round++) {
    for (const mode of modes) {
      const tool = await start(mode);
      let on;
      try {
        on = await window();
      } catch (e) {
        tool.kill();
        throw e;
      }
      const report = await tool.stop();
      const after = await window();
      if (round >= warmup) measured[mode].push({ on, before, after, report });
      before = after;
    }
  }
  return measured;
}

/** Per round: the rate with the tool, the mean of the two without, their ratio. */
export function compare(rounds, rate) {
  const without = rounds.map((r) => (rate(...r.before) + rate(...r.after)) / 2);
  const withTool = rounds.map((r) => rate(...r.on));
  return { without, with: withTool, ratios: withTool.map((w, i) => w / without[i]) };
}

/** The mean loss (1 − ratio) and the half width of its 95 % confidence interval (1.96 standard errors). */
export function meanLoss(ratios) {
  const m = ratios.reduce((a, b) => a + b, 0) / ratios.length;
  const sd = ratios.length > 1 ? Math.sqrt(ratios.reduce((a, r) => a + (r - m) ** 2, 0) / (ratios.length - 1)) : NaN;
  return { loss: 1 - m, half: (1.96 * sd) / Math.sqrt(ratios.length) };
}

/** The verdict line's words: met only when the whole interval is below the target. */
export function verdict({ loss, half }, target) {
  if (loss + half < target) return 'met (the whole interval is below it)';
  return loss < target ? 'not met (the mean is below it, the interval is not)' : 'not met (the mean is above it)';
}
