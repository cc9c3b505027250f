//! errors: what fails, with which code, naming what; a failed init leaves
//! nothing loaded.
//!
//! Rust differences: `load(self)` of the typed opened object consumes it
//! (a failed load destroys it), so "load again" uses the runtime object
//! underneath, which refuses it with `ESTATE`.

use std::process::Command;
use std::time::Duration;

use coolbpf_conformance::{
    bpf_fd_counts, built, expected, held, kernel_skip_reason, pid, programs_named, run, skip, test,
    trigger, Json,
};
use errors as g;

fn spec(id: &str) -> Json {
    expected("errors").case(id).clone()
}

fn opts() -> g::InitOptions {
    let mut o = g::InitOptions::default();
    o.rodata.target_tgid = Some(pid());
    o
}

fn sha256(path: &std::path::Path) -> String {
    let out = Command::new("sha256sum")
        .arg(path)
        .output()
        .expect("sha256sum");
    String::from_utf8_lossy(&out.stdout)
        .split_whitespace()
        .next()
        .unwrap()
        .to_string()
}

/// Runs a failing init and checks that it left nothing: no new BPF fds here, none of our programs in the kernel.
fn fails_cleanly(f: impl FnOnce() -> g::Result<g::Errors>, code: &str) -> g::Error {
    let fds = bpf_fd_counts();
    let before = held();
    let e = match f() {
        Ok(_) => panic!("expected {code}, init succeeded"),
        Err(e) => e,
    };
    assert_eq!(e.code(), code, "{e}");
    assert_eq!(bpf_fd_counts(), fds);
    assert_eq!(held(), before);
    assert_eq!(
        programs_named("er_", Duration::from_secs(10)),
        Vec::<String>::new()
    );
    e
}

fn strs(j: &Json) -> Vec<String> {
    j.items().iter().map(|s| s.str().to_string()).collect()
}

fn verifier() {
    let c = spec("verifier");
    let want = c.get("expect");
    let mut o = opts();
    o.autoload.er_bad = Some(true);
    let e = fails_cleanly(|| g::init(&o), want.get("code").str());
    assert_eq!(e.errno(), 13);
    for n in strs(want.get("messageNames")) {
        assert!(e.message().lines().next().unwrap().contains(&n), "{e}");
    }
    for l in strs(want.get("verifierLog")) {
        assert!(e.detail().contains(&l), "{l} not in the log: {e}");
    }
    assert!(e.message().contains(e.detail()));

    // step by step: the same from load(), which cannot be retried
    let opened = g::open(&opts()).unwrap();
    opened.programs().er_bad().set_autoload(true).unwrap();
    let object = opened.into_object();
    assert_eq!(object.load().unwrap_err().code(), want.get("code").str());
    let again = object.load().unwrap_err();
    assert_eq!(again.code(), "ESTATE");
    assert!(again.message().contains("destroy()"), "{again}");
    // and through the typed handle: load(self) fails, and nothing stays
    let opened = g::open(&opts()).unwrap();
    opened.programs().er_bad().set_autoload(true).unwrap();
    assert_eq!(opened.load().unwrap_err().code(), want.get("code").str());
}

fn missing_tracepoint_auto() {
    let want = spec("missing-tracepoint-auto").get("expect").clone();
    let mut o = opts();
    o.autoload.er_no_tp = Some(true);
    let e = fails_cleanly(|| g::init(&o), want.get("code").str());
    for n in strs(want.get("messageNames")) {
        assert!(e.message().contains(&n), "{n}: {e}");
    }
}

fn missing_tracepoint_explicit() {
    let c = spec("missing-tracepoint-explicit");
    let want = c.get("expect");
    let t = c.get("target").items();
    let x = g::init(&opts()).unwrap();
    let e = x
        .programs()
        .er_manual()
        .attach_tracepoint(t[0].str(), t[1].str())
        .unwrap_err();
    assert_eq!(e.code(), want.get("code").str());
    for n in strs(want.get("messageNames")) {
        assert!(e.message().contains(&n), "{n}: {e}");
    }
    assert_eq!(x.object().state().as_str(), "attached");
    trigger(c.get("triggers").usize());
    assert_eq!(x.bss().unwrap().ok_hits(), want.get("bss.ok_hits").u64());
}

fn not_loaded() {
    let want = spec("not-loaded").get("expect").clone();
    let x = g::init(&opts()).unwrap();
    let e = x
        .programs()
        .er_no_tp()
        .attach_tracepoint("syscalls", "sys_enter_getppid")
        .unwrap_err();
    assert_eq!(e.code(), want.get("code").str());
    for n in strs(want.get("messageNames")) {
        assert!(e.message().contains(&n), "{n}: {e}");
    }
}

