"""ringbuf: typed events through a BPF ring buffer: exact contents, order,
iteration (blocking and asyncio) ended by stop(), a timeout or destroy, the
callback form, stats, bulk delivery, and a process that exits by itself."""
from __future__ import annotations

import asyncio
import os
import threading
import time
from typing import Any

import pytest
from conftest import allowed_cpus, case, expected, load_scenario, need_kernel, on_cpu, spec, trigger, until
from events_common import event_dict, parse, py_event, run_exit_child

E = expected("ringbuf")
PID = os.getpid()


@pytest.fixture(scope="module")
def g() -> Any:
    need_kernel()
    return load_scenario("ringbuf")


@case("contents")
def test_contents(g: Any) -> None:
    """contents: events arrive in order with every field exact; an async iteration stopped after the last one ends cleanly"""
    with g.init(rodata={"target_tgid": PID}) as x:
        cpu = allowed_cpus()[0]
        with on_cpu(cpu):
            trigger(len(E["events"]))

        async def read() -> list[Any]:
            got: list[Any] = []
            it = x.maps.rb_events.aiter()
            async for ev in it:
                got.append(ev)
                if len(got) == len(E["events"]):
                    it.stop()
            return got

        got = asyncio.run(read())
        assert [event_dict(e) for e in got] == [py_event(e, cpu) for e in E["events"]]
        assert got[0].kind is g.RbKind.RB_BEGIN and got[2].kind is g.RbKind.RB_NEG
        assert x.bss.dropped == 0


@case("waiting")
def test_waiting(g: Any) -> None:
    """waiting: an async iteration waiting for events gets them as they come (asyncio, loop.add_reader)"""
    c = spec("ringbuf", "waiting")
    with g.init(rodata={"target_tgid": PID}) as x:

        async def read() -> list[int]:
            loop = asyncio.get_running_loop()
            loop.call_later(0.02, trigger, c["triggers"])
            seqs: list[int] = []
            it = x.maps.rb_events.aiter()
            async for ev in it:
                seqs.append(ev.seq)
                if len(seqs) == c["triggers"]:
                    it.stop()
            return seqs

        assert asyncio.run(read()) == [0, 1, 2]
        # the blocking iterator, woken by events from another thread
        t = threading.Timer(0.02, trigger, [c["triggers"]])
        t.start()
        seqs = []
        it = x.maps.rb_events.iter()
        for ev in it:
            seqs.append(ev.seq)
            if len(seqs) == c["triggers"]:
                break
        t.join()
        assert seqs == [3, 4, 5]


@case("abort-idle")
def test_abort_idle(g: Any) -> None:
    """abort-idle: an idle iteration ends cleanly at its timeout, or when stop() is called from elsewhere"""
    c = spec("ringbuf", "abort-idle")
    ms = c["timeoutMs"]
    with g.init(rodata={"target_tgid": PID}) as x:
        t0 = time.monotonic()
        assert list(x.maps.rb_events.iter(timeout=ms / 1000)) == []
        assert ms / 1000 - 0.005 <= time.monotonic() - t0 < 5

        async def idle() -> list[Any]:
            return [ev async for ev in x.maps.rb_events.aiter(timeout=ms / 1000)]

        t0 = time.monotonic()
        assert asyncio.run(idle()) == []
        assert ms / 1000 - 0.005 <= time.monotonic() - t0 < 5
        it = x.maps.rb_events.iter()
        threading.Timer(ms / 1000, it.stop).start()
        t0 = time.monotonic()
        assert list(it) == []
        assert time.monotonic() - t0 < 5


@case("destroy-ends")
def test_destroy_ends(g: Any) -> None:
    """destroy-ends: destroy ends a waiting iteration cleanly (blocking, from another thread; and asyncio)"""
    x = g.init(rodata={"target_tgid": PID})
    threading.Timer(0.03, x.destroy).start()
    assert list(x.maps.rb_events) == []
    assert x.object.state == "destroyed"

    y = g.init(rodata={"target_tgid": PID})

    async def read() -> list[Any]:
        asyncio.get_running_loop().call_later(0.03, y.destroy)
        return [ev async for ev in y.maps.rb_events]

    assert asyncio.run(read()) == []
    assert y.object.state == "destroyed"


@case("subscribe")
@pytest.mark.filterwarnings("ignore::pytest.PytestUnhandledThreadExceptionWarning")
def test_subscribe(g: Any) -> None:
    """subscribe: a callback per event until stop(); what comes later stays for the next reader"""
    c = spec("ringbuf", "subscribe")
    a, b = c["triggers"]["a"], c["triggers"]["b"]
    ex = c["expect"]
    with g.init(rodata={"target_tgid": PID}) as x:
        ev = x.maps.rb_events
        seen: list[tuple[int, int]] = []
        sub = ev.subscribe(lambda e, cpu: seen.append((e.seq, cpu)))
        trigger(a)
        until(lambda: len(seen) >= a, "the subscribed events")
        sub.stop()
        sub.join()
        assert sub.done
        trigger(b)
        time.sleep(0.05)
        assert seen == [(i, ex["cpuArgument"]) for i in range(ex["callbacks"])]
        later = ev.drain()
        assert [e.seq for e in later] == [a + i for i in range(b)]
        assert ev.stats() == (ex["stats.records"], ex["stats.lost"])
        assert (ev.stats().records, ev.stats().lost) == (ex["stats.records"], ex["stats.lost"])

        # a callback that raises ends its subscription; join() raises it
        def boom(e: Any, cpu: int) -> None:
            raise RuntimeError("from the callback")

        sub2 = ev.subscribe(boom)
        trigger(1)
        with pytest.raises(RuntimeError, match="from the callback"):
            sub2.join(5)
        assert sub2.done

        # the asyncio form: callbacks in the loop
        async def in_loop() -> list[int]:
            got: list[int] = []
            s = ev.subscribe(lambda e, cpu: got.append(e.seq), loop=asyncio.get_running_loop())
            trigger(2)
            for _ in range(200):
                if len(got) >= 2:
                    break
                await asyncio.sleep(0.01)
            s.stop()
            return got

        got = asyncio.run(in_loop())
        assert len(got) == 2 and got[1] == got[0] + 1


@case("bulk")
def test_bulk(g: Any) -> None:
    """bulk: every queued event in order, none dropped"""
    c = spec("ringbuf", "bulk")
    n = c["triggers"]
    with g.init(rodata={"target_tgid": PID}) as x:
        trigger(n)
        nxt, out_of_order = 0, 0
        for ev in x.maps.rb_events.iter(timeout=5):
            if ev.seq != nxt:
                out_of_order += 1
            nxt = ev.seq + 1
            if nxt == n:
                break
        assert out_of_order == 0
        assert nxt == n
        assert x.bss.dropped == c["expect"]["dropped (.bss)"]
        assert x.maps.rb_events.stats().records == c["expect"]["stats.records"]


@case("exit")
def test_exit(g: Any) -> None:
    """exit: a process that read events (stopped iteration and subscription) exits by itself, without destroy"""
    want = spec("ringbuf", "exit")["expect"]
    code, out, err = run_exit_child("ringbuf", "rb_events", want["withinMs"] / 1000)
    assert (code, err) == (want["exitCode"], "")
    assert parse(out) == {"iterated": [0, 1, 2], "subscribed": [3, 4]}
