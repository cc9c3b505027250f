//! tcp-jitter: one line per slow TCP read, a delay histogram on exit (and
//! every --interval seconds). Ctrl-C / SIGTERM print the histogram and exit 0.

use std::os::raw::c_int;
use std::process::ExitCode;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use tcpjitter::{format_event, parse_options, render_histogram, Options, SlowRead, USAGE};

const HIST_SLOTS: u32 = 32;
const SIGINT: c_int = 2;
const SIGTERM: c_int = 15;

static STOP: AtomicBool = AtomicBool::new(false);

extern "C" {
    fn signal(signum: c_int, handler: extern "C" fn(c_int)) -> usize;
}

extern "C" fn on_signal(_: c_int) {
    STOP.store(true, Ordering::SeqCst);
}

fn histogram(skel: &tcp_jitter::TcpJitter) -> tcp_jitter::Result<Vec<u64>> {
    let map = skel.maps().delay_hist()?;
    // per CPU: a slot's count is the sum over the CPUs
    (0..HIST_SLOTS)
        .map(|i| Ok(map.get(&i)?.map_or(0, |per_cpu| per_cpu.iter().sum())))
        .collect()
}

fn run(o: &Options) -> tcp_jitter::Result<()> {
    let mut options = tcp_jitter::InitOptions::default();
    options.rodata.threshold_ns = Some((o.threshold_ms * 1e6).round() as u64);
    options.rodata.filter_port = Some(o.port);
    let mut skel = tcp_jitter::init(&options)?;
    let result = watch(&skel, o);
    skel.destroy();
    result
}

fn watch(skel: &tcp_jitter::TcpJitter, o: &Options) -> tcp_jitter::Result<()> {
    let port = if o.port == 0 {
        "any".to_string()
    } else {
        o.port.to_string()
    };
    eprintln!(
        "tcp-jitter: attached (threshold {} ms, port {port})",
        o.threshold_ms
    );
    let start = Instant::now();
    let end = (o.duration_s > 0.0).then(|| start + Duration::from_secs_f64(o.duration_s));
    let interval = Duration::from_secs_f64(o.interval_s);
    let mut next_hist = (o.interval_s > 0.0).then(|| start + interval);
    let maps = skel.maps();
    let events = maps.events()?;
    let show = |ev: &tcp_jitter::Event, _cpu: u32| {
        let read = SlowRead {
            ts_ns: ev.ts_ns,
            delay_ns: ev.delay_ns,
            pid: ev.pid,
            queue_cpu: ev.queue_cpu,
            read_cpu: ev.read_cpu,
            family: ev.family,
            sport: ev.sport,
            dport: ev.dport,
            saddr: ev.saddr,
            daddr: ev.daddr,
            comm: ev.comm.to_str_lossy().into_owned(),
        };
        println!("{}", format_event(&read, o.json));
    };
    while !STOP.load(Ordering::SeqCst) {
        if let Err(e) = events.poll(Duration::from_millis(200), show) {
            if !STOP.load(Ordering::SeqCst) {
                return Err(e);
            }
        }
        let now = Instant::now();
        if end.is_some_and(|end| now >= end) {
            break;
        }
        if let Some(at) = next_hist.filter(|&at| now >= at) {
            println!("{}", render_histogram(&histogram(skel)?, o.json));
            next_hist = Some(at + interval);
        }
    }
    events.drain(show)?;
    println!("{}", render_histogram(&histogram(skel)?, o.json));
    Ok(())
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let o = match parse_options(&args) {
        Ok(o) => o,
        Err(e) => {
            eprintln!("tcp-jitter: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    // SAFETY: the handler only stores to an atomic.
    unsafe {
        signal(SIGINT, on_signal);
        signal(SIGTERM, on_signal);
    }
    match run(&o) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tcp-jitter: {e}");
            ExitCode::FAILURE
        }
    }
}
