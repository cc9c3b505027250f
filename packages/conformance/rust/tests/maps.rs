//! maps: every common map kind used from both sides: the typed get/set/
//! delete/contains/iteration of the generated crate, and a BPF program that
//! updates the same maps on every getppid(2) of this process.

use std::collections::HashMap;

use coolbpf_conformance::{
    allowed_cpus, expected, kernel_skip_reason, on_cpu, pid, possible_cpus, run, skip, test,
    trigger, Json,
};
use maps as g;
use maps::coolbpf::{CStruct, IterMode};

fn spec(id: &str) -> Json {
    expected("maps").case(id).clone()
}

fn flag(name: &str) -> u64 {
    expected("maps").get("updateFlags").get(name).u64()
}

fn fresh() -> g::Maps {
    g::init(&g::InitOptions {
        rodata: g::RodataInit {
            target_tgid: Some(pid()),
        },
        ..Default::default()
    })
    .unwrap()
}

fn flow_key(j: &Json) -> g::MpFlowKey {
    g::MpFlowKey {
        addr: j.get("addr").int() as u32,
        port: j.get("port").int() as u16,
        proto: j.get("proto").int() as u8,
        ..Default::default()
    }
}

fn stats(j: &Json) -> g::MpFlowStats {
    g::MpFlowStats {
        packets: j.get("packets").u64(),
        bytes: j.get("bytes").u64(),
        label: g::CharArray::new(j.get("label").str()).unwrap(),
        delta: j.get("delta").int() as i32,
        ..Default::default()
    }
}

fn hash_struct_key() {
    let c = spec("hash-struct-key");
    let x = fresh();
    let flows = x.maps().mp_flows().unwrap();
    let key = flow_key(c.get("key"));
    let init = stats(c.get("initial"));
    flows.update(&key, &init, flag("NOEXIST")).unwrap();
    assert_eq!(flows.get(&key).unwrap(), Some(init));
    trigger(c.get("triggers").usize());
    assert_eq!(flows.get(&key).unwrap(), Some(stats(c.get("expect"))));
    assert!(flows.contains(&key).unwrap());
    let absent = flow_key(c.get("absentKey"));
    assert_eq!(flows.get(&absent).unwrap(), None);
    assert!(!flows.contains(&absent).unwrap());
    // the key decodes as it was written (padding zero on both sides)
    let keys: Vec<g::MpFlowKey> = flows.keys().map(|k| k.unwrap()).collect();
    assert_eq!(keys, vec![key]);
    assert_eq!(x.bss().unwrap().triggers(), c.get("triggers").u64());
}

fn flags() {
    let c = spec("flags");
    let x = fresh();
    let m = x.maps().mp_small().unwrap();
    let (k, missing) = (c.get("key").int() as u32, c.get("missing").int() as u32);
    let value = c.get("value").u64();
    m.set(&k, &value).unwrap();
    let e = m.update(&k, &1, flag("NOEXIST")).unwrap_err();
    assert_eq!(e.code(), c.get("expect").get("NOEXIST on existing").str());
    assert!(e.message().contains("mp_small"), "{e}");
    let e = m.update(&missing, &1, flag("EXIST")).unwrap_err();
    assert_eq!(e.code(), c.get("expect").get("EXIST on missing").str());
    assert_eq!(m.get(&k).unwrap(), Some(value)); // the failed updates changed nothing
    assert!(!m.contains(&missing).unwrap());
    m.update(&k, &c.get("replacement").u64(), g::BPF_EXIST)
        .unwrap();
    assert_eq!(m.get(&k).unwrap(), Some(c.get("replacement").u64()));
    assert!(m.delete(&k).unwrap());
    assert!(!m.delete(&k).unwrap());
    assert_eq!(m.get(&k).unwrap(), None);
    assert!(!m.contains(&k).unwrap());
    // the flags the crate exports are the kernel's
    assert_eq!(
        (g::BPF_ANY, g::BPF_NOEXIST, g::BPF_EXIST),
        (flag("ANY"), flag("NOEXIST"), flag("EXIST"))
    );
}

fn full() {
    let c = spec("full");
    let x = fresh();
    let m = x.maps().mp_small().unwrap();
    let max = expected("maps")
        .get("sizes")
        .get("maps")
        .get("mp_small")
        .get("maxEntries")
        .int() as u32;
    for i in 0..max {
        m.update(&i, &(u64::from(i) * 10), g::BPF_NOEXIST).unwrap();
    }
    assert_eq!(
        m.set(&max, &1).unwrap_err().code(),
        c.get("expect").get("error").str()
    );
    m.set(&0, &99).unwrap();
    assert_eq!(m.get(&0).unwrap(), Some(99));
    assert_eq!(m.keys().count(), c.get("expect").get("size").usize());
}

