//! lifecycle: open → set .rodata → load → attach, autoload, explicit attach
//! and detach, destroy, the errors of calls out of order and after destroy,
//! and nothing left in the kernel or in this process afterwards.
//!
//! Rust differences: the typed API is a typestate (`open()` gives
//! `LifecycleOpened`, whose `load(self)` gives `Lifecycle`), so "load twice"
//! or "set .rodata after load" through the typed handles does not compile;
//! those cases use the runtime object underneath (`object()`), which checks
//! the state at run time (`ESTATE`). Views, maps and links borrow the object,
//! so "a map made before destroy, used after" does not compile either: after
//! `destroy()` every call made through the object is `EDESTROYED`.

use std::time::Duration;

use coolbpf_conformance::{
    bpf_fd_counts, bpftool, expected, held, kernel_skip_reason, pid, programs_named, run,
    still_in_kernel, test, trigger, Json,
};
use lifecycle as g;

fn opts() -> g::InitOptions {
    g::InitOptions {
        rodata: g::RodataInit {
            target_tgid: Some(pid()),
        },
        ..Default::default()
    }
}

fn spec(id: &str) -> Json {
    expected("lifecycle").case(id).clone()
}

fn init() {
    let c = spec("init");
    let x = g::init(&opts()).unwrap();
    let e = c.get("expect");
    assert_eq!(x.object().state().as_str(), e.get("state").str());
    assert_eq!(x.rodata().unwrap().target_tgid(), pid());
    trigger(c.get("triggers").usize());
    let bss = x.bss().unwrap();
    assert_eq!(bss.count(), e.get("bss.count").u64());
    assert_eq!(
        x.maps().lc_hits().unwrap().get(&0).unwrap(),
        Some(e.get("lc_hits[0]").u64())
    );
    assert_eq!(bss.manual_count(), e.get("bss.manual_count").u64());
    assert_eq!(bss.optional_count(), e.get("bss.optional_count").u64());
}

fn step_by_step() {
    let c = spec("step-by-step");
    let (t, e) = (c.get("triggers"), c.get("expect"));
    let opened = g::open(&g::InitOptions::default()).unwrap();
    assert_eq!(
        opened.object().state().as_str(),
        e.get("opened").get("state").str()
    );
    opened.rodata().unwrap().set_target_tgid(pid());
    assert_eq!(opened.rodata().unwrap().target_tgid(), pid());
    trigger(t.get("opened").usize());
    let x = opened.load().unwrap();
    assert_eq!(
        x.object().state().as_str(),
        e.get("loaded").get("state").str()
    );
    assert_eq!(x.rodata().unwrap().target_tgid(), pid());
    trigger(t.get("loaded").usize());
    assert_eq!(
        x.bss().unwrap().count(),
        e.get("loaded").get("bss.count").u64()
    );
    x.attach().unwrap();
    assert_eq!(
        x.object().state().as_str(),
        e.get("attached").get("state").str()
    );
    trigger(t.get("attached").usize());
    assert_eq!(
        x.bss().unwrap().count(),
        e.get("attached").get("bss.count").u64()
    );
}

fn autoload() {
    let c = spec("autoload");
    let e = c.get("expect");
    let want: Vec<String> = e
        .get("loadedPrograms")
        .items()
        .iter()
        .map(|n| n.str().to_string())
        .collect();
    let before = held().programs;
    let check = |x: &g::Lifecycle| {
        let ours: Vec<u32> = held()
            .programs
            .into_iter()
            .filter(|id| !before.contains(id))
            .collect();
        assert_eq!(ours.len(), want.len());
        trigger(c.get("triggers").usize());
        assert_eq!(x.bss().unwrap().count(), e.get("bss.count").u64());
        assert_eq!(
            x.bss().unwrap().optional_count(),
            e.get("bss.optional_count").u64()
        );
        let mut names: Vec<String> = bpftool("prog")
            .into_iter()
            .filter(|(id, _)| ours.contains(id))
            .map(|(_, n)| n)
            .collect();
        names.sort();
        assert_eq!(names, want);
    };
    {
        let opened = g::open(&opts()).unwrap();
        let p = opened.programs();
        assert!(p.lc_count().autoload());
        assert!(!p.lc_optional().autoload());
        p.lc_count().set_autoload(false).unwrap();
        p.lc_optional().set_autoload(true).unwrap();
        assert!(!p.lc_count().autoload());
        assert!(p.lc_optional().autoload());
        let x = opened.load().unwrap();
        x.attach().unwrap();
        check(&x);
    }
    {
        let mut o = opts();
        o.autoload = g::Autoload {
            lc_count: Some(false),
            lc_optional: Some(true),
            ..Default::default()
        };
        let x = g::init(&o).unwrap();
        check(&x);
    }
}

