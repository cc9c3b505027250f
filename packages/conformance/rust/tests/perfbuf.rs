//! perfbuf: the ringbuf scenario's events through a perf event array, with
//! the CPU each event came from, and no sample lost. The generated crate
//! opens every perf event array's reader at load, so events BPF sends before
//! the first read are kept (`before-first-read`).

use std::ops::ControlFlow;
use std::time::Duration;

use coolbpf_conformance::{
    allowed_cpus, bpf_fd_counts, expect_child_exits, expected, held, kernel_skip_reason, on_cpu,
    own_comm, pid, run, skip, test, trigger, value_json, Json,
};
use perfbuf as g;
use perfbuf::coolbpf as cb;
use perfbuf::coolbpf::Reflect;

value_json!();

fn spec(id: &str) -> Json {
    expected("perfbuf").case(id).clone()
}

fn opts() -> g::InitOptions {
    let mut o = g::InitOptions::default();
    o.rodata.target_tgid = Some(pid());
    o
}

/// Reads with the callback form until n events came (fails after `timeout`).
fn collect(x: &g::Perfbuf, n: usize, timeout: Duration) -> Vec<(g::PbEvent, u32)> {
    let mut got = Vec::new();
    if n > 0 {
        x.maps()
            .pb_events()
            .unwrap()
            .consume_for(timeout, None, |e, cpu| {
                got.push((*e, cpu));
                if got.len() >= n {
                    ControlFlow::Break(())
                } else {
                    ControlFlow::Continue(())
                }
            })
            .unwrap();
    }
    assert_eq!(got.len(), n, "events received before the timeout");
    got
}

fn cpus() -> Vec<u32> {
    let c = allowed_cpus();
    if c.is_empty() {
        skip("sched_getaffinity gave no CPU");
    }
    c
}

fn before_first_read() {
    let n = spec("before-first-read").get("triggers").usize();
    let x = g::init(&opts()).unwrap();
    trigger(n);
    let (sent, dropped) = (x.bss().unwrap().sent(), x.bss().unwrap().dropped());
    let got = collect(&x, n, Duration::from_secs(2));
    assert_eq!((sent, dropped), (n as u64, 0));
    assert_eq!(
        got.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(),
        (0..n as u64).collect::<Vec<_>>()
    );
}

fn contents() {
    let events = expected("perfbuf").get("events").clone();
    let n = events.items().len();
    let x = g::init(&opts()).unwrap();
    let cpu = cpus()[0];
    on_cpu(cpu, || trigger(n));
    let got = collect(&x, n, Duration::from_secs(5));
    let comm = own_comm();
    for ((e, c), want) in got.iter().zip(events.items()) {
        assert_eq!(*c, cpu);
        if let Err(d) = coolbpf_conformance::same(
            &value_json(&e.to_value()),
            &want.fill(pid(), &comm, cpu),
            "event",
        ) {
            panic!("{d}");
        }
    }
    assert_eq!(
        x.maps().pb_events().unwrap().stats(),
        cb::Stats {
            records: n as u64,
            lost: 0
        }
    );
}

fn two_cpus() {
    let cpus = cpus();
    if cpus.len() < 2 {
        skip(format!("this process may run on {} CPU only", cpus.len()));
    }
    let c = spec("two-cpus");
    let (a, b) = (
        c.get("triggers").get("a").usize(),
        c.get("triggers").get("b").usize(),
    );
    let x = g::init(&opts()).unwrap();
    on_cpu(cpus[0], || trigger(a));
    on_cpu(cpus[1], || trigger(b));
    let got = collect(&x, a + b, Duration::from_secs(5));
    for (e, cpu) in &got {
        assert_eq!((e.seq, e.cpu), (e.seq, *cpu));
    }
    let on = |cpu: u32| {
        got.iter()
            .filter(|(_, c)| *c == cpu)
            .map(|(e, _)| e.seq)
            .collect::<Vec<_>>()
    };
    assert_eq!(on(cpus[0]), (0..a as u64).collect::<Vec<_>>());
    assert_eq!(on(cpus[1]), (a as u64..(a + b) as u64).collect::<Vec<_>>());
}

fn iterate() {
    let n = spec("iterate").get("triggers").usize();
    let x = g::init(&opts()).unwrap();
    trigger(n);
    let stop = cb::StopToken::new();
    let mut seqs = Vec::new();
    for e in x
        .maps()
        .pb_events()
        .unwrap()
        .iter()
        .stop_on(&stop)
        .timeout(Duration::from_secs(5))
    {
        seqs.push(e.unwrap().seq);
        if seqs.len() == n {
            stop.stop();
        }
    }
    assert_eq!(seqs, vec![0, 1, 2]);
}

fn lost() {
    let c = spec("lost");
    let n = c.get("triggers").usize();
    let x = g::init(&opts()).unwrap();
    on_cpu(cpus()[0], || trigger(n));
    let got = collect(&x, n, Duration::from_secs(5));
    assert_eq!(
        got.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(),
        (0..n as u64).collect::<Vec<_>>()
    );
    let e = c.get("expect");
    assert_eq!(
        x.maps().pb_events().unwrap().stats(),
        cb::Stats {
            records: e.get("stats.records").u64(),
            lost: e.get("stats.lost").u64()
        }
    );
    assert_eq!(x.bss().unwrap().dropped(), 0);
}

fn buffer_pages() {
    let c = spec("buffer-pages");
    let n = c.get("triggers").usize();
    let fds = bpf_fd_counts();
    {
        let mut o = opts();
        o.perf_pages.pb_events = Some(c.get("pages").usize());
        let x = g::init(&o).unwrap();
        on_cpu(cpus()[0], || trigger(n));
        let dropped = x.bss().unwrap().dropped() as usize;
        assert!(dropped > 0, "one page per CPU holds fewer than {n} events");
        let got = collect(&x, n - dropped, Duration::from_secs(5));
        assert_eq!(
            got.iter().map(|(e, _)| e.seq).collect::<Vec<_>>(),
            (0..(n - dropped) as u64).collect::<Vec<_>>()
        );
    }
    let before = held();
    let mut o = opts();
    o.perf_pages.pb_events = Some(c.get("badPages").usize());
    let e = g::init(&o).unwrap_err();
    assert_eq!(e.code(), "EINVAL");
    assert!(e.message().contains("pb_events"), "{e}");
    assert_eq!(held().programs, before.programs);
    assert_eq!(bpf_fd_counts(), fds);
}

fn exit_child() {
    let x = g::init(&opts()).unwrap();
    let ev = x.maps().pb_events().unwrap();
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
            test("before-first-read", before_first_read),
            test("contents", contents),
            test("two-cpus", two_cpus),
            test("iterate", iterate),
            test("lost", lost),
            test("buffer-pages", buffer_pages),
            test("exit", exit),
        ],
        kernel_skip_reason(),
    );
}
