//! ringbuf: typed events through a BPF ring buffer: exact contents, order,
//! an iteration ended by a stop token or its timeout, the callback form,
//! stats, bulk delivery, and a process that exits by itself afterwards.
//!
//! Rust differences: reading blocks the calling thread (no event loop): an
//! iteration ends when its `StopToken` is stopped (from any thread) or its
//! timeout passes; the callback form (`consume`) returns when the token
//! stops or the callback breaks. Destroying the object while an iteration
//! borrows it does not compile, so `destroy-ends` stops the iteration from
//! another thread and then destroys.

use std::ops::ControlFlow;
use std::time::{Duration, Instant};

use coolbpf_conformance::{
    allowed_cpus, expect_child_exits, expected, kernel_skip_reason, on_cpu, own_comm, pid, run,
    test, trigger, value_json, Json,
};
use ringbuf as g;
use ringbuf::coolbpf as cb;
use ringbuf::coolbpf::Reflect;

value_json!();

fn spec(id: &str) -> Json {
    expected("ringbuf").case(id).clone()
}

fn opts() -> g::InitOptions {
    let mut o = g::InitOptions::default();
    o.rodata.target_tgid = Some(pid());
    o
}

/// Runs f pinned to one CPU when it can (so the events' cpu field is known).
fn on_some_cpu(f: impl FnOnce()) -> Option<u32> {
    match allowed_cpus().first() {
        Some(&c) => {
            on_cpu(c, f);
            Some(c)
        }
        None => {
            f();
            None
        }
    }
}

fn contents() {
    let events = expected("ringbuf").get("events").clone();
    let x = g::init(&opts()).unwrap();
    let n = events.items().len();
    let cpu = on_some_cpu(|| trigger(n));
    let stop = cb::StopToken::new();
    let mut got = Vec::new();
    for ev in x.maps().rb_events().unwrap().iter().stop_on(&stop) {
        got.push(ev.unwrap());
        if got.len() == n {
            stop.stop();
        }
    }
    assert_eq!(got.len(), n);
    let comm = own_comm();
    for (e, want) in got.iter().zip(events.items()) {
        let want = want.fill(pid(), &comm, cpu.unwrap_or(e.cpu));
        if let Err(d) = coolbpf_conformance::same(&value_json(&e.to_value()), &want, "event") {
            panic!("{d}");
        }
    }
    assert_eq!(x.bss().unwrap().dropped(), 0);
}

fn waiting() {
    let c = spec("waiting");
    let n = c.get("triggers").usize();
    let x = g::init(&opts()).unwrap();
    let stop = cb::StopToken::new();
    let seqs = std::thread::scope(|s| {
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(20));
            trigger(n); // another thread of this process: BPF counts the process
        });
        let mut seqs = Vec::new();
        for ev in x.maps().rb_events().unwrap().iter().stop_on(&stop) {
            seqs.push(ev.unwrap().seq);
            if seqs.len() == n {
                stop.stop();
            }
        }
        seqs
    });
    assert_eq!(seqs, vec![0, 1, 2]);
}

fn abort_idle() {
    let ms = spec("abort-idle").get("timeoutMs").int() as u64;
    let x = g::init(&opts()).unwrap();
    let t0 = Instant::now();
    let got: Vec<_> = x
        .maps()
        .rb_events()
        .unwrap()
        .iter()
        .timeout(Duration::from_millis(ms))
        .collect();
    assert!(got.is_empty());
    assert!(t0.elapsed() >= Duration::from_millis(ms - 5));
    assert!(t0.elapsed() < Duration::from_secs(5));
    // the same with a stop token stopped from another thread while idle
    let stop = cb::StopToken::new();
    let t0 = Instant::now();
    std::thread::scope(|s| {
        let st = stop.clone();
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(ms));
            st.stop();
        });
        assert_eq!(
            x.maps().rb_events().unwrap().iter().stop_on(&stop).count(),
            0
        );
    });
    assert!(t0.elapsed() >= Duration::from_millis(ms - 5));
}