fn explicit_attach() {
    let c = spec("explicit-attach");
    let t = c.get("triggers");
    let n = |k: &str| t.get(k).usize();
    let target = c.get("manualTarget").items();
    let (category, name) = (target[0].str(), target[1].str());
    let e = c.get("expect");
    {
        let x = g::init(&opts()).unwrap();
        trigger(n("a"));
        assert_eq!(x.bss().unwrap().manual_count(), 0);
        let mut link = x
            .programs()
            .lc_manual()
            .attach_tracepoint(category, name)
            .unwrap();
        trigger(n("b"));
        assert_eq!(x.bss().unwrap().manual_count(), n("b") as u64);
        link.detach().unwrap();
        trigger(n("c"));
        assert_eq!(x.bss().unwrap().manual_count(), n("b") as u64);
        link.detach().unwrap(); // idempotent
        {
            let _l2 = x
                .programs()
                .lc_manual()
                .attach_tracepoint(category, name)
                .unwrap();
            trigger(n("d"));
        } // dropped: detached
        trigger(n("e"));
        assert_eq!(
            x.bss().unwrap().manual_count(),
            e.get("bss.manual_count").u64()
        );
        assert_eq!(x.bss().unwrap().count(), e.get("bss.count").u64());
        // SEC("tracepoint") names no target: attach() says so
        let err = x.programs().lc_manual().attach().unwrap_err();
        assert_eq!(err.code(), "EINVAL");
        assert!(
            err.message().contains("lc_manual")
                && err.message().contains("names no target")
                && err.message().contains("attach_tracepoint"),
            "{err}"
        );
    }
    {
        // loaded, not attached: only the program attached explicitly runs
        let x = g::open(&opts()).unwrap().load().unwrap();
        let link = x.programs().lc_count().attach().unwrap();
        trigger(n("f"));
        drop(link);
        trigger(n("g"));
        assert_eq!(
            x.bss().unwrap().count(),
            e.get("explicitOnly.bss.count").u64()
        );
        assert_eq!(x.bss().unwrap().manual_count(), 0);
    }
}

fn destroy_idempotent() {
    let mut x = g::init(&opts()).unwrap();
    x.destroy();
    assert_eq!(
        x.object().state().as_str(),
        spec("destroy-idempotent").get("expect").get("state").str()
    );
    x.destroy();
    drop(x); // and Drop after destroy
}

fn use_after_destroy() {
    let code = spec("use-after-destroy")
        .get("expect")
        .get("error")
        .str()
        .to_string();
    let mut x = g::init(&opts()).unwrap();
    assert_eq!(x.maps().lc_hits().unwrap().get(&0).unwrap(), Some(0)); // made and used before destroy
    x.destroy();
    let codes = [
        x.attach().unwrap_err(),
        x.programs()
            .lc_manual()
            .attach_tracepoint("syscalls", "sys_enter_getppid")
            .unwrap_err(),
        x.programs().lc_count().attach().unwrap_err(),
        x.maps().lc_hits().map(|_| ()).unwrap_err(),
        x.object().map("lc_hits").map(|_| ()).unwrap_err(),
    ];
    for e in codes {
        assert_eq!(e.code(), code, "{e}");
    }
    let mut opened = g::open(&g::InitOptions::default()).unwrap();
    opened.destroy();
    assert_eq!(opened.rodata().map(|_| ()).unwrap_err().code(), code);
    assert_eq!(
        opened
            .programs()
            .lc_optional()
            .set_autoload(true)
            .unwrap_err()
            .code(),
        code
    );
    assert_eq!(opened.load().map(|_| ()).unwrap_err().code(), code);
}

