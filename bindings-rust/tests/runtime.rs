//! The runtime on the running kernel, through the bpf.so of
//! packages/runtime-tests/bpf/rt.bpf.c (built by `coolbpf-gen build`; its
//! path in `$COOLBPF_RT_SO`). Run one test at a time (`--test-threads=1`):
//! the programs count this process's system calls.
//!
//! A test that cannot run here prints `skipped: <test>: <reason>` and returns.

use std::ffi::c_int;
use std::ops::ControlFlow;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use coolbpf::{
    CharArray, Error, Expected, IterMode, Library, Object, OpenOptions, PerCpuMap, Pod, Reflect,
    State, StopToken, TypedEvents, TypedMap, UprobeTarget, Value, BPF_EXIST, BPF_NOEXIST,
};

extern "C" {
    fn getpgid(pid: c_int) -> c_int;
    fn getsid(pid: c_int) -> c_int;
}

/// struct rt_event of rt.bpf.c
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct RtEvent {
    kind: u32,
    tag: u32,
    pid: u32,
    cpu: u32,
    value: u64,
    flag: u64,
}
unsafe impl Pod for RtEvent {}

/// struct kv_value of rt.bpf.c (20 bytes of fields, 4 of tail padding)
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Default)]
struct KvValue {
    a: u64,
    b: u32,
    name: CharArray<8>,
    pad: [u8; 4],
}
unsafe impl Pod for KvValue {}

const KIND_TP: u32 = 1;
const KIND_TP_BTF: u32 = 2;
const KIND_RAW_TP: u32 = 3;
const KIND_UPROBE: u32 = 4;

fn skip_reason() -> Option<String> {
    // SAFETY: getuid has no preconditions.
    extern "C" {
        fn geteuid() -> u32;
    }
    if unsafe { geteuid() } != 0 {
        return Some("loading BPF needs root".into());
    }
    if !std::path::Path::new("/sys/kernel/btf/vmlinux").exists() {
        return Some("the kernel has no BTF".into());
    }
    match std::env::var_os("COOLBPF_RT_SO") {
        None => {
            Some("COOLBPF_RT_SO is not set (the vitest wrapper builds rt.bpf.c and sets it)".into())
        }
        Some(p) if !PathBuf::from(&p).exists() => {
            Some(format!("{} does not exist", PathBuf::from(p).display()))
        }
        Some(_) => None,
    }
}

macro_rules! need_kernel {
    ($name:expr) => {
        if let Some(why) = skip_reason() {
            println!("skipped: {}: {why}", $name);
            return;
        }
    };
}

fn so() -> PathBuf {
    PathBuf::from(std::env::var_os("COOLBPF_RT_SO").unwrap())
}

fn lib() -> Arc<Library> {
    Library::load(so(), None).expect("load rt bpf.so")
}

fn pid() -> u32 {
    std::process::id()
}

/// Opens rt with target_tgid = our pid and tag set (offsets: target_tgid 0, tag 4 in .rodata).
fn open(tag: u32) -> Object {
    let o = lib().open(&OpenOptions::default()).unwrap();
    let ro = o.section_mut(".rodata").unwrap();
    let off = |name: &str| match name {
        "target_tgid" => 0,
        _ => 4,
    };
    ro.set(off("target_tgid"), pid());
    ro.set(off("tag"), tag);
    o
}

fn init(tag: u32) -> Object {
    let o = open(tag);
    o.load().unwrap();
    o.attach().unwrap();
    o
}

fn trigger(n: usize) {
    for _ in 0..n {
        let _ = std::os::unix::process::parent_id();
    }
}

fn err<T: std::fmt::Debug>(r: coolbpf::Result<T>) -> Error {
    r.expect_err("expected an error")
}

