// net-observe as a Node library: attach, then read per-connection stats.
//
//   import { observe } from './net-observe.mjs';
//   const obs = observe({ pid: 1234, port: 0 });   // 0: every process / port
//   … obs.connections() …                           // ConnectionStats[], live
//   obs.close();                                    // detach; nothing stays loaded
//
// The BPF side (../net_observe.bpf.c) counts in its `conns` map, latencies
// in a histogram per connection, and sends connection open/close through
// `events`.
import { init } from '../build/node/dist/index.js';

const PROTOCOLS = ['unknown', 'http', 'redis'];
const ROLES = ['unknown', 'server', 'client'];
const EV_CLOSE = 3;

/**
 * @typedef {object} ConnectionStats
 * @property {number} pid
 * @property {string} comm
 * @property {number} fd
 * @property {string} role          server, client or unknown
 * @property {string} protocol      http, redis or unknown
 * @property {string} local_addr
 * @property {number} local_port
 * @property {string} remote_addr
 * @property {number} remote_port
 * @property {number} bytes_in
 * @property {number} bytes_out
 * @property {number} calls_in
 * @property {number} calls_out
 * @property {number} requests
 * @property {number|null} p50_ms
 * @property {number|null} p99_ms
 * @property {boolean} closed
 */

/** @param {Uint8Array} a @param {number} family */
function formatAddr(a, family) {
  if (family === 2) return `${a[0]}.${a[1]}.${a[2]}.${a[3]}`;
  // IPv4-mapped (a dual-stack socket talking IPv4)
  if (a.subarray(0, 10).every((b) => b === 0) && a[10] === 0xff && a[11] === 0xff) return `::ffff:${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  const groups = [];
  for (let i = 0; i < 16; i += 2) groups.push((a[i] << 8) | a[i + 1]);
  // RFC 5952: the longest run of two or more zero groups becomes '::'
  let best = -1, bestLen = 1;
  for (let i = 0; i < 8; ) {
    let j = i;
    while (j < 8 && groups[j] === 0) j++;
    if (j - i > bestLen) { best = i; bestLen = j - i; }
    i = j > i ? j : i + 1;
  }
  const hex = (g) => g.map((x) => x.toString(16)).join(':');
  if (best < 0) return hex(groups);
  return `${hex(groups.slice(0, best))}::${hex(groups.slice(best + bestLen))}`;
}

/**
 * The latencies that slot `slot` of a connection's latency_hist counts,
 * [low, high) in units of 1024 ns: the BPF side's lat_slot() inverted.
 * @param {number} slot @returns {[number, number]}
 */
export function slotBounds(slot) {
  if (slot < 4) return [slot, slot + 1];
  const e = Math.floor(slot / 4) + 1, sub = slot % 4;
  return [(4 + sub) * 2 ** (e - 2), (5 + sub) * 2 ** (e - 2)];
}

/**
 * Nearest-rank percentile of the latencies a histogram counts, in ms: the
 * middle of the slot that holds it (a slot spans at most a quarter of its
 * lower bound, so the value is within 12.5 %); null when it is empty.
 * @param {number[]} hist @param {number} p
 */
export function histPercentileMs(hist, p) {
  const total = hist.reduce((a, b) => a + b, 0);
  if (total === 0) return null;
  const rank = Math.max(1, Math.ceil(p * total));
  let seen = 0;
  for (let slot = 0; slot < hist.length; slot++) {
    seen += hist[slot];
    if (seen >= rank) {
      const [lo, hi] = slotBounds(slot);
      return ((lo + hi) / 2) * 1024 / 1e6;
    }
  }
  return null;
}

class Tracked {
  /** @param {object} c the connection's counters */
  constructor(c) {
    this.closed = false;
    this.c = c;
  }
  /** counters only grow: keep the larger of what we have and what we read */
  merge(c) {
    if (c.bytes_in + c.bytes_out + c.requests >= this.c.bytes_in + this.c.bytes_out + this.c.requests) this.c = c;
  }
  /** @returns {ConnectionStats} */
  stats() {
    const c = this.c;
    return {
      pid: c.pid, comm: c.comm, fd: c.fd,
      role: ROLES[c.role] ?? 'unknown', protocol: PROTOCOLS[c.proto] ?? 'unknown',
      local_addr: formatAddr(c.saddr, c.family), local_port: c.sport,
      remote_addr: formatAddr(c.daddr, c.family), remote_port: c.dport,
      bytes_in: Number(c.bytes_in), bytes_out: Number(c.bytes_out),
      calls_in: Number(c.calls_in), calls_out: Number(c.calls_out),
      requests: Number(c.requests),
      p50_ms: histPercentileMs(c.latency_hist, 0.5), p99_ms: histPercentileMs(c.latency_hist, 0.99),
      closed: this.closed,
    };
  }
}

/**
 * Attaches net-observe. Options: pid (0: all), port (0: all), soPath.
 * @param {{pid?: number, port?: number, soPath?: string}} [options]
 */
export function observe(options = {}) {
  const skel = init({
    soPath: options.soPath,
    rodata: { target_pid: options.pid ?? 0, target_port: options.port ?? 0 },
  });
  /** @type {Map<string, Tracked>} */
  const conns = new Map();
  const keyOf = (c) => `${c.pid}/${c.fd}/${c.sport}/${c.dport}`;
  const track = (c) => {
    const k = keyOf(c);
    let t = conns.get(k);
    if (!t) conns.set(k, (t = new Tracked(c)));
    return t;
  };
  const onEvent = (ev) => {
    const t = track(ev.conn);
    if (t.closed) return;
    t.merge(ev.conn);
    if (ev.kind === EV_CLOSE) { t.c = ev.conn; t.closed = true; }
  };
  const sub = skel.maps.events.subscribe(onEvent);
  let closed = false;

  return {
    /** every connection seen: open ones refreshed from the map */
    connections() {
      if (!closed) {
        for (const ev of skel.maps.events.drain()) onEvent(ev);
        for (const [, c] of skel.maps.conns) {
          if (c.ignored) continue;
          const t = track(c);
          if (!t.closed) t.merge(c);
        }
      }
      return [...conns.values()].map((t) => t.stats());
    },
    /** ring buffer records BPF could not send (full) */
    dropped() { return Number(skel.bss.dropped); },
    /** detaches and unloads; idempotent */
    close() {
      if (closed) return;
      closed = true;
      sub.stop();
      skel.destroy();
    },
  };
}
