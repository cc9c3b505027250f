//! layout: the generated types' layout against the C compiler's (a probe
//! program compiled on the host from the scenario's source types and from
//! bpftool's dump of the object's BTF), bitfields through BPF in both
//! directions, and C-initialized globals decoded in .data and in a map.
//!
//! In Rust every generated struct is the memory layout itself
//! (`#[repr(C)]`, checked at compile time); the layout tables (`TYPES`,
//! `ENUMS`) report it, and the values go through the typed fields and
//! accessors (`Reflect`) for comparison with expect.json.

use std::collections::HashMap;
use std::process::Command;

use coolbpf_conformance::{
    built, expected, kernel_skip_reason, pid, pkg_dir, run, same, skip, test, trigger, value_json,
    Json,
};
use layout as g;
use layout::coolbpf as cb;
use layout::coolbpf::{Reflect, Value};

value_json!();

/// The generated name of a C type: PascalCase of the tag; an anonymous member's type from parent__member.
fn rust_name(c: &str) -> String {
    let t = c
        .trim_start_matches("struct ")
        .trim_start_matches("union ")
        .trim_start_matches("enum ")
        .replace('.', "__");
    t.split('_')
        .filter(|w| !w.is_empty())
        .map(|w| w[..1].to_uppercase() + &w[1..])
        .collect()
}

/// A C expression for the type: `struct P.m` is the type of member m of struct P.
fn c_type(c: &str) -> String {
    match c.split_once('.') {
        Some((p, m)) => format!("__typeof__((({p} *)0)->{m})"),
        None => c.to_string(),
    }
}

fn layout_of(name: &str) -> &'static cb::TypeLayout {
    g::TYPES
        .iter()
        .find(|t| t.name == name)
        .unwrap_or_else(|| panic!("no generated type {name}"))
}

fn types_complete() {
    let e = expected("layout");
    let mut want: Vec<String> = e
        .get("types")
        .items()
        .iter()
        .map(|t| rust_name(t.str()))
        .collect();
    let mut got: Vec<String> = g::TYPES.iter().map(|t| t.name.to_string()).collect();
    want.sort();
    got.sort();
    assert_eq!(got, want);
}

#[derive(Default)]
struct Probe {
    size: HashMap<String, (usize, usize)>,
    member: HashMap<String, (usize, usize)>,
    bits: HashMap<String, (u32, u32, u32)>,
    enumv: HashMap<String, i128>,
}

fn tool_missing() -> Option<String> {
    if Command::new("cc")
        .arg("--version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return Some("no C compiler (cc)".into());
    }
    if Command::new("bpftool")
        .arg("version")
        .output()
        .map(|o| !o.status.success())
        .unwrap_or(true)
    {
        return Some("bpftool is not installed".into());
    }
    None
}