#[test]
fn library_identity_and_refusals() {
    need_kernel!("library_identity_and_refusals");
    let a = lib();
    let b = Library::load(so(), None).unwrap();
    assert!(Arc::ptr_eq(&a, &b), "one Library per file");
    assert_eq!(a.abi_version(), coolbpf::ABI_VERSION);
    assert_eq!(a.object_sha256().len(), 64);
    assert!(a
        .object_sha256()
        .chars()
        .all(|c| c.is_ascii_hexdigit() && !c.is_ascii_uppercase()));

    let sha = a.object_sha256().to_string();
    let good = Expected {
        abi_version: 1,
        sha256: Box::leak(sha.clone().into_boxed_str()),
    };
    Library::load(so(), Some(&good)).unwrap();
    let other = "0".repeat(64);
    let bad = Expected {
        abi_version: 1,
        sha256: Box::leak(other.clone().into_boxed_str()),
    };
    let e = err(Library::load(so(), Some(&bad)));
    assert_eq!(e.code(), "EMISMATCH");
    assert!(
        e.message().contains(&sha) && e.message().contains(&other),
        "{e}"
    );
    let e = err(Library::load(
        so(),
        Some(&Expected {
            abi_version: 2,
            sha256: good.sha256,
        }),
    ));
    assert_eq!(e.code(), "EMISMATCH");
    assert!(e.message().contains("ABI version 1, expected 2"), "{e}");

    let e = err(Library::load("/nonexistent/bpf.so", None));
    assert_eq!((e.code(), e.errno()), ("ENOENT", 2));
    assert!(e.message().contains("/nonexistent/bpf.so"));
    let text = std::env::temp_dir().join(format!("coolbpf-rs-not-elf-{}", pid()));
    std::fs::write(&text, b"not an ELF file").unwrap();
    let e = err(Library::load(&text, None));
    assert_eq!(e.code(), "ELIBBAD", "{e}");
    std::fs::remove_file(&text).unwrap();
    for libz in [
        "/lib/x86_64-linux-gnu/libz.so.1",
        "/usr/lib/x86_64-linux-gnu/libz.so.1",
    ] {
        if std::path::Path::new(libz).exists() {
            let e = err(Library::load(libz, None));
            assert_eq!(e.code(), "EMISMATCH");
            assert!(e.message().contains("not a coolbpf bpf.so"), "{e}");
            break;
        }
    }

    // the same object from bytes (what generated crates embed)
    let bytes: &'static [u8] = Box::leak(std::fs::read(so()).unwrap().into_boxed_slice());
    let emb = Library::load_embedded("rt", bytes, Some(&good)).unwrap();
    assert_eq!(emb.object_sha256(), sha);
    assert!(Arc::ptr_eq(
        &emb,
        &Library::load_embedded("rt", bytes, None).unwrap()
    ));
    // another copy of the bytes: another library (another memfd, kept open), working as well
    let copy: &'static [u8] = Box::leak(bytes.to_vec().into_boxed_slice());
    let emb2 = Library::load_embedded("rt2", copy, Some(&good)).unwrap();
    assert!(!Arc::ptr_eq(&emb, &emb2));
    assert_ne!(emb.path(), emb2.path());
    emb2.open(&OpenOptions::default()).unwrap().load().unwrap();
    let mut o = emb.open(&OpenOptions::default()).unwrap();
    o.load().unwrap();
    o.destroy();
    assert!(a.possible_cpus().unwrap() >= 1);
}

