//! The Rust column's harness: a test runner that runs each case on the main
//! thread (the BPF programs filter on this process's pid, and the events'
//! tid must be the pid) and prints libtest's lines (`test <case> ... ok`),
//! expect.json, the trigger, CPU pinning, and what this process and the
//! kernel hold (BPF ids behind our fds, bpftool's lists).

pub mod json;

use std::any::Any;
use std::cell::RefCell;
use std::ffi::c_int;
use std::panic::{self, AssertUnwindSafe};
use std::path::PathBuf;
use std::process::Command;
use std::time::{Duration, Instant};

pub use json::{same, Json};

// ---- the harness ---------------------------------------------------------------------

/// A test that cannot run here: `skip("why")` ends it, and it is reported
/// as `ignored, why`.
pub struct Skip(pub String);

pub fn skip(why: impl Into<String>) -> ! {
    panic::panic_any(Skip(why.into()))
}

/// One test: `id` is `<case id>` or `<case id>/<part>`.
pub struct Test {
    pub id: String,
    pub run: Box<dyn Fn()>,
    /// a known gap: the test is expected to fail (it passes when it does; it
    /// fails, saying so, the day it passes)
    pub xfail: Option<&'static str>,
}

pub fn test(id: impl Into<String>, run: impl Fn() + 'static) -> Test {
    Test {
        id: id.into(),
        run: Box::new(run),
        xfail: None,
    }
}

pub fn known_gap(id: impl Into<String>, run: impl Fn() + 'static, why: &'static str) -> Test {
    Test {
        id: id.into(),
        run: Box::new(run),
        xfail: Some(why),
    }
}

thread_local! {
    static PANIC: RefCell<Option<String>> = const { RefCell::new(None) };
}

fn panic_text(p: &(dyn Any + Send)) -> String {
    if let Some(s) = p.downcast_ref::<&str>() {
        (*s).to_string()
    } else if let Some(s) = p.downcast_ref::<String>() {
        s.clone()
    } else {
        "panic".to_string()
    }
}

/// Runs the tests (those named on the command line, when any are), one at a
/// time on this thread, printing what libtest prints; exits 101 on failure.
/// A scenario whose kernel requirements are not met skips every test.
pub fn run(tests: &[Test], skip_all: Option<String>) {
    let args: Vec<String> = std::env::args()
        .skip(1)
        .filter(|a| !a.starts_with('-'))
        .collect();
    if std::env::args().any(|a| a == "--list") {
        for t in tests {
            println!("{}: test", t.id);
        }
        return;
    }
    let chosen: Vec<&Test> = tests
        .iter()
        .filter(|t| args.is_empty() || args.contains(&t.id))
        .collect();
    panic::set_hook(Box::new(|info| {
        let msg = panic_text(info.payload());
        let at = info
            .location()
            .map(|l| format!(" at {}:{}", l.file(), l.line()))
            .unwrap_or_default();
        PANIC.with(|p| *p.borrow_mut() = Some(format!("{msg}{at}")));
    }));
    println!("\nrunning {} tests", chosen.len());
    let t0 = Instant::now();
    let (mut passed, mut failed, mut ignored) = (0, 0, 0);
    let mut failures: Vec<(String, String)> = Vec::new();
    for t in &chosen {
        if let Some(why) = &skip_all {
            println!("test {} ... ignored, {why}", t.id);
            ignored += 1;
            continue;
        }
        PANIC.with(|p| p.borrow_mut().take());
        let r = panic::catch_unwind(AssertUnwindSafe(|| (t.run)()));
        let failure = match r {
            Ok(()) => None,
            Err(p) => match p.downcast::<Skip>() {
                Ok(s) => {
                    println!("test {} ... ignored, {}", t.id, s.0);
                    ignored += 1;
                    continue;
                }
                Err(p) => Some(
                    PANIC
                        .with(|x| x.borrow_mut().take())
                        .unwrap_or_else(|| panic_text(&*p)),
                ),
            },
        };
        match (failure, t.xfail) {
            (None, None) => {
                println!("test {} ... ok", t.id);
                passed += 1;
            }
            (Some(f), None) => {
                println!("test {} ... FAILED", t.id);
                failures.push((t.id.clone(), f));
                failed += 1;
            }
            (Some(_), Some(_)) => {
                println!("test {} ... ok", t.id);
                passed += 1;
            }
            (None, Some(why)) => {
                println!("test {} ... FAILED", t.id);
                failures.push((
                    t.id.clone(),
                    format!("a known gap passes now (remove known_gap): {why}"),
                ));
                failed += 1;
            }
        }
    }
    if !failures.is_empty() {
        println!("\nfailures:\n");
        for (id, f) in &failures {
            println!("---- {id} stdout ----\n{f}\n");
        }
        println!("failures:");
        for (id, _) in &failures {
            println!("    {id}");
        }
    }
    let status = if failed == 0 { "ok" } else { "FAILED" };
    println!(
        "\ntest result: {status}. {passed} passed; {failed} failed; {ignored} ignored; 0 measured; {} filtered out; finished in {:.2}s\n",
        tests.len() - chosen.len(),
        t0.elapsed().as_secs_f64()
    );
    if failed > 0 {
        std::process::exit(101);
    }
}