fn maps() {
    let c = spec("maps");
    let want = c.get("expect");
    let k = c.get("key").int() as u32;
    let x = g::init(&opts()).unwrap();
    let kv = x.maps().er_kv().unwrap();
    assert_eq!(kv.get(&k).unwrap(), None); // absent: not an error
    assert_eq!(kv.contains(&k).unwrap(), want.get("has").bool());
    assert_eq!(kv.delete(&k).unwrap(), want.get("delete").bool());
    kv.set(&k, &1).unwrap();
    let e = kv.update(&k, &2, 1).unwrap_err();
    assert_eq!(e.code(), want.get("NOEXIST on existing").str());
    for n in strs(want.get("messageNames")) {
        assert!(e.message().contains(&n), "{n}: {e}");
    }
    assert_eq!(kv.get(&k).unwrap(), Some(1));
}

fn wrong_so() {
    let c = spec("wrong-so");
    let (other_dir, other_o, other_so) = built(c.get("otherScenario").str());
    let (_, ours_o, _) = built("errors");
    let (ours, theirs) = (sha256(&ours_o), sha256(&other_o));
    assert_eq!(g::OBJECT_SHA256, ours);
    assert_ne!(theirs, ours);
    let check = |e: g::Error| {
        assert_eq!(e.code(), "EMISMATCH", "{e}");
        assert!(
            e.message().contains(&ours) && e.message().contains(&theirs),
            "{e}"
        );
        assert!(
            e.message()
                .contains(&*other_so.canonicalize().unwrap().to_string_lossy()),
            "{e}"
        );
    };
    check(
        g::open(&g::InitOptions {
            so_path: Some(other_so.clone()),
            ..Default::default()
        })
        .unwrap_err(),
    );
    let saved = std::env::var_os("COOLBPF_BPF_SO");
    std::env::set_var("COOLBPF_BPF_SO", &other_so);
    let r = g::init(&opts());
    match saved {
        Some(s) => std::env::set_var("COOLBPF_BPF_SO", s),
        None => std::env::remove_var("COOLBPF_BPF_SO"),
    }
    check(r.unwrap_err());
    let missing = other_dir.join("no-such-bpf.so");
    let e = g::open(&g::InitOptions {
        so_path: Some(missing.clone()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.code(), c.get("expect").get("missingFile").str());
    assert!(e.message().contains(&*missing.to_string_lossy()), "{e}");
    // the right one (the copy embedded in the crate) still works
    let x = g::init(&opts()).unwrap();
    trigger(1);
    assert_eq!(x.bss().unwrap().ok_hits(), 1);
}

fn fentry() {
    let c = spec("fentry");
    let mut o = opts();
    o.autoload.er_fentry = Some(true);
    let x = match g::init(&o) {
        Ok(x) => x,
        Err(e) if ["EPERM", "ENOTSUPP", "EOPNOTSUPP", "ESRCH"].contains(&e.code()) => {
            skip(format!(
                "the kernel refused it: {}: {}",
                e.code(),
                e.message().lines().next().unwrap_or("")
            ))
        }
        Err(e) => panic!("{e}"),
    };
    trigger(c.get("triggers").usize());
    assert!(x.bss().unwrap().fentry_hits() >= c.get("triggers").u64());
}

fn exports() {
    // the crate's own error type (what every call returns) and the update flags
    let e: g::Error = g::open(&g::InitOptions {
        so_path: Some("/nonexistent".into()),
        ..Default::default()
    })
    .unwrap_err();
    assert_eq!(e.code(), "ENOENT");
    let as_std: &dyn std::error::Error = &e;
    assert!(as_std.to_string().contains("/nonexistent"));
    assert_eq!([g::BPF_ANY, g::BPF_NOEXIST, g::BPF_EXIST], [0, 1, 2]);
    let _: fn(&g::InitOptions) -> g::Result<g::Errors> = g::init;
}

fn main() {
    run(
        &[
            test("verifier", verifier),
            test("missing-tracepoint-auto", missing_tracepoint_auto),
            test("missing-tracepoint-explicit", missing_tracepoint_explicit),
            test("not-loaded", not_loaded),
            test("maps", maps),
            test("wrong-so", wrong_so),
            test("fentry", fentry),
            test("exports", exports),
        ],
        kernel_skip_reason(),
    );
}
