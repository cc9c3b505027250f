"""The ring buffer consumer through the generated Python package (`coolbpf-gen
build ringbuf.bpf.c --lang python`, pip-installed), used as a Python user
would: ringbuf.init(rodata=...) and the typed events of skel.maps.events,
read with events.poll(callback, timeout) (stream) or events.drain() (burst).
See bench/ringbuf.mjs.

    python3 consumer.py PRODUCER stream|burst N BATCH

The producer is producer.c's program, spawned: go bytes on its stdin, done
bytes on its stdout. The window, the checks and the result line are the C
consumers' (common.h): getrusage(RUSAGE_SELF) and the monotonic clock, from
just before the go byte to just after the last record; exactly N records in
seq order, .bss `dropped` 0. Exit status 1 when the run is not clean. The
callback keeps each record's seq (one list append, what a Python consumer
does at the least: keep what it got) and the checks run over that list after
the window; the C consumers check inside it, at about a nanosecond a record.
"""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time

import ringbuf

NAME = "python"
STALL_S = 10.0


def die(msg: str, producer: subprocess.Popen[bytes] | None = None) -> None:
    sys.stderr.write(f"{NAME}: {msg}\n")
    if producer is not None and producer.poll() is None:
        producer.kill()
    sys.exit(1)


class Window:
    """rusage and clock deltas summed over resume .. pause spans."""

    def __init__(self) -> None:
        self.user_us = self.sys_us = self.wall_ns = self.nvcsw = self.nivcsw = 0
        self._r0 = resource.getrusage(resource.RUSAGE_SELF)
        self._t0 = 0

    def resume(self) -> None:
        self._r0 = resource.getrusage(resource.RUSAGE_SELF)
        self._t0 = time.monotonic_ns()

    def pause(self) -> None:
        t1 = time.monotonic_ns()
        r1 = resource.getrusage(resource.RUSAGE_SELF)
        r0 = self._r0
        self.wall_ns += t1 - self._t0
        self.user_us += round((r1.ru_utime - r0.ru_utime) * 1e6)
        self.sys_us += round((r1.ru_stime - r0.ru_stime) * 1e6)
        self.nvcsw += r1.ru_nvcsw - r0.ru_nvcsw
        self.nivcsw += r1.ru_nivcsw - r0.ru_nivcsw


def main() -> int:
    a = sys.argv[1:]
    if len(a) != 4 or a[1] not in ("stream", "burst") or not a[2].isdigit() or not a[3].isdigit():
        die("usage: consumer.py PRODUCER stream|burst N BATCH")
    burst, n, batch = a[1] == "burst", int(a[2]), int(a[3])
    if not burst or batch == 0 or batch > n:
        batch = n
    producer = subprocess.Popen([a[0], str(n), str(batch)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0)
    assert producer.stdin is not None and producer.stdout is not None
    pin, pout = producer.stdin, producer.stdout

    def go() -> None:
        pin.write(b"g")

    def batch_done() -> None:
        if pout.read(1) != b"d":
            die("the producer exited before finishing a batch", producer)

    skel = ringbuf.init(rodata={"producer_tgid": producer.pid})
    events = skel.maps.events
    bss = skel.bss
    seqs: list[int] = []
    keep = seqs.append

    def on_event(ev: ringbuf.Record, _cpu: int) -> None:
        keep(ev.seq)

    reads = empty = 0
    w = Window()
    if not burst:
        poll = events.poll
        w.resume()
        go()
        last = time.monotonic()
        while len(seqs) < n:
            got = poll(on_event, 0.1)
            reads += 1
            if got:
                last = time.monotonic()
                continue
            empty += 1
            # the producer is done and nothing more is coming: stop (lost > 0)
            if bss.produced + bss.dropped == n and len(seqs) == bss.produced:
                break
            if time.monotonic() - last > STALL_S:
                die(f"no record for {STALL_S:.0f} s with {len(seqs)} of {n} delivered", producer)
        w.pause()
    else:
        done = 0
        while done < n:
            b = min(n - done, batch)
            go()
            batch_done()
            want = bss.produced
            w.resume()
            while len(seqs) < want:
                evs = events.drain()
                reads += 1
                if not evs:
                    empty += 1
                    break
                for ev in evs:
                    keep(ev.seq)
            w.pause()
            done += b

    rest = pout.read()
    if producer.wait() != 0:
        die(f"the producer failed (exit status {producer.returncode})")
    producer_cpu = -1
    for line in rest.decode().split("\n"):
        if line.startswith("{"):
            producer_cpu = json.loads(line)["producer_cpu_us"]
    produced, dropped = bss.produced, bss.dropped
    stats = events.stats()
    skel.destroy()
    # the tally (common.h's tally()), over what the window kept
    delivered, seq_sum = len(seqs), sum(seqs)
    out_of_order = sum(1 for i, s in enumerate(seqs) if s != i)
    lost = dropped + max(0, n - delivered)
    want_sum = n * (n - 1) // 2
    ok = lost == 0 and delivered == n and produced == n and seq_sum == want_sum and out_of_order == 0
    print(json.dumps({
        "consumer": NAME, "mode": "burst" if burst else "stream", "n": n, "produced": produced, "dropped": dropped,
        "delivered": delivered, "lost": lost, "seq_sum_ok": seq_sum == want_sum, "out_of_order": out_of_order,
        "bad_size": 0, "user_us": w.user_us, "sys_us": w.sys_us, "wall_us": w.wall_ns // 1000,
        "nvcsw": w.nvcsw, "nivcsw": w.nivcsw, "reads": reads, "empty_reads": empty,
        "producer_cpu_us": producer_cpu, "reader_records": stats.records,
    }), flush=True)
    if not ok:
        sys.stderr.write(f"{NAME}: run not clean: {lost} lost, {delivered} of {n} delivered ({produced} produced), "
                         f"seq sum {'ok' if seq_sum == want_sum else 'WRONG'}, {out_of_order} out of order\n")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