fn destroy_ends() {
    let mut x = g::init(&opts()).unwrap();
    let stop = cb::StopToken::new();
    let got = std::thread::scope(|s| {
        let st = stop.clone();
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(30));
            st.stop();
        });
        x.maps().rb_events().unwrap().iter().stop_on(&stop).count()
    });
    assert_eq!(got, 0);
    x.destroy();
    assert_eq!(x.object().state(), cb::State::Destroyed);
}

fn subscribe() {
    let c = spec("subscribe");
    let (t, e) = (c.get("triggers"), c.get("expect"));
    let (a, b) = (t.get("a").usize(), t.get("b").usize());
    let x = g::init(&opts()).unwrap();
    let ev = x.maps().rb_events().unwrap();
    let stop = cb::StopToken::new();
    let mut seen = Vec::new();
    std::thread::scope(|s| {
        s.spawn(move || trigger(a));
        let end = ev
            .consume(&stop, |e, cpu| {
                seen.push((e.seq, cpu));
                if seen.len() >= a {
                    stop.stop();
                }
                ControlFlow::Continue(())
            })
            .unwrap();
        assert_eq!(end, cb::End::Stopped);
    });
    trigger(b);
    std::thread::sleep(Duration::from_millis(50));
    let cpu_arg = e.get("cpuArgument").int() as u32;
    assert_eq!(
        seen,
        (0..e.get("callbacks").u64())
            .map(|i| (i, cpu_arg))
            .collect::<Vec<_>>()
    );
    let mut later = Vec::new();
    ev.drain(|e, _| later.push(e.seq)).unwrap();
    assert_eq!(later, (a as u64..(a + b) as u64).collect::<Vec<_>>());
    assert_eq!(
        ev.stats(),
        cb::Stats {
            records: e.get("stats.records").u64(),
            lost: e.get("stats.lost").u64()
        }
    );
}

fn bulk() {
    let c = spec("bulk");
    let n = c.get("triggers").u64();
    let x = g::init(&opts()).unwrap();
    trigger(n as usize);
    let ev = x.maps().rb_events().unwrap();
    ev.reader().set_batch_bytes(16 * 1024);
    let (mut next, mut out_of_order) = (0u64, 0);
    let stop = cb::StopToken::new();
    for e in ev.iter().stop_on(&stop).timeout(Duration::from_secs(10)) {
        let e = e.unwrap();
        if e.seq != next {
            out_of_order += 1;
        }
        next = e.seq + 1;
        if next == n {
            stop.stop();
        }
    }
    assert_eq!((out_of_order, next), (0, n));
    assert_eq!(x.bss().unwrap().dropped(), 0);
    assert_eq!(
        ev.stats().records,
        c.get("expect").get("stats.records").u64()
    );
}

/// In a process of its own (this test program run again with COOLBPF_EXIT_CHILD): reads
/// with a stopped iteration and a stopped callback, prints what it read, and returns
/// without destroy.
fn exit_child() {
    let x = g::init(&opts()).unwrap();
    let ev = x.maps().rb_events().unwrap();
    trigger(3);
    let stop = cb::StopToken::new();
    let mut iterated = Vec::new();
    for e in ev.iter().stop_on(&stop) {
        iterated.push(e.unwrap().seq);
        if iterated.len() == 3 {
            stop.stop();
        }
    }
    trigger(2);
    let stop = cb::StopToken::new();
    let mut subscribed = Vec::new();
    ev.consume(&stop, |e, _| {
        subscribed.push(e.seq);
        if subscribed.len() == 2 {
            stop.stop();
        }
        ControlFlow::Continue(())
    })
    .unwrap();
    println!("{{\"iterated\":{iterated:?},\"subscribed\":{subscribed:?}}}");
    std::mem::forget(x); // no destroy, no drop: the process must exit by itself
}

fn exit() {
    if std::env::var_os("COOLBPF_EXIT_CHILD").is_some() {
        return exit_child();
    }
    let want = spec("exit").get("expect").clone();
    expect_child_exits(&want, r#"{"iterated":[0, 1, 2],"subscribed":[3, 4]}"#);
}

fn main() {
    run(
        &[
            test("contents", contents),
            test("waiting", waiting),
            test("abort-idle", abort_idle),
            test("destroy-ends", destroy_ends),
            test("subscribe", subscribe),
            test("bulk", bulk),
            test("exit", exit),
        ],
        kernel_skip_reason(),
    );
}