// ---- scenarios ------------------------------------------------------------------------

pub fn pkg_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A scenario's expect.json.
pub fn expected(scenario: &str) -> Json {
    let p = pkg_dir()
        .join("scenarios")
        .join(scenario)
        .join("expect.json");
    json::parse(&std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())))
        .unwrap()
}

/// Paths of a built scenario: (dir, bpf.o, bpf.so).
pub fn built(scenario: &str) -> (PathBuf, PathBuf, PathBuf) {
    let dir = pkg_dir().join("build").join(scenario);
    (dir.clone(), dir.join("bpf.o"), dir.join("bpf.so"))
}

extern "C" {
    fn geteuid() -> u32;
    fn sched_getaffinity(pid: c_int, size: usize, mask: *mut u64) -> c_int;
    fn sched_setaffinity(pid: c_int, size: usize, mask: *const u64) -> c_int;
}

/// Why the scenarios cannot run here, if they cannot.
pub fn kernel_skip_reason() -> Option<String> {
    // SAFETY: no preconditions.
    if unsafe { geteuid() } != 0 {
        return Some("loading BPF needs root (run the tests as root, as CI does)".into());
    }
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF (/sys/kernel/btf/vmlinux)".into());
    }
    if !std::path::Path::new("/sys/kernel/tracing/events/syscalls/sys_enter_getppid").exists() {
        return Some("no syscalls/sys_enter_getppid tracepoint (tracefs not mounted at /sys/kernel/tracing, or no syscall tracepoints)".into());
    }
    None
}

pub fn pid() -> u32 {
    std::process::id()
}

/// `n` getppid(2) calls from this thread (what every scenario's programs count).
pub fn trigger(n: usize) {
    for _ in 0..n {
        std::hint::black_box(std::os::unix::process::parent_id());
    }
}

/// This process's main thread's comm: what bpf_get_current_comm() gives for its system calls.
pub fn own_comm() -> String {
    std::fs::read_to_string(format!("/proc/{0}/task/{0}/comm", pid()))
        .unwrap()
        .trim_end_matches('\n')
        .to_string()
}

// ---- CPUs -------------------------------------------------------------------------------

const MASK_WORDS: usize = 16;

/// The CPUs this thread may run on.
pub fn allowed_cpus() -> Vec<u32> {
    let mut mask = [0u64; MASK_WORDS];
    // SAFETY: a 1024-bit mask for the calling thread.
    if unsafe { sched_getaffinity(0, std::mem::size_of_val(&mask), mask.as_mut_ptr()) } != 0 {
        return Vec::new();
    }
    (0..MASK_WORDS as u32 * 64)
        .filter(|c| mask[*c as usize / 64] >> (c % 64) & 1 == 1)
        .collect()
}

fn set_affinity(cpus: &[u32]) {
    let mut mask = [0u64; MASK_WORDS];
    for c in cpus {
        mask[*c as usize / 64] |= 1 << (c % 64);
    }
    // SAFETY: a 1024-bit mask for the calling thread.
    let r = unsafe { sched_setaffinity(0, std::mem::size_of_val(&mask), mask.as_ptr()) };
    assert_eq!(
        r,
        0,
        "sched_setaffinity: {}",
        std::io::Error::last_os_error()
    );
}

/// Runs `f` with this thread pinned to `cpu` (the kernel moves it there
/// before sched_setaffinity returns), then restores its affinity.
pub fn on_cpu<T>(cpu: u32, f: impl FnOnce() -> T) -> T {
    let before = allowed_cpus();
    set_affinity(&[cpu]);
    let r = panic::catch_unwind(AssertUnwindSafe(f));
    set_affinity(&before);
    match r {
        Ok(v) => v,
        Err(p) => panic::resume_unwind(p),
    }
}