fn run_probe(variant: &str) -> Probe {
    let e = expected("layout");
    let dir = std::env::temp_dir().join(format!(
        "coolbpf-conformance-rust-layout-{}-{variant}",
        pid()
    ));
    std::fs::create_dir_all(&dir).unwrap();
    let header = if variant == "btf" {
        let out = Command::new("bpftool")
            .args(["btf", "dump", "file"])
            .arg(built("layout").1)
            .args(["format", "c"])
            .output()
            .unwrap();
        format!(
            "#define BPF_NO_PRESERVE_ACCESS_INDEX\n{}",
            String::from_utf8_lossy(&out.stdout)
        )
    } else {
        format!(
            "#include <linux/types.h>\n#include \"{}\"\n",
            pkg_dir().join("scenarios/layout/layout.types.h").display()
        )
    };
    std::fs::write(dir.join("types.h"), header).unwrap();
    let mut lines = vec![
        "#include \"types.h\"".to_string(),
        "#include <stdio.h>".into(),
        "#include <stddef.h>".into(),
        "#include <string.h>".into(),
        "static void bits(const char *key, const unsigned char *p, size_t n) {".into(),
        "  int lo = -1, hi = -1, count = 0;".into(),
        "  for (size_t i = 0; i < n * 8; i++) if (p[i / 8] >> (i % 8) & 1) { if (lo < 0) lo = (int)i; hi = (int)i; count++; }".into(),
        "  printf(\"bits|%s|%d|%d|%d\\n\", key, lo, hi - lo + 1, count);".into(),
        "}".into(),
        "int main(void) {".into(),
    ];
    for t in e.get("types").items() {
        let c = t.str();
        let ty = c_type(c);
        lines.push(format!(
            "  printf(\"size|{c}|%zu|%zu\\n\", sizeof({ty}), _Alignof({ty}));"
        ));
        for f in layout_of(&rust_name(c)).fields {
            match f.bits {
                None => lines.push(format!(
                    "  printf(\"member|{c}|{0}|%zu|%zu\\n\", offsetof({ty}, {0}), sizeof((({ty} *)0)->{0}));",
                    f.name
                )),
                Some(_) => lines.push(format!(
                    "  {{ {ty} v; memset(&v, 0, sizeof v); v.{0} = -1; bits(\"{c}|{0}\", (const unsigned char *)&v, sizeof v); }}",
                    f.name
                )),
            }
        }
    }
    for (en, values) in e.get("enums").entries() {
        for (k, _) in values.entries() {
            lines.push(format!(
                "  if (({k}) < 0) printf(\"enum|{en}|{k}|%lld\\n\", (long long)({k})); else printf(\"enum|{en}|{k}|%llu\\n\", (unsigned long long)({k}));"
            ));
        }
    }
    lines.push("  return 0;".into());
    lines.push("}".into());
    std::fs::write(dir.join("probe.c"), lines.join("\n")).unwrap();
    let cc = Command::new("cc")
        .args(["-w", "-O0", "-o"])
        .arg(dir.join("probe"))
        .arg(dir.join("probe.c"))
        .current_dir(&dir)
        .output()
        .unwrap();
    assert!(
        cc.status.success(),
        "cc: {}",
        String::from_utf8_lossy(&cc.stderr)
    );
    let out = Command::new(dir.join("probe")).output().unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut p = Probe::default();
    for line in String::from_utf8_lossy(&out.stdout).lines() {
        let parts: Vec<&str> = line.split('|').collect();
        let n = |i: usize| parts[i].parse::<i128>().unwrap();
        match parts[0] {
            "size" => drop(
                p.size
                    .insert(parts[1].into(), (n(2) as usize, n(3) as usize)),
            ),
            "member" => drop(p.member.insert(
                format!("{}|{}", parts[1], parts[2]),
                (n(3) as usize, n(4) as usize),
            )),
            "bits" => drop(p.bits.insert(
                format!("{}|{}", parts[1], parts[2]),
                (n(3) as u32, n(4) as u32, n(5) as u32),
            )),
            "enum" => drop(p.enumv.insert(format!("{}|{}", parts[1], parts[2]), n(3))),
            _ => {}
        }
    }
    p
}

