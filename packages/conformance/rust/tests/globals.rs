//! globals: .rodata of every scalar kind, set before load and copied by BPF
//! into .bss; .data and .data.custom written live and read by BPF; initial
//! values of every writable section; .rodata read-only after load.
//!
//! Rust differences: the loaded object's `rodata()` is a read-only view (it
//! has no setters: writing does not compile), and the setters take the C
//! type (`u8`, `i64`, …), so an integer out of range does not compile
//! either; the dynamic paths (the runtime object's section, and setting
//! globals from a `Value`) refuse at run time, which is what the cases check.

use coolbpf_conformance::{
    expected, kernel_skip_reason, pid, run, test, trigger, value_json, Json,
};
use globals as g;
use globals::coolbpf as cb;
use globals::coolbpf::Reflect;

value_json!();

fn spec(id: &str) -> Json {
    expected("globals").case(id).clone()
}

fn opts() -> g::InitOptions {
    let mut o = g::InitOptions::default();
    o.rodata.target_tgid = Some(pid());
    o
}

/// The .rodata globals of `defaults`, as the wrapper gives them.
fn rodata_json(v: &cb::Value) -> Json {
    let names: Vec<String> = expected("globals")
        .get("defaults")
        .entries()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    let all = value_json(v);
    Json::Obj(
        names
            .iter()
            .map(|n| (n.clone(), all.get(n).clone()))
            .collect(),
    )
}

/// The .bss mirror (m_X for every r_X), named r_X.
fn mirror_json(v: &cb::Value) -> Json {
    let names: Vec<String> = expected("globals")
        .get("defaults")
        .entries()
        .iter()
        .map(|(k, _)| k.clone())
        .collect();
    let all = value_json(v);
    Json::Obj(
        names
            .iter()
            .map(|n| (n.clone(), all.get(&n.replacen("r_", "m_", 1)).clone()))
            .collect(),
    )
}

fn check(got: Json, want: &Json, what: &str) {
    if let Err(e) = coolbpf_conformance::same(&got, want, what) {
        panic!("{e}");
    }
}

/// `values` of expect.json as the .rodata section's Value (shaped after what the section decodes).
fn values_value(like: &cb::Value) -> cb::Value {
    from_json(expected("globals").get("values"), like)
}

fn rodata_defaults() {
    let want = expected("globals").get("defaults").clone();
    let x = g::init(&opts()).unwrap();
    check(
        rodata_json(&x.rodata().unwrap().to_value()),
        &want,
        ".rodata",
    );
    trigger(1);
    assert_eq!(x.bss().unwrap().copies(), 1);
    check(
        mirror_json(&x.bss().unwrap().to_value()),
        &want,
        "the .bss mirror",
    );
}

/// InitOptions' .rodata initial values from a Value, each field through its type.
fn rodata_init_of(v: &cb::Value) -> g::RodataInit {
    fn f<T: Reflect>(v: &cb::Value, name: &str) -> Option<T> {
        v.field(name).map(|x| T::from_value(x).unwrap())
    }
    g::RodataInit {
        target_tgid: Some(pid()),
        r_u8: f(v, "r_u8"),
        r_s8: f(v, "r_s8"),
        r_u16: f(v, "r_u16"),
        r_s16: f(v, "r_s16"),
        r_u32: f(v, "r_u32"),
        r_s32: f(v, "r_s32"),
        r_u64: f(v, "r_u64"),
        r_s64: f(v, "r_s64"),
        r_bool: f(v, "r_bool"),
        r_name: f(v, "r_name"),
        r_color: f(v, "r_color"),
        r_wide: f(v, "r_wide"),
        r_f32: f(v, "r_f32"),
        r_f64: f(v, "r_f64"),
        r_cfg: f(v, "r_cfg"),
        r_arr: f(v, "r_arr"),
        r_grid: f(v, "r_grid"),
    }
}

fn rodata_init() {
    let want = expected("globals").get("values").clone();
    let like = g::open(&g::InitOptions::default())
        .unwrap()
        .rodata()
        .unwrap()
        .to_value();
    let o = g::InitOptions {
        rodata: rodata_init_of(&values_value(&like)),
        ..Default::default()
    };
    let x = g::init(&o).unwrap();
    check(
        rodata_json(&x.rodata().unwrap().to_value()),
        &want,
        ".rodata",
    );
    trigger(1);
    check(
        mirror_json(&x.bss().unwrap().to_value()),
        &want,
        "the .bss mirror",
    );
    // values beyond 2^53 and negative 64-bit ones came through exactly
    assert_eq!(x.bss().unwrap().m_u64(), 18446744073709551557);
    assert_eq!(x.bss().unwrap().m_s64(), -9223372036854775807);
}

fn rodata_open() {
    let want = expected("globals").get("values").clone();
    let opened = g::open(&g::InitOptions::default()).unwrap();
    let ro = opened.rodata().unwrap();
    ro.set_target_tgid(pid());
    let values = values_value(&ro.to_value());
    if let cb::Value::Struct(fields) = &values {
        for (name, v) in fields {
            // one by one, each read back before load
            ro.set_value(&cb::Value::Struct(vec![(name, v.clone())]))
                .unwrap();
            check(
                value_json(ro.to_value().field(name).unwrap()),
                want.get(name),
                name,
            );
        }
    }
    check(rodata_json(&ro.to_value()), &want, ".rodata before load");
    drop(ro);
    let x = opened.load().unwrap();
    x.attach().unwrap();
    check(
        rodata_json(&x.rodata().unwrap().to_value()),
        &want,
        ".rodata after load",
    );
    trigger(1);
    check(
        mirror_json(&x.bss().unwrap().to_value()),
        &want,
        "the .bss mirror",
    );
}

