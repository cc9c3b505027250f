"""tcp-jitter's core, usable as a library: options, event formatting and the delay histogram.

The command line (``python -m tcpjitter``) wires it to the BPF program.
"""
from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import dataclass
from typing import Protocol, Sequence

AF_INET6 = 10
BAR = 40

USAGE = """usage: tcp-jitter [--threshold MS] [--port N] [--duration S] [--interval S] [--json]
  --threshold MS  report reads at least MS milliseconds after the data was queued (default 100)
  --port N        only sockets whose local or remote port is N
  --duration S    stop after S seconds (default: until Ctrl-C)
  --interval S    print the delay histogram every S seconds too (default: only on exit)
  --json          one JSON object per line"""


@dataclass
class Options:
    """What the command line sets."""

    threshold_ms: float = 100.0
    port: int = 0
    duration_s: float = 0.0
    interval_s: float = 0.0
    json: bool = False


class OptionError(ValueError):
    """A command line the tool does not accept; the message is for the user."""


def _number(flag: str, value: str | None, maximum: float) -> float:
    try:
        n = float(value) if value is not None else math.nan
    except ValueError:
        n = math.nan
    if not math.isfinite(n) or n < 0 or n > maximum:
        raise OptionError(f"{flag}: expected a number from 0 to {maximum:g}, got {value or 'nothing'}")
    return n


def parse_options(argv: Sequence[str]) -> Options:
    """Parses the arguments after the program name."""
    o = Options()
    args = iter(argv)
    for arg in args:
        if arg == "--threshold":
            o.threshold_ms = _number(arg, next(args, None), 3_600_000)
        elif arg == "--port":
            port = _number(arg, next(args, None), 65535)
            if port != int(port):
                raise OptionError(f"--port: expected an integer, got {port:g}")
            o.port = int(port)
        elif arg == "--duration":
            o.duration_s = _number(arg, next(args, None), 31_536_000)
        elif arg == "--interval":
            o.interval_s = _number(arg, next(args, None), 31_536_000)
        elif arg == "--json":
            o.json = True
        else:
            raise OptionError(f"unknown argument: {arg}")
    return o


class SlowRead(Protocol):
    """One slow read, as the BPF program reports it (the generated Event has these fields)."""

    ts_ns: int
    delay_ns: int
    pid: int
    queue_cpu: int
    read_cpu: int
    family: int
    sport: int
    dport: int
    saddr: bytes
    daddr: bytes
    comm: str


def format_addr(family: int, addr: bytes) -> str:
    """An address as text: dotted quad, or IPv6 in its compressed form."""
    if family == AF_INET6:
        a6 = ipaddress.IPv6Address(bytes(addr[:16]))
        return f"::ffff:{a6.ipv4_mapped}" if a6.ipv4_mapped is not None else str(a6)
    return str(ipaddress.IPv4Address(bytes(addr[:4])))


def _endpoint(family: int, addr: str, port: int) -> str:
    return f"[{addr}]:{port}" if family == AF_INET6 else f"{addr}:{port}"


def _json_number(x: float) -> float | int:
    """150.0 as 150, as the other languages' apps print it."""
    return int(x) if x.is_integer() else x


def format_event(ev: SlowRead, as_json: bool) -> str:
    """The line printed for one slow read (text, or a JSON object)."""
    local = format_addr(ev.family, ev.saddr)
    remote = format_addr(ev.family, ev.daddr)
    delay_ms = ev.delay_ns / 1e6
    if as_json:
        return json.dumps({
            "ts_ns": ev.ts_ns, "pid": ev.pid, "comm": ev.comm,
            "family": "ipv6" if ev.family == AF_INET6 else "ipv4",
            "local": local, "lport": ev.sport, "remote": remote, "rport": ev.dport,
            "delay_ms": _json_number(round(delay_ms, 3)), "queue_cpu": ev.queue_cpu, "read_cpu": ev.read_cpu,
        }, separators=(",", ":"), ensure_ascii=False)
    return (f"slow read: pid {ev.pid} ({ev.comm}) {_endpoint(ev.family, local, ev.sport)} <- "
            f"{_endpoint(ev.family, remote, ev.dport)} delay {delay_ms:.3f} ms "
            f"queued on cpu {ev.queue_cpu}, read on cpu {ev.read_cpu}")


def slot_bounds(i: int) -> tuple[int, int]:
    """Bounds (microseconds, inclusive) of slot i: slot 0 is 0..1, slot i>0 is 2^i..2^(i+1)-1."""
    return (0 if i == 0 else 2**i, 2 ** (i + 1) - 1)


def render_histogram(counts: Sequence[int], as_json: bool) -> str:
    """The delay histogram: text lines from the first to the last non-empty slot, or JSON."""
    non_empty = [i for i, c in enumerate(counts) if c > 0]
    if as_json:
        return json.dumps({"histogram": [
            {"lo_us": slot_bounds(i)[0], "hi_us": slot_bounds(i)[1], "count": counts[i]}
            for i in non_empty
        ]}, separators=(",", ":"))
    if not non_empty:
        return "delay histogram: no reads yet"
    top = max(counts)
    lines = [f"{'delay (us)':>25} : count      distribution"]
    for i in range(non_empty[0], non_empty[-1] + 1):
        lo, hi = slot_bounds(i)
        stars = -(-counts[i] * BAR // top)
        lines.append(f"{lo:>12} -> {hi:<10} : {counts[i]:<10} |{'*' * stars:<{BAR}}|")
    return "\n".join(lines)