fn c_layout() {
    if let Some(why) = tool_missing() {
        skip(why);
    }
    let e = expected("layout");
    let c = e.case("c-layout");
    let not_in_btf = c.get("alignmentNotInBtf");
    let probes = [("source", run_probe("source")), ("btf", run_probe("btf"))];
    for (variant, probe) in &probes {
        let (mut fields, mut bitfields) = (0, 0);
        for t in e.get("types").items() {
            let c = t.str();
            let l = layout_of(&rust_name(c));
            let (size, align) = probe.size[c];
            assert_eq!((variant, c, l.size), (variant, c, size));
            match (variant, not_in_btf.opt(c)) {
                // BTF records no alignment: an explicit aligned(N) is not seen
                (&"source", Some(a)) => assert_eq!((c, align), (c, a.usize())),
                _ => assert_eq!((variant, c, "align", l.align), (variant, c, "align", align)),
            }
            for f in l.fields {
                let key = format!("{c}|{}", f.name);
                match f.bits {
                    None => {
                        fields += 1;
                        assert_eq!(
                            (variant, &key, f.offset, f.size),
                            (variant, &key, probe.member[&key].0, probe.member[&key].1)
                        );
                    }
                    Some((bit, width)) => {
                        bitfields += 1;
                        let (lo, w, count) = probe.bits[&key];
                        assert_eq!(count, w, "{key}: C set a contiguous run of bits");
                        let offset = (lo / 8) as usize;
                        let size = (lo + w).div_ceil(8) as usize - offset;
                        assert_eq!(
                            (variant, &key, bit, width, f.offset, f.size),
                            (variant, &key, lo, w, offset, size)
                        );
                    }
                }
            }
        }
        assert!(fields > 100, "{fields} fields");
        assert!(bitfields > 2 * 64 + 16, "{bitfields} bitfields");
        // enums: the values C gives the enumerators
        for (en, values) in e.get("enums").entries() {
            let gen = g::ENUMS
                .iter()
                .find(|x| x.c == en)
                .unwrap_or_else(|| panic!("no generated {en}"));
            let mut names: Vec<&str> = gen.values.iter().map(|(n, _)| *n).collect();
            let mut want: Vec<&str> = values.entries().iter().map(|(k, _)| k.as_str()).collect();
            names.sort_unstable();
            want.sort_unstable();
            assert_eq!(names, want);
            for (k, v) in values.entries() {
                let got = gen.values.iter().find(|(n, _)| n == k).unwrap().1;
                assert_eq!(
                    (variant, en, k, got),
                    (variant, en, k, probe.enumv[&format!("{en}|{k}")])
                );
                assert_eq!(got, v.int());
            }
        }
    }
    // and the types' constants: LtMode::LT_AUTO is C's LT_AUTO, 64-bit and negative ones exact
    assert_eq!((g::LtMode::LT_AUTO.0, g::LtSigned::LT_NEG.0), (5, -2));
    assert_eq!(
        (g::LtWide::LT_WIDE_HIGH.0, g::LtWideNeg::LT_WN_MIN.0),
        (0xfedcba9876543210, i64::MIN)
    );
}

fn check(got: &Value, want: &Json, what: &str) {
    if let Err(e) = same(&value_json(got), want, what) {
        panic!("{e}");
    }
}

fn data_initialized() {
    let want = expected("layout")
        .case("data-initialized")
        .get("expect")
        .clone();
    let opened = g::open(&g::InitOptions {
        rodata: g::RodataInit {
            target_tgid: Some(pid()),
        },
        ..Default::default()
    })
    .unwrap();
    let d = opened.data().unwrap();
    check(
        &d.lt_all_data().to_value(),
        want.get("lt_all_data"),
        "lt_all_data before load",
    );
    check(
        &d.lt_ladder_u_data().to_value(),
        want.get("lt_ladder_u_data"),
        "lt_ladder_u_data before load",
    );
    check(
        &d.lt_ladder_s_data().to_value(),
        want.get("lt_ladder_s_data"),
        "lt_ladder_s_data before load",
    );
    drop(d);
    let x = opened.load().unwrap();
    x.attach().unwrap();
    let d = x.data().unwrap();
    check(
        &d.lt_all_data().to_value(),
        want.get("lt_all_data"),
        "lt_all_data after load",
    );
    check(
        &d.lt_ladder_u_data().to_value(),
        want.get("lt_ladder_u_data"),
        "lt_ladder_u_data after load",
    );
    check(
        &d.lt_ladder_s_data().to_value(),
        want.get("lt_ladder_s_data"),
        "lt_ladder_s_data after load",
    );
    trigger(1);
    let map = x.maps().lt_all_map().unwrap();
    check(
        &map.get(&0).unwrap().unwrap().to_value(),
        want.get("lt_all_data"),
        "lt_all_map[0]",
    );
    // encoding expect.json's values gives C's bytes, padding included
    let raw = x.object().map("lt_all_map").unwrap();
    let mut c_bytes = vec![0u8; raw.info().value_buffer_size];
    assert!(raw.lookup(&0u32.to_ne_bytes(), &mut c_bytes, 0).unwrap());
    assert!(c_bytes.iter().any(|b| *b != 0));
    let like = g::LtAll::default().to_value();
    let ours = g::LtAll::from_value(&from_json(want.get("lt_all_data"), &like)).unwrap();
    map.set(&0, &ours).unwrap();
    let mut back = vec![0u8; c_bytes.len()];
    raw.lookup(&0u32.to_ne_bytes(), &mut back, 0).unwrap();
    assert_eq!(back, c_bytes);
    assert_eq!(cb::pod::as_bytes(&ours), &c_bytes[..]);
}

