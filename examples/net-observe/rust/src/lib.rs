//! net-observe as a Rust library: attach, then read per-connection stats.
//!
//! ```no_run
//! let mut obs = netobserve::Observer::new(1234, 0)?; // pid/port 0: every process / port
//! obs.poll(std::time::Duration::from_millis(200))?; // takes the events that arrived
//! for c in obs.connections()? { println!("{}", c.to_json()); }
//! obs.close(); // detaches (dropping does too): nothing stays loaded
//! # Ok::<(), net_observe::Error>(())
//! ```
use std::collections::HashMap;
use std::net::{Ipv4Addr, Ipv6Addr};
use std::time::Duration;

use net_observe::{Conn, Event, InitOptions, NetObserve, Result, RodataInit};

const EV_CLOSE: u32 = 3;
const PROTOCOLS: [&str; 3] = ["unknown", "http", "redis"];
const ROLES: [&str; 3] = ["unknown", "server", "client"];

/// One connection as net-observe saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct ConnectionStats {
    pub pid: u32,
    pub comm: String,
    pub fd: u32,
    pub role: &'static str,
    pub protocol: &'static str,
    pub local_addr: String,
    pub local_port: u16,
    pub remote_addr: String,
    pub remote_port: u16,
    pub bytes_in: u64,
    pub bytes_out: u64,
    pub calls_in: u64,
    pub calls_out: u64,
    pub requests: u64,
    pub p50_ms: Option<f64>,
    pub p99_ms: Option<f64>,
    pub closed: bool,
}

