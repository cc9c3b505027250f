"""The coolbpf Python runtime on its own: codecs without the kernel, and a bpf.so of
packages/runtime-tests/bpf/rt.bpf.c (path in $COOLBPF_RT_SO, built by
packages/conformance/python-runtime.test.ts) against the running kernel, with
hand-written layouts, as generated code would write them."""
from __future__ import annotations

import ctypes
import gc
import os
import struct
import threading
import time
from dataclasses import dataclass
from typing import Any, Iterator

import pytest

import coolbpf as cb
from coolbpf._events import TypedEvents

k = cb.Codecs("<")
PID = os.getpid()
RT_SO = os.environ.get("COOLBPF_RT_SO", "")

# x86-64 system call numbers the object looks for (tp_btf and raw_tp programs)
NR_GETPGID, NR_GETSID = 121, 124


@dataclass(slots=True)
class RtEvent(cb.Struct):
    kind: int = 0
    tag: int = 0
    pid: int = 0
    cpu: int = 0
    value: int = 0
    flag: int = 0


RT_EVENT = cb.layout(RtEvent, k, "struct rt_event", 32, 8, [
    cb.field("kind", "kind", 0, k.u32), cb.field("tag", "tag", 4, k.u32), cb.field("pid", "pid", 8, k.u32),
    cb.field("cpu", "cpu", 12, k.u32), cb.field("value", "value", 16, k.u64), cb.field("flag", "flag", 24, k.u64),
])


@dataclass(slots=True)
class KvValue(cb.Struct):
    a: int = 0
    b: int = 0
    name: str = ""


KV_VALUE = cb.layout(KvValue, k, "struct kv_value", 24, 8, [
    cb.field("a", "a", 0, k.u64), cb.field("b", "b", 8, k.u32), cb.field("name", "name", 12, k.cstr(8)),
])


# ---- without the kernel ------------------------------------------------------


def test_errno_names() -> None:
    assert [cb.errno_name(n) for n in (2, 11, 13, 95, 524, 99999)] == [
        "ENOENT", "EAGAIN", "EACCES", "EOPNOTSUPP", "ENOTSUPP", "EUNKNOWN"]
    e = cb.CoolbpfError("load: program 'p': Permission denied\nlog line 1\nlog line 2", None, 13)
    assert (e.code, e.errno, e.detail) == ("EACCES", 13, "log line 1\nlog line 2")
    assert cb.CoolbpfError("x", "ESTATE").code == "ESTATE"


def test_scalar_codecs_check_ranges_and_name_the_value() -> None:
    b = bytearray(8)
    k.i16.encode(b, 0, -32768)
    assert k.i16.decode(b) == -32768
    with pytest.raises(OverflowError, match=r"x: 65536 does not fit in __u16 \(0..65535\)"):
        k.u16.encode(b, 0, 65536, "x")
    with pytest.raises(TypeError, match="x: __u32 takes an int"):
        k.u32.encode(b, 0, 1.5, "x")  # type: ignore[arg-type]
    with pytest.raises(OverflowError, match="float"):
        k.f32.encode(b, 0, 1e300, "f")
    k.u128.encode(b := bytearray(16), 0, 2**128 - 1)
    assert k.u128.decode(b) == 2**128 - 1
    k.i128.encode(b, 0, -(2**127))
    assert k.i128.decode(b) == -(2**127)
    big = cb.Codecs(">")
    bb = bytearray(4)
    big.u32.encode(bb, 0, 0x01020304)
    assert bytes(bb) == b"\x01\x02\x03\x04"


def test_arrays_strings_bytes() -> None:
    grid = k.array(k.array(k.i16, [3]), [2])
    b = bytearray(grid.size)
    grid.encode(b, 0, [[1, 2], [-3]])
    assert grid.decode(b) == [[1, 2, 0], [-3, 0, 0]]
    with pytest.raises(ValueError, match=r"g\[1\]: 4 elements do not fit in an array of 3"):
        grid.encode(b, 0, [[1], [1, 2, 3, 4]], "g")
    with pytest.raises(OverflowError, match=r"g\[0\]\[1\]: 40000 does not fit in __s16"):
        grid.encode(b, 0, [[1, 40000]], "g")
    s = k.cstr(4)
    b = bytearray(4)
    s.encode(b, 0, "abcd")  # exactly n bytes: no NUL, as C allows
    assert s.decode(b) == "abcd"
    s.encode(b, 0, "é")
    assert bytes(b) == "é".encode() + b"\0\0" and s.decode(b) == "é"
    with pytest.raises(ValueError, match="5 bytes does not fit in char"):
        s.encode(b, 0, "abcde")
    o = k.octets(3)
    o.encode(b, 0, b"\x01")
    assert o.decode(b) == b"\x01\0\0"
    with pytest.raises(ValueError, match="4 bytes do not fit in 3"):
        o.encode(b, 0, b"1234")


