//! net-observe: a live table of an application's TCP connections.
//!
//! `net-observe [--pid N] [--port N] [--interval-ms N] [--json]`; --json prints
//! `{"connections": [...]}` once, at exit (SIGINT/SIGTERM).
use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use netobserve::{ConnectionStats, Observer};

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" fn on_signal(_: i32) {
    STOP.store(true, Ordering::SeqCst);
}

extern "C" {
    fn signal(signum: i32, handler: extern "C" fn(i32)) -> usize;
}

const SIGINT: i32 = 2;
const SIGTERM: i32 = 15;

struct Args {
    pid: u32,
    port: u16,
    interval: Duration,
    json: bool,
}

fn parse_args() -> Result<Args, String> {
    let mut a = Args {
        pid: 0,
        port: 0,
        interval: Duration::from_secs(1),
        json: false,
    };
    let mut it = std::env::args().skip(1);
    while let Some(arg) = it.next() {
        let mut value = |name: &str| it.next().ok_or_else(|| format!("{name} needs a value"));
        match arg.as_str() {
            "--pid" => a.pid = value("--pid")?.parse().map_err(|e| format!("--pid: {e}"))?,
            "--port" => a.port = value("--port")?.parse().map_err(|e| format!("--port: {e}"))?,
            "--interval-ms" => {
                let ms: u64 = value("--interval-ms")?.parse().map_err(|e| format!("--interval-ms: {e}"))?;
                a.interval = Duration::from_millis(ms);
            }
            "--json" => a.json = true,
            other => {
                return Err(format!(
                    "unknown argument {other} (usage: net-observe [--pid N] [--port N] [--interval-ms N] [--json])"
                ))
            }
        }
    }
    Ok(a)
}

fn ms(v: Option<f64>) -> String {
    v.map_or_else(|| "-".to_string(), |x| format!("{x:.3}"))
}

fn table(conns: &[ConnectionStats]) -> String {
    let mut rows: Vec<Vec<String>> = vec![[
        "PID", "COMM", "LOCAL", "REMOTE", "PROTO", "IN", "OUT", "REQS", "P50ms", "P99ms",
    ]
    .map(String::from)
    .to_vec()];
    for c in conns {
        rows.push(vec![
            c.pid.to_string(),
            c.comm.clone(),
            format!("{}:{}", c.local_addr, c.local_port),
            format!("{}:{}", c.remote_addr, c.remote_port),
            format!("{}{}", c.protocol, if c.closed { "*" } else { "" }),
            c.bytes_in.to_string(),
            c.bytes_out.to_string(),
            c.requests.to_string(),
            ms(c.p50_ms),
            ms(c.p99_ms),
        ]);
    }
    let widths: Vec<usize> = (0..rows[0].len())
        .map(|i| rows.iter().map(|r| r[i].len()).max().unwrap_or(0))
        .collect();
    rows.iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .map(|(i, v)| format!("{v:<w$}", w = widths[i]))
                .collect::<Vec<_>>()
                .join("  ")
                .trim_end()
                .to_string()
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn run(args: &Args) -> Result<(), String> {
    let mut obs = Observer::new(args.pid, args.port).map_err(|e| e.to_string())?;
    eprintln!("net-observe: ready");
    let tty = std::io::stdout().is_terminal();
    let mut next = Instant::now() + args.interval;
    while !STOP.load(Ordering::SeqCst) {
        obs.poll(Duration::from_millis(200))
            .map_err(|e| e.to_string())?;
        if !args.json && Instant::now() >= next {
            next += args.interval;
            let out = table(&obs.connections().map_err(|e| e.to_string())?);
            print!(
                "{}{out}\n{}",
                if tty { "\x1b[H\x1b[2J" } else { "" },
                if tty { "" } else { "\n" }
            );
            let _ = std::io::stdout().flush();
        }
    }
    let conns = obs.connections().map_err(|e| e.to_string())?;
    let dropped = obs.dropped().map_err(|e| e.to_string())?;
    obs.close();
    if args.json {
        let list: Vec<String> = conns.iter().map(ConnectionStats::to_json).collect();
        println!(
            "{{\"connections\":[{}],\"dropped\":{dropped}}}",
            list.join(",")
        );
    } else {
        println!("{}", table(&conns));
    }
    Ok(())
}

fn main() -> ExitCode {
    let args = match parse_args() {
        Ok(a) => a,
        Err(e) => {
            eprintln!("net-observe: {e}");
            return ExitCode::from(2);
        }
    };
    // SAFETY: the handler only stores to an atomic, which is async-signal-safe.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("net-observe: {e}");
            ExitCode::FAILURE
        }
    }
}
