"""maps: every common map kind used from both sides: the typed mapping API
(m[k], get, set with flags, del, in, keys/values/items), and a BPF program that
updates the same maps on every getppid(2) of this process."""
from __future__ import annotations

import os
from typing import Any, Iterator

import pytest
from conftest import (
    allowed_cpus, case, expected, load_scenario, need_kernel, on_cpu, possible_cpus, raises_code, spec, trigger,
)

E = expected("maps")
F = E["updateFlags"]
PID = os.getpid()


@pytest.fixture(scope="module")
def g() -> Any:
    need_kernel()
    return load_scenario("maps")


@pytest.fixture()
def x(g: Any) -> Iterator[Any]:
    """A fresh object per test: maps start empty."""
    with g.init(rodata={"target_tgid": PID}) as obj:
        yield obj


def stats(g: Any, v: dict[str, Any]) -> Any:
    return g.MpFlowStats(packets=int(v["packets"]), bytes_=int(v["bytes"]), label=v["label"], delta=v["delta"])


@case("hash-struct-key")
def test_hash_struct_key(g: Any, x: Any) -> None:
    """hash-struct-key: a hash with a struct key and a struct value, updated from both sides"""
    c = spec("maps", "hash-struct-key")
    key = g.MpFlowKey(**c["key"])
    flows = x.maps.mp_flows
    flows.set(key, stats(g, c["initial"]), F["NOEXIST"])
    assert flows[key] == stats(g, c["initial"])
    trigger(c["triggers"])
    assert flows[key] == stats(g, c["expect"])
    assert key in flows
    absent = g.MpFlowKey(**c["absentKey"])
    assert flows.get(absent) is None
    assert absent not in flows
    with pytest.raises(KeyError):
        flows[absent]
    assert list(flows.keys()) == [key]  # the key decodes as it was written
    assert x.bss.triggers == c["triggers"]


@case("flags")
def test_flags(g: Any, x: Any) -> None:
    """flags: update flags: NOEXIST on an existing key, EXIST on a missing one; delete and in"""
    c = spec("maps", "flags")
    m = x.maps.mp_small
    k, missing = c["key"], c["missing"]
    m[k] = int(c["value"])
    e1 = raises_code(c["expect"]["NOEXIST on existing"], lambda: m.set(k, 1, g.BPF_NOEXIST))
    assert "mp_small" in str(e1)
    raises_code(c["expect"]["EXIST on missing"], lambda: m.set(missing, 1, g.BPF_EXIST))
    assert m[k] == int(c["value"])  # the failed updates changed nothing
    assert missing not in m
    m.set(k, int(c["replacement"]), F["EXIST"])
    assert m[k] == int(c["replacement"])
    assert m.delete(k) is True
    assert m.delete(k) is False
    assert m.get(k) is None
    assert k not in m
    m[k] = 1
    del m[k]
    with pytest.raises(KeyError):
        del m[k]


@case("full")
def test_full(x: Any) -> None:
    """full: a full hash refuses a new key (E2BIG) and still replaces existing ones"""
    c = spec("maps", "full")
    m = x.maps.mp_small
    n = E["sizes"]["maps"]["mp_small"]["maxEntries"]
    for i in range(n):
        m.set(i, i * 10, F["NOEXIST"])
    raises_code(c["expect"]["error"], lambda: m.set(n, 1))
    m[0] = 99
    assert m[0] == 99
    assert len(m) == c["expect"]["size"]
    assert len(list(m.keys())) == c["expect"]["size"]


@case("array")
def test_array(x: Any) -> None:
    """array: BPF counts in slot n % 4; bounds, delete and flags behave as the kernel says"""
    c = spec("maps", "array")
    a = x.maps.mp_array
    assert list(a.values()) == [0, 0, 0, 0]
    trigger(c["triggers"])
    want = [int(v) for v in c["expect"]["values"]]
    assert [a[i] for i in range(4)] == want
    assert list(a.items()) == list(enumerate(want))
    assert dict(a) == dict(enumerate(want))
    assert a.get(4) is None
    assert 4 not in a
    raises_code(c["expect"]["setPastEnd"], lambda: a.set(4, 1))
    raises_code(c["expect"]["delete"], lambda: a.delete(0))
    raises_code(c["expect"]["NOEXIST"], lambda: a.set(0, 100, F["NOEXIST"]))
    a.set(1, 5, F["EXIST"])
    assert a[1] == 5


