//! tcp-jitter's core, usable as a library: options, event formatting and the
//! delay histogram. The binary (`src/main.rs`) wires it to the BPF program.

use std::net::{Ipv4Addr, Ipv6Addr};

/// The command line's help.
pub const USAGE: &str =
    "usage: tcp-jitter [--threshold MS] [--port N] [--duration S] [--interval S] [--json]
  --threshold MS  report reads at least MS milliseconds after the data was queued (default 100)
  --port N        only sockets whose local or remote port is N
  --duration S    stop after S seconds (default: until Ctrl-C)
  --interval S    print the delay histogram every S seconds too (default: only on exit)
  --json          one JSON object per line";

/// What the command line sets.
#[derive(Debug, Clone, PartialEq)]
pub struct Options {
    /// report reads at least this late (milliseconds)
    pub threshold_ms: f64,
    /// only sockets with this local or remote port (0: all)
    pub port: u16,
    /// stop after this many seconds (0: until Ctrl-C / SIGTERM)
    pub duration_s: f64,
    /// print the histogram every this many seconds too (0: only on exit)
    pub interval_s: f64,
    /// JSON lines instead of text
    pub json: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            threshold_ms: 100.0,
            port: 0,
            duration_s: 0.0,
            interval_s: 0.0,
            json: false,
        }
    }
}

fn number(flag: &str, value: Option<&String>, max: f64) -> Result<f64, String> {
    let n = value
        .and_then(|v| v.trim().parse::<f64>().ok())
        .unwrap_or(f64::NAN);
    if !n.is_finite() || n < 0.0 || n > max {
        let got = value.map_or("nothing", |v| v.as_str());
        return Err(format!(
            "{flag}: expected a number from 0 to {max}, got {got}"
        ));
    }
    Ok(n)
}

/// Parses the arguments after the program name; the error is a message for the user.
pub fn parse_options(args: &[String]) -> Result<Options, String> {
    let mut o = Options::default();
    let mut it = args.iter();
    while let Some(arg) = it.next() {
        match arg.as_str() {
            "--threshold" => o.threshold_ms = number(arg, it.next(), 3_600_000.0)?,
            "--port" => {
                let n = number(arg, it.next(), 65535.0)?;
                if n.fract() != 0.0 {
                    return Err(format!("--port: expected an integer, got {n}"));
                }
                o.port = n as u16;
            }
            "--duration" => o.duration_s = number(arg, it.next(), 31_536_000.0)?,
            "--interval" => o.interval_s = number(arg, it.next(), 31_536_000.0)?,
            "--json" => o.json = true,
            _ => return Err(format!("unknown argument: {arg}")),
        }
    }
    Ok(o)
}

/// One slow read, as the BPF program reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SlowRead {
    pub ts_ns: u64,
    pub delay_ns: u64,
    pub pid: u32,
    pub queue_cpu: u32,
    pub read_cpu: u32,
    pub family: u16,
    pub sport: u16,
    pub dport: u16,
    pub saddr: [u8; 16],
    pub daddr: [u8; 16],
    pub comm: String,
}

const AF_INET6: u16 = 10;
const BAR: usize = 40;

/// An address as text: dotted quad, or compressed IPv6.
pub fn format_addr(family: u16, addr: &[u8; 16]) -> String {
    if family != AF_INET6 {
        return Ipv4Addr::new(addr[0], addr[1], addr[2], addr[3]).to_string();
    }
    let a = Ipv6Addr::from(*addr);
    match a.to_ipv4_mapped() {
        Some(v4) => format!("::ffff:{v4}"),
        None => a.to_string(),
    }
}

fn endpoint(family: u16, addr: &str, port: u16) -> String {
    if family == AF_INET6 {
        format!("[{addr}]:{port}")
    } else {
        format!("{addr}:{port}")
    }
}

/// A JSON string literal (the runtime's encoder).
fn json_str(s: &str) -> String {
    tcp_jitter::Value::Str(s.to_string()).to_json()
}

/// The line printed for one slow read (text, or a JSON object).
pub fn format_event(ev: &SlowRead, json: bool) -> String {
    let local = format_addr(ev.family, &ev.saddr);
    let remote = format_addr(ev.family, &ev.daddr);
    let delay_ms = ev.delay_ns as f64 / 1e6;
    if json {
        let family = if ev.family == AF_INET6 {
            "ipv6"
        } else {
            "ipv4"
        };
        return format!(
            "{{\"ts_ns\":{},\"pid\":{},\"comm\":{},\"family\":\"{family}\",\"local\":\"{local}\",\"lport\":{},\
             \"remote\":\"{remote}\",\"rport\":{},\"delay_ms\":{},\"queue_cpu\":{},\"read_cpu\":{}}}",
            ev.ts_ns,
            ev.pid,
            json_str(&ev.comm),
            ev.sport,
            ev.dport,
            (delay_ms * 1000.0).round() / 1000.0,
            ev.queue_cpu,
            ev.read_cpu
        );
    }
    format!(
        "slow read: pid {} ({}) {} <- {} delay {delay_ms:.3} ms queued on cpu {}, read on cpu {}",
        ev.pid,
        ev.comm,
        endpoint(ev.family, &local, ev.sport),
        endpoint(ev.family, &remote, ev.dport),
        ev.queue_cpu,
        ev.read_cpu
    )
}

/// Bounds (microseconds, inclusive) of slot i: slot 0 is 0..1, slot i>0 is 2^i..2^(i+1)-1.
pub fn slot_bounds(i: usize) -> (u64, u64) {
    (if i == 0 { 0 } else { 1u64 << i }, (1u64 << (i + 1)) - 1)
}

/// The delay histogram: text lines from the first to the last non-empty slot, or JSON.
pub fn render_histogram(counts: &[u64], json: bool) -> String {
    let non_empty: Vec<usize> = (0..counts.len()).filter(|&i| counts[i] > 0).collect();
    if json {
        let slots: Vec<String> = non_empty
            .iter()
            .map(|&i| {
                let (lo, hi) = slot_bounds(i);
                format!("{{\"lo_us\":{lo},\"hi_us\":{hi},\"count\":{}}}", counts[i])
            })
            .collect();
        return format!("{{\"histogram\":[{}]}}", slots.join(","));
    }
    let (Some(&first), Some(&last)) = (non_empty.first(), non_empty.last()) else {
        return "delay histogram: no reads yet".to_string();
    };
    let top = counts.iter().copied().max().unwrap_or(1);
    let mut lines = vec![format!("{:>25} : count      distribution", "delay (us)")];
    for (i, &c) in counts.iter().enumerate().take(last + 1).skip(first) {
        let (lo, hi) = slot_bounds(i);
        let stars = (c * BAR as u64).div_ceil(top) as usize;
        lines.push(format!(
            "{lo:>12} -> {hi:<10} : {c:<10} |{:<BAR$}|",
            "*".repeat(stars)
        ));
    }
    lines.join("\n")
}
