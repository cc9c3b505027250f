"""net-observe as a Python library: attach, then read per-connection stats.

    import netobserve

    with netobserve.observe(pid=1234) as obs:   # pid/port 0: every process / port
        while ...:
            obs.poll(0.5)                        # takes the events that arrived
            for c in obs.connections(): ...      # ConnectionStats, live
    # leaving the block detaches: nothing stays loaded

Needs the generated package `net_observe` (build/python) on the path.
"""
from __future__ import annotations

import ipaddress
import math
from dataclasses import asdict, dataclass
from typing import Any

import net_observe

__all__ = ["ConnectionStats", "Observer", "hist_percentile_ms", "observe", "slot_bounds"]

_PROTOCOLS = ("unknown", "http", "redis")
_ROLES = ("unknown", "server", "client")
_EV_CLOSE = 3


def _addr(a: bytes, family: int) -> str:
    if family == 2:
        return ".".join(str(b) for b in a[:4])
    b = bytes(a[:16])
    if b[:12] == b"\0" * 10 + b"\xff\xff":  # IPv4-mapped (a dual-stack socket talking IPv4)
        return "::ffff:" + ".".join(str(x) for x in b[12:])
    return str(ipaddress.IPv6Address(b))


def slot_bounds(slot: int) -> tuple[int, int]:
    """The latencies that slot `slot` of a connection's latency_hist counts,
    [low, high) in units of 1024 ns: the BPF side's lat_slot() inverted."""
    if slot < 4:
        return slot, slot + 1
    e, sub = slot // 4 + 1, slot % 4
    return (4 + sub) << (e - 2), (5 + sub) << (e - 2)


def hist_percentile_ms(hist: list[int], p: float) -> float | None:
    """Nearest-rank percentile of the latencies a histogram counts, in
    milliseconds: the middle of the slot that holds it (a slot spans at most a
    quarter of its lower bound, so the value is within 12.5 %). None when the
    histogram is empty."""
    total = sum(hist)
    if total == 0:
        return None
    rank = max(1, math.ceil(p * total))
    seen = 0
    for slot, n in enumerate(hist):
        seen += n
        if seen >= rank:
            lo, hi = slot_bounds(slot)
            return (lo + hi) / 2 * 1024 / 1e6
    return None


@dataclass
class ConnectionStats:
    pid: int
    comm: str
    fd: int
    role: str
    protocol: str
    local_addr: str
    local_port: int
    remote_addr: str
    remote_port: int
    bytes_in: int
    bytes_out: int
    calls_in: int
    calls_out: int
    requests: int
    p50_ms: float | None
    p99_ms: float | None
    closed: bool

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class _Tracked:
    c: net_observe.Conn
    closed: bool = False

    def merge(self, c: net_observe.Conn) -> None:
        # counters only grow: keep the larger of what we have and what we read
        if c.bytes_in + c.bytes_out + c.requests >= self.c.bytes_in + self.c.bytes_out + self.c.requests:
            self.c = c

    def stats(self) -> ConnectionStats:
        c = self.c
        return ConnectionStats(
            pid=c.pid, comm=c.comm, fd=c.fd,
            role=_ROLES[c.role] if c.role < len(_ROLES) else "unknown",
            protocol=_PROTOCOLS[c.proto] if c.proto < len(_PROTOCOLS) else "unknown",
            local_addr=_addr(c.saddr, c.family), local_port=c.sport,
            remote_addr=_addr(c.daddr, c.family), remote_port=c.dport,
            bytes_in=c.bytes_in, bytes_out=c.bytes_out, calls_in=c.calls_in, calls_out=c.calls_out,
            requests=c.requests,
            p50_ms=hist_percentile_ms(c.latency_hist, 0.5), p99_ms=hist_percentile_ms(c.latency_hist, 0.99),
            closed=self.closed,
        )


class Observer:
    """net-observe attached; close() (or the with block's end) detaches."""

    def __init__(self, pid: int = 0, port: int = 0, so_path: str | None = None) -> None:
        self._skel = net_observe.init(so_path=so_path, rodata={"target_pid": pid, "target_port": port})
        self._conns: dict[tuple[int, int, int, int], _Tracked] = {}
        self._closed = False

    def _track(self, c: net_observe.Conn) -> _Tracked:
        k = (c.pid, c.fd, c.sport, c.dport)
        t = self._conns.get(k)
        if t is None:
            t = self._conns[k] = _Tracked(c)
        return t

    def _on_event(self, ev: net_observe.Event, _cpu: int) -> None:
        t = self._track(ev.conn)
        if t.closed:
            return
        t.merge(ev.conn)
        if ev.kind == _EV_CLOSE:
            t.c = ev.conn
            t.closed = True

    def poll(self, timeout: float | None) -> int:
        """Waits up to timeout seconds for connection events, then takes them; how many."""
        return self._skel.maps.events.poll(self._on_event, timeout)

    def connections(self) -> list[ConnectionStats]:
        """Every connection seen; open ones refreshed from the map."""
        if not self._closed:
            for ev in self._skel.maps.events.drain():
                self._on_event(ev, 0)
            for _key, c in self._skel.maps.conns.items():
                if c.ignored:
                    continue
                t = self._track(c)
                if not t.closed:
                    t.merge(c)
        return [t.stats() for t in self._conns.values()]

    def dropped(self) -> int:
        """Ring buffer records BPF could not send (full)."""
        return self._skel.bss.dropped

    def close(self) -> None:
        """Detaches and unloads; idempotent."""
        if not self._closed:
            self._closed = True
            self._skel.destroy()

    def __enter__(self) -> Observer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def observe(pid: int = 0, port: int = 0, so_path: str | None = None) -> Observer:
    """Attaches net-observe to one process (pid) and/or port; 0 means every one."""
    return Observer(pid, port, so_path)