#[test]
fn lifecycle_states_and_errors() {
    need_kernel!("lifecycle_states_and_errors");
    let mut o = open(1);
    assert_eq!(o.state(), State::Opened);
    assert_eq!(err(o.attach()).code(), "ESTATE");
    assert_eq!(err(o.map("rt_kv")).code(), "ESTATE");
    assert_eq!(err(o.events("rt_events")).code(), "ESTATE");
    o.load().unwrap();
    assert_eq!(o.state(), State::Loaded);
    let e = err(o.load());
    assert_eq!(e.code(), "ESTATE");
    assert!(e.message().contains("already loaded"), "{e}");
    assert_eq!(err(o.set_initial(".rodata", 0, &[1])).code(), "ESTATE");
    assert_eq!(err(o.set_autoload("on_tp", false)).code(), "ESTATE");
    let e = err(o.section_mut(".rodata"));
    assert_eq!(e.code(), "ESTATE");
    assert!(e.message().contains("read-only after load"), "{e}");
    assert_eq!(o.section(".rodata").unwrap().get::<u32>(0), pid());
    o.attach().unwrap();
    assert_eq!(o.state(), State::Attached);
    assert_eq!(err(o.attach()).code(), "ESTATE");
    o.destroy();
    o.destroy();
    assert_eq!(o.state(), State::Destroyed);
    for e in [
        err(o.attach()),
        err(o.load()),
        err(o.map("rt_kv").map(|_| ())),
        err(o.section(".bss").map(|_| ())),
    ] {
        assert_eq!(e.code(), "EDESTROYED", "{e}");
    }

    // a verifier rejection: EACCES naming the program, the log's tail; load cannot be retried
    let o = open(1);
    o.set_autoload("bad_prog", true).unwrap();
    assert_eq!(o.autoload_set("bad_prog"), Some(true));
    let e = err(o.load());
    assert_eq!((e.code(), e.errno()), ("EACCES", 13));
    assert!(
        e.message().lines().next().unwrap().contains("bad_prog"),
        "{e}"
    );
    assert!(!e.detail().is_empty() && e.message().contains(e.detail()));
    let again = err(o.load());
    assert_eq!(again.code(), "ESTATE");
    assert!(again.message().contains("destroy()"), "{again}");
    drop(o);

    // a tracepoint that does not exist: attach fails, the object stays loaded and usable
    let o = open(1);
    o.set_autoload("missing_tp", true).unwrap();
    o.load().unwrap();
    let e = err(o.attach());
    assert_eq!(e.code(), "ENOENT", "{e}");
    assert!(e.message().contains("missing_tp"), "{e}");
    assert_eq!(o.state(), State::Loaded);
    let e = err(o.attach_tracepoint("on_tp", "syscalls", "sys_enter_coolbpf_nope"));
    assert_eq!(e.code(), "ENOENT");
    assert!(e.message().contains("sys_enter_coolbpf_nope"), "{e}");
    assert_eq!(err(o.map("no_such_map")).code(), "ENOENT");
    assert_eq!(err(o.section(".nope")).code(), "ENOENT");
    assert_eq!(
        err(lib().open(&OpenOptions {
            log_level: 3,
            ..Default::default()
        }))
        .code(),
        "EINVAL"
    );
}