fn rodata_read_only() {
    let x = g::init(&opts()).unwrap();
    let before = x.rodata().unwrap().r_u32();
    // the typed view has no setter after load (does not compile); the runtime's section refuses
    let e = x.object().section_mut(".rodata").unwrap_err();
    assert_eq!(e.code(), "ESTATE");
    assert!(
        e.message().contains(".rodata") && e.message().contains("read-only"),
        "{e}"
    );
    assert_eq!(x.rodata().unwrap().r_u32(), before);
    trigger(1);
    assert_eq!(x.bss().unwrap().m_u32(), before);
}

fn data_live() {
    let c = spec("data-live");
    let e = c.get("expect");
    let x = g::init(&opts()).unwrap();
    let data = x.data().unwrap();
    assert_eq!(data.live_in(), e.get("live_in default").u64());
    data.set_live_in(c.get("liveIn").u64());
    assert_eq!(data.live_in(), c.get("liveIn").u64());
    trigger(c.get("triggers").usize());
    assert_eq!(x.bss().unwrap().live_seen(), e.get("live_seen").u64());
    assert_eq!(data.d_counter(), e.get("d_counter").u64());
    assert_eq!(x.bss().unwrap().copies(), e.get("copies").u64());
}

fn data_custom() {
    let c = spec("data-custom");
    let e = c.get("expect");
    let x = g::init(&opts()).unwrap();
    let custom = x.data_custom().unwrap();
    assert_eq!(custom.custom_in(), e.get("custom_in default").u64());
    assert_eq!(custom.custom_hits(), 0);
    custom.set_custom_in(c.get("customIn").u64());
    trigger(c.get("triggers").usize());
    assert_eq!(x.bss().unwrap().custom_seen(), e.get("custom_seen").u64());
    assert_eq!(u64::from(custom.custom_hits()), e.get("custom_hits").u64());
}

fn initial_values() {
    let c = spec("initial-values");
    let (i, e) = (c.get("initial"), c.get("expect"));
    let mut o = opts();
    o.data.live_in = Some(i.get("live_in").u64());
    o.data_custom.custom_in = Some(i.get("custom_in").u64());
    o.bss.b_initial = Some(i.get("b_initial").u64());
    let x = g::init(&o).unwrap();
    assert_eq!(x.bss().unwrap().b_initial(), e.get("b_initial").u64());
    trigger(1);
    assert_eq!(x.bss().unwrap().live_seen(), e.get("live_seen").u64());
    assert_eq!(x.bss().unwrap().custom_seen(), e.get("custom_seen").u64());
    assert_eq!(x.bss().unwrap().b_initial(), e.get("b_initial").u64());
}

fn out_of_range() {
    let defaults = expected("globals").get("defaults").clone();
    let opened = g::open(&g::InitOptions::default()).unwrap();
    let ro = opened.rodata().unwrap();
    // a string longer than its char[16]
    let e = g::CharArray::<16>::new(&"x".repeat(17)).unwrap_err();
    assert_eq!(e.code(), "EINVAL");
    assert!(e.message().contains("char[16]"), "{e}");
    // integers out of their C type's range, given dynamically (a Value): refused, naming the global
    let refused = |name: &'static str, v: cb::Value| {
        let e = ro
            .set_value(&cb::Value::Struct(vec![(name, v)]))
            .unwrap_err();
        assert_eq!(e.code(), "EINVAL", "{e}");
        assert!(e.message().contains(name), "{e}");
    };
    refused("r_u8", cb::Value::UInt(256));
    refused("r_s8", cb::Value::Int(-129));
    refused("r_u16", cb::Value::Float(1.5));
    refused("r_u32", cb::Value::Int(-1));
    refused("r_u64", cb::Value::Int(-1));
    refused("r_s64", cb::Value::UInt(1 << 63));
    refused("r_name", cb::Value::Str("x".repeat(17)));
    let mut cfg = value_json(&ro.r_cfg().to_value());
    if let Json::Obj(o) = &mut cfg {
        o.iter_mut().find(|(k, _)| k == "id").unwrap().1 = Json::Num("65536".into());
    }
    refused("r_cfg", from_json(&cfg, &ro.r_cfg().to_value()));
    refused(
        "r_grid",
        cb::Value::List(vec![
            cb::Value::List(vec![]),
            cb::Value::List(vec![cb::Value::Int(0), cb::Value::Int(32768)]),
        ]),
    );
    // and in the typed API they do not compile: `ro.set_r_u8(256)` is an error (literal out of range for u8)
    assert!(u8::try_from(256u32).is_err());
    // nothing was written
    check(rodata_json(&ro.to_value()), &defaults, ".rodata");
}

fn main() {
    run(
        &[
            test("rodata-defaults", rodata_defaults),
            test("rodata-init", rodata_init),
            test("rodata-open", rodata_open),
            test("rodata-read-only", rodata_read_only),
            test("data-live", data_live),
            test("data-custom", data_custom),
            test("initial-values", initial_values),
            test("out-of-range", out_of_range),
        ],
        kernel_skip_reason(),
    );
}