def synthetic_batch(records: list[tuple[int, int, bytes]]) -> bytes:
    out = b""
    for size, cpu, data in records:
        out += struct.pack("=II", size, cpu) + data + bytes(((size + 7) & ~7) - size)
    return out


class FakeRaw:
    """RawEvents' read() and wait() over prepared batches."""

    def __init__(self, batches: list[bytes]) -> None:
        self.batches = batches
        self.map = "fake"
        self.closed = False
        self.fd = -1
        self._wakers: set[Any] = set()

    def read(self, buf: Any) -> int:
        if not self.batches:
            return 0
        b = self.batches.pop(0)
        ctypes.memmove(buf, b, len(b))
        return len(b)

    def wait(self, timeout: float | None, waker: Any = None) -> bool:
        return False

    def _add_waker(self, w: Any) -> None:
        pass


def test_batch_decoding_fast_and_generic_paths_agree() -> None:
    evs = [RtEvent(kind=i, tag=7, pid=1, cpu=i % 2, value=2**64 - 1 - i, flag=i) for i in range(50)]
    same = synthetic_batch([(32, e.cpu, e.to_bytes()) for e in evs])
    mixed = synthetic_batch([(32 if i % 2 else 40, e.cpu, e.to_bytes() + (b"" if i % 2 else bytes(8))) for i, e in enumerate(evs)])
    for batch in (same, mixed):
        te = TypedEvents(FakeRaw([batch]), RT_EVENT)  # type: ignore[arg-type]
        got: list[tuple[Any, int]] = []
        assert te.poll(lambda e, cpu: got.append((e, cpu)), 0) == 50
        assert got == [(e, e.cpu) for e in evs]
    short = synthetic_batch([(32, 0, evs[0].to_bytes()), (16, 0, bytes(16)), (32, 1, evs[1].to_bytes())])
    te = TypedEvents(FakeRaw([short]), RT_EVENT)  # type: ignore[arg-type]
    with pytest.raises(cb.CoolbpfError, match="a record of 16 bytes is shorter") as info:
        te.drain()
    assert info.value.code == "EMISMATCH"
    assert te.drain() == [evs[0], evs[1]]  # the others were kept


def test_lazy_batches_keep_what_a_callback_did_not_get() -> None:
    evs = [RtEvent(kind=i, tag=1, pid=2, cpu=0, value=i, flag=0) for i in range(10)]
    batch = synthetic_batch([(32, 0, e.to_bytes()) for e in evs])
    assert RT_EVENT.star_decoder() is RtEvent  # the lazy path is the one under test

    # a callback that raises: the rest of the batch stays, in order, for any reader
    te = TypedEvents(FakeRaw([batch, batch]), RT_EVENT)  # type: ignore[arg-type]
    seen: list[Any] = []

    def third_raises(e: Any, cpu: int) -> None:
        seen.append(e)
        if len(seen) == 3:
            raise KeyError("stop")

    with pytest.raises(KeyError):
        te.poll(third_raises, 0)
    assert seen == evs[:3]
    assert te.drain() == evs[3:]
    assert te.drain() == evs  # the second batch, read only now

    # a callback that drains: it gets the rest of the batch; poll delivers nothing twice
    te = TypedEvents(FakeRaw([batch]), RT_EVENT)  # type: ignore[arg-type]
    first: list[Any] = []
    drained: list[Any] = []

    def drain_inside(e: Any, cpu: int) -> None:
        first.append(e)
        if not drained:
            drained.extend(te.drain())

    assert te.poll(drain_inside, 0) == 1
    assert first == evs[:1] and drained == evs[1:]

    # iteration after a partial poll goes on where it stopped
    te = TypedEvents(FakeRaw([batch]), RT_EVENT)  # type: ignore[arg-type]
    with pytest.raises(KeyError):
        te.poll(lambda e, cpu: (_ for _ in ()).throw(KeyError("x")) if e.kind == 5 else None, 0)
    assert list(te.iter(timeout=0)) == evs[6:]