#[test]
fn ring_and_perf_buffers() {
    need_kernel!("ring_and_perf_buffers");
    let o = init(7);
    // the perf buffer first: its reader must exist before BPF sends
    let perf: TypedEvents<RtEvent> = TypedEvents::of(&o, "rt_pevents").unwrap();
    let ring: TypedEvents<RtEvent> = TypedEvents::of(&o, "rt_events").unwrap();
    trigger(5);
    let mut got = Vec::new();
    while got.len() < 5 {
        let n = ring
            .poll(Duration::from_secs(5), |e, cpu| got.push((*e, cpu)))
            .unwrap();
        assert!(n > 0, "timed out");
    }
    assert_eq!(got.len(), 5);
    for (e, cpu) in &got {
        assert_eq!(
            (e.kind, e.tag, e.pid, e.flag, *cpu),
            (KIND_TP, 7, pid(), 0x100, 0)
        );
    }
    let mut pgot = Vec::new();
    let t0 = Instant::now();
    while pgot.len() < 5 && t0.elapsed() < Duration::from_secs(5) {
        perf.poll(Duration::from_millis(200), |e, cpu| pgot.push((*e, cpu)))
            .unwrap();
    }
    assert_eq!(pgot.len(), 5);
    for (e, cpu) in &pgot {
        assert_eq!((e.kind, e.tag, e.cpu), (KIND_TP, 7, *cpu));
    }
    assert_eq!(perf.stats().lost, 0);
    assert_eq!(ring.stats().records, 5);

    // .data written live reaches BPF (copied into the events)
    o.section_mut(".data").unwrap().set::<u64>(0, 0xabc);
    trigger(1);
    let e = ring
        .iter()
        .timeout(Duration::from_secs(5))
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(e.flag, 0xabc);

    // nothing waiting: poll and the iterator end at their timeouts
    let t0 = Instant::now();
    assert_eq!(ring.poll(Duration::from_millis(100), |_, _| ()).unwrap(), 0);
    assert!(t0.elapsed() >= Duration::from_millis(95));
    assert_eq!(ring.iter().timeout(Duration::from_millis(50)).count(), 0);

    // consume until stopped from another thread; records after a break stay queued
    let stop = StopToken::new();
    let seen = std::thread::scope(|s| {
        let st = stop.clone();
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            st.stop();
        });
        let mut seen = 0;
        let end = ring.consume(&stop, |_, _| {
            seen += 1;
            ControlFlow::Continue(())
        });
        assert_eq!(end.unwrap(), coolbpf::End::Stopped);
        seen
    });
    assert_eq!(seen, 0);
    // stopped before anything waited (the token's eventfd is made on first wait): returns at once
    let early = StopToken::new();
    early.stop();
    assert_eq!(
        ring.consume(&early, |_, _| ControlFlow::Continue(()))
            .unwrap(),
        coolbpf::End::Stopped
    );
    // stopped from the callback, with nothing more to read: returns instead of waiting
    trigger(1);
    let own = StopToken::new();
    let end = ring.consume(&own, |_, _| {
        own.stop();
        ControlFlow::Continue(())
    });
    assert_eq!(end.unwrap(), coolbpf::End::Stopped);
    trigger(4);
    std::thread::sleep(Duration::from_millis(20));
    let mut first = 0;
    let end = ring.consume(&StopToken::new(), |_, _| {
        first += 1;
        if first == 2 {
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    });
    assert_eq!(end.unwrap(), coolbpf::End::Break);
    assert_eq!(
        ring.drain(|_, _| ()).unwrap(),
        2,
        "the records after the break stay for the next call"
    );

    // a record shorter than the type
    trigger(1);
    let big: TypedEvents<[u8; 64]> = TypedEvents::of(&o, "rt_events").unwrap();
    let e = err(big.poll(Duration::from_secs(5), |_, _| ()));
    assert_eq!(e.code(), "EMISMATCH");

    // raw reads: records {u32 size, u32 cpu, data, pad to 8}
    trigger(2);
    let mut buf = [0u8; 4096];
    let mut n = 0;
    let t0 = Instant::now();
    while n == 0 && t0.elapsed() < Duration::from_secs(5) {
        n = o
            .events("rt_events")
            .unwrap()
            .read_into(&mut buf, Some(Duration::from_millis(100)))
            .unwrap();
    }
    assert_eq!(n, 2 * (8 + 32));
    assert_eq!(u32::from_ne_bytes(buf[0..4].try_into().unwrap()), 32);
}

