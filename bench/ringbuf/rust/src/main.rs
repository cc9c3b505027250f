//! The ring buffer consumer through the generated Rust crate (`coolbpf-gen
//! build ringbuf.bpf.c --lang rust`), used as a Rust user would:
//! `ringbuf::init` with the producer's pid in .rodata, then the typed events
//! of `maps().events()`, read with `poll(timeout, |rec, cpu| …)` (stream) or
//! `drain(|rec, cpu| …)` (burst). See bench/ringbuf.mjs.
//!
//!     consumer-rust PRODUCER stream|burst N BATCH
//!
//! The producer is producer.c's program, spawned: go bytes on its stdin, done
//! bytes on its stdout. The window, the checks and the result line are the C
//! consumers' (common.h). Exit status 1 when the run is not clean.
use std::io::{Read, Write};
use std::process::{Child, ChildStdin, ChildStdout, Command, Stdio};
use std::time::{Duration, Instant};

const NAME: &str = "rust";
const STALL: Duration = Duration::from_secs(10);

#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Timeval {
    sec: i64,
    usec: i64,
}

/// struct rusage of x86_64 and arm64 Linux: two timevals, then 14 longs.
#[repr(C)]
#[derive(Default, Clone, Copy)]
struct Rusage {
    utime: Timeval,
    stime: Timeval,
    rest: [i64; 14],
}

extern "C" {
    fn getrusage(who: i32, usage: *mut Rusage) -> i32;
}

fn rusage() -> Rusage {
    let mut r = Rusage::default();
    // SAFETY: a struct rusage-sized buffer; RUSAGE_SELF is 0.
    if unsafe { getrusage(0, &mut r) } != 0 {
        die(&format!("getrusage: {}", std::io::Error::last_os_error()), None);
    }
    r
}

fn us(t: Timeval) -> i64 {
    t.sec * 1_000_000 + t.usec
}

fn die(msg: &str, producer: Option<&mut Child>) -> ! {
    eprintln!("{NAME}: {msg}");
    if let Some(p) = producer {
        let _ = p.kill();
    }
    std::process::exit(1);
}

/// rusage and clock deltas summed over resume .. pause spans (common.h's struct window).
#[derive(Default)]
struct Window {
    user_us: i64,
    sys_us: i64,
    wall: Duration,
    nvcsw: i64,
    nivcsw: i64,
    r0: Rusage,
    t0: Option<Instant>,
}

impl Window {
    fn resume(&mut self) {
        self.r0 = rusage();
        self.t0 = Some(Instant::now());
    }
    fn pause(&mut self) {
        let wall = self.t0.map(|t| t.elapsed()).unwrap_or_default();
        let r1 = rusage();
        self.wall += wall;
        self.user_us += us(r1.utime) - us(self.r0.utime);
        self.sys_us += us(r1.stime) - us(self.r0.stime);
        // ru_nvcsw and ru_nivcsw are the last two longs
        self.nvcsw += r1.rest[12] - self.r0.rest[12];
        self.nivcsw += r1.rest[13] - self.r0.rest[13];
    }
}

/// Every record checked (common.h's tally()).
#[derive(Default)]
struct Tally {
    delivered: u64,
    seq_sum: u64,
    next_seq: u64,
    out_of_order: u64,
    reads: u64,
    empty_reads: u64,
}

impl Tally {
    #[inline]
    fn add(&mut self, seq: u64) {
        self.seq_sum = self.seq_sum.wrapping_add(seq);
        self.out_of_order += u64::from(seq != self.next_seq);
        self.next_seq = seq + 1;
        self.delivered += 1;
    }
}

fn num(what: &str, s: &str) -> u64 {
    s.parse()
        .unwrap_or_else(|_| die(&format!("{what}: not a number: '{s}'"), None))
}