# ---- against the kernel -----------------------------------------------------------


def kernel_skip() -> str | None:
    if not RT_SO:
        return "no $COOLBPF_RT_SO (packages/conformance/python-runtime.test.ts builds rt.bpf.c and sets it)"
    if os.geteuid() != 0:
        return "loading BPF needs root"
    if not os.path.exists("/sys/kernel/tracing/events/syscalls/sys_enter_getppid"):
        return "no syscalls/sys_enter_getppid tracepoint"
    return None


kernel = pytest.mark.skipif(kernel_skip() is not None, reason=kernel_skip() or "")


def opened(tag: int = 0) -> cb.BpfObject:
    obj = cb.open_object(RT_SO)
    ro = obj.section(".rodata")
    ro.set(k.u32, 0, PID, "target_tgid")
    ro.set(k.u32, 4, tag, "tag")
    return obj


@pytest.fixture()
def obj() -> Iterator[cb.BpfObject]:
    o = opened(77)
    o.load()
    o.attach()
    yield o
    o.destroy()


def events(o: cb.BpfObject, name: str = "rt_events") -> cb.TypedEvents[RtEvent]:
    return cb.TypedEvents(o.events(name), RT_EVENT)


@kernel
def test_load_library_identity_and_errors(tmp_path: Any) -> None:
    lib = cb.load_library(RT_SO)
    assert lib is cb.load_library(os.path.relpath(RT_SO))  # one Library per file
    assert lib.abi_version == cb.ABI_VERSION and len(lib.object_sha256) == 64
    with pytest.raises(cb.CoolbpfError, match="expected " + "0" * 64) as e:
        cb.load_library(RT_SO, sha256="0" * 64)
    assert e.value.code == "EMISMATCH" and lib.object_sha256 in str(e.value)
    with pytest.raises(cb.CoolbpfError) as e:
        cb.load_library(RT_SO, abi_version=99)
    assert e.value.code == "EMISMATCH"
    with pytest.raises(cb.CoolbpfError, match="no such file") as e:
        cb.load_library(tmp_path / "none.so")
    assert e.value.code == "ENOENT"
    junk = tmp_path / "junk.so"
    junk.write_bytes(b"not an ELF file")
    with pytest.raises(cb.CoolbpfError) as e:
        cb.load_library(junk)
    assert e.value.code == "ELIBBAD"
    libc = next(line.split()[-1] for line in open("/proc/self/maps") if "libc.so" in line)
    with pytest.raises(cb.CoolbpfError, match="is not a coolbpf bpf.so") as e:
        cb.load_library(libc)
    assert e.value.code == "EMISMATCH"


@kernel
def test_states_and_messages() -> None:
    o = opened()
    assert o.state == "opened"
    with pytest.raises(cb.CoolbpfError, match="not loaded yet; call load") as e:
        o.attach()
    assert e.value.code == "ESTATE"
    with pytest.raises(cb.CoolbpfError, match="rt_kv.*not loaded yet"):
        o.map("rt_kv").lookup(b"\0\0\0\0", (ctypes.c_ubyte * 24)())
    o.load()
    with pytest.raises(cb.CoolbpfError, match="already loaded") as e:
        o.set_initial(".rodata", 0, b"\0")
    assert e.value.code == "ESTATE"
    o.attach()
    assert str(o.state) == "attached"
    o.destroy()
    o.destroy()
    with pytest.raises(cb.CoolbpfError, match="destroyed") as e:
        o.load()
    assert e.value.code == "EDESTROYED"


@kernel
def test_auto_attach_kinds_and_live_data(obj: cb.BpfObject) -> None:
    ev = events(obj)
    data = obj.section(".data")
    assert data.get(k.u64, 0) == 0x100
    data.set(k.u64, 0, 0xABC, "flag")
    os.getppid()
    os.getpgid(0)
    os.getsid(0)
    got = ev.drain()
    kinds = {e.kind: e for e in got}
    assert set(kinds) >= {1, 2, 3}, got
    assert kinds[1].tag == 77 and kinds[1].pid == PID and kinds[1].flag == 0xABC
    assert kinds[2].value == NR_GETPGID and kinds[3].value == NR_GETSID
    bss = obj.section(".bss")
    assert bss.get(k.u64, 0) == 1  # hits_tp
    ro = obj.section(".rodata")
    assert ro.read_only and ro.get(k.u32, 4) == 77
    with pytest.raises(AttributeError, match="read-only after load"):
        ro.set(k.u32, 4, 1, "tag")