#[test]
fn maps_typed_percpu_and_iteration() {
    need_kernel!("maps_typed_percpu_and_iteration");
    let o = init(1);
    let kv: TypedMap<u32, KvValue> = TypedMap::of(&o, c"rt_kv").unwrap();
    assert_eq!(kv.get(&1).unwrap(), None);
    assert!(!kv.contains(&1).unwrap());
    assert!(!kv.delete(&1).unwrap());
    let v = KvValue {
        a: 1 << 40,
        b: 7,
        name: CharArray::new("eight ch").unwrap(),
        pad: [0; 4],
    };
    kv.update(&1, &v, BPF_NOEXIST).unwrap();
    assert_eq!(kv.get(&1).unwrap(), Some(v));
    let e = err(kv.update(&1, &v, BPF_NOEXIST));
    assert_eq!(e.code(), "EEXIST");
    assert!(e.message().contains("rt_kv"), "{e}");
    assert_eq!(err(kv.update(&2, &v, BPF_EXIST)).code(), "ENOENT");
    for i in 0..600u32 {
        kv.set(
            &(100 + i),
            &KvValue {
                a: u64::from(i),
                b: i,
                ..Default::default()
            },
        )
        .unwrap();
    }
    let mut it = kv.iter();
    let mut all: Vec<(u32, KvValue)> = it.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(it.mode(), IterMode::Batch);
    assert!(it.batch_calls() > 1, "600 entries: more than one batch");
    all.sort_by_key(|(k, _)| *k);
    assert_eq!(all.len(), 601);
    assert_eq!(all[0], (1, v));
    assert!(all[1..]
        .iter()
        .all(|(k, v)| v.b == k - 100 && v.a == u64::from(k - 100)));
    let mut it = kv.iter_with(IterMode::NextKey);
    assert_eq!(it.by_ref().count(), 601);
    assert!(it.next_key_calls() >= 601);
    assert_eq!(kv.keys().count(), 601);
    assert_eq!(
        kv.values().filter(|v| v.as_ref().unwrap().b == 7).count(),
        2
    );
    // deleting the entry just yielded is safe
    for r in kv.iter_with(IterMode::NextKey) {
        kv.delete(&r.unwrap().0).unwrap();
    }
    assert_eq!(kv.keys().count(), 0);

    // the wrong types for a map are refused
    assert_eq!(
        err(TypedMap::<u64, KvValue>::of(&o, c"rt_kv").map(|_| ())).code(),
        "EMISMATCH"
    );
    assert_eq!(
        err(TypedMap::<u32, u64>::of(&o, c"rt_pcpu").map(|_| ())).code(),
        "EMISMATCH"
    );
    let raw = o.map("rt_kv").unwrap();
    assert_eq!(err(raw.lookup(&[0; 3], &mut [0; 24], 0)).code(), "EINVAL");

    // per-CPU: one value per possible CPU; BPF counted our triggers
    let pc: PerCpuMap<u32, u64> = PerCpuMap::of(&o, c"rt_pcpu").unwrap();
    assert_eq!(pc.cpus(), lib().possible_cpus().unwrap());
    trigger(9);
    let vals = pc.get(&0).unwrap().unwrap();
    assert_eq!(vals.len(), pc.cpus());
    assert_eq!(vals.iter().sum::<u64>(), 9);
    let mine: Vec<u64> = (0..pc.cpus() as u64).map(|i| 100 * (i + 1)).collect();
    pc.set(&0, &mine).unwrap();
    assert_eq!(pc.get(&0).unwrap().unwrap(), mine);
    assert_eq!(err(pc.set(&0, &mine[1..])).code(), "EINVAL");
    let entries: Vec<_> = pc.iter().map(|r| r.unwrap()).collect();
    assert_eq!(entries, vec![(0, mine)]);
}

/// The uprobe target: a function of this test binary.
#[no_mangle]
#[inline(never)]
pub extern "C" fn coolbpf_rs_uprobe_target(x: c_int) -> c_int {
    std::hint::black_box(x + 1)
}

#[test]
fn attach_kinds_links_and_sections() {
    need_kernel!("attach_kinds_links_and_sections");
    let o = init(3);
    let ring: TypedEvents<RtEvent> = TypedEvents::of(&o, "rt_events").unwrap();
    let _ = ring.drain(|_, _| ());
    // tp_btf and raw_tp attached by attach()
    unsafe {
        getpgid(0);
        getsid(0);
    }
    let mut kinds = Vec::new();
    while kinds.len() < 2 {
        let n = ring
            .poll(Duration::from_secs(5), |e, _| kinds.push((e.kind, e.value)))
            .unwrap();
        assert!(n > 0);
    }
    kinds.sort();
    assert_eq!(kinds, vec![(KIND_TP_BTF, 121), (KIND_RAW_TP, 124)]);

    // a uprobe on a function of this binary, by symbol; detach by the link, by drop
    let exe = std::fs::read_link("/proc/self/exe").unwrap();
    let exe = exe.to_str().unwrap();
    let target = UprobeTarget {
        binary: exe,
        symbol: Some("coolbpf_rs_uprobe_target"),
        pid: Some(pid() as i32),
        ..Default::default()
    };
    let hits = |o: &Object| o.section(".bss").unwrap().get::<u64>(8);
    let mut link = o.attach_uprobe("on_uprobe", &target).unwrap();
    assert!(link.is_attached());
    coolbpf_rs_uprobe_target(41);
    assert_eq!(hits(&o), 1);
    let mut got = Vec::new();
    ring.poll(Duration::from_secs(5), |e, _| got.push((e.kind, e.value)))
        .unwrap();
    assert_eq!(got, vec![(KIND_UPROBE, 41)]);
    link.detach().unwrap();
    link.detach().unwrap();
    coolbpf_rs_uprobe_target(1);
    assert_eq!(hits(&o), 1);
    {
        let _l = o.attach_uprobe("on_uprobe", &target).unwrap();
        coolbpf_rs_uprobe_target(2);
    }
    coolbpf_rs_uprobe_target(3);
    assert_eq!(hits(&o), 2);
    o.attach_uprobe("on_uprobe", &target).unwrap().keep();
    coolbpf_rs_uprobe_target(4);
    assert_eq!(hits(&o), 3);

    // sections: .bss live, .data writable, bounds checked
    let bss = o.section(".bss").unwrap();
    let before = bss.get::<u64>(0);
    trigger(2);
    assert_eq!(bss.get::<u64>(0), before + 2, "hits_tp counts getppid");
    assert_eq!(err(bss.read(bss.len() - 2, &mut [0; 4])).code(), "EINVAL");
    let data = o.section_mut(".data").unwrap();
    data.write(0, &7u64.to_ne_bytes()).unwrap();
    assert_eq!(data.get::<u64>(0), 7);
}

