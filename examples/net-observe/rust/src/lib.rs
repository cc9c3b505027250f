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

use net_observe::{Conn, Event, InitOptions, NetObserve, ReqRecord, Result, RodataInit};

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

/// Nearest-rank percentile of sorted nanoseconds, in milliseconds.
pub fn percentile_ms(sorted_ns: &[u64], p: f64) -> Option<f64> {
    if sorted_ns.is_empty() {
        return None;
    }
    let i = ((p * sorted_ns.len() as f64).ceil() as usize).max(1) - 1;
    Some(sorted_ns[i] as f64 / 1e6)
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

    fn stats(&self, latencies: Option<&Vec<u64>>) -> ConnectionStats {
        let c = &self.c;
        let mut lat = latencies.cloned().unwrap_or_default();
        lat.sort_unstable();
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
            p50_ms: percentile_ms(&lat, 0.5),
            p99_ms: percentile_ms(&lat, 0.99),
            closed: self.closed,
        }
    }
}

type Key = (u32, u32, u16, u16);

#[derive(Default)]
struct Table {
    conns: HashMap<Key, usize>,
    list: Vec<(Key, Tracked)>,
    /// latencies by connection: the two ring buffers are not ordered with each other
    latencies: HashMap<Key, Vec<u64>>,
}

impl Table {
    fn track(&mut self, c: &Conn) -> &mut Tracked {
        let k = (c.pid, c.fd, c.sport, c.dport);
        let list = &mut self.list;
        let i = *self.conns.entry(k).or_insert_with(|| {
            list.push((
                k,
                Tracked {
                    c: *c,
                    closed: false,
                },
            ));
            list.len() - 1
        });
        &mut self.list[i].1
    }

    fn on_request(&mut self, r: &ReqRecord) {
        self.latencies
            .entry((r.pid, r.fd, r.sport, r.dport))
            .or_default()
            .push(r.latency_ns);
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

    /// Waits up to `timeout` for connection events, then takes them and the
    /// request records waiting (these wake a reader only in bulk); how many.
    pub fn poll(&mut self, timeout: Duration) -> Result<usize> {
        let Some(skel) = &self.skel else { return Ok(0) };
        let table = &mut self.table;
        let n = skel
            .maps()
            .events()?
            .poll(timeout, |ev, _| table.on_event(ev))?;
        Ok(n + skel.maps().requests()?.drain(|r, _| table.on_request(r))?)
    }

    /// Every connection seen; open ones refreshed from the map (after close: as they were then).
    pub fn connections(&mut self) -> Result<Vec<ConnectionStats>> {
        if let Some(skel) = &self.skel {
            let table = &mut self.table;
            skel.maps().events()?.drain(|ev, _| table.on_event(ev))?;
            skel.maps().requests()?.drain(|r, _| table.on_request(r))?;
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
        let table = &self.table;
        Ok(table
            .list
            .iter()
            .map(|(k, t)| t.stats(table.latencies.get(k)))
            .collect())
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