@kernel
def test_uprobe_on_a_libc_function(obj: cb.BpfObject) -> None:
    libc = next(line.split()[-1] for line in open("/proc/self/maps") if "libc.so" in line)
    ev = events(obj)
    with obj.attach_uprobe("on_uprobe", libc, "abs", pid=PID) as link:
        assert ctypes.CDLL(libc).abs(-42) == 42
        assert link.attached
    assert not link.attached
    ctypes.CDLL(libc).abs(-1)  # detached: not seen
    up = [e for e in ev.drain() if e.kind == 4]
    assert [(e.value & 0xFFFFFFFF) for e in up] == [(-42) & 0xFFFFFFFF]
    assert obj.section(".bss").get(k.u64, 8) == 1  # hits_uprobe


@kernel
def test_maps(obj: cb.BpfObject) -> None:
    kv = cb.TypedMap(obj.map("rt_kv"), k.u32, KV_VALUE)
    assert kv.raw.info().max_entries == 1024 and kv.raw.fd() > 0
    for i in range(700):
        kv[i] = KvValue(a=i, b=i * 2, name=f"n{i}")
    assert kv[5] == KvValue(5, 10, "n5")
    assert dict(kv.items()) == {i: KvValue(i, i * 2, f"n{i}") for i in range(700)}
    assert len(kv) == 700 and 699 in kv and 700 not in kv
    with pytest.raises(cb.CoolbpfError, match="rt_kv") as e:
        kv.set(1, KvValue(), cb.BPF_NOEXIST)
    assert e.value.code == "EEXIST"
    with pytest.raises(OverflowError, match=r"rt_kv value\.b: 4294967296"):
        kv[1] = KvValue(b=2**32)
    assert kv[1] == KvValue(1, 2, "n1")  # unchanged
    kv.clear()
    assert list(kv) == []
    with pytest.raises(cb.CoolbpfError, match="not a per-CPU map"):
        cb.PerCpuMap(obj.map("rt_kv"), k.u32, KV_VALUE)
    with pytest.raises(cb.CoolbpfError, match="the value type is 8 bytes"):
        cb.TypedMap(obj.map("rt_kv"), k.u32, k.u64)
    pc = cb.PerCpuMap(obj.map("rt_pcpu"), k.u32, k.u64)
    assert pc.cpus == obj.library.possible_cpus()
    os.getppid()
    assert sum(pc[0]) == 1


@kernel
def test_perf_buffer_and_stats(obj: cb.BpfObject) -> None:
    pev = events(obj, "rt_pevents")
    cpu = sorted(os.sched_getaffinity(0))[0]
    before = os.sched_getaffinity(0)
    os.sched_setaffinity(0, {cpu})
    try:
        for _ in range(5):
            os.getppid()
    finally:
        os.sched_setaffinity(0, before)
    got: list[tuple[int, int]] = []
    while len(got) < 5:
        assert pev.poll(lambda e, c: got.append((e.cpu, c)), timeout=5) > 0
    assert got == [(cpu, cpu)] * 5
    assert pev.stats() == (5, 0)
    with pytest.raises(ValueError, match="power of two"):
        obj.events("rt_pevents", 3)


@kernel
def test_destroy_from_another_thread_ends_readers(obj: cb.BpfObject) -> None:
    ev = events(obj)
    results: list[Any] = []
    t = threading.Thread(target=lambda: results.append(list(ev.iter())))
    t.start()
    time.sleep(0.05)
    obj.destroy()
    t.join(5)
    assert not t.is_alive() and results == [[]]
    with pytest.raises(cb.CoolbpfError) as e:
        ev.drain()
    assert e.value.code in ("ESTATE", "EDESTROYED")


@kernel
def test_garbage_object_is_destroyed() -> None:
    def ids() -> set[int]:
        out = set()
        for fd in os.listdir("/proc/self/fd"):
            try:
                if os.readlink(f"/proc/self/fd/{fd}") == "anon_inode:bpf-prog":
                    out.add(int(fd))
            except OSError:
                pass
        return out

    before = ids()
    o = opened()
    o.load()
    assert len(ids() - before) > 0
    del o
    gc.collect()
    assert ids() - before == set()