fn bpf_fds() -> usize {
    std::fs::read_dir("/proc/self/fd")
        .unwrap()
        .filter_map(|e| std::fs::read_link(e.ok()?.path()).ok())
        .filter(|t| t.to_string_lossy().starts_with("anon_inode:"))
        .count()
}

#[test]
fn nothing_left_after_cycles() {
    need_kernel!("nothing_left_after_cycles");
    // warm up (the library, the embedded BTF): the fds it keeps are not per object
    drop(init(1));
    let before = bpf_fds();
    for i in 0..50 {
        let o = init(i);
        let _perf: TypedEvents<RtEvent> = TypedEvents::of(&o, "rt_pevents").unwrap();
        let _ring: TypedEvents<RtEvent> = TypedEvents::of(&o, "rt_events").unwrap();
        let exe = std::fs::read_link("/proc/self/exe").unwrap();
        let target = UprobeTarget {
            binary: exe.to_str().unwrap(),
            symbol: Some("coolbpf_rs_uprobe_target"),
            ..Default::default()
        };
        o.attach_uprobe("on_uprobe", &target).unwrap().keep();
        trigger(1);
    }
    assert_eq!(bpf_fds(), before);
}

#[test]
fn values() {
    // no kernel needed
    let v = KvValue {
        a: 5,
        b: 6,
        name: CharArray::new("hé").unwrap(),
        pad: [0; 4],
    };
    let n = CharArray::<8>::from_value(&Value::Str("x".repeat(9))).unwrap_err();
    assert_eq!(n.code(), "EINVAL");
    assert_eq!(v.name.to_value(), Value::Str("hé".into()));
    assert_eq!(
        u8::from_value(&Value::Int(256)).unwrap_err().code(),
        "EINVAL"
    );
    assert_eq!(
        i64::from_value(&Value::UInt(u64::MAX.into()))
            .unwrap_err()
            .code(),
        "EINVAL"
    );
    assert_eq!(
        u64::from_value(&Value::UInt(u64::MAX.into())).unwrap(),
        u64::MAX
    );
    assert_eq!(
        <[u16; 3]>::from_value(&Value::List(vec![Value::Int(1)])).unwrap(),
        [1, 0, 0]
    );
    assert_eq!(Value::Int(3), Value::UInt(3));
    assert_eq!(Value::Float(2.0), Value::Int(2));
    assert_eq!(coolbpf::errno_name(524), "ENOTSUPP");
    assert_eq!(coolbpf::errno_name(9999), "EUNKNOWN");
}

#[test]
fn json() {
    let v = Value::Struct(vec![
        ("a", Value::UInt(u64::MAX.into())),
        ("b", Value::Int(-5)),
        (
            "c",
            Value::List(vec![Value::Float(1.5), Value::Float(f64::NAN)]),
        ),
        ("d", Value::Str("q\"\n".into())),
        ("e", Value::Bool(true)),
    ]);
    assert_eq!(
        v.to_json(),
        r#"{"a":"18446744073709551615","b":-5,"c":[1.5,null],"d":"q\"\n","e":true}"#
            .replace("\n", "\\n")
    );
}