/// CPUs in /sys/devices/system/cpu/possible ("0-3,8").
pub fn possible_cpus() -> usize {
    let text = std::fs::read_to_string("/sys/devices/system/cpu/possible").unwrap();
    text.trim()
        .split(',')
        .map(|part| match part.split_once('-') {
            Some((a, b)) => b.parse::<usize>().unwrap() - a.parse::<usize>().unwrap() + 1,
            None => 1,
        })
        .sum()
}

// ---- what this process holds, what the kernel has ----------------------------------------

/// The BPF objects behind this process's file descriptors (kernel ids), and fd counts by kind.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Held {
    pub programs: Vec<u32>,
    pub maps: Vec<u32>,
    pub links: Vec<u32>,
    pub kinds: Vec<(String, usize)>,
}

pub fn held() -> Held {
    let mut out = Held::default();
    for e in std::fs::read_dir("/proc/self/fd").unwrap().flatten() {
        let Ok(target) = std::fs::read_link(e.path()) else {
            continue;
        };
        let target = target.to_string_lossy().into_owned();
        if !target.starts_with("anon_inode:") {
            continue;
        }
        match out.kinds.iter_mut().find(|(k, _)| *k == target) {
            Some(k) => k.1 += 1,
            None => out.kinds.push((target.clone(), 1)),
        }
        let info = std::fs::read_to_string(format!(
            "/proc/self/fdinfo/{}",
            e.file_name().to_string_lossy()
        ))
        .unwrap_or_default();
        let id = |key: &str| {
            info.lines().find_map(|l| {
                l.strip_prefix(key)
                    .and_then(|r| r.strip_prefix(':'))
                    .and_then(|r| r.trim().parse::<u32>().ok())
            })
        };
        let push = |list: &mut Vec<u32>, v: Option<u32>| {
            if let Some(v) = v {
                if !list.contains(&v) {
                    list.push(v);
                }
            }
        };
        match target.as_str() {
            "anon_inode:bpf-prog" => push(&mut out.programs, id("prog_id")),
            "anon_inode:bpf-map" => push(&mut out.maps, id("map_id")),
            "anon_inode:bpf_link" => push(&mut out.links, id("link_id")),
            _ => {}
        }
    }
    out.programs.sort_unstable();
    out.maps.sort_unstable();
    out.links.sort_unstable();
    out.kinds.sort();
    out
}

/// BPF fds this process holds now: programs, maps, links, perf events, epoll instances.
pub fn bpf_fd_counts() -> [usize; 5] {
    let k = held().kinds;
    let n = |name: &str| k.iter().find(|(x, _)| x == name).map_or(0, |x| x.1);
    [
        n("anon_inode:bpf-prog"),
        n("anon_inode:bpf-map"),
        n("anon_inode:bpf_link"),
        n("anon_inode:[perf_event]"),
        n("anon_inode:[eventpoll]"),
    ]
}

/// `bpftool -j <what> show`: (id, name) of every program, map or link.
pub fn bpftool(what: &str) -> Vec<(u32, String)> {
    let out = Command::new("bpftool")
        .args(["-j", what, "show"])
        .output()
        .expect("bpftool");
    let text = String::from_utf8_lossy(&out.stdout);
    let j = json::parse(if text.trim().is_empty() {
        "[]"
    } else {
        text.trim()
    })
    .expect("bpftool's JSON");
    j.items()
        .iter()
        .map(|e| {
            (
                e.get("id").int() as u32,
                e.opt("name")
                    .map(|n| n.str().to_string())
                    .unwrap_or_default(),
            )
        })
        .collect()
}