@case("percpu")
def test_percpu(g: Any, x: Any) -> None:
    """percpu: per-CPU array and hash: one value per possible CPU, index = CPU, as BPF counted them"""
    c = spec("maps", "percpu")
    cpus = allowed_cpus()
    if len(cpus) < 2:
        pytest.skip(f"this process may run on {len(cpus)} CPU only")
    a, b = cpus[0], cpus[1]
    n = possible_cpus()
    arr, h = x.maps.mp_pcpu_array, x.maps.mp_pcpu_hash
    assert arr.cpus == n and h.cpus == n
    with on_cpu(a):
        trigger(c["triggers"]["a"])
    with on_cpu(b):
        trigger(c["triggers"]["b"])
    values = arr[0]
    assert len(values) == n
    assert values == [c["triggers"]["a"] if i == a else c["triggers"]["b"] if i == b else 0 for i in range(n)]
    assert sum(values) == int(c["expect"]["sum"])
    tallies = h[c["pcpuHashKey"]]
    assert len(tallies) == n
    assert tallies[a] == g.MpCpuTally(count=c["triggers"]["a"], cpu=a)
    assert tallies[b] == g.MpCpuTally(count=c["triggers"]["b"], cpu=b)
    mine = [100 * (i + 1) for i in range(n)]
    arr[0] = mine
    assert arr[0] == mine
    with on_cpu(a):
        trigger(1)
    after = [v + 1 if i == a else v for i, v in enumerate(mine)]
    assert arr[0] == after
    assert list(arr.items()) == [(0, after)]
    with pytest.raises(ValueError, match="one per possible CPU"):
        arr[0] = mine[1:]


@case("lru")
def test_lru(x: Any) -> None:
    """lru: LRU hash: the entries BPF inserted; never more than max_entries"""
    c = spec("maps", "lru")
    lru = x.maps.mp_lru
    trigger(c["triggers"])
    for i in range(c["triggers"]):
        assert lru[1000 + i] == i * i
    inserted = c["inserted"]
    for i in range(inserted):
        lru[10_000 + i] = i
    keys = list(lru)
    assert 0 < len(keys) <= c["expect"]["maxEntries"]
    assert lru[10_000 + inserted - 1] == inserted - 1
    assert len(set(keys)) == len(keys)


@case("iterate")
def test_iterate(g: Any, x: Any) -> None:
    """iterate: batch lookup over several batches, next_key where there is no batch, deleting while iterating"""
    c = spec("maps", "iterate")
    flows = x.maps.mp_flows
    n = c["entries"]
    want = {}
    for i in range(n):
        k = g.MpFlowKey(addr=i, port=i % 65536, proto=17)
        v = g.MpFlowStats(packets=i, bytes_=i * 1000, label=f"f{i}", delta=-i)
        flows.set(k, v, F["NOEXIST"])
        want[(k.addr, k.port, k.proto)] = v

    raw = flows.raw
    real_batch = raw.lookup_batch
    results: list[Any] = []

    def spy(*args: Any) -> Any:
        r = real_batch(*args)
        results.append(r)
        return r

    raw.lookup_batch = spy
    try:
        entries = [kv for kv in flows.items()]
    finally:
        del raw.lookup_batch
    assert len(results) > 1 and all(r is not None for r in results)  # 600 entries: several batches
    assert len(entries) == n
    assert {(k.addr, k.port, k.proto): v for k, v in entries} == want
    assert sorted((k.addr, k.port, k.proto) for k in flows.keys()) == sorted(want)
    assert sorted(v.label for v in flows.values()) == sorted(v.label for v in want.values())

    # the next_key path, as on a kernel or map type without batch operations
    calls = {"batch": 0, "next": 0}
    real_next = raw.next_key

    def no_batch(*args: Any) -> None:
        calls["batch"] += 1
        return None

    def next_spy(*args: Any) -> Any:
        calls["next"] += 1
        return real_next(*args)

    raw.lookup_batch, raw.next_key = no_batch, next_spy
    try:
        via_next = [kv for kv in flows.items()]  # (list() would also call len(): a walk of its own)
    finally:
        del raw.lookup_batch, raw.next_key
    assert calls["batch"] == 1 and calls["next"] >= n
    assert {(k.addr, k.port, k.proto): v for k, v in via_next} == want

    lpm = x.maps.mp_lpm
    for p in c["lpm"]:
        lpm[g.MpLpmKey(prefixlen=p["prefixlen"], addr=bytes(p["addr"]))] = p["value"]
    got = sorted((k.prefixlen, list(k.addr), v) for k, v in lpm.items())
    assert got == sorted((p["prefixlen"], p["addr"], p["value"]) for p in c["lpm"])
    # a longest-prefix lookup, as the kernel does it
    assert lpm[g.MpLpmKey(prefixlen=32, addr=bytes([10, 1, 2, 200]))] == 3

    # deleting the entry just yielded is safe in both modes
    for k in flows:
        del flows[k]
    assert list(flows.keys()) == []
    for k in lpm:
        del lpm[k]
    assert list(lpm.keys()) == []


@case("sizes")
def test_sizes(g: Any, x: Any) -> None:
    """sizes: the kernel's key and value sizes equal the generated types'"""
    for name, want in E["sizes"]["maps"].items():
        info = x.object.map(name).info()
        assert (name, info.key_size, info.value_size, info.max_entries) == (
            name, want["keySize"], want["valueSize"], want["maxEntries"])
    assert g.MpFlowKey.SIZE == E["sizes"]["struct mp_flow_key"]
    assert g.MpFlowStats.SIZE == E["sizes"]["struct mp_flow_stats"]
    assert g.MpCpuTally.SIZE == E["sizes"]["struct mp_cpu_tally"]
    assert g.MpLpmKey.SIZE == E["sizes"]["struct mp_lpm_key"]
    assert x.maps.mp_pcpu_hash.cpus == possible_cpus()
