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
from dataclasses import asdict, dataclass, field
from typing import Any

import net_observe

__all__ = ["ConnectionStats", "Observer", "observe", "percentile_ms"]

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


def percentile_ms(sorted_ns: list[int], p: float) -> float | None:
    """Nearest-rank percentile of sorted nanoseconds, in milliseconds."""
    if not sorted_ns:
        return None
    i = max(0, math.ceil(p * len(sorted_ns)) - 1)
    return sorted_ns[i] / 1e6


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
    #: its requests' latencies (ns), shared with Observer._latencies
    latencies: list[int] = field(default_factory=list)
    closed: bool = False

    def merge(self, c: net_observe.Conn) -> None:
        # counters only grow: keep the larger of what we have and what we read
        if c.bytes_in + c.bytes_out + c.requests >= self.c.bytes_in + self.c.bytes_out + self.c.requests:
            self.c = c

    def stats(self) -> ConnectionStats:
        c = self.c
        lat = sorted(self.latencies)
        return ConnectionStats(
            pid=c.pid, comm=c.comm, fd=c.fd,
            role=_ROLES[c.role] if c.role < len(_ROLES) else "unknown",
            protocol=_PROTOCOLS[c.proto] if c.proto < len(_PROTOCOLS) else "unknown",
            local_addr=_addr(c.saddr, c.family), local_port=c.sport,
            remote_addr=_addr(c.daddr, c.family), remote_port=c.dport,
            bytes_in=c.bytes_in, bytes_out=c.bytes_out, calls_in=c.calls_in, calls_out=c.calls_out,
            requests=c.requests, p50_ms=percentile_ms(lat, 0.5), p99_ms=percentile_ms(lat, 0.99),
            closed=self.closed,
        )


class Observer:
    """net-observe attached; close() (or the with block's end) detaches."""

    def __init__(self, pid: int = 0, port: int = 0, so_path: str | None = None) -> None:
        self._skel = net_observe.init(so_path=so_path, rodata={"target_pid": pid, "target_port": port})
        self._conns: dict[tuple[int, int, int, int], _Tracked] = {}
        # latencies by connection: the two ring buffers are not ordered with each other
        self._latencies: dict[tuple[int, int, int, int], list[int]] = {}
        self._closed = False

    def _track(self, c: net_observe.Conn) -> _Tracked:
        k = (c.pid, c.fd, c.sport, c.dport)
        t = self._conns.get(k)
        if t is None:
            t = self._conns[k] = _Tracked(c, self._latencies.setdefault(k, []))
        return t

    def _on_request(self, r: net_observe.ReqRecord, _cpu: int) -> None:
        self._latencies.setdefault((r.pid, r.fd, r.sport, r.dport), []).append(r.latency_ns)

    def _on_event(self, ev: net_observe.Event, _cpu: int) -> None:
        t = self._track(ev.conn)
        if t.closed:
            return
        t.merge(ev.conn)
        if ev.kind == _EV_CLOSE:
            t.c = ev.conn
            t.closed = True

    def poll(self, timeout: float | None) -> int:
        """Waits up to timeout seconds for connection events, then takes them and
        the request records waiting (these wake a reader only in bulk); how many."""
        n = self._skel.maps.events.poll(self._on_event, timeout)
        for r in self._skel.maps.requests.drain():
            self._on_request(r, 0)
            n += 1
        return n

    def connections(self) -> list[ConnectionStats]:
        """Every connection seen; open ones refreshed from the map."""
        if not self._closed:
            for ev in self._skel.maps.events.drain():
                self._on_event(ev, 0)
            for r in self._skel.maps.requests.drain():
                self._on_request(r, 0)
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