/// Which of these ids are still in the kernel's lists, once none is or after
/// `timeout` (the kernel frees them after an RCU grace period).
pub fn still_in_kernel(
    programs: &[u32],
    maps: &[u32],
    links: &[u32],
    timeout: Duration,
) -> (Vec<u32>, Vec<u32>, Vec<u32>) {
    let deadline = Instant::now() + timeout;
    loop {
        let (p, m, l) = (bpftool("prog"), bpftool("map"), bpftool("link"));
        let left = |ids: &[u32], list: &[(u32, String)]| {
            ids.iter()
                .copied()
                .filter(|i| list.iter().any(|(x, _)| x == i))
                .collect::<Vec<_>>()
        };
        let r = (left(programs, &p), left(maps, &m), left(links, &l));
        if (r.0.is_empty() && r.1.is_empty() && r.2.is_empty()) || Instant::now() > deadline {
            return r;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// The kernel's programs whose names start with `prefix`, once there are none or after `timeout`.
pub fn programs_named(prefix: &str, timeout: Duration) -> Vec<String> {
    let deadline = Instant::now() + timeout;
    loop {
        let left: Vec<String> = bpftool("prog")
            .into_iter()
            .map(|(_, n)| n)
            .filter(|n| n.starts_with(prefix))
            .collect();
        if left.is_empty() || Instant::now() > deadline {
            return left;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until `pred` holds (panics after `timeout`).
pub fn until(mut pred: impl FnMut() -> bool, what: &str, timeout: Duration) {
    let deadline = Instant::now() + timeout;
    while !pred() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(5));
    }
}

/// Asserts that a wrapper's value (its `to_json()`) equals expect.json's.
pub fn assert_same(got_json: &str, want: &Json, what: &str) {
    let got = json::parse(got_json)
        .unwrap_or_else(|e| panic!("{what}: the wrapper's JSON does not parse ({e}): {got_json}"));
    if let Err(e) = same(&got, want, what) {
        panic!("{e}");
    }
}

/// Defines, in the calling test file, conversions between expect.json and the
/// `Value` of the scenario's crate (imported there as `cb`):
/// `from_json(&Json, like: &cb::Value) -> cb::Value` shapes the JSON after a
/// decoded value of the same type (integers where it has integers, bytes
/// where it has bytes); `value_json(&cb::Value) -> Json`.
#[macro_export]
macro_rules! value_json {
    () => {
        #[allow(dead_code)]
        fn from_json(j: &$crate::Json, like: &cb::Value) -> cb::Value {
            use $crate::Json;
            match (j, like) {
                (Json::Obj(o), cb::Value::Struct(fields)) => cb::Value::Struct(
                    o.iter()
                        .map(|(k, v)| {
                            let (name, l) = fields
                                .iter()
                                .find(|(n, _)| *n == k.as_str())
                                .unwrap_or_else(|| panic!("no field '{k}'"));
                            (*name, from_json(v, l))
                        })
                        .collect(),
                ),
                (Json::Arr(a), cb::Value::List(l)) => {
                    cb::Value::List(a.iter().map(|x| from_json(x, &l[0])).collect())
                }
                (Json::Bool(b), _) => cb::Value::Bool(*b),
                (Json::Str(s), cb::Value::Str(_)) => cb::Value::Str(s.clone()),
                (_, cb::Value::Float(_)) => cb::Value::Float(j.f64()),
                (_, cb::Value::Bool(_)) => cb::Value::Bool(j.int() != 0),
                (_, cb::Value::UInt(_)) => cb::Value::UInt(u128::try_from(j.int()).unwrap()),
                (_, cb::Value::Int(_)) => cb::Value::Int(j.int()),
                _ => panic!("cannot shape {j} after {like}"),
            }
        }

        #[allow(dead_code)]
        fn value_json(v: &cb::Value) -> $crate::Json {
            $crate::json::parse(&v.to_json()).unwrap()
        }
    };
}

/// The `exit` case's parent side: runs this test binary again as the child
/// (`COOLBPF_EXIT_CHILD=1`, case `exit`), which must end by itself within
/// `expect.withinMs` with `expect.exitCode`, an empty stderr, and `line` among
/// its stdout lines.
pub fn expect_child_exits(want: &Json, line: &str) {
    let t0 = std::time::Instant::now();
    let mut child = std::process::Command::new(std::env::current_exe().unwrap())
        .arg("exit")
        .env("COOLBPF_EXIT_CHILD", "1")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let limit = Duration::from_millis(want.get("withinMs").u64());
    let status = loop {
        if let Some(s) = child.try_wait().unwrap() {
            break s;
        }
        if t0.elapsed() > limit {
            child.kill().unwrap();
            panic!("the child is still running after {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(
        (
            status.code(),
            String::from_utf8_lossy(&out.stderr).to_string()
        ),
        (Some(want.get("exitCode").int() as i32), String::new())
    );
    assert!(stdout.lines().any(|l| l == line), "{stdout}");
}