/// A set of bitValues as the plain integers of struct lt_plainset (flag as 0 or 1).
fn plain_of(set: &Json) -> Json {
    let mut p = set.clone();
    if let Json::Obj(o) = &mut p {
        let bits = &mut o.iter_mut().find(|(k, _)| k == "bits").unwrap().1;
        if let Json::Obj(b) = bits {
            let flag = &mut b.iter_mut().find(|(k, _)| k == "flag").unwrap().1;
            *flag = Json::Num(if flag.bool() { "1" } else { "0" }.into());
        }
    }
    p
}

/// Writes lt_bits_in[0] (the wrapper's bitfields) and lt_plain_in[0] (plain integers); triggers
/// lt_echo; returns (lt_plain_out[0] as C read the wrapper's bitfields, lt_bits_out[0] as C wrote them).
fn echo(set_name: &str) -> (Value, Value, Json, Json) {
    let set = expected("layout").get("bitValues").get(set_name).clone();
    let x = g::init(&g::InitOptions {
        rodata: g::RodataInit {
            target_tgid: Some(pid()),
        },
        ..Default::default()
    })
    .unwrap();
    let bits_in =
        g::LtBitset::from_value(&from_json(&set, &g::LtBitset::default().to_value())).unwrap();
    let plain = plain_of(&set);
    let plain_in =
        g::LtPlainset::from_value(&from_json(&plain, &g::LtPlainset::default().to_value()))
            .unwrap();
    // sanity: the values round-trip through the type alone
    check(&bits_in.to_value(), &set, "lt_bitset round trip");
    let m = x.maps();
    m.lt_bits_in().unwrap().set(&0, &bits_in).unwrap();
    m.lt_plain_in().unwrap().set(&0, &plain_in).unwrap();
    trigger(1);
    let plain_out = m
        .lt_plain_out()
        .unwrap()
        .get(&0)
        .unwrap()
        .unwrap()
        .to_value();
    let bits_out = m
        .lt_bits_out()
        .unwrap()
        .get(&0)
        .unwrap()
        .unwrap()
        .to_value();
    (plain_out, bits_out, plain, set)
}

fn bits_to_c(set: &str) {
    let (plain_out, _, plain, _) = echo(set);
    check(&plain_out, &plain, "the wrapper's bitfields as C read them");
}

fn c_to_bits(set: &str) {
    let (_, bits_out, _, set) = echo(set);
    check(&bits_out, &set, "C's bitfields as the wrapper reads them");
}

fn main() {
    let mut tests = vec![
        test("types-complete", types_complete),
        test("c-layout", c_layout),
        test("data-initialized", || kernel(data_initialized)),
    ];
    // one pair of tests per set of bitValues in expect.json
    for (set, _) in expected("layout").get("bitValues").entries() {
        let (a, b) = (set.clone(), set.clone());
        tests.push(test(format!("bits-to-c/{set}"), move || {
            kernel(|| bits_to_c(&a))
        }));
        tests.push(test(format!("c-to-bits/{set}"), move || {
            kernel(|| c_to_bits(&b))
        }));
    }
    run(&tests, None);
}

fn kernel(f: impl FnOnce()) {
    if let Some(why) = kernel_skip_reason() {
        skip(why);
    }
    f()
}