fn main() {
    let a: Vec<String> = std::env::args().skip(1).collect();
    if a.len() != 4 || (a[1] != "stream" && a[1] != "burst") {
        die("usage: consumer-rust PRODUCER stream|burst N BATCH", None);
    }
    let burst = a[1] == "burst";
    let n = num("N", &a[2]);
    let mut batch = num("BATCH", &a[3]);
    if !burst || batch == 0 || batch > n {
        batch = n;
    }
    let mut child = Command::new(&a[0])
        .args([n.to_string(), batch.to_string()])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| die(&format!("spawning {}: {e}", a[0]), None));
    let mut go_pipe: ChildStdin = child.stdin.take().expect("piped");
    let mut done_pipe: ChildStdout = child.stdout.take().expect("piped");

    let options = ringbuf::InitOptions {
        rodata: ringbuf::RodataInit {
            producer_tgid: Some(child.id()),
        },
        ..Default::default()
    };
    let mut skel = ringbuf::init(&options).unwrap_or_else(|e| die(&format!("init: {e}"), Some(&mut child)));
    let events = skel
        .maps()
        .events()
        .unwrap_or_else(|e| die(&format!("events: {e}"), Some(&mut child)));
    let bss = skel
        .bss()
        .unwrap_or_else(|e| die(&format!(".bss: {e}"), Some(&mut child)));

    let mut t = Tally::default();
    let mut w = Window::default();
    if !burst {
        w.resume();
        if go_pipe.write_all(b"g").is_err() {
            die("starting the producer", Some(&mut child));
        }
        let mut last = Instant::now();
        while t.delivered < n {
            let got = events
                .poll(Duration::from_millis(100), |r, _| t.add(r.seq))
                .unwrap_or_else(|e| die(&format!("poll: {e}"), None));
            t.reads += 1;
            if got > 0 {
                last = Instant::now();
                continue;
            }
            t.empty_reads += 1;
            // the producer is done and nothing more is coming: stop (lost > 0)
            if bss.produced() + bss.dropped() == n && t.delivered == bss.produced() {
                break;
            }
            if last.elapsed() > STALL {
                die(
                    &format!("no record for {STALL:?} with {} of {n} delivered", t.delivered),
                    Some(&mut child),
                );
            }
        }
        w.pause();
    } else {
        let mut done = 0;
        let mut byte = [0u8; 1];
        while done < n {
            let b = batch.min(n - done);
            if go_pipe.write_all(b"g").is_err() || done_pipe.read_exact(&mut byte).is_err() {
                die("the producer exited before finishing a batch", Some(&mut child));
            }
            let want = bss.produced();
            w.resume();
            while t.delivered < want {
                let got = events
                    .drain(|r, _| t.add(r.seq))
                    .unwrap_or_else(|e| die(&format!("drain: {e}"), None));
                t.reads += 1;
                if got == 0 {
                    t.empty_reads += 1;
                    break;
                }
            }
            w.pause();
            done += b;
        }
    }

    drop(go_pipe);
    let mut rest = String::new();
    let _ = done_pipe.read_to_string(&mut rest);
    let status = child.wait().unwrap_or_else(|e| die(&format!("wait: {e}"), None));
    if !status.success() {
        die(&format!("the producer failed ({status})"), None);
    }
    let producer_cpu = rest
        .lines()
        .find_map(|l| l.strip_prefix("{\"producer_cpu_us\":"))
        .and_then(|l| l.trim_end_matches('}').parse::<i64>().ok())
        .unwrap_or(-1);
    let (produced, dropped) = (bss.produced(), bss.dropped());
    let reader_records = events.stats().records;
    drop(bss);
    skel.destroy();

    let lost = dropped + n.saturating_sub(t.delivered);
    let want_sum = if n % 2 == 1 { n * ((n - 1) / 2) } else { (n / 2) * n.saturating_sub(1) };
    let ok = lost == 0 && t.delivered == n && produced == n && t.seq_sum == want_sum && t.out_of_order == 0;
    println!(
        "{{\"consumer\":\"{NAME}\",\"mode\":\"{}\",\"n\":{n},\"produced\":{produced},\"dropped\":{dropped},\"delivered\":{},\"lost\":{lost},\"seq_sum_ok\":{},\"out_of_order\":{},\"bad_size\":0,\"user_us\":{},\"sys_us\":{},\"wall_us\":{},\"nvcsw\":{},\"nivcsw\":{},\"reads\":{},\"empty_reads\":{},\"producer_cpu_us\":{producer_cpu},\"reader_records\":{reader_records}}}",
        if burst { "burst" } else { "stream" },
        t.delivered,
        t.seq_sum == want_sum,
        t.out_of_order,
        w.user_us,
        w.sys_us,
        w.wall.as_micros(),
        w.nvcsw,
        w.nivcsw,
        t.reads,
        t.empty_reads,
    );
    if !ok {
        eprintln!(
            "{NAME}: run not clean: {lost} lost, {} of {n} delivered ({produced} produced), seq sum {}, {} out of order",
            t.delivered,
            if t.seq_sum == want_sum { "ok" } else { "WRONG" },
            t.out_of_order
        );
        std::process::exit(1);
    }
}