fn use_after_destroy_globals() {
    let code = spec("use-after-destroy")
        .get("expect")
        .get("error")
        .str()
        .to_string();
    let mut x = g::init(&opts()).unwrap();
    assert_eq!(x.bss().unwrap().count(), 0); // the section is in use before destroy
    x.destroy();
    assert_eq!(x.bss().map(|_| ()).unwrap_err().code(), code);
    assert_eq!(x.rodata().map(|_| ()).unwrap_err().code(), code);
    assert_eq!(
        x.object().section(".bss").map(|_| ()).unwrap_err().code(),
        code
    );
}

fn out_of_order() {
    let code = spec("out-of-order")
        .get("expect")
        .get("error")
        .str()
        .to_string();
    let opened = g::open(&opts()).unwrap();
    let obj = opened.object();
    assert_eq!(obj.attach().unwrap_err().code(), code); // before load
    obj.load().unwrap();
    let e = obj.load().unwrap_err(); // load twice
    assert_eq!(e.code(), code);
    assert_eq!(opened.rodata().map(|_| ()).unwrap_err().code(), code); // .rodata through the opened handle after load
    assert_eq!(
        obj.set_initial(".rodata", 0, &1u32.to_ne_bytes())
            .unwrap_err()
            .code(),
        code
    );
    assert_eq!(
        opened
            .programs()
            .lc_optional()
            .set_autoload(true)
            .unwrap_err()
            .code(),
        code
    );
    // the typed handle of a loaded object
    let x = g::Lifecycle::from_object(opened.into_object()).unwrap();
    x.attach().unwrap();
    assert_eq!(x.attach().unwrap_err().code(), code);
    assert_eq!(
        g::LifecycleOpened::new(x.into_object()).unwrap_err().code(),
        code
    );
    // the failed calls changed nothing
    let x = g::init(&opts()).unwrap();
    trigger(3);
    assert_eq!(x.bss().unwrap().count(), 3);
    assert_eq!(x.rodata().unwrap().target_tgid(), pid());
}

fn nothing_left() {
    let c = spec("nothing-left");
    let fds_before = bpf_fd_counts();
    let before = held();
    let mut x = g::init(&opts()).unwrap();
    let link = x
        .programs()
        .lc_manual()
        .attach_tracepoint("syscalls", "sys_enter_getppid")
        .unwrap();
    trigger(2);
    assert_eq!(x.bss().unwrap().manual_count(), 2);
    let now = held();
    let ours = |a: &[u32], b: &[u32]| {
        a.iter()
            .copied()
            .filter(|i| !b.contains(i))
            .collect::<Vec<_>>()
    };
    let (progs, maps, links) = (
        ours(&now.programs, &before.programs),
        ours(&now.maps, &before.maps),
        ours(&now.links, &before.links),
    );
    let want = c.get("expect").get("heldWhileLoaded");
    assert_eq!(progs.len(), want.get("programs").usize());
    let list = bpftool("map");
    let names: Vec<String> = maps
        .iter()
        .map(|id| {
            list.iter()
                .find(|(i, _)| i == id)
                .map(|(_, n)| n.clone())
                .unwrap_or_default()
        })
        .collect();
    for n in want.get("maps").items() {
        let n = n.str();
        assert_eq!(
            names
                .iter()
                .filter(|m| *m == n || (n.starts_with('.') && m.ends_with(n)))
                .count(),
            1,
            "{n} in {names:?}"
        );
    }
    assert!(link.is_attached());
    link.keep(); // released by destroy
    x.destroy();
    for _ in 0..c.get("cycles").usize() {
        let y = g::init(&opts()).unwrap();
        trigger(1);
        assert_eq!(y.bss().unwrap().count(), 1);
    }
    assert_eq!(
        still_in_kernel(&progs, &maps, &links, Duration::from_secs(10)),
        (vec![], vec![], vec![])
    );
    assert_eq!(bpf_fd_counts(), fds_before);
}

fn main() {
    let skip = kernel_skip_reason();
    run(
        &[
            test("init", init),
            test("step-by-step", step_by_step),
            test("autoload", autoload),
            test("explicit-attach", explicit_attach),
            test("destroy-idempotent", destroy_idempotent),
            test("use-after-destroy", use_after_destroy),
            test("use-after-destroy/globals", use_after_destroy_globals),
            test("out-of-order", out_of_order),
            test("nothing-left", nothing_left),
        ],
        skip,
    );
    if kernel_skip_reason().is_none() {
        let left = programs_named("lc_", Duration::from_secs(10));
        assert!(left.is_empty(), "programs left loaded: {left:?}");
    }
}