fn json_str(s: &str) -> String {
    let mut out = String::from("\"");
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            c if (c as u32) < 0x20 => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn json_ms(v: Option<f64>) -> String {
    v.map_or_else(|| "null".to_string(), |x| format!("{x}"))
}

impl ConnectionStats {
    /// The same JSON object as the other languages' apps print.
    pub fn to_json(&self) -> String {
        format!(
            "{{\"pid\":{},\"comm\":{},\"fd\":{},\"role\":{},\"protocol\":{},\"local_addr\":{},\"local_port\":{},\
             \"remote_addr\":{},\"remote_port\":{},\"bytes_in\":{},\"bytes_out\":{},\"calls_in\":{},\"calls_out\":{},\
             \"requests\":{},\"p50_ms\":{},\"p99_ms\":{},\"closed\":{}}}",
            self.pid,
            json_str(&self.comm),
            self.fd,
            json_str(self.role),
            json_str(self.protocol),
            json_str(&self.local_addr),
            self.local_port,
            json_str(&self.remote_addr),
            self.remote_port,
            self.bytes_in,
            self.bytes_out,
            self.calls_in,
            self.calls_out,
            self.requests,
            json_ms(self.p50_ms),
            json_ms(self.p99_ms),
            self.closed
        )
    }
}

/// The latencies one slot of `Conn::latency_hist` counts: `[lo, hi)` in units
/// of 1024 ns, the inverse of the BPF program's `lat_slot()` (the last slot
/// also takes everything above `hi`).
pub fn hist_slot_bounds(slot: usize) -> (u64, u64) {
    if slot < 4 {
        return (slot as u64, slot as u64 + 1);
    }
    let (e, sub) = (slot / 4 + 1, slot as u64 % 4);
    ((4 + sub) << (e - 2), (5 + sub) << (e - 2))
}

/// Nearest-rank percentile of a latency histogram, in milliseconds: the
/// midpoint of the slot holding that rank. BPF keeps only this fixed-size
/// histogram per connection (no record per request to send or lose), so the
/// exact latency is gone; from 4 µs up a slot spans at most a quarter of its
/// lower bound, which keeps the midpoint within 12.5% of any latency in it.
pub fn hist_percentile_ms(hist: &[u32], p: f64) -> Option<f64> {
    let total: u64 = hist.iter().map(|&n| u64::from(n)).sum();
    if total == 0 {
        return None;
    }
    let rank = ((p * total as f64).ceil() as u64).clamp(1, total);
    let mut seen = 0u64;
    let slot = hist.iter().position(|&n| {
        seen += u64::from(n);
        seen >= rank
    })?;
    let (lo, hi) = hist_slot_bounds(slot);
    Some((lo + hi) as f64 / 2.0 * 1024.0 / 1e6)
}

fn addr(a: &[u8; 16], family: u16) -> String {
    if family == 2 {
        Ipv4Addr::new(a[0], a[1], a[2], a[3]).to_string()
    } else {
        Ipv6Addr::from(*a).to_string()
    }
}

struct Tracked {
    c: Conn,
    closed: bool,
}

impl Tracked {
    /// Counters only grow: keeps the larger of what we have and what we read.
    fn merge(&mut self, c: &Conn) {
        if c.bytes_in + c.bytes_out + c.requests
            >= self.c.bytes_in + self.c.bytes_out + self.c.requests
        {
            self.c = *c;
        }
    }

    fn stats(&self) -> ConnectionStats {
        let c = &self.c;
        ConnectionStats {
            pid: c.pid,
            comm: c.comm.to_str_lossy().into_owned(),
            fd: c.fd,
            role: ROLES.get(c.role as usize).copied().unwrap_or("unknown"),
            protocol: PROTOCOLS
                .get(c.proto as usize)
                .copied()
                .unwrap_or("unknown"),
            local_addr: addr(&c.saddr, c.family),
            local_port: c.sport,
            remote_addr: addr(&c.daddr, c.family),
            remote_port: c.dport,
            bytes_in: c.bytes_in,
            bytes_out: c.bytes_out,
            calls_in: c.calls_in,
            calls_out: c.calls_out,
            requests: c.requests,
            p50_ms: hist_percentile_ms(&c.latency_hist, 0.5),
            p99_ms: hist_percentile_ms(&c.latency_hist, 0.99),
            closed: self.closed,
        }
    }
}

type Key = (u32, u32, u16, u16);

#[derive(Default)]
struct Table {
    conns: HashMap<Key, usize>,
    list: Vec<Tracked>,
}

impl Table {
    fn track(&mut self, c: &Conn) -> &mut Tracked {
        let k = (c.pid, c.fd, c.sport, c.dport);
        let list = &mut self.list;
        let i = *self.conns.entry(k).or_insert_with(|| {
            list.push(Tracked {
                c: *c,
                closed: false,
            });
            list.len() - 1
        });
        &mut self.list[i]
    }

    fn on_event(&mut self, ev: &Event) {
        let t = self.track(&ev.conn);
        if t.closed {
            return;
        }
        t.merge(&ev.conn);
        if ev.kind == EV_CLOSE {
            t.c = ev.conn;
            t.closed = true;
        }
    }
}

/// net-observe attached; `close()` or drop detaches.
pub struct Observer {
    skel: Option<NetObserve>,
    table: Table,
}

impl Observer {
    /// Loads and attaches net-observe for one process (pid) and/or port; 0 means every one.
    pub fn new(pid: u32, port: u16) -> Result<Observer> {
        let options = InitOptions {
            rodata: RodataInit {
                target_pid: Some(pid),
                target_port: Some(port),
            },
            ..Default::default()
        };
        Ok(Observer {
            skel: Some(net_observe::init(&options)?),
            table: Table::default(),
        })
    }

    /// Waits up to `timeout` for connection events, then takes them; how many.
    pub fn poll(&mut self, timeout: Duration) -> Result<usize> {
        let Some(skel) = &self.skel else { return Ok(0) };
        let table = &mut self.table;
        skel.maps()
            .events()?
            .poll(timeout, |ev, _| table.on_event(ev))
    }

    /// Every connection seen; open ones refreshed from the map (after close: as they were then).
    pub fn connections(&mut self) -> Result<Vec<ConnectionStats>> {
        if let Some(skel) = &self.skel {
            let table = &mut self.table;
            skel.maps().events()?.drain(|ev, _| table.on_event(ev))?;
            for entry in skel.maps().conns()?.iter() {
                let (_, c) = entry?;
                if c.ignored != 0 {
                    continue;
                }
                let t = table.track(&c);
                if !t.closed {
                    t.merge(&c);
                }
            }
        }
        Ok(self.table.list.iter().map(Tracked::stats).collect())
    }

    /// Ring buffer records BPF could not send (full).
    pub fn dropped(&self) -> Result<u64> {
        match &self.skel {
            Some(skel) => Ok(skel.bss()?.dropped()),
            None => Ok(0),
        }
    }

    /// Detaches and unloads; idempotent.
    pub fn close(&mut self) {
        if let Some(mut skel) = self.skel.take() {
            skel.destroy();
        }
    }
}

impl Drop for Observer {
    fn drop(&mut self) {
        self.close();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The BPF program's lat_slot(), on u = ns >> 10: the reference the bounds must invert.
    fn bpf_slot(u: u64) -> usize {
        if u < 4 {
            return u as usize;
        }
        if u >= 7 << 24 {
            return 103;
        }
        let e = 63 - u.leading_zeros() as u64;
        (4 * (e - 1) + ((u >> (e - 2)) & 3)) as usize
    }

    fn hist(slots: &[(usize, u32)]) -> [u32; 104] {
        let mut h = [0u32; 104];
        for &(s, n) in slots {
            h[s] = n;
        }
        h
    }

    fn close(a: Option<f64>, b: f64) -> bool {
        a.is_some_and(|a| (a - b).abs() <= 1e-12 * b.abs())
    }

    #[test]
    fn empty_histogram_has_no_percentile() {
        let h = hist(&[]);
        assert_eq!(hist_percentile_ms(&h, 0.5), None);
        assert_eq!(hist_percentile_ms(&h, 0.99), None);
    }

    #[test]
    fn one_slot() {
        let h = hist(&[(10, 100)]);
        assert_eq!(hist_slot_bounds(10), (12, 14));
        assert!(close(hist_percentile_ms(&h, 0.5), 0.013312));
        assert!(close(hist_percentile_ms(&h, 0.99), 0.013312));
    }

    #[test]
    fn p99_in_the_tail() {
        let h = hist(&[(2, 98), (40, 2)]);
        assert_eq!(hist_slot_bounds(40), (2048, 2560));
        assert!(close(hist_percentile_ms(&h, 0.5), 0.00256));
        assert!(close(hist_percentile_ms(&h, 0.99), 2.359296));
    }

    #[test]
    fn last_slot() {
        let h = hist(&[(103, 1)]);
        assert_eq!(hist_slot_bounds(103), (7 << 24, 8 << 24));
        assert!(close(hist_percentile_ms(&h, 0.5), 128849.01888));
        assert!(close(hist_percentile_ms(&h, 0.99), 128849.01888));
    }

    #[test]
    fn bounds_contain_what_bpf_puts_in_the_slot() {
        for u in 0..=1u64 << 20 {
            let s = bpf_slot(u);
            let (lo, hi) = hist_slot_bounds(s);
            assert!(lo <= u && u < hi, "u {u} in slot {s} = [{lo}, {hi})");
        }
        for u in [(7 << 24) - 1, 7 << 24, (8 << 24) - 1] {
            let (lo, hi) = hist_slot_bounds(bpf_slot(u));
            assert!(lo <= u && u < hi, "u {u}");
        }
        assert_eq!(bpf_slot(u64::MAX >> 10), 103);
    }
}
