//! The library's output against tests/expected/ (what every language's app
//! prints for the same input), and option parsing.

use tcpjitter::{format_event, parse_options, render_histogram, Options, SlowRead};

fn expected(name: &str) -> String {
    let path = format!("{}/../tests/expected/{name}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    text.strip_suffix('\n').unwrap_or(&text).to_string()
}

fn addr(prefix: &[u8]) -> [u8; 16] {
    let mut a = [0u8; 16];
    a[..prefix.len()].copy_from_slice(prefix);
    a
}

fn args(xs: &[&str]) -> Vec<String> {
    xs.iter().map(|s| s.to_string()).collect()
}

#[test]
fn events() {
    let ev4 = SlowRead {
        ts_ns: 123456789012,
        delay_ns: 1000265000,
        pid: 4242,
        queue_cpu: 1,
        read_cpu: 0,
        family: 2,
        sport: 47001,
        dport: 49246,
        saddr: addr(&[127, 0, 0, 1]),
        daddr: addr(&[10, 199, 0, 2]),
        comm: "python3".into(),
    };
    let ev6 = SlowRead {
        ts_ns: 5,
        delay_ns: 150000000,
        pid: 1,
        queue_cpu: 0,
        read_cpu: 1,
        family: 10,
        sport: 443,
        dport: 50000,
        saddr: addr(&[0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]),
        daddr: addr(&[0xfe, 0x80, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 2]),
        comm: "srv \"x\"\\".into(),
    };
    for (name, ev) in [("event4", &ev4), ("event6", &ev6)] {
        assert_eq!(format_event(ev, false), expected(&format!("{name}.txt")));
        assert_eq!(format_event(ev, true), expected(&format!("{name}.json")));
    }
}

#[test]
fn histograms() {
    let mut counts = [0u64; 32];
    counts[0] = 3;
    counts[3] = 1;
    counts[19] = 2;
    assert_eq!(render_histogram(&counts, false), expected("histogram.txt"));
    assert_eq!(render_histogram(&counts, true), expected("histogram.json"));
    assert_eq!(
        render_histogram(&[0; 32], false),
        expected("histogram-empty.txt")
    );
    assert_eq!(
        render_histogram(&[0; 32], true),
        expected("histogram-empty.json")
    );
}

#[test]
fn options() {
    assert_eq!(parse_options(&[]), Ok(Options::default()));
    let all = parse_options(&args(&[
        "--threshold",
        "2.5",
        "--port",
        "8080",
        "--duration",
        "3",
        "--interval",
        "1",
        "--json",
    ]));
    let want = Options {
        threshold_ms: 2.5,
        port: 8080,
        duration_s: 3.0,
        interval_s: 1.0,
        json: true,
    };
    assert_eq!(all, Ok(want));
    for (bad, message) in [
        (&["--port", "70000"][..], "--port"),
        (&["--port", "1.5"][..], "--port: expected an integer"),
        (&["--threshold"][..], "got nothing"),
        (&["--threshold", "-1"][..], "--threshold"),
        (&["--bogus"][..], "unknown argument: --bogus"),
    ] {
        let err = parse_options(&args(bad)).expect_err(message);
        assert!(err.contains(message), "{bad:?}: {err}");
    }
}