fn array() {
    let c = spec("array");
    let e = c.get("expect");
    let x = fresh();
    let a = x.maps().mp_array().unwrap();
    assert_eq!(
        a.values().map(|v| v.unwrap()).collect::<Vec<_>>(),
        vec![0; 4]
    );
    trigger(c.get("triggers").usize());
    let want: Vec<u64> = e.get("values").items().iter().map(Json::u64).collect();
    assert_eq!(
        (0..4)
            .map(|i| a.get(&i).unwrap().unwrap())
            .collect::<Vec<_>>(),
        want
    );
    let entries: Vec<(u32, u64)> = a.iter().map(|r| r.unwrap()).collect();
    assert_eq!(
        entries,
        want.iter()
            .enumerate()
            .map(|(i, v)| (i as u32, *v))
            .collect::<Vec<_>>()
    );
    assert_eq!(a.get(&4).unwrap(), None);
    assert!(!a.contains(&4).unwrap());
    assert_eq!(a.set(&4, &1).unwrap_err().code(), e.get("setPastEnd").str());
    assert_eq!(a.delete(&0).unwrap_err().code(), e.get("delete").str());
    assert_eq!(
        a.update(&0, &100, g::BPF_NOEXIST).unwrap_err().code(),
        e.get("NOEXIST").str()
    );
    a.update(&1, &5, g::BPF_EXIST).unwrap();
    assert_eq!(a.get(&1).unwrap(), Some(5));
}

fn percpu() {
    let c = spec("percpu");
    let cpus = allowed_cpus();
    if cpus.len() < 2 {
        skip(format!("this process may run on {} CPU only", cpus.len()));
    }
    let (a, b) = (cpus[0], cpus[1]);
    let t = c.get("triggers");
    let (na, nb) = (t.get("a").u64(), t.get("b").u64());
    let x = fresh();
    let n = possible_cpus();
    let arr = x.maps().mp_pcpu_array().unwrap();
    let hash = x.maps().mp_pcpu_hash().unwrap();
    assert_eq!((arr.cpus(), hash.cpus()), (n, n));
    on_cpu(a, || trigger(na as usize));
    on_cpu(b, || trigger(nb as usize));
    let values = arr.get(&0).unwrap().unwrap();
    let want: Vec<u64> = (0..n as u32)
        .map(|i| {
            if i == a {
                na
            } else if i == b {
                nb
            } else {
                0
            }
        })
        .collect();
    assert_eq!(values, want);
    assert_eq!(values.iter().sum::<u64>(), c.get("expect").get("sum").u64());
    let tallies = hash
        .get(&(c.get("pcpuHashKey").int() as u32))
        .unwrap()
        .unwrap();
    assert_eq!(tallies.len(), n);
    assert_eq!(
        (tallies[a as usize].count, tallies[a as usize].cpu),
        (na, a)
    );
    assert_eq!(
        (tallies[b as usize].count, tallies[b as usize].cpu),
        (nb, b)
    );
    // values set from the test land on their CPUs
    let mine: Vec<u64> = (0..n as u64).map(|i| 100 * (i + 1)).collect();
    arr.set(&0, &mine).unwrap();
    assert_eq!(arr.get(&0).unwrap().unwrap(), mine);
    on_cpu(a, || trigger(1));
    let after: Vec<u64> = mine
        .iter()
        .enumerate()
        .map(|(i, v)| if i as u32 == a { v + 1 } else { *v })
        .collect();
    assert_eq!(arr.get(&0).unwrap().unwrap(), after);
    assert_eq!(
        arr.iter().map(|r| r.unwrap()).collect::<Vec<_>>(),
        vec![(0, after)]
    );
    // the wrong number of values: an error (Rust: EINVAL naming the map)
    let e = arr.set(&0, &mine[1..]).unwrap_err();
    assert_eq!(e.code(), "EINVAL");
    assert!(e.message().contains("mp_pcpu_array"), "{e}");
}

fn lru() {
    let c = spec("lru");
    let x = fresh();
    let lru = x.maps().mp_lru().unwrap();
    let n = c.get("triggers").u64();
    trigger(n as usize);
    for i in 0..n {
        assert_eq!(lru.get(&(1000 + i)).unwrap(), Some(i * i));
    }
    let inserted = c.get("inserted").u64();
    for i in 0..inserted {
        lru.set(&(10_000 + i), &i).unwrap();
    }
    let keys: Vec<u64> = lru.keys().map(|k| k.unwrap()).collect();
    assert!(!keys.is_empty());
    assert!(keys.len() <= c.get("expect").get("maxEntries").usize());
    assert_eq!(
        lru.get(&(10_000 + inserted - 1)).unwrap(),
        Some(inserted - 1)
    );
    let mut unique = keys.clone();
    unique.sort_unstable();
    unique.dedup();
    assert_eq!(unique.len(), keys.len());
}

