"""perfbuf: the ringbuf scenario's events through a perf event array, with the
CPU each came from, none lost, and events BPF sent before the first read."""
from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest
from conftest import allowed_cpus, bpf_fd_counts, case, expected, load_scenario, need_kernel, on_cpu, spec, trigger
from events_common import event_dict, parse, py_event, run_exit_child

E = expected("perfbuf")
PID = os.getpid()


@pytest.fixture(scope="module")
def g() -> Any:
    need_kernel()
    return load_scenario("perfbuf")


def collect(events: Any, n: int, timeout: float = 5.0) -> list[tuple[Any, int]]:
    """Reads with subscribe() until n events came (or the timeout); stops the subscription."""
    got: list[tuple[Any, int]] = []
    done = threading.Event()

    def on_event(e: Any, cpu: int) -> None:
        got.append((e, cpu))
        if len(got) >= n:
            done.set()

    with events.subscribe(on_event):
        done.wait(timeout)
    return got


@case("before-first-read")
def test_before_first_read(g: Any) -> None:
    """before-first-read: events sent right after init(), before anything read them, are delivered"""
    n = spec("perfbuf", "before-first-read")["triggers"]
    with g.init(rodata={"target_tgid": PID}) as x:
        trigger(n)
        assert (x.bss.sent, x.bss.dropped) == (n, 0)
        got = collect(x.maps.pb_events, n, 1.0)
        assert [e.seq for e, _ in got] == list(range(n))


@case("contents")
def test_contents(g: Any) -> None:
    """contents: events arrive in order with every field exact, and with the CPU they came from"""
    with g.init(rodata={"target_tgid": PID}) as x:
        cpu = allowed_cpus()[0]
        with on_cpu(cpu):
            trigger(len(E["events"]))
        got = collect(x.maps.pb_events, len(E["events"]))
        assert [(event_dict(e), c) for e, c in got] == [(py_event(e, cpu), cpu) for e in E["events"]]
        assert x.maps.pb_events.stats() == (len(E["events"]), 0)


@case("two-cpus")
def test_two_cpus(g: Any) -> None:
    """two-cpus: events from two CPUs: each reported with its CPU, in order within each CPU"""
    cpus = allowed_cpus()
    if len(cpus) < 2:
        pytest.skip(f"this process may run on {len(cpus)} CPU only")
    c = spec("perfbuf", "two-cpus")
    a, b = c["triggers"]["a"], c["triggers"]["b"]
    with g.init(rodata={"target_tgid": PID}) as x:
        with on_cpu(cpus[0]):
            trigger(a)
        with on_cpu(cpus[1]):
            trigger(b)
        got = collect(x.maps.pb_events, a + b)
        for e, cpu in got:
            assert (e.seq, e.cpu) == (e.seq, cpu)
        assert [e.seq for e, cpu in got if cpu == cpus[0]] == list(range(a))
        assert [e.seq for e, cpu in got if cpu == cpus[1]] == list(range(a, a + b))


@case("iterate")
def test_iterate(g: Any) -> None:
    """iterate: an async iteration ends cleanly when stopped; the poll() callback form"""
    c = spec("perfbuf", "iterate")
    with g.init(rodata={"target_tgid": PID}) as x:
        trigger(c["triggers"])

        async def read() -> list[int]:
            seqs: list[int] = []
            it = x.maps.pb_events.aiter()
            async for ev in it:
                seqs.append(ev.seq)
                if len(seqs) == c["triggers"]:
                    it.stop()
            return seqs

        assert asyncio.run(read()) == [0, 1, 2]
        trigger(2)
        polled: list[int] = []
        while len(polled) < 2:
            assert x.maps.pb_events.poll(lambda e, cpu: polled.append(e.seq), timeout=5) > 0
        assert polled == [3, 4]


@case("lost")
def test_lost(g: Any) -> None:
    """lost: lost == 0 when the buffers hold everything"""
    c = spec("perfbuf", "lost")
    n = c["triggers"]
    with g.init(rodata={"target_tgid": PID}) as x:
        with on_cpu(allowed_cpus()[0]):
            trigger(n)
        got = collect(x.maps.pb_events, n)
        assert [e.seq for e, _ in got] == list(range(n))
        assert x.maps.pb_events.stats() == (c["expect"]["stats.records"], c["expect"]["stats.lost"])
        assert x.bss.dropped == c["expect"]["dropped (.bss)"]


@case("buffer-pages")
def test_buffer_pages(g: Any) -> None:
    """buffer-pages: the reader's buffer has the pages per CPU init(perf_pages=...) asks for; a count that is not a power of two is refused"""
    c = spec("perfbuf", "buffer-pages")
    n = c["triggers"]
    fds = bpf_fd_counts()
    with g.init(rodata={"target_tgid": PID}, perf_pages={"pb_events": c["pages"]}) as x:
        with on_cpu(allowed_cpus()[0]):
            trigger(n)
        dropped = x.bss.dropped
        assert dropped > 0
        got = collect(x.maps.pb_events, n - dropped)
        assert [e.seq for e, _ in got] == list(range(n - dropped))
    with pytest.raises(ValueError, match="pb_events"):
        g.init(rodata={"target_tgid": PID}, perf_pages={"pb_events": c["badPages"]})
    with pytest.raises(TypeError, match="not a perf event array"):
        g.init(rodata={"target_tgid": PID}, perf_pages={"no_such": 8})
    assert bpf_fd_counts() == fds


@case("exit")
def test_exit(g: Any) -> None:
    """exit: a process that read events (stopped iteration and subscription) exits by itself, without destroy"""
    want = spec("perfbuf", "exit")["expect"]
    code, out, err = run_exit_child("perfbuf", "pb_events", want["withinMs"] / 1000)
    assert (code, err) == (want["exitCode"], "")
    assert parse(out) == {"iterated": [0, 1, 2], "subscribed": [3, 4]}