fn iterate() {
    let c = spec("iterate");
    let x = fresh();
    let flows = x.maps().mp_flows().unwrap();
    let n = c.get("entries").int() as u32;
    let mut want = HashMap::new();
    for i in 0..n {
        let k = g::MpFlowKey {
            addr: i,
            port: (i % 65536) as u16,
            proto: 17,
            ..Default::default()
        };
        let v = g::MpFlowStats {
            packets: u64::from(i),
            bytes: u64::from(i) * 1000,
            label: g::CharArray::new(&format!("f{i}")).unwrap(),
            delta: -(i as i32),
            ..Default::default()
        };
        flows.update(&k, &v, g::BPF_NOEXIST).unwrap();
        want.insert(k.addr, (k, v));
    }
    // batch lookup, several batches
    let mut it = flows.iter();
    let entries: Vec<(g::MpFlowKey, g::MpFlowStats)> = it.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(it.mode(), IterMode::Batch);
    assert!(it.batch_calls() > 1, "{} entries: more than one batch", n);
    assert_eq!(entries.len(), n as usize);
    assert_eq!(
        entries
            .iter()
            .map(|(k, v)| (k.addr, (*k, *v)))
            .collect::<HashMap<_, _>>(),
        want
    );
    let mut keys: Vec<u32> = flows.keys().map(|k| k.unwrap().addr).collect();
    keys.sort_unstable();
    assert_eq!(keys, (0..n).collect::<Vec<_>>());
    let mut labels: Vec<String> = flows
        .values()
        .map(|v| v.unwrap().label.to_string())
        .collect();
    labels.sort();
    let mut want_labels: Vec<String> = want.values().map(|(_, v)| v.label.to_string()).collect();
    want_labels.sort();
    assert_eq!(labels, want_labels);

    // next_key, the path for kernels and map types without batch operations
    let mut it = flows.iter_with(IterMode::NextKey);
    let via_next: Vec<(g::MpFlowKey, g::MpFlowStats)> = it.by_ref().map(|r| r.unwrap()).collect();
    assert_eq!(it.batch_calls(), 0);
    assert!(it.next_key_calls() >= n);
    assert_eq!(
        via_next
            .iter()
            .map(|(k, v)| (k.addr, (*k, *v)))
            .collect::<HashMap<_, _>>(),
        want
    );

    // the LPM trie: its prefixes, and a longest-prefix lookup as the kernel does it
    let lpm = x.maps().mp_lpm().unwrap();
    let mut prefixes = Vec::new();
    for p in c.get("lpm").items() {
        let a: Vec<u8> = p
            .get("addr")
            .items()
            .iter()
            .map(|b| b.int() as u8)
            .collect();
        let k = g::MpLpmKey {
            prefixlen: p.get("prefixlen").int() as u32,
            addr: [a[0], a[1], a[2], a[3]],
        };
        let v = p.get("value").int() as u32;
        lpm.set(&k, &v).unwrap();
        prefixes.push((k.prefixlen, k.addr, v));
    }
    let mut got: Vec<(u32, [u8; 4], u32)> = lpm
        .iter()
        .map(|r| r.unwrap())
        .map(|(k, v)| (k.prefixlen, k.addr, v))
        .collect();
    got.sort_unstable();
    prefixes.sort_unstable();
    assert_eq!(got, prefixes);
    assert_eq!(
        lpm.get(&g::MpLpmKey {
            prefixlen: 32,
            addr: [10, 1, 2, 200]
        })
        .unwrap(),
        Some(3)
    );

    // deleting the entry just yielded is safe in both modes
    for r in flows.iter() {
        flows.delete(&r.unwrap().0).unwrap();
    }
    assert_eq!(flows.keys().count(), 0);
    for r in lpm.iter_with(IterMode::NextKey) {
        lpm.delete(&r.unwrap().0).unwrap();
    }
    assert_eq!(lpm.keys().count(), 0);
}

fn sizes() {
    let s = expected("maps").get("sizes").clone();
    let x = fresh();
    for (name, want) in s.get("maps").entries() {
        let info = x.object().map(name).unwrap().info();
        assert_eq!(
            (
                name.as_str(),
                info.key_size,
                info.value_size,
                info.max_entries
            ),
            (
                name.as_str(),
                want.get("keySize").usize(),
                want.get("valueSize").usize(),
                want.get("maxEntries").int() as u32
            )
        );
    }
    assert_eq!(
        std::mem::size_of::<g::MpFlowKey>(),
        s.get("struct mp_flow_key").usize()
    );
    assert_eq!(
        std::mem::size_of::<g::MpFlowStats>(),
        s.get("struct mp_flow_stats").usize()
    );
    assert_eq!(
        std::mem::size_of::<g::MpCpuTally>(),
        s.get("struct mp_cpu_tally").usize()
    );
    assert_eq!(
        std::mem::size_of::<g::MpLpmKey>(),
        s.get("struct mp_lpm_key").usize()
    );
    assert_eq!(
        g::MpFlowKey::LAYOUT.size,
        s.get("struct mp_flow_key").usize()
    );
    assert_eq!(x.maps().mp_pcpu_hash().unwrap().cpus(), possible_cpus());
}

fn main() {
    run(
        &[
            test("hash-struct-key", hash_struct_key),
            test("flags", flags),
            test("full", full),
            test("array", array),
            test("percpu", percpu),
            test("lru", lru),
            test("iterate", iterate),
            test("sizes", sizes),
        ],
        kernel_skip_reason(),
    );
}
